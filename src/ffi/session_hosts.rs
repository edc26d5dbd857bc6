//! `POST /titles/{titleId}/sessionhosts` and `GET .../sessions/{sessionId}/allocationStatus`:
//! `gsms_session_host_request` (builder), `gsms_session_host_result` (immutable; any thread) and the
//! create/allocate/status calls, blocking and async.

use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

use super::call::{self, Exported};
use super::client::gsms_client;
use super::handle::{box_free, box_into_raw, box_mut, box_ref, opt as get, str_arg, BoxHandle, CServer};
use super::info::gsms_call_info;
use super::operation::gsms_operation;
use super::{cstring, gsms_fulfillment_state, gsms_status, guard, invalid, status, text_ptr};
use crate::core::calls::session_hosts::create_session_host;
use crate::core::{AllocateSessionHost, GetAllocationStatus, InvalidArgument, SessionHostRequest, SessionHostResult};

/// A request for a session host for a caller-chosen session id (a GUID). Create with
/// `gsms_session_host_request_new`; session id, cloud game id and at least one location are required.
pub struct gsms_session_host_request {
    inner: SessionHostRequest,
}
impl BoxHandle for gsms_session_host_request {}

/// A session host (or a session's allocation status): its state and where to connect. Immutable;
/// may be read from any thread.
pub struct gsms_session_host_result {
    inner: Arc<SessionHostResult>,
    info: gsms_call_info,
    server: CServer,
    session_host_id: CString,
    session_id: CString,
    description: CString,
    cluster_id: CString,
    ticket_id: CString,
    game_host_id: CString,
}
impl BoxHandle for gsms_session_host_result {}

impl Exported for SessionHostResult {
    type Handle = gsms_session_host_result;
    const TAKE_FN: &'static str = "gsms_operation_take_session_host_result";
    fn handle(r: Arc<SessionHostResult>) -> gsms_session_host_result {
        gsms_session_host_result {
            info: gsms_call_info::new(&r.info),
            server: CServer::new(&r.host_name, &r.region, &r.secure_context, &r.ports),
            session_host_id: cstring(&r.session_host_id),
            session_id: cstring(&r.session_id),
            description: cstring(&r.description),
            cluster_id: cstring(&r.cluster_id),
            ticket_id: cstring(&r.ticket_id),
            game_host_id: cstring(&r.game_host_id),
            inner: r,
        }
    }
}

/// Completion callback of a session host call. `result` is borrowed: valid only during this
/// callback (keep it with gsms_session_host_result_clone); non-NULL whenever anything is known.
pub type gsms_session_host_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, status: gsms_status, result: *const gsms_session_host_result)>;

/// Progress callback of gsms_client_allocate_session_host_async: called each time the allocation
/// is not Active yet (409 or Queued), before waiting again. `queued` is valid only during this callback.
pub type gsms_session_host_progress_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, queued: *const gsms_session_host_result)>;

// ----- the request -----

/// Creates a request for `title_id`. Caller owns; free with gsms_session_host_request_free.
/// NULL only on out-of-memory.
#[no_mangle]
pub extern "C" fn gsms_session_host_request_new(title_id: u32) -> *mut gsms_session_host_request {
    guard(|| box_into_raw(gsms_session_host_request { inner: SessionHostRequest::new(title_id) }))
}

/// Frees a request. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gsms_session_host_request_free(req: *mut gsms_session_host_request) {
    guard(|| unsafe { box_free(req) })
}

/// Applies a text setter of the request.
unsafe fn set(
    req: *mut gsms_session_host_request,
    v: *const c_char,
    what: &str,
    f: fn(&mut SessionHostRequest, &str) -> Result<(), InvalidArgument>,
) -> Result<(), gsms_status> {
    // SAFETY: the caller passes a live request and a C string (the contract).
    let (r, v) = unsafe { (box_mut(req, "req")?, str_arg(v, what)?) };
    f(&mut r.inner, v).map_err(|e| invalid(e.0))
}

