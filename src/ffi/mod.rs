//! The C ABI (`include/gsms.h` is generated from this module by build.rs).
//!
//! # Conventions (obeyed by every function; API.md has the contract)
//! - Prefix `gsms_`/`GSMS_`; functions `gsms_<object>_<verb>`; `_new`/`_free`; `_free(NULL)` is a no-op.
//! - Every body runs behind [`guard`]: a panic becomes `GSMS_ERR_INTERNAL` (or NULL / 0 / "").
//! - Every pointer is checked for NULL, every string for UTF-8 (and header values for control
//!   characters) before use; invalid input returns `GSMS_ERR_INVALID_ARGUMENT` and sends nothing.
//!   The reason is kept for `gsms_last_error_message()` on the calling thread.
//! - Enums coming from C are read as `uint32_t` and validated; no `bool` crosses the boundary.
//! - Out-pointers are written only on `GSMS_OK`, except where the contract says otherwise.
//! - Ownership: `gsms_config`, `gsms_cluster_request`, `gsms_cluster_result`, `gsms_operation`
//!   are `Box`es; `gsms_client` is an `Arc` (dispatch keeps it alive while callbacks run, so a
//!   callback may free it).

#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)]

pub mod client;
pub mod config;
pub mod operation;
pub mod request;
pub mod result;
pub mod status;
#[cfg(test)]
mod tests;

use std::cell::RefCell;
use std::ffi::{c_char, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

pub use status::{gsms_fulfillment_state, gsms_status};

/// A C `void *user_data`, handed back to the caller's callbacks from library threads.
#[derive(Clone, Copy)]
pub(crate) struct UserData(pub *mut c_void);
// SAFETY: the library never dereferences it; the caller promised it may be used from library threads.
unsafe impl Send for UserData {}
unsafe impl Sync for UserData {}

/// What a panicking exported function returns instead.
pub(crate) trait Fallback {
    fn fallback() -> Self;
    /// Called with what the function returns (the status functions clear the last error on OK).
    fn returned(&self) {}
}
impl Fallback for gsms_status {
    fn fallback() -> Self {
        gsms_status::GSMS_ERR_INTERNAL
    }
    fn returned(&self) {
        if *self == gsms_status::GSMS_OK {
            set_last_error("");
        }
    }
}
impl<T> Fallback for *mut T {
    fn fallback() -> Self {
        std::ptr::null_mut()
    }
}
impl Fallback for *const c_char {
    fn fallback() -> Self {
        EMPTY.as_ptr()
    }
}
impl Fallback for u32 {
    fn fallback() -> Self {
        0
    }
}
impl Fallback for u16 {
    fn fallback() -> Self {
        0
    }
}
impl Fallback for usize {
    fn fallback() -> Self {
        0
    }
}
impl Fallback for () {
    fn fallback() -> Self {}
}
impl Fallback for gsms_fulfillment_state {
    fn fallback() -> Self {
        gsms_fulfillment_state::GSMS_FULFILLMENT_UNKNOWN
    }
}

pub(crate) static EMPTY: &CStr = c"";

/// The panic boundary around every exported body.
pub(crate) fn guard<T: Fallback>(f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(|| {
        #[cfg(feature = "test-hooks")]
        test_hooks::maybe_panic();
        f()
    })) {
        Ok(v) => {
            v.returned();
            v
        }
        Err(_) => {
            set_last_error("internal error: a panic was caught at the C boundary (this is a libgsms bug)");
            T::fallback()
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

pub(crate) fn set_last_error(msg: &str) {
    let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|l| *l.borrow_mut() = c);
}

/// Records `msg` and returns `GSMS_ERR_INVALID_ARGUMENT`.
pub(crate) fn invalid(msg: impl AsRef<str>) -> gsms_status {
    set_last_error(msg.as_ref());
    gsms_status::GSMS_ERR_INVALID_ARGUMENT
}

/// Reads a required C string: non-NULL, valid UTF-8.
pub(crate) unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> Result<&'a str, gsms_status> {
    if p.is_null() {
        return Err(invalid(format!("{what} must not be NULL")));
    }
    // SAFETY: the caller passes a NUL-terminated string (the contract); it is only read.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str().map_err(|e| invalid(format!("{what} is not valid UTF-8 ({e})")))
}

/// Borrows a handle or fails with INVALID_ARGUMENT.
pub(crate) unsafe fn handle<'a, T>(p: *const T, what: &str) -> Result<&'a T, gsms_status> {
    if p.is_null() {
        return Err(invalid(format!("{what} must not be NULL")));
    }
    // SAFETY: non-NULL handles come from this library's constructors (contract).
    Ok(unsafe { &*p })
}

pub(crate) unsafe fn handle_mut<'a, T>(p: *mut T, what: &str) -> Result<&'a mut T, gsms_status> {
    if p.is_null() {
        return Err(invalid(format!("{what} must not be NULL")));
    }
    // SAFETY: as above; builders are used by one thread at a time (contract).
    Ok(unsafe { &mut *p })
}

/// Turns `Result<(), gsms_status>` into a status.
pub(crate) fn status_of(r: Result<(), gsms_status>) -> gsms_status {
    match r {
        Ok(()) => {
            set_last_error("");
            gsms_status::GSMS_OK
        }
        Err(s) => s,
    }
}

/// Why the last gsms function returning a `gsms_status` on this thread did not return GSMS_OK.
/// Every function that returns a `gsms_status` sets it: `""` on GSMS_OK, the reason otherwise
/// (for gsms_operation_take_result and gsms_cluster_result_status: the result's error message).
/// Functions returning anything else leave it unchanged. Never NULL.
/// Borrowed; valid until the next gsms call on this thread (copy it before calling another).
#[no_mangle]
pub extern "C" fn gsms_last_error_message() -> *const c_char {
    guard(|| LAST_ERROR.with(|l| l.borrow().as_ptr()))
}

#[cfg(feature = "test-hooks")]
pub mod test_hooks {
    //! Compiled only with the `test-hooks` feature (tests): makes the next exported call panic.
    use std::sync::atomic::{AtomicBool, Ordering};
    static ARMED: AtomicBool = AtomicBool::new(false);

    pub fn arm_panic() {
        ARMED.store(true, Ordering::SeqCst);
    }

    pub(crate) fn maybe_panic() {
        if ARMED.swap(false, Ordering::SeqCst) {
            panic!("test hook: forced panic inside an exported function");
        }
    }
}
