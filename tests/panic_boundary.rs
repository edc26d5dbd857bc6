//! The panic boundary, proven: with the `test-hooks` feature, `arm_panic()` makes the next exported
//! call panic inside its `guard`. Every function of include/gsms.h is called armed: it returns its
//! documented fallback (GSMS_ERR_INTERNAL, NULL, 0, "" or UNKNOWN), gsms_last_error_message()
//! names the panic, and the process lives on: the same call unarmed works.
//!
//! Run with `cargo test --features test-hooks --test panic_boundary` (Cargo.toml marks it
//! required-features, so a plain `cargo test` skips it).

mod common;

use std::collections::BTreeSet;
use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use gsms::ffi::client::*;
use gsms::ffi::clusters::*;
use gsms::ffi::config::*;
use gsms::ffi::enums::*;
use gsms::ffi::info::*;
use gsms::ffi::inline_clusters::*;
use gsms::ffi::operation::*;
use gsms::ffi::qos::*;
use gsms::ffi::qos_servers::*;
use gsms::ffi::session_hosts::*;
use gsms::ffi::test_hooks::arm_panic;
use gsms::ffi::tickets::*;
use gsms::ffi::variants::*;
use gsms::ffi::{gsms_abi_version, gsms_version_string};
use gsms::ffi::{gsms_fulfillment_state, gsms_host_status, gsms_last_error_message, gsms_status};

use gsms_status::*;

/// What an exported function returned, by C return type.
#[derive(Debug, PartialEq)]
enum Out {
    Status(gsms_status),
    Ptr(bool),   // is NULL
    Str(String), // const char *
    Num(u64),    // uint32_t, uint16_t, size_t
    State(gsms_fulfillment_state),
    Host(gsms_host_status),
    Unit,
}

impl Out {
    fn is_fallback(&self) -> bool {
        match self {
            Out::Status(s) => *s == GSMS_ERR_INTERNAL,
            Out::Ptr(null) => *null,
            Out::Str(s) => s.is_empty(),
            Out::Num(n) => *n == 0,
            Out::State(s) => *s == gsms_fulfillment_state::GSMS_FULFILLMENT_UNKNOWN,
            Out::Host(s) => *s == gsms_host_status::GSMS_HOST_UNKNOWN,
            Out::Unit => true,
        }
    }
}

