//! Checks shared by the answer-decoder targets: what a decoder accepts is safe to hand to C.
#![allow(dead_code)]

use gsms::core::PortMapping;

/// An accepted body was UTF-8 (the decoders read JSON text only).
pub fn accepted_utf8(data: &[u8]) {
    assert!(std::str::from_utf8(data).is_ok(), "accepted a body that is not UTF-8");
}

/// Every string that reaches a C getter is NUL-free (it becomes a C string).
pub fn c_safe<'a>(fields: impl IntoIterator<Item = &'a String>) {
    for s in fields {
        assert!(!s.contains('\0'), "a NUL reached a C string: {s:?}");
    }
}

/// Port mappings as the C getters hand them out: NUL-free names, ports within 0..=65535.
pub fn ports_ok(ports: &[PortMapping]) {
    for p in ports {
        assert!(!p.name.contains('\0'));
        assert!(p.internal <= 65535 && p.external <= 65535, "port out of range: {p:?}");
    }
}

/// Decoding is a function of the bytes: the same body gives the same answer.
pub fn deterministic<T: PartialEq + std::fmt::Debug>(a: &T, again: Result<T, String>) {
    assert_eq!(Ok(a), again.as_ref(), "decoding the same body twice differed");
}
