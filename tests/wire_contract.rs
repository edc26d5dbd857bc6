//! The contract as a game sees it: calls through the C ABI (declared from include/gsms.h in
//! tests/support/capi.rs, not through the crate's internal types), checked on the wire (the
//! emulator's recorded requests and counts) and at the boundary (statuses, result fields,
//! callbacks). Each test names the behaviour it holds; docs/TESTING.md lists the deliberate
//! bugs ("mutants") each one was seen to catch.
//!
//! Timings are loose (a loaded 2-core machine): they tell "at once" from "after a sleep of
//! seconds", never milliseconds apart.

#[path = "support/capi.rs"]
mod capi;
#[path = "support/raw_server.rs"]
mod raw_server;

use std::ffi::c_void;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use capi::*;
use gsms_emulator::{Config as EmuConfig, Emulator, FaultRule, RecordedRequest};

const TOKEN: &str = "XBL3.0 x=1234567890;wire-contract-token";
const TITLE: u32 = 777;

fn session(name: &str) -> String {
    format!("/serviceconfigs/00000000-0000-0000-0000-000000000000/sessionTemplates/quick/sessions/{name}")
}

fn emulator(f: impl FnOnce(&mut EmuConfig)) -> Emulator {
    let mut c = EmuConfig { poll_interval_ms: 100, ..EmuConfig::default() };
    f(&mut c);
    Emulator::start(c).expect("emulator starts")
}

fn req(name: &str) -> Request {
    Request::new(TITLE, &session(name))
}

/// Requests of the clusters call whose body names session `name`.
fn posts_for(emu: &Emulator, name: &str) -> Vec<RecordedRequest> {
    let needle = format!("/sessions/{name}\"");
    emu.requests()
        .into_iter()
        .filter(|r| r.method == "POST" && String::from_utf8_lossy(&r.body).contains(&needle))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Retries: what is retried, what counts against the budget
// ---------------------------------------------------------------------------------------------

#[test]
fn only_the_documented_statuses_are_retried_on_the_wire() {
    let emu = emulator(|_| {});
    let c = client(&emu.base_url(), TOKEN, |cfg| {
        cfg.set_retry_policy(4, 1, 5);
    });
    let r = req("statuses");
    for s in [400u16, 404, 405, 409, 410, 413, 422, 501, 505] {
        emu.clear_faults();
        emu.add_fault(FaultRule::http_status(s));
        let before = emu.request_count();
        let o = c.create(&r);
        assert_eq!(o.status, GSMS_ERR_HTTP_STATUS, "HTTP {s}: {}", o.status_name());
        assert_eq!((o.http_status, o.attempts), (s, 1), "HTTP {s} is final");
        assert_eq!(emu.request_count() - before, 1, "HTTP {s}: one request on the wire");
        assert!(o.error_message.contains(&s.to_string()), "{}", o.error_message);
        assert!(o.raw_json.contains("injected fault"), "HTTP {s}: the error body is kept: {:?}", o.raw_json);
    }
    for s in [408u16, 429, 500, 502, 503, 504] {
        emu.clear_faults();
        emu.add_fault(FaultRule::http_status(s).with_retry_after("0"));
        let before = emu.request_count();
        let o = c.create(&r);
        assert_eq!(o.status, GSMS_ERR_RETRIES_EXHAUSTED, "HTTP {s}: {}", o.status_name());
        assert_eq!((o.http_status, o.attempts), (s, 4), "HTTP {s} is retried up to the budget");
        assert_eq!(emu.request_count() - before, 4, "HTTP {s}: four requests on the wire");
    }
    emu.clear_faults();
    emu.add_fault(FaultRule::http_status(403));
    let o = c.create(&r);
    assert_eq!((o.status, o.attempts), (GSMS_ERR_FORBIDDEN, 1));
    emu.clear_faults();
    // A retryable status that clears up: the call succeeds on the attempt after it.
    emu.add_fault(FaultRule::http_status(503).with_retry_after("0").with_times(3));
    let o = c.create(&r);
    assert_eq!((o.status, o.attempts, o.state), (GSMS_OK, 4, GSMS_FULFILLMENT_FULFILLED));
}

#[test]
fn a_dropped_connection_is_retried_within_a_deadline_too() {
    // A connection closed before any answer is retried (resending is safe); a deadline that is
    // still far away changes nothing, and only a passed one turns the failure into TIMEOUT.
    let emu = emulator(|_| {});
    let c = client(&emu.base_url(), TOKEN, |cfg| {
        cfg.set_retry_policy(4, 1, 5);
    });
    emu.add_fault(FaultRule::dropped_connection().with_times(2));
    let o = c.allocate(&req("dropped-deadline"), 10_000);
    assert_eq!((o.status, o.attempts, o.state), (GSMS_OK, 3, GSMS_FULFILLMENT_FULFILLED), "{}", o.error_message);
    emu.add_fault(FaultRule::dropped_connection().with_times(1));
    let o = c.create_async(&req("dropped-async"), None).wait(Duration::from_secs(10)).unwrap();
    assert_eq!((o.status, o.attempts), (GSMS_OK, 2), "{}", o.error_message);
    emu.add_fault(FaultRule::dropped_connection());
    let o = c.allocate(&req("dropped-always"), 10_000);
    assert_eq!((o.status, o.attempts), (GSMS_ERR_NETWORK, 4), "{}", o.error_message);

    // A retry whose backoff (here at least 1 s) would come after the deadline (600 ms) is not
    // waited for: the call ends at once with the network error, before its deadline.
    let slow = client(&emu.base_url(), TOKEN, |cfg| {
        cfg.set_retry_policy(4, 2000, 2000);
    });
    let t = Instant::now();
    let o = slow.allocate(&req("dropped-past-deadline"), 600);
    let took = t.elapsed();
    assert_eq!((o.status, o.attempts), (GSMS_ERR_NETWORK, 1), "{}", o.error_message);
    assert!(took < Duration::from_millis(500), "ended at once, not after the backoff: {took:?}");
}

#[test]
fn a_retry_after_of_exactly_the_max_delay_is_waited_for() {
    // "More than the max delay" ends the call; exactly the max delay (1 s here) is honoured.
    let emu = emulator(|_| {});
    let c = client(&emu.base_url(), TOKEN, |cfg| {
        cfg.set_retry_policy(3, 1, 1000);
    });
    emu.add_fault(FaultRule::http_status(503).with_retry_after("1").with_times(1));
    let o = c.create(&req("ra-equal"));
    assert_eq!((o.status, o.attempts), (GSMS_OK, 2), "{}", o.error_message);
    emu.add_fault(FaultRule::http_status(503).with_retry_after("2").with_times(1));
    let o = c.create(&req("ra-more"));
    assert_eq!((o.status, o.attempts, o.retry_after_ms), (GSMS_ERR_RETRIES_EXHAUSTED, 1, 2000), "{}", o.error_message);
}

#[test]
fn an_error_body_is_kept_as_text_with_nul_bytes_replaced() {
    use raw_server::{respond, After, RawServer};
    let srv = RawServer::start(|s, _| {
        let _ = respond(s, "409 Conflict", &[], b"{\"message\":\"busy\"}\0tail");
        After::Close
    });
    let c = client(&srv.url(), TOKEN, |_| {});
    let o = c.create(&req("error-body"));
    assert_eq!((o.status, o.http_status), (GSMS_ERR_HTTP_STATUS, 409));
    assert_eq!(
        o.raw_json, "{\"message\":\"busy\"}\u{FFFD}tail",
        "the body, a NUL made U+FFFD (a C string ends at NUL)"
    );
    assert!(o.error_message.contains("busy"), "{}", o.error_message);
}

#[test]
fn a_static_token_401_is_final_and_not_resent() {
    let emu = emulator(|c| c.revoked_tokens = vec!["XBL3.0 x=1;revoked".into()]);
    let c = client(&emu.base_url(), "XBL3.0 x=1;revoked", |_| {});
    let o = c.create(&req("static-401"));
    assert_eq!((o.status, o.http_status, o.attempts), (GSMS_ERR_UNAUTHORIZED, 401, 1));
    assert_eq!(emu.request_count(), 1);
}

#[test]
fn a_401_refresh_resend_is_not_a_retry() {
    // Budget of 2 attempts. On the wire: 401 (refresh and resend, not a retry), 503 (the first
    // retry), 200. Were the resend counted, the 503 would exhaust the budget.
    let emu = emulator(|_| {});
    emu.add_fault(FaultRule::http_status(401).with_times(1));
    emu.add_fault(FaultRule::http_status(503).with_retry_after("0").with_times(1));
    let p = Provider::new("XBL3.0 x=1;stale", "XBL3.0 x=1;fresh");
    let c = client(&emu.base_url(), TOKEN, |cfg| unsafe {
        cfg.set_retry_policy(2, 1, 5);
        cfg.set_token_provider(Some(provide), Arc::as_ptr(&p) as *mut c_void);
    });
    let o = c.create(&req("refresh"));
    assert_eq!(o.status, GSMS_OK, "{}: {}", o.status_name(), o.error_message);
    assert_eq!(o.attempts, 3, "every HTTP request is counted in attempts");
    let wire = posts_for(&emu, "refresh");
    let statuses: Vec<u16> = wire.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [401, 503, 200]);
    let auth: Vec<&str> = wire.iter().map(|r| r.header("authorization").unwrap_or("")).collect();
    assert_eq!(auth, ["XBL3.0 x=1;stale", "XBL3.0 x=1;fresh", "XBL3.0 x=1;fresh"]);
    assert_eq!(*p.calls.lock().unwrap(), [0, 1, 0], "force_refresh only right after the 401");

    // A second 401 after the refresh is final: two requests, no third.
    emu.add_fault(FaultRule::http_status(401).with_times(2));
    let o = c.create(&req("refresh-twice"));
    assert_eq!((o.status, o.attempts), (GSMS_ERR_UNAUTHORIZED, 2));
    assert_eq!(posts_for(&emu, "refresh-twice").len(), 2);
    drop(c);
}

