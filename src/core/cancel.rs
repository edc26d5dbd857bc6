//! A cancellation flag that sleeping code can wait on.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct CancelToken {
    cancelled: Mutex<bool>,
    cv: Condvar,
}

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        let mut c = self.cancelled.lock().unwrap_or_else(|e| e.into_inner());
        *c = true;
        self.cv.notify_all();
    }

    pub fn is_cancelled(&self) -> bool {
        *self.cancelled.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sleeps for `d` unless cancelled first. Returns true when cancelled.
    pub fn sleep(&self, d: Duration) -> bool {
        let end = Instant::now() + d;
        let mut c = self.cancelled.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if *c {
                return true;
            }
            let now = Instant::now();
            if now >= end {
                return false;
            }
            c = self.cv.wait_timeout(c, end - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }
}
