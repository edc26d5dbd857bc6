//! Security properties: TLS verification cannot be turned off and refuses unknown CAs and wrong
//! names; redirects are never followed (so the Authorization header never travels to another
//! host); the token never appears in a log line, an error message or any field of a result.

mod common;
#[path = "support/raw_server.rs"]
mod raw_server;

use std::ffi::{c_char, c_void, CStr, CString};
use std::path::Path;
use std::ptr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use gsms::core::TokenProvider;
use raw_server::*;

// ---------------------------------------------------------------------------------------------
// TLS
// ---------------------------------------------------------------------------------------------

fn rust_sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push((p.display().to_string(), std::fs::read_to_string(&p).unwrap()));
        }
    }
}

/// A tripwire, not the proof: fails when code or the header starts to mention a way around
/// certificate checks. The proof is behavioural: tls_refuses_unknown_cas_wrong_names_and_plain_text
/// below, and tests/wire_contract.rs (no_configuration_of_the_c_abi_accepts_an_unverified_certificate),
/// which tries every setter of the C ABI against a server whose certificate is not trusted.
#[test]
fn no_source_or_header_mentions_a_way_to_skip_tls_verification() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_sources(&root.join("src"), &mut files);
    assert!(files.len() > 5);
    for (path, text) in &files {
        for needle in [
            "disable_verification",
            "dangerous",
            "ServerCertVerifier",
            "danger_accept",
            "NoVerifier",
            "InsecureSkip",
            "accept_invalid",
        ] {
            assert!(!text.contains(needle), "{path} mentions {needle}: TLS verification must stay on");
        }
    }
    let header = std::fs::read_to_string(root.join("include/gsms.h")).unwrap().to_ascii_lowercase();
    for word in ["insecure", "verify", "verification", "danger", "skip_tls", "self_signed"] {
        assert!(!header.contains(word), "include/gsms.h mentions {word:?}: no knob may turn TLS checks off");
    }
}