// ---------------------------------------------------------------------------------------------
// Polling and the deadline
// ---------------------------------------------------------------------------------------------

/// An emulator whose title has one server, taken by a holder, answering Queued with a
/// `pollIntervalMilliseconds` of `poll_ms`.
fn busy_title(poll_ms: u32) -> (Emulator, Client) {
    let emu = emulator(|c| {
        c.servers_per_title = 1;
        c.poll_interval_ms = poll_ms;
    });
    let c = client(&emu.base_url(), TOKEN, |_| {});
    let o = c.create(&req("holder"));
    assert_eq!(o.state, GSMS_FULFILLMENT_FULFILLED);
    (emu, c)
}

#[test]
fn an_allocation_ends_at_once_when_its_next_poll_would_fall_after_the_deadline() {
    // Poll interval 10 s, deadline 2 s: the first answer is Queued and the next poll could only
    // come after the deadline, so the call ends now with TIMEOUT, not after sleeping 10 s.
    let (emu, c) = busy_title(10_000);
    let t = Instant::now();
    let o = c.allocate(&req("blocking-waiter"), 2000);
    let took = t.elapsed();
    assert_eq!(o.status, GSMS_ERR_TIMEOUT, "{}: {}", o.status_name(), o.error_message);
    assert_eq!((o.state, o.attempts, o.poll_interval_ms), (GSMS_FULFILLMENT_QUEUED, 1, 10_000));
    assert!(took < Duration::from_millis(1500), "returned before the deadline itself, not after a poll wait: {took:?}");
    assert_eq!(posts_for(&emu, "blocking-waiter").len(), 1);

    // The same through the async runtime (the next poll is a timer there).
    let rec = Recorder::new();
    let t = Instant::now();
    let op = c.allocate_async(&req("async-waiter"), 2000, Some(rec));
    let o = op.wait(Duration::from_secs(15)).expect("completes");
    let took = t.elapsed();
    assert_eq!((o.status, o.state, o.attempts), (GSMS_ERR_TIMEOUT, GSMS_FULFILLMENT_QUEUED, 1), "{}", o.error_message);
    assert!(took < Duration::from_millis(1500), "async: {took:?}");
    assert_eq!(posts_for(&emu, "async-waiter").len(), 1);
    assert!(wait_until(Duration::from_secs(2), || {
        c.dispatch(0);
        !rec.dones().is_empty()
    }));
    assert_eq!(rec.progress_count(), 1, "the Queued answer was reported before the call ended");
}

