//! Worker threads and their jobs: a FIFO of jobs ready to run, and a due-time queue of jobs
//! waiting for their next poll (a following call holds no worker while it waits).

use std::collections::{BTreeMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::delivery::{self, OpInner};
use super::task::Task;
use super::{lock, Shared};
use crate::core::{CallOptions, Status, Step};

pub(crate) struct Job {
    pub op: Arc<OpInner>,
    pub task: Box<dyn Task>,
    pub deadline: Option<Instant>,
}

#[derive(Default)]
pub(crate) struct Jobs {
    queue: VecDeque<Job>,
    /// Jobs waiting for their time, by due time (earliest first) and then by when they were put
    /// there (the sequence number keeps two jobs due at the same instant apart, in order).
    delayed: BTreeMap<(Instant, u64), Job>,
    seq: u64,
}

impl Jobs {
    pub fn push(&mut self, job: Job) {
        self.queue.push_back(job);
    }

    /// Puts `job` to wait until `due`, after any job already waiting for the same instant.
    pub fn delay(&mut self, due: Instant, job: Job) {
        self.seq += 1;
        self.delayed.insert((due, self.seq), job);
    }

    /// Moves every job due by `now` (whatever its sequence number) to the ready queue, in order,
    /// and takes the first ready job.
    pub fn next_ready(&mut self, now: Instant) -> Option<Job> {
        let later = self.delayed.split_off(&(now, u64::MAX));
        let due = std::mem::replace(&mut self.delayed, later);
        self.queue.extend(due.into_values());
        self.queue.pop_front()
    }

    /// Drops every job (the client is stopping: their operations were completed already).
    pub fn clear(&mut self) {
        self.queue.clear();
        self.delayed.clear();
    }
}

/// The next job to run; `None` once the client stops running.
fn next_job(s: &Shared) -> Option<Job> {
    let mut j = lock(&s.jobs);
    loop {
        if !s.life.is_running() {
            return None;
        }
        let now = Instant::now();
        if let Some(job) = j.next_ready(now) {
            return Some(job);
        }
        j = match j.delayed.first_key_value().map(|(&(due, _), _)| due) {
            Some(due) => {
                s.jobs_cv.wait_timeout(j, due.saturating_duration_since(now)).unwrap_or_else(|e| e.into_inner()).0
            }
            None => s.jobs_cv.wait(j).unwrap_or_else(|e| e.into_inner()),
        };
    }
}

pub(crate) fn worker_loop(s: Arc<Shared>) {
    while let Some(mut job) = next_job(&s) {
        if lock(&job.op.slot).done {
            continue; // cancelled before it started (or before its next poll)
        }
        s.busy_workers.fetch_add(1, Ordering::Relaxed);
        let op = Arc::clone(&job.op);
        let run = catch_unwind(AssertUnwindSafe(|| {
            let opts = CallOptions { deadline: job.deadline, cancel: Some(&op.cancel) };
            job.task.step(&s.core, &opts, &mut |snapshot| delivery::progress(&op, snapshot))
        }));
        s.busy_workers.fetch_sub(1, Ordering::Relaxed);
        match run {
            Ok(Step::PollAfter(wait)) => {
                let mut j = lock(&s.jobs);
                if s.life.is_running() {
                    j.delay(Instant::now() + wait, job);
                    drop(j);
                    // Another worker may be waiting for an earlier time: let it re-check.
                    s.jobs_cv.notify_one();
                }
            }
            Ok(Step::Done) => {
                let (status, result) = job.task.finish();
                delivery::complete(&job.op, status, result);
            }
            Err(_) => {
                delivery::complete_failed(&job.op, Status::Internal, "internal error: a panic was caught in a worker");
            }
        }
        // A hook of this job (token provider, log sink) may have freed the client.
        s.finish_deferred();
    }
    let mut n = lock(&s.live_workers);
    *n -= 1;
    drop(n);
    s.workers_cv.notify_all();
    #[cfg(test)]
    s.worker_exit.after_counted_out();
}