unsafe fn s(p: *const c_char) -> Out {
    assert!(!p.is_null(), "a string return is never NULL, even from a caught panic");
    Out::Str(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

fn last_error() -> String {
    unsafe { CStr::from_ptr(gsms_last_error_message()) }.to_string_lossy().into_owned()
}

/// Live handles the cases work on.
struct Fx {
    cfg: *mut gsms_config,
    client: *mut gsms_client,
    req: *mut gsms_cluster_request,
    result: *mut gsms_cluster_result,
    op: *mut gsms_operation,
    info: *const gsms_call_info,
    url: CString,
    // The family: a builder of each kind (complete, so calls on it work), a result of each kind
    // from a real call to the emulator, and an operation of each kind started without a callback.
    ireq: *mut gsms_inline_cluster_request,
    sreq: *mut gsms_session_host_request,
    vreq: *mut gsms_variants_request,
    probe: *mut gsms_qos_probe,
    /// A probe only the builder cases change (`probe` stays as measured).
    scratch_probe: *mut gsms_qos_probe,
    ticket_id: CString,
    session_id: CString,
    ticket: *mut gsms_ticket_result,
    session_host: *mut gsms_session_host_result,
    variants: *mut gsms_variants_result,
    qos_servers: *mut gsms_qos_servers_result,
    qos: *mut gsms_qos_result,
    op_ticket: *mut gsms_operation,
    op_variants: *mut gsms_operation,
    op_qos_servers: *mut gsms_operation,
    op_session_host: *mut gsms_operation,
    op_qos: *mut gsms_operation,
}

/// Regions added to the scratch probe: each call adds a new one (duplicates are refused).
static REGION: AtomicU32 = AtomicU32::new(0);

static SINK_OUTCOMES: Mutex<Vec<(Out, Out, String)>> = Mutex::new(Vec::new());

/// A token provider that calls gsms_token_sink_set armed, then unarmed.
unsafe extern "C" fn provider(_: *mut c_void, _: u32, sink: *mut gsms_token_sink) -> u32 {
    unsafe {
        arm_panic();
        let armed = Out::Status(gsms_token_sink_set(sink, c"XBL3.0 x=1;t".as_ptr()));
        let msg = last_error();
        let unarmed = Out::Status(gsms_token_sink_set(sink, c"XBL3.0 x=1;t".as_ptr()));
        SINK_OUTCOMES.lock().unwrap().push((armed, unarmed, msg));
        arm_panic();
        let armed = Out::Status(gsms_token_sink_set_signature(sink, c"sig".as_ptr()));
        let msg = last_error();
        let unarmed = Out::Status(gsms_token_sink_set_signature(sink, c"sig".as_ptr()));
        SINK_OUTCOMES.lock().unwrap().push((armed, unarmed, msg));
        for f in [
            gsms_token_sink_method as unsafe extern "C" fn(*const gsms_token_sink) -> *const c_char,
            gsms_token_sink_url,
        ] {
            arm_panic();
            let armed = s(f(sink));
            let msg = last_error();
            let unarmed = s(f(sink));
            let unarmed = if matches!(&unarmed, Out::Str(v) if !v.is_empty()) { Out::Status(GSMS_OK) } else { unarmed };
            SINK_OUTCOMES.lock().unwrap().push((
                if armed.is_fallback() { Out::Status(GSMS_ERR_INTERNAL) } else { armed },
                unarmed,
                msg,
            ));
        }
    }
    0
}

unsafe extern "C" fn on_done(_: *mut c_void, _: gsms_status, _: *const gsms_cluster_result) {}
unsafe extern "C" fn on_ticket(_: *mut c_void, _: gsms_status, _: *const gsms_ticket_result) {}
unsafe extern "C" fn on_variants(_: *mut c_void, _: gsms_status, _: *const gsms_variants_result) {}
unsafe extern "C" fn on_qos_servers(_: *mut c_void, _: gsms_status, _: *const gsms_qos_servers_result) {}
unsafe extern "C" fn on_qos(_: *mut c_void, _: gsms_status, _: *const gsms_qos_result) {}
unsafe extern "C" fn on_session_host(_: *mut c_void, _: gsms_status, _: *const gsms_session_host_result) {}
unsafe extern "C" fn on_session_host_progress(_: *mut c_void, _: *const gsms_session_host_result) {}
unsafe extern "C" fn on_progress(_: *mut c_void, _: *const gsms_cluster_result) {}
unsafe extern "C" fn on_log(_: *mut c_void, _: gsms_log_level, _: *const c_char) {}

/// `gsms_operation_take_<x>_result(op, &r)`, the copy freed.
unsafe fn take<T>(
    take: unsafe extern "C" fn(*mut gsms_operation, *mut *mut T) -> gsms_status,
    free: unsafe extern "C" fn(*mut T),
    op: *mut gsms_operation,
) -> Out {
    unsafe {
        let mut r = ptr::null_mut();
        let st = take(op, &mut r);
        free(r);
        Out::Status(st)
    }
}

/// `gsms_<x>_free(NULL)`: a no-op.
unsafe fn free_null<T>(free: unsafe extern "C" fn(*mut T)) -> Out {
    unsafe { free(ptr::null_mut()) };
    Out::Unit
}

/// `gsms_<x>_result_clone(r)`, the copy freed.
unsafe fn clone<T>(
    clone: unsafe extern "C" fn(*const T) -> *mut T,
    free: unsafe extern "C" fn(*mut T),
    r: *const T,
) -> Out {
    unsafe {
        let c = clone(r);
        free(c);
        Out::Ptr(c.is_null())
    }
}

type PortFn<T> = unsafe extern "C" fn(*const T, usize, *mut *const c_char, *mut u32, *mut u32) -> gsms_status;

/// `gsms_<x>_result_port(r, 0, ..)`: a caught panic writes no out-pointer.
unsafe fn port<T>(f: PortFn<T>, r: *const T) -> Out {
    unsafe {
        let mut name: *const c_char = ptr::null();
        let (mut a, mut b) = (0u32, 0u32);
        let st = f(r, 0, &mut name, &mut a, &mut b);
        if st == GSMS_ERR_INTERNAL {
            assert!(name.is_null() && a == 0 && b == 0, "no out-pointer written by a caught panic");
        }
        Out::Status(st)
    }
}

/// Calls one exported function by name with valid arguments. Constructors' results are freed.
unsafe fn call(name: &str, fx: &Fx) -> Out {
    unsafe {
        let ok = c"ok".as_ptr();
        let sess = CString::new(session("panic")).unwrap();
        match name {
            "gsms_last_error_message" => s(gsms_last_error_message()),
            "gsms_abi_version" => Out::Num(gsms_abi_version().into()),
            "gsms_version_string" => s(gsms_version_string()),
            "gsms_status_name" => s(gsms_status_name(0)),
            "gsms_fulfillment_state_name" => s(gsms_fulfillment_state_name(1)),
            "gsms_config_set_discovery_base_url" => {
                Out::Status(gsms_config_set_discovery_base_url(fx.cfg, fx.url.as_ptr()))
            }
            "gsms_config_set_connect_timeout" => Out::Status(gsms_config_set_connect_timeout(fx.cfg, 1000)),
            "gsms_config_set_request_timeout" => Out::Status(gsms_config_set_request_timeout(fx.cfg, 2000)),
            "gsms_config_set_max_attempts" => Out::Status(gsms_config_set_max_attempts(fx.cfg, 2)),
            "gsms_config_set_retry_delays" => Out::Status(gsms_config_set_retry_delays(fx.cfg, 1, 10)),
            // Only callable inside a token provider: see the test.
            "gsms_token_sink_set_signature" | "gsms_token_sink_method" | "gsms_token_sink_url" => Out::Unit,
            "gsms_operation_take_cluster_result" => {
                take(gsms_operation_take_cluster_result, gsms_cluster_result_free, fx.op)
            }
            "gsms_cluster_result_info" => Out::Ptr(gsms_cluster_result_info(fx.result).is_null()),
            "gsms_call_info_status" => Out::Status(gsms_call_info_status(fx.info)),
            "gsms_call_info_http_status" => Out::Num(gsms_call_info_http_status(fx.info).into()),
            "gsms_call_info_attempts" => Out::Num(gsms_call_info_attempts(fx.info).into()),
            "gsms_call_info_retry_after_ms" => Out::Num(gsms_call_info_retry_after_ms(fx.info).into()),
            "gsms_call_info_correlation_id" => s(gsms_call_info_correlation_id(fx.info)),
            "gsms_call_info_error_message" => s(gsms_call_info_error_message(fx.info)),
            "gsms_call_info_raw_json" => s(gsms_call_info_raw_json(fx.info)),
            "gsms_call_info_describe" => s(gsms_call_info_describe(fx.info)),
            "gsms_config_new" => {
                let c = gsms_config_new();
                gsms_config_free(c);
                Out::Ptr(c.is_null())
            }
            "gsms_config_free" => free_null(gsms_config_free),
            "gsms_config_set_base_url" => Out::Status(gsms_config_set_base_url(fx.cfg, fx.url.as_ptr())),
            "gsms_config_set_user_agent" => Out::Status(gsms_config_set_user_agent(fx.cfg, ok)),
            "gsms_config_set_timeouts" => Out::Status(gsms_config_set_timeouts(fx.cfg, 1000, 2000)),
            "gsms_config_set_retry_policy" => Out::Status(gsms_config_set_retry_policy(fx.cfg, 2, 1, 10)),
            "gsms_config_set_auth_token" => Out::Status(gsms_config_set_auth_token(fx.cfg, c"XBL3.0 x=1;t".as_ptr())),
            "gsms_config_set_xbl_token" => Out::Status(gsms_config_set_xbl_token(fx.cfg, ok, ok)),
            "gsms_config_set_token_provider" => {
                Out::Status(gsms_config_set_token_provider(fx.cfg, None, ptr::null_mut()))
            }
            "gsms_config_set_log_callback" => {
                Out::Status(gsms_config_set_log_callback(fx.cfg, Some(on_log), ptr::null_mut(), 1))
            }
            "gsms_config_set_callback_mode" => Out::Status(gsms_config_set_callback_mode(fx.cfg, 1)),
            "gsms_config_set_worker_threads" => Out::Status(gsms_config_set_worker_threads(fx.cfg, 1)),
            "gsms_config_set_ca_bundle_path" => {
                // An unreadable path: INVALID_ARGUMENT unarmed, INTERNAL armed.
                Out::Status(gsms_config_set_ca_bundle_path(fx.cfg, c"/nonexistent/ca.pem".as_ptr()))
            }
            "gsms_token_sink_set" => Out::Unit, // called inside a provider: see the test
            "gsms_client_new" => {
                let mut c = ptr::null_mut();
                let st = gsms_client_new(fx.cfg, &mut c);
                gsms_client_free(c);
                Out::Status(st)
            }
            "gsms_client_free" => free_null(gsms_client_free),
            "gsms_client_set_auth_token" => {
                Out::Status(gsms_client_set_auth_token(fx.client, c"XBL3.0 x=1;t".as_ptr()))
            }
            "gsms_client_dispatch" => Out::Num(gsms_client_dispatch(fx.client, 0).into()),
            "gsms_client_warmup" => Out::Status(gsms_client_warmup(fx.client)),
            "gsms_client_create_cluster" => {
                let mut r = ptr::null_mut();
                let st = gsms_client_create_cluster(fx.client, fx.req, &mut r);
                gsms_cluster_result_free(r);
                Out::Status(st)
            }
            "gsms_client_allocate_cluster" => {
                let mut r = ptr::null_mut();
                let st = gsms_client_allocate_cluster(fx.client, fx.req, 5000, &mut r);
                gsms_cluster_result_free(r);
                Out::Status(st)
            }
            "gsms_client_create_cluster_async" => {
                let mut op = ptr::null_mut();
                let st = gsms_client_create_cluster_async(fx.client, fx.req, Some(on_done), ptr::null_mut(), &mut op);
                gsms_operation_free(op);
                Out::Status(st)
            }
            "gsms_client_allocate_cluster_async" => {
                let mut op = ptr::null_mut();
                let st = gsms_client_allocate_cluster_async(fx.client, fx.req, 0, None, None, ptr::null_mut(), &mut op);
                gsms_operation_free(op);
                Out::Status(st)
            }
            "gsms_operation_cancel" => Out::Status(gsms_operation_cancel(fx.op)),
            "gsms_operation_free" => free_null(gsms_operation_free),
            "gsms_operation_take_result" => take(gsms_operation_take_result, gsms_cluster_result_free, fx.op),
            "gsms_cluster_request_new" => {
                let r = gsms_cluster_request_new(1);
                gsms_cluster_request_free(r);
                Out::Ptr(r.is_null())
            }
            "gsms_cluster_request_free" => free_null(gsms_cluster_request_free),
            "gsms_cluster_request_set_session_id" => {
                Out::Status(gsms_cluster_request_set_session_id(fx.req, sess.as_ptr()))
            }
            // Nothing may run before the function under test: the first exported call takes the armed panic.
            "gsms_cluster_request_set_session" => Out::Status(gsms_cluster_request_set_session(fx.req, ok, ok, ok)),
            "gsms_cluster_request_set_abort_if_queued" => {
                Out::Status(gsms_cluster_request_set_abort_if_queued(fx.req, 0))
            }
            "gsms_cluster_result_status" => Out::Status(gsms_cluster_result_status(fx.result)),
            "gsms_cluster_result_fulfillment_state" => Out::State(gsms_cluster_result_fulfillment_state(fx.result)),
            "gsms_cluster_result_poll_interval_ms" => Out::Num(gsms_cluster_result_poll_interval_ms(fx.result).into()),
            "gsms_cluster_result_host_name" => s(gsms_cluster_result_host_name(fx.result)),
            "gsms_cluster_result_region" => s(gsms_cluster_result_region(fx.result)),
            "gsms_cluster_result_secure_context" => s(gsms_cluster_result_secure_context(fx.result)),
            "gsms_cluster_result_correlation_id" => s(gsms_cluster_result_correlation_id(fx.result)),
            "gsms_cluster_result_error_message" => s(gsms_cluster_result_error_message(fx.result)),
            "gsms_cluster_result_raw_json" => s(gsms_cluster_result_raw_json(fx.result)),
            "gsms_cluster_result_port_count" => Out::Num(gsms_cluster_result_port_count(fx.result) as u64),
            "gsms_cluster_result_port" => port(gsms_cluster_result_port, fx.result),
            "gsms_cluster_result_http_status" => Out::Num(gsms_cluster_result_http_status(fx.result).into()),
            "gsms_cluster_result_attempts" => Out::Num(gsms_cluster_result_attempts(fx.result).into()),
            "gsms_cluster_result_retry_after_ms" => Out::Num(gsms_cluster_result_retry_after_ms(fx.result).into()),
            "gsms_cluster_result_clone" => clone(gsms_cluster_result_clone, gsms_cluster_result_free, fx.result),
            "gsms_cluster_result_free" => free_null(gsms_cluster_result_free),
            "gsms_host_status_name" => s(gsms_host_status_name(1)),
            // ----- inline clusters -----
            "gsms_inline_cluster_request_new" => {
                let r = gsms_inline_cluster_request_new(TITLE);
                gsms_inline_cluster_request_free(r);
                Out::Ptr(r.is_null())
            }
            "gsms_inline_cluster_request_free" => free_null(gsms_inline_cluster_request_free),
            "gsms_inline_cluster_request_set_service_config_id" => {
                Out::Status(gsms_inline_cluster_request_set_service_config_id(fx.ireq, c"scid".as_ptr()))
            }
            "gsms_inline_cluster_request_set_sandbox_id" => {
                Out::Status(gsms_inline_cluster_request_set_sandbox_id(fx.ireq, c"XDKS.1".as_ptr()))
            }
            "gsms_inline_cluster_request_set_ticket_id" => {
                Out::Status(gsms_inline_cluster_request_set_ticket_id(fx.ireq, fx.ticket_id.as_ptr()))
            }
            "gsms_inline_cluster_request_set_gsi_set_id" => {
                Out::Status(gsms_inline_cluster_request_set_gsi_set_id(fx.ireq, c"gsi".as_ptr()))
            }
            "gsms_inline_cluster_request_set_game_variant_id" => {
                Out::Status(gsms_inline_cluster_request_set_game_variant_id(fx.ireq, c"variant".as_ptr()))
            }
            "gsms_inline_cluster_request_set_location" => {
                Out::Status(gsms_inline_cluster_request_set_location(fx.ireq, c"EmulatedWest".as_ptr()))
            }
            "gsms_inline_cluster_request_set_max_allowed_players" => {
                Out::Status(gsms_inline_cluster_request_set_max_allowed_players(fx.ireq, 8))
            }
            "gsms_inline_cluster_request_set_abort_if_queued" => {
                Out::Status(gsms_inline_cluster_request_set_abort_if_queued(fx.ireq, 0))
            }
            "gsms_client_create_inline_cluster" => {
                let mut r = ptr::null_mut();
                let st = gsms_client_create_inline_cluster(fx.client, fx.ireq, &mut r);
                gsms_cluster_result_free(r);
                Out::Status(st)
            }
            "gsms_client_allocate_inline_cluster" => {
                let mut r = ptr::null_mut();
                let st = gsms_client_allocate_inline_cluster(fx.client, fx.ireq, 5000, &mut r);
                gsms_cluster_result_free(r);
                Out::Status(st)
            }
            "gsms_client_create_inline_cluster_async" => {
                let mut op = ptr::null_mut();
                let st = gsms_client_create_inline_cluster_async(
                    fx.client,
                    fx.ireq,
                    Some(on_done),
                    ptr::null_mut(),
                    &mut op,
                );
                gsms_operation_free(op);
                Out::Status(st)
            }
            "gsms_client_allocate_inline_cluster_async" => {
                let mut op = ptr::null_mut();
                let st = gsms_client_allocate_inline_cluster_async(
                    fx.client,
                    fx.ireq,
                    5000,
                    Some(on_progress),
                    Some(on_done),
                    ptr::null_mut(),
                    &mut op,
                );
                gsms_operation_free(op);
                Out::Status(st)
            }
            // ----- ticket status -----
            "gsms_client_get_ticket_status" => {
                let mut r = ptr::null_mut();
                let st = gsms_client_get_ticket_status(fx.client, TITLE, fx.ticket_id.as_ptr(), &mut r);
                gsms_ticket_result_free(r);
                Out::Status(st)
            }
            "gsms_client_get_ticket_status_async" => {
                let mut op = ptr::null_mut();
                let st = gsms_client_get_ticket_status_async(
                    fx.client,
                    TITLE,
                    fx.ticket_id.as_ptr(),
                    Some(on_ticket),
                    ptr::null_mut(),
                    &mut op,
                );
                gsms_operation_free(op);
                Out::Status(st)
            }
            "gsms_operation_take_ticket_result" => {
                take(gsms_operation_take_ticket_result, gsms_ticket_result_free, fx.op_ticket)
            }
            "gsms_ticket_result_info" => Out::Ptr(gsms_ticket_result_info(fx.ticket).is_null()),
            "gsms_ticket_result_status" => Out::Host(gsms_ticket_result_status(fx.ticket)),
            "gsms_ticket_result_title_id" => Out::Num(gsms_ticket_result_title_id(fx.ticket).into()),
            "gsms_ticket_result_ticket_id" => s(gsms_ticket_result_ticket_id(fx.ticket)),
            "gsms_ticket_result_cluster_id" => s(gsms_ticket_result_cluster_id(fx.ticket)),
            "gsms_ticket_result_host_name" => s(gsms_ticket_result_host_name(fx.ticket)),
            "gsms_ticket_result_description" => s(gsms_ticket_result_description(fx.ticket)),
            "gsms_ticket_result_secure_context" => s(gsms_ticket_result_secure_context(fx.ticket)),
            "gsms_ticket_result_game_host_id" => s(gsms_ticket_result_game_host_id(fx.ticket)),
            "gsms_ticket_result_region" => s(gsms_ticket_result_region(fx.ticket)),
            "gsms_ticket_result_port_count" => Out::Num(gsms_ticket_result_port_count(fx.ticket) as u64),
            "gsms_ticket_result_port" => port(gsms_ticket_result_port, fx.ticket),
            "gsms_ticket_result_clone" => clone(gsms_ticket_result_clone, gsms_ticket_result_free, fx.ticket),
            "gsms_ticket_result_free" => free_null(gsms_ticket_result_free),
            // ----- variants -----
            "gsms_variants_request_new" => {
                let r = gsms_variants_request_new(TITLE);
                gsms_variants_request_free(r);
                Out::Ptr(r.is_null())
            }
            "gsms_variants_request_free" => free_null(gsms_variants_request_free),
            "gsms_variants_request_set_locale" => {
                Out::Status(gsms_variants_request_set_locale(fx.vreq, c"en-us".as_ptr()))
            }
            "gsms_variants_request_set_max_allowed_players" => {
                Out::Status(gsms_variants_request_set_max_allowed_players(fx.vreq, 0))
            }
            "gsms_variants_request_set_max_variants" => Out::Status(gsms_variants_request_set_max_variants(fx.vreq, 0)),
            "gsms_variants_request_set_publisher_only" => {
                Out::Status(gsms_variants_request_set_publisher_only(fx.vreq, 0))
            }
            "gsms_variants_request_add_tag" => {
                Out::Status(gsms_variants_request_add_tag(fx.vreq, c"mode".as_ptr(), c"ranked".as_ptr()))
            }
            "gsms_client_get_variants" => {
                let mut r = ptr::null_mut();
                let st = gsms_client_get_variants(fx.client, fx.vreq, &mut r);
                gsms_variants_result_free(r);
                Out::Status(st)
            }
            "gsms_client_get_variants_async" => {
                let mut op = ptr::null_mut();
                let st =
                    gsms_client_get_variants_async(fx.client, fx.vreq, Some(on_variants), ptr::null_mut(), &mut op);
                gsms_operation_free(op);
                Out::Status(st)
            }
            "gsms_operation_take_variants_result" => {
                take(gsms_operation_take_variants_result, gsms_variants_result_free, fx.op_variants)
            }
            "gsms_variants_result_info" => Out::Ptr(gsms_variants_result_info(fx.variants).is_null()),
            "gsms_variants_result_variant_count" => Out::Num(gsms_variants_result_variant_count(fx.variants) as u64),
            "gsms_variants_result_variant" => {
                let (mut id, mut name, mut schema): (*const c_char, *const c_char, *const c_char) =
                    (ptr::null(), ptr::null(), ptr::null());
                let (mut publ, mut rank) = (0u32, 0u64);
                let st =
                    gsms_variants_result_variant(fx.variants, 0, &mut id, &mut name, &mut publ, &mut rank, &mut schema);
                if st == GSMS_ERR_INTERNAL {
                    assert!(id.is_null() && name.is_null() && schema.is_null() && publ == 0 && rank == 0);
                }
                Out::Status(st)
            }
            "gsms_variants_result_schema_count" => Out::Num(gsms_variants_result_schema_count(fx.variants) as u64),
            "gsms_variants_result_schema" => {
                let (mut id, mut name, mut content): (*const c_char, *const c_char, *const c_char) =
                    (ptr::null(), ptr::null(), ptr::null());
                let st = gsms_variants_result_schema(fx.variants, 0, &mut id, &mut name, &mut content);
                if st == GSMS_ERR_INTERNAL {
                    assert!(id.is_null() && name.is_null() && content.is_null());
                }
                Out::Status(st)
            }
            "gsms_variants_result_gsi_set_count" => Out::Num(gsms_variants_result_gsi_set_count(fx.variants) as u64),
            "gsms_variants_result_gsi_set" => {
                let (mut id, mut name, mut schema): (*const c_char, *const c_char, *const c_char) =
                    (ptr::null(), ptr::null(), ptr::null());
                let (mut min, mut max, mut order) = (0u64, 0u64, 0u64);
                let st = gsms_variants_result_gsi_set(
                    fx.variants,
                    0,
                    &mut id,
                    &mut name,
                    &mut min,
                    &mut max,
                    &mut order,
                    &mut schema,
                );
                if st == GSMS_ERR_INTERNAL {
                    assert!(id.is_null() && name.is_null() && schema.is_null() && min == 0 && max == 0 && order == 0);
                }
                Out::Status(st)
            }
            "gsms_variants_result_gsi_set_tag_count" => {
                Out::Num(gsms_variants_result_gsi_set_tag_count(fx.variants, 0) as u64)
            }
            "gsms_variants_result_gsi_set_tag" => {
                let (mut name, mut value): (*const c_char, *const c_char) = (ptr::null(), ptr::null());
                let st = gsms_variants_result_gsi_set_tag(fx.variants, 0, 0, &mut name, &mut value);
                if st == GSMS_ERR_INTERNAL {
                    assert!(name.is_null() && value.is_null());
                }
                Out::Status(st)
            }
            "gsms_variants_result_clone" => clone(gsms_variants_result_clone, gsms_variants_result_free, fx.variants),
            "gsms_variants_result_free" => free_null(gsms_variants_result_free),
            // ----- QoS servers -----
            "gsms_client_get_qos_servers" => {
                let mut r = ptr::null_mut();
                let st = gsms_client_get_qos_servers(fx.client, 1, &mut r);
                gsms_qos_servers_result_free(r);
                Out::Status(st)
            }
            "gsms_client_get_qos_servers_async" => {
                let mut op = ptr::null_mut();
                let st =
                    gsms_client_get_qos_servers_async(fx.client, 1, Some(on_qos_servers), ptr::null_mut(), &mut op);
                gsms_operation_free(op);
                Out::Status(st)
            }
            "gsms_operation_take_qos_servers_result" => {
                take(gsms_operation_take_qos_servers_result, gsms_qos_servers_result_free, fx.op_qos_servers)
            }
            "gsms_qos_servers_result_info" => Out::Ptr(gsms_qos_servers_result_info(fx.qos_servers).is_null()),
            "gsms_qos_servers_result_count" => Out::Num(gsms_qos_servers_result_count(fx.qos_servers) as u64),
            "gsms_qos_servers_result_server" => {
                let (mut a, mut b, mut c): (*const c_char, *const c_char, *const c_char) =
                    (ptr::null(), ptr::null(), ptr::null());
                let st = gsms_qos_servers_result_server(fx.qos_servers, 0, &mut a, &mut b, &mut c);
                if st == GSMS_ERR_INTERNAL {
                    assert!(a.is_null() && b.is_null() && c.is_null());
                }
                Out::Status(st)
            }
            "gsms_qos_servers_result_clone" => {
                clone(gsms_qos_servers_result_clone, gsms_qos_servers_result_free, fx.qos_servers)
            }
            "gsms_qos_servers_result_free" => free_null(gsms_qos_servers_result_free),
            // ----- QoS measurement -----
            "gsms_qos_probe_new" => {
                let p = gsms_qos_probe_new();
                gsms_qos_probe_free(p);
                Out::Ptr(p.is_null())
            }
            "gsms_qos_probe_free" => free_null(gsms_qos_probe_free),
            "gsms_qos_probe_add_target" => {
                let region = CString::new(format!("Region{}", REGION.fetch_add(1, Ordering::SeqCst))).unwrap();
                Out::Status(gsms_qos_probe_add_target(fx.scratch_probe, region.as_ptr(), c"127.0.0.1".as_ptr(), 0))
            }
            "gsms_qos_probe_add_servers" => {
                // The first call adds the answer's regions; a second one is refused (duplicates),
                // which is an answer, not a panic.
                Out::Status(gsms_qos_probe_add_servers(fx.scratch_probe, fx.qos_servers))
            }
            "gsms_qos_probe_set_options" => Out::Status(gsms_qos_probe_set_options(fx.scratch_probe, 2, 2, 100)),
            "gsms_qos_probe_target_count" => Out::Num(gsms_qos_probe_target_count(fx.probe) as u64),
            "gsms_client_measure_qos" => {
                let mut r = ptr::null_mut();
                let st = gsms_client_measure_qos(fx.client, fx.probe, &mut r);
                gsms_qos_result_free(r);
                Out::Status(st)
            }
            "gsms_client_measure_qos_async" => {
                let mut op = ptr::null_mut();
                let st = gsms_client_measure_qos_async(fx.client, fx.probe, Some(on_qos), ptr::null_mut(), &mut op);
                gsms_operation_free(op);
                Out::Status(st)
            }
            "gsms_operation_take_qos_result" => take(gsms_operation_take_qos_result, gsms_qos_result_free, fx.op_qos),
            "gsms_qos_result_info" => Out::Ptr(gsms_qos_result_info(fx.qos).is_null()),
            "gsms_qos_result_region_count" => Out::Num(gsms_qos_result_region_count(fx.qos) as u64),
            "gsms_qos_result_region" => {
                let mut name: *const c_char = ptr::null();
                let (mut lat, mut sent, mut recv) = (0u32, 0u32, 0u32);
                let st = gsms_qos_result_region(fx.qos, 0, &mut name, &mut lat, &mut sent, &mut recv);
                if st == GSMS_ERR_INTERNAL {
                    assert!(name.is_null() && lat == 0 && sent == 0 && recv == 0);
                }
                Out::Status(st)
            }
            "gsms_qos_result_region_message" => s(gsms_qos_result_region_message(fx.qos, 0)),
            "gsms_qos_result_region_address" => s(gsms_qos_result_region_address(fx.qos, 0)),
            "gsms_qos_result_best_region" => s(gsms_qos_result_best_region(fx.qos)),
            "gsms_qos_result_clone" => clone(gsms_qos_result_clone, gsms_qos_result_free, fx.qos),
            "gsms_qos_result_free" => free_null(gsms_qos_result_free),
            // ----- session hosts and allocation status -----
            "gsms_session_host_request_new" => {
                let r = gsms_session_host_request_new(TITLE);
                gsms_session_host_request_free(r);
                Out::Ptr(r.is_null())
            }
            "gsms_session_host_request_free" => free_null(gsms_session_host_request_free),
            "gsms_session_host_request_set_session_id" => {
                Out::Status(gsms_session_host_request_set_session_id(fx.sreq, fx.session_id.as_ptr()))
            }
            "gsms_session_host_request_set_cloud_game_id" => {
                Out::Status(gsms_session_host_request_set_cloud_game_id(fx.sreq, c"gsi".as_ptr()))
            }
            "gsms_session_host_request_add_location" => {
                Out::Status(gsms_session_host_request_add_location(fx.sreq, c"EmulatedWest".as_ptr()))
            }
            "gsms_session_host_request_set_session_cookie" => {
                Out::Status(gsms_session_host_request_set_session_cookie(fx.sreq, c"cookie".as_ptr()))
            }
            "gsms_session_host_request_set_game_mode_id" => {
                Out::Status(gsms_session_host_request_set_game_mode_id(fx.sreq, c"mode".as_ptr()))
            }
            "gsms_session_host_request_set_sandbox_id" => {
                Out::Status(gsms_session_host_request_set_sandbox_id(fx.sreq, c"XDKS.1".as_ptr()))
            }
            "gsms_client_create_session_host" => {
                let mut r = ptr::null_mut();
                let st = gsms_client_create_session_host(fx.client, fx.sreq, &mut r);
                gsms_session_host_result_free(r);
                Out::Status(st)
            }
            "gsms_client_allocate_session_host" => {
                let mut r = ptr::null_mut();
                let st = gsms_client_allocate_session_host(fx.client, fx.sreq, 5000, &mut r);
                gsms_session_host_result_free(r);
                Out::Status(st)
            }
            "gsms_client_get_allocation_status" => {
                let mut r = ptr::null_mut();
                let st = gsms_client_get_allocation_status(fx.client, TITLE, fx.session_id.as_ptr(), &mut r);
                gsms_session_host_result_free(r);
                Out::Status(st)
            }
            "gsms_client_create_session_host_async" => {
                let mut op = ptr::null_mut();
                let st = gsms_client_create_session_host_async(
                    fx.client,
                    fx.sreq,
                    Some(on_session_host),
                    ptr::null_mut(),
                    &mut op,
                );
                gsms_operation_free(op);
                Out::Status(st)
            }
            "gsms_client_allocate_session_host_async" => {
                let mut op = ptr::null_mut();
                let st = gsms_client_allocate_session_host_async(
                    fx.client,
                    fx.sreq,
                    5000,
                    Some(on_session_host_progress),
                    Some(on_session_host),
                    ptr::null_mut(),
                    &mut op,
                );
                gsms_operation_free(op);
                Out::Status(st)
            }
            "gsms_client_get_allocation_status_async" => {
                let mut op = ptr::null_mut();
                let st = gsms_client_get_allocation_status_async(
                    fx.client,
                    TITLE,
                    fx.session_id.as_ptr(),
                    Some(on_session_host),
                    ptr::null_mut(),
                    &mut op,
                );
                gsms_operation_free(op);
                Out::Status(st)
            }
            "gsms_operation_take_session_host_result" => {
                take(gsms_operation_take_session_host_result, gsms_session_host_result_free, fx.op_session_host)
            }
            "gsms_session_host_result_info" => Out::Ptr(gsms_session_host_result_info(fx.session_host).is_null()),
            "gsms_session_host_result_fulfillment_state" => {
                Out::State(gsms_session_host_result_fulfillment_state(fx.session_host))
            }
            "gsms_session_host_result_host_name" => s(gsms_session_host_result_host_name(fx.session_host)),
            "gsms_session_host_result_region" => s(gsms_session_host_result_region(fx.session_host)),
            "gsms_session_host_result_secure_context" => s(gsms_session_host_result_secure_context(fx.session_host)),
            "gsms_session_host_result_session_host_id" => s(gsms_session_host_result_session_host_id(fx.session_host)),
            "gsms_session_host_result_session_id" => s(gsms_session_host_result_session_id(fx.session_host)),
            "gsms_session_host_result_description" => s(gsms_session_host_result_description(fx.session_host)),
            "gsms_session_host_result_cluster_id" => s(gsms_session_host_result_cluster_id(fx.session_host)),
            "gsms_session_host_result_ticket_id" => s(gsms_session_host_result_ticket_id(fx.session_host)),
            "gsms_session_host_result_game_host_id" => s(gsms_session_host_result_game_host_id(fx.session_host)),
            "gsms_session_host_result_port_count" => {
                Out::Num(gsms_session_host_result_port_count(fx.session_host) as u64)
            }
            "gsms_session_host_result_port" => port(gsms_session_host_result_port, fx.session_host),
            "gsms_session_host_result_clone" => {
                clone(gsms_session_host_result_clone, gsms_session_host_result_free, fx.session_host)
            }
            "gsms_session_host_result_free" => free_null(gsms_session_host_result_free),
            other => panic!("{other} is exported by include/gsms.h but this test does not call it: add it to `call`"),
        }
    }
}

/// The exported functions, read from the generated header (so a new one fails this test until it
/// is added to `call`).
fn exported_functions() -> Vec<String> {
    let h = include_str!(concat!(env!("OUT_DIR"), "/gsms.h"));
    let body = &h[h.find("extern \"C\" {").expect("extern C block")..];
    let mut names = BTreeSet::new();
    let mut in_comment = false;
    for line in body.lines() {
        let t = line.trim_start();
        if t.starts_with("/*") {
            in_comment = true;
        }
        if in_comment {
            in_comment = !t.contains("*/");
            continue;
        }
        if t.starts_with("typedef") || t.starts_with('#') {
            continue;
        }
        // The identifier right before the first '(' of a line is a function name.
        if let Some(j) = line.find('(') {
            let before = &line[..j];
            let start = before.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
            let name = &before[start..];
            if name.starts_with("gsms_") {
                names.insert(name.to_string());
            }
        }
    }
    names.into_iter().collect()
}

/// Only one test arms the hook at a time (the flag is process-wide).
static SERIAL: Mutex<()> = Mutex::new(());

fn quiet_test_hook_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info.payload().downcast_ref::<&str>().copied().unwrap_or("");
        if !msg.contains("test hook") && !msg.contains("provider panicked") {
            default(info);
        }
    }));
}