#[test]
fn an_allocation_keeps_polling_while_its_next_poll_falls_before_the_deadline() {
    let (emu, c) = busy_title(150);
    let emu = Arc::new(emu);
    let e2 = Arc::clone(&emu);
    let releaser = thread::spawn(move || {
        thread::sleep(Duration::from_millis(600));
        e2.release_all(TITLE);
    });
    let t = Instant::now();
    let o = c.allocate(&req("patient"), 10_000);
    releaser.join().unwrap();
    assert_eq!((o.status, o.state), (GSMS_OK, GSMS_FULFILLMENT_FULFILLED), "{}", o.error_message);
    assert!(o.attempts >= 3, "polled while Queued: {} attempts", o.attempts);
    assert_eq!(posts_for(&emu, "patient").len() as u32, o.attempts);
    assert!(t.elapsed() >= Duration::from_millis(600));
    // Polls are spaced by the interval (150 ms) at least, never a spin.
    assert!(o.attempts <= 6, "{} polls in {:?}", o.attempts, t.elapsed());
}

// ---------------------------------------------------------------------------------------------
// Cancel
// ---------------------------------------------------------------------------------------------

#[test]
fn cancel_stops_the_retries_and_backoff_of_the_call_in_flight() {
    // Every answer is 503 with Retry-After 3 s; one worker. After the first 503 the call waits
    // 3 s before retrying. Cancel must end that wait: no retry reaches the wire, and the worker
    // is free at once for the next call.
    let emu = emulator(|_| {});
    emu.add_fault(FaultRule::http_status(503).with_retry_after("3").with_times(1));
    let c = client(&emu.base_url(), TOKEN, |cfg| {
        cfg.set_retry_policy(10, 10, 5000).set_workers(1);
    });
    let first = c.create_async(&req("backing-off"), None);
    assert!(wait_until(Duration::from_secs(3), || emu.request_count() == 1), "first attempt sent");
    thread::sleep(Duration::from_millis(150)); // the 503 has been read: the worker is waiting
    let t0 = Instant::now();
    assert_eq!(first.cancel(), GSMS_OK);
    let o = first.take().expect("completed by cancel itself");
    assert_eq!(o.status, GSMS_ERR_CANCELLED);
    assert!(o.has_result && o.error_message.contains("cancel"), "the result says why: {:?}", o.error_message);
    let next = c.create_async(&req("next"), None);
    let o = next.wait(Duration::from_secs(10)).expect("the next call completes");
    assert_eq!(o.status, GSMS_OK, "{}", o.error_message);
    assert!(t0.elapsed() < Duration::from_millis(2000), "the worker was freed by cancel: {:?}", t0.elapsed());
    // Past the 3 s the cancelled call would have waited: still no retry of it.
    thread::sleep(Duration::from_millis(3300).saturating_sub(t0.elapsed()));
    assert_eq!(posts_for(&emu, "backing-off").len(), 1, "the cancelled call sent no retry");
}

#[test]
fn a_call_cancelled_while_its_request_is_answered_401_is_not_resent() {
    // The refresh-and-resend after a 401 is the one retry that does not wait first: a cancel
    // that arrived while the 401 was on its way must still stop it.
    let emu = emulator(|_| {});
    emu.add_fault(FaultRule::http_status(401).with_latency_ms(400).with_times(1));
    let p = Provider::new("XBL3.0 x=1;stale", "XBL3.0 x=1;fresh");
    let c = client(&emu.base_url(), TOKEN, |cfg| unsafe {
        cfg.set_token_provider(Some(provide), Arc::as_ptr(&p) as *mut c_void);
    });
    let op = c.create_async(&req("cancel-401"), None);
    assert!(wait_until(Duration::from_secs(3), || emu.request_count() == 1), "the first request is in flight");
    assert_eq!(op.cancel(), GSMS_OK);
    assert_eq!(op.take().map(|o| o.status), Some(GSMS_ERR_CANCELLED));
    thread::sleep(Duration::from_millis(800)); // the 401 arrives after 400 ms
    assert_eq!(posts_for(&emu, "cancel-401").len(), 1, "the refreshed resend went out after the cancel");
    assert_eq!(*p.calls.lock().unwrap(), [0], "no refresh was asked for either");
    drop(c);
}

#[test]
fn retry_after_is_waited_for_on_calls_through_the_c_abi() {
    // Blocking and async calls through the C ABI wait (interruptibly) before a retry: a 503 with
    // Retry-After 1 puts a second between the two requests.
    let emu = emulator(|_| {});
    let c = client(&emu.base_url(), TOKEN, |cfg| {
        cfg.set_retry_policy(3, 1, 5000);
    });
    emu.add_fault(FaultRule::http_status(503).with_retry_after("1").with_times(1));
    let t = Instant::now();
    let o = c.create(&req("ra-blocking"));
    let took = t.elapsed();
    assert_eq!((o.status, o.attempts), (GSMS_OK, 2), "{}", o.error_message);
    assert!(took >= Duration::from_millis(950), "blocking: retried after {took:?}, not the 1 s asked");
    emu.add_fault(FaultRule::http_status(503).with_retry_after("1").with_times(1));
    let t = Instant::now();
    let o = c.create_async(&req("ra-async"), None).wait(Duration::from_secs(10)).unwrap();
    let took = t.elapsed();
    assert_eq!((o.status, o.attempts), (GSMS_OK, 2), "{}", o.error_message);
    assert!(took >= Duration::from_millis(950), "async: retried after {took:?}");
    assert!(took < Duration::from_secs(4), "async: {took:?}");
}

