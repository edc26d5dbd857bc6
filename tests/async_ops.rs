//! The async runtime against the emulator: callback threads, progress, cancel, poll, shutdown,
//! re-entrancy, and a stress run with exactly-once completion.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use gsms::runtime::{Client as RtClient, DoneFn, ProgressFn};

type Log = Arc<Mutex<Vec<(Status, Option<FulfillmentState>, String)>>>;

fn done_into(log: &Log) -> DoneFn<ClusterResult> {
    let log = Arc::clone(log);
    Box::new(move |s, r| {
        let name = thread::current().name().unwrap_or("").to_string();
        log.lock().unwrap().push((s, r.map(|r| r.fulfillment_state), name));
    })
}

fn rt(emu: &Emulator, mode: CallbackMode, f: impl FnOnce(&mut Config)) -> RtClient {
    let mut cfg = config(emu);
    cfg.callback_mode = mode;
    f(&mut cfg);
    RtClient::new(&cfg).unwrap()
}

#[test]
fn on_dispatch_completions_run_only_inside_dispatch_on_its_thread() {
    let emu = emulator(|_| {});
    let c = rt(&emu, CallbackMode::OnDispatch, |_| {});
    let log: Log = Default::default();
    let op = c.start(CreateCluster::new(&request("d")), None, None, Some(done_into(&log))).unwrap();
    assert!(wait_until(Duration::from_secs(3), || op.take_result().is_some()));
    thread::sleep(Duration::from_millis(20));
    assert!(log.lock().unwrap().is_empty(), "nothing runs before dispatch");
    let me = thread::current().name().unwrap_or("").to_string();
    assert_eq!(c.dispatch(0), 1);
    assert_eq!(c.dispatch(0), 0);
    let l = log.lock().unwrap();
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].0, Status::Ok);
    assert_eq!(l[0].1, Some(FulfillmentState::Fulfilled));
    assert_eq!(l[0].2, me, "ran on the dispatching thread");
}

#[test]
fn on_worker_completions_run_on_a_library_thread() {
    let emu = emulator(|_| {});
    let c = rt(&emu, CallbackMode::OnWorker, |_| {});
    let log: Log = Default::default();
    c.start(CreateCluster::new(&request("w")), None, None, Some(done_into(&log))).unwrap();
    assert!(wait_until(Duration::from_secs(3), || log.lock().unwrap().len() == 1));
    assert_eq!(log.lock().unwrap()[0].2, "gsms-callbacks");
    assert_eq!(c.dispatch(0), 0, "dispatch has nothing to do in worker mode");
}

#[test]
fn progress_then_completion_in_order() {
    let emu = Arc::new(emulator(|c| c.servers_per_title = 1));
    let c = rt(&emu, CallbackMode::OnDispatch, |_| {});
    let blocking = Client::new(&config(&emu)).unwrap();
    create(&blocking, &request("holder"));
    let events = Arc::new(Mutex::new(Vec::<String>::new()));
    let e1 = Arc::clone(&events);
    let progress: ProgressFn<ClusterResult> =
        Box::new(move |r| e1.lock().unwrap().push(format!("progress {:?}", r.fulfillment_state)));
    let e2 = Arc::clone(&events);
    let done: DoneFn<ClusterResult> =
        Box::new(move |s, r| e2.lock().unwrap().push(format!("done {s:?} {:?}", r.map(|r| r.fulfillment_state))));
    c.start(AllocateCluster::new(&request("waiter")), None, Some(progress), Some(done)).unwrap();
    let emu2 = Arc::clone(&emu);
    let releaser = thread::spawn(move || {
        thread::sleep(Duration::from_millis(350));
        emu2.release_all(TITLE);
    });
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end && !events.lock().unwrap().iter().any(|e| e.starts_with("done")) {
        c.dispatch(0);
        thread::sleep(Duration::from_millis(5));
    }
    releaser.join().unwrap();
    let ev = events.lock().unwrap();
    assert!(ev.len() >= 3, "{ev:?}");
    let (last, rest) = ev.split_last().unwrap();
    assert_eq!(last, "done Ok Some(Fulfilled)");
    assert!(rest.iter().all(|e| e == "progress Queued"), "{ev:?}");
}

