//! Hostile servers: whatever the network or the service does, the client ends with a clear status,
//! within a time bound, with bounded memory. A raw-socket fault server (tests/support/raw_server.rs,
//! std::net) plays each fault; the emulator's own faults (statuses, latency, dropped connections)
//! are covered by tests/blocking.rs and tests/soak.rs.
//!
//! Time bounds are generous (a loaded 2-core CI machine): they prove "near the configured timeout,
//! not later" and "no spin", not exact latencies.

mod common;
#[path = "support/memory.rs"]
mod memory;
#[path = "support/raw_server.rs"]
mod raw_server;

use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use memory::*;
use raw_server::*;

const FULFILLED: &str = r#"{"pollIntervalMilliseconds":"1000","fulfillmentState":"Fulfilled","hostName":"10.0.0.7","region":"WestUS","portMappings":[{"Key":"GameData","Value":{"internal":7777,"external":31000}}]}"#;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A client config pointed at `url`: connect 2 s, request 3 s, 3 attempts with fast backoff.
fn raw_config(url: &str) -> Config {
    let mut c = Config::default();
    c.set_base_url(url).unwrap();
    c.set_auth_token(TOKEN).unwrap();
    c.set_timeouts(2000, 3000).unwrap();
    c.set_retry_policy(3, 10, 200).unwrap();
    c
}

fn call(url: &str, f: impl FnOnce(&mut Config)) -> (ClusterResult, Duration) {
    let mut cfg = raw_config(url);
    f(&mut cfg);
    let client = Client::new(&cfg).unwrap();
    let t = Instant::now();
    let r = create(&client, &request("hostile"));
    let took = t.elapsed();
    eprintln!("[{}] {:?} after {} attempt(s) in {took:?}: {}", url, r.status, r.attempts, r.error_message);
    (r, took)
}

// ---------------------------------------------------------------------------------------------
// Truncated and oversized bodies
// ---------------------------------------------------------------------------------------------

#[test]
fn truncated_body_is_a_network_error() {
    let srv = RawServer::start(|s, _| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n{\"fulfillmentState\":\"Fulf");
        After::Close
    });
    let (r, took) = call(&srv.url(), |_| {});
    assert_eq!(r.status, Status::Network, "{}", r.error_message);
    assert_eq!(r.http_status, 200, "the head arrived");
    assert!(!r.error_message.is_empty());
    assert_eq!(srv.requests(), 1, "a body that broke off is not resent");
    assert!(took < Duration::from_secs(2), "{took:?}");
}

#[test]
fn a_64_mib_body_is_refused_without_being_buffered() {
    let _m = memory_lock();
    let total = 64 << 20;
    let srv = RawServer::start(move |s, _| {
        stream_body(
            s,
            &format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {total}\r\n\r\n"),
            total,
            b' ',
        );
        After::Close
    });
    let ((r, took), growth) = peak_rss_growth(|| call(&srv.url(), |_| {}));
    assert_eq!(r.status, Status::Protocol, "{}", r.error_message);
    assert!(r.error_message.contains("cap"), "{}", r.error_message);
    assert_eq!(r.raw_json, "");
    assert!(growth < BOUNDED_GROWTH_KIB, "RSS grew by {growth} KiB");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[test]
fn a_64_mib_body_without_length_or_chunked_is_refused_without_being_buffered() {
    let _m = memory_lock();
    let total = 64 << 20;
    for head in [
        "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_string(),
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_string(),
    ] {
        let chunked = head.contains("chunked");
        let srv = RawServer::start(move |s, _| {
            if chunked {
                if s.write_all(head.as_bytes()).is_err() {
                    return After::Close;
                }
                let chunk = vec![b' '; 64 * 1024];
                let frame = format!("{:x}\r\n", chunk.len());
                for _ in 0..(total / chunk.len()) {
                    if s.write_all(frame.as_bytes())
                        .and_then(|_| s.write_all(&chunk))
                        .and_then(|_| s.write_all(b"\r\n"))
                        .is_err()
                    {
                        return After::Close;
                    }
                }
                let _ = s.write_all(b"0\r\n\r\n");
            } else {
                stream_body(s, &head, total, b' ');
            }
            After::Close
        });
        let ((r, took), growth) = peak_rss_growth(|| call(&srv.url(), |_| {}));
        assert_eq!(r.status, Status::Protocol, "chunked={chunked}: {}", r.error_message);
        assert!(growth < BOUNDED_GROWTH_KIB, "chunked={chunked}: RSS grew by {growth} KiB");
        assert!(took < Duration::from_secs(3), "{took:?}");
    }
}

#[test]
fn a_64_mib_error_body_keeps_only_its_start() {
    let _m = memory_lock();
    let total = 64 << 20;
    let srv = RawServer::start(move |s, _| {
        stream_body(
            s,
            &format!("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: {total}\r\n\r\n"),
            total,
            b'x',
        );
        After::Close
    });
    let ((r, took), growth) = peak_rss_growth(|| call(&srv.url(), |_| {}));
    assert_eq!(r.status, Status::RetriesExhausted, "{}", r.error_message);
    assert_eq!(r.http_status, 503);
    assert_eq!(r.attempts, 3);
    assert!(r.raw_json.len() <= 64 * 1024, "kept {} bytes", r.raw_json.len());
    assert!(r.error_message.len() < 1024, "message of {} bytes", r.error_message.len());
    assert!(growth < BOUNDED_GROWTH_KIB, "RSS grew by {growth} KiB");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

// ---------------------------------------------------------------------------------------------
// Slow, silent and garbled peers
// ---------------------------------------------------------------------------------------------

#[test]
fn a_dripping_head_ends_at_the_request_timeout() {
    let srv = RawServer::start(|s, _| {
        let head = format!("HTTP/1.1 200 OK\r\nX-Slow: {}\r\nContent-Length: 2\r\n\r\n{{}}", "a".repeat(200));
        drip(s, head.as_bytes(), Duration::from_millis(200));
        After::Close
    });
    let (r, took) = call(&srv.url(), |c| c.set_timeouts(2000, 1000).unwrap());
    assert_eq!(r.status, Status::Timeout, "{}", r.error_message);
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < Duration::from_millis(2500), "ends near the 1 s request timeout, not later: {took:?}");
    assert_eq!(r.attempts, 1, "a timeout is not retried");
}

#[test]
fn a_dripping_body_ends_at_the_request_timeout() {
    let srv = RawServer::start(|s, _| {
        let body = FULFILLED.as_bytes();
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
        if s.write_all(head.as_bytes()).is_ok() {
            drip(s, body, Duration::from_millis(200));
        }
        After::Close
    });
    let (r, took) = call(&srv.url(), |c| c.set_timeouts(2000, 1000).unwrap());
    assert_eq!(r.status, Status::Timeout, "{}", r.error_message);
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < Duration::from_millis(2500), "ends near the 1 s request timeout, not later: {took:?}");
}