#[test]
fn a_cancelled_queued_call_never_reaches_the_wire() {
    // One worker, held 400 ms by a slow answer; a second call waits in the queue and is
    // cancelled there. The test waits until the worker is free again (and longer), then checks
    // that the cancelled call was never sent.
    let emu = emulator(|_| {});
    emu.add_fault(FaultRule::latency(400).with_times(1));
    let c = client(&emu.base_url(), TOKEN, |cfg| {
        cfg.set_workers(1);
    });
    let rec = Recorder::new();
    let busy = c.create_async(&req("busy"), None);
    assert!(wait_until(Duration::from_secs(3), || emu.request_count() == 1));
    let queued = c.create_async(&req("queued"), Some(rec));
    assert_eq!(queued.cancel(), GSMS_OK);
    assert!(rec.dones().is_empty(), "never inside cancel");
    assert_eq!(c.dispatch(0), 1);
    assert_eq!(rec.dones()[0].status, GSMS_ERR_CANCELLED);
    assert_eq!(busy.wait(Duration::from_secs(5)).map(|o| o.status), Some(GSMS_OK));
    // The worker is free: a call started now is sent (so the queue is being served) ...
    let after = c.create_async(&req("after"), None);
    assert_eq!(after.wait(Duration::from_secs(5)).map(|o| o.status), Some(GSMS_OK));
    thread::sleep(Duration::from_millis(100));
    // ... and the cancelled one, queued before it, never was.
    assert_eq!(posts_for(&emu, "queued").len(), 0, "the cancelled call reached the wire");
    assert_eq!(posts_for(&emu, "busy").len() + posts_for(&emu, "after").len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Dispatch
// ---------------------------------------------------------------------------------------------

#[test]
fn dispatch_runs_at_most_max_callbacks() {
    let emu = emulator(|_| {});
    let c = client(&emu.base_url(), TOKEN, |_| {});
    let rec = Recorder::new();
    let ops: Vec<Op> = (0..4).map(|i| c.create_async(&req(&format!("d{i}")), Some(rec))).collect();
    for op in &ops {
        assert_eq!(op.wait(Duration::from_secs(5)).map(|o| o.status), Some(GSMS_OK));
    }
    assert!(rec.dones().is_empty(), "nothing runs outside dispatch");
    assert_eq!(c.dispatch(1), 1, "max 1");
    assert_eq!(rec.dones().len(), 1);
    assert_eq!(c.dispatch(2), 2, "max 2");
    assert_eq!(rec.dones().len(), 3);
    assert_eq!(c.dispatch(5), 1, "max above what is queued: what is queued");
    assert_eq!(rec.dones().len(), 4);
    assert_eq!(c.dispatch(0), 0);
    let me = thread::current().name().unwrap_or("").to_string();
    assert!(rec.dones().iter().all(|o| o.status == GSMS_OK && o.thread == me), "on the dispatching thread");

    // 0 means all that are queued now.
    let more: Vec<Op> = (0..3).map(|i| c.create_async(&req(&format!("e{i}")), Some(rec))).collect();
    for op in &more {
        op.wait(Duration::from_secs(5)).unwrap();
    }
    assert_eq!(c.dispatch(0), 3);
    assert_eq!(rec.dones().len(), 7);
}

#[test]
fn dispatch_counts_only_the_callbacks_it_ran() {
    // An allocation with a completion callback but no progress callback polls while Queued, then
    // is cancelled: one callback exists, so dispatch runs and counts exactly one.
    let (emu, c) = busy_title(100);
    let rec = Recorder::new();
    let op = c.allocate_async_with(&req("no-progress"), 0, Some(rec), false);
    assert!(wait_until(Duration::from_secs(5), || posts_for(&emu, "no-progress").len() >= 3), "polled while Queued");
    assert_eq!(op.cancel(), GSMS_OK);
    assert_eq!(op.take().map(|o| o.status), Some(GSMS_ERR_CANCELLED));
    thread::sleep(Duration::from_millis(150)); // a poll answer arriving after the cancel changes nothing
    assert_eq!(c.dispatch(0), 1, "one completion, no progress callback to count");
    assert_eq!(c.dispatch(0), 0);
    assert_eq!(rec.dones().len(), 1);
    assert_eq!(rec.progress_count(), 0);
}

#[test]
fn dispatch_does_not_count_progress_that_a_cancel_dropped() {
    // Three Queued answers queue three progress events; then the call is cancelled. Dispatch runs
    // the first progress callback and the completion; the other two progress events no longer
    // have a callback (the cancel completed the operation): gsms_client_dispatch returns 2, not 4
    // (it counted them before the fix).
    let (emu, c) = busy_title(100);
    let rec = Recorder::new();
    let op = c.allocate_async(&req("with-progress"), 0, Some(rec));
    assert!(wait_until(Duration::from_secs(5), || posts_for(&emu, "with-progress").len() >= 3));
    assert_eq!(op.cancel(), GSMS_OK);
    thread::sleep(Duration::from_millis(150));
    let mut ran = 0;
    loop {
        let n = c.dispatch(0);
        if n == 0 {
            break;
        }
        ran += n;
    }
    assert_eq!(ran as usize, rec.progress_count() + rec.dones().len(), "{:?}", rec.events.lock().unwrap());
    assert_eq!(rec.dones().len(), 1);
    assert!(rec.progress_count() >= 1);
    // No progress after the completion.
    assert!(matches!(rec.events.lock().unwrap().last(), Some(Event::Done(_))));
}

#[test]
fn dispatch_runs_nothing_in_on_worker_mode() {
    // In ON_WORKER mode completions run on the library's callback thread; a game that still calls
    // dispatch every frame must not run any of them (it returns 0), however the race goes.
    let emu = emulator(|c| c.servers_per_title = 1000);
    let c = client(&emu.base_url(), TOKEN, |cfg| {
        cfg.set_mode(GSMS_CALLBACKS_ON_WORKER).set_workers(4);
    });
    let rec = Recorder::new();
    let ops: Vec<Op> = (0..300).map(|i| c.create_async(&req(&format!("w{i}")), Some(rec))).collect();
    let me = thread::current().name().unwrap_or("").to_string();
    let end = Instant::now() + Duration::from_secs(30);
    while rec.dones().len() < ops.len() && Instant::now() < end {
        assert_eq!(c.dispatch(0), 0, "dispatch ran a callback in ON_WORKER mode");
    }
    let dones = rec.dones();
    assert_eq!(dones.len(), ops.len());
    assert!(dones.iter().all(|o| o.status == GSMS_OK && o.thread != me), "a completion ran on the dispatching thread");
}

/// `user_data` of `slow_done`: how long the first callback sleeps, and where each one ran.
struct SlowDone {
    first_sleep: Duration,
    seen: std::sync::Mutex<Vec<String>>,
}

unsafe extern "C" fn slow_done(ud: *mut c_void, _: gsms_status, _: *const gsms_cluster_result) {
    let s = unsafe { &*(ud as *const SlowDone) };
    let first = s.seen.lock().unwrap().is_empty();
    if first {
        thread::sleep(s.first_sleep);
    }
    s.seen.lock().unwrap().push(thread::current().name().unwrap_or("").to_string());
}

#[test]
fn a_free_on_another_thread_during_dispatch_runs_the_rest_on_the_freeing_thread() {
    // Ten completions are queued. Dispatch starts the first, which takes 400 ms; meanwhile another
    // thread frees the client. Free waits for that callback, then runs the nine others itself, on
    // its own thread (the contract), and dispatch returns after the one it ran.
    let emu = emulator(|_| {});
    let c = client(&emu.base_url(), TOKEN, |_| {});
    let state: &'static SlowDone =
        Box::leak(Box::new(SlowDone { first_sleep: Duration::from_millis(400), seen: Default::default() }));
    let ud = state as *const SlowDone as *mut c_void;
    let r = req("free-during-dispatch");
    for _ in 0..10 {
        let mut op = std::ptr::null_mut();
        assert_eq!(unsafe { gsms_client_create_cluster_async(c.0, r.0, Some(slow_done), ud, &mut op) }, GSMS_OK);
        let op = Op(op);
        assert!(op.wait(Duration::from_secs(5)).is_some());
    }
    let raw = std::mem::ManuallyDrop::new(c); // freed by the other thread below
    let handle = Client(raw.0);
    let freer = thread::Builder::new()
        .name("freer".into())
        .spawn(move || {
            thread::sleep(Duration::from_millis(100));
            handle.free();
        })
        .unwrap();
    let ran = unsafe { gsms_client_dispatch(raw.0, 0) };
    freer.join().unwrap();
    let seen = state.seen.lock().unwrap().clone();
    let me = thread::current().name().unwrap_or("").to_string();
    assert_eq!(seen.len(), 10, "{seen:?}");
    assert_eq!(seen[0], me, "the first ran in dispatch");
    assert!(seen[1..].iter().all(|t| t == "freer"), "the rest ran in free, on its thread: {seen:?}");
    assert_eq!(ran, 1);
}

#[test]
fn calls_still_running_at_free_complete_with_shutdown_and_say_why() {
    let emu = emulator(|_| {});
    emu.add_fault(FaultRule::latency(3000));
    let c = client(&emu.base_url(), TOKEN, |_| {});
    let ops: Vec<Op> = (0..3).map(|i| c.create_async(&req(&format!("at-free-{i}")), None)).collect();
    assert!(wait_until(Duration::from_secs(3), || emu.request_count() >= 2));
    c.free();
    for op in &ops {
        let o = op.take().expect("completed by free");
        assert_eq!(o.status, GSMS_ERR_SHUTDOWN);
        assert!(o.has_result, "a result with the reason");
        assert!(o.error_message.contains("freed"), "the reason says the client was freed: {:?}", o.error_message);
    }
}

/// `user_data` of `slow_log`: the thread that must not be slowed, and whether a call is inside.
struct SlowLog {
    fast_thread: String,
    inside: std::sync::atomic::AtomicBool,
    calls_after_free: std::sync::atomic::AtomicU32,
    freed: std::sync::atomic::AtomicBool,
}

unsafe extern "C" fn slow_log(ud: *mut c_void, _: u32, _: *const std::ffi::c_char) {
    use std::sync::atomic::Ordering::SeqCst;
    let s = unsafe { &*(ud as *const SlowLog) };
    if s.freed.load(SeqCst) {
        s.calls_after_free.fetch_add(1, SeqCst);
    }
    if thread::current().name().unwrap_or("") != s.fast_thread {
        s.inside.store(true, SeqCst);
        thread::sleep(Duration::from_millis(300));
        s.inside.store(false, SeqCst);
    }
}

#[test]
fn free_waits_for_a_log_callback_running_on_another_thread() {
    // "Neither is called again once gsms_client_free has returned": a log callback that is
    // running on a library thread when free is called has returned when free returns. The freeing
    // thread ran log callbacks itself before (its blocking call logged), which must not confuse
    // free's count of hook calls in progress.
    use std::sync::atomic::Ordering::SeqCst;
    let emu = emulator(|_| {});
    let me = thread::current().name().unwrap_or("").to_string();
    let state: &'static SlowLog = Box::leak(Box::new(SlowLog {
        fast_thread: me,
        inside: Default::default(),
        calls_after_free: Default::default(),
        freed: Default::default(),
    }));
    let c = client(&emu.base_url(), TOKEN, |cfg| unsafe {
        let ud = state as *const SlowLog as *mut c_void;
        assert_eq!(gsms_config_set_log_callback(cfg.0, Some(slow_log), ud, GSMS_LOG_TRACE), GSMS_OK);
    });
    for i in 0..3 {
        assert_eq!(c.create(&req(&format!("log-blocking-{i}"))).status, GSMS_OK);
        // logs on this thread
    }
    let _op = c.create_async(&req("log-async"), None);
    assert!(wait_until(Duration::from_secs(3), || state.inside.load(SeqCst)), "a worker is inside the log callback");
    c.free();
    state.freed.store(true, SeqCst);
    assert!(!state.inside.load(SeqCst), "gsms_client_free returned while a log callback was still running");
    thread::sleep(Duration::from_millis(500));
    assert_eq!(state.calls_after_free.load(SeqCst), 0, "the log callback was called after free returned");
}

