//! Which answers are retried, how long to wait, and the Retry-After header.

use std::cell::Cell;
use std::time::{Duration, SystemTime};

use super::config::RetryPolicy;

/// The doc's list: only these statuses are retried.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// Parses a Retry-After value: delta-seconds or an HTTP date (relative to `now`). A date in the
/// past is zero. Anything else is `None`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if v.bytes().all(|b| b.is_ascii_digit()) {
        // Saturate absurd values rather than overflow: they end the call anyway.
        let secs = v.parse::<u64>().unwrap_or(u64::MAX).min(u32::MAX as u64);
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Exponential backoff for retry number `retry` (1 = first retry): base * 2^(retry-1), capped at
/// max, with "equal jitter" (half fixed, half random) so clients that failed together spread out.
pub fn backoff(policy: &RetryPolicy, retry: u32) -> Duration {
    let base = policy.base_delay.as_millis() as u64;
    let cap = policy.max_delay.as_millis() as u64;
    let exp = base.saturating_mul(1u64 << (retry.saturating_sub(1)).min(30));
    let d = exp.min(cap);
    let half = d / 2;
    Duration::from_millis(half + next_random() % (half + 1))
}

thread_local! {
    static RNG: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    h.finish() | 1
}

/// xorshift64*: plenty for jitter.
pub fn next_random() -> u64 {
    RNG.with(|r| {
        let mut x = r.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        r.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jitter_source_does_not_collapse() {
        // Backoff jitter and QoS probe ids come from here: a generator stuck at one value (or
        // decaying to zero) would make every client retry in lockstep.
        let draws: std::collections::HashSet<u64> = (0..1000).map(|_| next_random()).collect();
        assert_eq!(draws.len(), 1000, "repeated values among 1000 draws");
        let high_bits = (0..1000).filter(|_| next_random() >> 63 == 1).count();
        assert!((350..650).contains(&high_bits), "top bit set in {high_bits} of 1000 draws");
    }

    #[test]
    fn the_generator_is_xorshift64_star() {
        // Known answers of Vigna's xorshift64* (shifts 12, 25, 27; multiplier 0x2545F4914F6CDD1D)
        // from state 1: the first is the published 5180492295206395165. RNG is per thread: this
        // test's thread only.
        RNG.with(|r| r.set(1));
        assert_eq!(next_random(), 5_180_492_295_206_395_165);
        assert_eq!(next_random(), 0xabcf_a6a8_e079_651d);
        assert_eq!(next_random(), 0xb9d1_0d8f_eb73_1f57);
    }

    #[test]
    fn each_thread_and_process_starts_the_jitter_from_its_own_seed() {
        // Clients that failed together (one outage, thousands of game clients) must not retry in
        // lockstep: a fixed seed would give every thread of every process the same delays.
        let first_draws = || std::thread::spawn(|| [next_random(), next_random()]).join().unwrap();
        let (a, b) = (first_draws(), first_draws());
        assert_ne!(a, b, "two threads drew the same jitter");
        RNG.with(|r| r.set(1));
        let from_one = [next_random(), next_random()];
        assert!(a != from_one && b != from_one, "a thread started from the fixed state 1");
        let seeds: std::collections::HashSet<u64> = (0..64).map(|_| seed()).collect();
        assert_eq!(seeds.len(), 64, "repeated seeds");
        assert!(seeds.iter().all(|s| s & 1 == 1), "a seed of 0 would stick xorshift at 0");
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(parse_retry_after("5", now), Some(Duration::from_secs(5)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("100000", now), Some(Duration::from_secs(100000)));
        assert_eq!(parse_retry_after("99999999999999999999999", now), Some(Duration::from_secs(u32::MAX as u64)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(120));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(120)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(120));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        for bad in ["", "-1", "1.5", "soon", "Mon, 99 Foo 2020"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad}");
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(1000),
        };
        for _ in 0..100 {
            let d1 = backoff(&p, 1).as_millis();
            assert!((50..=100).contains(&d1), "{d1}");
            let d3 = backoff(&p, 3).as_millis();
            assert!((200..=400).contains(&d3), "{d3}");
            let d9 = backoff(&p, 40).as_millis();
            assert!((500..=1000).contains(&d9), "{d9}");
        }
        let zero = RetryPolicy { max_attempts: 2, base_delay: Duration::ZERO, max_delay: Duration::ZERO };
        assert_eq!(backoff(&zero, 1), Duration::ZERO);
    }

    #[test]
    fn the_jitter_reaches_both_ends_of_its_half() {
        // A 2 ms delay waits 1 ms fixed plus 0 or 1 ms of jitter: both must come up.
        let p =
            RetryPolicy { max_attempts: 2, base_delay: Duration::from_millis(2), max_delay: Duration::from_secs(1) };
        let seen: std::collections::BTreeSet<u128> = (0..200).map(|_| backoff(&p, 1).as_millis()).collect();
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec![1, 2]);
    }

    #[test]
    fn only_the_documented_statuses_are_retried() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable_status(s));
        }
        for s in [200, 400, 401, 403, 404, 409, 501, 505] {
            assert!(!is_retryable_status(s));
        }
    }
}