#[test]
fn a_dripping_answer_respects_the_call_deadline_too() {
    let srv = RawServer::start(|s, _| {
        drip(s, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", Duration::from_millis(200));
        After::Close
    });
    let client = Client::new(&raw_config(&srv.url())).unwrap();
    let t = Instant::now();
    let opts = CallOptions { deadline: Some(Instant::now() + Duration::from_millis(700)), ..Default::default() };
    let r = client.allocate_cluster(&request("deadline"), &opts);
    let took = t.elapsed();
    assert_eq!(r.status, Status::Timeout, "{}", r.error_message);
    assert!(took < Duration::from_millis(2000), "the 700 ms deadline bounds the 3 s request timeout: {took:?}");
}

#[test]
fn non_http_bytes_are_a_network_error() {
    for garbage in [
        &b"SSH-2.0-OpenSSH_9.6\r\n"[..],
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        b"HTTP/1.1 abc Whatever\r\n\r\n",
        b"HTTP/9.9 200 OK\r\n\r\n",
        b"\0\0\0\0\0\0\0\0\r\n\r\n",
    ] {
        let srv = RawServer::start(move |s, _| {
            let _ = s.write_all(garbage);
            After::Close
        });
        let (r, took) = call(&srv.url(), |_| {});
        assert_eq!(r.status, Status::Network, "{:?}: {}", String::from_utf8_lossy(garbage), r.error_message);
        assert_eq!(r.http_status, 0);
        assert!(!r.error_message.is_empty());
        assert!(took < Duration::from_secs(3), "{took:?}");
    }
}

#[test]
fn close_without_answer_is_retried_then_a_network_error() {
    let srv = RawServer::start(|_, _| After::Close);
    let (r, took) = call(&srv.url(), |_| {});
    assert_eq!(r.status, Status::Network, "{}", r.error_message);
    assert_eq!(r.attempts, 3, "nothing arrived, so resending is safe");
    assert_eq!(srv.requests(), 3);
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[test]
fn a_200_kb_header_is_refused() {
    let srv = RawServer::start(|s, _| {
        let head = format!(
            "HTTP/1.1 200 OK\r\nX-Huge: {}\r\nContent-Length: {}\r\n\r\n",
            "h".repeat(200_000),
            FULFILLED.len()
        );
        let _ = s.write_all(head.as_bytes()).and_then(|_| s.write_all(FULFILLED.as_bytes()));
        After::Close
    });
    let ((r, took), growth) = {
        let _m = memory_lock();
        peak_rss_growth(|| call(&srv.url(), |_| {}))
    };
    assert_eq!(r.status, Status::Network, "{}", r.error_message);
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(growth < BOUNDED_GROWTH_KIB, "RSS grew by {growth} KiB");
}

// ---------------------------------------------------------------------------------------------
// Hostile 2xx bodies
// ---------------------------------------------------------------------------------------------

fn answer_200(body: Vec<u8>) -> RawServer {
    RawServer::start(move |s, _| {
        let _ = respond(s, "200 OK", &[("Content-Type", "application/json")], &body);
        After::Close
    })
}

#[test]
fn a_json_nesting_bomb_never_overflows_the_stack() {
    let deep = |open: &str, close: &str, n: usize| format!("{}{}", open.repeat(n), close.repeat(n));
    for (what, body, want) in [
        ("unclosed arrays", format!("{{\"x\":{}", "[".repeat(500_000)), Status::Protocol),
        ("deep portMappings", format!("{{\"portMappings\":{}}}", deep("[", "]", 200_000)), Status::Protocol),
        ("deep hostName", format!("{{\"hostName\":{}}}", deep("[", "]", 200_000)), Status::Protocol),
        (
            "objects as hostName",
            format!("{{\"hostName\":{}1{}}}", "{\"a\":".repeat(100_000), "}".repeat(100_000)),
            Status::Protocol,
        ),
        // serde_json skips an ignored value without recursing: a well-formed bomb in an unknown
        // field, or in a field whose odd values fall back to a default, is harmlessly skipped.
        (
            "deep unknown field",
            format!("{{\"x\":{},\"fulfillmentState\":\"Fulfilled\"}}", deep("[", "]", 400_000)),
            Status::Ok,
        ),
        ("objects in an unknown field", format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000)), Status::Ok),
        ("deep poll interval", format!("{{\"pollIntervalMilliseconds\":{}}}", deep("[", "]", 400_000)), Status::Ok),
        (
            "deep state",
            format!("{{\"fulfillmentState\":{}1{}}}", "{\"a\":".repeat(100_000), "}".repeat(100_000)),
            Status::Ok,
        ),
    ] {
        assert!(body.len() <= 1 << 20, "{what}: under the cap, so the parser sees it");
        let srv = answer_200(body.into_bytes());
        let (r, took) = call(&srv.url(), |_| {});
        assert_eq!(r.status, want, "{what}: {}", r.error_message);
        assert_eq!(r.http_status, 200);
        assert!(took < Duration::from_secs(3), "{what}: {took:?}");
        if want == Status::Ok {
            assert_eq!(r.poll_interval_ms, 1000, "{what}");
        }
    }
}

