//! `gsms_operation`: a handle on an asynchronous call of any kind. Safe to use from any thread.

use super::handle::{box_free, box_ref, BoxHandle};
use super::{gsms_status, status};
use crate::runtime::AnyOperation;

/// An asynchronous call in flight (or finished). Freeing the handle does not cancel the call.
/// Take its result with the `gsms_operation_take_<x>_result` of its result type.
pub struct gsms_operation {
    pub(crate) op: AnyOperation,
}
impl BoxHandle for gsms_operation {}

/// Cancels the operation: its completion arrives with GSMS_ERR_CANCELLED within 100 ms, even if
/// its request is stuck, on a library thread (ON_WORKER) or at the next dispatch (ON_DISPATCH),
/// never inside this call; `gsms_operation_take_*_result` reports GSMS_ERR_CANCELLED at once.
/// A no-op (GSMS_OK) once the operation has completed.
#[no_mangle]
pub unsafe extern "C" fn gsms_operation_cancel(op: *mut gsms_operation) -> gsms_status {
    status(|| {
        unsafe { box_ref(op as *const gsms_operation, "op") }?.op.cancel();
        Ok(())
    })
}

/// Releases the handle only; does not cancel. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gsms_operation_free(op: *mut gsms_operation) {
    super::guard(|| unsafe { box_free(op) })
}
