//! The three helpers every call's exports are made of: a blocking call, an async start, and
//! take-result. A call's ffi file only builds its core `Call` from the C arguments and names its
//! result handle; everything else (client reference, shutdown refusal, deadline, callbacks and
//! their threads, out-pointers, the last error) is here, once.

use std::ffi::c_void;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::client::gsms_client;
use super::handle::{arc_clone, box_into_raw, box_ref, write_out, BoxHandle};
use super::operation::gsms_operation;
use super::{fail, gsms_status, invalid, set_last_error, UserData};
use crate::core::{Call, HasInfo, Status};
use crate::runtime::{DoneFn, ProgressFn, Taken};

/// A core result type and the C handle that wraps it.
pub(crate) trait Exported: HasInfo {
    type Handle: BoxHandle;
    /// For messages: "gsms_operation_take_cluster_result" and the like.
    const TAKE_FN: &'static str;
    fn handle(r: Arc<Self>) -> Self::Handle;
}

/// A completion callback typed on its result handle (`gsms_cluster_callback` and the like).
pub(crate) type DoneCallback<H> =
    Option<unsafe extern "C" fn(user_data: *mut c_void, status: gsms_status, result: *const H)>;
/// A progress callback typed on its result handle (`gsms_progress_callback` and the like).
pub(crate) type ProgressCallback<H> = Option<unsafe extern "C" fn(user_data: *mut c_void, result: *const H)>;

fn deadline(ms: u32) -> Option<Instant> {
    (ms > 0).then(|| Instant::now() + Duration::from_millis(ms.into()))
}

/// The client of a call, referenced for the call's duration; refused once it is being freed.
///
/// # Safety
/// `client` is NULL or a live handle from `gsms_client_new`.
pub(crate) unsafe fn live_client(client: *mut gsms_client) -> Result<Arc<gsms_client>, gsms_status> {
    // SAFETY: per this function's contract.
    let c = unsafe { arc_clone(client as *const gsms_client, "client") }?;
    if c.rt.is_shutting_down() {
        return Err(fail(gsms_status::GSMS_ERR_SHUTDOWN, "the client is being freed"));
    }
    Ok(c)
}

/// A call whose arguments were refused when it was built (a core call built from bad input ends at
/// once with InvalidArgument) is refused here instead, before anything runs: the C contract is
/// GSMS_ERR_INVALID_ARGUMENT with the reason, nothing sent, no result.
pub(crate) fn refuse_invalid<C: Call>(call: C) -> Result<C, gsms_status> {
    let info = call.result().info();
    if info.status == Status::InvalidArgument {
        return Err(invalid(&info.error_message));
    }
    Ok(call)
}

/// A call that could never send one of its exchanges (a URL too long for the client's base URL) is
/// refused here, before anything runs, as any other invalid input.
fn sendable<C: Call>(c: &gsms_client, call: C) -> Result<C, gsms_status> {
    crate::core::call::check(&call, c.rt.core()).map_err(|e| invalid(&e.0))?;
    Ok(call)
}

/// Borrows a request builder for a call and builds the call from it (refusing invalid requests).
///
/// # Safety
/// `req` is NULL or a live request handle of type `R`.
pub(crate) unsafe fn from_request<R: BoxHandle, C: Call>(
    req: *const R,
    build: impl FnOnce(&R) -> Result<C, gsms_status>,
) -> Result<C, gsms_status> {
    // SAFETY: per this function's contract.
    build(unsafe { box_ref(req, "req") }?).and_then(refuse_invalid)
}

/// A blocking call on this thread. On GSMS_OK `*out` holds the result; on failure, `*out` (if
/// `out` is non-NULL) still receives a result carrying the error details, or NULL when nothing is
/// known (invalid arguments, a client being freed). The thread's last error is the result's message.
///
/// # Safety
/// `client` as for [`live_client`]; `out` is NULL or writable.
pub(crate) unsafe fn blocking<C: Call>(
    client: *mut gsms_client,
    call: Result<C, gsms_status>,
    deadline_ms: u32,
    out: *mut *mut <C::Output as Exported>::Handle,
) -> Result<(), gsms_status>
where
    C::Output: Exported,
{
    // SAFETY: per this function's contract.
    let started = unsafe { live_client(client) }.and_then(|c| sendable(&c, call?).map(|call| (c, call)));
    let (c, call) = match started {
        Ok(v) => v,
        Err(s) => {
            // SAFETY: per this function's contract. Nothing is known.
            unsafe { write_out(out, std::ptr::null_mut()) };
            return Err(s);
        }
    };
    let result = c.rt.call_blocking(call, deadline(deadline_ms));
    let status: gsms_status = result.info().status.into();
    set_last_error(&result.info().error_message);
    if !out.is_null() {
        // SAFETY: per this function's contract.
        unsafe { out.write(box_into_raw(<C::Output as Exported>::handle(Arc::new(result)))) };
    }
    match status {
        gsms_status::GSMS_OK => Ok(()),
        s => Err(s),
    }
}

