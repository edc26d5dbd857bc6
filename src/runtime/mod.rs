//! Worker threads, operations and completion delivery (ARCHITECTURE.md "Threads and callbacks").
//!
//! - A fixed pool of worker threads per client runs the blocking core calls. No thread per request.
//!   The pool starts with the client's first asynchronous call (a blocking-only client has none).
//! - Every accepted operation completes exactly once: by its worker, by `cancel`, or by shutdown,
//!   whichever comes first; later outcomes are discarded. A blocking read cannot be interrupted,
//!   so cancel and shutdown do not wait for it.
//! - Completions and progress are *events*. In `OnDispatch` mode they wait in a queue drained by
//!   `dispatch` on the caller's thread; in `OnWorker` mode a per-client callback thread runs them,
//!   so a stuck request never delays a callback and callbacks of one client never run concurrently.
//! - Whoever runs callbacks holds the client's `deliver` lock; `shutdown` takes it too, so it waits
//!   for a running callback, then runs every outstanding completion on its own thread.
//!
//! Lock order: `OpInner::slot` -> `Shared::events`; `Shared::live` is never held with another lock
//! except `slot` (inside `complete`). No lock is held while user code runs.

use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle, ThreadId};
use std::time::{Duration, Instant};

use crate::core::{
    CallOptions, CallbackMode, CancelToken, Client as CoreClient, ClusterRequest, ClusterResult, Config,
    InvalidArgument, Status, Step,
};

/// Completion callback: status and, when anything is known, the result (borrowed for the call).
pub type DoneFn = Box<dyn FnOnce(Status, Option<&Arc<ClusterResult>>) + Send>;
/// Progress callback: a Queued answer.
pub type ProgressFn = Box<dyn FnMut(&Arc<ClusterResult>) + Send>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Create,
    Allocate,
}

struct Slot {
    done: bool,
    status: Status,
    result: Option<Arc<ClusterResult>>,
    on_done: Option<DoneFn>,
    on_progress: Option<ProgressFn>,
}

/// One asynchronous call. Shared by its job, the client's live table, events and the caller's handle.
pub struct OpInner {
    id: u64,
    cancel: CancelToken,
    slot: Mutex<Slot>,
    shared: std::sync::Weak<Shared>,
}

enum Event {
    Progress(Arc<OpInner>, Arc<ClusterResult>),
    Done(Arc<OpInner>),
}

struct Job {
    op: Arc<OpInner>,
    kind: Kind,
    req: ClusterRequest,
    deadline: Option<Instant>,
    /// What an allocation has learnt so far (attempts accumulate across polls).
    result: ClusterResult,
}

/// A job waiting for its time (an allocation's next poll), ordered by due time.
struct Delayed {
    due: Instant,
    seq: u64,
    job: Job,
}

impl PartialEq for Delayed {
    fn eq(&self, o: &Self) -> bool {
        (self.due, self.seq) == (o.due, o.seq)
    }
}
impl Eq for Delayed {}
impl PartialOrd for Delayed {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Delayed {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        // Reversed: BinaryHeap is a max-heap and the earliest due must come first.
        (o.due, o.seq).cmp(&(self.due, self.seq))
    }
}

struct Jobs {
    queue: VecDeque<Job>,
    /// Polls waiting for their interval: they hold no worker while they wait.
    delayed: std::collections::BinaryHeap<Delayed>,
    seq: u64,
    stop: bool,
}

struct Events {
    queue: VecDeque<Event>,
    stop: bool,
}

