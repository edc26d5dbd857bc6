//! `GET /titles/{titleId}/tickets/{ticketId}/status`: `gsms_ticket_result` (immutable; any thread)
//! and the call, blocking and async.

use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

use super::call::{self, Exported};
use super::client::gsms_client;
use super::enums::gsms_host_status;
use super::handle::{box_free, box_into_raw, box_ref, opt as get, str_arg, BoxHandle, CServer};
use super::info::gsms_call_info;
use super::operation::gsms_operation;
use super::{cstring, gsms_status, guard, status, text_ptr};
use crate::core::calls::tickets::get_ticket_status;
use crate::core::TicketResult;

/// A ticket's status: where an inline cluster's allocation stands, and where its server is once
/// Active. Immutable; may be read from any thread.
pub struct gsms_ticket_result {
    inner: Arc<TicketResult>,
    info: gsms_call_info,
    ticket_id: CString,
    cluster_id: CString,
    server: CServer,
    description: CString,
    game_host_id: CString,
}
impl BoxHandle for gsms_ticket_result {}

impl Exported for TicketResult {
    type Handle = gsms_ticket_result;
    const TAKE_FN: &'static str = "gsms_operation_take_ticket_result";
    fn handle(r: Arc<TicketResult>) -> gsms_ticket_result {
        gsms_ticket_result {
            info: gsms_call_info::new(&r.info),
            ticket_id: cstring(&r.ticket_id),
            cluster_id: cstring(&r.cluster_id),
            server: CServer::new(&r.host_name, &r.region, &r.secure_context, &r.ports),
            description: cstring(&r.description),
            game_host_id: cstring(&r.game_host_id),
            inner: r,
        }
    }
}

/// Completion callback of a ticket status call. `result` is borrowed: valid only during this
/// callback (keep it with gsms_ticket_result_clone); non-NULL whenever anything is known.
pub type gsms_ticket_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, status: gsms_status, result: *const gsms_ticket_result)>;

/// One GET of the ticket's status (with retries), on this thread: never on a frame thread.
/// `ticket_id` is the one given to the inline cluster request (percent-encoded in the path).
/// `out` as for gsms_client_create_cluster: a result on GSMS_OK, also on failure when anything is
/// known, else NULL. Caller owns `*out`; free with gsms_ticket_result_free.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_get_ticket_status(
    client: *mut gsms_client,
    title_id: u32,
    ticket_id: *const c_char,
    out: *mut *mut gsms_ticket_result,
) -> gsms_status {
    status(|| unsafe {
        let call = str_arg(ticket_id, "ticket_id").map(|t| get_ticket_status(title_id, t));
        call::blocking(client, call.and_then(call::refuse_invalid), 0, out)
    })
}

/// Starts the ticket status GET on a worker; returns at once. `on_done` (if given) is called
/// exactly once, later, never inside this call; `out_op` may be NULL (then `on_done` may not be);
/// take the result with gsms_operation_take_ticket_result.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_get_ticket_status_async(
    client: *mut gsms_client,
    title_id: u32,
    ticket_id: *const c_char,
    on_done: gsms_ticket_callback,
    user_data: *mut c_void,
    out_op: *mut *mut gsms_operation,
) -> gsms_status {
    status(|| unsafe {
        let call = str_arg(ticket_id, "ticket_id").map(|t| get_ticket_status(title_id, t));
        call::start(client, call.and_then(call::refuse_invalid), 0, None, on_done, user_data, out_op)
    })
}

/// Polling instead of callbacks: GSMS_PENDING while the operation runs; then its final status
/// and, if `out_result` is non-NULL, a new result (caller owns; free with gsms_ticket_result_free).
/// An operation of another result type: GSMS_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn gsms_operation_take_ticket_result(
    op: *mut gsms_operation,
    out_result: *mut *mut gsms_ticket_result,
) -> gsms_status {
    status(|| unsafe { call::take::<TicketResult>(op, out_result) })
}

/// The exchange details. Borrowed; valid until the result is freed. NULL for NULL.
#[no_mangle]
pub unsafe extern "C" fn gsms_ticket_result_info(r: *const gsms_ticket_result) -> *const gsms_call_info {
    guard(|| unsafe { get(r) }.map_or(std::ptr::null(), |r| &r.info as *const gsms_call_info))
}

