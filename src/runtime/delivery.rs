//! Operations, their exactly-once completion, and the delivery of events to user callbacks.
//!
//! Completions and progress are *events*. In `OnDispatch` mode they wait in a queue drained by
//! `dispatch` on the caller's thread; in `OnWorker` mode a per-client callback thread runs them, so
//! a stuck request never delays a callback and callbacks of one client never run concurrently.
//! Whoever runs callbacks holds the client's `deliver` lock; shutdown takes it too.
//!
//! Lock order: `OpInner::slot` -> `Shared::events`; `Shared::live` is never held with another lock
//! except `slot` (inside `complete`). No lock is held while user code runs.

use std::cell::Cell;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, Weak};

use super::life::Life;
use super::task::{AnyResult, FailFn};
use super::{lock, Shared};
use crate::core::{CancelToken, Status};

/// Completion callback, erased: the final status and, when anything is known, the result.
pub(crate) type AnyDone = Box<dyn FnOnce(Status, Option<&AnyResult>) + Send>;
/// Progress callback, erased: the result so far.
pub(crate) type AnyProgress = Box<dyn FnMut(&AnyResult) + Send>;

pub(crate) struct Slot {
    pub done: bool,
    pub status: Status,
    pub result: Option<AnyResult>,
    pub on_done: Option<AnyDone>,
    pub on_progress: Option<AnyProgress>,
}

/// One asynchronous call. Shared by its job, the client's live table, events and the caller's handle.
pub(crate) struct OpInner {
    pub id: u64,
    pub cancel: CancelToken,
    pub slot: Mutex<Slot>,
    pub shared: Weak<Shared>,
    /// Builds this call's result type for outcomes the runtime decides.
    pub fail: FailFn,
    /// The type of this call's result.
    pub kind: std::any::TypeId,
}

pub(crate) enum Event {
    Progress(Arc<OpInner>, AnyResult),
    Done(Arc<OpInner>),
}

pub(crate) struct Events {
    pub queue: VecDeque<Event>,
}

thread_local! {
    /// The client whose callback this thread is running (null when none).
    static IN_CALLBACK: Cell<*const Shared> = const { Cell::new(std::ptr::null()) };
}

/// True when this thread is running one of `s`'s completion or progress callbacks.
pub(crate) fn in_callback_of(s: &Shared) -> bool {
    std::ptr::eq(IN_CALLBACK.with(|c| c.get()), s)
}

/// Completes `op` once with `status` and `result`. Returns false when it was already complete
/// (the outcome is discarded).
pub(crate) fn complete(op: &Arc<OpInner>, status: Status, result: AnyResult) -> bool {
    let Some(s) = op.shared.upgrade() else { return false };
    {
        let mut slot = lock(&op.slot);
        if slot.done {
            return false;
        }
        slot.done = true;
        slot.status = status;
        slot.result = Some(result);
        // Pushed under the slot lock so no progress event can follow the completion.
        if slot.on_done.is_some() || slot.on_progress.is_some() {
            lock(&s.events).queue.push_back(Event::Done(Arc::clone(op)));
        }
    }
    s.events_cv.notify_one();
    lock(&s.live).remove(&op.id);
    true
}

/// Completes `op` with a failure the runtime decided (cancel, shutdown, a caught panic).
pub(crate) fn complete_failed(op: &Arc<OpInner>, status: Status, message: &str) -> bool {
    complete(op, status, (op.fail)(status, message))
}

/// Queues a progress event (unless the operation is done or has no progress callback).
pub(crate) fn progress(op: &Arc<OpInner>, snapshot: impl FnOnce() -> AnyResult) {
    let Some(s) = op.shared.upgrade() else { return };
    {
        let slot = lock(&op.slot);
        if slot.done || slot.on_progress.is_none() {
            return;
        }
        lock(&s.events).queue.push_back(Event::Progress(Arc::clone(op), snapshot()));
    }
    s.events_cv.notify_one();
}

/// Runs one event's user callback with no lock held but `deliver`.
/// Runs one event's callback, if it still has one; returns whether a callback ran (a progress
/// event whose operation a cancel completed in the meantime has none, and does not count).
pub(crate) fn run_event(s: &Shared, ev: Event) -> bool {
    let prev = IN_CALLBACK.with(|c| c.replace(s as *const Shared));
    let ran = match ev {
        Event::Progress(op, r) => {
            let cb = lock(&op.slot).on_progress.take();
            if let Some(mut cb) = cb {
                let _ = catch_unwind(AssertUnwindSafe(|| cb(&r)));
                let mut slot = lock(&op.slot);
                if !slot.done {
                    slot.on_progress = Some(cb);
                }
                true
            } else {
                false
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
            // A completion counts even without a callback: the operation is delivered (its
            // result is ready for take_result) and the caller asked to be told how many were.
            true
        }
    };
    IN_CALLBACK.with(|c| c.set(prev));
    ran
}

/// Runs every queued event; returns how many ran. The caller holds `deliver`.
pub(crate) fn run_all(s: &Shared) -> usize {
    let mut ran = 0;
    while let Some(ev) = lock(&s.events).queue.pop_front() {
        ran += usize::from(run_event(s, ev));
    }
    ran
}

/// The callback thread of an `OnWorker` client: runs events one at a time until the client stops.
pub(crate) fn callback_loop(s: Arc<Shared>) {
    loop {
        {
            let mut ev = lock(&s.events);
            while ev.queue.is_empty() && s.life.get() != Life::Closed {
                ev = s.events_cv.wait(ev).unwrap_or_else(|e| e.into_inner());
            }
            if s.life.get() == Life::Closed {
                return;
            }
        }
        let guard = lock(&s.deliver);
        // Once shutdown has begun, the thread finishing it runs what is left (on its own thread,
        // as the contract says); this thread only finishes the callback it had started.
        if !s.life.is_running() {
            return;
        }
        let Some(ev) = lock(&s.events).queue.pop_front() else { continue };
        run_event(&s, ev);
        drop(guard);
        // The callback may have freed the client: then this thread finishes the shutdown.
        s.finish_deferred();
        if !s.life.is_running() {
            return;
        }
    }
}