// ---------------------------------------------------------------------------------------------
// Warmup
// ---------------------------------------------------------------------------------------------

fn heads(emu: &Emulator) -> usize {
    emu.requests().iter().filter(|r| r.method == "HEAD").count()
}

#[test]
fn warmup_runs_again_once_the_previous_one_has_finished() {
    let emu = emulator(|_| {});
    let c = client(&emu.base_url(), TOKEN, |_| {});
    assert_eq!(c.warmup(), GSMS_OK);
    assert!(wait_until(Duration::from_secs(3), || heads(&emu) == 1), "first warmup sent its HEAD");
    // Matchmaking starts again later: another warmup must run (one at a time, not once ever).
    let again = wait_until(Duration::from_secs(3), || {
        assert_eq!(c.warmup(), GSMS_OK);
        thread::sleep(Duration::from_millis(20));
        heads(&emu) >= 2
    });
    assert!(again, "a later warmup never ran");
    // A burst while one runs does not pile up.
    thread::sleep(Duration::from_millis(200));
    let before = heads(&emu);
    for _ in 0..200 {
        assert_eq!(c.warmup(), GSMS_OK);
    }
    thread::sleep(Duration::from_millis(300));
    let burst = heads(&emu) - before;
    assert!((1..=5).contains(&burst), "200 warmups in a burst sent {burst} HEADs");
}