#[test]
fn cancel_delivers_without_waiting_for_a_stuck_request_and_is_a_no_op_after() {
    let emu = emulator(|_| {});
    emu.add_fault(FaultRule::latency(5000));
    let c = rt(&emu, CallbackMode::OnWorker, |cfg| cfg.set_timeouts(1000, 10_000).unwrap());
    let log: Log = Default::default();
    let op = c.start(CreateCluster::new(&request("stuck")), None, None, Some(done_into(&log))).unwrap();
    assert!(wait_until(Duration::from_secs(2), || emu.request_count() == 1), "request in flight");
    let t = Instant::now();
    op.cancel();
    // What this checks: cancel does not wait for the 5 s stuck request (a 1 s bound, for a loaded
    // CI machine). The contract figure, 100 ms, is checked by scripts/bench.sh, which fails when
    // it is missed (benches/summarize.py, "contract:" targets).
    assert!(wait_until(Duration::from_millis(1000), || log.lock().unwrap().len() == 1), "completion without waiting");
    let took = t.elapsed();
    assert!(took < Duration::from_millis(1000), "{took:?}");
    assert_eq!(log.lock().unwrap()[0].0, Status::Cancelled);
    op.cancel(); // no-op
    assert_eq!(op.take_result().unwrap().0, Status::Cancelled);
    thread::sleep(Duration::from_millis(50));
    assert_eq!(log.lock().unwrap().len(), 1, "exactly once");
}

#[test]
fn cancel_of_a_queued_call_completes_at_the_next_dispatch() {
    let emu = emulator(|_| {});
    emu.add_fault(FaultRule::latency(3000));
    let c = rt(&emu, CallbackMode::OnDispatch, |cfg| cfg.set_worker_threads(1).unwrap());
    let log: Log = Default::default();
    let _busy = c.start(CreateCluster::new(&request("busy")), None, None, Some(done_into(&log))).unwrap();
    let queued = c.start(CreateCluster::new(&request("queued")), None, None, Some(done_into(&log))).unwrap();
    queued.cancel();
    assert!(log.lock().unwrap().is_empty(), "never inside cancel");
    assert_eq!(c.dispatch(0), 1);
    assert_eq!(log.lock().unwrap()[0].0, Status::Cancelled);
    // That the cancelled call never reaches the wire is checked, once the worker is free again,
    // by tests/wire_contract.rs (a_cancelled_queued_call_never_reaches_the_wire).
}

#[test]
fn poll_api_without_callbacks() {
    let emu = emulator(|_| {});
    // The answer takes 100 ms, so the call is surely still running at the first take (without
    // it, a thread descheduled after `start` on a loaded machine saw the call already done).
    emu.add_fault(FaultRule::latency(100).with_times(1));
    let c = rt(&emu, CallbackMode::OnDispatch, |_| {});
    let op = c.start(AllocateCluster::new(&request("poll")), None, None, None).unwrap();
    let mut pending = 0;
    let (status, result) = loop {
        match op.take_result() {
            None => {
                pending += 1;
                thread::sleep(Duration::from_millis(1));
            }
            Some(v) => break v,
        }
    };
    assert!(pending > 0);
    assert_eq!(status, Status::Ok);
    assert_eq!(result.unwrap().fulfillment_state, FulfillmentState::Fulfilled);
    assert_eq!(op.take_result().unwrap().0, Status::Ok, "again: same status");
    assert_eq!(c.dispatch(0), 0, "no callbacks to run");
}

#[test]
fn shutdown_with_stuck_and_queued_operations_completes_each_once_without_waiting_for_them() {
    let emu = emulator(|_| {});
    emu.add_fault(FaultRule::latency(5000));
    for mode in [CallbackMode::OnDispatch, CallbackMode::OnWorker] {
        let c = rt(&emu, mode, |cfg| cfg.set_timeouts(1000, 10_000).unwrap());
        let log: Log = Default::default();
        for i in 0..6 {
            c.start(AllocateCluster::new(&request(&format!("s{i}"))), None, None, Some(done_into(&log))).unwrap();
        }
        thread::sleep(Duration::from_millis(100));
        let me = thread::current().name().unwrap_or("").to_string();
        let t = Instant::now();
        c.shutdown();
        let took = t.elapsed();
        // What this checks: free does not wait for the 5 s stuck requests (a 1 s bound, for a
        // loaded CI machine). The contract figure, 250 ms, is checked by scripts/bench.sh, which
        // fails when it is missed.
        assert!(took < Duration::from_millis(1000), "{mode:?}: {took:?}");
        let l = log.lock().unwrap();
        assert_eq!(l.len(), 6, "{mode:?}");
        assert!(l.iter().all(|(s, _, th)| *s == Status::Shutdown && *th == me), "{mode:?}: {l:?}");
        assert_eq!(
            c.start(CreateCluster::new(&request("late")), None, None, Some(done_into(&log))).err(),
            Some(Status::Shutdown)
        );
        assert_eq!(c.call_blocking(CreateCluster::new(&request("late")), None).status, Status::Shutdown);
    }
}

