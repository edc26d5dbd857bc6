//! The C ABI (`include/gsms.h` is generated from this module by build.rs).
//!
//! # Conventions (obeyed by every function; the README has the user's version)
//! - Prefix `gsms_`/`GSMS_`; functions `gsms_<object>_<verb>`; `_new`/`_free`; `_free(NULL)` is a no-op.
//! - One idiom per kind of export: a function returning `gsms_status` is `status(|| { ...? ... })`
//!   (a panic becomes `GSMS_ERR_INTERNAL`, an `Err` is returned as is, `Ok` clears the thread's
//!   last error); every other export is `guard(|| ...)` with its fallback (NULL / 0 / "").
//! - Every pointer is checked for NULL, every string for UTF-8 (and header values for control and
//!   non-ASCII characters) before use; invalid input returns `GSMS_ERR_INVALID_ARGUMENT`, sends
//!   nothing, and keeps the reason for `gsms_last_error_message()` on the calling thread.
//! - Enums coming from C are read as `uint32_t` and converted with `from_u32`; no `bool` crosses
//!   the boundary (flags are 0/1, checked by `flag_arg`).
//! - Out-pointers are written only on `GSMS_OK`, except where the contract says otherwise.
//! - Ownership kinds are in the types (`handle`): results, builders and operations are `Box`
//!   handles; `gsms_client` is an `Arc` handle, and every call on it holds a reference until it
//!   returns (so a free on another thread, or inside a hook, never frees memory in use).
//! - Calls go through three helpers (`call`): blocking, async start, take result.

#![allow(non_camel_case_types)]
// The exported functions' safety contract is the C contract above (valid handles, NUL-terminated
// strings, writable out-pointers), stated once; the unsafe helpers each have their own `# Safety`.
#![allow(clippy::missing_safety_doc)]

pub mod call;
pub mod client;
pub mod clusters;
pub mod config;
pub mod enums;
pub(crate) mod handle;
pub mod info;
pub mod inline_clusters;
pub mod operation;
pub mod qos;
pub mod qos_servers;
pub mod session_hosts;
#[cfg(test)]
mod tests;
pub mod tickets;
pub mod variants;

use std::cell::RefCell;
use std::ffi::{c_char, c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

pub use enums::{gsms_callback_mode, gsms_fulfillment_state, gsms_host_status, gsms_log_level, gsms_status};

/// A C `void *user_data`, handed back to the caller's callbacks from library threads.
#[derive(Clone, Copy)]
pub(crate) struct UserData(pub *mut c_void);
// SAFETY: the library never dereferences it; the caller promised it may be used from library threads.
unsafe impl Send for UserData {}
unsafe impl Sync for UserData {}

/// What a panicking exported function returns instead.
pub(crate) trait Fallback {
    fn fallback() -> Self;
}
impl Fallback for gsms_status {
    fn fallback() -> Self {
        gsms_status::GSMS_ERR_INTERNAL
    }
}
impl Fallback for *const c_char {
    /// String getters never return NULL.
    fn fallback() -> Self {
        EMPTY.as_ptr()
    }
}
/// Counts, sizes and pointers fall back to their `Default`: 0 or NULL (`()` for functions that
/// return nothing).
macro_rules! fallback_is_default {
    ($(impl$(<$g:ident>)? for $t:ty;)*) => {
        $(impl$(<$g>)? Fallback for $t {
            fn fallback() -> Self {
                Default::default()
            }
        })*
    };
}
fallback_is_default! {
    impl for u64;
    impl for u32;
    impl for u16;
    impl for usize;
    impl for ();
    impl<T> for *mut T;
    impl for *const info::gsms_call_info;
}
impl Fallback for gsms_fulfillment_state {
    fn fallback() -> Self {
        gsms_fulfillment_state::GSMS_FULFILLMENT_UNKNOWN
    }
}
impl Fallback for enums::gsms_host_status {
    fn fallback() -> Self {
        enums::gsms_host_status::GSMS_HOST_UNKNOWN
    }
}

/// The "" returned for absent strings and by panicking string getters.
pub(crate) static EMPTY: &CStr = c"";

/// A string getter's answer: the string, or "" (never NULL).
pub(crate) fn text_ptr(s: Option<&CString>) -> *const c_char {
    s.map_or(EMPTY.as_ptr(), |c| c.as_ptr())
}

/// The panic boundary around every exported body.
pub(crate) fn guard<T: Fallback>(f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(|| {
        #[cfg(feature = "test-hooks")]
        test_hooks::maybe_panic();
        f()
    })) {
        Ok(v) => v,
        Err(_) => {
            set_last_error("internal error: a panic was caught at the C boundary (this is a libgsms bug)");
            T::fallback()
        }
    }
}

