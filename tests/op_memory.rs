//! Finished operations are released: a client that has run many calls holds no more memory than
//! one that has run a few. Each answer here carries a 256 KiB region (so each result is about
//! half a MiB); an operation kept after it completes shows up as tens of MiB. Through the C ABI
//! only, in its own test binary (RSS is process-wide). The soak test (tests/soak.rs) checks the
//! same over 50000 calls with faults; this one runs in `cargo test` in about a second.

#[path = "support/capi.rs"]
mod capi;

use std::time::Duration;

use capi::*;
use gsms_emulator::{Config as EmuConfig, Emulator};

const TOKEN: &str = "XBL3.0 x=1;op-memory";

fn rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

fn run(c: &Client, rec: &'static Recorder, from: usize, n: usize) {
    for i in from..from + n {
        let r = Request::new(
            1,
            &format!("/serviceconfigs/00000000-0000-0000-0000-000000000000/sessionTemplates/q/sessions/m{i}"),
        );
        // Half with a completion callback (dispatched), half polled with take_result.
        let op = if i % 2 == 0 { c.create_async(&r, Some(rec)) } else { c.create_async(&r, None) };
        let o = op.wait(Duration::from_secs(10)).expect("completes");
        assert_eq!(o.status, GSMS_OK, "{}", o.error_message);
        assert_eq!(o.region_len, 256 * 1024);
        c.dispatch(0);
    }
}

#[test]
fn completed_operations_do_not_accumulate() {
    let emu =
        Emulator::start(EmuConfig { region: "R".repeat(256 * 1024), servers_per_title: 5000, ..EmuConfig::default() })
            .unwrap();
    let c = client(&emu.base_url(), TOKEN, |_| {});
    let rec = Recorder::new();
    run(&c, rec, 0, 40); // warm up: pools, buffers, the allocator's arenas
    let before = rss_kib();
    run(&c, rec, 40, 200);
    let growth_mib = rss_kib().saturating_sub(before) / 1024;
    eprintln!("RSS growth over 200 calls with 0.5 MiB results: {growth_mib} MiB");
    // Kept operations would hold 200 x 0.5 MiB = 100 MiB.
    assert!(growth_mib < 40, "RSS grew {growth_mib} MiB over 200 completed calls");
    assert_eq!(rec.dones().len(), 120);
    assert!(rec.dones().iter().all(|o| o.status == GSMS_OK));
}
