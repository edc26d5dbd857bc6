//! The QoS servers decoder (`QosServersResult::decode`, FAMILY.md "QoS servers") and what a probe
//! makes of an answer (`QosProbe::add_servers`, which splits `serverFqdn` into host and port): any
//! bytes, no panic; accepted text is safe to hand to C; add_servers is all or nothing, and every
//! target it adds has a non-empty region and host and a non-zero port.
#![no_main]

mod common;

use gsms::core::call::Decode;
use gsms::core::{QosProbe, QosServersResult};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = QosServersResult::decode(data) {
        common::accepted_utf8(data);
        for s in &r.servers {
            common::c_safe([&s.fqdn, &s.secure_device_address, &s.target_location]);
        }
        let mut p = QosProbe::new();
        match p.add_servers(&r) {
            Ok(()) => {
                assert_eq!(p.targets.len(), r.servers.len());
                for t in &p.targets {
                    assert!(!t.region.is_empty() && !t.host.is_empty() && t.port != 0, "{t:?}");
                }
            }
            Err(e) => {
                assert!(p.targets.is_empty(), "a refused answer added targets");
                assert!(!e.0.is_empty());
            }
        }
        common::deterministic(&r, QosServersResult::decode(data));
    }
});
