//! `POST /titles/{titleId}/inlineclusters`: `gsms_inline_cluster_request` (builder) and the
//! create/allocate calls, blocking and async. They answer with a `gsms_cluster_result`.

use std::ffi::{c_char, c_void};

use super::call;
use super::client::gsms_client;
use super::clusters::{gsms_cluster_callback, gsms_cluster_result, gsms_progress_callback};
use super::handle::{box_free, box_into_raw, box_mut, flag_arg, str_arg, BoxHandle};
use super::operation::gsms_operation;
use super::{gsms_status, guard, invalid, status};
use crate::core::calls::inline_clusters::create_inline_cluster;
use crate::core::{AllocateInlineCluster, InlineClusterRequest, InlineField};

/// A request for a server without MPSD, for a ticket (a group of players). Create with
/// `gsms_inline_cluster_request_new`; every field is required but abortIfQueued.
pub struct gsms_inline_cluster_request {
    inner: InlineClusterRequest,
}
impl BoxHandle for gsms_inline_cluster_request {}

/// Creates a request for `title_id`. Caller owns; free with gsms_inline_cluster_request_free.
/// NULL only on out-of-memory.
#[no_mangle]
pub extern "C" fn gsms_inline_cluster_request_new(title_id: u32) -> *mut gsms_inline_cluster_request {
    guard(|| box_into_raw(gsms_inline_cluster_request { inner: InlineClusterRequest::new(title_id) }))
}

/// Frees a request. NULL is a no-op. Operations started from it keep their own copy.
#[no_mangle]
pub unsafe extern "C" fn gsms_inline_cluster_request_free(req: *mut gsms_inline_cluster_request) {
    guard(|| unsafe { box_free(req) })
}

unsafe fn set(req: *mut gsms_inline_cluster_request, f: InlineField, v: *const c_char) -> Result<(), gsms_status> {
    // SAFETY: the caller passes a live request and a C string (the contract).
    let (r, v) = unsafe { (box_mut(req, "req")?, str_arg(v, f.wire_name())?) };
    r.inner.set(f, v).map_err(|e| invalid(e.0))
}

/// `serviceConfigId` (the title's service configuration id). Required; non-empty; no control characters.
#[no_mangle]
pub unsafe extern "C" fn gsms_inline_cluster_request_set_service_config_id(
    req: *mut gsms_inline_cluster_request,
    service_config_id: *const c_char,
) -> gsms_status {
    status(|| unsafe { set(req, InlineField::ServiceConfigId, service_config_id) })
}

/// `sandboxId`. Required; non-empty; no control characters.
#[no_mangle]
pub unsafe extern "C" fn gsms_inline_cluster_request_set_sandbox_id(
    req: *mut gsms_inline_cluster_request,
    sandbox_id: *const c_char,
) -> gsms_status {
    status(|| unsafe { set(req, InlineField::SandboxId, sandbox_id) })
}

/// `ticketId`: the same for every member of the group; follow it with gsms_client_get_ticket_status.
/// Required; non-empty; no control characters.
#[no_mangle]
pub unsafe extern "C" fn gsms_inline_cluster_request_set_ticket_id(
    req: *mut gsms_inline_cluster_request,
    ticket_id: *const c_char,
) -> gsms_status {
    status(|| unsafe { set(req, InlineField::TicketId, ticket_id) })
}

/// `gsiSetId`: the server image set (from gsms_client_get_variants). Required; non-empty.
#[no_mangle]
pub unsafe extern "C" fn gsms_inline_cluster_request_set_gsi_set_id(
    req: *mut gsms_inline_cluster_request,
    gsi_set_id: *const c_char,
) -> gsms_status {
    status(|| unsafe { set(req, InlineField::GsiSetId, gsi_set_id) })
}

/// `gameVariantId`: the game mode (from gsms_client_get_variants). Required; non-empty.
#[no_mangle]
pub unsafe extern "C" fn gsms_inline_cluster_request_set_game_variant_id(
    req: *mut gsms_inline_cluster_request,
    game_variant_id: *const c_char,
) -> gsms_status {
    status(|| unsafe { set(req, InlineField::GameVariantId, game_variant_id) })
}