#[test]
fn finished_but_undispatched_operations_keep_their_real_outcome_at_shutdown() {
    let emu = emulator(|_| {});
    let c = rt(&emu, CallbackMode::OnDispatch, |_| {});
    let log: Log = Default::default();
    let op = c.start(CreateCluster::new(&request("f")), None, None, Some(done_into(&log))).unwrap();
    assert!(wait_until(Duration::from_secs(3), || op.take_result().is_some()));
    c.shutdown();
    assert_eq!(log.lock().unwrap()[0].0, Status::Ok);
}

#[test]
fn callbacks_may_reenter_the_library() {
    let emu = emulator(|_| {});
    let c = Arc::new(rt(&emu, CallbackMode::OnDispatch, |_| {}));
    let inner_done = Arc::new(AtomicU32::new(0));
    let (c2, d2) = (Arc::clone(&c), Arc::clone(&inner_done));
    let nested_dispatch = Arc::new(AtomicU32::new(99));
    let nd = Arc::clone(&nested_dispatch);
    let done: DoneFn<ClusterResult> = Box::new(move |_, _| {
        nd.store(c2.dispatch(0), Ordering::SeqCst);
        let d3 = Arc::clone(&d2);
        let op = c2
            .start(
                CreateCluster::new(&request("inner")),
                None,
                None,
                Some(Box::new(move |s, _| {
                    assert_eq!(s, Status::Ok);
                    d3.fetch_add(1, Ordering::SeqCst);
                })),
            )
            .unwrap();
        let _ = op.take_result();
    });
    c.start(CreateCluster::new(&request("outer")), None, None, Some(done)).unwrap();
    let end = Instant::now() + Duration::from_secs(5);
    while inner_done.load(Ordering::SeqCst) == 0 && Instant::now() < end {
        c.dispatch(0);
        thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(inner_done.load(Ordering::SeqCst), 1);
    assert_eq!(nested_dispatch.load(Ordering::SeqCst), 0, "dispatch inside a callback returns 0");
}

#[test]
fn shutdown_from_inside_a_callback_is_deferred_not_deadlocked() {
    let emu = emulator(|_| {});
    for mode in [CallbackMode::OnWorker, CallbackMode::OnDispatch] {
        emu.add_fault(FaultRule::latency(2000).with_times(1));
        let c = Arc::new(rt(&emu, mode, |cfg| cfg.set_timeouts(1000, 10_000).unwrap()));
        let log: Log = Default::default();
        // One slow operation that will be completed by the deferred shutdown.
        c.start(CreateCluster::new(&request("slow")), None, None, Some(done_into(&log))).unwrap();
        thread::sleep(Duration::from_millis(50));
        let c2 = Arc::clone(&c);
        let log2 = Arc::clone(&log);
        let done: DoneFn<ClusterResult> = Box::new(move |s, _| {
            log2.lock().unwrap().push((s, None, "freer".into()));
            c2.shutdown(); // returns at once
        });
        c.start(CreateCluster::new(&request("fast")), None, None, Some(done)).unwrap();
        let end = Instant::now() + Duration::from_secs(5);
        while log.lock().unwrap().len() < 2 && Instant::now() < end {
            c.dispatch(0);
            thread::sleep(Duration::from_millis(2));
        }
        let l = log.lock().unwrap();
        assert_eq!(l.len(), 2, "{mode:?}: {l:?}");
        assert_eq!(l[0].2, "freer");
        assert_eq!(l[1].0, Status::Shutdown);
        assert!(c.is_shutting_down());
    }
}

/// A token provider that frees its client while armed (a hook freeing the client).
struct FreeingProvider {
    client: std::sync::OnceLock<std::sync::Weak<RtClient>>,
    armed: std::sync::atomic::AtomicBool,
    /// What the free inside the hook returned (false: deferred, true: done there and then).
    returned: Mutex<Option<bool>>,
}

impl gsms::core::TokenProvider for FreeingProvider {
    fn token(&self, _: bool) -> Result<String, String> {
        if self.armed.swap(false, Ordering::SeqCst) {
            if let Some(c) = self.client.get().and_then(std::sync::Weak::upgrade) {
                *self.returned.lock().unwrap() = Some(c.shutdown()); // inside a hook: deferred
            }
        }
        Ok("XBL3.0 x=u;t".into())
    }
}

#[test]
fn a_free_by_the_token_provider_of_a_blocking_call_only_defers_and_the_call_ends_shut_down() {
    // Not inside a callback, only inside a hook: the free must still only defer (the C layer
    // would otherwise release the handle under the call that is running the hook).
    let emu = emulator(|_| {});
    let p = Arc::new(FreeingProvider {
        client: Default::default(),
        armed: Default::default(),
        returned: Default::default(),
    });
    let p_cfg: Arc<dyn gsms::core::TokenProvider> = p.clone();
    let c = Arc::new(rt(&emu, CallbackMode::OnWorker, move |cfg| cfg.token_provider = Some(p_cfg)));
    p.client.set(Arc::downgrade(&c)).unwrap();
    p.armed.store(true, Ordering::SeqCst);
    let r = c.call_blocking(CreateCluster::new(&request("freed-by-its-provider")), None);
    assert_eq!(*p.returned.lock().unwrap(), Some(false), "a free inside the token provider did not defer");
    assert_eq!(r.status, Status::Shutdown, "{}", r.error_message);
    assert!(c.is_shutting_down());
    assert!(emu.requests().is_empty(), "the freed client sent {:?}", emu.requests());
}

#[test]
fn a_free_by_a_hook_of_a_blocking_call_inside_a_callback_finishes_after_the_callback_returns() {
    let emu = emulator(|_| {});
    let p = Arc::new(FreeingProvider {
        client: Default::default(),
        armed: Default::default(),
        returned: Default::default(),
    });
    let p_cfg: Arc<dyn gsms::core::TokenProvider> = p.clone();
    let c = Arc::new(rt(&emu, CallbackMode::OnDispatch, move |cfg| cfg.token_provider = Some(p_cfg)));
    p.client.set(Arc::downgrade(&c)).unwrap();
    let log: Log = Default::default();
    let (c2, p2, log2) = (Arc::clone(&c), Arc::clone(&p), Arc::clone(&log));
    let done: DoneFn<ClusterResult> = Box::new(move |_, _| {
        p2.armed.store(true, Ordering::SeqCst);
        let r = c2.call_blocking(CreateCluster::new(&request("inner")), None);
        // Still inside this callback: the free must wait for it to return (finishing it here
        // would run the outstanding completions under the dispatch that is running this one).
        log2.lock().unwrap().push((r.status, None, format!("inner; shutting down {}", c2.is_shutting_down())));
    });
    c.start(CreateCluster::new(&request("outer")), None, None, Some(done)).unwrap();
    // Dispatch on another thread, so that a dispatch that never returns fails the test.
    let (tx, rx) = std::sync::mpsc::channel();
    let (c3, log3) = (Arc::clone(&c), Arc::clone(&log));
    thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs(5);
        while log3.lock().unwrap().is_empty() && Instant::now() < end {
            c3.dispatch(0);
            thread::sleep(Duration::from_millis(2));
        }
        tx.send(()).unwrap();
    });
    assert!(rx.recv_timeout(Duration::from_secs(20)).is_ok(), "the dispatch running the callback never returned");
    let l = log.lock().unwrap();
    assert_eq!(l.len(), 1, "{l:?}");
    assert_eq!(l[0].2, "inner; shutting down true");
    assert!(c.is_shutting_down());
}

