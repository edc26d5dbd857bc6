//! The gate in front of the user's hooks (log sink, token provider).

use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::ThreadId;

/// Gate in front of the user's hooks (log sink and token provider): once `close` has returned on
/// a thread that is not itself inside a hook, no hook runs any more, even on a worker still
/// finishing a request the client abandoned.
///
/// Why it is right:
/// - `call` records its thread in `inside` and checks `closed` under one lock before the hook runs,
///   and removes its entry under that lock after. `close` sets `closed` under the same lock. So
///   every hook call either began before `close` (and is listed in `inside`) or sees `closed` and
///   never runs.
/// - `close` then waits until `inside` is empty, and every exit notifies, so it wakes for each.
///   Exception: a thread that is itself inside a hook of this client (a hook that frees the
///   client) must not wait: it would wait for itself, or two such threads for each other. It
///   returns at once; the hooks in progress end on their own.
/// - The gate lives in the client, and every call that can reach a hook holds a reference to the
///   client until it returns, so the exit path never touches freed memory.
#[derive(Default)]
pub struct Hooks {
    state: Mutex<HookState>,
    idle: Condvar,
}

#[derive(Default)]
struct HookState {
    closed: bool,
    /// One entry per hook call in progress (a thread inside nested hooks appears once per level).
    inside: Vec<ThreadId>,
}

impl Hooks {
    fn lock(&self) -> MutexGuard<'_, HookState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` unless closed; `None` when closed.
    pub fn call<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        let me = std::thread::current().id();
        {
            let mut st = self.lock();
            if st.closed {
                return None;
            }
            st.inside.push(me);
        }
        struct Exit<'a>(&'a Hooks, ThreadId);
        impl Drop for Exit<'_> {
            fn drop(&mut self) {
                let mut st = self.0.lock();
                if let Some(i) = st.inside.iter().rposition(|t| *t == self.1) {
                    st.inside.swap_remove(i);
                }
                drop(st);
                self.0.idle.notify_all();
            }
        }
        let _exit = Exit(self, me);
        Some(f())
    }

    /// True when this thread is inside one of these hooks.
    pub fn inside_on_this_thread(&self) -> bool {
        let me = std::thread::current().id();
        self.lock().inside.contains(&me)
    }

    /// Closes the gate; waits for hook calls in progress unless this thread is inside one.
    pub fn close(&self) {
        let me = std::thread::current().id();
        let mut st = self.lock();
        st.closed = true;
        if st.inside.contains(&me) {
            return;
        }
        while !st.inside.is_empty() {
            st = self.idle.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }
}
