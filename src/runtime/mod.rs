//! Worker threads, operations and completion delivery (docs/ARCHITECTURE.md, "Threads").
//!
//! - A fixed pool of worker threads per client runs the calls' exchanges (`pool`). No thread per
//!   request. The pool starts with the client's first asynchronous call (a blocking-only client has
//!   none). A call that waits for its next poll waits in a due-time queue, not on a worker.
//! - Every accepted operation completes exactly once: by its worker, by `cancel`, or by shutdown,
//!   whichever comes first; later outcomes are discarded (`delivery`).
//! - Completions and progress are events, delivered by `dispatch` or by a callback thread.
//! - Shutdown is one state machine (`life`).
//!
//! Nothing here names a call of the service: a job is a boxed core `Call` (`task`), its result an
//! `Arc<dyn Any>` that the typed API below (and the C layer) downcasts.

mod delivery;
mod life;
mod pool;
mod task;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle, ThreadId};
use std::time::{Duration, Instant};

use crate::core::call::{self, Call};
use crate::core::{
    CallOptions, CallbackMode, CancelToken, Client as CoreClient, Config, HasInfo, InvalidArgument, Status,
};
use delivery::{AnyDone, AnyProgress, Events, OpInner, Slot};
use life::{Life, LifeCell};
use pool::{Job, Jobs};
pub use task::AnyResult;

/// Completion callback: the final status and, when anything is known, the result (borrowed).
pub type DoneFn<T> = Box<dyn FnOnce(Status, Option<&Arc<T>>) + Send>;
/// Progress callback: the result so far, each time a following call waits for its next poll.
pub type ProgressFn<T> = Box<dyn FnMut(&Arc<T>) + Send>;

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// What a client's threads share.
pub(crate) struct Shared {
    core: CoreClient,
    mode: CallbackMode,
    life: LifeCell,
    /// Cancelled when the client stops running: wakes blocking calls and sleeping workers.
    shutdown_token: CancelToken,
    jobs: Mutex<Jobs>,
    jobs_cv: Condvar,
    events: Mutex<Events>,
    events_cv: Condvar,
    /// Operations not yet completed.
    live: Mutex<HashMap<u64, Arc<OpInner>>>,
    /// Held while callbacks run.
    deliver: Mutex<()>,
    /// A warmup is running.
    warming: AtomicBool,
    /// What a deferred free hands over (the caller's handle), dropped once the shutdown is finished.
    deferred_drop: Mutex<Vec<Box<dyn Send>>>,
    next_id: AtomicU64,
    busy_workers: AtomicUsize,
    live_workers: Mutex<usize>,
    workers_cv: Condvar,
    /// Unit tests only: what a worker does after it has counted itself out (tests.rs).
    #[cfg(test)]
    worker_exit: tests::WorkerExit,
}

impl Shared {
    /// True when this thread is running one of this client's callbacks or hooks.
    fn inside_own_callback(&self) -> bool {
        delivery::in_callback_of(self) || self.core.in_hook_on_this_thread()
    }

    /// Leaves Running for `to` (Deferred or Closing); the thread that makes the move stops the
    /// work (see `life`). False when the client had already left Running.
    fn leave_running(&self, to: Life) -> bool {
        if !self.life.advance(Life::Running, to) {
            return false;
        }
        let ops: Vec<Arc<OpInner>> = lock(&self.live).values().cloned().collect();
        for op in ops {
            delivery::complete_failed(&op, Status::Shutdown, "the client is being freed");
            op.cancel.cancel();
        }
        self.shutdown_token.cancel();
        lock(&self.jobs).clear();
        self.jobs_cv.notify_all();
        // Last, once every call has been told to stop (so an interrupted request reads as
        // cancelled, not as a network error to retry): no user hook starts after this, and
        // requests in flight are interrupted.
        self.core.close();
        true
    }

    /// Closing: with the deliver lock, runs every outstanding completion, then Closed. Returns how
    /// many callbacks ran. The caller has moved the client to Closing.
    fn drain_locked(&self) -> usize {
        // Hooks still running on other threads (after a deferred free) are waited for here.
        self.core.close();
        let ran = delivery::run_all(self);
        self.life.set_closed();
        let _ev = lock(&self.events);
        self.events_cv.notify_all();
        ran
    }

