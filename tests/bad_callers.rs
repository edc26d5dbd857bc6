//! Bad callers through the C ABI: invalid UTF-8, CR/LF and other control characters, absurd
//! numbers, use of an operation after cancel, double cancel, handles that outlive their client,
//! results read from many threads. Every rejection is GSMS_ERR_INVALID_ARGUMENT with a reason in
//! gsms_last_error_message(), and nothing reaches the wire.
//!
//! (NULL for every pointer parameter of every exported function is walked by the C program that
//! scripts/gen_null_test.py generates from include/gsms.h.)

mod common;

use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use gsms::ffi::client::*;
use gsms::ffi::clusters::*;
use gsms::ffi::config::*;
use gsms::ffi::enums::*;
use gsms::ffi::operation::*;
use gsms::ffi::{gsms_abi_version, GSMS_ABI_MAJOR};
use gsms::ffi::{gsms_fulfillment_state, gsms_last_error_message, gsms_status};

use gsms_status::*;

fn last_error() -> String {
    // SAFETY: always a valid C string.
    unsafe { CStr::from_ptr(gsms_last_error_message()) }.to_string_lossy().into_owned()
}

/// A C string from raw bytes (no NUL inside).
fn cs(b: &[u8]) -> CString {
    CString::new(b).unwrap()
}

/// Byte strings every string parameter must refuse: invalid UTF-8, CR/LF, other controls.
fn hostile_strings() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("invalid UTF-8 (lone continuation)", b"XBL3.0 x=1;\x80abc".to_vec()),
        ("invalid UTF-8 (overlong)", b"XBL3.0 x=1;\xc0\xafabc".to_vec()),
        ("invalid UTF-8 (surrogate)", b"XBL3.0 x=1;\xed\xa0\x80".to_vec()),
        ("invalid UTF-8 (truncated)", b"XBL3.0 x=1;abc\xe2\x82".to_vec()),
        ("CR LF header injection", b"XBL3.0 x=1;t\r\nX-Evil: 1".to_vec()),
        ("bare LF", b"XBL3.0 x=1;t\nX-Evil: 1".to_vec()),
        ("bare CR", b"XBL3.0 x=1;t\rX".to_vec()),
        ("tab", b"XBL3.0 x=1;\tt".to_vec()),
        ("DEL", b"XBL3.0 x=1;t\x7f".to_vec()),
        ("ESC", b"XBL3.0 x=1;\x1b[31m".to_vec()),
        ("empty", b"".to_vec()),
    ]
}

unsafe fn client_for(url: &str, f: impl FnOnce(*mut gsms_config)) -> *mut gsms_client {
    unsafe {
        let cfg = gsms_config_new();
        assert_eq!(gsms_config_set_base_url(cfg, cs(url.as_bytes()).as_ptr()), GSMS_OK);
        assert_eq!(gsms_config_set_auth_token(cfg, cs(TOKEN.as_bytes()).as_ptr()), GSMS_OK);
        assert_eq!(gsms_config_set_retry_policy(cfg, 2, 10, 100), GSMS_OK);
        f(cfg);
        let mut c = ptr::null_mut();
        assert_eq!(gsms_client_new(cfg, &mut c), GSMS_OK, "{}", last_error());
        gsms_config_free(cfg);
        c
    }
}

unsafe fn valid_request(name: &str) -> *mut gsms_cluster_request {
    unsafe {
        let r = gsms_cluster_request_new(TITLE);
        assert_eq!(gsms_cluster_request_set_session_id(r, cs(session(name).as_bytes()).as_ptr()), GSMS_OK);
        r
    }
}