#[test]
fn invalid_utf8_inside_strings_is_a_protocol_error() {
    for body in [
        &b"{\"fulfillmentState\":\"Fulfilled\",\"hostName\":\"gs-\xff\xfe.example\"}"[..],
        b"{\"fulfillmentState\":\"Fulfilled\",\"region\":\"\xc3\x28\"}",
        b"{\"fulfillmentState\":\"Fulfilled\",\"portMappings\":[{\"Key\":\"\xed\xa0\x80\",\"Value\":{\"internal\":1,\"external\":2}}]}",
        b"{\"fulfillmentState\":\"Fulfilled\",\"hostName\":\"\\ud800\"}",
        b"{\"fulfillmentState\":\"Fulfilled\",\"hostName\":\"a\\u0000b\"}",
        b"{\"unknown\":\"\xf8\x88\x80\x80\x80\",\"fulfillmentState\":\"Fulfilled\"}",
    ] {
        let srv = answer_200(body.to_vec());
        let (r, _) = call(&srv.url(), |_| {});
        assert_eq!(r.status, Status::Protocol, "{:?}: {}", String::from_utf8_lossy(body), r.error_message);
        assert!(!r.raw_json.contains('\0'));
        assert_eq!(r.host_name, "", "no partial answer");
        assert!(std::str::from_utf8(r.raw_json.as_bytes()).is_ok());
    }
}

// ---------------------------------------------------------------------------------------------
// Retry-After, chunked encoding, polling, resets
// ---------------------------------------------------------------------------------------------

#[test]
fn retry_after_of_100000_seconds_ends_at_once() {
    let srv = RawServer::start(|s, _| {
        let _ = respond(s, "503 Service Unavailable", &[("Retry-After", "100000")], b"{\"message\":\"busy\"}");
        After::Close
    });
    let (r, took) = call(&srv.url(), |c| c.set_retry_policy(4, 10, 10_000).unwrap());
    assert_eq!(r.status, Status::RetriesExhausted, "{}", r.error_message);
    assert_eq!(r.retry_after_ms, 100_000_000);
    assert_eq!(r.attempts, 1, "does not sleep 27 hours");
    assert!(r.error_message.contains("busy"), "{}", r.error_message);
    assert!(took < Duration::from_secs(2), "{took:?}");
    // Absurd and hostile variants, told apart by what reaches the wire: a value that saturates
    // (huge seconds, a date far ahead) ends the call after its one request and is reported as
    // u32::MAX ms; a value that is not a Retry-After at all ("-5", "1e9") is ignored, so the
    // backoff applies and the whole budget (3 attempts) is spent, with no Retry-After reported.
    let saturated = (1, u32::MAX);
    let ignored = (3, 0);
    for (ra, want) in [
        ("99999999999999999999999999", saturated),
        ("4294967296", saturated),
        ("Fri, 31 Dec 9999 23:59:59 GMT", saturated),
        ("-5", ignored),
        ("1e9", ignored),
        ("soon", ignored),
    ] {
        let srv = RawServer::start(move |s, _| {
            let _ = respond(s, "503 Service Unavailable", &[("Retry-After", ra)], b"");
            After::Close
        });
        let (r, took) = call(&srv.url(), |_| {});
        assert_eq!(r.status, Status::RetriesExhausted, "{ra}: {}", r.error_message);
        assert_eq!((r.attempts, r.retry_after_ms), want, "{ra}: (attempts, retry_after_ms)");
        assert_eq!(srv.requests(), want.0 as usize, "{ra}: requests on the wire");
        assert!(took < Duration::from_secs(3), "{ra}: {took:?}");
    }
}