/// `sessionId`: a GUID the caller chooses; the same id follows the allocation. Required.
#[no_mangle]
pub unsafe extern "C" fn gsms_session_host_request_set_session_id(
    req: *mut gsms_session_host_request,
    session_id: *const c_char,
) -> gsms_status {
    status(|| unsafe { set(req, session_id, "session_id", SessionHostRequest::set_session_id) })
}

/// `cloudGameId` (the GSI set id). Required.
#[no_mangle]
pub unsafe extern "C" fn gsms_session_host_request_set_cloud_game_id(
    req: *mut gsms_session_host_request,
    cloud_game_id: *const c_char,
) -> gsms_status {
    status(|| unsafe { set(req, cloud_game_id, "cloud_game_id", SessionHostRequest::set_cloud_game_id) })
}

/// Appends a region name to `locations` (in order of preference). At least one is required.
#[no_mangle]
pub unsafe extern "C" fn gsms_session_host_request_add_location(
    req: *mut gsms_session_host_request,
    location: *const c_char,
) -> gsms_status {
    status(|| unsafe { set(req, location, "location", SessionHostRequest::add_location) })
}

/// `sessionCookie`: an opaque string for the game server, at most 32 KiB. Optional.
#[no_mangle]
pub unsafe extern "C" fn gsms_session_host_request_set_session_cookie(
    req: *mut gsms_session_host_request,
    session_cookie: *const c_char,
) -> gsms_status {
    status(|| unsafe { set(req, session_cookie, "session_cookie", SessionHostRequest::set_session_cookie) })
}

/// `gameModeId`. Optional.
#[no_mangle]
pub unsafe extern "C" fn gsms_session_host_request_set_game_mode_id(
    req: *mut gsms_session_host_request,
    game_mode_id: *const c_char,
) -> gsms_status {
    status(|| unsafe { set(req, game_mode_id, "game_mode_id", SessionHostRequest::set_game_mode_id) })
}

/// `sandboxId`. Optional.
#[no_mangle]
pub unsafe extern "C" fn gsms_session_host_request_set_sandbox_id(
    req: *mut gsms_session_host_request,
    sandbox_id: *const c_char,
) -> gsms_status {
    status(|| unsafe { set(req, sandbox_id, "sandbox_id", SessionHostRequest::set_sandbox_id) })
}

// ----- the calls -----

/// One POST (with retries; a 503, no host StandingBy, is retried), on this thread. A 409 (the
/// request exists but its host is not Active yet) is GSMS_ERR_HTTP_STATUS here; follow it with
/// gsms_client_allocate_session_host. `out` as for gsms_client_create_cluster; caller owns `*out`;
/// free with gsms_session_host_result_free.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_create_session_host(
    client: *mut gsms_client,
    req: *const gsms_session_host_request,
    out: *mut *mut gsms_session_host_result,
) -> gsms_status {
    status(|| unsafe { call::blocking(client, call::from_request(req, |r| Ok(create_session_host(&r.inner))), 0, out) })
}

/// POST, then while the answer is 409 or Queued poll the allocation status (at the answer's poll
/// interval, 1000 ms when it gives none; at least 100 ms) until Fulfilled or Aborted (GSMS_OK), an
/// error, or until `deadline_ms` (0 = none) passes: GSMS_ERR_TIMEOUT as soon as the next poll would
/// come after it. Blocking; `out` as for gsms_client_create_cluster.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_allocate_session_host(
    client: *mut gsms_client,
    req: *const gsms_session_host_request,
    deadline_ms: u32,
    out: *mut *mut gsms_session_host_result,
) -> gsms_status {
    status(|| unsafe {
        call::blocking(client, call::from_request(req, |r| Ok(AllocateSessionHost::new(&r.inner))), deadline_ms, out)
    })
}

/// One GET of a session's allocation status (with retries), on this thread. `session_id` is the
/// one the session host request named (percent-encoded in the path). `out` as for
/// gsms_client_create_cluster.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_get_allocation_status(
    client: *mut gsms_client,
    title_id: u32,
    session_id: *const c_char,
    out: *mut *mut gsms_session_host_result,
) -> gsms_status {
    status(|| unsafe {
        let call = str_arg(session_id, "session_id").map(|s| GetAllocationStatus::new(title_id, s));
        call::blocking(client, call.and_then(call::refuse_invalid), 0, out)
    })
}

