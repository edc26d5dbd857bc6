//! The 2xx body parser (`gsms::core::result::parse_answer`) and the error-body reader: any bytes,
//! no panic; whatever is accepted is safe to hand to C.
#![no_main]

use gsms::core::result::{error_body_message, parse_answer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(a) = parse_answer(data) {
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
