//! A job, erased: the runtime runs calls without knowing which.
//!
//! A [`Task`] is a boxed core [`Call`]: one exchange per `step`, then Done or PollAfter. Results
//! travel as `AnyResult` (an `Arc<dyn Any>`); the typed API of [`super::Client::start`] and
//! [`super::Operation`] downcasts them back, and so does the C layer for its result handles.

use std::any::Any;
use std::sync::Arc;

use crate::core::call::{self, Call, Step};
use crate::core::{CallOptions, Client as CoreClient, HasInfo, Status};

/// A result of some call, type-erased.
pub type AnyResult = Arc<dyn Any + Send + Sync>;

/// Builds the result of a call that the runtime ended itself (cancel, shutdown, a caught panic).
pub type FailFn = fn(Status, &str) -> AnyResult;

pub(crate) fn failure_of<T: HasInfo>(status: Status, message: &str) -> AnyResult {
    Arc::new(T::failure(status, message))
}

/// One call, boxed for a worker.
pub(crate) trait Task: Send {
    /// One exchange with the shared following rules (`core::call::step`); `on_poll` is handed a
    /// way to make the progress snapshot whenever the call is not final yet.
    fn step(
        &mut self,
        core: &CoreClient,
        opts: &CallOptions<'_>,
        on_poll: &mut dyn FnMut(&dyn Fn() -> AnyResult),
    ) -> Step;
    /// The final status and result, once `step` said Done.
    fn finish(&mut self) -> (Status, AnyResult);
}

pub(crate) struct CallTask<C: Call>(pub C);

impl<C: Call> Task for CallTask<C> {
    fn step(
        &mut self,
        core: &CoreClient,
        opts: &CallOptions<'_>,
        on_poll: &mut dyn FnMut(&dyn Fn() -> AnyResult),
    ) -> Step {
        call::step(&mut self.0, core, opts, &mut |r: &C::Output| on_poll(&|| Arc::new(r.clone()) as AnyResult))
    }

    fn finish(&mut self) -> (Status, AnyResult) {
        let r = std::mem::take(self.0.result_mut());
        (r.info().status, Arc::new(r))
    }
}