/// The body of every export that returns a `gsms_status`: behind the panic boundary; `Ok` is
/// `GSMS_OK` (and clears the thread's last error), `Err(s)` is returned as is (whoever made it
/// recorded the reason).
pub(crate) fn status(f: impl FnOnce() -> Result<(), gsms_status>) -> gsms_status {
    guard(|| match f() {
        Ok(()) => {
            set_last_error("");
            gsms_status::GSMS_OK
        }
        Err(s) => s,
    })
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

pub(crate) fn set_last_error(msg: &str) {
    // A successful call records "" (twice for a blocking call): no new string when it is "" already.
    if msg.is_empty() && LAST_ERROR.with(|l| l.borrow().is_empty()) {
        return;
    }
    let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|l| *l.borrow_mut() = c);
}

/// Records `msg` and returns `GSMS_ERR_INVALID_ARGUMENT`.
pub(crate) fn invalid(msg: impl AsRef<str>) -> gsms_status {
    set_last_error(msg.as_ref());
    gsms_status::GSMS_ERR_INVALID_ARGUMENT
}

/// Records `msg` and returns `status` as an error.
pub(crate) fn fail(status: gsms_status, msg: &str) -> gsms_status {
    set_last_error(msg);
    status
}

/// A C string for text that may hold NUL (it never should; NUL becomes U+FFFD).
pub(crate) fn cstring(s: &str) -> CString {
    match CString::new(s) {
        Ok(c) => c,
        Err(_) => CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default(),
    }
}

/// Why the last gsms function returning a `gsms_status` on this thread did not return GSMS_OK.
/// Every function that returns a `gsms_status` sets it: `""` on GSMS_OK, the reason otherwise
/// (for gsms_operation_take_*_result and gsms_*_result_status: the result's error message).
/// Functions returning anything else leave it unchanged. Never NULL.
/// Borrowed; valid until the next gsms call on this thread (copy it before calling another).
#[no_mangle]
pub extern "C" fn gsms_last_error_message() -> *const c_char {
    guard(|| LAST_ERROR.with(|l| l.borrow().as_ptr()))
}

/// Major version of the C ABI.
pub const GSMS_ABI_MAJOR: u32 = 1;
/// Minor version of the C ABI (bumps on any addition).
pub const GSMS_ABI_MINOR: u32 = 1;
/// Longest `sessionCookie` (bytes) `gsms_session_host_request_set_session_cookie` accepts.
pub const GSMS_MAX_SESSION_COOKIE_BYTES: usize = 32 * 1024;
/// The UDP port probed when a QoS target names none.
pub const GSMS_QOS_DEFAULT_PORT: u16 = 3075;

// The C names of the core's limits: one value, checked here.
const _: () = assert!(GSMS_MAX_SESSION_COOKIE_BYTES == crate::core::calls::session_hosts::MAX_SESSION_COOKIE_BYTES);
const _: () = assert!(GSMS_QOS_DEFAULT_PORT == crate::core::qos::QOS_DEFAULT_PORT);

/// The C ABI version: `major * 65536 + minor` (`(major << 16) | minor`). Compare the major with
/// `GSMS_ABI_MAJOR` at start-up.
#[no_mangle]
pub extern "C" fn gsms_abi_version() -> u32 {
    guard(|| GSMS_ABI_MAJOR * 0x1_0000 + GSMS_ABI_MINOR)
}

/// The library's version, e.g. "0.1.0". Static; do not free.
#[no_mangle]
pub extern "C" fn gsms_version_string() -> *const c_char {
    static V: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(c) => c,
        Err(_) => c"",
    };
    guard(|| V.as_ptr())
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