#[test]
fn every_string_parameter_refuses_invalid_utf8_and_control_characters() {
    let emu = emulator(|_| {});
    unsafe {
        let cfg = gsms_config_new();
        let req = gsms_cluster_request_new(TITLE);
        let client = client_for(&emu.base_url(), |_| {});
        for (what, bytes) in hostile_strings() {
            let s = cs(&bytes);
            let p = s.as_ptr();
            let ok = cs(b"ok");
            let mut checks: Vec<(&str, gsms_status)> = vec![
                ("config_set_base_url", gsms_config_set_base_url(cfg, p)),
                ("config_set_user_agent", gsms_config_set_user_agent(cfg, p)),
                ("config_set_auth_token", gsms_config_set_auth_token(cfg, p)),
                ("config_set_xbl_token(hash)", gsms_config_set_xbl_token(cfg, p, ok.as_ptr())),
                ("config_set_xbl_token(token)", gsms_config_set_xbl_token(cfg, ok.as_ptr(), p)),
                ("config_set_ca_bundle_path", gsms_config_set_ca_bundle_path(cfg, p)),
                ("cluster_request_set_session_id", gsms_cluster_request_set_session_id(req, p)),
                (
                    "cluster_request_set_session(scid)",
                    gsms_cluster_request_set_session(req, p, ok.as_ptr(), ok.as_ptr()),
                ),
                ("cluster_request_set_session(t)", gsms_cluster_request_set_session(req, ok.as_ptr(), p, ok.as_ptr())),
                ("cluster_request_set_session(n)", gsms_cluster_request_set_session(req, ok.as_ptr(), ok.as_ptr(), p)),
                ("client_set_auth_token", gsms_client_set_auth_token(client, p)),
            ];
            // The session-id and UA setters accept printable text; "tab"/"ESC"/... are controls,
            // and invalid UTF-8 is refused everywhere. Only these may be OK: none.
            for (f, st) in checks.drain(..) {
                assert_eq!(st, GSMS_ERR_INVALID_ARGUMENT, "{f} accepted {what}");
                let e = last_error();
                assert!(!e.is_empty(), "{f}: {what}: no reason recorded");
                assert!(!e.contains('\r') && !e.contains('\n'), "{f}: the reason itself is one clean line: {e:?}");
            }
        }
        // Nothing was changed by the refusals: the request still has no session and is refused.
        let mut out = ptr::null_mut();
        assert_eq!(gsms_client_create_cluster(client, req, &mut out), GSMS_ERR_INVALID_ARGUMENT);
        assert!(out.is_null());
        gsms_client_free(client);
        gsms_cluster_request_free(req);
        gsms_config_free(cfg);
    }
    assert_eq!(emu.request_count(), 0, "nothing reached the wire");
}

#[test]
fn reasons_name_the_parameter_without_echoing_secrets() {
    unsafe {
        let cfg = gsms_config_new();
        let secret = cs(b"XBL3.0 x=1;SECRET-SAUCE\r\nX-Evil: 1");
        assert_eq!(gsms_config_set_auth_token(cfg, secret.as_ptr()), GSMS_ERR_INVALID_ARGUMENT);
        let e = last_error();
        assert!(e.contains("authorization"), "{e}");
        assert!(!e.contains("SECRET-SAUCE"), "the token is never echoed: {e}");
        let bad = cs(b"SECRET-SAUCE\xff");
        assert_eq!(gsms_config_set_xbl_token(cfg, cs(b"1").as_ptr(), bad.as_ptr()), GSMS_ERR_INVALID_ARGUMENT);
        assert!(!last_error().contains("SECRET-SAUCE"), "{}", last_error());
        assert_eq!(gsms_config_set_xbl_token(cfg, cs(b"a;b").as_ptr(), cs(b"t").as_ptr()), GSMS_ERR_INVALID_ARGUMENT);
        assert!(last_error().contains(';'), "{}", last_error());
        // A success clears the reason.
        assert_eq!(gsms_config_set_auth_token(cfg, cs(TOKEN.as_bytes()).as_ptr()), GSMS_OK);
        assert_eq!(last_error(), "");
        gsms_config_free(cfg);
    }
}

