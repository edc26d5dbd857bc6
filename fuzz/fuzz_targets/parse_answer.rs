//! The clusters answer decoder (`ClusterResult::decode`) and the error-body reader: any bytes,
//! no panic; whatever is accepted is safe to hand to C.
#![no_main]

use gsms::core::call::Decode;
use gsms::core::wire::error_body_message;
use gsms::core::ClusterResult;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(a) = ClusterResult::decode(data) {
        assert!(std::str::from_utf8(data).is_ok(), "accepted a body that is not UTF-8");
        for s in [&a.host_name, &a.region, &a.secure_context] {
            assert!(!s.contains('\0'), "a NUL reached a C string");
        }
        for p in &a.ports {
            assert!(!p.name.contains('\0'));
            assert!(p.internal <= 65535 && p.external <= 65535, "port out of range");
        }
    }
    if let Some(m) = error_body_message(data) {
        assert!(!m.is_empty());
    }
});