/// Starts `call` on a worker; returns at once. On GSMS_OK, `on_done` (if given) is called exactly
/// once, later, never inside this call; `on_progress` (if given) each time the call waits for
/// its next poll. `out_op` may be NULL (then `on_done` may not be).
///
/// # Safety
/// `client` as for [`live_client`]; `out_op` is NULL or writable; the callbacks, if non-NULL,
/// have the declared C signatures and accept `user_data` from library threads.
pub(crate) unsafe fn start<C: Call>(
    client: *mut gsms_client,
    call: Result<C, gsms_status>,
    deadline_ms: u32,
    on_progress: ProgressCallback<<C::Output as Exported>::Handle>,
    on_done: DoneCallback<<C::Output as Exported>::Handle>,
    user_data: *mut c_void,
    out_op: *mut *mut gsms_operation,
) -> Result<(), gsms_status>
where
    C::Output: Exported,
{
    if on_done.is_none() && out_op.is_null() {
        return Err(invalid("on_done and out_op are both NULL: nobody could see the outcome"));
    }
    // SAFETY: per this function's contract.
    let c = unsafe { live_client(client) }?;
    let call = sendable(&c, call?)?;
    let ud = UserData(user_data);
    let done: Option<DoneFn<C::Output>> = on_done.map(|f| -> DoneFn<C::Output> {
        Box::new(move |st: Status, r: Option<&Arc<C::Output>>| {
            let ud = ud;
            let h = r.map(|r| <C::Output as Exported>::handle(Arc::clone(r)));
            let p = h.as_ref().map_or(std::ptr::null(), |h| h as *const _);
            // SAFETY: registered by the caller for this call shape; `p` lives until it returns.
            unsafe { f(ud.0, st.into(), p) }
        })
    });
    let progress: Option<ProgressFn<C::Output>> = on_progress.map(|f| -> ProgressFn<C::Output> {
        Box::new(move |r: &Arc<C::Output>| {
            let ud = ud;
            let h = <C::Output as Exported>::handle(Arc::clone(r));
            // SAFETY: as above.
            unsafe { f(ud.0, &h) }
        })
    });
    match c.rt.start(call, deadline(deadline_ms), progress, done) {
        Ok(op) => {
            if !out_op.is_null() {
                // SAFETY: per this function's contract.
                unsafe { out_op.write(box_into_raw(gsms_operation { op: op.erase() })) };
            }
            Ok(())
        }
        Err(Status::Shutdown) => Err(fail(gsms_status::GSMS_ERR_SHUTDOWN, "the client is being freed")),
        Err(s) => Err(fail(s.into(), "cannot start the client's worker threads")),
    }
}

/// Polling instead of callbacks: GSMS_PENDING while the operation runs; once done, its final
/// status and, if `out` is non-NULL, a new result that the caller owns. The wrong result type for
/// the operation is GSMS_ERR_INVALID_ARGUMENT.
///
/// # Safety
/// `op` is NULL or a live operation handle; `out` is NULL or writable.
pub(crate) unsafe fn take<T: Exported>(op: *mut gsms_operation, out: *mut *mut T::Handle) -> Result<(), gsms_status> {
    // SAFETY: per this function's contract.
    let o = unsafe { box_ref(op as *const gsms_operation, "op") }?;
    if !o.op.is_kind::<T>() {
        return Err(invalid(format!("this operation's result is of another type: {} cannot take it", T::TAKE_FN)));
    }
    match o.op.take_result::<T>() {
        Taken::Pending | Taken::WrongKind => Err(fail(gsms_status::GSMS_PENDING, "the operation has not finished yet")),
        Taken::Done(status, result) => {
            set_last_error(result.as_ref().map_or("", |r| r.info().error_message.as_str()));
            if !out.is_null() {
                let h = result.map_or(std::ptr::null_mut(), |r| box_into_raw(T::handle(r)));
                // SAFETY: per this function's contract.
                unsafe { out.write(h) };
            }
            match status {
                Status::Ok => Ok(()),
                s => Err(s.into()),
            }
        }
    }
}