#[test]
fn valid_chunked_200_parses() {
    let srv = RawServer::start(|s, _| {
        let mut out =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n".to_vec();
        for part in FULFILLED.as_bytes().chunks(17) {
            out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
            out.extend_from_slice(part);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
        let _ = s.write_all(&out);
        After::KeepAlive
    });
    let (r, _) = call(&srv.url(), |_| {});
    assert_eq!(r.status, Status::Ok, "{}", r.error_message);
    assert_eq!(r.fulfillment_state, FulfillmentState::Fulfilled);
    assert_eq!(r.host_name, "10.0.0.7");
    assert_eq!(r.ports.len(), 1);
    assert_eq!(r.raw_json, FULFILLED);
}

#[test]
fn broken_chunked_is_a_network_error() {
    for broken in [
        // Not a hex size.
        &b"zz\r\n{}\r\n0\r\n\r\n"[..],
        // The size promises more than arrives, then close.
        b"400\r\n{\"fulfillmentState\":",
        // No terminating chunk, then close.
        b"2\r\n{}\r\n",
        // Absurd size.
        b"ffffffffffffffffffff\r\n{}\r\n0\r\n\r\n",
    ] {
        let srv = RawServer::start(move |s, _| {
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").and_then(|_| s.write_all(broken));
            After::Close
        });
        let (r, took) = call(&srv.url(), |_| {});
        assert_eq!(r.status, Status::Network, "{:?}: {}", String::from_utf8_lossy(broken), r.error_message);
        assert!(took < Duration::from_secs(3), "{took:?}");
    }
}

fn queued_forever(interval: &'static str) -> RawServer {
    RawServer::start(move |s, _| {
        let body = format!(r#"{{"fulfillmentState":"Queued","pollIntervalMilliseconds":{interval}}}"#);
        match respond(s, "200 OK", &[("Connection", "keep-alive")], body.as_bytes()) {
            Ok(()) => After::KeepAlive,
            Err(_) => After::Close,
        }
    })
}

#[test]
fn a_zero_poll_interval_does_not_spin() {
    for interval in ["\"0\"", "0", "\"0.0001\"", "-1", "\"-99999\""] {
        let srv = queued_forever(interval);
        let client = Client::new(&raw_config(&srv.url())).unwrap();
        let t = Instant::now();
        let opts = CallOptions { deadline: Some(Instant::now() + Duration::from_millis(1000)), ..Default::default() };
        let r = client.allocate_cluster(&request("spin"), &opts);
        let took = t.elapsed();
        assert_eq!(r.status, Status::Timeout, "{interval}: {}", r.error_message);
        assert_eq!(r.fulfillment_state, FulfillmentState::Queued);
        let n = srv.requests();
        // 0 is raised to the 100 ms floor: about 10 requests in a second (negative -> 1000 ms: 1).
        assert!((1..=12).contains(&n), "{interval}: {n} requests in {took:?}");
        assert!(took < Duration::from_millis(2000), "{took:?}");
    }
}

#[test]
fn a_zero_poll_interval_does_not_spin_on_the_async_runtime_either() {
    use gsms::runtime::Client as RtClient;
    let srv = queued_forever("0");
    let mut cfg = raw_config(&srv.url());
    cfg.callback_mode = CallbackMode::OnWorker;
    let c = RtClient::new(&cfg).unwrap();
    let op = c
        .start(AllocateCluster::new(&request("spin")), Some(Instant::now() + Duration::from_millis(1000)), None, None)
        .unwrap();
    let t = Instant::now();
    while op.take_result().is_none() && t.elapsed() < Duration::from_secs(5) {
        thread::sleep(Duration::from_millis(10));
    }
    let (status, _) = op.take_result().expect("completed");
    assert_eq!(status, Status::Timeout);
    let n = srv.requests();
    assert!((2..=12).contains(&n), "{n} requests");
}

#[test]
fn a_connection_reset_mid_retry_is_retried() {
    // 1st: 503 Retry-After 0; 2nd: RST once the request is read; 3rd: the answer.
    let srv = RawServer::start(|s, n| match n {
        0 => {
            let _ = respond(s, "503 Service Unavailable", &[("Retry-After", "0")], b"");
            After::Close
        }
        1 => {
            reset(s.try_clone().unwrap());
            After::Close
        }
        _ => {
            let _ = respond(s, "200 OK", &[], FULFILLED.as_bytes());
            After::Close
        }
    });
    let (r, took) = call(&srv.url(), |c| c.set_retry_policy(4, 10, 200).unwrap());
    assert_eq!(r.status, Status::Ok, "{}", r.error_message);
    assert_eq!(r.attempts, 3);
    assert_eq!(r.fulfillment_state, FulfillmentState::Fulfilled);
    assert!(took < Duration::from_secs(3), "{took:?}");

    // Resets every time: the budget ends it with NETWORK.
    let srv = RawServer::start(|s, n| {
        if n == 0 {
            let _ = respond(s, "503 Service Unavailable", &[("Retry-After", "0")], b"");
        } else {
            reset(s.try_clone().unwrap());
        }
        After::Close
    });
    let (r, took) = call(&srv.url(), |_| {});
    assert_eq!(r.status, Status::Network, "{}", r.error_message);
    assert_eq!(r.attempts, 3);
    assert_eq!(r.http_status, 503, "the last status seen is kept");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[test]
fn a_reset_in_the_middle_of_a_body_is_a_network_error() {
    let srv = RawServer::start(|s, _| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"fulfillmentState\":");
        thread::sleep(Duration::from_millis(50));
        reset(s.try_clone().unwrap());
        After::Close
    });
    let (r, _) = call(&srv.url(), |_| {});
    assert_eq!(r.status, Status::Network, "{}", r.error_message);
    assert_eq!(srv.requests(), 1);
}

// ---------------------------------------------------------------------------------------------
// Signals and blocked writes (the socket layer's EINTR and write-timeout paths)
// ---------------------------------------------------------------------------------------------

/// SIGUSR1 handlers for the signal test: counts deliveries; installed without SA_RESTART, as a
/// garbage collector's thread-suspend signal would be (Mono and IL2CPP suspend threads with signals).
#[cfg(target_os = "linux")]
static SIGNALS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[cfg(target_os = "linux")]
extern "C" fn count_signal(_: libc::c_int) {
    SIGNALS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

/// Installs `count_signal` for SIGUSR1.
#[cfg(target_os = "linux")]
fn install_counting_handler() {
    // SAFETY: a handler that only touches an atomic; sa_mask empty; no SA_RESTART (a socket with a
    // timeout returns EINTR either way).
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = count_signal as extern "C" fn(libc::c_int) as usize;
        sa.sa_flags = 0;
        libc::sigemptyset(&mut sa.sa_mask);
        assert_eq!(libc::sigaction(libc::SIGUSR1, &sa, std::ptr::null_mut()), 0);
    }
}

/// Sends SIGUSR1 to the thread that started it, every `every`, until `stop`.
#[cfg(target_os = "linux")]
struct Signaller {
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: thread::JoinHandle<()>,
    before: usize,
}

#[cfg(target_os = "linux")]
impl Signaller {
    fn start(every: Duration) -> Signaller {
        use std::sync::atomic::{AtomicBool, Ordering};
        // SAFETY: pthread_self of this thread, signalled only until `stop` (which this thread calls).
        let me = unsafe { libc::pthread_self() } as usize;
        let done = std::sync::Arc::new(AtomicBool::new(false));
        let d = done.clone();
        let before = SIGNALS.load(Ordering::SeqCst);
        let thread = thread::spawn(move || {
            while !d.load(Ordering::SeqCst) {
                // SAFETY: the target thread outlives this loop (it stops and joins us).
                unsafe { libc::pthread_kill(me as libc::pthread_t, libc::SIGUSR1) };
                thread::sleep(every);
            }
        });
        Signaller { done, thread, before }
    }

    /// Stops signalling; returns how many signals were delivered meanwhile.
    fn stop(self) -> usize {
        self.done.store(true, std::sync::atomic::Ordering::SeqCst);
        self.thread.join().unwrap();
        SIGNALS.load(std::sync::atomic::Ordering::SeqCst) - self.before
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_blocking_read_interrupted_by_signals_goes_on() {
    install_counting_handler();
    // The answer comes 400 ms after the request: the caller's thread waits in recv meanwhile.
    let srv = RawServer::start(|s, _| {
        thread::sleep(Duration::from_millis(400));
        let _ = respond(s, "200 OK", &[], FULFILLED.as_bytes());
        After::Close
    });
    let signaller = Signaller::start(Duration::from_millis(3));
    let (r, took) = call(&srv.url(), |_| {});
    let delivered = signaller.stop();
    assert_eq!(r.status, Status::Ok, "{} ({delivered} signals)", r.error_message);
    assert!(delivered >= 20, "only {delivered} signals reached the calling thread");
    assert_eq!(r.attempts, 1, "an interrupted read is not a failed attempt");
    assert_eq!(srv.requests(), 1);
    assert!(took >= Duration::from_millis(400) && took < Duration::from_secs(3), "{took:?}");
}

/// An HTTPS server (the emulator's test certificate) whose connections have a 4 KiB receive
/// buffer and are read slowly (16 KiB every 2 ms): a request larger than the socket buffers keeps
/// the client's writes blocked. Each request gets the fulfilled answer.
#[cfg(target_os = "linux")]
fn slow_reading_tls_server(tls: gsms_emulator::TlsConfig) -> std::net::SocketAddr {
    let answer =
        format!("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{FULFILLED}", FULFILLED.len());
    tls_server(tls, answer, true)
}

/// As [`slow_reading_tls_server`], each request answered with `answer` then the connection
/// closed, with TLS's close_notify first or (`close_notify` false) only the TCP close.
#[cfg(target_os = "linux")]
fn tls_server(tls: gsms_emulator::TlsConfig, answer: String, close_notify: bool) -> std::net::SocketAddr {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use socket2::{Domain, Socket, Type};
    use std::io::Read;
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(&tls.cert_pem).collect::<Result<_, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_slice(&tls.key_pem).unwrap();
    let config = std::sync::Arc::new(
        rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap(),
    );
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    s.set_recv_buffer_size(4096).unwrap();
    s.bind(&"127.0.0.1:0".parse::<std::net::SocketAddr>().unwrap().into()).unwrap();
    s.listen(8).unwrap();
    let addr = s.local_addr().unwrap().as_socket().unwrap();
    let listener: std::net::TcpListener = s.into();
    thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let (config, answer) = (config.clone(), answer.clone());
            thread::spawn(move || {
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                let mut got = Vec::new();
                let mut b = vec![0u8; 16 << 10];
                // The head (searched for in what is new), then its Content-Length of body.
                let (mut scanned, mut want) = (0, None);
                while want.is_none_or(|w| got.len() < w) {
                    match tls.read(&mut b) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&b[..n]),
                    }
                    if want.is_none() {
                        if let Some(end) = got[scanned..].windows(4).position(|w| w == b"\r\n\r\n") {
                            let end = scanned + end;
                            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                            let len = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                            want = Some(end + 4 + len);
                        }
                        scanned = got.len().saturating_sub(3);
                    }
                    thread::sleep(Duration::from_millis(2));
                }
                let _ = tls.write_all(answer.as_bytes());
                if close_notify {
                    tls.conn.send_close_notify();
                }
                let _ = tls.flush();
            });
        }
    });
    addr
}