#[test]
fn stress_thousands_of_operations_complete_exactly_once() {
    let emu = emulator(|c| {
        c.servers_per_title = 4000; // more than the operations: every one is fulfilled at once
    });
    emu.add_fault(FaultRule::http_status(503).with_retry_after("0").with_probability(0.05));
    let clients: Vec<Arc<RtClient>> = [CallbackMode::OnWorker, CallbackMode::OnDispatch]
        .into_iter()
        .map(|m| Arc::new(rt(&emu, m, |cfg| cfg.set_worker_threads(4).unwrap())))
        .collect();
    let counts = Arc::new(Mutex::new(HashMap::<u64, u32>::new()));
    let started = Arc::new(AtomicUsize::new(0));
    let per_thread = 750;
    let mut handles = Vec::new();
    for t in 0..4 {
        let c = Arc::clone(&clients[t % 2]);
        let counts = Arc::clone(&counts);
        let started = Arc::clone(&started);
        handles.push(thread::spawn(move || {
            let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ t as u64;
            for i in 0..per_thread {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let key = ((t as u64) << 32) | i as u64;
                let counts2 = Arc::clone(&counts);
                let done: DoneFn<ClusterResult> = Box::new(move |_, _| {
                    *counts2.lock().unwrap().entry(key).or_insert(0) += 1;
                });
                let op = c.start(CreateCluster::new(&request(&format!("st{t}-{i}"))), None, None, Some(done)).unwrap();
                started.fetch_add(1, Ordering::SeqCst);
                if seed % 5 == 0 {
                    op.cancel();
                }
                if t % 2 == 1 && i % 16 == 0 {
                    c.dispatch(0);
                }
            }
        }));
    }
    for h in handles {
        h.join().unwrap();
    }
    let total = started.load(Ordering::SeqCst);
    let end = Instant::now() + Duration::from_secs(60);
    while counts.lock().unwrap().len() < total && Instant::now() < end {
        clients[1].dispatch(0);
        thread::sleep(Duration::from_millis(5));
    }
    for c in &clients {
        c.shutdown();
    }
    let counts = counts.lock().unwrap();
    assert_eq!(counts.len(), total, "every operation completed");
    assert!(counts.values().all(|&n| n == 1), "exactly once");
}

