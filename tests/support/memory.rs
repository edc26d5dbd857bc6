//! Memory bounds for the hostile-server tests (tests/hostile.rs, tests/hostile_family.rs): the
//! process's resident set size, sampled while a call runs, and a lock so that only one memory
//! check runs at a time (RSS is process-wide).
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

/// Resident set size of this process, in KiB (Linux).
pub fn rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// Runs `f` while sampling RSS every 2 ms; returns its value and the peak growth over the
/// starting RSS, in KiB.
pub fn peak_rss_growth<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = rss_kib();
    let peak = Arc::new(AtomicUsize::new(before as usize));
    let done = Arc::new(AtomicBool::new(false));
    let (p, d) = (peak.clone(), done.clone());
    let sampler = thread::spawn(move || {
        while !d.load(Ordering::SeqCst) {
            p.fetch_max(rss_kib() as usize, Ordering::SeqCst);
            thread::sleep(Duration::from_millis(2));
        }
    });
    let v = f();
    peak.fetch_max(rss_kib() as usize, Ordering::SeqCst);
    done.store(true, Ordering::SeqCst);
    sampler.join().unwrap();
    let growth = (peak.load(Ordering::SeqCst) as u64).saturating_sub(before);
    eprintln!("peak RSS growth {growth} KiB (from {before} KiB)");
    (v, growth)
}

/// Memory checks run one at a time (RSS is process-wide).
pub fn memory_lock() -> MutexGuard<'static, ()> {
    static M: Mutex<()> = Mutex::new(());
    M.lock().unwrap_or_else(|e| e.into_inner())
}

pub const MIB: u64 = 1024;
/// What "64 MiB was not buffered" allows: the 1 MiB cap, buffers, other tests' threads.
pub const BOUNDED_GROWTH_KIB: u64 = 24 * MIB;
