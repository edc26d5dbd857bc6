//! The runtime's own machinery, with jobs that are not calls of the service: what a queued job
//! holds is released when the client is freed, a worker that cannot be started leaves the client
//! usable, a free returns only once its idle workers have ended, a client dropped without a free
//! is shut down, polls due at one instant are all kept, in order, and progress is queued only for
//! an unfinished operation that asked for it.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::task::{self, AnyResult, Task};
use super::{lock, Client};
use crate::core::call::Step;
use crate::core::exchange::CallInfo;
use crate::core::{CallOptions, Client as CoreClient, Config, Status};

/// What a worker does after it has counted itself out (`Shared::worker_exit`).
#[derive(Default)]
pub(crate) struct WorkerExit {
    delay: Mutex<Duration>,
    ended: AtomicUsize,
}

impl WorkerExit {
    pub(crate) fn after_counted_out(&self) {
        let d = *lock(&self.delay);
        std::thread::sleep(d);
        self.ended.fetch_add(1, Ordering::SeqCst);
    }
}

thread_local! {
    /// The index of the worker whose start fails next, on this thread.
    static REFUSE_SPAWN: Cell<Option<u32>> = const { Cell::new(None) };
}

/// Fails the start of worker `i` once, when the test asked for it on this thread.
pub(crate) fn maybe_refuse_spawn(i: u32) -> std::io::Result<()> {
    if REFUSE_SPAWN.with(|r| r.get()) == Some(i) {
        REFUSE_SPAWN.with(|r| r.set(None));
        return Err(std::io::Error::other("the test refused this thread"));
    }
    Ok(())
}

#[derive(Default, Clone)]
struct Nothing {
    info: CallInfo,
}
crate::impl_has_info!(Nothing);

/// Sets its flag when it is dropped.
struct Dropped(Arc<AtomicBool>);
impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// What a test job does when a worker runs it.
enum Act {
    /// Done at once.
    Finish,
    /// Says when it started, then waits until the call is cancelled.
    Hold(Arc<AtomicBool>),
    /// Says when it ran, then waits a minute for its next poll.
    Wait(Arc<AtomicBool>),
}

struct TestJob {
    act: Act,
    _owned: Option<Dropped>,
}