struct Shared {
    core: CoreClient,
    mode: CallbackMode,
    jobs: Mutex<Jobs>,
    jobs_cv: Condvar,
    events: Mutex<Events>,
    events_cv: Condvar,
    /// Operations not yet completed, and the shutdown flag (checked under the same lock).
    live: Mutex<(HashMap<u64, Arc<OpInner>>, bool)>,
    shutting_down: AtomicBool,
    /// Cancels blocking calls and sleeping workers at shutdown.
    shutdown_token: CancelToken,
    /// Held while callbacks run.
    deliver: Mutex<()>,
    /// A warmup is running.
    warming: AtomicBool,
    /// Set by a `shutdown` called from inside one of this client's callbacks.
    free_requested: AtomicBool,
    shutdown_done: AtomicBool,
    /// What a deferred free hands over (the caller's handle), dropped once the callback returns.
    deferred_drop: Mutex<Vec<Box<dyn Send>>>,
    next_id: AtomicU64,
    busy_workers: AtomicUsize,
    live_workers: Mutex<usize>,
    workers_cv: Condvar,
}

thread_local! {
    /// The client whose callback this thread is running (null when none).
    static IN_CALLBACK: Cell<*const Shared> = const { Cell::new(std::ptr::null()) };
}

/// An async-capable client: a core client plus its threads and queues.
pub struct Client {
    shared: Arc<Shared>,
    /// How many worker threads to start (on the first asynchronous call).
    worker_threads: u32,
    threads_started: AtomicBool,
    threads: Mutex<Vec<JoinHandle<()>>>,
    callback_thread: Mutex<Option<(ThreadId, JoinHandle<()>)>>,
}

/// A handle to an operation (what `gsms_operation` wraps).
#[derive(Clone)]
pub struct Operation {
    op: Arc<OpInner>,
}

impl Client {
    pub fn new(cfg: &Config) -> Result<Client, InvalidArgument> {
        let core = CoreClient::new(cfg)?;
        let shared = Arc::new(Shared {
            core,
            mode: cfg.callback_mode,
            jobs: Mutex::new(Jobs { queue: VecDeque::new(), delayed: Default::default(), seq: 0, stop: false }),
            jobs_cv: Condvar::new(),
            events: Mutex::new(Events { queue: VecDeque::new(), stop: false }),
            events_cv: Condvar::new(),
            live: Mutex::new((HashMap::new(), false)),
            shutting_down: AtomicBool::new(false),
            shutdown_token: CancelToken::new(),
            deliver: Mutex::new(()),
            warming: AtomicBool::new(false),
            free_requested: AtomicBool::new(false),
            shutdown_done: AtomicBool::new(false),
            deferred_drop: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
            busy_workers: AtomicUsize::new(0),
            live_workers: Mutex::new(0),
            workers_cv: Condvar::new(),
        });
        Ok(Client {
            shared,
            worker_threads: cfg.worker_threads,
            threads_started: AtomicBool::new(false),
            threads: Mutex::new(Vec::new()),
            callback_thread: Mutex::new(None),
        })
    }

    /// Starts the worker threads (and the callback thread in `OnWorker` mode) on the first
    /// asynchronous call, so that a client used only for blocking calls never starts any: creating
    /// and freeing one then costs no thread start and join (BENCHMARKS.md, cold calls).
    fn ensure_threads(&self) -> Result<(), Status> {
        if self.threads_started.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut threads = lock(&self.threads);
        if self.threads_started.load(Ordering::Acquire) {
            return Ok(());
        }
        let s = &self.shared;
        for i in threads.len() as u32..self.worker_threads {
            let sh = Arc::clone(s);
            *lock(&s.live_workers) += 1;
            match thread::Builder::new().name(format!("gsms-worker-{i}")).spawn(move || worker_loop(sh)) {
                Ok(h) => threads.push(h),
                Err(_) => {
                    *lock(&s.live_workers) -= 1;
                    return Err(Status::Internal);
                }
            }
        }
        if s.mode == CallbackMode::OnWorker {
            let mut cb = lock(&self.callback_thread);
            if cb.is_none() {
                let sh = Arc::clone(s);
                match thread::Builder::new().name("gsms-callbacks".into()).spawn(move || callback_loop(sh)) {
                    Ok(h) => *cb = Some((h.thread().id(), h)),
                    Err(_) => return Err(Status::Internal),
                }
            }
        }
        self.threads_started.store(true, Ordering::Release);
        Ok(())
    }