/// `location`: the region's name, normally the best region from QoS. Required; non-empty.
#[no_mangle]
pub unsafe extern "C" fn gsms_inline_cluster_request_set_location(
    req: *mut gsms_inline_cluster_request,
    location: *const c_char,
) -> gsms_status {
    status(|| unsafe { set(req, InlineField::Location, location) })
}

/// `maxAllowedPlayers`: at least 1. Required.
#[no_mangle]
pub unsafe extern "C" fn gsms_inline_cluster_request_set_max_allowed_players(
    req: *mut gsms_inline_cluster_request,
    max_allowed_players: u32,
) -> gsms_status {
    status(|| {
        let r = unsafe { box_mut(req, "req") }?;
        r.inner.set_max_allowed_players(max_allowed_players).map_err(|e| invalid(e.0))
    })
}

/// 1: ask the service not to queue the ticket when no server is free (Aborted instead); 0
/// (default): queue it. Any other value is invalid.
#[no_mangle]
pub unsafe extern "C" fn gsms_inline_cluster_request_set_abort_if_queued(
    req: *mut gsms_inline_cluster_request,
    abort_if_queued: u32,
) -> gsms_status {
    status(|| {
        let r = unsafe { box_mut(req, "req") }?;
        r.inner.abort_if_queued = flag_arg(abort_if_queued, "abort_if_queued")?;
        Ok(())
    })
}

/// One POST (with retries), on this thread: never on a frame thread. `out` as for
/// gsms_client_create_cluster. Caller owns `*out`; free with gsms_cluster_result_free.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_create_inline_cluster(
    client: *mut gsms_client,
    req: *const gsms_inline_cluster_request,
    out: *mut *mut gsms_cluster_result,
) -> gsms_status {
    status(|| unsafe {
        call::blocking(client, call::from_request(req, |r| Ok(create_inline_cluster(&r.inner))), 0, out)
    })
}

/// POST, then while the answer is Queued follow the ticket's status (same ticketId) at the
/// answer's poll interval (at least 100 ms) until Active (state FULFILLED: where to connect),
/// Aborted (GSMS_OK, state ABORTED) or Error (GSMS_ERR_ALLOCATION_FAILED, the description in the
/// message), or until `deadline_ms` (0 = none) passes: GSMS_ERR_TIMEOUT, as soon as the next poll
/// would come after it. Blocking; `out` as for gsms_client_create_cluster.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_allocate_inline_cluster(
    client: *mut gsms_client,
    req: *const gsms_inline_cluster_request,
    deadline_ms: u32,
    out: *mut *mut gsms_cluster_result,
) -> gsms_status {
    status(|| unsafe {
        call::blocking(client, call::from_request(req, |r| Ok(AllocateInlineCluster::new(&r.inner))), deadline_ms, out)
    })
}

/// Starts the POST on a worker; returns at once. As gsms_client_create_cluster_async.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_create_inline_cluster_async(
    client: *mut gsms_client,
    req: *const gsms_inline_cluster_request,
    on_done: gsms_cluster_callback,
    user_data: *mut c_void,
    out_op: *mut *mut gsms_operation,
) -> gsms_status {
    status(|| unsafe {
        let call = call::from_request(req, |r| Ok(create_inline_cluster(&r.inner)));
        call::start(client, call, 0, None, on_done, user_data, out_op)
    })
}

/// Starts an inline allocation (see gsms_client_allocate_inline_cluster) on a worker; returns at
/// once. `on_progress` (may be NULL) sees each Queued answer (POST or ticket status), on the same
/// thread as completions; waits between polls hold no worker. As gsms_client_allocate_cluster_async.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_allocate_inline_cluster_async(
    client: *mut gsms_client,
    req: *const gsms_inline_cluster_request,
    deadline_ms: u32,
    on_progress: gsms_progress_callback,
    on_done: gsms_cluster_callback,
    user_data: *mut c_void,
    out_op: *mut *mut gsms_operation,
) -> gsms_status {
    status(|| unsafe {
        let call = call::from_request(req, |r| Ok(AllocateInlineCluster::new(&r.inner)));
        call::start(client, call, deadline_ms, on_progress, on_done, user_data, out_op)
    })
}
