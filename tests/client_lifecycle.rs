//! Creating and freeing clients again and again (an editor entering and leaving play mode) leaves
//! no thread behind. Through the C ABI; its own test binary, so other tests' threads do not blur
//! the count.

#[path = "support/capi.rs"]
mod capi;

use std::time::Duration;

use capi::*;
use gsms_emulator::{Config as EmuConfig, Emulator};

fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").map(|d| d.count()).unwrap_or(0)
}

#[test]
fn creating_and_freeing_clients_leaves_no_threads_behind() {
    let emu = Emulator::start(EmuConfig { servers_per_title: 100, ..EmuConfig::default() }).unwrap();
    let before = thread_count();
    let mut peak = before;
    for i in 0..50 {
        let mode = if i % 2 == 0 { GSMS_CALLBACKS_ON_WORKER } else { GSMS_CALLBACKS_ON_DISPATCH };
        let c = client(&emu.base_url(), "XBL3.0 x=1;lifecycle", |cfg| {
            cfg.set_mode(mode).set_workers(3);
        });
        let r = Request::new(
            1,
            &format!("/serviceconfigs/00000000-0000-0000-0000-000000000000/sessionTemplates/q/sessions/loop{i}"),
        );
        let op = c.create_async(&r, None);
        let o = op.wait(Duration::from_secs(5)).unwrap_or_else(|| panic!("call {i} did not complete"));
        assert_eq!((o.status, o.state), (GSMS_OK, GSMS_FULFILLMENT_FULFILLED), "call {i}: {}", o.error_message);
        // The client really ran its threads (3 workers, plus the callback thread in ON_WORKER).
        peak = peak.max(thread_count());
        c.free();
    }
    assert!(peak >= before + 3, "the clients' worker threads were seen: before {before}, peak {peak}");
    assert_eq!(emu.request_count(), 50);
    // The emulator (in this process) closes its side of each connection once the client's pool
    // is dropped; give it a moment.
    let settled = wait_until(Duration::from_secs(3), || thread_count() <= before + 1);
    assert!(settled, "threads before {before}, after {}", thread_count());
}
