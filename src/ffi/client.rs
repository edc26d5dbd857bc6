//! `gsms_client`: blocking and asynchronous calls, dispatch, token swap, warmup, free.
//! Every function is safe to call from any thread, concurrently.

use std::ffi::{c_char, c_void};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::config::gsms_config;
use super::operation::gsms_operation;
use super::request::gsms_cluster_request;
use super::result::gsms_cluster_result;
use super::{gsms_status, guard, handle, invalid, set_last_error, str_arg, UserData};
use crate::core::{ClusterResult, Status};
use crate::runtime::{self, DoneFn, Kind, ProgressFn};

/// A connection to the service: a connection pool, worker threads and a completion queue.
/// Create with `gsms_client_new`; free with `gsms_client_free`.
pub struct gsms_client {
    pub(crate) rt: runtime::Client,
}

/// Completion callback. `result` is borrowed: valid only during this callback (keep it with
/// gsms_cluster_result_clone); non-NULL whenever anything is known (always on GSMS_OK).
pub type gsms_cluster_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, status: gsms_status, result: *const gsms_cluster_result)>;

/// Progress callback: called each time a poll answers Queued, before waiting again; same thread
/// rules as completions. `queued` is valid only during this callback.
pub type gsms_progress_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, queued: *const gsms_cluster_result)>;

/// Takes a reference to the client for the duration of one call: the client's memory then lives
/// until this call returns, even if another thread (or a hook running inside this call) frees the
/// caller's handle meanwhile. Every function that receives a client starts with this.
///
/// # Safety
/// `c` is NULL or a live handle from `gsms_client_new` (made by `Arc::into_raw`) whose free has
/// not completed before this call began.
unsafe fn client(c: *const gsms_client) -> Result<Arc<gsms_client>, gsms_status> {
    if c.is_null() {
        return Err(invalid("client must not be NULL"));
    }
    // SAFETY: per the contract above, the handle is an Arc with at least the caller's reference.
    unsafe {
        Arc::increment_strong_count(c);
        Ok(Arc::from_raw(c))
    }
}

/// Creates a client from `cfg` (which may be freed afterwards). Its worker threads start with its
/// first asynchronous call; a client used only for blocking calls has none.
/// On GSMS_OK, `*out_client` is caller owns; free with gsms_client_free.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_new(cfg: *const gsms_config, out_client: *mut *mut gsms_client) -> gsms_status {
    guard(|| {
        let cfg = match unsafe { handle(cfg, "cfg") } {
            Ok(c) => c,
            Err(s) => return s,
        };
        if out_client.is_null() {
            return invalid("out_client must not be NULL");
        }
        match runtime::Client::new(&cfg.inner) {
            Ok(rt) => {
                let p = Arc::into_raw(Arc::new(gsms_client { rt })) as *mut gsms_client;
                // SAFETY: checked non-NULL; points to writable storage (contract).
                unsafe { *out_client = p };
                set_last_error("");
                gsms_status::GSMS_OK
            }
            Err(e) => invalid(e.0),
        }
    })
}

/// Frees a client. Before it returns, every accepted operation has had exactly one completion
/// callback, on this thread: finished ones with their real outcome, unfinished ones with
/// GSMS_ERR_SHUTDOWN; no callback runs afterwards. Returns within 250 ms even with requests stuck
/// on a dead server (time inside callbacks not counted; it waits for a running callback).
/// Called from inside one of this client's callbacks, it returns at once and the client is
/// released when that callback returns. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_free(client: *mut gsms_client) {
    guard(|| {
        if client.is_null() {
            return;
        }
        // SAFETY: made by gsms_client_new (Arc::into_raw); the caller's reference is released once.
        let c = unsafe { Arc::from_raw(client as *const gsms_client) };
        if !c.rt.shutdown() {
            // From inside one of its callbacks: the handle stays valid until that callback
            // returns; the runtime drops this reference then.
            c.rt.defer_drop(Box::new(Arc::clone(&c)));
        }
        drop(c);
    })
}

