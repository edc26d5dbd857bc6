//! Handle ownership in the types (rustls-ffi's `Castable` idea) and argument readers.
//!
//! Every opaque handle type implements exactly one of [`BoxHandle`] (one owner: builders, results,
//! operations) or [`ArcHandle`] (shared: the client). The helpers that make, borrow and free a
//! handle exist only for its kind, so freeing a client as a `Box`, or a builder as an `Arc`, does
//! not compile.

use std::ffi::{c_char, CStr};
use std::sync::Arc;

use super::{gsms_status, invalid};

/// A handle made by `Box::into_raw`, owned by exactly one caller.
pub(crate) trait BoxHandle: Sized {}

/// A handle made by `Arc::into_raw`; each C call that receives it takes its own reference.
pub(crate) trait ArcHandle: Sized {}

pub(crate) fn box_into_raw<T: BoxHandle>(v: T) -> *mut T {
    Box::into_raw(Box::new(v))
}

/// Frees a handle made by [`box_into_raw`]. NULL is a no-op.
///
/// # Safety
/// `p` is NULL or came from [`box_into_raw`] for this `T` and was not freed before (the C
/// contract: `*_free` once).
pub(crate) unsafe fn box_free<T: BoxHandle>(p: *mut T) {
    if !p.is_null() {
        // SAFETY: per this function's contract.
        drop(unsafe { Box::from_raw(p) });
    }
}

/// Borrows a handle for the duration of a call; NULL is INVALID_ARGUMENT naming `what`.
///
/// # Safety
/// `p` is NULL or a live handle of this type made by this library.
pub(crate) unsafe fn box_ref<'a, T: BoxHandle>(p: *const T, what: &str) -> Result<&'a T, gsms_status> {
    // SAFETY: per this function's contract.
    unsafe { p.as_ref() }.ok_or_else(|| invalid(format!("{what} must not be NULL")))
}

/// Borrows a builder mutably.
///
/// # Safety
/// As [`box_ref`]; builders are used by one thread at a time (the C contract).
pub(crate) unsafe fn box_mut<'a, T: BoxHandle>(p: *mut T, what: &str) -> Result<&'a mut T, gsms_status> {
    // SAFETY: per this function's contract.
    unsafe { p.as_mut() }.ok_or_else(|| invalid(format!("{what} must not be NULL")))
}

pub(crate) fn arc_into_raw<T: ArcHandle>(v: Arc<T>) -> *mut T {
    Arc::into_raw(v) as *mut T
}

/// Takes a reference to a shared handle for the duration of one call: the object then lives until
/// the call returns, even if another thread (or a hook running inside the call) frees the caller's
/// handle meanwhile. NULL is INVALID_ARGUMENT naming `what`.
///
/// # Safety
/// `p` is NULL or a live handle made by [`arc_into_raw`] whose free had not completed when this
/// call began.
pub(crate) unsafe fn arc_clone<T: ArcHandle>(p: *const T, what: &str) -> Result<Arc<T>, gsms_status> {
    if p.is_null() {
        return Err(invalid(format!("{what} must not be NULL")));
    }
    // SAFETY: per this function's contract, the handle holds at least the caller's reference.
    unsafe {
        Arc::increment_strong_count(p);
        Ok(Arc::from_raw(p))
    }
}

/// Takes back the caller's reference of a shared handle (its `*_free`). NULL -> `None`.
///
/// # Safety
/// `p` is NULL or came from [`arc_into_raw`] and its caller's reference was not released before.
pub(crate) unsafe fn arc_from_raw<T: ArcHandle>(p: *mut T) -> Option<Arc<T>> {
    // SAFETY: per this function's contract.
    (!p.is_null()).then(|| unsafe { Arc::from_raw(p as *const T) })
}

/// Reads a required C string: non-NULL, valid UTF-8.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that stays valid during the call.
pub(crate) unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> Result<&'a str, gsms_status> {
    if p.is_null() {
        return Err(invalid(format!("{what} must not be NULL")));
    }
    // SAFETY: per this function's contract; it is only read.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str().map_err(|e| invalid(format!("{what} is not valid UTF-8 ({e})")))
}

/// A flag from C: exactly 0 or 1.
pub(crate) fn flag_arg(v: u32, what: &str) -> Result<bool, gsms_status> {
    match v {
        0 => Ok(false),
        1 => Ok(true),
        v => Err(invalid(format!("{what} must be 0 or 1 (got {v})"))),
    }
}

/// Writes `v` through an out-pointer, unless it is NULL.
///
/// # Safety
/// `p` is NULL or points to writable storage for a `T`.
pub(crate) unsafe fn write_out<T>(p: *mut T, v: T) {
    if !p.is_null() {
        // SAFETY: per this function's contract.
        unsafe { p.write(v) };
    }
}
