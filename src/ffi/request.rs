//! `gsms_cluster_request`: what to ask for (builder). One thread at a time.

use std::ffi::c_char;

use super::{gsms_status, guard, handle_mut, invalid, status_of, str_arg};
use crate::core::ClusterRequest;

/// A request for a server for one MPSD session. Create with `gsms_cluster_request_new`.
pub struct gsms_cluster_request {
    pub(crate) inner: ClusterRequest,
}

/// Creates a request for `title_id`. Caller owns; free with gsms_cluster_request_free.
/// NULL only on out-of-memory.
#[no_mangle]
pub extern "C" fn gsms_cluster_request_new(title_id: u32) -> *mut gsms_cluster_request {
    guard(|| Box::into_raw(Box::new(gsms_cluster_request { inner: ClusterRequest::new(title_id) })))
}

/// Frees a request. NULL is a no-op. Operations started from it keep their own copy.
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_request_free(req: *mut gsms_cluster_request) {
    guard(|| {
        if !req.is_null() {
            // SAFETY: made by gsms_cluster_request_new; freed once (contract).
            drop(unsafe { Box::from_raw(req) });
        }
    })
}

/// The MPSD session path, e.g. "/serviceconfigs/<scid>/sessionTemplates/<t>/sessions/<name>".
/// Required; non-empty; no control characters.
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_request_set_session_id(
    req: *mut gsms_cluster_request,
    session_id: *const c_char,
) -> gsms_status {
    guard(|| {
        status_of((|| {
            let r = unsafe { handle_mut(req, "req") }?;
            let s = unsafe { str_arg(session_id, "session_id") }?;
            r.inner.set_session_id(s).map_err(|e| invalid(e.0))
        })())
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
    guard(|| {
        status_of((|| {
            let r = unsafe { handle_mut(req, "req") }?;
            let a = unsafe { str_arg(scid, "scid") }?;
            let b = unsafe { str_arg(template_name, "template_name") }?;
            let c = unsafe { str_arg(session_name, "session_name") }?;
            r.inner.set_session(a, b, c).map_err(|e| invalid(e.0))
        })())
    })
}

/// 1: ask the service not to queue this session when no server is free (the answer is then
/// Aborted); 0 (default): queue it. Any other value is invalid.
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_request_set_abort_if_queued(
    req: *mut gsms_cluster_request,
    abort_if_queued: u32,
) -> gsms_status {
    guard(|| {
        status_of((|| {
            let r = unsafe { handle_mut(req, "req") }?;
            r.inner.abort_if_queued = match abort_if_queued {
                0 => false,
                1 => true,
                v => return Err(invalid(format!("abort_if_queued must be 0 or 1 (got {v})"))),
            };
            Ok(())
        })())
    })
}
