//! Soak: many allocations through the C ABI against the in-process emulator with random faults
//! (10% 503 with Retry-After 0, 1% dropped connections, some cancels), from 4 threads at once.
//! Checks that every operation completes exactly once, that RSS stays flat after warm-up, and that
//! no file descriptor leaks.
//!
//! Ignored by default (`cargo test` stays fast). Run:
//!   GSMS_SOAK_N=100000 cargo test --test soak -- --ignored --nocapture
//! (scripts/test_extra.sh runs it with a smaller N.)

mod common;

use std::ffi::{c_void, CString};
use std::ptr;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use gsms::ffi::client::*;
use gsms::ffi::clusters::*;
use gsms::ffi::config::*;
use gsms::ffi::gsms_status;
use gsms::ffi::operation::*;

/// Completions per operation, by index (user_data carries the index).
static COUNTS: OnceLock<Vec<AtomicU32>> = OnceLock::new();
/// Completions per gsms_status value.
static BY_STATUS: [AtomicU64; 16] = [const { AtomicU64::new(0) }; 16];
static DONE: AtomicUsize = AtomicUsize::new(0);
static BAD_RESULTS: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn on_done(user_data: *mut c_void, status: gsms_status, result: *const gsms_cluster_result) {
    let i = user_data as usize;
    COUNTS.get().unwrap()[i].fetch_add(1, Ordering::SeqCst);
    BY_STATUS[(status as usize).min(15)].fetch_add(1, Ordering::Relaxed);
    // Read the borrowed result as a game would; it must be there on success.
    unsafe {
        if status == gsms_status::GSMS_OK
            && (result.is_null() || gsms_cluster_result_status(result) != gsms_status::GSMS_OK)
        {
            BAD_RESULTS.fetch_add(1, Ordering::SeqCst);
        }
        if !result.is_null() {
            let _ = gsms_cluster_result_port_count(result);
        }
    }
    DONE.fetch_add(1, Ordering::SeqCst);
}

fn rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0)
}

#[derive(Clone, Copy)]
struct Handle(*mut gsms_client);
unsafe impl Send for Handle {}
unsafe impl Sync for Handle {}

const THREADS: usize = 4;
const SESSIONS: usize = 1500;
const MAX_IN_FLIGHT: usize = 256;