/// Starts the POST on a worker; returns at once. As gsms_client_create_cluster_async; take the
/// result with gsms_operation_take_session_host_result.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_create_session_host_async(
    client: *mut gsms_client,
    req: *const gsms_session_host_request,
    on_done: gsms_session_host_callback,
    user_data: *mut c_void,
    out_op: *mut *mut gsms_operation,
) -> gsms_status {
    status(|| unsafe {
        let call = call::from_request(req, |r| Ok(create_session_host(&r.inner)));
        call::start(client, call, 0, None, on_done, user_data, out_op)
    })
}

/// Starts a session host allocation (see gsms_client_allocate_session_host) on a worker; returns at
/// once. `on_progress` (may be NULL) sees each not-yet-Active answer, on the same thread as
/// completions; waits between polls hold no worker. As gsms_client_allocate_cluster_async.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_allocate_session_host_async(
    client: *mut gsms_client,
    req: *const gsms_session_host_request,
    deadline_ms: u32,
    on_progress: gsms_session_host_progress_callback,
    on_done: gsms_session_host_callback,
    user_data: *mut c_void,
    out_op: *mut *mut gsms_operation,
) -> gsms_status {
    status(|| unsafe {
        let call = call::from_request(req, |r| Ok(AllocateSessionHost::new(&r.inner)));
        call::start(client, call, deadline_ms, on_progress, on_done, user_data, out_op)
    })
}

/// Starts the allocation status GET on a worker; returns at once. As
/// gsms_client_get_ticket_status_async; take the result with gsms_operation_take_session_host_result.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_get_allocation_status_async(
    client: *mut gsms_client,
    title_id: u32,
    session_id: *const c_char,
    on_done: gsms_session_host_callback,
    user_data: *mut c_void,
    out_op: *mut *mut gsms_operation,
) -> gsms_status {
    status(|| unsafe {
        let call = str_arg(session_id, "session_id").map(|s| GetAllocationStatus::new(title_id, s));
        call::start(client, call.and_then(call::refuse_invalid), 0, None, on_done, user_data, out_op)
    })
}

/// Polling instead of callbacks, for a session host or allocation status operation. As
/// gsms_operation_take_ticket_result.
#[no_mangle]
pub unsafe extern "C" fn gsms_operation_take_session_host_result(
    op: *mut gsms_operation,
    out_result: *mut *mut gsms_session_host_result,
) -> gsms_status {
    status(|| unsafe { call::take::<SessionHostResult>(op, out_result) })
}

// ----- the result -----

/// The exchange details. Borrowed; valid until the result is freed. NULL for NULL.
#[no_mangle]
pub unsafe extern "C" fn gsms_session_host_result_info(r: *const gsms_session_host_result) -> *const gsms_call_info {
    guard(|| unsafe { get(r) }.map_or(std::ptr::null(), |r| &r.info as *const gsms_call_info))
}

/// Fulfilled (a session host answer without a state is Fulfilled), Queued, Aborted, or Unknown
/// (also for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_session_host_result_fulfillment_state(
    r: *const gsms_session_host_result,
) -> gsms_fulfillment_state {
    guard(|| {
        unsafe { get(r) }.map_or(gsms_fulfillment_state::GSMS_FULFILLMENT_UNKNOWN, |r| r.inner.fulfillment_state.into())
    })
}

/// The host name of the session host. Borrowed; valid until the result is freed. "" when absent.
#[no_mangle]
pub unsafe extern "C" fn gsms_session_host_result_host_name(r: *const gsms_session_host_result) -> *const c_char {
    guard(|| text_ptr(unsafe { get(r) }.map(|r| &r.server.host_name)))
}