    pub fn core(&self) -> &CoreClient {
        &self.shared.core
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shared.shutting_down.load(Ordering::Acquire)
    }

    /// A blocking call on the caller's thread; ends with `Shutdown` if the client is freed meanwhile.
    pub fn call_blocking(&self, kind: Kind, req: &ClusterRequest, deadline: Option<Instant>) -> ClusterResult {
        if self.is_shutting_down() {
            return shutdown_result();
        }
        let mut opts = CallOptions { deadline, cancel: Some(&self.shared.shutdown_token), on_progress: None };
        let mut r = match kind {
            Kind::Create => self.shared.core.create_cluster(req, &mut opts),
            Kind::Allocate => self.shared.core.allocate_cluster(req, &mut opts),
        };
        if r.status == Status::Cancelled {
            r.status = Status::Shutdown;
            r.error_message = "the client was freed during the call".into();
        }
        finish_deferred_free(&self.shared);
        r
    }

    /// Starts an operation. Never blocks on the network; never runs a callback.
    pub fn start(
        &self,
        kind: Kind,
        req: ClusterRequest,
        deadline: Option<Instant>,
        on_progress: Option<ProgressFn>,
        on_done: Option<DoneFn>,
    ) -> Result<Operation, Status> {
        let s = &self.shared;
        if s.shutting_down.load(Ordering::Acquire) {
            return Err(Status::Shutdown);
        }
        self.ensure_threads()?;
        let op = Arc::new(OpInner {
            id: s.next_id.fetch_add(1, Ordering::Relaxed),
            cancel: CancelToken::new(),
            slot: Mutex::new(Slot { done: false, status: Status::Ok, result: None, on_done, on_progress }),
            shared: Arc::downgrade(s),
        });
        {
            let mut live = lock(&s.live);
            if live.1 {
                return Err(Status::Shutdown);
            }
            live.0.insert(op.id, Arc::clone(&op));
        }
        lock(&s.jobs).queue.push_back(Job {
            op: Arc::clone(&op),
            kind,
            req,
            deadline,
            result: ClusterResult::default(),
        });
        s.jobs_cv.notify_one();
        Ok(Operation { op })
    }

    /// Opens a connection in the background (on a worker).
    pub fn warmup(&self) -> Result<(), Status> {
        if self.is_shutting_down() {
            return Err(Status::Shutdown);
        }
        // A game calls warmup when matchmaking starts: start the worker threads now too, so the
        // first async call does not pay for them on its frame.
        self.ensure_threads()?;
        // One warmup at a time: a game calling it every frame must not pile up threads.
        if self.shared.warming.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let s = Arc::clone(&self.shared);
        // A warmup is a job without an operation: run it on a short-lived detached thread so it
        // never occupies a worker that a real call might need.
        thread::Builder::new()
            .name("gsms-warmup".into())
            .spawn(move || {
                s.core.warmup();
                s.warming.store(false, Ordering::Release);
                finish_deferred_free(&s);
            })
            .map(|_| ())
            .map_err(|_| {
                self.shared.warming.store(false, Ordering::Release);
                Status::Internal
            })
    }

