//! Unit tests of the unsafe helpers and handle functions of the C ABI, without threads or network,
//! so that Miri can run them (`cargo +nightly miri test --lib ffi::`; scripts/test_extra.sh does
//! when Miri is installed): NULL and invalid UTF-8 arguments, the panic boundary, the thread's last
//! error, result accessors and their borrowed strings, builders, and frees.

use std::ffi::{c_char, CStr};
use std::ptr;
use std::sync::Arc;

use super::call::Exported;
use super::clusters::*;
use super::config::*;
use super::enums::*;
use super::handle::{box_into_raw, box_mut, box_ref, str_arg};
use super::info::*;
use super::*;
use crate::core::{CallInfo, ClusterResult, FulfillmentState, PortMapping, Status};

fn last() -> String {
    // SAFETY: always a valid C string owned by this thread.
    unsafe { CStr::from_ptr(gsms_last_error_message()) }.to_string_lossy().into_owned()
}

#[test]
fn str_arg_checks_null_and_utf8() {
    unsafe {
        assert_eq!(str_arg(ptr::null(), "x"), Err(gsms_status::GSMS_ERR_INVALID_ARGUMENT));
        assert!(last().contains("x must not be NULL"));
        let bad = b"a\xffb\0";
        assert_eq!(str_arg(bad.as_ptr() as *const c_char, "y"), Err(gsms_status::GSMS_ERR_INVALID_ARGUMENT));
        assert!(last().contains("UTF-8"));
        assert_eq!(str_arg(c"h\u{e9}".as_ptr(), "z"), Ok("h\u{e9}"));
    }
}

#[test]
fn handles_refuse_null() {
    unsafe {
        assert!(box_ref::<gsms_config>(ptr::null(), "h").is_err());
        assert!(last().contains("h must not be NULL"));
        assert!(box_mut::<gsms_config>(ptr::null_mut(), "h").is_err());
        let cfg = gsms_config_new();
        assert_eq!(box_ref(cfg as *const gsms_config, "h").unwrap().inner.worker_threads, 2);
        box_mut(cfg, "h").unwrap().inner.worker_threads = 3;
        assert_eq!((*cfg).inner.worker_threads, 3);
        gsms_config_free(cfg);
    }
}

#[test]
fn guard_turns_a_panic_into_the_fallback_and_a_message() {
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let s: gsms_status = guard(|| panic!("boom"));
    let p: *mut u8 = guard(|| panic!("boom"));
    let c: *const c_char = guard(|| panic!("boom"));
    let n: u32 = guard(|| panic!("boom"));
    let f: gsms_fulfillment_state = guard(|| panic!("boom"));
    std::panic::set_hook(prev);
    assert_eq!(s, gsms_status::GSMS_ERR_INTERNAL);
    assert!(p.is_null());
    assert_eq!(unsafe { CStr::from_ptr(c) }.to_bytes(), b"");
    assert_eq!(n, 0);
    assert_eq!(f, gsms_fulfillment_state::GSMS_FULFILLMENT_UNKNOWN);
    assert!(last().contains("panic"));
    assert_eq!(guard(|| 5u32), 5);
}

#[test]
fn last_error_survives_interior_nul_and_is_per_thread() {
    set_last_error("a\0b");
    assert_eq!(last(), "a b");
    std::thread::spawn(|| assert_eq!(last(), "")).join().unwrap();
    assert_eq!(status(|| Ok(())), gsms_status::GSMS_OK);
    assert_eq!(last(), "");
    assert_eq!(status(|| Err(invalid("why"))), gsms_status::GSMS_ERR_INVALID_ARGUMENT);
    assert_eq!(last(), "why");
}

fn sample() -> ClusterResult {
    ClusterResult {
        info: CallInfo {
            status: Status::Ok,
            http_status: 200,
            attempts: 2,
            correlation_id: "cid".into(),
            retry_after_ms: 0,
            error_message: String::new(),
            raw_json: "{}".into(),
        },
        fulfillment_state: FulfillmentState::Fulfilled,
        poll_interval_ms: 250,
        host_name: "10.0.0.1".into(),
        region: "West\0US".into(), // cannot come from the parser; the handle must still cope
        secure_context: "AAEC".into(),
        ports: vec![PortMapping { name: "GameData".into(), internal: 7777, external: 31000 }],
    }
}

