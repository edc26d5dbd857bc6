//! Status codes, fulfillment states, versions.

use std::ffi::{c_char, CStr};

use super::guard;
use crate::core::{FulfillmentState, Status};

/// The outcome of a call. Values are stable and append-only.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gsms_status {
    /// Success.
    GSMS_OK = 0,
    /// Bad input; nothing was sent. `gsms_last_error_message()` says what was wrong.
    GSMS_ERR_INVALID_ARGUMENT = 1,
    /// HTTP 401, after one forced token refresh and resend when a token provider is set.
    GSMS_ERR_UNAUTHORIZED = 2,
    /// HTTP 403: the caller may not use this title or session.
    GSMS_ERR_FORBIDDEN = 3,
    /// Any other non-2xx status that is not retried (400, 404, 409, ...).
    GSMS_ERR_HTTP_STATUS = 4,
    /// 408/429/500/502/503/504 still returned after the retry budget, or a Retry-After beyond the
    /// policy's max delay or the deadline.
    GSMS_ERR_RETRIES_EXHAUSTED = 5,
    /// Connect, request or overall deadline passed.
    GSMS_ERR_TIMEOUT = 6,
    /// DNS, connect, TLS, connection reset, truncated response.
    GSMS_ERR_NETWORK = 7,
    /// A 2xx whose body is not the documented JSON (or exceeds the 1 MiB cap).
    GSMS_ERR_PROTOCOL = 8,
    /// gsms_operation_cancel was called.
    GSMS_ERR_CANCELLED = 9,
    /// The client is being freed.
    GSMS_ERR_SHUTDOWN = 10,
    /// The token provider callback reported failure.
    GSMS_ERR_AUTH_PROVIDER = 11,
    /// A bug: a panic was caught at the boundary.
    GSMS_ERR_INTERNAL = 12,
    /// gsms_operation_take_result: not finished yet.
    GSMS_PENDING = 13,
}

impl From<Status> for gsms_status {
    fn from(s: Status) -> Self {
        use gsms_status::*;
        match s {
            Status::Ok => GSMS_OK,
            Status::InvalidArgument => GSMS_ERR_INVALID_ARGUMENT,
            Status::Unauthorized => GSMS_ERR_UNAUTHORIZED,
            Status::Forbidden => GSMS_ERR_FORBIDDEN,
            Status::HttpStatus => GSMS_ERR_HTTP_STATUS,
            Status::RetriesExhausted => GSMS_ERR_RETRIES_EXHAUSTED,
            Status::Timeout => GSMS_ERR_TIMEOUT,
            Status::Network => GSMS_ERR_NETWORK,
            Status::Protocol => GSMS_ERR_PROTOCOL,
            Status::Cancelled => GSMS_ERR_CANCELLED,
            Status::Shutdown => GSMS_ERR_SHUTDOWN,
            Status::AuthProvider => GSMS_ERR_AUTH_PROVIDER,
            Status::Internal => GSMS_ERR_INTERNAL,
        }
    }
}

/// Where an allocation stands. Values are stable and append-only.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gsms_fulfillment_state {
    /// Missing or unrecognised value: not an error.
    GSMS_FULFILLMENT_UNKNOWN = 0,
    /// A server is allocated: read host name, region and ports.
    GSMS_FULFILLMENT_FULFILLED = 1,
    /// Waiting for a server; ask again after the poll interval.
    GSMS_FULFILLMENT_QUEUED = 2,
    /// Not queued because abortIfQueued was set and no server was free.
    GSMS_FULFILLMENT_ABORTED = 3,
}

impl From<FulfillmentState> for gsms_fulfillment_state {
    fn from(s: FulfillmentState) -> Self {
        use gsms_fulfillment_state::*;
        match s {
            FulfillmentState::Unknown => GSMS_FULFILLMENT_UNKNOWN,
            FulfillmentState::Fulfilled => GSMS_FULFILLMENT_FULFILLED,
            FulfillmentState::Queued => GSMS_FULFILLMENT_QUEUED,
            FulfillmentState::Aborted => GSMS_FULFILLMENT_ABORTED,
        }
    }
}

/// Major version of the C ABI.
pub const GSMS_ABI_MAJOR: u32 = 1;
/// Minor version of the C ABI (bumps on any addition).
pub const GSMS_ABI_MINOR: u32 = 0;

/// The C ABI version: `(major << 16) | minor`. Compare the major with `GSMS_ABI_MAJOR` at start-up.
#[no_mangle]
pub extern "C" fn gsms_abi_version() -> u32 {
    guard(|| (GSMS_ABI_MAJOR << 16) | GSMS_ABI_MINOR)
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

/// The name of a status, e.g. "GSMS_ERR_TIMEOUT"; "GSMS_UNKNOWN_STATUS" for other values.
/// Static; do not free.
#[no_mangle]
pub extern "C" fn gsms_status_name(status: u32) -> *const c_char {
    guard(|| status_name(status).as_ptr())
}

pub(crate) fn status_name(status: u32) -> &'static CStr {
    match status {
        0 => c"GSMS_OK",
        1 => c"GSMS_ERR_INVALID_ARGUMENT",
        2 => c"GSMS_ERR_UNAUTHORIZED",
        3 => c"GSMS_ERR_FORBIDDEN",
        4 => c"GSMS_ERR_HTTP_STATUS",
        5 => c"GSMS_ERR_RETRIES_EXHAUSTED",
        6 => c"GSMS_ERR_TIMEOUT",
        7 => c"GSMS_ERR_NETWORK",
        8 => c"GSMS_ERR_PROTOCOL",
        9 => c"GSMS_ERR_CANCELLED",
        10 => c"GSMS_ERR_SHUTDOWN",
        11 => c"GSMS_ERR_AUTH_PROVIDER",
        12 => c"GSMS_ERR_INTERNAL",
        13 => c"GSMS_PENDING",
        _ => c"GSMS_UNKNOWN_STATUS",
    }
}
