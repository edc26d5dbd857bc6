//! The dashboard page and the admin API it drives (bad input included). The page itself is
//! exercised in a real browser by scripts/test_dashboard.sh.

mod common;

use common::*;
use gsms_emulator::{Config, Emulator};

#[test]
fn the_dashboard_is_one_self_contained_page() {
    let emu = Emulator::start(Config::default()).unwrap();
    for path in ["/_emulator/ui", "/_emulator/ui/"] {
        let r = request(&emu, "GET", path, &[], b"");
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
        let csp = r.header("content-security-policy").expect("a CSP");
        assert!(csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"), "{csp}");
        let page = String::from_utf8(r.body.clone()).unwrap();
        assert!(page.starts_with("<!doctype html>") && page.contains("/_emulator/state"));
        // Nothing outside the emulator: no external script, style, font or image.
        for outside in ["http://", "https://", "src=\"//", "href=\"//", "@import", "url("] {
            assert!(!page.contains(outside), "the page refers to {outside}");
        }
        for control in ["id=\"add-fault\"", "id=\"clear-faults\"", "data-release=", "data-release-hosts="] {
            assert!(page.contains(control), "no {control}");
        }
        for call in gsms_emulator::CALLS {
            assert!(page.contains(call), "the fault form does not offer {call}");
        }
    }
    // The page is an admin resource: not counted, not recorded.
    assert_eq!(emu.request_count(), 0);
    assert_eq!(request(&emu, "POST", "/_emulator/ui", &[], b"").status, 405);
}

#[test]
fn the_admin_api_answers_bad_json_with_400_and_a_message() {
    let emu = Emulator::start(Config::default()).unwrap();
    assert_eq!(inline(&emu, 1, "t").status, 200);
    assert_eq!(session_host(&emu, 1, "s").status, 200);
    for (method, path) in [
        ("POST", "/_emulator/faults"),
        ("PUT", "/_emulator/variants"),
        ("PUT", "/_emulator/regions/EmulatedWest"),
        ("PUT", "/_emulator/subscriptions/1"),
        ("POST", "/_emulator/tickets/t"),
        ("POST", "/_emulator/sessions/s"),
    ] {
        for body in ["{\"status\": 503", "not json", "[1, 2]", ""] {
            let r = admin(&emu, method, path, body);
            assert_eq!(r.status, 400, "{method} {path} {body:?}: {}", String::from_utf8_lossy(&r.body));
            let v = r.json();
            let msg = v["description"].as_str().unwrap_or_default();
            assert!(!msg.is_empty() && v["code"] == 400, "{method} {path} {body:?}: {v}");
        }
    }
    // What the dashboard's form sends, and one it must refuse.
    let ok = admin(
        &emu,
        "POST",
        "/_emulator/faults",
        r#"{"status":503,"call":"clusters","times":1,"probability":1,"latencyMs":0}"#,
    );
    assert_eq!(ok.status, 200);
    let bad = admin(&emu, "POST", "/_emulator/faults", r#"{"status":503,"call":"nope"}"#);
    assert_eq!(bad.status, 400);
    assert!(bad.json()["description"].as_str().unwrap().contains("nope"));
    assert_eq!(allocate(&emu, 1, "after").status, 503);
    assert_eq!(allocate(&emu, 1, "after").status, 200);
}

#[test]
fn latest_requests_carry_title_subject_and_fault() {
    let emu = Emulator::start(Config::default()).unwrap();
    assert_eq!(admin(&emu, "POST", "/_emulator/faults", r#"{"status":503,"times":1,"call":"clusters"}"#).status, 200);
    assert_eq!(allocate(&emu, 9, "seen").status, 503);
    assert_eq!(ticket_status(&emu, 9, "nope").status, 404);
    let st = state(&emu);
    let latest = st["latestRequests"].as_array().unwrap();
    assert_eq!(latest[0]["call"], "ticketStatus");
    assert_eq!(latest[0]["ticketId"], "nope");
    assert_eq!(latest[0]["fault"], serde_json::Value::Null);
    assert_eq!(latest[1]["call"], "clusters");
    assert_eq!(latest[1]["titleId"], 9);
    assert_eq!(latest[1]["sessionId"], session("seen"));
    assert_eq!(latest[1]["fault"], "503");
    assert_eq!(latest[1]["status"], 503);
    assert!(latest[1]["timestamp"].as_str().unwrap().ends_with('Z'));
}