#[test]
fn no_log_or_token_provider_call_after_shutdown_returns() {
    struct Provider(Arc<AtomicU32>);
    impl gsms::core::TokenProvider for Provider {
        fn token(&self, _: bool) -> Result<String, String> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(TOKEN.into())
        }
    }
    let emu = emulator(|_| {});
    emu.add_fault(FaultRule::latency(800));
    let logs = Arc::new(AtomicU32::new(0));
    let provided = Arc::new(AtomicU32::new(0));
    let c = rt(&emu, CallbackMode::OnDispatch, |cfg| {
        let l = Arc::clone(&logs);
        cfg.log = Some((
            Arc::new(move |_, _| {
                l.fetch_add(1, Ordering::SeqCst);
            }),
            LogLevel::Trace,
        ));
        cfg.token_provider = Some(Arc::new(Provider(Arc::clone(&provided))));
        cfg.set_timeouts(1000, 5000).unwrap();
    });
    // A 503 first, so the abandoned worker would log a retry and ask for a token again later.
    emu.add_fault(FaultRule::http_status(503).with_retry_after("0").with_times(3));
    c.start(CreateCluster::new(&request("late-hooks")), None, None, None).unwrap();
    thread::sleep(Duration::from_millis(200));
    c.shutdown();
    let (l0, p0) = (logs.load(Ordering::SeqCst), provided.load(Ordering::SeqCst));
    thread::sleep(Duration::from_millis(2000));
    assert_eq!(logs.load(Ordering::SeqCst), l0, "log sink called after free returned");
    assert_eq!(provided.load(Ordering::SeqCst), p0, "token provider called after free returned");
}

#[test]
fn warmup_opens_a_pooled_connection_and_does_not_pile_up() {
    let emu = emulator(|_| {});
    let c = rt(&emu, CallbackMode::OnDispatch, |_| {});
    for _ in 0..100 {
        c.warmup().unwrap();
    }
    thread::sleep(Duration::from_millis(300));
    // 100 calls in a burst: one warmup runs (two or three if one finished during the burst).
    let warmups = emu.request_count();
    assert!((1..=3).contains(&warmups), "warmup HEADs sent: {warmups}");
    let conns = emu.connections_accepted();
    let r = c.call_blocking(CreateCluster::new(&request("after-warmup")), None);
    assert_eq!(r.status, Status::Ok);
    assert_eq!(emu.connections_accepted(), conns, "the call reused the warmed connection");
}
