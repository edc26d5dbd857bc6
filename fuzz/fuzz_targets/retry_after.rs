//! The Retry-After parser (`gsms::core::retry::parse_retry_after`): any text, no panic; a value of
//! ASCII digits (surrounding whitespace allowed) is always seconds, saturated at u32::MAX.
#![no_main]

use std::time::{Duration, SystemTime};

use gsms::core::retry::parse_retry_after;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let r = parse_retry_after(s, now);
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        let want = t.parse::<u64>().unwrap_or(u64::MAX).min(u32::MAX as u64);
        assert_eq!(r, Some(Duration::from_secs(want)));
    }
    if let Some(d) = r {
        assert!(d <= Duration::from_secs(u64::from(u32::MAX)).max(Duration::from_secs(253_402_300_799)));
    }
});
