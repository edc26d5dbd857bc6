//! `GET /xplatqosservers` (default) or `GET /qosservers` (contract 1, discovery host): the QoS
//! beacons of each region, to measure latency against.

use serde::Deserialize;

use crate::core::call::{self, Decode, Once};
use crate::core::exchange::{CallInfo, Endpoint, Host};
use crate::core::wire;

/// One region's QoS server.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct QosServer {
    /// A host name, an address, or `host:port`.
    #[serde(rename = "serverFqdn", deserialize_with = "wire::text")]
    pub fqdn: String,
    #[serde(rename = "serverSecureDeviceAddress", deserialize_with = "wire::text")]
    pub secure_device_address: String,
    /// The region's name (what allocation calls take as `location`).
    #[serde(rename = "targetLocation", deserialize_with = "wire::text")]
    pub target_location: String,
}

/// The answer (the Rust side of `gsms_qos_servers_result`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct QosServersResult {
    #[serde(skip)]
    pub info: CallInfo,
    #[serde(rename = "qosServers", alias = "qosservers", deserialize_with = "wire::list")]
    pub servers: Vec<QosServer>,
}
crate::impl_has_info!(QosServersResult);

impl Decode for QosServersResult {
    fn decode(body: &[u8]) -> Result<Self, String> {
        call::decode_json(body)
    }
}

pub fn endpoint(cross_platform: bool) -> Endpoint {
    let path = if cross_platform { "/xplatqosservers" } else { "/qosservers" };
    Endpoint::get(Host::Discovery, path.to_string(), "1")
}

pub type GetQosServers = Once<QosServersResult>;

pub fn get_qos_servers(cross_platform: bool) -> GetQosServers {
    Once::new(endpoint(cross_platform))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_keys_are_accepted() {
        let a = QosServersResult::decode(
            br#"{"qosServers":[{"serverFqdn":"h:3075","serverSecureDeviceAddress":"AA==","targetLocation":"West"}]}"#,
        )
        .unwrap();
        assert_eq!(a.servers[0].fqdn, "h:3075");
        assert_eq!(a.servers[0].target_location, "West");
        let b = QosServersResult::decode(br#"{"qosservers":[{"serverFqdn":"x","targetLocation":"East"}]}"#).unwrap();
        assert_eq!(b.servers[0].target_location, "East");
        assert!(QosServersResult::decode(b"{}").unwrap().servers.is_empty());
        assert_eq!(endpoint(true).path, "/xplatqosservers");
        assert_eq!(endpoint(false).path, "/qosservers");
    }
}
