//! Creating and freeing clients again and again (an editor entering and leaving play mode) leaves
//! no thread behind. Its own test binary, so other tests' threads do not blur the count.

mod common;

use std::thread;
use std::time::{Duration, Instant};

use common::*;
use gsms::runtime::Client as RtClient;

fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return true;
        }
        thread::sleep(Duration::from_millis(5));
    }
    f()
}

fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").map(|d| d.count()).unwrap_or(0)
}

#[test]
fn creating_and_freeing_clients_leaves_no_threads_behind() {
    let emu = emulator(|_| {});
    let before = thread_count();
    for i in 0..50 {
        let mut cfg = config(&emu);
        cfg.callback_mode = if i % 2 == 0 { CallbackMode::OnWorker } else { CallbackMode::OnDispatch };
        cfg.set_worker_threads(3).unwrap();
        let c = RtClient::new(&cfg).unwrap();
        let op = c.start(CreateCluster::new(&request(&format!("loop{i}"))), None, None, None).unwrap();
        wait_until(Duration::from_secs(2), || op.take_result().is_some());
        c.shutdown();
    }
    // The emulator (in this process) closes its side of each connection once the client's pool
    // is dropped; give it a moment.
    let settled = wait_until(Duration::from_secs(3), || thread_count() <= before + 1);
    assert!(settled, "threads before {before}, after {}", thread_count());
}