#[test]
fn every_exported_function_survives_a_panic_inside() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    quiet_test_hook_panics();
    let emu = emulator(|c| {
        c.servers_per_title = 100;
        c.session_hosts_per_title = 10;
    });
    let names = exported_functions();
    assert!(names.len() >= 50, "parsed {} functions from the header", names.len());
    unsafe {
        let url = CString::new(emu.base_url()).unwrap();
        let cfg = gsms_config_new();
        assert_eq!(gsms_config_set_base_url(cfg, url.as_ptr()), GSMS_OK);
        assert_eq!(gsms_config_set_auth_token(cfg, CString::new(TOKEN).unwrap().as_ptr()), GSMS_OK);
        let mut client = ptr::null_mut();
        assert_eq!(gsms_client_new(cfg, &mut client), GSMS_OK);
        let req = gsms_cluster_request_new(TITLE);
        let sess = CString::new(session("fixture")).unwrap();
        assert_eq!(gsms_cluster_request_set_session_id(req, sess.as_ptr()), GSMS_OK);
        let mut result = ptr::null_mut();
        assert_eq!(gsms_client_create_cluster(client, req, &mut result), GSMS_OK);
        let mut op = ptr::null_mut();
        assert_eq!(gsms_client_create_cluster_async(client, req, None, ptr::null_mut(), &mut op), GSMS_OK);
        let info = gsms_cluster_result_info(result);

        // The family's fixture: real answers from the emulator (every call of FAMILY.md).
        let ticket_id = CString::new("panic-ticket").unwrap();
        let session_id = CString::new("6f1d2c1e-0000-4000-8000-0000000000aa").unwrap();
        let ireq = gsms_inline_cluster_request_new(TITLE);
        for (set, v) in [
            gsms_inline_cluster_request_set_service_config_id as unsafe extern "C" fn(_, _) -> _,
            gsms_inline_cluster_request_set_sandbox_id,
            gsms_inline_cluster_request_set_ticket_id,
            gsms_inline_cluster_request_set_gsi_set_id,
            gsms_inline_cluster_request_set_game_variant_id,
            gsms_inline_cluster_request_set_location,
        ]
        .into_iter()
        .zip([
            c"scid".as_ptr(),
            c"XDKS.1".as_ptr(),
            ticket_id.as_ptr(),
            c"gsi".as_ptr(),
            c"variant".as_ptr(),
            c"EmulatedWest".as_ptr(),
        ]) {
            assert_eq!(set(ireq, v), GSMS_OK);
        }
        assert_eq!(gsms_inline_cluster_request_set_max_allowed_players(ireq, 8), GSMS_OK);
        let mut inline = ptr::null_mut();
        assert_eq!(gsms_client_create_inline_cluster(client, ireq, &mut inline), GSMS_OK);
        gsms_cluster_result_free(inline);
        let mut ticket = ptr::null_mut();
        assert_eq!(gsms_client_get_ticket_status(client, TITLE, ticket_id.as_ptr(), &mut ticket), GSMS_OK);
        assert_eq!(gsms_ticket_result_status(ticket), gsms_host_status::GSMS_HOST_ACTIVE);
        let sreq = gsms_session_host_request_new(TITLE);
        assert_eq!(gsms_session_host_request_set_session_id(sreq, session_id.as_ptr()), GSMS_OK);
        assert_eq!(gsms_session_host_request_set_cloud_game_id(sreq, c"gsi".as_ptr()), GSMS_OK);
        assert_eq!(gsms_session_host_request_add_location(sreq, c"EmulatedWest".as_ptr()), GSMS_OK);
        let mut session_host = ptr::null_mut();
        assert_eq!(gsms_client_create_session_host(client, sreq, &mut session_host), GSMS_OK);
        assert!(gsms_session_host_result_port_count(session_host) > 0);
        let vreq = gsms_variants_request_new(TITLE);
        let mut variants = ptr::null_mut();
        assert_eq!(gsms_client_get_variants(client, vreq, &mut variants), GSMS_OK);
        assert!(gsms_variants_result_variant_count(variants) > 0 && gsms_variants_result_gsi_set_count(variants) > 0);
        let mut qos_servers = ptr::null_mut();
        assert_eq!(gsms_client_get_qos_servers(client, 1, &mut qos_servers), GSMS_OK);
        assert!(gsms_qos_servers_result_count(qos_servers) > 0);
        let probe = gsms_qos_probe_new();
        assert_eq!(gsms_qos_probe_add_servers(probe, qos_servers), GSMS_OK);
        assert_eq!(gsms_qos_probe_set_options(probe, 2, 2, 200), GSMS_OK);
        let mut qos = ptr::null_mut();
        assert_eq!(gsms_client_measure_qos(client, probe, &mut qos), GSMS_OK);
        assert!(gsms_qos_result_region_count(qos) > 0);
        let scratch_probe = gsms_qos_probe_new();
        let (mut op_ticket, mut op_variants, mut op_qos_servers, mut op_session_host, mut op_qos) =
            (ptr::null_mut(), ptr::null_mut(), ptr::null_mut(), ptr::null_mut(), ptr::null_mut());
        let none = ptr::null_mut();
        assert_eq!(
            gsms_client_get_ticket_status_async(client, TITLE, ticket_id.as_ptr(), None, none, &mut op_ticket),
            GSMS_OK
        );
        assert_eq!(gsms_client_get_variants_async(client, vreq, None, none, &mut op_variants), GSMS_OK);
        assert_eq!(gsms_client_get_qos_servers_async(client, 1, None, none, &mut op_qos_servers), GSMS_OK);
        assert_eq!(gsms_client_create_session_host_async(client, sreq, None, none, &mut op_session_host), GSMS_OK);
        assert_eq!(gsms_client_measure_qos_async(client, probe, None, none, &mut op_qos), GSMS_OK);

        let fx = Fx {
            cfg,
            client,
            req,
            result,
            op,
            info,
            url,
            ireq,
            sreq,
            vreq,
            probe,
            scratch_probe,
            ticket_id,
            session_id,
            ticket,
            session_host,
            variants,
            qos_servers,
            qos,
            op_ticket,
            op_variants,
            op_qos_servers,
            op_session_host,
            op_qos,
        };

        let mut walked = 0;
        let in_provider =
            ["gsms_token_sink_set", "gsms_token_sink_set_signature", "gsms_token_sink_method", "gsms_token_sink_url"];
        for name in &names {
            if in_provider.contains(&name.as_str()) {
                continue;
            }
            arm_panic();
            let armed = call(name, &fx);
            let msg = last_error();
            assert!(armed.is_fallback(), "{name}: armed call returned {armed:?}, not its fallback");
            if name != "gsms_last_error_message" {
                assert!(msg.contains("panic"), "{name}: gsms_last_error_message() = {msg:?}");
            } else {
                assert_eq!(armed, Out::Str(String::new()));
                assert!(msg.contains("panic"), "the next call reads the panic message: {msg:?}");
            }
            // The process lives on and the same call works unarmed.
            let again = call(name, &fx);
            assert_ne!(again, Out::Status(GSMS_ERR_INTERNAL), "{name}: still failing after the panic");
            walked += 1;
        }
        assert_eq!(walked, names.len() - in_provider.len());

        // gsms_token_sink_set is only callable inside a token provider.
        let pcfg = gsms_config_new();
        assert_eq!(gsms_config_set_base_url(pcfg, fx.url.as_ptr()), GSMS_OK);
        assert_eq!(gsms_config_set_token_provider(pcfg, Some(provider), ptr::null_mut()), GSMS_OK);
        let mut pclient = ptr::null_mut();
        assert_eq!(gsms_client_new(pcfg, &mut pclient), GSMS_OK);
        let mut r = ptr::null_mut();
        assert_eq!(gsms_client_create_cluster(pclient, req, &mut r), GSMS_OK, "the provider recovered");
        gsms_cluster_result_free(r);
        let outcomes = SINK_OUTCOMES.lock().unwrap();
        assert_eq!(outcomes.len(), 4, "set, set_signature, method, url");
        for (armed, unarmed, msg) in outcomes.iter() {
            assert_eq!(*armed, Out::Status(GSMS_ERR_INTERNAL));
            assert_eq!(*unarmed, Out::Status(GSMS_OK), "works again (method and url are not empty)");
            assert!(msg.contains("panic"), "{msg}");
        }
        gsms_client_free(pclient);
        gsms_config_free(pcfg);

        // Handles still work after all of that, and free cleanly.
        let mut st = gsms_operation_take_result(fx.op, ptr::null_mut());
        let t = Instant::now();
        while st == GSMS_PENDING && t.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(5));
            st = gsms_operation_take_result(fx.op, ptr::null_mut());
        }
        assert!(
            st == GSMS_OK || st == GSMS_ERR_CANCELLED,
            "{}",
            CStr::from_ptr(gsms_status_name(st as u32)).to_str().unwrap()
        );
        gsms_operation_free(fx.op);
        for op in [fx.op_ticket, fx.op_variants, fx.op_qos_servers, fx.op_session_host, fx.op_qos] {
            gsms_operation_free(op);
        }
        gsms_ticket_result_free(fx.ticket);
        gsms_session_host_result_free(fx.session_host);
        gsms_variants_result_free(fx.variants);
        gsms_qos_servers_result_free(fx.qos_servers);
        gsms_qos_result_free(fx.qos);
        gsms_inline_cluster_request_free(fx.ireq);
        gsms_session_host_request_free(fx.sreq);
        gsms_variants_request_free(fx.vreq);
        gsms_qos_probe_free(fx.probe);
        gsms_qos_probe_free(fx.scratch_probe);
        gsms_cluster_result_free(fx.result);
        gsms_cluster_request_free(fx.req);
        gsms_client_free(fx.client);
        gsms_config_free(fx.cfg);
    }
}

