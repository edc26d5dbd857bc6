//! `POST /titles/{titleId}/clusters`: `gsms_cluster_request` (builder), `gsms_cluster_result`
//! (immutable; any thread) and the create/allocate calls, blocking and async.

use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

use super::call::{self, Exported};
use super::client::gsms_client;
use super::handle::{box_free, box_into_raw, box_mut, box_ref, flag_arg, str_arg, write_out, BoxHandle};
use super::info::gsms_call_info;
use super::operation::gsms_operation;
use super::{cstring, gsms_fulfillment_state, gsms_status, guard, invalid, set_last_error, status, text_ptr};
use crate::core::{AllocateCluster, ClusterRequest, ClusterResult, CreateCluster};

/// A request for a server for one MPSD session. Create with `gsms_cluster_request_new`.
pub struct gsms_cluster_request {
    pub(crate) inner: ClusterRequest,
}
impl BoxHandle for gsms_cluster_request {}

/// What a call learnt: fulfillment state, where to connect, and the exchange details
/// (`gsms_cluster_result_info`). Immutable; may be read from any thread.
pub struct gsms_cluster_result {
    pub(crate) inner: Arc<ClusterResult>,
    info: gsms_call_info,
    host_name: CString,
    region: CString,
    secure_context: CString,
    port_names: Vec<CString>,
}
impl BoxHandle for gsms_cluster_result {}

impl Exported for ClusterResult {
    type Handle = gsms_cluster_result;
    const TAKE_FN: &'static str = "gsms_operation_take_cluster_result";
    fn handle(r: Arc<ClusterResult>) -> gsms_cluster_result {
        gsms_cluster_result {
            info: gsms_call_info::new(&r.info),
            host_name: cstring(&r.host_name),
            region: cstring(&r.region),
            secure_context: cstring(&r.secure_context),
            port_names: r.ports.iter().map(|p| cstring(&p.name)).collect(),
            inner: r,
        }
    }
}

/// Completion callback. `result` is borrowed: valid only during this callback (keep it with
/// gsms_cluster_result_clone); non-NULL whenever anything is known (always on GSMS_OK).
pub type gsms_cluster_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, status: gsms_status, result: *const gsms_cluster_result)>;

/// Progress callback: called each time a poll answers Queued, before waiting again; same thread
/// rules as completions. `queued` is valid only during this callback.
pub type gsms_progress_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, queued: *const gsms_cluster_result)>;

// ----- the request -----

/// Creates a request for `title_id`. Caller owns; free with gsms_cluster_request_free.
/// NULL only on out-of-memory.
#[no_mangle]
pub extern "C" fn gsms_cluster_request_new(title_id: u32) -> *mut gsms_cluster_request {
    guard(|| box_into_raw(gsms_cluster_request { inner: ClusterRequest::new(title_id) }))
}

/// Frees a request. NULL is a no-op. Operations started from it keep their own copy.
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_request_free(req: *mut gsms_cluster_request) {
    guard(|| unsafe { box_free(req) })
}

/// The MPSD session path, e.g. "/serviceconfigs/<scid>/sessionTemplates/<t>/sessions/<name>".
/// Required; non-empty; no control characters.
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_request_set_session_id(
    req: *mut gsms_cluster_request,
    session_id: *const c_char,
) -> gsms_status {
    status(|| {
        let r = unsafe { box_mut(req, "req") }?;
        r.inner.set_session_id(unsafe { str_arg(session_id, "session_id") }?).map_err(|e| invalid(e.0))
    })
}

/// Builds the session id "/serviceconfigs/<scid>/sessionTemplates/<template_name>/sessions/<session_name>".
/// Each part non-empty, without '/' or control characters.
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_request_set_session(
    req: *mut gsms_cluster_request,
    scid: *const c_char,
    template_name: *const c_char,
    session_name: *const c_char,
) -> gsms_status {
    status(|| {
        let r = unsafe { box_mut(req, "req") }?;
        let (a, b, c) = unsafe {
            (str_arg(scid, "scid")?, str_arg(template_name, "template_name")?, str_arg(session_name, "session_name")?)
        };
        r.inner.set_session(a, b, c).map_err(|e| invalid(e.0))
    })
}

