//! The client's life: one documented state machine for shutdown.
//!
//! ```text
//!            free (outside the client's callbacks)
//!   Running ───────────────────────────────────────────────▶ Closing ──▶ Closed
//!      │                                                       ▲
//!      │ free inside one of its callbacks or hooks             │ that callback's runner, once
//!      └──────────────────────────────▶ Deferred ──────────────┘ the callback has returned
//! ```
//!
//! - **Running**: calls are accepted.
//! - **Deferred**: `gsms_client_free` was called from inside one of the client's own callbacks
//!   (completion, progress, log sink, token provider) and returned at once. No new work is
//!   accepted; the work was stopped (below); whoever ran that callback finishes the job once the
//!   callback has returned (`Shared::finish_deferred`).
//! - **Closing**: one thread, holding the deliver lock, runs every outstanding completion.
//! - **Closed**: nothing more runs; the callback thread has been told to stop.
//!
//! Leaving Running (to Deferred or Closing) "stops the work", once, on the thread that won the
//! transition: every unfinished operation is completed with SHUTDOWN, the shutdown token is
//! cancelled (blocking calls and sleeping workers wake), the job queues are cleared and the
//! workers told, and last the core client is closed: no user hook starts after that (the gate
//! waits for hooks in progress unless this thread is inside one), and every socket is shut down
//! so requests in flight end at once.

use std::sync::atomic::{AtomicU8, Ordering};

#[repr(u8)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Life {
    Running = 0,
    Deferred = 1,
    Closing = 2,
    Closed = 3,
}

pub(crate) struct LifeCell(AtomicU8);

impl LifeCell {
    pub fn new() -> LifeCell {
        LifeCell(AtomicU8::new(Life::Running as u8))
    }

    pub fn get(&self) -> Life {
        match self.0.load(Ordering::SeqCst) {
            0 => Life::Running,
            1 => Life::Deferred,
            2 => Life::Closing,
            _ => Life::Closed,
        }
    }

    pub fn is_running(&self) -> bool {
        self.get() == Life::Running
    }

    /// Moves `from` -> `to`; true when this call made the move.
    pub fn advance(&self, from: Life, to: Life) -> bool {
        self.0.compare_exchange(from as u8, to as u8, Ordering::SeqCst, Ordering::SeqCst).is_ok()
    }

    pub fn set_closed(&self) {
        self.0.store(Life::Closed as u8, Ordering::SeqCst);
    }
}