// ---------------------------------------------------------------------------------------------
// gsms_last_error_message: "" after every GSMS_OK
// ---------------------------------------------------------------------------------------------

/// Makes the thread's last error non-empty (a refused argument).
fn dirty() {
    assert_eq!(unsafe { gsms_config_set_base_url(std::ptr::null_mut(), std::ptr::null()) }, GSMS_ERR_INVALID_ARGUMENT);
    assert!(!last_error().is_empty());
}

/// Runs `f` (which must return GSMS_OK) after dirtying the last error, and checks it is "" after.
fn clears(what: &str, f: impl FnOnce() -> gsms_status) {
    dirty();
    let st = f();
    assert_eq!(st, GSMS_OK, "{what}: {}", last_error());
    assert_eq!(last_error(), "", "{what} returned GSMS_OK but left the last error set");
}

unsafe extern "C" fn sink_provider(ud: *mut c_void, _: u32, sink: *mut gsms_token_sink) -> gsms_status {
    dirty();
    let st = unsafe { gsms_token_sink_set(sink, c"XBL3.0 x=1;sink".as_ptr()) };
    let cleared = last_error().is_empty();
    unsafe { *(ud as *mut (gsms_status, bool)) = (st, cleared) };
    st
}

#[test]
fn every_function_returning_gsms_ok_clears_the_last_error() {
    let emu = emulator(|_| {});
    let url = cstr(&emu.base_url());
    let tok = cstr(TOKEN);
    let mut sink_seen: (gsms_status, bool) = (99, false);
    unsafe {
        let cfg = gsms_config_new();
        clears("config_set_base_url", || gsms_config_set_base_url(cfg, url.as_ptr()));
        clears("config_set_user_agent", || gsms_config_set_user_agent(cfg, c"ua/1".as_ptr()));
        clears("config_set_timeouts", || gsms_config_set_timeouts(cfg, 2000, 3000));
        clears("config_set_retry_policy", || gsms_config_set_retry_policy(cfg, 2, 1, 5));
        clears("config_set_xbl_token", || gsms_config_set_xbl_token(cfg, c"1".as_ptr(), c"t".as_ptr()));
        clears("config_set_auth_token", || gsms_config_set_auth_token(cfg, tok.as_ptr()));
        clears("config_set_log_callback", || {
            gsms_config_set_log_callback(cfg, Some(quiet_log), std::ptr::null_mut(), 1)
        });
        clears("config_set_callback_mode", || gsms_config_set_callback_mode(cfg, GSMS_CALLBACKS_ON_DISPATCH));
        clears("config_set_worker_threads", || gsms_config_set_worker_threads(cfg, 1));
        let mut c = std::ptr::null_mut();
        clears("client_new", || gsms_client_new(cfg, &mut c));
        // A second client, with a token provider that checks gsms_token_sink_set.
        let ud = &mut sink_seen as *mut (gsms_status, bool) as *mut c_void;
        clears("config_set_token_provider", || gsms_config_set_token_provider(cfg, Some(sink_provider), ud));
        let mut pc = std::ptr::null_mut();
        assert_eq!(gsms_client_new(cfg, &mut pc), GSMS_OK);
        gsms_config_free(cfg);

        let req = gsms_cluster_request_new(TITLE);
        clears("cluster_request_set_session", || {
            gsms_cluster_request_set_session(req, c"scid".as_ptr(), c"quick".as_ptr(), c"last-error".as_ptr())
        });
        clears("cluster_request_set_session_id", || {
            gsms_cluster_request_set_session_id(req, cstr(&session("le")).as_ptr())
        });
        clears("cluster_request_set_abort_if_queued", || gsms_cluster_request_set_abort_if_queued(req, 0));
        clears("client_set_auth_token", || gsms_client_set_auth_token(c, tok.as_ptr()));
        clears("client_warmup", || gsms_client_warmup(c));
        let mut r = std::ptr::null_mut();
        clears("client_create_cluster", || gsms_client_create_cluster(c, req, &mut r));
        clears("cluster_result_status", || gsms_cluster_result_status(r));
        clears("cluster_result_port", || {
            gsms_cluster_result_port(r, 0, std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut())
        });
        gsms_cluster_result_free(r);
        clears("client_allocate_cluster", || gsms_client_allocate_cluster(c, req, 5000, std::ptr::null_mut()));
        let mut op = std::ptr::null_mut();
        clears("client_create_cluster_async", || {
            gsms_client_create_cluster_async(c, req, None, std::ptr::null_mut(), &mut op)
        });
        let mut op2 = std::ptr::null_mut();
        clears("client_allocate_cluster_async", || {
            gsms_client_allocate_cluster_async(c, req, 0, None, None, std::ptr::null_mut(), &mut op2)
        });
        assert!(
            wait_until(Duration::from_secs(5), || gsms_operation_take_result(op, std::ptr::null_mut()) != GSMS_PENDING)
        );
        clears("operation_take_result", || gsms_operation_take_result(op, std::ptr::null_mut()));
        clears("operation_cancel (after completion)", || gsms_operation_cancel(op));
        clears("operation_cancel (in flight or done)", || gsms_operation_cancel(op2));
        gsms_operation_free(op);
        gsms_operation_free(op2);
        clears("client_create_cluster with a token provider", || {
            gsms_client_create_cluster(pc, req, std::ptr::null_mut())
        });
        gsms_cluster_request_free(req);
        gsms_client_free(c);
        gsms_client_free(pc);
    }
    assert_eq!(sink_seen, (GSMS_OK, true), "gsms_token_sink_set returned OK and cleared the last error");
}