impl Task for TestJob {
    fn step(&mut self, _: &CoreClient, opts: &CallOptions<'_>, _: &mut dyn FnMut(&dyn Fn() -> AnyResult)) -> Step {
        match &self.act {
            Act::Finish => Step::Done,
            Act::Hold(started) => {
                started.store(true, Ordering::SeqCst);
                let cancel = opts.cancel.expect("a job has a cancel token");
                while !cancel.is_cancelled() {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Step::Done
            }
            Act::Wait(ran) => {
                ran.store(true, Ordering::SeqCst);
                Step::PollAfter(Duration::from_secs(60))
            }
        }
    }

    fn finish(&mut self) -> (Status, AnyResult) {
        (Status::Ok, Arc::new(Nothing::default()))
    }
}

fn client(workers: u32) -> Client {
    let cfg = Config { worker_threads: workers, ..Config::default() };
    Client::new(&cfg).expect("the default configuration is valid")
}

fn start(c: &Client, act: Act, owned: Option<Dropped>) -> Result<Arc<super::OpInner>, Status> {
    let kind = (task::failure_of::<Nothing> as task::FailFn, std::any::TypeId::of::<Nothing>());
    c.start_task(Box::new(TestJob { act, _owned: owned }), kind, None, None, None)
}

fn wait_for(what: &str, cond: impl Fn() -> bool) {
    let until = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < until, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn done(op: &super::OpInner) -> bool {
    lock(&op.slot).done
}

#[test]
fn freeing_the_client_releases_its_queued_and_waiting_calls_at_once() {
    let c = client(1);
    let waiting_dropped = Arc::new(AtomicBool::new(false));
    let queued_dropped = Arc::new(AtomicBool::new(false));
    // The only worker runs the first job, which goes to wait for its next poll...
    let ran = Arc::new(AtomicBool::new(false));
    let waiting = start(&c, Act::Wait(Arc::clone(&ran)), Some(Dropped(Arc::clone(&waiting_dropped)))).unwrap();
    wait_for("the first job's first step", || ran.load(Ordering::SeqCst));
    // ...then holds the second, so the third stays queued.
    let started = Arc::new(AtomicBool::new(false));
    let _held = start(&c, Act::Hold(Arc::clone(&started)), None).unwrap();
    wait_for("the second job to start", || started.load(Ordering::SeqCst));
    let queued = start(&c, Act::Finish, Some(Dropped(Arc::clone(&queued_dropped)))).unwrap();
    assert!(!done(&waiting) && !done(&queued));
    assert!(!waiting_dropped.load(Ordering::SeqCst) && !queued_dropped.load(Ordering::SeqCst));

    assert!(c.shutdown());
    assert!(done(&waiting) && done(&queued), "free completes every operation");
    assert_eq!(lock(&waiting.slot).status, Status::Shutdown);
    // The client (and what its threads share) is still alive here: the jobs must be gone already,
    // not when the last worker lets go of the shared state.
    assert!(waiting_dropped.load(Ordering::SeqCst), "the job waiting for its next poll is still held");
    assert!(queued_dropped.load(Ordering::SeqCst), "the queued job is still held");
}

#[test]
fn a_worker_that_cannot_be_started_fails_that_call_and_the_next_call_starts_it() {
    let c = client(2);
    REFUSE_SPAWN.with(|r| r.set(Some(1)));
    assert_eq!(start(&c, Act::Finish, None).err(), Some(Status::Internal));
    assert_eq!(lock(&c.threads).len(), 1);
    assert_eq!(*lock(&c.shared.live_workers), 1, "the worker not started is not counted");

    let op = start(&c, Act::Finish, None).expect("the next call starts the missing worker");
    wait_for("the call to complete", || done(&op));
    assert_eq!(lock(&op.slot).status, Status::Ok);
    assert_eq!(lock(&c.threads).len(), 2);
    assert_eq!(*lock(&c.shared.live_workers), 2);

    assert!(c.shutdown());
    wait_for("both workers to count themselves out", || *lock(&c.shared.live_workers) == 0);
    assert_eq!(c.shared.worker_exit.ended.load(Ordering::SeqCst), 2);
}

#[test]
fn free_returns_once_its_idle_workers_have_ended() {
    let c = client(2);
    // Each worker lingers after counting itself out, as a thread does while it unwinds its stack
    // and runs its thread-local destructors: free must join it, not leave it running (an engine
    // that unloads the library after free would unmap code a detached thread is still running).
    *lock(&c.shared.worker_exit.delay) = Duration::from_millis(150);
    let op = start(&c, Act::Finish, None).unwrap();
    wait_for("the call to complete", || done(&op));

    assert!(c.shutdown());
    assert_eq!(c.shared.worker_exit.ended.load(Ordering::SeqCst), 2, "free returned before its workers ended");
    assert!(lock(&c.threads).is_empty());
}

#[test]
fn dropping_the_client_without_a_free_shuts_it_down() {
    // A Rust caller (or a C++ wrapper's destructor path) may drop the client without calling
    // shutdown: its running and queued calls must still end, and its workers with them.
    let c = client(1);
    let shared = Arc::clone(&c.shared);
    let started = Arc::new(AtomicBool::new(false));
    let held = start(&c, Act::Hold(Arc::clone(&started)), None).unwrap();
    wait_for("the job to start", || started.load(Ordering::SeqCst));
    let queued = start(&c, Act::Finish, None).unwrap();

    drop(c);
    assert!(done(&held) && done(&queued), "dropping the client completes every operation");
    assert_eq!(lock(&queued.slot).status, Status::Shutdown);
    wait_for("the worker to count itself out", || *lock(&shared.live_workers) == 0);
    assert_eq!(shared.worker_exit.ended.load(Ordering::SeqCst), 1);
}

/// A job for the job lists alone: an operation no client knows, identified by `id`.
fn lone_job(id: u64) -> super::pool::Job {
    let op = Arc::new(super::delivery::OpInner {
        id,
        cancel: crate::core::CancelToken::new(),
        slot: Mutex::new(super::delivery::Slot {
            done: false,
            status: Status::Ok,
            result: None,
            on_done: None,
            on_progress: None,
        }),
        shared: std::sync::Weak::new(),
        fail: task::failure_of::<Nothing> as task::FailFn,
        kind: std::any::TypeId::of::<Nothing>(),
    });
    super::pool::Job { op, task: Box::new(TestJob { act: Act::Finish, _owned: None }), deadline: None }
}

#[test]
fn jobs_due_at_the_same_instant_are_all_kept_and_run_in_the_order_they_were_put_to_wait() {
    let mut jobs = super::pool::Jobs::default();
    let now = Instant::now();
    let (soon, later) = (now + Duration::from_millis(5), now + Duration::from_secs(60));
    jobs.delay(later, lone_job(4));
    for id in 1..=3 {
        jobs.delay(soon, lone_job(id));
    }
    assert!(jobs.next_ready(now).is_none(), "nothing is due yet");
    let ran: Vec<u64> = std::iter::from_fn(|| jobs.next_ready(soon)).map(|j| j.op.id).collect();
    assert_eq!(ran, [1, 2, 3], "three polls due at one instant");
    assert_eq!(jobs.next_ready(later).map(|j| j.op.id), Some(4));
}

#[test]
fn progress_is_queued_only_for_an_unfinished_operation_with_a_progress_callback() {
    let c = client(1);
    let kind = (task::failure_of::<Nothing> as task::FailFn, std::any::TypeId::of::<Nothing>());
    let queued = || lock(&c.shared.events).queue.len();
    let held = Arc::new(AtomicBool::new(false));
    let taken = AtomicBool::new(false);
    let snapshot = || -> AnyResult {
        taken.store(true, Ordering::SeqCst);
        Arc::new(Nothing::default())
    };
    // No progress callback: nothing queued, and the snapshot (a copy of the result) not even taken.
    let quiet =
        c.start_task(Box::new(TestJob { act: Act::Hold(Arc::clone(&held)), _owned: None }), kind, None, None, None);
    let quiet = quiet.unwrap();
    super::delivery::progress(&quiet, snapshot);
    assert!(!taken.load(Ordering::SeqCst), "a snapshot was taken for an operation without a progress callback");
    assert_eq!(queued(), 0);
    // With one, while it is not done: one event (the worker is held, so this one waits in the queue).
    let on_progress: super::delivery::AnyProgress = Box::new(|_| {});
    let noisy = c.start_task(Box::new(TestJob { act: Act::Finish, _owned: None }), kind, None, Some(on_progress), None);
    let noisy = noisy.unwrap();
    super::delivery::progress(&noisy, snapshot);
    assert!(taken.swap(false, Ordering::SeqCst));
    assert_eq!(queued(), 1);
    // Done: no more progress.
    assert!(super::delivery::complete_failed(&noisy, Status::Cancelled, "cancelled by the test"));
    let after_done = queued();
    super::delivery::progress(&noisy, snapshot);
    assert!(!taken.load(Ordering::SeqCst), "a snapshot was taken for a finished operation");
    assert_eq!(queued(), after_done);
    quiet.cancel.cancel();
    wait_for("the held job to end", || done(&quiet));
}