/// Replaces the Authorization value for later requests (thread-safe). A token provider, when
/// configured, still takes precedence.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_set_auth_token(
    client: *mut gsms_client,
    authorization: *const c_char,
) -> gsms_status {
    guard(|| {
        let c = match unsafe { self::client(client) } {
            Ok(c) => c,
            Err(s) => return s,
        };
        let a = match unsafe { str_arg(authorization, "authorization") } {
            Ok(a) => a,
            Err(s) => return s,
        };
        if c.rt.is_shutting_down() {
            set_last_error("the client is being freed");
            return gsms_status::GSMS_ERR_SHUTDOWN;
        }
        match c.rt.core().set_auth_token(a) {
            Ok(()) => {
                set_last_error("");
                gsms_status::GSMS_OK
            }
            Err(e) => invalid(e.0),
        }
    })
}

/// Runs queued completions and progress callbacks on this thread (GSMS_CALLBACKS_ON_DISPATCH).
/// `max_callbacks` 0 = all that are queued now. Returns how many callbacks ran. Returns 0 at once
/// for NULL, in ON_WORKER mode, while another thread dispatches, or from inside a callback.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_dispatch(client: *mut gsms_client, max_callbacks: u32) -> u32 {
    guard(|| {
        if client.is_null() {
            return 0; // without touching the last error: this function does not return a status
        }
        // The reference keeps the client alive while its callbacks run: one of them may free it.
        match unsafe { self::client(client) } {
            Ok(c) => c.rt.dispatch(max_callbacks),
            Err(_) => 0,
        }
    })
}

/// Returns at once; in the background resolves DNS and opens a pooled (TLS) connection to the
/// base URL with a `HEAD /`, so the first real call skips the handshake.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_warmup(client: *mut gsms_client) -> gsms_status {
    guard(|| {
        let c = match unsafe { self::client(client) } {
            Ok(c) => c,
            Err(s) => return s,
        };
        match c.rt.warmup() {
            Ok(()) => gsms_status::GSMS_OK,
            Err(s) => {
                set_last_error("the client is being freed");
                s.into()
            }
        }
    })
}

fn deadline(ms: u32) -> Option<Instant> {
    (ms > 0).then(|| Instant::now() + Duration::from_millis(ms.into()))
}

/// Common checks of the call functions; returns the client and a copy of the request.
unsafe fn call_args(
    client: *mut gsms_client,
    req: *const gsms_cluster_request,
) -> Result<(Arc<gsms_client>, crate::core::ClusterRequest), gsms_status> {
    let c = unsafe { self::client(client) }?;
    let r = unsafe { handle(req, "req") }?;
    r.inner.validate().map_err(|e| invalid(e.0))?;
    if c.rt.is_shutting_down() {
        set_last_error("the client is being freed");
        return Err(gsms_status::GSMS_ERR_SHUTDOWN);
    }
    Ok((c, r.inner.clone()))
}

unsafe fn blocking(
    client: *mut gsms_client,
    req: *const gsms_cluster_request,
    kind: Kind,
    deadline_ms: u32,
    out: *mut *mut gsms_cluster_result,
) -> gsms_status {
    let (c, r) = match unsafe { call_args(client, req) } {
        Ok(v) => v,
        Err(s) => {
            if !out.is_null() {
                // SAFETY: non-NULL out points to writable storage (contract). Nothing is known.
                unsafe { *out = std::ptr::null_mut() };
            }
            return s;
        }
    };
    let result = c.rt.call_blocking(kind, &r, deadline(deadline_ms));
    let status: gsms_status = result.status.into();
    set_last_error(&result.error_message);
    if !out.is_null() {
        // SAFETY: as above.
        unsafe { *out = gsms_cluster_result::boxed(Arc::new(result)) };
    }
    status
}

/// One POST (with retries per the policy), on this thread: never call it on a frame thread.
/// On GSMS_OK `*out` holds the answer, whatever its fulfillment state. On failure, if `out` is
/// non-NULL, `*out` still receives a result carrying the error details (HTTP status, message,
/// correlation id), or NULL if nothing is known (invalid arguments). Caller owns `*out`; free
/// with gsms_cluster_result_free.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_create_cluster(
    client: *mut gsms_client,
    req: *const gsms_cluster_request,
    out: *mut *mut gsms_cluster_result,
) -> gsms_status {
    guard(|| unsafe { blocking(client, req, Kind::Create, 0, out) })
}

