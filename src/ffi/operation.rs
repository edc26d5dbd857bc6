//! `gsms_operation`: a handle on an asynchronous call. Safe to use from any thread.

use super::result::gsms_cluster_result;
use super::{gsms_status, guard, handle};
use crate::runtime::Operation;

/// An asynchronous call in flight (or finished). Freeing the handle does not cancel the call.
pub struct gsms_operation {
    pub(crate) op: Operation,
}

/// Cancels the operation: its completion arrives with GSMS_ERR_CANCELLED within 100 ms, even if
/// its request is stuck, on a library thread (ON_WORKER) or at the next dispatch (ON_DISPATCH),
/// never inside this call. A no-op (GSMS_OK) once the operation has completed.
#[no_mangle]
pub unsafe extern "C" fn gsms_operation_cancel(op: *mut gsms_operation) -> gsms_status {
    guard(|| match unsafe { handle(op, "op") } {
        Ok(o) => {
            o.op.cancel();
            gsms_status::GSMS_OK
        }
        Err(s) => s,
    })
}

/// Releases the handle only; does not cancel. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gsms_operation_free(op: *mut gsms_operation) {
    guard(|| {
        if !op.is_null() {
            // SAFETY: made by an async start call; freed once (contract).
            drop(unsafe { Box::from_raw(op) });
        }
    })
}

/// Polling instead of callbacks: GSMS_PENDING while the operation runs; once done, its final
/// status and, if `out_result` is non-NULL, a new result (caller owns; free with
/// gsms_cluster_result_free). May be called again: same status, new copy.
#[no_mangle]
pub unsafe extern "C" fn gsms_operation_take_result(
    op: *mut gsms_operation,
    out_result: *mut *mut gsms_cluster_result,
) -> gsms_status {
    guard(|| {
        let o = match unsafe { handle(op, "op") } {
            Ok(o) => o,
            Err(s) => return s,
        };
        match o.op.take_result() {
            None => {
                super::set_last_error("the operation has not finished yet");
                gsms_status::GSMS_PENDING
            }
            Some((status, result)) => {
                super::set_last_error(result.as_ref().map_or("", |r| r.error_message.as_str()));
                if !out_result.is_null() {
                    // SAFETY: non-NULL out points to writable storage (contract).
                    unsafe {
                        *out_result = result.map_or(std::ptr::null_mut(), gsms_cluster_result::boxed);
                    }
                }
                status.into()
            }
        }
    })
}