    /// After a free deferred from inside a callback or hook: once this thread is no longer inside
    /// any of the client's callbacks, finishes the shutdown here (runs the outstanding completions,
    /// stops the callback thread, releases the handle). Returns how many callbacks ran.
    fn finish_deferred(&self) -> usize {
        if self.life.get() != Life::Deferred || self.inside_own_callback() {
            return 0;
        }
        if !self.life.advance(Life::Deferred, Life::Closing) {
            return 0;
        }
        let ran = {
            let _g = lock(&self.deliver);
            self.drain_locked()
        };
        release_deferred(self);
        ran
    }
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

/// A handle to an operation whose result is a `T`.
pub struct Operation<T> {
    op: Arc<OpInner>,
    _result: PhantomData<fn() -> T>,
}

impl<T> Clone for Operation<T> {
    fn clone(&self) -> Self {
        Operation { op: Arc::clone(&self.op), _result: PhantomData }
    }
}

/// A handle to an operation of any call (what `gsms_operation` wraps).
#[derive(Clone)]
pub struct AnyOperation {
    op: Arc<OpInner>,
}

impl Client {
    pub fn new(cfg: &Config) -> Result<Client, InvalidArgument> {
        let core = CoreClient::new(cfg)?;
        let shared = Arc::new(Shared {
            core,
            mode: cfg.callback_mode,
            life: LifeCell::new(),
            shutdown_token: CancelToken::new(),
            jobs: Mutex::new(Jobs::default()),
            jobs_cv: Condvar::new(),
            events: Mutex::new(Events { queue: Default::default() }),
            events_cv: Condvar::new(),
            live: Mutex::new(HashMap::new()),
            deliver: Mutex::new(()),
            warming: AtomicBool::new(false),
            deferred_drop: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
            busy_workers: AtomicUsize::new(0),
            live_workers: Mutex::new(0),
            workers_cv: Condvar::new(),
            #[cfg(test)]
            worker_exit: Default::default(),
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
            match spawn_worker(i, sh) {
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
                match thread::Builder::new().name("gsms-callbacks".into()).spawn(move || delivery::callback_loop(sh)) {
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
        !self.shared.life.is_running()
    }

    /// Runs `call` on the caller's thread; ends with `Shutdown` if the client is freed meanwhile.
    pub fn call_blocking<C: Call>(&self, call: C, deadline: Option<Instant>) -> C::Output {
        let s = &self.shared;
        if !s.life.is_running() {
            return C::Output::failure(Status::Shutdown, "the client is being freed");
        }
        let opts = CallOptions { deadline, cancel: Some(&s.shutdown_token) };
        let mut r = call::run(call, &s.core, &opts);
        if r.info().status == Status::Cancelled {
            r.info_mut().fail(Status::Shutdown, "the client was freed during the call");
        }
        // A hook of this call (token provider, log sink) may have freed the client.
        s.finish_deferred();
        r
    }

    /// Starts `call` as an operation. Never blocks on the network; never runs a callback.
    pub fn start<C: Call>(
        &self,
        call: C,
        deadline: Option<Instant>,
        on_progress: Option<ProgressFn<C::Output>>,
        on_done: Option<DoneFn<C::Output>>,
    ) -> Result<Operation<C::Output>, Status> {
        let on_done = on_done.map(|f| -> AnyDone {
            Box::new(move |st, r: Option<&AnyResult>| {
                let typed = r.and_then(|r| Arc::clone(r).downcast::<C::Output>().ok());
                f(st, typed.as_ref())
            })
        });
        let on_progress = on_progress.map(|mut f| -> AnyProgress {
            Box::new(move |r: &AnyResult| {
                if let Ok(t) = Arc::clone(r).downcast::<C::Output>() {
                    f(&t)
                }
            })
        });
        let op = self.start_task(
            Box::new(task::CallTask(call)),
            (task::failure_of::<C::Output>, std::any::TypeId::of::<C::Output>()),
            deadline,
            on_progress,
            on_done,
        )?;
        Ok(Operation { op, _result: PhantomData })
    }

    fn start_task(
        &self,
        task: Box<dyn task::Task>,
        (fail, kind): (task::FailFn, std::any::TypeId),
        deadline: Option<Instant>,
        on_progress: Option<AnyProgress>,
        on_done: Option<AnyDone>,
    ) -> Result<Arc<OpInner>, Status> {
        let s = &self.shared;
        if !s.life.is_running() {
            return Err(Status::Shutdown);
        }
        self.ensure_threads()?;
        let op = Arc::new(OpInner {
            id: s.next_id.fetch_add(1, Ordering::Relaxed),
            cancel: CancelToken::new(),
            slot: Mutex::new(Slot { done: false, status: Status::Ok, result: None, on_done, on_progress }),
            shared: Arc::downgrade(s),
            fail,
            kind,
        });
        {
            // Checked under the live lock: stopping the work collects the live table after
            // leaving Running, so an operation is either collected or refused.
            let mut live = lock(&s.live);
            if !s.life.is_running() {
                return Err(Status::Shutdown);
            }
            live.insert(op.id, Arc::clone(&op));
        }
        lock(&s.jobs).push(Job { op: Arc::clone(&op), task, deadline });
        s.jobs_cv.notify_one();
        Ok(op)
    }

    /// Opens a connection in the background (on a short-lived thread).
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
        // A warmup is a job without an operation: run it on a detached thread so it never
        // occupies a worker that a real call might need.
        thread::Builder::new()
            .name("gsms-warmup".into())
            .spawn(move || {
                s.core.warmup();
                s.warming.store(false, Ordering::Release);
                s.finish_deferred();
            })
            .map(|_| ())
            .map_err(|_| {
                self.shared.warming.store(false, Ordering::Release);
                Status::Internal
            })
    }

    /// Runs queued completions and progress on this thread (`OnDispatch` mode). Returns how many
    /// ran, including those run because a callback freed the client. Returns 0 at once when
    /// another thread is dispatching or when called from a callback.
    pub fn dispatch(&self, max: u32) -> u32 {
        let s = &self.shared;
        if s.mode != CallbackMode::OnDispatch || !s.life.is_running() {
            return 0;
        }
        let Ok(guard) = s.deliver.try_lock() else { return 0 };
        let budget = if max == 0 { lock(&s.events).queue.len() } else { max as usize };
        let mut ran = 0usize;
        while ran < budget && s.life.is_running() {
            let Some(ev) = lock(&s.events).queue.pop_front() else { break };
            ran += usize::from(delivery::run_event(s, ev));
        }
        drop(guard);
        // A callback may have freed the client: what is left runs now, and counts.
        ran += s.finish_deferred();
        u32::try_from(ran).unwrap_or(u32::MAX)
    }

    /// Frees the client's machinery: see `gsms_client_free`. Returns true when done. Called
    /// from inside one of this client's callbacks or hooks (log sink, token provider), it only
    /// moves the client to Deferred and returns false, waiting for nothing; whoever runs that
    /// callback or hook finishes the job once it has returned (see `defer_drop`).
    pub fn shutdown(&self) -> bool {
        let s = &self.shared;
        if s.inside_own_callback() {
            s.leave_running(Life::Deferred);
            return false;
        }
        if !s.life.advance(Life::Deferred, Life::Closing) {
            s.leave_running(Life::Closing);
        }
        if s.life.get() == Life::Closing {
            let _g = lock(&s.deliver);
            if s.life.get() == Life::Closing {
                s.drain_locked();
            }
        }
        if let Some((_, h)) = lock(&self.callback_thread).take() {
            if h.thread().id() != thread::current().id() {
                let _ = h.join();
            }
        }
        // Idle workers exit at once: wait (briefly) for them so they can be joined. Workers in a
        // request were interrupted (their sockets shut down) and exit as soon as it returns; they
        // own an Arc, so those not finished in time are left to exit by themselves.
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

    /// After a deferred `shutdown`: keeps `what` (the caller's handle) alive until the shutdown is
    /// finished, then drops it on the thread that finished it.
    pub fn defer_drop(&self, what: Box<dyn Send>) {
        lock(&self.shared.deferred_drop).push(what);
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if self.shared.life.is_running() {
            self.shutdown();
        }
    }
}

fn spawn_worker(i: u32, sh: Arc<Shared>) -> std::io::Result<JoinHandle<()>> {
    #[cfg(test)]
    tests::maybe_refuse_spawn(i)?;
    thread::Builder::new().name(format!("gsms-worker-{i}")).spawn(move || pool::worker_loop(sh))
}

/// Drops what a deferred free handed over; no lock of ours is held while it drops.
fn release_deferred(s: &Shared) {
    let v = std::mem::take(&mut *lock(&s.deferred_drop));
    drop(v);
}

fn cancel_op(op: &Arc<OpInner>) {
    delivery::complete_failed(op, Status::Cancelled, "cancelled by the caller");
    op.cancel.cancel();
}

impl<T: HasInfo> Operation<T> {
    /// Completes the operation with `Cancelled` now (delivered later, never inside this call).
    /// A no-op once it has completed.
    pub fn cancel(&self) {
        cancel_op(&self.op);
    }

    /// `None` while running; then the final status and result.
    pub fn take_result(&self) -> Option<(Status, Option<Arc<T>>)> {
        let slot = lock(&self.op.slot);
        slot.done.then(|| (slot.status, slot.result.clone().and_then(|r| r.downcast::<T>().ok())))
    }

    /// The operation, whatever its result type (for handles that serve every call).
    pub fn erase(self) -> AnyOperation {
        AnyOperation { op: self.op }
    }
}

/// What `take_result` found.
pub enum Taken<T> {
    Pending,
    Done(Status, Option<Arc<T>>),
    /// The operation's result is not a `T`.
    WrongKind,
}

impl AnyOperation {
    pub fn cancel(&self) {
        cancel_op(&self.op);
    }

    /// As [`Operation::take_result`], for a result type named by the caller.
    pub fn take_result<T: HasInfo>(&self) -> Taken<T> {
        let slot = lock(&self.op.slot);
        if !slot.done {
            return Taken::Pending;
        }
        match slot.result.clone().map(|r| r.downcast::<T>()) {
            None => Taken::Done(slot.status, None),
            Some(Ok(r)) => Taken::Done(slot.status, Some(r)),
            Some(Err(_)) => Taken::WrongKind,
        }
    }

    /// True when this operation's result is a `T` (it may still be running).
    pub fn is_kind<T: HasInfo>(&self) -> bool {
        self.op.kind == std::any::TypeId::of::<T>()
    }
}
