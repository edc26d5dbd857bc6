//! `gsms_call_info`: the exchange details every result carries (status, HTTP status, attempts,
//! correlation id, Retry-After, message, raw body), and the one describe function both bindings
//! use for their error text.

use std::ffi::{c_char, CString};
use std::sync::OnceLock;

use super::{cstring, gsms_status, guard, invalid, set_last_error, text_ptr};
use crate::core::CallInfo;

/// The exchange details of a call, shared by every result type. Borrowed from its result
/// (`gsms_<x>_result_info`): valid until that result is freed; immutable; any thread.
pub struct gsms_call_info {
    status: gsms_status,
    http_status: u16,
    attempts: u32,
    retry_after_ms: u32,
    correlation_id: CString,
    error_message: CString,
    raw_json: CString,
    /// Made on first request (`gsms_call_info_describe`): most results are never described, and
    /// formatting it cost every call about 8 allocations.
    description: OnceLock<CString>,
}

impl gsms_call_info {
    pub(crate) fn new(i: &CallInfo) -> gsms_call_info {
        let status: gsms_status = i.status.into();
        gsms_call_info {
            status,
            http_status: i.http_status,
            attempts: i.attempts,
            retry_after_ms: i.retry_after_ms,
            correlation_id: cstring(&i.correlation_id),
            error_message: cstring(&i.error_message),
            raw_json: cstring(&i.raw_json),
            description: OnceLock::new(),
        }
    }

    pub(crate) fn status(&self) -> gsms_status {
        self.status
    }

    pub(crate) fn error_message(&self) -> &CString {
        &self.error_message
    }

    /// The description (see [`describe`]), made once.
    fn description(&self) -> &CString {
        self.description.get_or_init(|| {
            let message = self.error_message.to_string_lossy();
            let correlation_id = self.correlation_id.to_string_lossy();
            cstring(&describe_parts(
                self.status,
                &message,
                self.http_status,
                self.attempts,
                self.retry_after_ms,
                &correlation_id,
            ))
        })
    }
}

/// One line a person can act on, e.g.
/// `GSMS_ERR_HTTP_STATUS: HTTP 404: no such title (HTTP 404, 1 attempt, correlation id 5e1d...)`.
#[cfg(test)]
fn describe(status: gsms_status, i: &CallInfo) -> String {
    describe_parts(status, &i.error_message, i.http_status, i.attempts, i.retry_after_ms, &i.correlation_id)
}

fn describe_parts(
    status: gsms_status,
    error_message: &str,
    http_status: u16,
    attempts: u32,
    retry_after_ms: u32,
    correlation_id: &str,
) -> String {
    let mut s = status.name().to_string_lossy().into_owned();
    if !error_message.is_empty() {
        s.push_str(": ");
        s.push_str(error_message);
    }
    let mut details = Vec::new();
    if http_status != 0 {
        details.push(format!("HTTP {http_status}"));
    }
    if attempts > 0 {
        details.push(format!("{attempts} attempt{}", if attempts == 1 { "" } else { "s" }));
    }
    if retry_after_ms > 0 {
        details.push(format!("Retry-After {retry_after_ms} ms"));
    }
    if !correlation_id.is_empty() {
        details.push(format!("correlation id {correlation_id}"));
    }
    if !details.is_empty() {
        s.push_str(&format!(" ({})", details.join(", ")));
    }
    s
}

/// # Safety
/// `i` is NULL or a `gsms_call_info` borrowed from a live result.
unsafe fn get<'a>(i: *const gsms_call_info) -> Option<&'a gsms_call_info> {
    // SAFETY: per this function's contract.
    unsafe { i.as_ref() }
}

/// The call's status (GSMS_OK, or why it failed), also recorded as the thread's last error
/// message. NULL -> GSMS_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn gsms_call_info_status(i: *const gsms_call_info) -> gsms_status {
    guard(|| match unsafe { get(i) } {
        Some(i) => {
            set_last_error(&i.error_message.to_string_lossy());
            i.status
        }
        None => invalid("i must not be NULL"),
    })
}

/// The last HTTP status seen; 0 if none (or NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_call_info_http_status(i: *const gsms_call_info) -> u16 {
    guard(|| unsafe { get(i) }.map_or(0, |i| i.http_status))
}

/// HTTP requests made, retries and polls included (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_call_info_attempts(i: *const gsms_call_info) -> u32 {
    guard(|| unsafe { get(i) }.map_or(0, |i| i.attempts))
}

/// The last Retry-After seen, in ms; 0 if none (or NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_call_info_retry_after_ms(i: *const gsms_call_info) -> u32 {
    guard(|| unsafe { get(i) }.map_or(0, |i| i.retry_after_ms))
}

/// X-XblCorrelationId of the last response: quote it to support.
/// Borrowed; valid until the result is freed. "" when absent (or for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_call_info_correlation_id(i: *const gsms_call_info) -> *const c_char {
    guard(|| text_ptr(unsafe { get(i) }.map(|i| &i.correlation_id)))
}

/// Human-readable reason for a failure; "" on success. Never holds a token.
/// Borrowed; valid until the result is freed. "" when absent (or for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_call_info_error_message(i: *const gsms_call_info) -> *const c_char {
    guard(|| text_ptr(unsafe { get(i) }.map(|i| &i.error_message)))
}

/// The last response body as received (secrets redacted; non-UTF-8 bytes of error bodies replaced).
/// Borrowed; valid until the result is freed. "" when absent (or for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_call_info_raw_json(i: *const gsms_call_info) -> *const c_char {
    guard(|| text_ptr(unsafe { get(i) }.map(|i| &i.raw_json)))
}

/// The whole outcome in one line, for logs and exceptions: status name, message, HTTP status,
/// attempts, Retry-After, correlation id. The C++ and C# bindings use it for their error text.
/// Borrowed; valid until the result is freed. "" for NULL.
#[no_mangle]
pub unsafe extern "C" fn gsms_call_info_describe(i: *const gsms_call_info) -> *const c_char {
    guard(|| text_ptr(unsafe { get(i) }.map(|i| i.description())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Status;

    #[test]
    fn describe_names_everything_support_needs() {
        let i = CallInfo {
            status: Status::HttpStatus,
            http_status: 404,
            attempts: 1,
            correlation_id: "c-1".into(),
            retry_after_ms: 0,
            error_message: "HTTP 404: no such title".into(),
            raw_json: String::new(),
        };
        assert_eq!(
            describe(i.status.into(), &i),
            "GSMS_ERR_HTTP_STATUS: HTTP 404: no such title (HTTP 404, 1 attempt, correlation id c-1)"
        );
        assert_eq!(describe(gsms_status::GSMS_OK, &CallInfo::default()), "GSMS_OK");
        // A call that ran out of retries: the attempts counted in the plural and the server's
        // last Retry-After (what a support engineer needs to tell throttling from an outage).
        let i = CallInfo {
            status: Status::RetriesExhausted,
            http_status: 503,
            attempts: 3,
            correlation_id: String::new(),
            retry_after_ms: 2000,
            error_message: "HTTP 503".into(),
            raw_json: String::new(),
        };
        assert_eq!(
            describe(i.status.into(), &i),
            "GSMS_ERR_RETRIES_EXHAUSTED: HTTP 503 (HTTP 503, 3 attempts, Retry-After 2000 ms)"
        );
    }
}
