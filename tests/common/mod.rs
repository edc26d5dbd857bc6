//! Shared helpers for the integration tests: an in-process emulator and clients pointed at it.
#![allow(dead_code, unused_imports)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use gsms::core::{
    AllocateCluster, CallOptions, CallbackMode, Client, ClusterRequest, ClusterResult, Config, CreateCluster,
    FulfillmentState, LogLevel, Status,
};
pub use gsms_emulator::{Config as EmuConfig, Emulator, FaultRule};

pub const TOKEN: &str = "XBL3.0 x=1234567890;eyJhbGciOiJSUzI1NiJ9.secret-token-value";
pub const TITLE: u32 = 123456789;

pub fn session(name: &str) -> String {
    format!("/serviceconfigs/00000000-0000-0000-0000-000000000000/sessionTemplates/quick/sessions/{name}")
}

/// Starts an emulator for a test. With `GSMS_EMULATOR_QUIRKS=1` in the environment every one
/// runs in quirks mode (answers varied within what a client must accept; scripts/test.sh runs
/// the integration tests once more that way), seeded with `GSMS_EMULATOR_QUIRKS_SEED` if set.
pub fn emulator(f: impl FnOnce(&mut EmuConfig)) -> Emulator {
    let mut c = EmuConfig { poll_interval_ms: 100, ..EmuConfig::default() };
    f(&mut c);
    if quirks() {
        c.quirks = true;
        // Some tests check the region and secure context the emulator sends; leaving optional
        // fields out is covered by the emulator's own tests and the library's parser tests.
        c.quirks_omit_optional = false;
        // Another seed shows other variations: GSMS_EMULATOR_QUIRKS_SEED=7 cargo test ...
        if let Some(seed) = std::env::var("GSMS_EMULATOR_QUIRKS_SEED").ok().and_then(|s| s.parse().ok()) {
            c.quirks_seed = seed;
        }
    }
    Emulator::start(c).expect("emulator starts")
}

/// Whether the tests run against emulators in quirks mode.
pub fn quirks() -> bool {
    std::env::var("GSMS_EMULATOR_QUIRKS").is_ok_and(|v| v == "1")
}

/// A config for `emu` with a static token, short timeouts and fast retries.
pub fn config(emu: &Emulator) -> Config {
    let mut c = Config::default();
    c.set_base_url(&emu.base_url()).unwrap();
    c.set_auth_token(TOKEN).unwrap();
    c.set_timeouts(2000, 3000).unwrap();
    c.set_retry_policy(4, 10, 200).unwrap();
    c
}

pub fn request(name: &str) -> ClusterRequest {
    let mut r = ClusterRequest::new(TITLE);
    r.set_session_id(&session(name)).unwrap();
    r
}

/// Collects every log line.
pub fn capture_logs(cfg: &mut Config, level: LogLevel) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l2 = Arc::clone(&lines);
    cfg.log = Some((Arc::new(move |_lvl, msg: &str| l2.lock().unwrap().push(msg.to_string())), level));
    lines
}

pub fn create(client: &Client, req: &ClusterRequest) -> ClusterResult {
    client.create_cluster(req, &CallOptions::default())
}

pub fn ms(d: Duration) -> u128 {
    d.as_millis()
}

include!("../support/wait.rs");
