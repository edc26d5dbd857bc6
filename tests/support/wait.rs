// Included (include!) by tests/common/mod.rs and tests/support/capi.rs: one copy for both kinds of
// integration test. The includer imports std::time::{Duration, Instant}.

/// Polls `f` every 2 ms until it is true or `limit` passes; returns its last value.
pub fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    f()
}