#[test]
fn base_urls_that_could_smuggle_anything_are_refused() {
    unsafe {
        let cfg = gsms_config_new();
        for bad in [
            &b"http://127.0.0.1:1/\r\nHost: evil"[..],
            b"http://evil@127.0.0.1/",
            b"http://user:pass@host/",
            b"https://host/?a=b",
            b"https://host/#frag",
            b"file:///etc/passwd",
            b"gopher://host/",
            b"http://host:0/",
            b"http://host:65536/",
            b"http://host:-1/",
            b"http:// host/",
            b"http://",
            b"https://host\x00ignored",
            b"javascript:alert(1)",
        ] {
            let bytes = bad.split(|b| *b == 0).next().unwrap();
            let st = gsms_config_set_base_url(cfg, cs(bytes).as_ptr());
            if bytes == b"https://host" {
                assert_eq!(st, GSMS_OK, "C sees the string up to the NUL");
            } else {
                assert_eq!(st, GSMS_ERR_INVALID_ARGUMENT, "{:?}", String::from_utf8_lossy(bad));
            }
        }
        gsms_config_free(cfg);
    }
}

#[test]
fn absurd_numbers_are_refused_or_harmless() {
    let emu = emulator(|_| {});
    unsafe {
        let cfg = gsms_config_new();
        assert_eq!(gsms_config_set_timeouts(cfg, 0, 1000), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_config_set_timeouts(cfg, 1000, 0), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_config_set_timeouts(cfg, u32::MAX, u32::MAX), GSMS_OK, "49 days is long, not invalid");
        assert_eq!(gsms_config_set_retry_policy(cfg, 0, 1, 1), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_config_set_retry_policy(cfg, u32::MAX, 1, 1), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_config_set_retry_policy(cfg, 3, u32::MAX, 1), GSMS_ERR_INVALID_ARGUMENT, "base > max");
        assert_eq!(gsms_config_set_retry_policy(cfg, 100, u32::MAX, u32::MAX), GSMS_OK);
        for level in [0, 6, 7, u32::MAX] {
            assert_eq!(gsms_config_set_log_callback(cfg, None, ptr::null_mut(), level), GSMS_ERR_INVALID_ARGUMENT);
        }
        for mode in [2, 3, u32::MAX] {
            assert_eq!(gsms_config_set_callback_mode(cfg, mode), GSMS_ERR_INVALID_ARGUMENT);
        }
        for n in [0, 65, u32::MAX] {
            assert_eq!(gsms_config_set_worker_threads(cfg, n), GSMS_ERR_INVALID_ARGUMENT, "{n}");
        }
        assert!(last_error().contains("4294967295"), "{}", last_error());
        gsms_config_free(cfg);

        let req = gsms_cluster_request_new(u32::MAX);
        for v in [2, u32::MAX] {
            assert_eq!(gsms_cluster_request_set_abort_if_queued(req, v), GSMS_ERR_INVALID_ARGUMENT);
        }
        assert_eq!(gsms_cluster_request_set_session_id(req, cs(session("max").as_bytes()).as_ptr()), GSMS_OK);

        let c = client_for(&emu.base_url(), |cfg| {
            assert_eq!(gsms_config_set_timeouts(cfg, u32::MAX, u32::MAX), GSMS_OK);
        });
        // Title u32::MAX and a deadline of u32::MAX ms: a normal call.
        let mut out = ptr::null_mut();
        assert_eq!(gsms_client_allocate_cluster(c, req, u32::MAX, &mut out), GSMS_OK, "{}", last_error());
        assert_eq!(gsms_cluster_result_fulfillment_state(out), gsms_fulfillment_state::GSMS_FULFILLMENT_FULFILLED);
        let n = gsms_cluster_result_port_count(out);
        let mut name: *const c_char = ptr::null();
        let (mut a, mut b) = (7u32, 7u32);
        for idx in [n, n + 1, usize::MAX, usize::MAX / 2] {
            assert_eq!(gsms_cluster_result_port(out, idx, &mut name, &mut a, &mut b), GSMS_ERR_INVALID_ARGUMENT);
            assert!(name.is_null() && a == 7 && b == 7, "out-pointers untouched on failure");
        }
        assert_eq!(gsms_cluster_result_port(out, 0, ptr::null_mut(), ptr::null_mut(), ptr::null_mut()), GSMS_OK);
        gsms_cluster_result_free(out);
        assert_eq!(gsms_client_dispatch(c, u32::MAX), 0);
        gsms_client_free(c);
        gsms_cluster_request_free(req);

        for s in [15, 100, u32::MAX] {
            assert_eq!(CStr::from_ptr(gsms_status_name(s)).to_str().unwrap(), "GSMS_UNKNOWN_STATUS");
        }
    }
    assert_eq!(emu.requests()[0].path, "/titles/4294967295/clusters");
}