/// A panic below the boundary on a worker thread (a Rust token provider that panics) completes the
/// operation with Internal, and the worker lives on to run the next one.
#[test]
fn a_panic_on_a_worker_completes_the_operation_with_internal() {
    use gsms::core::TokenProvider;
    use gsms::runtime::Client as RtClient;
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    quiet_test_hook_panics();
    struct Flaky(AtomicU32);
    impl TokenProvider for Flaky {
        fn token(&self, _: bool) -> Result<String, String> {
            if self.0.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("provider panicked (on purpose)");
            }
            Ok(TOKEN.to_string())
        }
    }
    let emu = emulator(|_| {});
    let mut cfg = config(&emu);
    cfg.set_worker_threads(1).unwrap();
    cfg.token_provider = Some(Arc::new(Flaky(AtomicU32::new(0))));
    let c = RtClient::new(&cfg).unwrap();
    let wait = |op: &gsms::runtime::Operation<ClusterResult>| {
        let t = Instant::now();
        loop {
            if let Some(v) = op.take_result() {
                return v;
            }
            assert!(t.elapsed() < Duration::from_secs(5));
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    let first = c.start(CreateCluster::new(&request("p1")), None, None, None).unwrap();
    let (st, r) = wait(&first);
    assert_eq!(st, Status::Internal);
    assert!(r.unwrap().error_message.contains("panic"));
    let second = c.start(CreateCluster::new(&request("p2")), None, None, None).unwrap();
    assert_eq!(wait(&second).0, Status::Ok, "the single worker survived");
    c.shutdown();
}
