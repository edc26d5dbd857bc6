//! The checks every call shares, error body shapes, the rate limit, and call-filtered faults,
//! over real loopback HTTP.
mod common;

use std::time::Duration;

use common::*;
use gsms_emulator::{Config, Emulator, ErrorBodyStyle, FaultRule, RateLimit, CALLS};
use serde_json::json;

fn start(cfg: Config) -> Emulator {
    Emulator::start(cfg).expect("emulator starts")
}

#[test]
fn every_call_answers_200_when_well_formed() {
    let emu = start(Config::default());
    for (name, method, path, body) in every_call(5) {
        let r = call(&emu, method, &path, &body);
        assert_eq!(r.status, 200, "{name}: {}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.header("content-type"), Some("application/json"), "{name}");
        assert!(r.header("x-xblcorrelationid").is_some(), "{name}");
        assert!(r.json().is_object(), "{name}");
    }
    let calls: Vec<_> = emu.requests().iter().map(|r| r.call.unwrap()).collect();
    assert_eq!(calls, CALLS.to_vec());
    // Every recorded request carries the correlation id it was answered with.
    assert!(emu.requests().iter().all(|r| r.correlation_id.len() == 36));
}

#[test]
fn contract_version_per_call() {
    let emu = start(Config::default());
    for (name, method, path, body) in every_call(5) {
        let want = contract_for(&path);
        let ct = [("Content-Type", "application/json")];
        let extra: &[(&str, &str)] = if method == "POST" { &ct } else { &[] };
        let mut missing = vec![("Authorization", AUTH)];
        missing.extend_from_slice(extra);
        let r = request(&emu, method, &path, &missing, body.as_bytes());
        assert_eq!(r.status, 400, "{name} without a contract version");
        assert!(r.json()["description"].as_str().unwrap().contains(&format!("expected {want}")), "{name}");
        let wrong = if want == "1" { "2" } else { "1" };
        let mut bad = vec![("x-xbl-contract-version", wrong), ("Authorization", AUTH)];
        bad.extend_from_slice(extra);
        let r = request(&emu, method, &path, &bad, body.as_bytes());
        assert_eq!(r.status, 400, "{name} with version {wrong}");
        let msg = r.json()["description"].as_str().unwrap().to_string();
        assert!(msg.contains(name) && msg.contains(&format!("version {want}")), "{name}: {msg}");
    }
}

#[test]
fn authorization_on_every_call() {
    let emu = start(Config { revoked_tokens: vec!["XBL3.0 x=u;expired".into()], ..Config::default() });
    for (name, method, path, body) in every_call(5) {
        let v = contract_for(&path);
        for auth in [None, Some("Bearer abc"), Some("XBL3.0 x=;t"), Some("XBL3.0 x=u;expired")] {
            let mut h = vec![("x-xbl-contract-version", v), ("Content-Type", "application/json")];
            if let Some(a) = auth {
                h.push(("Authorization", a));
            }
            let r = request(&emu, method, &path, &h, body.as_bytes());
            assert_eq!(r.status, 401, "{name} {auth:?}");
            assert_eq!(r.header("www-authenticate"), Some("XBL3.0"), "{name} {auth:?}");
            assert_eq!(r.json()["code"], json!(401));
            assert_eq!(r.json()["source"], json!("gsms-emulator"));
            if let Some(a) = auth {
                assert!(!String::from_utf8_lossy(&r.body).contains(a), "the token is not echoed");
            }
        }
    }
    assert!(emu.requests().iter().all(|r| r.status == 401));
}

#[test]
fn title_allow_list_on_calls_with_a_title() {
    let emu = start(Config { allowed_titles: vec![5], ..Config::default() });
    for (name, method, path, body) in every_call(6) {
        let r = call(&emu, method, &path, &body);
        if name == "qosServers" {
            assert_eq!(r.status, 200, "QoS servers have no title");
        } else {
            assert_eq!(r.status, 403, "{name}");
            assert!(r.json()["description"].as_str().unwrap().contains('6'));
        }
    }
    for (name, method, path, body) in every_call(5) {
        assert_eq!(call(&emu, method, &path, &body).status, 200, "{name}");
    }
}

#[test]
fn content_type_and_size_on_post_calls_only() {
    let emu = start(Config::default());
    // The ticket and the session the GETs ask about.
    for (_, method, path, body) in every_call(5) {
        assert_eq!(call(&emu, method, &path, &body).status, 200);
    }
    for (name, method, path, body) in every_call(5) {
        let v = contract_for(&path);
        let h = [("x-xbl-contract-version", v), ("Authorization", AUTH), ("Content-Type", "text/plain")];
        let r = request(&emu, method, &path, &h, body.as_bytes());
        let plain = [("x-xbl-contract-version", v), ("Authorization", AUTH)];
        let bare = request(&emu, method, &path, &plain, body.as_bytes());
        if method == "POST" {
            assert_eq!(r.status, 415, "{name}");
            assert_eq!(bare.status, 415, "{name} without Content-Type");
            let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(70 * 1024));
            let r = call(&emu, method, &path, &big);
            assert_eq!(r.status, 413, "{name}");
            assert_eq!(r.header("connection"), Some("close"));
        } else {
            // A GET carries no body requirement: no Content-Type needed, a stray one is ignored.
            assert_eq!(r.status, 200, "{name}");
            assert_eq!(bare.status, 200, "{name}");
        }
    }
}

