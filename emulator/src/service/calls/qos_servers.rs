//! `GET /qosservers` and `GET /xplatqosservers` (contract 1, discovery host): the emulator's
//! QoS beacons, one per configured region.

use crate::json::Json;
use crate::service::Service;

pub(crate) fn handle(svc: &Service) -> Json {
    let servers = svc
        .beacons
        .iter()
        .map(|b| {
            Json::obj()
                .with("serverFqdn", b.addr.to_string())
                .with("serverSecureDeviceAddress", &b.secure_address)
                .with("targetLocation", &b.name)
        })
        .collect();
    Json::obj().with("qosServers", Json::Arr(servers))
}