#[cfg(target_os = "linux")]
#[test]
fn an_https_body_read_until_close_needs_the_servers_close_notify() {
    // Without Content-Length the body ends when the connection does; over TLS only a
    // close_notify says the server meant to end it there (a bare TCP close may be an attacker
    // cutting the answer short), so without one the answer is refused.
    let (tls, ca_pem) = gsms_emulator::generate_test_tls();
    let dir = std::env::temp_dir().join(format!("gsms-ca-until-close-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &ca_pem).unwrap();
    let answer = format!("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{FULFILLED}");
    for close_notify in [true, false] {
        let addr = tls_server(tls.clone(), answer.clone(), close_notify);
        let mut cfg = raw_config(&format!("https://127.0.0.1:{}", addr.port()));
        cfg.set_ca_bundle_path(ca.to_str().unwrap()).unwrap();
        let r = create(&Client::new(&cfg).unwrap(), &request("until-close-tls"));
        if close_notify {
            assert_eq!(r.status, Status::Ok, "{}", r.error_message);
            assert_eq!(r.raw_json, FULFILLED);
        } else {
            assert_eq!(r.status, Status::Network, "a body cut short was believed: {:?}", r.raw_json);
            assert_eq!(r.attempts, 1, "{}", r.error_message);
            assert!(r.error_message.contains("reading the response body"), "{}", r.error_message);
        }
    }
}

#[cfg(target_os = "linux")]
#[test]
fn an_https_request_larger_than_the_tls_buffer_is_sent_whole() {
    // rustls takes 64 KiB of plaintext at a time; a 1 MiB Authorization value must still go out
    // whole (it failed with "failed to write whole buffer" until 2026-12-03).
    let (tls, ca_pem) = gsms_emulator::generate_test_tls();
    let addr = slow_reading_tls_server(tls);
    let dir = std::env::temp_dir().join(format!("gsms-ca-large-req-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &ca_pem).unwrap();
    let mut cfg = raw_config(&format!("https://127.0.0.1:{}", addr.port()));
    cfg.set_ca_bundle_path(ca.to_str().unwrap()).unwrap();
    cfg.set_auth_token(&format!("XBL3.0 x=1;{}", "t".repeat(1 << 20))).unwrap();
    cfg.set_timeouts(5000, 20_000).unwrap();
    let r = create(&Client::new(&cfg).unwrap(), &request("large-tls"));
    assert_eq!(r.status, Status::Ok, "{}", r.error_message);
    assert_eq!(r.attempts, 1);
}

#[cfg(target_os = "linux")]
#[test]
fn an_https_request_whose_writes_are_interrupted_by_signals_goes_on() {
    install_counting_handler();
    // Over TLS the request leaves as records, written one at a time by the library's own loop
    // (std's write_all, which goes on after EINTR by itself, is not in that path). A 4 MiB
    // Authorization value to a server that reads slowly: the writes block, and the signals land
    // while they do (a blocked send interrupted before it sent anything fails with EINTR).
    let _mem = memory_lock();
    let (tls, ca_pem) = gsms_emulator::generate_test_tls();
    let addr = slow_reading_tls_server(tls);
    let dir = std::env::temp_dir().join(format!("gsms-ca-eintr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &ca_pem).unwrap();
    let mut cfg = raw_config(&format!("https://127.0.0.1:{}", addr.port()));
    cfg.set_ca_bundle_path(ca.to_str().unwrap()).unwrap();
    cfg.set_auth_token(&format!("XBL3.0 x=1;{}", "t".repeat(4 << 20))).unwrap();
    cfg.set_timeouts(5000, 20_000).unwrap();
    let client = Client::new(&cfg).unwrap();
    let signaller = Signaller::start(Duration::from_millis(1));
    let r = create(&client, &request("eintr"));
    let delivered = signaller.stop();
    assert_eq!(r.status, Status::Ok, "{} ({delivered} signals)", r.error_message);
    assert_eq!(r.attempts, 1, "an interrupted write is not a failed attempt");
    assert!(delivered >= 50, "only {delivered} signals reached the calling thread");
}

/// A listener whose accepted connections have a 4 KiB receive buffer and are never read: a
/// request larger than the socket buffers blocks the client's write. `then` gets each connection.
fn unread_listener(then: impl Fn(std::net::TcpStream) + Send + 'static) -> std::net::SocketAddr {
    use socket2::{Domain, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    s.set_recv_buffer_size(4096).unwrap();
    s.bind(&"127.0.0.1:0".parse::<std::net::SocketAddr>().unwrap().into()).unwrap();
    s.listen(8).unwrap();
    let addr = s.local_addr().unwrap().as_socket().unwrap();
    let listener: std::net::TcpListener = s.into();
    thread::spawn(move || {
        for c in listener.incoming().flatten() {
            then(c);
        }
    });
    addr
}

/// A 16 MiB Authorization value: more than any socket buffer holds.
fn huge_token() -> String {
    format!("XBL3.0 x=1;{}", "t".repeat(16 << 20))
}

#[test]
fn a_write_the_server_never_reads_ends_at_the_request_timeout() {
    // 16 MiB requests: not while another test measures its memory.
    let _m = memory_lock();
    let held = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let h = held.clone();
    let addr = unread_listener(move |c| h.lock().unwrap().push(c));
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let r = call(&format!("http://{addr}"), |c| {
            c.set_auth_token(&huge_token()).unwrap();
            c.set_timeouts(2000, 1000).unwrap();
            c.set_retry_policy(1, 10, 200).unwrap();
        });
        let _ = tx.send(r);
    });
    // A write without a timeout would block until the server reads: far longer than this.
    let (r, took) = rx.recv_timeout(Duration::from_secs(20)).expect("the blocked write never ended");
    assert_eq!(r.status, Status::Timeout, "{}", r.error_message);
    assert!(took >= Duration::from_millis(900) && took < Duration::from_secs(5), "{took:?}");
    assert_eq!(held.lock().unwrap().len(), 1, "one connection, no retry");
}

#[test]
fn a_blocked_write_reset_by_the_server_is_a_network_error_at_once() {
    let _m = memory_lock();
    // The server lets the client's write fill every buffer, then resets the connection.
    let addr = unread_listener(|c| {
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(300));
            reset(c);
        });
    });
    let (r, took) = call(&format!("http://{addr}"), |c| {
        c.set_auth_token(&huge_token()).unwrap();
        c.set_timeouts(2000, 4000).unwrap();
        c.set_retry_policy(1, 10, 200).unwrap();
    });
    assert_eq!(r.status, Status::Network, "{}", r.error_message);
    assert!(took < Duration::from_secs(2), "a failed write is reported at once, not at the deadline: {took:?}");
}

// ---------------------------------------------------------------------------------------------
// The same faults through the C ABI: cancel and free never wait for a stuck request
// ---------------------------------------------------------------------------------------------

mod c_abi {
    use super::*;
    use gsms::ffi::client::*;
    use gsms::ffi::clusters::*;
    use gsms::ffi::config::*;
    use gsms::ffi::gsms_status;
    use gsms::ffi::operation::*;
    use std::ffi::CString;
    use std::ptr;

    unsafe fn client_for(url: &str, request_ms: u32) -> *mut gsms_client {
        unsafe {
            let cfg = gsms_config_new();
            let u = CString::new(url).unwrap();
            assert_eq!(gsms_config_set_base_url(cfg, u.as_ptr()), gsms_status::GSMS_OK);
            let t = CString::new(TOKEN).unwrap();
            assert_eq!(gsms_config_set_auth_token(cfg, t.as_ptr()), gsms_status::GSMS_OK);
            assert_eq!(gsms_config_set_timeouts(cfg, 2000, request_ms), gsms_status::GSMS_OK);
            assert_eq!(gsms_config_set_retry_policy(cfg, 2, 10, 100), gsms_status::GSMS_OK);
            let mut c = ptr::null_mut();
            assert_eq!(gsms_client_new(cfg, &mut c), gsms_status::GSMS_OK);
            gsms_config_free(cfg);
            c
        }
    }

    /// A listener with a backlog of 0 and one connection nobody accepts: the kernel drops further
    /// SYNs, so a connect to it hangs until the client's connect timeout.
    fn full_backlog() -> ((socket2::Socket, std::net::TcpStream), std::net::SocketAddr) {
        let listener = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        listener.bind(&"127.0.0.1:0".parse::<std::net::SocketAddr>().unwrap().into()).unwrap();
        listener.listen(0).unwrap();
        let addr = listener.local_addr().unwrap().as_socket().unwrap();
        let filler = std::net::TcpStream::connect(addr).unwrap();
        let probe = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(300));
        assert!(probe.is_err(), "the backlog did not fill: this kernel accepts past it");
        ((listener, filler), addr)
    }

    unsafe fn req() -> *mut gsms_cluster_request {
        unsafe {
            let r = gsms_cluster_request_new(TITLE);
            let s = CString::new(session("c-abi")).unwrap();
            assert_eq!(gsms_cluster_request_set_session_id(r, s.as_ptr()), gsms_status::GSMS_OK);
            r
        }
    }

    fn dripping() -> RawServer {
        RawServer::start(|s, _| {
            drip(s, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", Duration::from_millis(200));
            After::Close
        })
    }

    #[test]
    fn cancel_of_a_dripping_request_completes_at_once() {
        let srv = dripping();
        unsafe {
            let c = client_for(&srv.url(), 30_000);
            let r = req();
            let mut op = ptr::null_mut();
            assert_eq!(gsms_client_create_cluster_async(c, r, None, ptr::null_mut(), &mut op), gsms_status::GSMS_OK);
            let t = Instant::now();
            while srv.requests() == 0 && t.elapsed() < Duration::from_secs(3) {
                thread::sleep(Duration::from_millis(5));
            }
            assert_eq!(gsms_operation_take_result(op, ptr::null_mut()), gsms_status::GSMS_PENDING);
            let t = Instant::now();
            assert_eq!(gsms_operation_cancel(op), gsms_status::GSMS_OK);
            let mut res = ptr::null_mut();
            let st = gsms_operation_take_result(op, &mut res);
            assert_eq!(st, gsms_status::GSMS_ERR_CANCELLED, "completed by cancel itself");
            assert!(t.elapsed() < Duration::from_millis(500), "{:?}", t.elapsed());
            assert_eq!(gsms_cluster_result_status(res), gsms_status::GSMS_ERR_CANCELLED);
            gsms_cluster_result_free(res);
            let t = Instant::now();
            gsms_client_free(c);
            assert!(t.elapsed() < Duration::from_millis(1000), "free does not wait for the drip: {:?}", t.elapsed());
            gsms_operation_free(op);
            gsms_cluster_request_free(r);
        }
    }

    #[test]
    fn free_with_requests_stuck_on_hostile_servers_returns_quickly() {
        let drip_srv = dripping();
        let silent = RawServer::start(|_, _| {
            thread::sleep(Duration::from_secs(20));
            After::Close
        });
        unsafe {
            for url in [drip_srv.url(), silent.url()] {
                let c = client_for(&url, 30_000);
                let r = req();
                let mut ops = Vec::new();
                for _ in 0..4 {
                    let mut op = ptr::null_mut();
                    assert_eq!(
                        gsms_client_allocate_cluster_async(c, r, 0, None, None, ptr::null_mut(), &mut op),
                        gsms_status::GSMS_OK
                    );
                    ops.push(op);
                }
                thread::sleep(Duration::from_millis(200));
                let t = Instant::now();
                gsms_client_free(c);
                let took = t.elapsed();
                assert!(took < Duration::from_millis(1000), "{url}: {took:?}");
                for op in ops {
                    assert_eq!(gsms_operation_take_result(op, ptr::null_mut()), gsms_status::GSMS_ERR_SHUTDOWN);
                    gsms_operation_free(op);
                }
                gsms_cluster_request_free(r);
            }
        }
    }

    #[test]
    fn free_with_a_connect_that_never_completes_returns_quickly() {
        // A connect that hangs until the client's 2 s connect timeout (full_backlog). Shutting the
        // agent's sockets cannot interrupt a connect in progress (the socket is not registered
        // yet), so free must leave that worker behind rather than join it.
        let (_listener, addr) = full_backlog();
        unsafe {
            let c = client_for(&format!("http://{addr}"), 30_000);
            let r = req();
            let mut op = ptr::null_mut();
            assert_eq!(
                gsms_client_allocate_cluster_async(c, r, 0, None, None, ptr::null_mut(), &mut op),
                gsms_status::GSMS_OK
            );
            thread::sleep(Duration::from_millis(200));
            let t = Instant::now();
            gsms_client_free(c);
            let took = t.elapsed();
            assert!(took < Duration::from_millis(1000), "free waited for the connect: {took:?}");
            assert_eq!(gsms_operation_take_result(op, ptr::null_mut()), gsms_status::GSMS_ERR_SHUTDOWN);
            gsms_operation_free(op);
            gsms_cluster_request_free(r);
        }
    }

    #[test]
    fn a_connect_that_never_completes_ends_at_the_connect_timeout_not_before() {
        // One address: it gets the whole connect timeout (2 s here), then the call is a timeout.
        let (listener, addr) = full_backlog();
        unsafe {
            let c = client_for(&format!("http://{addr}"), 30_000);
            let r = req();
            let mut out = ptr::null_mut();
            let t = Instant::now();
            let st = gsms_client_create_cluster(c, r, &mut out);
            let took = t.elapsed();
            assert_eq!(st, gsms_status::GSMS_ERR_TIMEOUT);
            assert_eq!(gsms_cluster_result_attempts(out), 1, "a connect timeout is not retried");
            assert!(took >= Duration::from_millis(1900) && took < Duration::from_millis(3500), "{took:?}");
            gsms_cluster_result_free(out);
            gsms_cluster_request_free(r);
            gsms_client_free(c);
        }
        drop(listener);
    }

    #[test]
    fn blocking_calls_through_the_c_abi_report_each_fault() {
        let truncated = RawServer::start(|s, _| {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{");
            After::Close
        });
        let garbage = RawServer::start(|s, _| {
            let _ = s.write_all(b"\x00\x01garbage\r\n\r\n");
            After::Close
        });
        let bomb = answer_200(format!("{{\"x\":{}", "[".repeat(10_000)).into_bytes());
        for (srv, want) in [
            (&truncated, gsms_status::GSMS_ERR_NETWORK),
            (&garbage, gsms_status::GSMS_ERR_NETWORK),
            (&bomb, gsms_status::GSMS_ERR_PROTOCOL),
        ] {
            unsafe {
                let c = client_for(&srv.url(), 3000);
                let r = req();
                let mut out = ptr::null_mut();
                let st = gsms_client_create_cluster(c, r, &mut out);
                assert_eq!(st, want);
                assert!(!out.is_null(), "a result with the error details");
                assert_eq!(gsms_cluster_result_status(out), want);
                let msg = std::ffi::CStr::from_ptr(gsms_cluster_result_error_message(out));
                assert!(!msg.to_bytes().is_empty());
                let last = std::ffi::CStr::from_ptr(gsms::ffi::gsms_last_error_message());
                assert_eq!(last, msg, "the thread's last error is the call's message");
                gsms_cluster_result_free(out);
                gsms_cluster_request_free(r);
                gsms_client_free(c);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Silence, interim answers and ambiguous framing
// ---------------------------------------------------------------------------------------------

#[test]
fn a_silent_server_ends_at_the_request_timeout() {
    let srv = RawServer::start(|_, _| {
        thread::sleep(Duration::from_secs(10));
        After::Close
    });
    let (r, took) = call(&srv.url(), |c| c.set_timeouts(2000, 800).unwrap());
    assert_eq!(r.status, Status::Timeout, "{}", r.error_message);
    assert!(took >= Duration::from_millis(700) && took < Duration::from_millis(2500), "{took:?}");
    assert_eq!(r.attempts, 1);
}

#[test]
fn an_endless_stream_of_interim_answers_ends_at_the_request_timeout() {
    let srv = RawServer::start(|s, _| {
        for _ in 0..1000 {
            if s.write_all(b"HTTP/1.1 102 Processing\r\n\r\n").is_err() {
                break;
            }
            thread::sleep(Duration::from_millis(10));
        }
        After::Close
    });
    let (r, took) = call(&srv.url(), |c| c.set_timeouts(2000, 800).unwrap());
    assert_eq!(r.status, Status::Timeout, "{}", r.error_message);
    assert!(took >= Duration::from_millis(700) && took < Duration::from_millis(2500), "{took:?}");
}

#[test]
fn ambiguous_framing_never_yields_a_wrong_answer() {
    let body = FULFILLED;
    for (what, head) in [
        ("two different Content-Length", format!("Content-Length: {}\r\nContent-Length: 5\r\n", body.len())),
        ("negative Content-Length", "Content-Length: -1\r\n".to_string()),
        ("non-numeric Content-Length", "Content-Length: abc\r\n".to_string()),
        ("huge Content-Length", "Content-Length: 99999999999999999999999\r\n".to_string()),
        ("chunked and Content-Length", format!("Transfer-Encoding: chunked\r\nContent-Length: {}\r\n", body.len())),
        ("unknown transfer coding", "Transfer-Encoding: gzip\r\n".to_string()),
        ("header without colon", format!("Content-Length: {}\r\nBroken header line\r\n", body.len())),
        ("obsolete line folding", format!("Content-Length: {}\r\nX-A: a\r\n b\r\n", body.len())),
    ] {
        let head2 = head.clone();
        let srv = RawServer::start(move |s, _| {
            let chunked = head2.contains("chunked");
            let payload = if chunked { format!("{:x}\r\n{body}\r\n0\r\n\r\n", body.len()) } else { body.to_string() };
            let _ = s.write_all(format!("HTTP/1.1 200 OK\r\n{head2}Connection: close\r\n\r\n{payload}").as_bytes());
            After::Close
        });
        let (r, took) = call(&srv.url(), |_| {});
        // Either refused, or the whole, correct answer: never a half-read or mis-framed one.
        match r.status {
            Status::Ok => {
                assert_eq!(r.raw_json, body, "{what}");
                assert_eq!(r.host_name, "10.0.0.7", "{what}");
            }
            Status::Network | Status::Protocol => assert!(!r.error_message.is_empty(), "{what}"),
            s => panic!("{what}: unexpected {s:?}: {}", r.error_message),
        }
        assert!(took < Duration::from_secs(3), "{what}: {took:?}");
        eprintln!("{what}: {:?}", r.status);
    }
}

#[test]
fn server_messages_cannot_inject_log_lines_or_grow_without_bound() {
    let long = "m".repeat(60_000);
    for body in [
        r#"{"code":400,"message":"bad\n2026-01-01 [ERROR] forged line\r\n\u001b[31mred\u0000nul"}"#.to_string(),
        format!(r#"{{"message":"{long}"}}"#),
        format!("plain\ntext\r\n\x1b[2J{long}"),
    ] {
        let srv = RawServer::start(move |s, _| {
            let _ = respond(s, "400 Bad Request", &[], body.as_bytes());
            After::Close
        });
        let mut cfg = raw_config(&srv.url());
        let lines = capture_logs(&mut cfg, LogLevel::Trace);
        let r = create(&Client::new(&cfg).unwrap(), &request("inject"));
        assert_eq!(r.status, Status::HttpStatus);
        assert!(!r.error_message.chars().any(char::is_control), "{:?}", r.error_message);
        assert!(r.error_message.len() < 1024, "message of {} bytes", r.error_message.len());
        for l in lines.lock().unwrap().iter() {
            assert!(!l.chars().any(char::is_control), "a log line carries a control character: {l:?}");
            assert!(l.len() < 2048, "a log line of {} bytes", l.len());
        }
    }
}