fn write_ca(name: &str, pem: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("gsms-security-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, pem).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn tls_refuses_unknown_cas_wrong_names_and_plain_text() {
    let (tls, ca_pem) = gsms_emulator::generate_test_tls();
    // Listening on every loopback address, so 127.0.0.2 (not in the certificate) reaches it too.
    let emu = emulator(|c| {
        c.tls = Some(tls);
        c.bind = "0.0.0.0:0".into();
    });
    let port = emu.addr().port();
    let good_ca = write_ca("good.pem", &ca_pem);
    let (_, other_ca_pem) = gsms_emulator::generate_test_tls();
    let other_ca = write_ca("other.pem", &other_ca_pem);

    let attempt = |url: &str, ca: Option<&str>| {
        let mut cfg = config(&emu);
        cfg.set_base_url(url).unwrap();
        if let Some(ca) = ca {
            cfg.set_ca_bundle_path(ca).unwrap();
        }
        create(&Client::new(&cfg).unwrap(), &request("tls"))
    };
    // The right CA and name: works (the control case).
    let ok = attempt(&format!("https://localhost:{port}"), Some(&good_ca));
    assert_eq!(ok.status, Status::Ok, "{}", ok.error_message);
    let seen = emu.request_count();
    for (what, url, ca) in [
        ("no CA bundle: the test CA is unknown", format!("https://localhost:{port}"), None),
        ("another CA", format!("https://localhost:{port}"), Some(other_ca.as_str())),
        ("a name the certificate does not hold", format!("https://127.0.0.2:{port}"), Some(good_ca.as_str())),
    ] {
        let r = attempt(&url, ca);
        assert_eq!(r.status, Status::Network, "{what}: {}", r.error_message);
        assert_eq!(r.http_status, 0, "{what}");
        assert_eq!(r.attempts, 1, "{what}: a certificate failure is final, not retried");
    }
    assert_eq!(emu.request_count(), seen, "no request reached the server over an unverified connection");

    // A plain-text HTTP server behind an https:// URL: it answers the ClientHello with a 400.
    let plain = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let plain_port = plain.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in plain.incoming() {
            let Ok(mut c) = conn else { continue };
            let mut buf = [0u8; 4096];
            let _ = std::io::Read::read(&mut c, &mut buf);
            let _ = std::io::Write::write_all(&mut c, b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let t = Instant::now();
    let r = attempt(&format!("https://127.0.0.1:{plain_port}"), Some(&good_ca));
    assert_eq!(r.status, Status::Network, "{}", r.error_message);
    assert_eq!(r.http_status, 0, "the plain-text 400 is not taken as an answer");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

// ---------------------------------------------------------------------------------------------
// Redirects
// ---------------------------------------------------------------------------------------------

#[test]
fn redirects_are_never_followed_so_the_token_stays_home() {
    let elsewhere = RawServer::start(|s, _| {
        let _ = respond(s, "200 OK", &[], b"{\"fulfillmentState\":\"Fulfilled\",\"hostName\":\"evil\"}");
        After::Close
    });
    for code in
        ["301 Moved Permanently", "302 Found", "303 See Other", "307 Temporary Redirect", "308 Permanent Redirect"]
    {
        for target in [
            format!("{}/titles/{TITLE}/clusters", elsewhere.url()),
            format!("//{}/x", elsewhere.url().trim_start_matches("http://")),
            "/titles/1/clusters".to_string(),
        ] {
            let t2 = target.clone();
            let home = RawServer::start(move |s, _| {
                let _ = respond(s, code, &[("Location", &t2)], b"moved");
                After::Close
            });
            let mut cfg = config_for(&home.url());
            cfg.set_retry_policy(3, 10, 100).unwrap();
            let r = create(&Client::new(&cfg).unwrap(), &request("redirect"));
            assert_eq!(r.status, Status::HttpStatus, "{code} -> {target}: {}", r.error_message);
            assert_eq!(r.http_status, code[..3].parse::<u16>().unwrap());
            assert_eq!(r.attempts, 1);
            assert_eq!(home.requests(), 1, "{code} -> {target}: the redirect itself is not followed");
            assert!(home.heads()[0].contains(TOKEN), "the configured host does get the token");
        }
    }
    assert_eq!(elsewhere.connections(), 0, "the other host never heard from us");
}

fn config_for(url: &str) -> Config {
    let mut c = Config::default();
    c.set_base_url(url).unwrap();
    c.set_auth_token(TOKEN).unwrap();
    c.set_timeouts(2000, 3000).unwrap();
    c.set_retry_policy(3, 10, 100).unwrap();
    c
}

// ---------------------------------------------------------------------------------------------
// The token never leaks
// ---------------------------------------------------------------------------------------------

const CANARY_SECRET: &str = "CanaryTok3n-7f1d9e0b52c4a8";
const CANARY_HASH: &str = "9988776655";

fn canary() -> String {
    format!("XBL3.0 x={CANARY_HASH};{CANARY_SECRET}")
}

/// Every string a result exposes (Rust side).
fn strings_of(r: &ClusterResult) -> Vec<String> {
    let mut v = vec![
        r.host_name.clone(),
        r.region.clone(),
        r.secure_context.clone(),
        r.correlation_id.clone(),
        r.error_message.clone(),
        r.raw_json.clone(),
        format!("{r:?}"),
    ];
    v.extend(r.ports.iter().map(|p| p.name.clone()));
    v
}

fn assert_clean(what: &str, s: &str) {
    assert!(!s.contains(CANARY_SECRET), "{what} leaks the token: {s}");
    assert!(!s.contains(&canary()), "{what} leaks the Authorization value: {s}");
}

struct CanaryProvider;
impl TokenProvider for CanaryProvider {
    fn token(&self, _: bool) -> Result<String, String> {
        Ok(canary())
    }
}

#[test]
fn the_token_never_appears_in_logs_errors_or_results() {
    let emu = emulator(|c| {
        c.servers_per_title = 1;
        c.poll_interval_ms = 100;
    });
    let garbage = RawServer::start(|s, n| {
        match n % 4 {
            0 => {
                let _ = respond(s, "200 OK", &[], b"{\"hostName\":5}");
            }
            1 => {
                let _ = respond(s, "302 Found", &[("Location", "http://127.0.0.1:1/")], b"");
            }
            2 => {
                let _ = std::io::Write::write_all(s, b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n{");
            }
            _ => {
                let _ = respond(s, "500 Internal Server Error", &[("Retry-After", "99999")], b"<html>oops</html>");
            }
        }
        After::Close
    });
    let mut results: Vec<ClusterResult> = Vec::new();
    let mut all_logs: Vec<String> = Vec::new();
    let run =
        |url: &str, f: &dyn Fn(&mut Config), calls: usize, results: &mut Vec<ClusterResult>, logs: &mut Vec<String>| {
            let mut cfg = config_for(url);
            cfg.set_auth_token(&canary()).unwrap();
            f(&mut cfg);
            assert_clean("Config's Debug", &format!("{cfg:?}"));
            let lines = capture_logs(&mut cfg, LogLevel::Trace);
            let client = Client::new(&cfg).unwrap();
            for i in 0..calls {
                let opts =
                    CallOptions { deadline: Some(Instant::now() + Duration::from_millis(600)), ..Default::default() };
                results.push(client.allocate_cluster(&request(&format!("leak{i}")), &opts));
            }
            client.warmup();
            logs.extend(lines.lock().unwrap().iter().cloned());
        };
    // Success, queued then timed out (pool of one), each emulator fault, a provider, garbage.
    run(&emu.base_url(), &|_| {}, 3, &mut results, &mut all_logs);
    for rule in [
        FaultRule::http_status(503).with_retry_after("0"),
        FaultRule::http_status(429).with_retry_after("100000"),
        FaultRule::http_status(409),
        FaultRule::http_status(400),
        FaultRule::dropped_connection(),
        FaultRule::latency(1000),
    ] {
        emu.add_fault(rule);
        run(&emu.base_url(), &|c| c.set_timeouts(2000, 300).unwrap(), 1, &mut results, &mut all_logs);
        emu.clear_faults();
    }
    run(&emu.base_url(), &|c| c.token_provider = Some(Arc::new(CanaryProvider)), 1, &mut results, &mut all_logs);
    let revoked = emulator(|c| c.revoked_tokens = vec![canary()]);
    run(&revoked.base_url(), &|_| {}, 1, &mut results, &mut all_logs);
    run(&revoked.base_url(), &|c| c.token_provider = Some(Arc::new(CanaryProvider)), 1, &mut results, &mut all_logs);
    let forbidden = emulator(|c| c.allowed_titles = vec![1]);
    run(&forbidden.base_url(), &|_| {}, 1, &mut results, &mut all_logs);
    run(&garbage.url(), &|_| {}, 4, &mut results, &mut all_logs);
    run("http://127.0.0.1:1", &|_| {}, 1, &mut results, &mut all_logs);

    let statuses: std::collections::BTreeSet<String> = results.iter().map(|r| format!("{:?}", r.status)).collect();
    for want in ["Ok", "Timeout", "RetriesExhausted", "HttpStatus", "Network", "Unauthorized", "Forbidden", "Protocol"]
    {
        assert!(statuses.contains(want), "the battery covers {want}: {statuses:?}");
    }
    assert!(all_logs.len() > 30, "TRACE logging produced {} lines", all_logs.len());
    for l in &all_logs {
        assert_clean("a log line", l);
    }
    for r in &results {
        for s in strings_of(r) {
            assert_clean("a result field", &s);
        }
    }
    // The server did receive it (the battery really sent the token).
    assert!(emu.requests().iter().any(|r| r.header("authorization") == Some(canary().as_str())));
}

// The same through the C ABI: every string accessor, gsms_last_error_message, and the log callback.
mod c_abi {
    use super::*;
    use gsms::ffi::client::*;
    use gsms::ffi::clusters::*;
    use gsms::ffi::config::*;
    use gsms::ffi::{gsms_last_error_message, gsms_status};

    static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

    unsafe extern "C" fn log_line(_: *mut c_void, _: gsms_log_level, msg: *const c_char) {
        let s = unsafe { CStr::from_ptr(msg) }.to_string_lossy().into_owned();
        LINES.lock().unwrap().push(s);
    }

    unsafe fn strings(r: *const gsms_cluster_result) -> Vec<String> {
        unsafe {
            let mut v: Vec<String> = [
                gsms_cluster_result_host_name(r),
                gsms_cluster_result_region(r),
                gsms_cluster_result_secure_context(r),
                gsms_cluster_result_correlation_id(r),
                gsms_cluster_result_error_message(r),
                gsms_cluster_result_raw_json(r),
            ]
            .iter()
            .map(|p| CStr::from_ptr(*p).to_string_lossy().into_owned())
            .collect();
            for i in 0..gsms_cluster_result_port_count(r) {
                let mut name: *const c_char = ptr::null();
                gsms_cluster_result_port(r, i, &mut name, ptr::null_mut(), ptr::null_mut());
                v.push(CStr::from_ptr(name).to_string_lossy().into_owned());
            }
            v
        }
    }

    #[test]
    fn c_abi_results_logs_and_last_error_never_hold_the_token() {
        let emu = emulator(|c| c.revoked_tokens = vec![canary()]);
        let ok_emu = emulator(|_| {});
        let mut seen = Vec::new();
        unsafe {
            for (url, use_xbl) in
                [(emu.base_url(), false), (ok_emu.base_url(), true), ("http://127.0.0.1:1".into(), false)]
            {
                let cfg = gsms_config_new();
                let u = CString::new(url).unwrap();
                assert_eq!(gsms_config_set_base_url(cfg, u.as_ptr()), gsms_status::GSMS_OK);
                if use_xbl {
                    let h = CString::new(CANARY_HASH).unwrap();
                    let t = CString::new(CANARY_SECRET).unwrap();
                    assert_eq!(gsms_config_set_xbl_token(cfg, h.as_ptr(), t.as_ptr()), gsms_status::GSMS_OK);
                } else {
                    let a = CString::new(canary()).unwrap();
                    assert_eq!(gsms_config_set_auth_token(cfg, a.as_ptr()), gsms_status::GSMS_OK);
                }
                assert_eq!(gsms_config_set_log_callback(cfg, Some(log_line), ptr::null_mut(), 5), gsms_status::GSMS_OK);
                assert_eq!(gsms_config_set_retry_policy(cfg, 2, 1, 10), gsms_status::GSMS_OK);
                let mut c = ptr::null_mut();
                assert_eq!(gsms_client_new(cfg, &mut c), gsms_status::GSMS_OK);
                gsms_config_free(cfg);
                // A rejected token swap: the reason must not echo the value.
                let bad = CString::new(format!("{}\r\nX: y", canary())).unwrap();
                assert_eq!(gsms_client_set_auth_token(c, bad.as_ptr()), gsms_status::GSMS_ERR_INVALID_ARGUMENT);
                seen.push(CStr::from_ptr(gsms_last_error_message()).to_string_lossy().into_owned());
                let req = gsms_cluster_request_new(TITLE);
                let s = CString::new(session("c-leak")).unwrap();
                gsms_cluster_request_set_session_id(req, s.as_ptr());
                let mut out = ptr::null_mut();
                let st = gsms_client_create_cluster(c, req, &mut out);
                seen.push(CStr::from_ptr(gsms_last_error_message()).to_string_lossy().into_owned());
                seen.push(CStr::from_ptr(gsms::ffi::enums::gsms_status_name(st as u32)).to_string_lossy().into_owned());
                assert!(!out.is_null());
                seen.extend(strings(out));
                gsms_cluster_result_free(out);
                gsms_cluster_request_free(req);
                gsms_client_free(c);
            }
        }
        let lines = LINES.lock().unwrap();
        assert!(!lines.is_empty());
        for s in seen.iter().chain(lines.iter()) {
            assert_clean("a C-ABI string", s);
        }
        assert_eq!(ok_emu.requests()[0].header("authorization"), Some(canary().as_str()));
    }
}