/// 1: ask the service not to queue this session when no server is free (the answer is then
/// Aborted); 0 (default): queue it. Any other value is invalid.
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_request_set_abort_if_queued(
    req: *mut gsms_cluster_request,
    abort_if_queued: u32,
) -> gsms_status {
    status(|| {
        let r = unsafe { box_mut(req, "req") }?;
        r.inner.abort_if_queued = flag_arg(abort_if_queued, "abort_if_queued")?;
        Ok(())
    })
}

/// The request as a call, checked before anything is sent.
fn checked(req: &gsms_cluster_request) -> Result<&ClusterRequest, gsms_status> {
    req.inner.validate().map_err(|e| invalid(e.0))?;
    Ok(&req.inner)
}

// ----- the calls -----

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
    status(|| unsafe {
        call::blocking(client, call::from_request(req, |r| checked(r).map(CreateCluster::new)), 0, out)
    })
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
    status(|| unsafe {
        call::blocking(client, call::from_request(req, |r| checked(r).map(AllocateCluster::new)), deadline_ms, out)
    })
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
    status(|| unsafe {
        let call = call::from_request(req, |r| checked(r).map(CreateCluster::new));
        call::start(client, call, 0, None, on_done, user_data, out_op)
    })
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
    status(|| unsafe {
        let call = call::from_request(req, |r| checked(r).map(AllocateCluster::new));
        call::start(client, call, deadline_ms, on_progress, on_done, user_data, out_op)
    })
}

/// Polling instead of callbacks (IL2CPP-proof by construction) for cluster results (clusters and
/// inline clusters): GSMS_PENDING while the operation runs; once done, its final status and, if
/// `out_result` is non-NULL, a new result (caller owns; free with gsms_cluster_result_free). May
/// be called again: same status, new copy. An operation of another result type:
/// GSMS_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn gsms_operation_take_result(
    op: *mut gsms_operation,
    out_result: *mut *mut gsms_cluster_result,
) -> gsms_status {
    status(|| unsafe { call::take::<ClusterResult>(op, out_result) })
}

/// The same as gsms_operation_take_result, named after its result type like the other calls'.
#[no_mangle]
pub unsafe extern "C" fn gsms_operation_take_cluster_result(
    op: *mut gsms_operation,
    out_result: *mut *mut gsms_cluster_result,
) -> gsms_status {
    status(|| unsafe { call::take::<ClusterResult>(op, out_result) })
}

// ----- the result -----

unsafe fn get<'a>(r: *const gsms_cluster_result) -> Option<&'a gsms_cluster_result> {
    // SAFETY: non-NULL results come from this library (contract).
    unsafe { r.as_ref() }
}

/// The exchange details (status, HTTP status, attempts, correlation id, Retry-After, message, raw
/// body). Borrowed; valid until the result is freed. NULL for NULL.
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_info(r: *const gsms_cluster_result) -> *const gsms_call_info {
    guard(|| unsafe { get(r) }.map_or(std::ptr::null(), |r| &r.info as *const gsms_call_info))
}

/// The call's status (GSMS_OK, or why it failed). NULL -> GSMS_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_status(r: *const gsms_cluster_result) -> gsms_status {
    guard(|| match unsafe { get(r) } {
        Some(r) => {
            set_last_error(&r.inner.error_message);
            r.info.status()
        }
        None => invalid("r must not be NULL"),
    })
}

/// Fulfilled, Queued, Aborted, or Unknown (also for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_fulfillment_state(
    r: *const gsms_cluster_result,
) -> gsms_fulfillment_state {
    guard(|| {
        unsafe { get(r) }.map_or(gsms_fulfillment_state::GSMS_FULFILLMENT_UNKNOWN, |r| r.inner.fulfillment_state.into())
    })
}

/// The service's recommended poll interval in ms; 1000 when absent or unparsable (or NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_poll_interval_ms(r: *const gsms_cluster_result) -> u32 {
    guard(|| unsafe { get(r) }.map_or(crate::core::wire::DEFAULT_POLL_INTERVAL_MS, |r| r.inner.poll_interval_ms))
}

/// The host name (or address) of the allocated server.
/// Borrowed; valid until the result is freed. "" when absent (or for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_host_name(r: *const gsms_cluster_result) -> *const c_char {
    guard(|| text_ptr(unsafe { get(r) }.map(|r| &r.host_name)))
}