#[test]
fn result_accessors_clone_and_free() {
    unsafe {
        let r = box_into_raw(ClusterResult::handle(Arc::new(sample())));
        assert_eq!(gsms_cluster_result_status(r), gsms_status::GSMS_OK);
        assert_eq!(gsms_cluster_result_fulfillment_state(r), gsms_fulfillment_state::GSMS_FULFILLMENT_FULFILLED);
        assert_eq!(gsms_cluster_result_poll_interval_ms(r), 250);
        assert_eq!(CStr::from_ptr(gsms_cluster_result_host_name(r)).to_bytes(), b"10.0.0.1");
        assert_eq!(CStr::from_ptr(gsms_cluster_result_region(r)).to_str().unwrap(), "West\u{FFFD}US");
        assert_eq!(gsms_cluster_result_port_count(r), 1);
        let mut name: *const c_char = ptr::null();
        let (mut a, mut b) = (0u32, 0u32);
        assert_eq!(gsms_cluster_result_port(r, 0, &mut name, &mut a, &mut b), gsms_status::GSMS_OK);
        assert_eq!((CStr::from_ptr(name).to_bytes(), a, b), (&b"GameData"[..], 7777, 31000));
        assert_eq!(
            gsms_cluster_result_port(r, usize::MAX, &mut name, &mut a, &mut b),
            gsms_status::GSMS_ERR_INVALID_ARGUMENT
        );
        let c = gsms_cluster_result_clone(r);
        gsms_cluster_result_free(r);
        // The clone outlives the original, with its own strings.
        assert_eq!(CStr::from_ptr(gsms_cluster_result_correlation_id(c)).to_bytes(), b"cid");
        assert_eq!(gsms_cluster_result_attempts(c), 2);
        assert_eq!(gsms_cluster_result_http_status(c), 200);
        let info = gsms_cluster_result_info(c);
        assert_eq!(gsms_call_info_status(info), gsms_status::GSMS_OK);
        assert_eq!(gsms_call_info_attempts(info), 2);
        assert_eq!(CStr::from_ptr(gsms_call_info_raw_json(info)).to_bytes(), b"{}");
        assert_eq!(
            CStr::from_ptr(gsms_call_info_describe(info)).to_str().unwrap(),
            "GSMS_OK (HTTP 200, 2 attempts, correlation id cid)"
        );
        gsms_cluster_result_free(c);
        assert!(gsms_cluster_result_info(ptr::null()).is_null());
        assert_eq!(gsms_call_info_status(ptr::null()), gsms_status::GSMS_ERR_INVALID_ARGUMENT);
        gsms_cluster_result_free(ptr::null_mut());
        assert_eq!(CStr::from_ptr(gsms_cluster_result_raw_json(ptr::null())).to_bytes(), b"");
        assert!(gsms_cluster_result_clone(ptr::null()).is_null());
    }
}

#[test]
fn builders_validate_and_free() {
    unsafe {
        let cfg = gsms_config_new();
        assert_eq!(gsms_config_set_base_url(cfg, c"http://127.0.0.1:9".as_ptr()), gsms_status::GSMS_OK);
        assert_eq!(gsms_config_set_base_url(cfg, ptr::null()), gsms_status::GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(
            gsms_config_set_auth_token(cfg, c"XBL3.0 x=1;t\r\n".as_ptr()),
            gsms_status::GSMS_ERR_INVALID_ARGUMENT
        );
        assert_eq!(gsms_config_set_xbl_token(cfg, c"1".as_ptr(), c"t".as_ptr()), gsms_status::GSMS_OK);
        assert_eq!(gsms_config_set_callback_mode(cfg, 2), gsms_status::GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_config_set_log_callback(cfg, None, ptr::null_mut(), 9), gsms_status::GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_config_set_worker_threads(ptr::null_mut(), 1), gsms_status::GSMS_ERR_INVALID_ARGUMENT);
        // Single-value setters keep the other half of the pair.
        assert_eq!(gsms_config_set_request_timeout(cfg, 1234), gsms_status::GSMS_OK);
        assert_eq!(gsms_config_set_connect_timeout(cfg, 0), gsms_status::GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_config_set_connect_timeout(cfg, 99), gsms_status::GSMS_OK);
        assert_eq!((*cfg).inner.request_timeout.as_millis(), 1234);
        assert_eq!((*cfg).inner.connect_timeout.as_millis(), 99);
        assert_eq!(gsms_config_set_max_attempts(cfg, 7), gsms_status::GSMS_OK);
        assert_eq!(gsms_config_set_retry_delays(cfg, 20, 10), gsms_status::GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_config_set_retry_delays(cfg, 20, 40), gsms_status::GSMS_OK);
        assert_eq!((*cfg).inner.retry.max_attempts, 7);
        assert_eq!((*cfg).inner.retry.base_delay.as_millis(), 20);
        gsms_config_free(cfg);
        gsms_config_free(ptr::null_mut());

        let req = gsms_cluster_request_new(u32::MAX);
        assert_eq!(
            gsms_cluster_request_set_session(req, c"a".as_ptr(), c"b".as_ptr(), c"c".as_ptr()),
            gsms_status::GSMS_OK
        );
        assert_eq!(gsms_cluster_request_set_session_id(req, c"a\nb".as_ptr()), gsms_status::GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_cluster_request_set_abort_if_queued(req, 2), gsms_status::GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!((*req).inner.session_id, "/serviceconfigs/a/sessionTemplates/b/sessions/c");
        gsms_cluster_request_free(req);
        gsms_cluster_request_free(ptr::null_mut());
    }
}

#[test]
fn names_and_versions_are_static() {
    let name = |s: u32| unsafe { CStr::from_ptr(gsms_status_name(s)) }.to_str().unwrap();
    assert_eq!(name(0), "GSMS_OK");
    assert_eq!(name(13), "GSMS_PENDING");
    assert_eq!(name(u32::MAX), "GSMS_UNKNOWN_STATUS");
    let state = |s: u32| unsafe { CStr::from_ptr(gsms_fulfillment_state_name(s)) }.to_str().unwrap();
    assert_eq!(state(2), "GSMS_FULFILLMENT_QUEUED");
    assert_eq!(state(77), "GSMS_FULFILLMENT_UNKNOWN");
    assert_eq!(unsafe { CStr::from_ptr(gsms_version_string()) }.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    assert_eq!(gsms_abi_version() >> 16, GSMS_ABI_MAJOR);
}
