//! Input validation (`gsms::core::validate`): header values are accepted exactly when non-empty and
//! visible ASCII or space; accepted base URLs are normal and idempotent, and the URI
//! parser behind the check never panics.
#![no_main]

use gsms::core::validate::{base_url, header_value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let clean = !s.is_empty() && s.bytes().all(|b| (0x20..=0x7e).contains(&b));
    assert_eq!(header_value("h", s).is_ok(), clean, "{s:?}");
    if let Ok(u) = base_url(s) {
        assert!(u.starts_with("http://") || u.starts_with("https://"), "{u:?}");
        assert!(!u.ends_with('/'));
        assert!(!u.bytes().any(|b| b <= 0x20 || b == 0x7f));
        assert!(!u.contains('?') && !u.contains('#'));
        assert!(u.len() <= gsms::core::validate::MAX_URL_BYTES);
        // No user info: an '@' may appear in the path prefix, never in the authority.
        let authority = u.split("://").nth(1).unwrap_or("").split('/').next().unwrap_or("");
        assert!(!authority.is_empty() && !authority.contains('@'), "{u:?}");
        assert_eq!(base_url(&u).as_deref(), Ok(u.as_str()), "idempotent");
    }
});