#[test]
fn a_ca_bundle_path_to_an_endless_or_odd_file_is_refused_quickly() {
    unsafe {
        let cfg = gsms_config_new();
        let dir = std::env::temp_dir();
        for path in
            ["/dev/zero", "/dev/urandom", "/proc/self/status", "/", dir.to_str().unwrap(), "/nonexistent/ca.pem"]
        {
            let t = Instant::now();
            let st = gsms_config_set_ca_bundle_path(cfg, cs(path.as_bytes()).as_ptr());
            assert_eq!(st, GSMS_ERR_INVALID_ARGUMENT, "{path}");
            assert!(t.elapsed() < Duration::from_secs(5), "{path}: {:?}", t.elapsed());
        }
        gsms_config_free(cfg);
    }
}

static DONE_CALLS: AtomicU32 = AtomicU32::new(0);
unsafe extern "C" fn count_done(_: *mut c_void, _: gsms_status, _: *const gsms_cluster_result) {
    DONE_CALLS.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn operations_after_cancel_double_cancel_and_after_the_client_is_gone() {
    let emu = emulator(|_| {});
    emu.add_fault(FaultRule::latency(3000));
    unsafe {
        let c = client_for(&emu.base_url(), |cfg| {
            assert_eq!(gsms_config_set_callback_mode(cfg, 0), GSMS_OK);
        });
        let req = valid_request("cancel");
        let mut op = ptr::null_mut();
        assert_eq!(gsms_client_create_cluster_async(c, req, Some(count_done), ptr::null_mut(), &mut op), GSMS_OK);
        // The request may be freed at once: the operation has its own copy.
        gsms_cluster_request_free(req);
        assert_eq!(gsms_operation_cancel(op), GSMS_OK);
        assert_eq!(gsms_operation_cancel(op), GSMS_OK, "double cancel is a no-op");
        for _ in 0..3 {
            let mut r = ptr::null_mut();
            assert_eq!(gsms_operation_take_result(op, &mut r), GSMS_ERR_CANCELLED, "same status every time");
            assert!(!r.is_null());
            assert_eq!(gsms_cluster_result_status(r), GSMS_ERR_CANCELLED);
            gsms_cluster_result_free(r);
        }
        let t = Instant::now();
        while DONE_CALLS.load(Ordering::SeqCst) == 0 && t.elapsed() < Duration::from_secs(2) {
            thread::sleep(Duration::from_millis(2));
        }
        // The client goes away while the caller still holds the operation handle.
        gsms_client_free(c);
        assert_eq!(gsms_operation_cancel(op), GSMS_OK, "cancel after the client is gone is a no-op");
        assert_eq!(gsms_operation_take_result(op, ptr::null_mut()), GSMS_ERR_CANCELLED);
        gsms_operation_free(op);
        thread::sleep(Duration::from_millis(50));
        assert_eq!(DONE_CALLS.load(Ordering::SeqCst), 1, "exactly one completion");
    }
}

#[test]
fn cancel_after_completion_keeps_the_real_outcome() {
    let emu = emulator(|_| {});
    unsafe {
        let c = client_for(&emu.base_url(), |_| {});
        let req = valid_request("done");
        let mut op = ptr::null_mut();
        assert_eq!(gsms_client_create_cluster_async(c, req, None, ptr::null_mut(), &mut op), GSMS_OK);
        let t = Instant::now();
        while gsms_operation_take_result(op, ptr::null_mut()) == GSMS_PENDING && t.elapsed() < Duration::from_secs(5) {
            thread::sleep(Duration::from_millis(2));
        }
        assert_eq!(gsms_operation_cancel(op), GSMS_OK);
        assert_eq!(gsms_operation_take_result(op, ptr::null_mut()), GSMS_OK, "cancel after completion changes nothing");
        // Both NULL: nobody could see the outcome.
        assert_eq!(
            gsms_client_create_cluster_async(c, req, None, ptr::null_mut(), ptr::null_mut()),
            GSMS_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            gsms_client_allocate_cluster_async(c, req, 0, None, None, ptr::null_mut(), ptr::null_mut()),
            GSMS_ERR_INVALID_ARGUMENT
        );
        gsms_operation_free(op);
        gsms_cluster_request_free(req);
        gsms_client_free(c);
    }
    assert_eq!(emu.request_count(), 1);
}

/// A result pointer handed to other threads (the contract: immutable, readable from any thread).
#[derive(Clone, Copy)]
struct Shared(*const gsms_cluster_result);
unsafe impl Send for Shared {}

#[test]
fn results_are_read_cloned_and_freed_from_many_threads() {
    let emu = emulator(|_| {});
    unsafe {
        let c = client_for(&emu.base_url(), |_| {});
        let req = valid_request("threads");
        let mut r = ptr::null_mut();
        assert_eq!(gsms_client_create_cluster(c, req, &mut r), GSMS_OK);
        let want_host = CStr::from_ptr(gsms_cluster_result_host_name(r)).to_owned();
        let shared = Shared(r);
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let want_host = want_host.clone();
                thread::spawn(move || {
                    let s = shared;
                    for _ in 0..2000 {
                        let r = s.0;
                        assert_eq!(gsms_cluster_result_status(r), GSMS_OK);
                        assert_eq!(CStr::from_ptr(gsms_cluster_result_host_name(r)), want_host.as_c_str());
                        let n = gsms_cluster_result_port_count(r);
                        for i in 0..n {
                            let mut name = ptr::null();
                            assert_eq!(
                                gsms_cluster_result_port(r, i, &mut name, ptr::null_mut(), ptr::null_mut()),
                                GSMS_OK
                            );
                            assert!(!CStr::from_ptr(name).to_bytes().is_empty());
                        }
                        let _ = CStr::from_ptr(gsms_cluster_result_raw_json(r)).to_bytes().len();
                        let copy = gsms_cluster_result_clone(r);
                        assert_eq!(
                            CStr::from_ptr(gsms_cluster_result_region(copy)),
                            CStr::from_ptr(gsms_cluster_result_region(r))
                        );
                        gsms_cluster_result_free(copy);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        gsms_cluster_result_free(r);
        gsms_cluster_request_free(req);
        gsms_client_free(c);
    }
}

#[test]
fn a_client_is_shared_by_many_threads_at_once() {
    let emu = emulator(|c| c.servers_per_title = 500);
    #[derive(Clone, Copy)]
    struct C(*mut gsms_client);
    unsafe impl Send for C {}
    unsafe {
        let c = C(client_for(&emu.base_url(), |_| {}));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                thread::spawn(move || {
                    let c = c;
                    let mut ops = Vec::new();
                    for i in 0..25 {
                        let req = valid_request(&format!("shared-{t}-{i}"));
                        let mut r = ptr::null_mut();
                        assert_eq!(gsms_client_create_cluster(c.0, req, &mut r), GSMS_OK);
                        assert_eq!(
                            gsms_cluster_result_fulfillment_state(r),
                            gsms_fulfillment_state::GSMS_FULFILLMENT_FULFILLED
                        );
                        assert_eq!(gsms_client_set_auth_token(c.0, cs(TOKEN.as_bytes()).as_ptr()), GSMS_OK);
                        let mut op = ptr::null_mut();
                        assert_eq!(gsms_client_create_cluster_async(c.0, req, None, ptr::null_mut(), &mut op), GSMS_OK);
                        gsms_client_dispatch(c.0, 0);
                        ops.push(op as usize);
                        gsms_cluster_result_free(r);
                        gsms_cluster_request_free(req);
                    }
                    // Every async call of this thread finished, fulfilled (the same session as
                    // its blocking call: an idempotent repeat).
                    let end = Instant::now() + Duration::from_secs(20);
                    for op in ops {
                        let op = op as *mut gsms_operation;
                        let mut r = ptr::null_mut();
                        let mut st = gsms_operation_take_result(op, &mut r);
                        while st == GSMS_PENDING && Instant::now() < end {
                            thread::sleep(Duration::from_millis(2));
                            st = gsms_operation_take_result(op, &mut r);
                        }
                        assert_eq!(st, GSMS_OK, "{}", last_error());
                        assert_eq!(
                            gsms_cluster_result_fulfillment_state(r),
                            gsms_fulfillment_state::GSMS_FULFILLMENT_FULFILLED
                        );
                        gsms_cluster_result_free(r);
                        gsms_operation_free(op);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        gsms_client_free(c.0);
    }
    // 4 threads x 25 x (one blocking + one async call), each sent once.
    assert_eq!(emu.request_count(), 200);
    let sessions: std::collections::HashSet<Vec<u8>> = emu.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(sessions.len(), 100, "each session was asked for twice");
}

unsafe extern "C" fn provider_bad_value(_: *mut c_void, _: u32, sink: *mut gsms_token_sink) -> u32 {
    unsafe {
        let st = gsms_token_sink_set(sink, c"XBL3.0 x=1;t\r\nX-Evil: 1".as_ptr());
        assert_eq!(st, GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_token_sink_set(sink, c"".as_ptr()), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_token_sink_set(sink, ptr::null()), GSMS_ERR_INVALID_ARGUMENT);
    }
    GSMS_OK as u32 // claims success without a value
}

unsafe extern "C" fn provider_garbage_status(_: *mut c_void, _: u32, sink: *mut gsms_token_sink) -> u32 {
    unsafe { gsms_token_sink_set(sink, c"XBL3.0 x=1;t".as_ptr()) };
    0xdead_beef
}

#[test]
fn token_providers_that_misbehave_fail_the_call_and_send_nothing() {
    let emu = emulator(|_| {});
    unsafe {
        for p in [provider_bad_value as unsafe extern "C" fn(_, _, _) -> _, provider_garbage_status] {
            let c = client_for(&emu.base_url(), |cfg| {
                assert_eq!(gsms_config_set_token_provider(cfg, Some(p), ptr::null_mut()), GSMS_OK);
            });
            let req = valid_request("provider");
            let mut r = ptr::null_mut();
            assert_eq!(gsms_client_create_cluster(c, req, &mut r), GSMS_ERR_AUTH_PROVIDER);
            let msg = CStr::from_ptr(gsms_cluster_result_error_message(r)).to_string_lossy().into_owned();
            assert!(msg.contains("token provider"), "{msg}");
            gsms_cluster_result_free(r);
            gsms_cluster_request_free(req);
            gsms_client_free(c);
        }
    }
    assert_eq!(emu.request_count(), 0);
}

#[test]
fn free_functions_accept_null_and_getters_have_safe_defaults() {
    unsafe {
        gsms_config_free(ptr::null_mut());
        gsms_client_free(ptr::null_mut());
        gsms_cluster_request_free(ptr::null_mut());
        gsms_cluster_result_free(ptr::null_mut());
        gsms_operation_free(ptr::null_mut());
        let r = ptr::null();
        assert_eq!(gsms_cluster_result_status(r), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_cluster_result_poll_interval_ms(r), 1000);
        for s in [
            gsms_cluster_result_host_name(r),
            gsms_cluster_result_region(r),
            gsms_cluster_result_secure_context(r),
            gsms_cluster_result_correlation_id(r),
            gsms_cluster_result_error_message(r),
            gsms_cluster_result_raw_json(r),
        ] {
            assert!(!s.is_null());
            assert_eq!(CStr::from_ptr(s).to_bytes(), b"");
        }
        assert!(gsms_cluster_result_clone(r).is_null());
        assert_eq!(gsms_client_dispatch(ptr::null_mut(), 0), 0);
        assert_eq!(gsms_abi_version() >> 16, GSMS_ABI_MAJOR);
        assert_eq!(gsms_abi_version() & 0xFFFF, gsms::ffi::GSMS_ABI_MINOR);
    }
}