/// Active, Queued, Aborted, Error, or Unknown (also for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_ticket_result_status(r: *const gsms_ticket_result) -> gsms_host_status {
    guard(|| unsafe { get(r) }.map_or(gsms_host_status::GSMS_HOST_UNKNOWN, |r| r.inner.status.into()))
}

/// The title id the service echoes (0 when absent or not a number; 0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_ticket_result_title_id(r: *const gsms_ticket_result) -> u32 {
    guard(|| unsafe { get(r) }.map_or(0, |r| r.inner.title_id))
}

/// The ticket id. Borrowed; valid until the result is freed. "" when absent (or for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_ticket_result_ticket_id(r: *const gsms_ticket_result) -> *const c_char {
    guard(|| text_ptr(unsafe { get(r) }.map(|r| &r.ticket_id)))
}

/// The cluster id. Borrowed; valid until the result is freed. "" when absent (or for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_ticket_result_cluster_id(r: *const gsms_ticket_result) -> *const c_char {
    guard(|| text_ptr(unsafe { get(r) }.map(|r| &r.cluster_id)))
}

/// The server's host name (once Active). Borrowed; valid until the result is freed. "" when absent.
#[no_mangle]
pub unsafe extern "C" fn gsms_ticket_result_host_name(r: *const gsms_ticket_result) -> *const c_char {
    guard(|| text_ptr(unsafe { get(r) }.map(|r| &r.server.host_name)))
}

/// The service's description (why an Error). Borrowed; valid until the result is freed. "" when absent.
#[no_mangle]
pub unsafe extern "C" fn gsms_ticket_result_description(r: *const gsms_ticket_result) -> *const c_char {
    guard(|| text_ptr(unsafe { get(r) }.map(|r| &r.description)))
}

/// The server's secure device address (base64). Borrowed; valid until the result is freed. "" when absent.
#[no_mangle]
pub unsafe extern "C" fn gsms_ticket_result_secure_context(r: *const gsms_ticket_result) -> *const c_char {
    guard(|| text_ptr(unsafe { get(r) }.map(|r| &r.server.secure_context)))
}

/// The game host id. Borrowed; valid until the result is freed. "" when absent (or for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_ticket_result_game_host_id(r: *const gsms_ticket_result) -> *const c_char {
    guard(|| text_ptr(unsafe { get(r) }.map(|r| &r.game_host_id)))
}

/// The server's region. Borrowed; valid until the result is freed. "" when absent (or for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_ticket_result_region(r: *const gsms_ticket_result) -> *const c_char {
    guard(|| text_ptr(unsafe { get(r) }.map(|r| &r.server.region)))
}

/// How many port mappings the answer holds (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_ticket_result_port_count(r: *const gsms_ticket_result) -> usize {
    guard(|| unsafe { get(r) }.map_or(0, |r| r.server.ports.count()))
}

/// Port mapping `index`: name (borrowed; valid until the result is freed), internal and external
/// ports; each out-pointer may be NULL. Index out of range -> GSMS_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn gsms_ticket_result_port(
    r: *const gsms_ticket_result,
    index: usize,
    name: *mut *const c_char,
    internal_port: *mut u32,
    external_port: *mut u32,
) -> gsms_status {
    status(|| unsafe { box_ref(r, "r")?.server.ports.write(index, name, internal_port, external_port) })
}

/// A copy that outlives the original. Caller owns; free with gsms_ticket_result_free. NULL for NULL.
#[no_mangle]
pub unsafe extern "C" fn gsms_ticket_result_clone(r: *const gsms_ticket_result) -> *mut gsms_ticket_result {
    guard(|| {
        unsafe { get(r) }.map_or(std::ptr::null_mut(), |r| box_into_raw(TicketResult::handle(Arc::clone(&r.inner))))
    })
}

/// Frees a result. NULL is a no-op. Never pass a callback's borrowed result.
#[no_mangle]
pub unsafe extern "C" fn gsms_ticket_result_free(r: *mut gsms_ticket_result) {
    guard(|| unsafe { box_free(r) })
}