/// POST, then while the answer is Queued wait pollIntervalMilliseconds (at least 100 ms) and POST
/// again (same sessionId) until Fulfilled or Aborted, or until `deadline_ms` (0 = no deadline)
/// passes: GSMS_ERR_TIMEOUT, returned as soon as the next poll would come after the deadline.
/// Aborted is GSMS_OK with state ABORTED; an unrecognised state ends the call with GSMS_OK and
/// state UNKNOWN. Blocking; `out` as for gsms_client_create_cluster.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_allocate_cluster(
    client: *mut gsms_client,
    req: *const gsms_cluster_request,
    deadline_ms: u32,
    out: *mut *mut gsms_cluster_result,
) -> gsms_status {
    guard(|| unsafe { blocking(client, req, Kind::Allocate, deadline_ms, out) })
}

fn done_fn(on_done: gsms_cluster_callback, user_data: *mut c_void) -> Option<DoneFn> {
    let f = on_done?;
    let ud = UserData(user_data);
    Some(Box::new(move |status: Status, r: Option<&Arc<ClusterResult>>| {
        let ud = ud;
        let h = r.map(|r| gsms_cluster_result::new(Arc::clone(r)));
        let p = h.as_ref().map_or(std::ptr::null(), |h| h as *const gsms_cluster_result);
        // SAFETY: registered by the caller for this call shape; `p` lives until it returns.
        unsafe { f(ud.0, status.into(), p) }
    }))
}

fn progress_fn(on_progress: gsms_progress_callback, user_data: *mut c_void) -> Option<ProgressFn> {
    let f = on_progress?;
    let ud = UserData(user_data);
    Some(Box::new(move |r: &Arc<ClusterResult>| {
        let ud = ud;
        let h = gsms_cluster_result::new(Arc::clone(r));
        // SAFETY: as above.
        unsafe { f(ud.0, &h) }
    }))
}

unsafe fn start(
    client: *mut gsms_client,
    req: *const gsms_cluster_request,
    kind: Kind,
    deadline_ms: u32,
    on_progress: gsms_progress_callback,
    on_done: gsms_cluster_callback,
    user_data: *mut c_void,
    out_op: *mut *mut gsms_operation,
) -> gsms_status {
    if on_done.is_none() && out_op.is_null() {
        return invalid("on_done and out_op are both NULL: nobody could see the outcome");
    }
    let (c, r) = match unsafe { call_args(client, req) } {
        Ok(v) => v,
        Err(s) => return s,
    };
    match c.rt.start(kind, r, deadline(deadline_ms), progress_fn(on_progress, user_data), done_fn(on_done, user_data)) {
        Ok(op) => {
            if !out_op.is_null() {
                // SAFETY: non-NULL out points to writable storage (contract).
                unsafe { *out_op = Box::into_raw(Box::new(gsms_operation { op })) };
            }
            gsms_status::GSMS_OK
        }
        Err(s) => {
            set_last_error(if s == Status::Shutdown {
                "the client is being freed"
            } else {
                "cannot start the client's worker threads"
            });
            s.into()
        }
    }
}

/// Starts one POST (with retries) on a worker; returns at once. On GSMS_OK, `on_done` (if given)
/// is called exactly once, later, never inside this call (see gsms_callback_mode for the thread);
/// on any other return it is never called. `out_op` may be NULL; when set, `*out_op` is caller
/// owns; free with gsms_operation_free. `on_done` and `out_op` may not both be NULL.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_create_cluster_async(
    client: *mut gsms_client,
    req: *const gsms_cluster_request,
    on_done: gsms_cluster_callback,
    user_data: *mut c_void,
    out_op: *mut *mut gsms_operation,
) -> gsms_status {
    guard(|| unsafe { start(client, req, Kind::Create, 0, None, on_done, user_data, out_op) })
}

/// Starts an allocation (POST, then poll while Queued; see gsms_client_allocate_cluster) on a
/// worker; returns at once. `on_progress` (may be NULL) is called for each Queued answer, on the
/// same thread as completions. Otherwise as gsms_client_create_cluster_async.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_allocate_cluster_async(
    client: *mut gsms_client,
    req: *const gsms_cluster_request,
    deadline_ms: u32,
    on_progress: gsms_progress_callback,
    on_done: gsms_cluster_callback,
    user_data: *mut c_void,
    out_op: *mut *mut gsms_operation,
) -> gsms_status {
    guard(|| unsafe { start(client, req, Kind::Allocate, deadline_ms, on_progress, on_done, user_data, out_op) })
}
