//! The family's calls through the C ABI from Rust (gsms::ffi), against the emulator: blocking and
//! async forms, their result accessors (out of range, NULL out-pointers, clone/free, the shared
//! call info), take_*_result of the wrong kind, cancel, refusals with nothing sent, status codes.

mod common;

use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use common::{emulator, wait_until, EmuConfig, Emulator, FaultRule, TITLE, TOKEN};
use gsms::ffi::client::*;
use gsms::ffi::clusters::*;
use gsms::ffi::config::*;
use gsms::ffi::info::*;
use gsms::ffi::inline_clusters::*;
use gsms::ffi::operation::*;
use gsms::ffi::qos::*;
use gsms::ffi::qos_servers::*;
use gsms::ffi::session_hosts::*;
use gsms::ffi::tickets::*;
use gsms::ffi::variants::*;
use gsms::ffi::{gsms_fulfillment_state, gsms_host_status, gsms_last_error_message, gsms_status};
use gsms_emulator::{RegionConfig, TicketStatus};
use serde_json::{json, Value};

use gsms_status::*;

const SESSION: &str = "6f0c6c42-0000-4000-8000-000000000002";

fn cs(s: &str) -> CString {
    CString::new(s).unwrap()
}

/// A borrowed C string as Rust text (NULL is a test failure: getters never return NULL).
fn s(p: *const c_char) -> String {
    assert!(!p.is_null(), "a string getter returned NULL");
    // SAFETY: the library returns valid C strings.
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_string()
}

fn last_error() -> String {
    s(gsms_last_error_message())
}

fn regions_emu(f: impl FnOnce(&mut EmuConfig)) -> Emulator {
    emulator(|c| {
        c.regions = vec![RegionConfig::new("West US").with_delay_ms(25.0), RegionConfig::new("North Europe")];
        c.region = "West US".into();
        f(c);
    })
}

unsafe fn client_for(emu: &Emulator, mode: u32, f: impl FnOnce(*mut gsms_config)) -> *mut gsms_client {
    unsafe {
        let cfg = gsms_config_new();
        assert_eq!(gsms_config_set_base_url(cfg, cs(&emu.base_url()).as_ptr()), GSMS_OK);
        assert_eq!(gsms_config_set_auth_token(cfg, cs(TOKEN).as_ptr()), GSMS_OK);
        assert_eq!(gsms_config_set_retry_policy(cfg, 3, 10, 200), GSMS_OK);
        assert_eq!(gsms_config_set_timeouts(cfg, 2000, 3000), GSMS_OK);
        assert_eq!(gsms_config_set_callback_mode(cfg, mode), GSMS_OK);
        f(cfg);
        let mut c = ptr::null_mut();
        assert_eq!(gsms_client_new(cfg, &mut c), GSMS_OK, "{}", last_error());
        gsms_config_free(cfg);
        c
    }
}

/// An emulator with the two regions and an ON_DISPATCH client on it, freed after `body`.
fn on_client(body: impl FnOnce(&Emulator, *mut gsms_client)) {
    let emu = regions_emu(|_| {});
    let c = unsafe { client_for(&emu, ON_DISPATCH, |_| {}) };
    body(&emu, c);
    unsafe { gsms_client_free(c) };
}

const ON_WORKER: u32 = 0;
const ON_DISPATCH: u32 = 1;

unsafe fn inline_request(ticket: &str, location: &str) -> *mut gsms_inline_cluster_request {
    unsafe {
        let r = gsms_inline_cluster_request_new(TITLE);
        assert_eq!(gsms_inline_cluster_request_set_service_config_id(r, cs("scid-1").as_ptr()), GSMS_OK);
        assert_eq!(gsms_inline_cluster_request_set_sandbox_id(r, cs("XDKS.1").as_ptr()), GSMS_OK);
        assert_eq!(gsms_inline_cluster_request_set_ticket_id(r, cs(ticket).as_ptr()), GSMS_OK);
        assert_eq!(gsms_inline_cluster_request_set_gsi_set_id(r, cs("gsi-1").as_ptr()), GSMS_OK);
        assert_eq!(gsms_inline_cluster_request_set_game_variant_id(r, cs("variant-1").as_ptr()), GSMS_OK);
        assert_eq!(gsms_inline_cluster_request_set_location(r, cs(location).as_ptr()), GSMS_OK);
        assert_eq!(gsms_inline_cluster_request_set_max_allowed_players(r, 12), GSMS_OK);
        r
    }
}

unsafe fn host_request(session: &str, locations: &[&str]) -> *mut gsms_session_host_request {
    unsafe {
        let r = gsms_session_host_request_new(TITLE);
        assert_eq!(gsms_session_host_request_set_session_id(r, cs(session).as_ptr()), GSMS_OK);
        assert_eq!(gsms_session_host_request_set_cloud_game_id(r, cs("gsi-1").as_ptr()), GSMS_OK);
        for l in locations {
            assert_eq!(gsms_session_host_request_add_location(r, cs(l).as_ptr()), GSMS_OK);
        }
        r
    }
}

/// Asserts that each string getter reads a non-empty value of `r`.
unsafe fn assert_non_empty<T>(r: *const T, getters: &[unsafe extern "C" fn(*const T) -> *const c_char]) {
    for (i, g) in getters.iter().enumerate() {
        assert!(!s(unsafe { g(r) }).is_empty(), "getter {i} is empty");
    }
}

struct Info {
    status: gsms_status,
    http: u16,
    attempts: u32,
    correlation: String,
    retry_after_ms: u32,
    message: String,
    raw: String,
}

unsafe fn info(i: *const gsms_call_info) -> Info {
    assert!(!i.is_null());
    unsafe {
        Info {
            status: gsms_call_info_status(i),
            http: gsms_call_info_http_status(i),
            attempts: gsms_call_info_attempts(i),
            correlation: s(gsms_call_info_correlation_id(i)),
            retry_after_ms: gsms_call_info_retry_after_ms(i),
            message: s(gsms_call_info_error_message(i)),
            raw: s(gsms_call_info_raw_json(i)),
        }
    }
}

fn last_body(emu: &Emulator) -> Value {
    serde_json::from_slice(&emu.requests().pop().unwrap().body).unwrap()
}

unsafe fn cluster_port(r: *const gsms_cluster_result, i: usize) -> (String, u32, u32) {
    let (mut name, mut int, mut ext) = (ptr::null(), 0, 0);
    assert_eq!(unsafe { gsms_cluster_result_port(r, i, &mut name, &mut int, &mut ext) }, GSMS_OK);
    (s(name), int, ext)
}