#[test]
#[ignore = "soak: run with --ignored (GSMS_SOAK_N sets the size)"]
fn soak_allocations_with_faults_complete_exactly_once_with_flat_memory() {
    let n: usize = std::env::var("GSMS_SOAK_N").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    assert!(n >= 100, "GSMS_SOAK_N too small");
    COUNTS.set((0..n).map(|_| AtomicU32::new(0)).collect()).unwrap();
    let fds_before = open_fds();
    let t0 = Instant::now();

    let emu = emulator(|c| {
        c.servers_per_title = 2000; // more than the sessions in use: nothing queues forever
        c.server_lifetime = Duration::from_millis(300);
    });
    emu.add_fault(FaultRule::http_status(503).with_retry_after("0").with_probability(0.10));
    emu.add_fault(FaultRule::dropped_connection().with_probability(0.01));

    let client = unsafe {
        let cfg = gsms_config_new();
        let url = CString::new(emu.base_url()).unwrap();
        assert_eq!(gsms_config_set_base_url(cfg, url.as_ptr()), gsms_status::GSMS_OK);
        let tok = CString::new(TOKEN).unwrap();
        assert_eq!(gsms_config_set_auth_token(cfg, tok.as_ptr()), gsms_status::GSMS_OK);
        assert_eq!(gsms_config_set_timeouts(cfg, 2000, 5000), gsms_status::GSMS_OK);
        // 6 attempts: with 11% faults, exhausting the budget is a one-in-a-million event.
        assert_eq!(gsms_config_set_retry_policy(cfg, 6, 1, 20), gsms_status::GSMS_OK);
        assert_eq!(gsms_config_set_callback_mode(cfg, 0), gsms_status::GSMS_OK);
        assert_eq!(gsms_config_set_worker_threads(cfg, 4), gsms_status::GSMS_OK);
        let mut c = ptr::null_mut();
        assert_eq!(gsms_client_new(cfg, &mut c), gsms_status::GSMS_OK);
        gsms_config_free(cfg);
        Handle(c)
    };

    let started = std::sync::Arc::new(AtomicUsize::new(0));
    let cancelled = std::sync::Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let started = started.clone();
            let cancelled = cancelled.clone();
            thread::spawn(move || {
                let c = client;
                let mut seed = 0x2545_F491_4F6C_DD1Du64 ^ (t as u64 + 1);
                let reqs: Vec<*mut gsms_cluster_request> = (0..SESSIONS / THREADS)
                    .map(|s| unsafe {
                        let r = gsms_cluster_request_new(TITLE);
                        let sid = CString::new(session(&format!("soak-{t}-{s}"))).unwrap();
                        assert_eq!(gsms_cluster_request_set_session_id(r, sid.as_ptr()), gsms_status::GSMS_OK);
                        r
                    })
                    .collect();
                let mut i = t;
                while i < n {
                    while started.load(Ordering::SeqCst) - DONE.load(Ordering::SeqCst) > MAX_IN_FLIGHT {
                        thread::sleep(Duration::from_micros(200));
                    }
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let req = reqs[(seed as usize) % reqs.len()];
                    let mut op = ptr::null_mut();
                    let st = unsafe {
                        if seed % 10 == 0 {
                            gsms_client_allocate_cluster_async(
                                c.0,
                                req,
                                10_000,
                                None,
                                Some(on_done),
                                i as *mut c_void,
                                &mut op,
                            )
                        } else {
                            gsms_client_create_cluster_async(c.0, req, Some(on_done), i as *mut c_void, &mut op)
                        }
                    };
                    assert_eq!(st, gsms_status::GSMS_OK);
                    started.fetch_add(1, Ordering::SeqCst);
                    unsafe {
                        if seed % 97 == 0 {
                            gsms_operation_cancel(op);
                            cancelled.fetch_add(1, Ordering::Relaxed);
                        }
                        // Releasing the handle does not cancel: the callback still comes.
                        gsms_operation_free(op);
                    }
                    i += THREADS;
                }
                for r in reqs {
                    unsafe { gsms_cluster_request_free(r) };
                }
            })
        })
        .collect();

    // Sample RSS at 10%, 50% and 100% of completions.
    let mut rss = Vec::new();
    for pct in [10usize, 50, 100] {
        let target = n * pct / 100;
        let limit = Instant::now() + Duration::from_secs(600);
        while DONE.load(Ordering::SeqCst) < target && Instant::now() < limit {
            thread::sleep(Duration::from_millis(5));
        }
        rss.push((pct, rss_kib(), t0.elapsed()));
    }
    for w in workers {
        w.join().unwrap();
    }
    let fds_during = open_fds();
    unsafe { gsms_client_free(client.0) };
    let wall = t0.elapsed();
    let requests = emu.request_count();
    drop(emu);
    // Pooled connections close once the last worker has let go of the client.
    let settle = Instant::now() + Duration::from_secs(5);
    while open_fds() > fds_before && Instant::now() < settle {
        thread::sleep(Duration::from_millis(20));
    }
    let fds_after = open_fds();

    let counts = COUNTS.get().unwrap();
    let missing = counts.iter().filter(|c| c.load(Ordering::SeqCst) == 0).count();
    let twice = counts.iter().filter(|c| c.load(Ordering::SeqCst) > 1).count();
    let statuses: Vec<String> = BY_STATUS
        .iter()
        .enumerate()
        .filter(|(_, c)| c.load(Ordering::SeqCst) > 0)
        .map(|(s, c)| {
            let name = unsafe { std::ffi::CStr::from_ptr(gsms::ffi::enums::gsms_status_name(s as u32)) };
            format!("{}={}", name.to_string_lossy(), c.load(Ordering::SeqCst))
        })
        .collect();
    eprintln!(
        "soak: N={n} ops ({} cancelled) in {:.1} s ({:.0} ops/s), {requests} HTTP requests; statuses: {}",
        cancelled.load(Ordering::SeqCst),
        wall.as_secs_f64(),
        n as f64 / wall.as_secs_f64(),
        statuses.join(" ")
    );
    for (pct, kib, at) in &rss {
        eprintln!("soak: RSS at {pct:>3}% = {:.1} MiB (t = {:.1} s)", *kib as f64 / 1024.0, at.as_secs_f64());
    }
    eprintln!("soak: fds before {fds_before}, during {fds_during}, after {fds_after}");

    assert_eq!(DONE.load(Ordering::SeqCst), n, "every operation completed");
    assert_eq!(missing, 0, "operations without a completion");
    assert_eq!(twice, 0, "operations completed more than once");
    assert_eq!(BAD_RESULTS.load(Ordering::SeqCst), 0, "GSMS_OK without a result");
    let ok = BY_STATUS[0].load(Ordering::SeqCst) as usize;
    let cancelled_n = BY_STATUS[gsms_status::GSMS_ERR_CANCELLED as usize].load(Ordering::SeqCst) as usize;
    assert!(ok + cancelled_n + 10 >= n, "nearly everything succeeds despite the faults: {statuses:?}");
    // Flat after warm-up: the growth from 10% to 100% is small against the work done.
    let (rss10, rss100) = (rss[0].1, rss[2].1);
    let growth = rss100.saturating_sub(rss10);
    assert!(growth < 16 * 1024, "RSS grew by {growth} KiB from 10% to 100% ({rss:?})");
    assert!(fds_after <= fds_before, "file descriptors leaked: before {fds_before}, after {fds_after}");
}