#[test]
fn unknown_paths_and_wrong_methods() {
    let emu = start(Config::default());
    for path in ["/", "/titles/1", "/titles/x/clusters", "/titles/1/tickets//status", "/QOSSERVERS", "/titles/1/foo"] {
        let r = call(&emu, "GET", path, "");
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(r.json()["code"], json!(404));
    }
    for (name, method, path, body) in every_call(5) {
        let other = if method == "GET" { "POST" } else { "GET" };
        let r = call(&emu, other, &path, &body);
        assert_eq!(r.status, 405, "{name}");
        assert_eq!(r.header("allow"), Some(method), "{name}");
        assert_eq!(call(&emu, "DELETE", &path, "").status, 405, "{name}");
    }
    // Unknown ids are the call's own 404s.
    assert_eq!(ticket_status(&emu, 5, "nope").status, 404);
    assert_eq!(allocation_status(&emu, 5, "nope").status, 404);
}

#[test]
fn error_body_styles() {
    let emu = start(Config { error_body_style: ErrorBodyStyle::ErrorCode, ..Config::default() });
    let r = call(&emu, "GET", "/nowhere", "");
    assert_eq!(r.status, 404);
    let v = r.json();
    assert_eq!(v["errorCode"], json!("NotFound"));
    assert!(v["errorMessage"].as_str().unwrap().contains("/nowhere"));
    assert_eq!(v.as_object().unwrap().len(), 2);
    let r = call(&emu, "POST", "/titles/1/inlineclusters", "{}");
    assert_eq!((r.status, r.json()["errorCode"].clone()), (400, json!("BadRequest")));
    assert_eq!(r.json()["errorMessage"], json!("missing serviceConfigId"));
    let r = request(&emu, "POST", "/titles/1/clusters", &[("x-xbl-contract-version", "1")], b"{}");
    assert_eq!((r.status, r.json()["errorCode"].clone()), (401, json!("Unauthorized")));
    emu.add_fault(FaultRule::http_status(429).with_times(1));
    let v = allocate(&emu, 1, "s").json();
    assert_eq!(v["errorCode"], json!("TooManyRequests"));
    assert_eq!(v["limitType"], json!("Rate"));
    assert!(v["errorMessage"].as_str().unwrap().starts_with("Rate limit exceeded"));
    // The admin API keeps the description style.
    let r = admin(&emu, "GET", "/_emulator/nope", "");
    assert_eq!((r.status, r.json()["code"].clone()), (404, json!(404)));

    let emu = start(Config::default());
    let r = call(&emu, "POST", "/titles/1/sessionhosts", r#"{"sessionId":"s"}"#);
    let v = r.json();
    assert_eq!(v, json!({"code": 400, "source": "gsms-emulator", "description": "missing cloudGameId"}));
    // An injected 429 is the throttling answer; its Retry-After is the rule's.
    emu.add_fault(FaultRule::http_status(429).with_retry_after("3").with_times(1));
    emu.add_fault(FaultRule::http_status(429).with_times(1));
    let r = allocate(&emu, 1, "s");
    assert_eq!((r.status, r.header("retry-after")), (429, Some("3")));
    let v = r.json();
    assert_eq!(v["code"], json!(429));
    assert_eq!(v["source"], json!("gsms-emulator"));
    assert!(v["description"].as_str().unwrap().starts_with("Rate limit exceeded"));
    assert_eq!(v["limitType"], json!("Rate"));
    assert_eq!(
        (v["currentRequests"].clone(), v["maxRequests"].clone(), v["periodInSeconds"].clone()),
        (json!(31), json!(30), json!(15))
    );
    let r = allocate(&emu, 1, "s");
    assert_eq!((r.status, r.header("retry-after")), (429, None));
}

#[test]
fn rate_limit_per_user_and_call() {
    let emu = start(Config {
        rate_limit: Some(RateLimit { max_requests: 3, period: Duration::from_secs(2) }),
        ..Config::default()
    });
    for _ in 0..3 {
        assert_eq!(allocate(&emu, 1, "r").status, 200);
    }
    let r = allocate(&emu, 1, "r");
    assert_eq!(r.status, 429);
    let ra: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&ra), "{ra}");
    let v = r.json();
    assert_eq!(
        (v["currentRequests"].clone(), v["maxRequests"].clone(), v["periodInSeconds"].clone()),
        (json!(4), json!(3), json!(2))
    );
    // Another call of the same user, and the same call of another user, have their own windows.
    assert_eq!(call(&emu, "GET", "/qosservers", "").status, 200);
    let body = json!({"sessionId": session("r")}).to_string();
    assert_eq!(post_json(&emu, 1, "XBL3.0 x=other;t", &body).status, 200);
    // Unauthorized requests are refused before they count.
    for _ in 0..5 {
        assert_eq!(post_json(&emu, 1, "XBL3.0 x=third;", &body).status, 401);
    }
    assert_eq!(post_json(&emu, 1, "XBL3.0 x=third;t", &body).status, 200);
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(allocate(&emu, 1, "r").status, 200, "a new window");
}

