//! `gsms_cluster_result`: the answer. Immutable; may be read from any thread.

use std::ffi::{c_char, CString};
use std::sync::Arc;

use super::{gsms_fulfillment_state, gsms_status, guard, invalid, EMPTY};
use crate::core::ClusterResult;

/// What a call learnt: fulfillment state, where to connect, and transport details.
pub struct gsms_cluster_result {
    pub(crate) inner: Arc<ClusterResult>,
    host_name: CString,
    region: CString,
    secure_context: CString,
    correlation_id: CString,
    error_message: CString,
    raw_json: CString,
    port_names: Vec<CString>,
}

fn c(s: &str) -> CString {
    match CString::new(s) {
        Ok(c) => c,
        Err(_) => CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default(),
    }
}

impl gsms_cluster_result {
    pub(crate) fn new(inner: Arc<ClusterResult>) -> gsms_cluster_result {
        gsms_cluster_result {
            host_name: c(&inner.host_name),
            region: c(&inner.region),
            secure_context: c(&inner.secure_context),
            correlation_id: c(&inner.correlation_id),
            error_message: c(&inner.error_message),
            raw_json: c(&inner.raw_json),
            port_names: inner.ports.iter().map(|p| c(&p.name)).collect(),
            inner,
        }
    }

    pub(crate) fn boxed(inner: Arc<ClusterResult>) -> *mut gsms_cluster_result {
        Box::into_raw(Box::new(Self::new(inner)))
    }
}

unsafe fn get<'a>(r: *const gsms_cluster_result) -> Option<&'a gsms_cluster_result> {
    // SAFETY: non-NULL results come from this library (contract).
    unsafe { r.as_ref() }
}

/// The call's status (GSMS_OK, or why it failed). NULL -> GSMS_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_status(r: *const gsms_cluster_result) -> gsms_status {
    guard(|| match unsafe { get(r) } {
        Some(r) => {
            super::set_last_error(&r.inner.error_message);
            r.inner.status.into()
        }
        None => invalid("r must not be NULL"),
    })
}

/// Fulfilled, Queued, Aborted, or Unknown (also for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_fulfillment_state(
    r: *const gsms_cluster_result,
) -> gsms_fulfillment_state {
    guard(|| {
        unsafe { get(r) }.map_or(gsms_fulfillment_state::GSMS_FULFILLMENT_UNKNOWN, |r| r.inner.fulfillment_state.into())
    })
}

/// The service's recommended poll interval in ms; 1000 when absent or unparsable (or NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_poll_interval_ms(r: *const gsms_cluster_result) -> u32 {
    guard(|| unsafe { get(r) }.map_or(crate::core::result::DEFAULT_POLL_INTERVAL_MS, |r| r.inner.poll_interval_ms))
}

/// The host name (or address) of the allocated server.
/// Borrowed; valid until the result is freed. "" when absent (or for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_host_name(r: *const gsms_cluster_result) -> *const c_char {
    guard(|| unsafe { get(r) }.map_or(EMPTY.as_ptr(), |r| r.host_name.as_ptr()))
}

/// The region of the allocated server.
/// Borrowed; valid until the result is freed. "" when absent (or for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_region(r: *const gsms_cluster_result) -> *const c_char {
    guard(|| unsafe { get(r) }.map_or(EMPTY.as_ptr(), |r| r.region.as_ptr()))
}

/// The server's secure device address (base64), if the service sent one.
/// Borrowed; valid until the result is freed. "" when absent (or for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_secure_context(r: *const gsms_cluster_result) -> *const c_char {
    guard(|| unsafe { get(r) }.map_or(EMPTY.as_ptr(), |r| r.secure_context.as_ptr()))
}

/// X-XblCorrelationId of the last response: quote it to support.
/// Borrowed; valid until the result is freed. "" when absent (or for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_correlation_id(r: *const gsms_cluster_result) -> *const c_char {
    guard(|| unsafe { get(r) }.map_or(EMPTY.as_ptr(), |r| r.correlation_id.as_ptr()))
}

/// Human-readable reason for a failure; "" on success.
/// Borrowed; valid until the result is freed. "" when absent (or for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_error_message(r: *const gsms_cluster_result) -> *const c_char {
    guard(|| unsafe { get(r) }.map_or(EMPTY.as_ptr(), |r| r.error_message.as_ptr()))
}

/// The last response body as received (non-UTF-8 bytes of error bodies replaced).
/// Borrowed; valid until the result is freed. "" when absent (or for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_raw_json(r: *const gsms_cluster_result) -> *const c_char {
    guard(|| unsafe { get(r) }.map_or(EMPTY.as_ptr(), |r| r.raw_json.as_ptr()))
}

/// How many port mappings the answer holds (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_port_count(r: *const gsms_cluster_result) -> usize {
    guard(|| unsafe { get(r) }.map_or(0, |r| r.inner.ports.len()))
}

/// Port mapping `index` (0-based): its name (borrowed; valid until the result is freed), internal
/// and external ports. Each out-pointer may be NULL if not wanted. Index out of range ->
/// GSMS_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_port(
    r: *const gsms_cluster_result,
    index: usize,
    name: *mut *const c_char,
    internal_port: *mut u32,
    external_port: *mut u32,
) -> gsms_status {
    guard(|| {
        let Some(r) = (unsafe { get(r) }) else { return invalid("r must not be NULL") };
        let Some(p) = r.inner.ports.get(index) else {
            return invalid(format!("port index {index} is out of range (count {})", r.inner.ports.len()));
        };
        // SAFETY: non-NULL out-pointers point to writable storage (contract).
        unsafe {
            if !name.is_null() {
                *name = r.port_names[index].as_ptr();
            }
            if !internal_port.is_null() {
                *internal_port = p.internal;
            }
            if !external_port.is_null() {
                *external_port = p.external;
            }
        }
        gsms_status::GSMS_OK
    })
}

/// The last HTTP status seen; 0 if none (or NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_http_status(r: *const gsms_cluster_result) -> u16 {
    guard(|| unsafe { get(r) }.map_or(0, |r| r.inner.http_status))
}

/// HTTP requests made, retries and polls included (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_attempts(r: *const gsms_cluster_result) -> u32 {
    guard(|| unsafe { get(r) }.map_or(0, |r| r.inner.attempts))
}

/// The last Retry-After seen, in ms; 0 if none (or NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_retry_after_ms(r: *const gsms_cluster_result) -> u32 {
    guard(|| unsafe { get(r) }.map_or(0, |r| r.inner.retry_after_ms))
}

/// A copy that outlives the original (e.g. to keep a callback's borrowed result).
/// Caller owns; free with gsms_cluster_result_free. NULL for NULL.
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_clone(r: *const gsms_cluster_result) -> *mut gsms_cluster_result {
    guard(|| match unsafe { get(r) } {
        Some(r) => gsms_cluster_result::boxed(Arc::clone(&r.inner)),
        None => std::ptr::null_mut(),
    })
}

/// Frees a result. NULL is a no-op. Never pass a callback's borrowed result.
#[no_mangle]
pub unsafe extern "C" fn gsms_cluster_result_free(r: *mut gsms_cluster_result) {
    guard(|| {
        if !r.is_null() {
            // SAFETY: made by this library and owned by the caller; freed once (contract).
            drop(unsafe { Box::from_raw(r) });
        }
    })
}
