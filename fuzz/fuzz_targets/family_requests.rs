//! The family's request setters (FAMILY.md, "C ABI shape"): the first byte picks a setter, the
//! rest is its text. A value is accepted exactly when the contract says (required text: non-empty,
//! no control characters; a session cookie: at most 32 KiB; a tag value: no control characters;
//! a QoS target: region and host as text, no white space in the host, not only brackets), and an accepted value goes
//! into the request body as sent (the body is JSON that reads it back). `split_host_port` (what
//! gsms_qos_probe_add_servers reads `serverFqdn` with) never panics and never gives port 0.
#![no_main]

use gsms::core::calls::session_hosts::MAX_SESSION_COOKIE_BYTES;
use gsms::core::qos::split_host_port;
use gsms::core::{InlineClusterRequest, InlineField, QosProbe, SessionHostRequest, VariantsRequest};
use libfuzzer_sys::fuzz_target;

/// The rule of a required text field.
fn field_ok(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(char::is_control)
}

fn body(b: Vec<u8>) -> serde_json::Value {
    serde_json::from_slice(&b).expect("a request body is JSON")
}

fn inline(field: InlineField, v: &str) {
    let mut r = InlineClusterRequest::new(1);
    for f in InlineField::ALL {
        r.set(f, "x").unwrap();
    }
    r.set_max_allowed_players(1).unwrap();
    let ok = r.set(field, v).is_ok();
    assert_eq!(ok, field_ok(v), "{field:?} {v:?}");
    if ok {
        let ep = r.endpoint().expect("a complete request");
        assert_eq!(body(ep.body.expect("a POST has a body"))[field.wire_name()], v);
    }
}

fn session_host(which: u8, v: &str) {
    let mut r = SessionHostRequest::new(1);
    r.set_session_id("s").unwrap();
    r.set_cloud_game_id("g").unwrap();
    r.add_location("West").unwrap();
    let (ok, want, key) = match which {
        0 => (r.set_session_id(v).is_ok(), field_ok(v), "sessionId"),
        1 => (r.set_cloud_game_id(v).is_ok(), field_ok(v), "cloudGameId"),
        2 => (r.add_location(v).is_ok(), field_ok(v), "locations"),
        3 => (r.set_session_cookie(v).is_ok(), v.len() <= MAX_SESSION_COOKIE_BYTES, "sessionCookie"),
        4 => (r.set_game_mode_id(v).is_ok(), field_ok(v), "gameModeId"),
        _ => (r.set_sandbox_id(v).is_ok(), field_ok(v), "sandboxId"),
    };
    assert_eq!(ok, want, "{key} {v:?}");
    if ok {
        let j = body(r.endpoint().expect("a complete request").body.expect("a POST has a body"));
        if key == "locations" {
            assert_eq!(j[key][1], v);
        } else {
            assert_eq!(j[key], v);
        }
    }
}

fn variants(which: u8, v: &str) {
    let mut r = VariantsRequest::new(1);
    let (ok, want) = match which {
        0 => (r.set_locale(v).is_ok(), field_ok(v)),
        _ => {
            // "name\xffvalue" (no separator: the whole text is the name, the value empty).
            let (n, val) = v.split_once('\u{FFFD}').unwrap_or((v, ""));
            (r.add_tag(n, val).is_ok(), field_ok(n) && !val.chars().any(char::is_control))
        }
    };
    assert_eq!(ok, want, "{which} {v:?}");
    let j = body(r.endpoint().body.expect("a POST has a body"));
    if ok && which == 0 {
        assert_eq!(j["locale"], v);
    }
    assert_eq!(j["tags"].as_array().map(Vec::len), Some(r.tags.len()));
}

fn qos_target(v: &str) {
    let (region, host) = v.split_once('\u{FFFD}').unwrap_or((v, "127.0.0.1"));
    let mut p = QosProbe::new();
    // A host of only brackets ("[", "[]") has no name or address inside: refused.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let want = field_ok(region) && field_ok(host) && !bare.is_empty() && !host.chars().any(char::is_whitespace);
    assert_eq!(p.add_target(region, host, 0).is_ok(), want, "{region:?} {host:?}");
    if want {
        assert!(p.add_target(region, "127.0.0.1", 1).is_err(), "a duplicate region is refused");
        assert_eq!(p.targets.len(), 1);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    // Invalid UTF-8 never reaches these (the C boundary refuses it first); 0xFF becomes U+FFFD,
    // which the two-part setters use as their separator.
    let v = String::from_utf8_lossy(rest);
    match which % 16 {
        n @ 0..=5 => inline(InlineField::ALL[n as usize], &v),
        n @ 6..=11 => session_host(n - 6, &v),
        12 => variants(0, &v),
        13 => variants(1, &v),
        14 => qos_target(&v),
        _ => {
            if let Ok((host, port)) = split_host_port(&v) {
                assert!(port != 0, "{v:?} -> {host:?}:{port}");
            }
        }
    }
});