#[test]
fn faults_filtered_by_call() {
    let emu = start(Config {
        faults: vec![FaultRule::http_status(503).with_retry_after("1").for_call("sessionHosts")],
        ..Config::default()
    });
    emu.add_fault(FaultRule::http_status(409).for_call("allocationStatus").with_times(2));
    // Other calls are untouched and use no rule up.
    for (name, method, path, body) in every_call(5) {
        let r = call(&emu, method, &path, &body);
        match name {
            "sessionHosts" => {
                assert_eq!((r.status, r.header("retry-after")), (503, Some("1")));
                assert!(r.json()["description"].as_str().unwrap().contains("sessionHosts"));
            }
            "allocationStatus" => assert_eq!(r.status, 409),
            _ => assert_eq!(r.status, 200, "{name}"),
        }
    }
    assert_eq!(allocation_status(&emu, 5, "every").status, 409);
    // Spent: the session is unknown (its POST got the 503), so the call's own 404 shows.
    assert_eq!(allocation_status(&emu, 5, "every").status, 404);
    let faults = admin(&emu, "GET", "/_emulator/faults", "").json();
    assert_eq!(faults["faults"].as_array().unwrap().len(), 1);
    assert_eq!(faults["faults"][0]["call"], json!("sessionHosts"));

    // Over the admin API, and refused for an unknown call name.
    emu.clear_faults();
    let r = admin(&emu, "POST", "/_emulator/faults", r#"{"status":500,"call":"ticketStatus","times":1}"#);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["faults"][0]["call"], json!("ticketStatus"));
    assert_eq!(admin(&emu, "POST", "/_emulator/faults", r#"{"status":500,"call":"tickets"}"#).status, 400);
    assert_eq!(inline(&emu, 5, "t").status, 200);
    assert_eq!(ticket_status(&emu, 5, "t").status, 500);
    assert_eq!(ticket_status(&emu, 5, "t").status, 200);
}

#[test]
#[should_panic(expected = "invalid fault rule")]
fn an_unknown_call_name_is_refused_by_the_handle() {
    let emu = start(Config::default());
    emu.add_fault(FaultRule::http_status(500).for_call("inlineclusters"));
}

#[test]
fn head_root_and_strays_use_no_fault_up() {
    let emu = start(Config { faults: vec![FaultRule::http_status(503).with_times(1)], ..Config::default() });
    for _ in 0..3 {
        assert_eq!(head(&emu, "/"), 404);
        assert_eq!(call(&emu, "GET", "/favicon.ico", "").status, 404);
        assert_eq!(call(&emu, "GET", "/titles/1/sessionhosts", "").status, 405);
    }
    assert_eq!(state(&emu)["faults"][0]["remaining"], json!(1));
    assert_eq!(allocate(&emu, 1, "h").status, 503);
    assert_eq!(allocate(&emu, 1, "h").status, 200);
    // They are still counted and recorded, without a call.
    assert_eq!(emu.request_count(), 11);
    let recs = emu.requests();
    assert_eq!(recs[0].method, "HEAD");
    assert_eq!(recs[0].call, None);
    assert_eq!(recs[2].call, Some("sessionHosts"));
    assert_eq!(recs[9].call, Some("clusters"));
    assert!(Emulator::start(Config { faults: vec![FaultRule::new().for_call("nope")], ..Config::default() }).is_err());
}

#[test]
fn state_lists_the_latest_requests() {
    let emu = start(Config::default());
    for i in 0..60 {
        allocate(&emu, 1, &format!("s{}", i % 2));
    }
    call(&emu, "GET", "/qosservers", "");
    let st = state(&emu);
    let latest = st["latestRequests"].as_array().unwrap();
    assert_eq!(latest.len(), 50);
    let newest = &latest[0];
    assert_eq!(newest["call"], json!("qosServers"));
    assert_eq!(newest["method"], json!("GET"));
    assert_eq!(newest["path"], json!("/qosservers"));
    assert_eq!(newest["status"], json!(200));
    assert!(newest["latencyMs"].as_f64().unwrap() >= 0.0);
    assert_eq!(newest["correlationId"].as_str().unwrap().len(), 36);
    assert!(newest["time"].as_str().unwrap().ends_with("GMT"));
    assert!(newest["unixMs"].as_u64().unwrap() > 1_600_000_000_000);
    assert_eq!(latest[1]["call"], json!("clusters"));
}
