//! Heap allocations per call, counted exactly by a counting global allocator, through the C ABI
//! (`gsms_client_create_cluster` and `gsms_client_create_cluster_async` + `gsms_client_dispatch`).
//! Reports allocations and bytes per call and the growth of live heap bytes in steady state
//! (target: zero). glibc's mallinfo (used by the C benchmark) counts bytes parked in per-thread
//! caches as in use; this count does not.
//!
//!   cargo bench --bench alloc_per_call                  against a built-in allocation-free responder
//!   GSMS_BENCH_URL=http://127.0.0.1:8080 cargo bench --bench alloc_per_call   against that server
//!   GSMS_BENCH_CALLS=100000 ...                         calls per phase (default 20000)
//!
//! scripts/bench.sh runs it against nginx. Output lines: `RESULT libgsms <test> key=value ...`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::{c_void, CString};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

use gsms::ffi::client::*;
use gsms::ffi::clusters::*;
use gsms::ffi::config::*;
use gsms::ffi::{gsms_fulfillment_state, gsms_status};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicI64 = AtomicI64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(l.size() as u64, Ordering::Relaxed);
        LIVE.fetch_add(l.size() as i64, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as i64, Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new as u64, Ordering::Relaxed);
        LIVE.fetch_add(new as i64 - l.size() as i64, Ordering::Relaxed);
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static A: Counting = Counting;

const ANSWER: &str = r#"{"pollIntervalMilliseconds":"60000","fulfillmentState":"Fulfilled","hostName":"gameserver-0001.cloudapp.net","region":"WestUS","portMappings":[{"Key":"GameData","Value":{"internal":7777,"external":31000}},{"Key":"RDP","Value":{"internal":3389,"external":3389}}]}"#;

/// A keep-alive HTTP/1.1 responder that allocates nothing per request (fixed buffers), so that
/// every counted allocation is the client's.
fn responder() -> String {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", l.local_addr().expect("addr"));
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nX-XblCorrelationId: bench\r\n\r\n{ANSWER}",
        ANSWER.len()
    );
    let resp: &'static [u8] = Box::leak(head.into_bytes().into_boxed_slice());
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let _ = s.set_nodelay(true);
            std::thread::spawn(move || {
                let mut buf = [0u8; 16384];
                let mut have = 0usize;
                loop {
                    // One request: head up to CRLFCRLF, then Content-Length bytes of body.
                    let (end, len) = loop {
                        if let Some(i) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = std::str::from_utf8(&buf[..i]).unwrap_or("");
                            let len = head
                                .lines()
                                .find_map(|h| {
                                    let (k, v) = h.split_once(':')?;
                                    k.eq_ignore_ascii_case("content-length").then(|| v.trim().parse().ok())?
                                })
                                .unwrap_or(0usize);
                            break (i + 4, len);
                        }
                        match s.read(&mut buf[have..]) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => have += n,
                        }
                    };
                    while have < end + len {
                        match s.read(&mut buf[have..]) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => have += n,
                        }
                    }
                    if s.write_all(resp).is_err() {
                        return;
                    }
                    buf.copy_within(end + len..have, 0);
                    have -= end + len;
                }
            });
        }
    });
    url
}

#[derive(Clone, Copy)]
struct Snap {
    allocs: u64,
    bytes: u64,
    live: i64,
}

fn snap() -> Snap {
    Snap {
        allocs: ALLOCS.load(Ordering::SeqCst),
        bytes: BYTES.load(Ordering::SeqCst),
        live: LIVE.load(Ordering::SeqCst),
    }
}

fn report(test: &str, n: u64, a: Snap, b: Snap) {
    println!(
        "RESULT libgsms {test} calls={n} allocs_per_call={:.1} bytes_per_call={:.0} live_growth_bytes={} live_growth_per_call_bytes={:.4}",
        (b.allocs - a.allocs) as f64 / n as f64,
        (b.bytes - a.bytes) as f64 / n as f64,
        b.live - a.live,
        (b.live - a.live) as f64 / n as f64
    );
}

static DONE: AtomicBool = AtomicBool::new(false);

unsafe extern "C" fn on_done(_: *mut c_void, st: gsms_status, _: *const gsms_cluster_result) {
    assert_eq!(st, gsms_status::GSMS_OK);
    DONE.store(true, Ordering::Release);
}

fn main() {
    // `cargo test --benches` runs bench targets with no argument to check they start: keep it short.
    let calls: u64 = std::env::var("GSMS_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if std::env::args().any(|a| a == "--bench") { 20_000 } else { 200 });
    let url = std::env::var("GSMS_BENCH_URL").unwrap_or_else(|_| responder());
    unsafe {
        let cfg = gsms_config_new();
        let u = CString::new(url).expect("url");
        assert_eq!(gsms_config_set_base_url(cfg, u.as_ptr()), gsms_status::GSMS_OK);
        let t = CString::new("XBL3.0 x=bench;bench-token").expect("token");
        assert_eq!(gsms_config_set_auth_token(cfg, t.as_ptr()), gsms_status::GSMS_OK);
        let mut client = ptr::null_mut();
        assert_eq!(gsms_client_new(cfg, &mut client), gsms_status::GSMS_OK);
        gsms_config_free(cfg);
        let req = gsms_cluster_request_new(1234);
        let (scid, tpl, name) =
            (CString::new("scid").unwrap(), CString::new("quick").unwrap(), CString::new("bench").unwrap());
        assert_eq!(
            gsms_cluster_request_set_session(req, scid.as_ptr(), tpl.as_ptr(), name.as_ptr()),
            gsms_status::GSMS_OK
        );

        let blocking = |n: u64| {
            for _ in 0..n {
                let mut res = ptr::null_mut();
                assert_eq!(gsms_client_create_cluster(client, req, &mut res), gsms_status::GSMS_OK);
                assert_eq!(
                    gsms_cluster_result_fulfillment_state(res),
                    gsms_fulfillment_state::GSMS_FULFILLMENT_FULFILLED
                );
                gsms_cluster_result_free(res);
            }
        };
        let asynchronous = |n: u64| {
            for _ in 0..n {
                DONE.store(false, Ordering::Release);
                let st = gsms_client_create_cluster_async(client, req, Some(on_done), ptr::null_mut(), ptr::null_mut());
                assert_eq!(st, gsms_status::GSMS_OK);
                while !DONE.load(Ordering::Acquire) {
                    if gsms_client_dispatch(client, 0) == 0 {
                        std::thread::yield_now();
                    }
                }
            }
        };

        blocking(1000);
        let a = snap();
        blocking(calls);
        report("alloc_blocking", calls, a, snap());

        asynchronous(1000);
        let a = snap();
        asynchronous(calls);
        report("alloc_async", calls, a, snap());

        gsms_cluster_request_free(req);
        gsms_client_free(client);
    }
}