#[test]
fn inline_cluster_and_ticket_status_blocking() {
    on_client(|emu, c| unsafe {
        let req = inline_request("tk/1", "north europe");
        assert_eq!(gsms_inline_cluster_request_set_abort_if_queued(req, 2), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_inline_cluster_request_set_abort_if_queued(req, 1), GSMS_OK);
        assert_eq!(gsms_inline_cluster_request_set_max_allowed_players(req, 0), GSMS_ERR_INVALID_ARGUMENT);
        let mut r = ptr::null_mut();
        assert_eq!(gsms_client_create_inline_cluster(c, req, &mut r), GSMS_OK, "{}", last_error());
        assert_eq!(gsms_cluster_result_fulfillment_state(r), gsms_fulfillment_state::GSMS_FULFILLMENT_FULFILLED);
        assert_eq!(s(gsms_cluster_result_host_name(r)), "127.0.0.1");
        assert_eq!(s(gsms_cluster_result_region(r)), "North Europe");
        assert!(!s(gsms_cluster_result_secure_context(r)).is_empty());
        assert_eq!(gsms_cluster_result_port_count(r), 2);
        assert_eq!(cluster_port(r, 0), ("GameData".to_string(), 7777, 31000));
        let i = info(gsms_cluster_result_info(r));
        assert_eq!((i.status, i.http, i.attempts, i.retry_after_ms), (GSMS_OK, 200, 1, 0));
        assert_eq!(i.message, "");
        assert!(i.raw.contains("\"fulfillmentState\""), "{}", i.raw);
        let q = emu.requests().pop().unwrap();
        assert_eq!(i.correlation, q.correlation_id);
        assert_eq!(q.header("x-xbl-contract-version"), Some("2"));
        assert_eq!(
            serde_json::from_slice::<Value>(&q.body).unwrap(),
            json!({"serviceConfigId":"scid-1","sandboxId":"XDKS.1","ticketId":"tk/1","gsiSetId":"gsi-1",
                   "gameVariantId":"variant-1","location":"north europe","maxAllowedPlayers":12,"abortIfQueued":true})
        );
        gsms_cluster_result_free(r);
        gsms_inline_cluster_request_free(req);

        // Ticket status.
        let mut t = ptr::null_mut();
        assert_eq!(gsms_client_get_ticket_status(c, TITLE, cs("tk/1").as_ptr(), &mut t), GSMS_OK, "{}", last_error());
        assert_eq!(emu.requests().pop().unwrap().path, format!("/titles/{TITLE}/tickets/tk%2F1/status"));
        assert_eq!(gsms_ticket_result_status(t), gsms_host_status::GSMS_HOST_ACTIVE);
        assert_eq!(gsms_ticket_result_title_id(t), TITLE);
        assert_eq!(s(gsms_ticket_result_ticket_id(t)), "tk/1");
        assert_eq!(s(gsms_ticket_result_host_name(t)), "127.0.0.1");
        assert_eq!(s(gsms_ticket_result_region(t)), "North Europe");
        assert_non_empty(
            t,
            &[
                gsms_ticket_result_cluster_id,
                gsms_ticket_result_secure_context,
                gsms_ticket_result_game_host_id,
                gsms_ticket_result_description,
            ],
        );
        assert_eq!(gsms_ticket_result_port_count(t), 2);
        let (mut name, mut int, mut ext) = (ptr::null(), 0u32, 0u32);
        assert_eq!(gsms_ticket_result_port(t, 0, &mut name, &mut int, &mut ext), GSMS_OK);
        assert_eq!((s(name), int, ext), ("GameData".to_string(), 7777, 31000));
        assert_eq!(
            gsms_ticket_result_port(t, 1, ptr::null_mut(), ptr::null_mut(), &mut ext),
            GSMS_OK,
            "NULL out-pointers: not wanted"
        );
        assert_eq!(ext, 3389);
        assert_eq!(gsms_ticket_result_port(t, 2, &mut name, &mut int, &mut ext), GSMS_ERR_INVALID_ARGUMENT);
        assert!(last_error().contains('2'), "{}", last_error());
        assert_eq!(gsms_ticket_result_port(t, usize::MAX, &mut name, &mut int, &mut ext), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(info(gsms_ticket_result_info(t)).attempts, 1);
        // A clone outlives its original.
        let t2 = gsms_ticket_result_clone(t);
        gsms_ticket_result_free(t);
        assert_eq!(s(gsms_ticket_result_ticket_id(t2)), "tk/1");
        assert_eq!(info(gsms_ticket_result_info(t2)).http, 200);
        gsms_ticket_result_free(t2);

        // An unknown ticket: HTTP_STATUS, and the result still says what happened.
        let mut n = ptr::null_mut();
        assert_eq!(gsms_client_get_ticket_status(c, TITLE, cs("nobody").as_ptr(), &mut n), GSMS_ERR_HTTP_STATUS);
        assert!(!n.is_null());
        let i = info(gsms_ticket_result_info(n));
        assert_eq!((i.status, i.http, i.attempts), (GSMS_ERR_HTTP_STATUS, 404, 1));
        assert!(i.message.contains("404") && last_error() == i.message, "{} / {}", i.message, last_error());
        assert_eq!(gsms_ticket_result_status(n), gsms_host_status::GSMS_HOST_UNKNOWN);
        gsms_ticket_result_free(n);

        // NULL results read as nothing.
        assert_eq!(gsms_ticket_result_status(ptr::null()), gsms_host_status::GSMS_HOST_UNKNOWN);
        assert_eq!(s(gsms_ticket_result_host_name(ptr::null())), "");
        assert!(gsms_ticket_result_info(ptr::null()).is_null());
        assert!(gsms_ticket_result_clone(ptr::null()).is_null());
        gsms_ticket_result_free(ptr::null_mut());
    });
}

#[test]
fn allocate_inline_cluster_error_and_its_secret_free_message() {
    let emu = std::sync::Arc::new(regions_emu(|c| c.servers_per_title = 1));
    unsafe {
        let c = client_for(&emu, ON_DISPATCH, |_| {});
        let holder = inline_request("holder", "West US");
        let mut r = ptr::null_mut();
        assert_eq!(gsms_client_create_inline_cluster(c, holder, &mut r), GSMS_OK);
        gsms_cluster_result_free(r);
        let e2 = std::sync::Arc::clone(&emu);
        let setter = thread::spawn(move || {
            thread::sleep(Duration::from_millis(250));
            e2.set_ticket_status("doomed", TicketStatus::Error, &format!("crashed, token {TOKEN}")).unwrap();
        });
        let req = inline_request("doomed", "West US");
        let mut r = ptr::null_mut();
        let st = gsms_client_allocate_inline_cluster(c, req, 0, &mut r);
        setter.join().unwrap();
        assert_eq!(st, GSMS_ERR_ALLOCATION_FAILED, "{}", last_error());
        assert_eq!(st as u32, 14);
        let i = info(gsms_cluster_result_info(r));
        assert_eq!(i.status, GSMS_ERR_ALLOCATION_FAILED);
        assert!(i.message.contains("crashed"), "{}", i.message);
        assert!(
            !i.message.contains("secret-token-value") && !last_error().contains("secret-token-value"),
            "{}",
            i.message
        );
        assert!(i.attempts >= 2);
        gsms_cluster_result_free(r);

        // A deadline while queued: TIMEOUT, with the last (Queued) answer.
        let late = inline_request("late", "West US");
        let t = Instant::now();
        let mut r = ptr::null_mut();
        assert_eq!(gsms_client_allocate_inline_cluster(c, late, 350, &mut r), GSMS_ERR_TIMEOUT);
        assert!(t.elapsed() < Duration::from_millis(1000));
        assert_eq!(gsms_cluster_result_fulfillment_state(r), gsms_fulfillment_state::GSMS_FULFILLMENT_QUEUED);
        gsms_cluster_result_free(r);
        for q in [holder, req, late] {
            gsms_inline_cluster_request_free(q);
        }
        gsms_client_free(c);
    }
}

#[test]
fn variants_through_the_c_abi() {
    on_client(|emu, c| unsafe {
        let req = gsms_variants_request_new(TITLE);
        assert_eq!(gsms_variants_request_set_locale(req, cs("de-DE").as_ptr()), GSMS_OK);
        assert_eq!(gsms_variants_request_set_locale(req, cs("").as_ptr()), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_variants_request_set_max_allowed_players(req, 16), GSMS_OK);
        assert_eq!(gsms_variants_request_set_max_variants(req, 5), GSMS_OK);
        assert_eq!(gsms_variants_request_set_publisher_only(req, 2), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_variants_request_add_tag(req, cs("mode").as_ptr(), cs("ranked").as_ptr()), GSMS_OK);
        assert_eq!(gsms_variants_request_add_tag(req, ptr::null(), cs("x").as_ptr()), GSMS_ERR_INVALID_ARGUMENT);
        let mut v = ptr::null_mut();
        assert_eq!(gsms_client_get_variants(c, req, &mut v), GSMS_OK, "{}", last_error());
        assert_eq!(
            last_body(emu),
            json!({"locale":"de-DE","maxAllowedPlayers":16,"maxVariants":5,"publisherOnly":false,"tags":[{"name":"mode","value":"ranked"}]})
        );
        let cat = gsms_emulator::VariantCatalogue::sample();
        assert_eq!(gsms_variants_result_variant_count(v), 3);
        for (i, want) in cat.variants.iter().enumerate() {
            let (mut id, mut name, mut publ, mut rank, mut schema) =
                (ptr::null(), ptr::null(), 9u32, 0u64, ptr::null());
            assert_eq!(
                gsms_variants_result_variant(v, i, &mut id, &mut name, &mut publ, &mut rank, &mut schema),
                GSMS_OK
            );
            assert_eq!(
                (s(id), s(name), publ, rank, s(schema)),
                (want.id.clone(), want.name.clone(), want.is_publisher as u32, want.rank, want.schema_id.clone())
            );
        }
        let (mut id, mut name, mut content) = (ptr::null(), ptr::null(), ptr::null());
        assert_eq!(
            gsms_variants_result_variant(
                v,
                3,
                &mut id,
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut(),
                ptr::null_mut()
            ),
            GSMS_ERR_INVALID_ARGUMENT
        );
        assert_eq!(gsms_variants_result_schema_count(v), 2);
        assert_eq!(gsms_variants_result_schema(v, 1, &mut id, &mut name, &mut content), GSMS_OK);
        assert_eq!(
            (s(id), s(name), s(content)),
            (cat.schemas[1].id.clone(), cat.schemas[1].name.clone(), cat.schemas[1].content.clone())
        );
        assert_eq!(gsms_variants_result_schema(v, 2, &mut id, &mut name, &mut content), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_variants_result_gsi_set_count(v), 2);
        let (mut min, mut max, mut order, mut schema) = (0u64, 0u64, 0u64, ptr::null());
        assert_eq!(
            gsms_variants_result_gsi_set(v, 1, &mut id, &mut name, &mut min, &mut max, &mut order, &mut schema),
            GSMS_OK
        );
        let g = &cat.gsi_sets[1];
        assert_eq!(
            (s(id), s(name), min, max, order, s(schema)),
            (g.id.clone(), g.name.clone(), 4, 16, 2, g.schema_id.clone())
        );
        assert_eq!(
            gsms_variants_result_gsi_set(v, 2, &mut id, &mut name, &mut min, &mut max, &mut order, &mut schema),
            GSMS_ERR_INVALID_ARGUMENT
        );
        assert_eq!(gsms_variants_result_gsi_set_tag_count(v, 1), 2);
        assert_eq!(gsms_variants_result_gsi_set_tag_count(v, 0), 1);
        assert_eq!(gsms_variants_result_gsi_set_tag_count(v, 2), 0, "no such set: no tags");
        let (mut tn, mut tv) = (ptr::null(), ptr::null());
        assert_eq!(gsms_variants_result_gsi_set_tag(v, 1, 1, &mut tn, &mut tv), GSMS_OK);
        assert_eq!((s(tn), s(tv)), ("size".to_string(), "large".to_string()));
        assert_eq!(gsms_variants_result_gsi_set_tag(v, 1, 2, &mut tn, &mut tv), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_variants_result_gsi_set_tag(v, 2, 0, &mut tn, &mut tv), GSMS_ERR_INVALID_ARGUMENT);
        let i = info(gsms_variants_result_info(v));
        assert_eq!((i.status, i.http, i.attempts), (GSMS_OK, 200, 1));
        let v2 = gsms_variants_result_clone(v);
        gsms_variants_result_free(v);
        assert_eq!(gsms_variants_result_gsi_set_tag_count(v2, 1), 2);
        gsms_variants_result_free(v2);
        assert_eq!(gsms_variants_result_variant_count(ptr::null()), 0);

        assert_eq!(gsms_variants_request_set_publisher_only(req, 1), GSMS_OK);
        assert_eq!(gsms_variants_request_set_max_variants(req, 0), GSMS_OK);
        let mut v = ptr::null_mut();
        assert_eq!(gsms_client_get_variants(c, req, &mut v), GSMS_OK);
        assert_eq!(gsms_variants_result_variant_count(v), 2, "publisher only");
        assert_eq!(last_body(emu)["publisherOnly"], json!(true));
        gsms_variants_result_free(v);
        gsms_variants_request_free(req);
    });
}

#[test]
fn qos_servers_through_the_c_abi_feed_the_probe() {
    on_client(|emu, c| unsafe {
        let before = emu.request_count();
        let mut q = ptr::null_mut();
        assert_eq!(gsms_client_get_qos_servers(c, 2, &mut q), GSMS_ERR_INVALID_ARGUMENT);
        assert!(q.is_null());
        assert_eq!(emu.request_count(), before, "nothing sent");
        assert_eq!(gsms_client_get_qos_servers(c, 0, &mut q), GSMS_OK);
        assert_eq!(emu.requests().pop().unwrap().path, "/qosservers");
        gsms_qos_servers_result_free(q);
        assert_eq!(gsms_client_get_qos_servers(c, 1, &mut q), GSMS_OK);
        let g = emu.requests().pop().unwrap();
        assert_eq!(
            (g.method.as_str(), g.path.as_str(), g.header("authorization")),
            ("GET", "/xplatqosservers", Some(TOKEN))
        );
        assert_eq!(gsms_qos_servers_result_count(q), 2);
        let beacons = emu.qos_beacons();
        for (i, (region, addr)) in beacons.iter().enumerate() {
            let (mut fqdn, mut sda, mut loc) = (ptr::null(), ptr::null(), ptr::null());
            assert_eq!(gsms_qos_servers_result_server(q, i, &mut fqdn, &mut sda, &mut loc), GSMS_OK);
            assert_eq!((s(fqdn), s(loc)), (format!("127.0.0.1:{}", addr.port()), region.name.clone()));
            assert!(!s(sda).is_empty());
        }
        let mut fqdn = ptr::null();
        assert_eq!(
            gsms_qos_servers_result_server(q, 2, &mut fqdn, ptr::null_mut(), ptr::null_mut()),
            GSMS_ERR_INVALID_ARGUMENT
        );
        assert_eq!(info(gsms_qos_servers_result_info(q)).correlation, g.correlation_id);

        let probe = gsms_qos_probe_new();
        assert_eq!(gsms_qos_probe_add_servers(probe, q), GSMS_OK);
        assert_eq!(gsms_qos_probe_target_count(probe), 2);
        assert_eq!(gsms_qos_probe_set_options(probe, 3, 2, 500), GSMS_OK);
        let q2 = gsms_qos_servers_result_clone(q);
        gsms_qos_servers_result_free(q);
        assert_eq!(gsms_qos_servers_result_count(q2), 2);
        gsms_qos_servers_result_free(q2);
        let mut m = ptr::null_mut();
        assert_eq!(gsms_client_measure_qos(c, probe, &mut m), GSMS_OK, "{}", last_error());
        assert_eq!(s(gsms_qos_result_best_region(m)), "North Europe", "West US has 25 ms of delay");
        assert_eq!(gsms_qos_result_region_count(m), 2);
        gsms_qos_result_free(m);
        gsms_qos_probe_free(probe);
    });
}

unsafe fn host_fields(r: *const gsms_session_host_result) -> (gsms_fulfillment_state, String, String, String, String) {
    unsafe {
        (
            gsms_session_host_result_fulfillment_state(r),
            s(gsms_session_host_result_host_name(r)),
            s(gsms_session_host_result_region(r)),
            s(gsms_session_host_result_session_host_id(r)),
            s(gsms_session_host_result_session_id(r)),
        )
    }
}

#[test]
fn session_hosts_and_allocation_status_through_the_c_abi() {
    let emu = regions_emu(|c| {
        c.session_host_activation = Duration::from_millis(200);
        c.session_hosts_per_title = 1;
    });
    unsafe {
        let c = client_for(&emu, ON_DISPATCH, |_| {});
        let req = host_request(SESSION, &["Mars", "north europe"]);
        assert_eq!(gsms_session_host_request_set_session_cookie(req, cs("cookie").as_ptr()), GSMS_OK);
        assert_eq!(
            gsms_session_host_request_set_session_cookie(req, cs(&"c".repeat(32 * 1024 + 1)).as_ptr()),
            GSMS_ERR_INVALID_ARGUMENT
        );
        assert_eq!(gsms_session_host_request_set_game_mode_id(req, cs("").as_ptr()), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_session_host_request_set_sandbox_id(req, cs("XDKS.1").as_ptr()), GSMS_OK);
        let mut r = ptr::null_mut();
        let t = Instant::now();
        assert_eq!(gsms_client_allocate_session_host(c, req, 0, &mut r), GSMS_OK, "{}", last_error());
        assert!(t.elapsed() >= Duration::from_millis(900), "polled after 1000 ms: {:?}", t.elapsed());
        let (state, host, region, id, session) = host_fields(r);
        assert_eq!(state, gsms_fulfillment_state::GSMS_FULFILLMENT_FULFILLED);
        assert_eq!((host.as_str(), region.as_str(), session.as_str()), ("127.0.0.1", "North Europe", SESSION));
        assert_eq!(id.len(), 36);
        assert_non_empty(
            r,
            &[
                gsms_session_host_result_cluster_id,
                gsms_session_host_result_ticket_id,
                gsms_session_host_result_game_host_id,
                gsms_session_host_result_secure_context,
            ],
        );
        assert_eq!(gsms_session_host_result_port_count(r), 2);
        let (mut name, mut int, mut ext) = (ptr::null(), 0u32, 0u32);
        assert_eq!(gsms_session_host_result_port(r, 0, &mut name, &mut int, &mut ext), GSMS_OK);
        assert_eq!((s(name), int, ext), ("GameData".to_string(), 7777, 32000));
        assert_eq!(gsms_session_host_result_port(r, 2, &mut name, &mut int, &mut ext), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(info(gsms_session_host_result_info(r)).attempts, 2);
        let calls: Vec<_> = emu.requests().iter().map(|r| r.call.unwrap()).collect();
        assert_eq!(calls, ["sessionHosts", "allocationStatus"]);
        assert_eq!(
            serde_json::from_slice::<Value>(&emu.requests()[0].body).unwrap(),
            json!({"sessionId":SESSION,"cloudGameId":"gsi-1","locations":["Mars","north europe"],"sessionCookie":"cookie","sandboxId":"XDKS.1"})
        );
        let r2 = gsms_session_host_result_clone(r);
        gsms_session_host_result_free(r);

        // Allocation status of the same session: the same host.
        let mut a = ptr::null_mut();
        assert_eq!(gsms_client_get_allocation_status(c, TITLE, cs(SESSION).as_ptr(), &mut a), GSMS_OK);
        assert_eq!(host_fields(a), host_fields(r2));
        gsms_session_host_result_free(a);
        gsms_session_host_result_free(r2);

        // The only host is taken: 503 with Retry-After 1 s, beyond this policy's 200 ms.
        let other = host_request("other", &["West US"]);
        let mut r = ptr::null_mut();
        assert_eq!(gsms_client_create_session_host(c, other, &mut r), GSMS_ERR_RETRIES_EXHAUSTED);
        let i = info(gsms_session_host_result_info(r));
        assert_eq!((i.http, i.retry_after_ms, i.attempts), (503, 1000, 1));
        gsms_session_host_result_free(r);
        gsms_session_host_request_free(other);
        gsms_session_host_request_free(req);
        gsms_client_free(c);
    }
}

#[test]
fn refused_arguments_send_nothing() {
    on_client(|emu, c| unsafe {
        let incomplete = gsms_inline_cluster_request_new(TITLE);
        assert_eq!(gsms_inline_cluster_request_set_ticket_id(incomplete, cs("t").as_ptr()), GSMS_OK);
        let no_loc = host_request(SESSION, &[]);
        let bad_utf8 = CString::new(b"tick\xffet".to_vec()).unwrap();
        let mut cl: *mut gsms_cluster_result = ptr::NonNull::dangling().as_ptr();
        assert_eq!(gsms_client_create_inline_cluster(c, incomplete, &mut cl), GSMS_ERR_INVALID_ARGUMENT);
        assert!(cl.is_null(), "nothing is known: *out is NULL");
        assert!(last_error().contains("serviceConfigId"), "{}", last_error());
        assert_eq!(gsms_client_allocate_inline_cluster(c, incomplete, 100, &mut cl), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_client_create_inline_cluster(c, ptr::null(), &mut cl), GSMS_ERR_INVALID_ARGUMENT);
        let mut t = ptr::null_mut();
        for id in [cs(""), cs("a\r\nb"), bad_utf8] {
            assert_eq!(gsms_client_get_ticket_status(c, TITLE, id.as_ptr(), &mut t), GSMS_ERR_INVALID_ARGUMENT);
        }
        assert_eq!(gsms_client_get_ticket_status(c, TITLE, ptr::null(), &mut t), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(
            gsms_client_get_ticket_status(ptr::null_mut(), TITLE, cs("t").as_ptr(), &mut t),
            GSMS_ERR_INVALID_ARGUMENT
        );
        let mut h = ptr::null_mut();
        assert_eq!(gsms_client_create_session_host(c, no_loc, &mut h), GSMS_ERR_INVALID_ARGUMENT);
        assert!(last_error().contains("locations"), "{}", last_error());
        assert_eq!(gsms_client_allocate_session_host(c, no_loc, 0, &mut h), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_client_get_allocation_status(c, TITLE, cs("").as_ptr(), &mut h), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_client_get_variants(c, ptr::null(), ptr::null_mut()), GSMS_ERR_INVALID_ARGUMENT);
        // Async forms refuse the same, and refuse a call nobody could see the end of.
        let mut op = ptr::null_mut();
        assert_eq!(
            gsms_client_create_inline_cluster_async(c, incomplete, None, ptr::null_mut(), &mut op),
            GSMS_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            gsms_client_allocate_session_host_async(c, no_loc, 0, None, None, ptr::null_mut(), &mut op),
            GSMS_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            gsms_client_get_ticket_status_async(c, TITLE, cs("").as_ptr(), None, ptr::null_mut(), &mut op),
            GSMS_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            gsms_client_get_qos_servers_async(c, 1, None, ptr::null_mut(), ptr::null_mut()),
            GSMS_ERR_INVALID_ARGUMENT
        );
        assert!(op.is_null(), "no operation on a refusal");
        assert_eq!(emu.request_count(), 0, "nothing reached the wire");
        gsms_inline_cluster_request_free(incomplete);
        gsms_session_host_request_free(no_loc);
    });
}

/// Polls `take` until it stops answering PENDING.
fn poll(mut take: impl FnMut() -> gsms_status) -> gsms_status {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let st = take();
        if st != GSMS_PENDING || Instant::now() > end {
            return st;
        }
        thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn async_forms_by_polling_and_take_of_the_wrong_kind() {
    on_client(|_emu, c| unsafe {
        let ireq = inline_request("async-t", "West US");
        let hreq = host_request(SESSION, &["West US"]);
        let vreq = gsms_variants_request_new(TITLE);
        let mut ops = [ptr::null_mut(); 6];
        assert_eq!(gsms_client_create_inline_cluster_async(c, ireq, None, ptr::null_mut(), &mut ops[0]), GSMS_OK);
        let mut r = ptr::null_mut();
        assert_eq!(poll(|| gsms_operation_take_result(ops[0], &mut r)), GSMS_OK);
        assert_eq!(gsms_cluster_result_fulfillment_state(r), gsms_fulfillment_state::GSMS_FULFILLMENT_FULFILLED);
        gsms_cluster_result_free(r);
        assert_eq!(
            gsms_client_get_ticket_status_async(c, TITLE, cs("async-t").as_ptr(), None, ptr::null_mut(), &mut ops[1]),
            GSMS_OK
        );
        assert_eq!(gsms_client_get_variants_async(c, vreq, None, ptr::null_mut(), &mut ops[2]), GSMS_OK);
        assert_eq!(gsms_client_get_qos_servers_async(c, 1, None, ptr::null_mut(), &mut ops[3]), GSMS_OK);
        assert_eq!(gsms_client_create_session_host_async(c, hreq, None, ptr::null_mut(), &mut ops[4]), GSMS_OK);
        let mut h = ptr::null_mut();
        assert_eq!(poll(|| gsms_operation_take_session_host_result(ops[4], &mut h)), GSMS_OK);
        gsms_session_host_result_free(h);
        assert_eq!(
            gsms_client_get_allocation_status_async(c, TITLE, cs(SESSION).as_ptr(), None, ptr::null_mut(), &mut ops[5]),
            GSMS_OK
        );

        let mut t = ptr::null_mut();
        assert_eq!(poll(|| gsms_operation_take_ticket_result(ops[1], &mut t)), GSMS_OK);
        assert_eq!(gsms_ticket_result_status(t), gsms_host_status::GSMS_HOST_ACTIVE);
        assert_eq!(s(gsms_ticket_result_ticket_id(t)), "async-t");
        gsms_ticket_result_free(t);
        let mut v = ptr::null_mut();
        assert_eq!(poll(|| gsms_operation_take_variants_result(ops[2], &mut v)), GSMS_OK);
        assert_eq!(gsms_variants_result_variant_count(v), 3);
        gsms_variants_result_free(v);
        let mut q = ptr::null_mut();
        assert_eq!(poll(|| gsms_operation_take_qos_servers_result(ops[3], &mut q)), GSMS_OK);
        assert_eq!(gsms_qos_servers_result_count(q), 2);
        gsms_qos_servers_result_free(q);
        let mut a = ptr::null_mut();
        assert_eq!(poll(|| gsms_operation_take_session_host_result(ops[5], &mut a)), GSMS_OK);
        assert_eq!(s(gsms_session_host_result_session_id(a)), SESSION);
        assert_eq!(gsms_session_host_result_fulfillment_state(a), gsms_fulfillment_state::GSMS_FULFILLMENT_FULFILLED);
        gsms_session_host_result_free(a);

        // Taken again: the same status, a new copy. NULL out: status only.
        let mut t2 = ptr::null_mut();
        assert_eq!(gsms_operation_take_ticket_result(ops[1], &mut t2), GSMS_OK);
        assert_eq!(s(gsms_ticket_result_ticket_id(t2)), "async-t");
        gsms_ticket_result_free(t2);
        assert_eq!(gsms_operation_take_ticket_result(ops[1], ptr::null_mut()), GSMS_OK);

        // The wrong kind: INVALID_ARGUMENT, and the out-pointer left alone.
        let sentinel: *mut gsms_variants_result = ptr::NonNull::dangling().as_ptr();
        let mut wrong_v = sentinel;
        assert_eq!(gsms_operation_take_variants_result(ops[1], &mut wrong_v), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(wrong_v, sentinel, "left alone");
        assert!(last_error().contains("gsms_operation_take_variants_result"), "{}", last_error());
        let mut wrong_t = ptr::null_mut();
        assert_eq!(
            gsms_operation_take_ticket_result(ops[0], &mut wrong_t),
            GSMS_ERR_INVALID_ARGUMENT,
            "an inline cluster's result is a cluster result"
        );
        let mut wrong_c = ptr::null_mut();
        assert_eq!(gsms_operation_take_result(ops[2], &mut wrong_c), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_operation_take_cluster_result(ops[4], &mut wrong_c), GSMS_ERR_INVALID_ARGUMENT);
        let mut wrong_h = ptr::null_mut();
        assert_eq!(gsms_operation_take_session_host_result(ops[3], &mut wrong_h), GSMS_ERR_INVALID_ARGUMENT);
        let mut wrong_q = ptr::null_mut();
        assert_eq!(gsms_operation_take_qos_servers_result(ops[5], &mut wrong_q), GSMS_ERR_INVALID_ARGUMENT);
        assert!(wrong_t.is_null() && wrong_c.is_null() && wrong_h.is_null() && wrong_q.is_null());
        assert_eq!(gsms_operation_take_ticket_result(ptr::null_mut(), &mut wrong_t), GSMS_ERR_INVALID_ARGUMENT);

        for op in ops {
            gsms_operation_free(op);
        }
        gsms_inline_cluster_request_free(ireq);
        gsms_session_host_request_free(hreq);
        gsms_variants_request_free(vreq);
    });
}

static EVENTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

unsafe extern "C" fn on_cluster_done(ud: *mut c_void, st: gsms_status, r: *const gsms_cluster_result) {
    let state = unsafe { gsms_cluster_result_fulfillment_state(r) };
    EVENTS.lock().unwrap().push(format!("{} cluster done {st:?} {state:?}", ud as usize));
}
unsafe extern "C" fn on_cluster_progress(ud: *mut c_void, r: *const gsms_cluster_result) {
    let state = unsafe { gsms_cluster_result_fulfillment_state(r) };
    EVENTS.lock().unwrap().push(format!("{} cluster progress {state:?}", ud as usize));
}
unsafe extern "C" fn on_host_done(ud: *mut c_void, st: gsms_status, r: *const gsms_session_host_result) {
    let state = unsafe { gsms_session_host_result_fulfillment_state(r) };
    EVENTS.lock().unwrap().push(format!("{} host done {st:?} {state:?}", ud as usize));
}
unsafe extern "C" fn on_host_progress(ud: *mut c_void, r: *const gsms_session_host_result) {
    let state = unsafe { gsms_session_host_result_fulfillment_state(r) };
    EVENTS.lock().unwrap().push(format!("{} host progress {state:?}", ud as usize));
}
unsafe extern "C" fn on_ticket_done(ud: *mut c_void, st: gsms_status, r: *const gsms_ticket_result) {
    let id = if r.is_null() { "<null>".to_string() } else { s(unsafe { gsms_ticket_result_ticket_id(r) }) };
    EVENTS.lock().unwrap().push(format!("{} ticket done {st:?} {id}", ud as usize));
}

fn events_of(tag: usize) -> Vec<String> {
    let p = format!("{tag} ");
    EVENTS.lock().unwrap().iter().filter(|e| e.starts_with(&p)).map(|e| e[p.len()..].to_string()).collect()
}

#[test]
fn async_callbacks_progress_and_completion_on_dispatch() {
    let emu = std::sync::Arc::new(regions_emu(|c| {
        c.servers_per_title = 1;
        c.session_host_activation = Duration::from_millis(150);
    }));
    unsafe {
        let c = client_for(&emu, ON_DISPATCH, |_| {});
        let holder = inline_request("holder", "West US");
        let mut r = ptr::null_mut();
        assert_eq!(gsms_client_create_inline_cluster(c, holder, &mut r), GSMS_OK);
        gsms_cluster_result_free(r);
        let ireq = inline_request("waiter", "West US");
        let hreq = host_request(SESSION, &["West US"]);
        let (ti, th, tt) = (101usize, 102usize, 103usize);
        assert_eq!(
            gsms_client_allocate_inline_cluster_async(
                c,
                ireq,
                0,
                Some(on_cluster_progress),
                Some(on_cluster_done),
                ti as *mut c_void,
                ptr::null_mut()
            ),
            GSMS_OK
        );
        assert_eq!(
            gsms_client_allocate_session_host_async(
                c,
                hreq,
                0,
                Some(on_host_progress),
                Some(on_host_done),
                th as *mut c_void,
                ptr::null_mut()
            ),
            GSMS_OK
        );
        assert_eq!(
            gsms_client_get_ticket_status_async(
                c,
                TITLE,
                cs("holder").as_ptr(),
                Some(on_ticket_done),
                tt as *mut c_void,
                ptr::null_mut()
            ),
            GSMS_OK
        );
        thread::sleep(Duration::from_millis(300));
        assert!(events_of(ti).is_empty() && events_of(tt).is_empty(), "nothing before dispatch");
        assert!(gsms_client_dispatch(c, 0) >= 2);
        emu.release_all(TITLE);
        assert!(wait_until(Duration::from_secs(4), || {
            gsms_client_dispatch(c, 0);
            events_of(ti).iter().chain(&events_of(th)).filter(|e| e.contains("done")).count() == 2
        }));
        assert_eq!(events_of(tt), ["ticket done GSMS_OK holder"]);
        let i = events_of(ti);
        assert!(
            i.len() >= 2 && i[..i.len() - 1].iter().all(|e| e == "cluster progress GSMS_FULFILLMENT_QUEUED"),
            "{i:?}"
        );
        assert_eq!(i.last().unwrap(), "cluster done GSMS_OK GSMS_FULFILLMENT_FULFILLED");
        assert_eq!(
            events_of(th),
            ["host progress GSMS_FULFILLMENT_QUEUED", "host done GSMS_OK GSMS_FULFILLMENT_FULFILLED"]
        );
        gsms_inline_cluster_request_free(holder);
        gsms_inline_cluster_request_free(ireq);
        gsms_session_host_request_free(hreq);
        gsms_client_free(c);
    }
}

#[test]
fn cancel_and_shutdown_complete_exactly_once() {
    let emu = regions_emu(|c| c.faults = vec![FaultRule::latency(3000).for_call("ticketStatus")]);
    unsafe {
        let c = client_for(&emu, ON_WORKER, |_| {});
        let tag = 201usize;
        let mut op = ptr::null_mut();
        assert_eq!(
            gsms_client_get_ticket_status_async(
                c,
                TITLE,
                cs("stuck").as_ptr(),
                Some(on_ticket_done),
                tag as *mut c_void,
                &mut op
            ),
            GSMS_OK
        );
        thread::sleep(Duration::from_millis(50));
        let mut t = ptr::null_mut();
        assert_eq!(gsms_operation_take_ticket_result(op, &mut t), GSMS_PENDING);
        assert!(t.is_null());
        let started = Instant::now();
        assert_eq!(gsms_operation_cancel(op), GSMS_OK);
        assert_eq!(poll(|| gsms_operation_take_ticket_result(op, &mut t)), GSMS_ERR_CANCELLED);
        assert!(started.elapsed() < Duration::from_millis(100), "{:?}", started.elapsed());
        if !t.is_null() {
            assert_eq!(info(gsms_ticket_result_info(t)).status, GSMS_ERR_CANCELLED);
            gsms_ticket_result_free(t);
        }
        assert!(wait_until(Duration::from_millis(500), || events_of(tag).len() == 1));
        assert_eq!(gsms_operation_cancel(op), GSMS_OK, "a no-op once completed");
        thread::sleep(Duration::from_millis(50));
        assert_eq!(events_of(tag).len(), 1, "exactly once: {:?}", events_of(tag));
        assert!(events_of(tag)[0].starts_with("ticket done GSMS_ERR_CANCELLED"), "{:?}", events_of(tag));
        gsms_operation_free(op);

        // Freeing the client completes what is still running with SHUTDOWN.
        let tag2 = 202usize;
        assert_eq!(
            gsms_client_get_ticket_status_async(
                c,
                TITLE,
                cs("stuck2").as_ptr(),
                Some(on_ticket_done),
                tag2 as *mut c_void,
                ptr::null_mut()
            ),
            GSMS_OK
        );
        thread::sleep(Duration::from_millis(50));
        let t0 = Instant::now();
        gsms_client_free(c);
        assert!(t0.elapsed() < Duration::from_millis(250), "{:?}", t0.elapsed());
        let e = events_of(tag2);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].starts_with("ticket done GSMS_ERR_SHUTDOWN"), "{e:?}");
    }
}

static REFRESHES: AtomicU32 = AtomicU32::new(0);

unsafe extern "C" fn provider(_ud: *mut c_void, force_refresh: u32, sink: *mut gsms_token_sink) -> u32 {
    let value = if force_refresh == 1 {
        REFRESHES.fetch_add(1, Ordering::SeqCst);
        TOKEN
    } else {
        "XBL3.0 x=9;stale-token-abc"
    };
    unsafe { gsms_token_sink_set(sink, cs(value).as_ptr()) as u32 }
}

#[test]
fn a_c_token_provider_is_asked_to_refresh_after_a_401() {
    let emu = regions_emu(|c| c.revoked_tokens = vec!["XBL3.0 x=9;stale-token-abc".into()]);
    unsafe {
        let c = client_for(&emu, ON_DISPATCH, |cfg| {
            assert_eq!(gsms_config_set_token_provider(cfg, Some(provider), ptr::null_mut()), GSMS_OK);
        });
        let mut q = ptr::null_mut();
        assert_eq!(gsms_client_get_qos_servers(c, 1, &mut q), GSMS_OK, "{}", last_error());
        assert_eq!(info(gsms_qos_servers_result_info(q)).attempts, 2);
        gsms_qos_servers_result_free(q);
        let mut a = ptr::null_mut();
        assert_eq!(gsms_client_get_allocation_status(c, TITLE, cs("nobody").as_ptr(), &mut a), GSMS_ERR_HTTP_STATUS);
        let i = info(gsms_session_host_result_info(a));
        assert_eq!((i.http, i.attempts), (404, 2), "the 401, then the refreshed resend");
        gsms_session_host_result_free(a);
        assert_eq!(REFRESHES.load(Ordering::SeqCst), 2);
        let auths: Vec<_> =
            emu.requests().iter().map(|r| (r.status, r.header("authorization").unwrap().to_string())).collect();
        assert_eq!(auths[0], (401, "XBL3.0 x=9;stale-token-abc".to_string()));
        assert_eq!(auths[1], (200, TOKEN.to_string()));
        assert_eq!(auths[3], (404, TOKEN.to_string()));
        gsms_client_free(c);
    }
}

static SIGNED: Mutex<Vec<String>> = Mutex::new(Vec::new());

unsafe extern "C" fn signing_provider(_ud: *mut c_void, _force: u32, sink: *mut gsms_token_sink) -> u32 {
    unsafe {
        let what = format!("{} {}", s(gsms_token_sink_method(sink)), s(gsms_token_sink_url(sink)));
        SIGNED.lock().unwrap().push(what.clone());
        let st = gsms_token_sink_set(sink, cs(TOKEN).as_ptr());
        if st != GSMS_OK {
            return st as u32;
        }
        gsms_token_sink_set_signature(sink, cs(&format!("sig:{what}")).as_ptr()) as u32
    }
}

#[test]
fn the_discovery_host_and_what_a_c_provider_signs_for() {
    let alloc = regions_emu(|_| {});
    let disco = regions_emu(|_| {});
    unsafe {
        let c = client_for(&alloc, ON_DISPATCH, |cfg| {
            assert_eq!(gsms_config_set_discovery_base_url(cfg, cs("ftp://x").as_ptr()), GSMS_ERR_INVALID_ARGUMENT);
            assert_eq!(gsms_config_set_discovery_base_url(cfg, cs(&disco.base_url()).as_ptr()), GSMS_OK);
            assert_eq!(gsms_config_set_token_provider(cfg, Some(signing_provider), ptr::null_mut()), GSMS_OK);
        });
        let vreq = gsms_variants_request_new(TITLE);
        let mut v = ptr::null_mut();
        assert_eq!(gsms_client_get_variants(c, vreq, &mut v), GSMS_OK, "{}", last_error());
        gsms_variants_result_free(v);
        let mut t = ptr::null_mut();
        assert_eq!(gsms_client_get_ticket_status(c, TITLE, cs("none yet").as_ptr(), &mut t), GSMS_ERR_HTTP_STATUS);
        gsms_ticket_result_free(t);
        let signed = SIGNED.lock().unwrap().clone();
        assert_eq!(
            signed,
            [
                format!("POST {}/titles/{TITLE}/variants", disco.base_url()),
                format!("GET {}/titles/{TITLE}/tickets/none%20yet/status", alloc.base_url())
            ]
        );
        let dv = disco.requests().pop().unwrap();
        assert_eq!(dv.header("signature"), Some(&*format!("sig:{}", signed[0])));
        assert_eq!(alloc.requests().pop().unwrap().header("signature"), Some(&*format!("sig:{}", signed[1])));
        assert_eq!(alloc.requests().len(), 1, "variants went to the discovery host only");
        gsms_variants_request_free(vreq);
        gsms_client_free(c);
    }
    assert_eq!(s(gsms::ffi::enums::gsms_status_name(14)), "GSMS_ERR_ALLOCATION_FAILED");
    assert_eq!(s(gsms::ffi::enums::gsms_host_status_name(4)), "GSMS_HOST_ERROR");
    assert_eq!(s(gsms::ffi::enums::gsms_host_status_name(99)), "GSMS_HOST_UNKNOWN");
}

#[test]
fn freeing_the_client_ends_a_following_call_waiting_to_poll() {
    let emu = regions_emu(|c| c.session_host_activation = Duration::from_secs(30));
    unsafe {
        let c = client_for(&emu, ON_DISPATCH, |_| {});
        let req = host_request(SESSION, &["West US"]);
        let tag = 301usize;
        assert_eq!(
            gsms_client_allocate_session_host_async(
                c,
                req,
                0,
                Some(on_host_progress),
                Some(on_host_done),
                tag as *mut c_void,
                ptr::null_mut()
            ),
            GSMS_OK
        );
        // The POST answered Queued; the call now waits 1000 ms for its poll (on a timer, not a worker).
        assert!(wait_until(Duration::from_secs(2), || emu.request_count() == 1));
        thread::sleep(Duration::from_millis(50));
        let t = Instant::now();
        gsms_client_free(c);
        assert!(t.elapsed() < Duration::from_millis(250), "{:?}", t.elapsed());
        let e = events_of(tag);
        assert!(e.last().unwrap().starts_with("host done GSMS_ERR_SHUTDOWN"), "{e:?}");
        assert_eq!(e.iter().filter(|x| x.contains("done")).count(), 1, "exactly once: {e:?}");
        assert_eq!(emu.request_count(), 1, "no poll after the free");
        gsms_session_host_request_free(req);
    }
}

#[test]
fn error_bodies_of_the_error_code_style_are_read() {
    let emu = regions_emu(|c| c.error_body_style = gsms_emulator::ErrorBodyStyle::ErrorCode);
    unsafe {
        let c = client_for(&emu, ON_DISPATCH, |_| {});
        let mut t = ptr::null_mut();
        assert_eq!(gsms_client_get_ticket_status(c, TITLE, cs("nobody").as_ptr(), &mut t), GSMS_ERR_HTTP_STATUS);
        let i = info(gsms_ticket_result_info(t));
        assert!(i.message.starts_with("HTTP 404: "), "{}", i.message);
        assert!(i.message.ends_with("(error code NotFound)"), "{}", i.message);
        assert!(i.raw.contains("\"errorCode\":\"NotFound\""), "{}", i.raw);
        gsms_ticket_result_free(t);
        gsms_client_free(c);
    }
}

#[test]
fn a_base_url_too_long_for_a_call_is_refused_at_the_call_by_every_one_exchange_call() {
    // The base URL is accepted (under 2048 bytes), but with a call's path the URL would not be:
    // each call is refused when it is made, async ones with no operation, and nothing is sent.
    let emu = regions_emu(|_| {});
    let base = format!("{}/{}", emu.base_url(), "p".repeat(2020));
    let c = unsafe {
        client_for(&emu, ON_DISPATCH, |cfg| assert_eq!(gsms_config_set_base_url(cfg, cs(&base).as_ptr()), GSMS_OK))
    };
    unsafe {
        let req = gsms_cluster_request_new(TITLE);
        assert_eq!(gsms_cluster_request_set_session_id(req, cs(SESSION).as_ptr()), GSMS_OK);
        let mut op = ptr::null_mut();
        let refused = |what: &str, st: gsms_status, op: *mut gsms_operation| {
            assert_eq!(st, GSMS_ERR_INVALID_ARGUMENT, "{what}");
            assert!(op.is_null(), "{what}: no operation was made");
            assert!(last_error().contains("2048"), "{what}: {}", last_error());
        };
        let st = gsms_client_create_cluster_async(c, req, None, ptr::null_mut(), &mut op);
        refused("create_cluster_async", st, op);
        op = ptr::null_mut();
        let st = gsms_client_allocate_cluster_async(c, req, 0, None, None, ptr::null_mut(), &mut op);
        refused("allocate_cluster_async", st, op);
        op = ptr::null_mut();
        let st =
            gsms_client_get_allocation_status_async(c, TITLE, cs(SESSION).as_ptr(), None, ptr::null_mut(), &mut op);
        refused("get_allocation_status_async", st, op);
        op = ptr::null_mut();
        let st = gsms_client_get_ticket_status_async(c, TITLE, cs("ticket-1").as_ptr(), None, ptr::null_mut(), &mut op);
        refused("get_ticket_status_async", st, op);
        gsms_cluster_request_free(req);
        assert_eq!(emu.request_count(), 0);
        gsms_client_free(c);
    }
}

#[test]
fn an_id_too_long_for_the_url_is_refused_at_the_call() {
    on_client(|emu, c| unsafe {
        let long = cs(&"t".repeat(2100));
        let mut t: *mut gsms_ticket_result = ptr::NonNull::dangling().as_ptr();
        assert_eq!(gsms_client_get_ticket_status(c, TITLE, long.as_ptr(), &mut t), GSMS_ERR_INVALID_ARGUMENT);
        assert!(t.is_null(), "nothing is known: *out is NULL");
        assert!(last_error().contains("2048"), "{}", last_error());
        let mut op = ptr::null_mut();
        assert_eq!(
            gsms_client_get_ticket_status_async(c, TITLE, long.as_ptr(), None, ptr::null_mut(), &mut op),
            GSMS_ERR_INVALID_ARGUMENT,
            "refused by the call, not later by its completion"
        );
        assert!(op.is_null());
        let req = inline_request(&"t".repeat(2100), "West US");
        assert_eq!(
            gsms_client_allocate_inline_cluster_async(c, req, 0, None, None, ptr::null_mut(), &mut op),
            GSMS_ERR_INVALID_ARGUMENT
        );
        let mut r = ptr::null_mut();
        assert_eq!(gsms_client_allocate_inline_cluster(c, req, 0, &mut r), GSMS_ERR_INVALID_ARGUMENT);
        assert!(r.is_null());
        assert_eq!(emu.request_count(), 0);
        gsms_inline_cluster_request_free(req);
    });
}