// ---------------------------------------------------------------------------------------------
// TLS: no configuration a caller can make accepts an unverified certificate
// ---------------------------------------------------------------------------------------------

unsafe extern "C" fn quiet_log(_: *mut c_void, _: u32, _: *const std::ffi::c_char) {}

unsafe extern "C" fn static_provider(_: *mut c_void, _: u32, sink: *mut gsms_token_sink) -> gsms_status {
    unsafe { gsms_token_sink_set(sink, c"XBL3.0 x=1;provided".as_ptr()) }
}

#[test]
fn no_configuration_of_the_c_abi_accepts_an_unverified_certificate() {
    // The behavioural proof behind tests/security.rs's source and header scan: every config
    // setter of gsms.h, in both callback modes, blocking and async, with no CA bundle or with
    // another CA's: the emulator's certificate is refused and no request reaches it. With the
    // right CA the same client works (so the refusals are about the certificate).
    let (tls, ca_pem) = gsms_emulator::generate_test_tls();
    let (_, other_pem) = gsms_emulator::generate_test_tls();
    let dir = std::env::temp_dir().join(format!("gsms-wire-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (good, other) = (dir.join("good.pem"), dir.join("other.pem"));
    std::fs::write(&good, &ca_pem).unwrap();
    std::fs::write(&other, &other_pem).unwrap();
    let emu = emulator(|c| c.tls = Some(tls));
    let url = emu.base_url();
    assert!(url.starts_with("https://"), "{url}");
    let make = |mode: u32, ca: Option<&std::path::Path>, every_knob: bool| {
        client(&url, TOKEN, |cfg| unsafe {
            cfg.set_mode(mode);
            if let Some(ca) = ca {
                let p = cstr(ca.to_str().unwrap());
                assert_eq!(gsms_config_set_ca_bundle_path(cfg.0, p.as_ptr()), GSMS_OK, "{}", last_error());
            }
            if every_knob {
                assert_eq!(gsms_config_set_user_agent(cfg.0, c"insecure-please/1.0".as_ptr()), GSMS_OK);
                assert_eq!(gsms_config_set_xbl_token(cfg.0, c"1".as_ptr(), c"t".as_ptr()), GSMS_OK);
                cfg.set_timeouts(60_000, 60_000).set_retry_policy(10, 0, 0).set_workers(64);
                cfg.set_token_provider(Some(static_provider), std::ptr::null_mut());
                let st = gsms_config_set_log_callback(cfg.0, Some(quiet_log), std::ptr::null_mut(), GSMS_LOG_TRACE);
                assert_eq!(st, GSMS_OK);
            }
        })
    };
    for mode in [GSMS_CALLBACKS_ON_DISPATCH, GSMS_CALLBACKS_ON_WORKER] {
        for ca in [None, Some(other.as_path())] {
            for every_knob in [false, true] {
                let c = make(mode, ca, every_knob);
                let what = format!("mode {mode}, CA {ca:?}, every knob {every_knob}");
                let o = c.create(&req("tls"));
                assert_eq!((o.status, o.http_status), (GSMS_ERR_NETWORK, 0), "{what}: {}", o.error_message);
                assert_eq!(o.attempts, 1, "{what}: a certificate failure is final");
                let o = c.allocate_async(&req("tls-async"), 0, None).wait(Duration::from_secs(10)).unwrap();
                assert_eq!(o.status, GSMS_ERR_NETWORK, "{what} (async): {}", o.error_message);
            }
        }
    }
    assert_eq!(emu.request_count(), 0, "no request reached the server over an unverified connection");
    let o = make(GSMS_CALLBACKS_ON_DISPATCH, Some(&good), true).create(&req("tls-ok"));
    assert_eq!((o.status, o.state), (GSMS_OK, GSMS_FULFILLMENT_FULFILLED), "the control case: {}", o.error_message);
    assert_eq!(emu.request_count(), 1);
}

#[test]
fn a_ca_bundle_of_16_mib_is_read_and_one_byte_more_is_refused() {
    let (_, ca_pem) = gsms_emulator::generate_test_tls();
    let dir = std::env::temp_dir().join(format!("gsms-wire-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    const CAP: usize = 16 * 1024 * 1024;
    let mut bundle = Vec::with_capacity(CAP + 1);
    while bundle.len() + ca_pem.len() + 1 < CAP {
        bundle.extend_from_slice(&ca_pem);
        bundle.push(b'\n');
    }
    bundle.resize(CAP, b'\n');
    let path = dir.join("big.pem");
    unsafe {
        let cfg = gsms_config_new();
        std::fs::write(&path, &bundle).unwrap();
        let p = cstr(path.to_str().unwrap());
        assert_eq!(gsms_config_set_ca_bundle_path(cfg, p.as_ptr()), GSMS_OK, "16 MiB exactly: {}", last_error());
        bundle.push(b'\n');
        std::fs::write(&path, &bundle).unwrap();
        assert_eq!(gsms_config_set_ca_bundle_path(cfg, p.as_ptr()), GSMS_ERR_INVALID_ARGUMENT);
        assert!(last_error().contains("16777216"), "the reason names the cap: {}", last_error());
        gsms_config_free(cfg);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `user_data` of `level_log`: the levels delivered.
unsafe extern "C" fn level_log(ud: *mut c_void, level: u32, _: *const std::ffi::c_char) {
    let seen = unsafe { &*(ud as *const std::sync::Mutex<Vec<u32>>) };
    seen.lock().unwrap().push(level);
}

#[test]
fn each_log_level_delivers_itself_and_the_levels_above_it_only() {
    // Two calls log at every level from ERROR to DEBUG: 503 twice (a retry, INFO; the budget of
    // 2 spent, WARN; each attempt, DEBUG), then a 404 (ERROR). min_level k delivers exactly the
    // levels <= k.
    let emu = emulator(|_| {});
    unsafe {
        let cfg = gsms_config_new();
        for bad in [0, 6, u32::MAX] {
            assert_eq!(
                gsms_config_set_log_callback(cfg, Some(level_log), std::ptr::null_mut(), bad),
                GSMS_ERR_INVALID_ARGUMENT
            );
        }
        gsms_config_free(cfg);
    }
    let mut all = Vec::new();
    for k in 1..=5u32 {
        let seen: &'static std::sync::Mutex<Vec<u32>> = Box::leak(Box::default());
        let c = client(&emu.base_url(), TOKEN, |cfg| unsafe {
            let ud = seen as *const _ as *mut c_void;
            assert_eq!(gsms_config_set_log_callback(cfg.0, Some(level_log), ud, k), GSMS_OK, "level {k}");
            cfg.set_retry_policy(2, 1, 5);
        });
        emu.add_fault(FaultRule::http_status(503).with_retry_after("0").with_times(2));
        assert_eq!(c.create(&req(&format!("levels-{k}"))).status, GSMS_ERR_RETRIES_EXHAUSTED);
        emu.add_fault(FaultRule::http_status(404).with_times(1));
        assert_eq!(c.create(&req(&format!("levels-{k}"))).status, GSMS_ERR_HTTP_STATUS);
        drop(c);
        let got: std::collections::BTreeSet<u32> = seen.lock().unwrap().iter().copied().collect();
        assert!(got.iter().all(|&l| l <= k), "min_level {k} delivered {got:?}");
        assert!(got.contains(&k.min(4)), "min_level {k}: a line at level {} was expected, got {got:?}", k.min(4));
        all.push(got);
    }
    assert!(
        all.windows(2).all(|w| w[0].is_subset(&w[1])),
        "each level delivers at least what the one below does: {all:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// The 1 MiB body cap, at its edge
// ---------------------------------------------------------------------------------------------

const FULFILLED: &str = r#"{"pollIntervalMilliseconds":"1000","fulfillmentState":"Fulfilled","hostName":"10.0.0.7","region":"WestUS","portMappings":[{"Key":"GameData","Value":{"internal":7777,"external":31000}}]}"#;

#[test]
fn a_2xx_body_of_exactly_1_mib_is_read_and_one_byte_more_is_a_protocol_error() {
    use raw_server::{respond, After, RawServer};
    const MIB: usize = 1024 * 1024;
    for (len, want) in [(MIB, GSMS_OK), (MIB + 1, GSMS_ERR_PROTOCOL)] {
        // The fulfilled answer, padded with JSON whitespace to `len` bytes.
        let mut body = FULFILLED.as_bytes().to_vec();
        body.resize(len, b' ');
        let srv = RawServer::start(move |s, _| {
            let _ = respond(s, "200 OK", &[], &body);
            After::Close
        });
        let c = client(&srv.url(), TOKEN, |cfg| {
            cfg.set_retry_policy(1, 1, 1);
        });
        let o = c.create(&req("cap"));
        assert_eq!(o.status, want, "{len} bytes: {} {}", o.status_name(), o.error_message);
        if want == GSMS_OK {
            assert_eq!((o.state, o.host_name.as_str()), (GSMS_FULFILLMENT_FULFILLED, "10.0.0.7"));
        } else {
            assert!(o.error_message.contains("1048576"), "the message names the cap: {}", o.error_message);
            assert_eq!(o.host_name, "", "nothing of the oversized answer is kept");
        }
        assert_eq!(srv.requests(), 1, "{len} bytes: not retried");
    }
}

// ---------------------------------------------------------------------------------------------
// The declarations used here are the header's
// ---------------------------------------------------------------------------------------------

/// `name arity` for every function prototype in C-ish text (comments stripped).
fn prototypes(text: &str, rust: bool) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut rest = text;
    let key = if rust { "pub fn gsms_" } else { "gsms_" };
    while let Some(i) = rest.find(key) {
        let s = &rest[i + key.len() - "gsms_".len()..];
        let name_end = s.find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_')).unwrap_or(s.len());
        let name = &s[..name_end];
        let after = s[name_end..].trim_start();
        rest = &s[name_end..];
        if !after.starts_with('(') {
            continue;
        }
        let Some(close) = after.find(')') else { break };
        let params = after[1..close].trim();
        // A prototype ends with ';' after its parameter list (C) or `;`/`->` (Rust).
        let tail = after[close + 1..].trim_start();
        if !(tail.starts_with(';') || (rust && tail.starts_with("->"))) {
            continue;
        }
        let n = if params.is_empty() || params == "void" {
            0
        } else {
            params.split(',').filter(|p| !p.trim().is_empty()).count()
        };
        out.push((name.to_string(), n));
    }
    out
}

#[test]
fn the_declarations_these_tests_use_match_include_gsms_h() {
    let root = env!("CARGO_MANIFEST_DIR");
    let header = std::fs::read_to_string(format!("{root}/include/gsms.h")).unwrap();
    let header: String = header.lines().filter(|l| !l.trim_start().starts_with('*')).collect::<Vec<_>>().join("\n");
    let c = prototypes(&header, false);
    let ours = prototypes(&std::fs::read_to_string(format!("{root}/tests/support/capi.rs")).unwrap(), true);
    assert!(ours.len() > 40, "{ours:?}");
    for (name, n) in &ours {
        let want = c.iter().find(|(cn, _)| cn == name).unwrap_or_else(|| panic!("{name} is not in include/gsms.h"));
        assert_eq!(want.1, *n, "{name}: {n} parameters here, {} in gsms.h", want.1);
    }
}