/// The region of the allocated server.
/// Borrowed; valid until the result is freed. "" when absent (or for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_region(r: *const gsms_cluster_result) -> *const c_char {
    guard(|| text_ptr(unsafe { get(r) }.map(|r| &r.region)))
}

/// The server's secure device address (base64), if the service sent one.
/// Borrowed; valid until the result is freed. "" when absent (or for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_secure_context(r: *const gsms_cluster_result) -> *const c_char {
    guard(|| text_ptr(unsafe { get(r) }.map(|r| &r.secure_context)))
}

/// How many port mappings the answer holds (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_port_count(r: *const gsms_cluster_result) -> usize {
    guard(|| unsafe { get(r) }.map_or(0, |r| r.inner.ports.len()))
}

/// Port mapping `index` (0-based): its name (borrowed; valid until the result is freed), internal
/// and external ports. Each out-pointer may be NULL if not wanted. Index out of range ->
/// GSMS_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_port(
    r: *const gsms_cluster_result,
    index: usize,
    name: *mut *const c_char,
    internal_port: *mut u32,
    external_port: *mut u32,
) -> gsms_status {
    status(|| {
        let r = unsafe { box_ref(r, "r") }?;
        let p =
            r.inner.ports.get(index).ok_or_else(|| {
                invalid(format!("port index {index} is out of range (count {})", r.inner.ports.len()))
            })?;
        unsafe {
            write_out(name, r.port_names[index].as_ptr());
            write_out(internal_port, p.internal);
            write_out(external_port, p.external);
        }
        Ok(())
    })
}

/// The last HTTP status seen; 0 if none (or NULL). Also in gsms_cluster_result_info.
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_http_status(r: *const gsms_cluster_result) -> u16 {
    guard(|| unsafe { get(r) }.map_or(0, |r| r.inner.http_status))
}

/// HTTP requests made, retries and polls included (0 for NULL). Also in gsms_cluster_result_info.
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_attempts(r: *const gsms_cluster_result) -> u32 {
    guard(|| unsafe { get(r) }.map_or(0, |r| r.inner.attempts))
}

/// X-XblCorrelationId of the last response: quote it to support. Also in gsms_cluster_result_info.
/// Borrowed; valid until the result is freed. "" when absent (or for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_correlation_id(r: *const gsms_cluster_result) -> *const c_char {
    guard(|| unsafe { super::info::gsms_call_info_correlation_id(gsms_cluster_result_info(r)) })
}

/// The last Retry-After seen, in ms; 0 if none (or NULL). Also in gsms_cluster_result_info.
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_retry_after_ms(r: *const gsms_cluster_result) -> u32 {
    guard(|| unsafe { get(r) }.map_or(0, |r| r.inner.retry_after_ms))
}

/// Human-readable reason for a failure; "" on success. Also in gsms_cluster_result_info.
/// Borrowed; valid until the result is freed. "" when absent (or for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_error_message(r: *const gsms_cluster_result) -> *const c_char {
    guard(|| text_ptr(unsafe { get(r) }.map(|r| r.info.error_message())))
}

/// The last response body as received (secrets redacted; non-UTF-8 bytes of error bodies
/// replaced). Also in gsms_cluster_result_info.
/// Borrowed; valid until the result is freed. "" when absent (or for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_raw_json(r: *const gsms_cluster_result) -> *const c_char {
    guard(|| unsafe { super::info::gsms_call_info_raw_json(gsms_cluster_result_info(r)) })
}

/// A copy that outlives the original (e.g. to keep a callback's borrowed result).
/// Caller owns; free with gsms_cluster_result_free. NULL for NULL.
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_clone(r: *const gsms_cluster_result) -> *mut gsms_cluster_result {
    guard(|| {
        unsafe { get(r) }.map_or(std::ptr::null_mut(), |r| box_into_raw(ClusterResult::handle(Arc::clone(&r.inner))))
    })
}

/// Frees a result. NULL is a no-op. Never pass a callback's borrowed result.
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_free(r: *mut gsms_cluster_result) {
    guard(|| unsafe { box_free(r) })
}