    /// Runs queued completions and progress on this thread (`OnDispatch` mode). Returns how many ran.
    /// Returns 0 at once when another thread is dispatching or when called from a callback.
    pub fn dispatch(&self, max: u32) -> u32 {
        let s = &self.shared;
        if s.mode != CallbackMode::OnDispatch || s.shutting_down.load(Ordering::Acquire) {
            return 0;
        }
        let Ok(_guard) = s.deliver.try_lock() else { return 0 };
        let budget = if max == 0 { lock(&s.events).queue.len() } else { max as usize };
        let mut ran = 0u32;
        while (ran as usize) < budget {
            // Once free has begun on another thread, what is left runs there (the contract).
            if s.shutting_down.load(Ordering::Acquire) && !s.free_requested.load(Ordering::Acquire) {
                break;
            }
            let Some(ev) = lock(&s.events).queue.pop_front() else { break };
            run_event(s, ev);
            ran += 1;
            if s.free_requested.load(Ordering::Acquire) {
                // The callback freed the client: what is left runs now, and counts.
                ran = ran.saturating_add(u32::try_from(shutdown_locked(s)).unwrap_or(u32::MAX));
                break;
            }
        }
        drop(_guard);
        release_deferred(s);
        ran
    }

    /// Frees the client's machinery: see `gsms_client_free`. Returns true when done. Called
    /// from inside one of this client's callbacks or hooks (log sink, token provider), it only
    /// marks the client and returns false, waiting for nothing; whoever runs that callback or hook
    /// finishes the job once it has returned (`finish_deferred_free`, see `defer_drop`).
    pub fn shutdown(&self) -> bool {
        let s = &self.shared;
        if inside_own_callback(s) {
            mark_shutting_down(s);
            s.free_requested.store(true, Ordering::Release);
            return false;
        }
        mark_shutting_down(s);
        {
            let _g = lock(&s.deliver);
            shutdown_locked(s);
        }
        if let Some((_, h)) = lock(&self.callback_thread).take() {
            if h.thread().id() != thread::current().id() {
                let _ = h.join();
            }
        }
        // Idle workers exit at once: wait (briefly) for them so they can be joined. Workers stuck
        // in a request are not waited for: they own an Arc and exit when their request ends.
        let deadline = Instant::now() + Duration::from_millis(50);
        let mut n = lock(&s.live_workers);
        while *n > s.busy_workers.load(Ordering::Acquire) {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            n = s.workers_cv.wait_timeout(n, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
        let all_exited = *n == 0;
        drop(n);
        for h in lock(&self.threads).drain(..) {
            if all_exited || h.is_finished() {
                let _ = h.join();
            } // else: detached; it exits by itself when its request ends
        }
        true
    }

    /// After a deferred `shutdown`: keeps `what` (the caller's handle) alive until the running
    /// callback has returned, then drops it on the runner's thread.
    pub fn defer_drop(&self, what: Box<dyn Send>) {
        lock(&self.shared.deferred_drop).push(what);
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if !self.shared.shutdown_done.load(Ordering::Acquire) {
            self.shutdown();
        }
    }
}

fn shutdown_result() -> ClusterResult {
    ClusterResult { status: Status::Shutdown, error_message: "the client is being freed".into(), ..Default::default() }
}

/// True when this thread is running one of `s`'s completion or progress callbacks, or is inside
/// its log sink or token provider.
fn inside_own_callback(s: &Arc<Shared>) -> bool {
    IN_CALLBACK.with(|c| c.get()) == Arc::as_ptr(s) || s.core.in_hook_on_this_thread()
}

/// After a free deferred from inside a callback or hook on this thread's call: once that call is
/// over (and this thread is no longer inside any of the client's callbacks), finish the shutdown
/// here: run the outstanding completions, stop the callback thread, release the handle.
fn finish_deferred_free(s: &Arc<Shared>) {
    if !s.free_requested.load(Ordering::Acquire) || s.shutdown_done.load(Ordering::Acquire) || inside_own_callback(s) {
        return;
    }
    {
        let _g = lock(&s.deliver);
        shutdown_locked(s);
    }
    release_deferred(s);
}

/// Stops new work and completes every unfinished operation with `Shutdown` (queued, not run).
fn mark_shutting_down(s: &Arc<Shared>) {
    s.shutting_down.store(true, Ordering::Release);
    let ops: Vec<Arc<OpInner>> = {
        let mut live = lock(&s.live);
        live.1 = true;
        live.0.values().cloned().collect()
    };
    for op in ops {
        complete(&op, shutdown_result());
        op.cancel.cancel();
    }
    s.shutdown_token.cancel();
    {
        let mut j = lock(&s.jobs);
        j.stop = true;
        j.queue.clear();
        j.delayed.clear();
    }
    s.jobs_cv.notify_all();
    // Last, once every call has been told to stop (so an interrupted request reads as cancelled,
    // not as a network error to retry): no user hook runs after this, requests in flight are
    // interrupted.
    s.core.close();
}

/// With the deliver lock held (or on the thread that holds it): runs every queued event, then
/// stops the callback thread. Returns how many callbacks ran.
fn shutdown_locked(s: &Arc<Shared>) -> usize {
    if s.shutdown_done.swap(true, Ordering::AcqRel) {
        return 0;
    }
    mark_shutting_down(s);
    let mut ran = 0;
    loop {
        let Some(ev) = lock(&s.events).queue.pop_front() else { break };
        run_event(s, ev);
        ran += 1;
    }
    let mut ev = lock(&s.events);
    ev.stop = true;
    drop(ev);
    s.events_cv.notify_all();
    ran
}

/// Completes `op` once. Returns false when it was already complete (the outcome is discarded).
fn complete(op: &Arc<OpInner>, result: ClusterResult) -> bool {
    let Some(s) = op.shared.upgrade() else { return false };
    {
        let mut slot = lock(&op.slot);
        if slot.done {
            return false;
        }
        slot.done = true;
        slot.status = result.status;
        slot.result = Some(Arc::new(result));
        // Pushed under the slot lock so no progress event can follow the completion.
        if slot.on_done.is_some() || slot.on_progress.is_some() {
            lock(&s.events).queue.push_back(Event::Done(Arc::clone(op)));
        }
    }
    s.events_cv.notify_one();
    lock(&s.live).0.remove(&op.id);
    true
}

fn progress(op: &Arc<OpInner>, queued: &ClusterResult) {
    let Some(s) = op.shared.upgrade() else { return };
    {
        let slot = lock(&op.slot);
        if slot.done || slot.on_progress.is_none() {
            return;
        }
        lock(&s.events).queue.push_back(Event::Progress(Arc::clone(op), Arc::new(queued.clone())));
    }
    s.events_cv.notify_one();
}

/// Runs one event's user callback with no lock held but `deliver`.
fn run_event(s: &Arc<Shared>, ev: Event) {
    let prev = IN_CALLBACK.with(|c| c.replace(Arc::as_ptr(s)));
    match ev {
        Event::Progress(op, r) => {
            let cb = lock(&op.slot).on_progress.take();
            if let Some(mut cb) = cb {
                let _ = catch_unwind(AssertUnwindSafe(|| cb(&r)));
                let mut slot = lock(&op.slot);
                if !slot.done {
                    slot.on_progress = Some(cb);
                }
            }
        }
        Event::Done(op) => {
            let (cb, status, result) = {
                let mut slot = lock(&op.slot);
                slot.on_progress = None;
                (slot.on_done.take(), slot.status, slot.result.clone())
            };
            if let Some(cb) = cb {
                let _ = catch_unwind(AssertUnwindSafe(|| cb(status, result.as_ref())));
            }
        }
    }
    IN_CALLBACK.with(|c| c.set(prev));
}

fn next_job(s: &Shared) -> Option<Job> {
    let mut j = lock(&s.jobs);
    loop {
        if j.stop {
            return None;
        }
        let now = Instant::now();
        while j.delayed.peek().is_some_and(|d| d.due <= now) {
            let d = j.delayed.pop().expect("peeked");
            j.queue.push_back(d.job);
        }
        if let Some(job) = j.queue.pop_front() {
            return Some(job);
        }
        j = match j.delayed.peek().map(|d| d.due) {
            Some(due) => {
                s.jobs_cv.wait_timeout(j, due.saturating_duration_since(now)).unwrap_or_else(|e| e.into_inner()).0
            }
            None => s.jobs_cv.wait(j).unwrap_or_else(|e| e.into_inner()),
        };
    }
}

fn worker_loop(s: Arc<Shared>) {
    while let Some(mut job) = next_job(&s) {
        if lock(&job.op.slot).done {
            continue; // cancelled before it started (or before its next poll)
        }
        s.busy_workers.fetch_add(1, Ordering::Relaxed);
        let op = Arc::clone(&job.op);
        let run = catch_unwind(AssertUnwindSafe(|| {
            let mut on_progress = |r: &ClusterResult| progress(&op, r);
            let mut opts =
                CallOptions { deadline: job.deadline, cancel: Some(&op.cancel), on_progress: Some(&mut on_progress) };
            match job.kind {
                Kind::Create => {
                    job.result = s.core.create_cluster(&job.req, &mut opts);
                    Step::Done
                }
                Kind::Allocate => s.core.allocate_step(&job.req, &mut opts, &mut job.result),
            }
        }));
        s.busy_workers.fetch_sub(1, Ordering::Relaxed);
        match run {
            Ok(Step::PollAfter(wait)) => {
                let mut j = lock(&s.jobs);
                if !j.stop {
                    j.seq += 1;
                    let seq = j.seq;
                    j.delayed.push(Delayed { due: Instant::now() + wait, seq, job });
                    drop(j);
                    // Another worker may be waiting for an earlier time: let it re-check.
                    s.jobs_cv.notify_one();
                }
            }
            Ok(Step::Done) => {
                let result = std::mem::take(&mut job.result);
                complete(&job.op, result);
            }
            Err(_) => {
                complete(
                    &job.op,
                    ClusterResult {
                        status: Status::Internal,
                        error_message: "internal error: a panic was caught in a worker".into(),
                        ..Default::default()
                    },
                );
            }
        }
        // A hook of this job (token provider, log sink) may have freed the client.
        finish_deferred_free(&s);
    }
    let mut n = lock(&s.live_workers);
    *n -= 1;
    drop(n);
    s.workers_cv.notify_all();
}

fn callback_loop(s: Arc<Shared>) {
    loop {
        {
            let mut ev = lock(&s.events);
            while ev.queue.is_empty() && !ev.stop {
                ev = s.events_cv.wait(ev).unwrap_or_else(|e| e.into_inner());
            }
            if ev.stop {
                return;
            }
        }
        let _g = lock(&s.deliver);
        // Once shutdown has begun, the thread calling free runs what is left (on its own thread,
        // as the contract says); this thread only finishes the callback it had started.
        if s.shutting_down.load(Ordering::Acquire) {
            return;
        }
        let Some(ev) = lock(&s.events).queue.pop_front() else { continue };
        run_event(&s, ev);
        if s.free_requested.load(Ordering::Acquire) {
            shutdown_locked(&s);
            drop(_g);
            release_deferred(&s);
            return;
        }
    }
}

/// Drops what a deferred free handed over; no lock of ours is held while it drops.
fn release_deferred(s: &Shared) {
    let v = std::mem::take(&mut *lock(&s.deferred_drop));
    drop(v);
}

impl Operation {
    /// Completes the operation with `Cancelled` now (delivered later, never inside this call).
    /// A no-op once it has completed.
    pub fn cancel(&self) {
        let partial = ClusterResult {
            status: Status::Cancelled,
            error_message: "cancelled by the caller".into(),
            ..Default::default()
        };
        complete(&self.op, partial);
        self.op.cancel.cancel();
    }

    /// `None` while running; then the final status and result.
    pub fn take_result(&self) -> Option<(Status, Option<Arc<ClusterResult>>)> {
        let slot = lock(&self.op.slot);
        slot.done.then(|| (slot.status, slot.result.clone()))
    }
}