/// The session host's region. Borrowed; valid until the result is freed. "" when absent.
#[no_mangle]
pub unsafe extern "C" fn gsms_session_host_result_region(r: *const gsms_session_host_result) -> *const c_char {
    guard(|| text_ptr(unsafe { get(r) }.map(|r| &r.server.region)))
}

/// The secure device address (base64). Borrowed; valid until the result is freed. "" when absent.
#[no_mangle]
pub unsafe extern "C" fn gsms_session_host_result_secure_context(r: *const gsms_session_host_result) -> *const c_char {
    guard(|| text_ptr(unsafe { get(r) }.map(|r| &r.server.secure_context)))
}

/// The session host id. Borrowed; valid until the result is freed. "" when absent.
#[no_mangle]
pub unsafe extern "C" fn gsms_session_host_result_session_host_id(r: *const gsms_session_host_result) -> *const c_char {
    guard(|| text_ptr(unsafe { get(r) }.map(|r| &r.session_host_id)))
}

/// The session id (allocation status answers). Borrowed; valid until the result is freed. "" when absent.
#[no_mangle]
pub unsafe extern "C" fn gsms_session_host_result_session_id(r: *const gsms_session_host_result) -> *const c_char {
    guard(|| text_ptr(unsafe { get(r) }.map(|r| &r.session_id)))
}

/// The service's description (allocation status answers). Borrowed; valid until the result is freed. "" when absent.
#[no_mangle]
pub unsafe extern "C" fn gsms_session_host_result_description(r: *const gsms_session_host_result) -> *const c_char {
    guard(|| text_ptr(unsafe { get(r) }.map(|r| &r.description)))
}

/// The cluster id (allocation status answers). Borrowed; valid until the result is freed. "" when absent.
#[no_mangle]
pub unsafe extern "C" fn gsms_session_host_result_cluster_id(r: *const gsms_session_host_result) -> *const c_char {
    guard(|| text_ptr(unsafe { get(r) }.map(|r| &r.cluster_id)))
}

/// The ticket id (allocation status answers). Borrowed; valid until the result is freed. "" when absent.
#[no_mangle]
pub unsafe extern "C" fn gsms_session_host_result_ticket_id(r: *const gsms_session_host_result) -> *const c_char {
    guard(|| text_ptr(unsafe { get(r) }.map(|r| &r.ticket_id)))
}

/// The game host id (allocation status answers). Borrowed; valid until the result is freed. "" when absent.
#[no_mangle]
pub unsafe extern "C" fn gsms_session_host_result_game_host_id(r: *const gsms_session_host_result) -> *const c_char {
    guard(|| text_ptr(unsafe { get(r) }.map(|r| &r.game_host_id)))
}

/// How many port mappings the answer holds (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_session_host_result_port_count(r: *const gsms_session_host_result) -> usize {
    guard(|| unsafe { get(r) }.map_or(0, |r| r.server.ports.count()))
}

/// Port mapping `index`: name (borrowed; valid until the result is freed), internal and external
/// ports; each out-pointer may be NULL. Index out of range -> GSMS_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn gsms_session_host_result_port(
    r: *const gsms_session_host_result,
    index: usize,
    name: *mut *const c_char,
    internal_port: *mut u32,
    external_port: *mut u32,
) -> gsms_status {
    status(|| unsafe { box_ref(r, "r")?.server.ports.write(index, name, internal_port, external_port) })
}

/// A copy that outlives the original. Caller owns; free with gsms_session_host_result_free. NULL for NULL.
#[no_mangle]
pub unsafe extern "C" fn gsms_session_host_result_clone(
    r: *const gsms_session_host_result,
) -> *mut gsms_session_host_result {
    guard(|| {
        unsafe { get(r) }
            .map_or(std::ptr::null_mut(), |r| box_into_raw(SessionHostResult::handle(Arc::clone(&r.inner))))
    })
}

/// Frees a result. NULL is a no-op. Never pass a callback's borrowed result.
#[no_mangle]
pub unsafe extern "C" fn gsms_session_host_result_free(r: *mut gsms_session_host_result) {
    guard(|| unsafe { box_free(r) })
}
