//! Quirks mode: every variation shows up, every answer stays valid and means the same, and the
//! same seed gives the same bytes.
mod common;

use std::collections::BTreeSet;

use common::*;
use gsms_emulator::{Config, Emulator};
use serde_json::{json, Value};

fn quirky(seed: u64) -> Emulator {
    Emulator::start(Config {
        quirks: true,
        quirks_seed: seed,
        servers_per_title: 1000,
        session_hosts_per_title: 1000,
        ..Config::default()
    })
    .unwrap()
}

/// A number or a numeric string, as a client reads it.
fn num(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn lower(v: &Value) -> String {
    v.as_str().unwrap_or("").to_ascii_lowercase()
}

fn ports(v: &Value) -> Vec<(String, u64, u64)> {
    v["portMappings"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| {
                    (
                        m["Key"].as_str().unwrap().to_string(),
                        num(&m["Value"]["internal"]).unwrap(),
                        num(&m["Value"]["external"]).unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The top-level keys of the canonical answer, in order, as they came on the wire.
fn key_order(body: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(body).unwrap();
    let v: Value = serde_json::from_str(text).unwrap();
    let mut keys: Vec<(usize, String)> =
        v.as_object().unwrap().keys().map(|k| (text.find(&format!("\"{k}\":")).unwrap(), k.clone())).collect();
    keys.sort();
    keys.into_iter().map(|(_, k)| k).collect()
}

#[test]
fn clusters_answers_vary_and_mean_the_same() {
    let emu = quirky(1);
    let mut seen = BTreeSet::new();
    for i in 0..60 {
        let r = allocate(&emu, 1, &format!("q{i}"));
        assert_eq!(r.status, 200);
        let v = r.json();
        let o = v.as_object().unwrap();
        // What a client must read stays the same.
        assert_eq!(lower(&v["fulfillmentState"]), "fulfilled", "{v}");
        assert_eq!(num(&v["pollIntervalMilliseconds"]), Some(1000), "{v}");
        assert_eq!(v["hostName"], json!("127.0.0.1"));
        assert_eq!(ports(&v), vec![("GameData".into(), 7777, 31000 + i), ("RDP".into(), 3389, 3389)]);
        if let Some(region) = o.get("region") {
            assert_eq!(region, &json!("EmulatedWest"));
        } else {
            seen.insert("region absent");
        }
        match o.get("secureContext") {
            Some(Value::String(s)) => assert!(!s.is_empty()),
            None => {
                seen.insert("secureContext absent");
            }
            Some(other) => panic!("secureContext {other}"),
        }
        let state = v["fulfillmentState"].as_str().unwrap();
        if state == "fulfilled" {
            seen.insert("state lower");
        }
        if state == "FULFILLED" {
            seen.insert("state upper");
        }
        if v["pollIntervalMilliseconds"].is_number() {
            seen.insert("poll as number");
        }
        if v["portMappings"][0]["Value"]["external"].is_string() {
            seen.insert("port as string");
        }
        if v["portMappings"][0]["Value"].get("protocol").is_some() || v["portMappings"][0].get("emulatorNote").is_some()
        {
            seen.insert("extra field in an item");
        }
        if v.get("unknownObject").is_some_and(|x| x["inner"]["list"].is_array()) {
            seen.insert("extra nested object");
        }
        if v.get("unknownArray").is_some_and(Value::is_array) {
            seen.insert("extra array");
        }
        if key_order(&r.body).first().map(String::as_str) != Some("pollIntervalMilliseconds") {
            seen.insert("keys reordered");
        }
    }
    let want = [
        "region absent",
        "secureContext absent",
        "state lower",
        "state upper",
        "poll as number",
        "port as string",
        "extra field in an item",
        "extra nested object",
        "extra array",
        "keys reordered",
    ];
    for w in want {
        assert!(seen.contains(w), "never saw: {w} (saw {seen:?})");
    }
}

#[test]
fn queued_and_aborted_states_vary_in_case_only() {
    let emu = Emulator::start(Config { quirks: true, servers_per_title: 1, ..Config::default() }).unwrap();
    allocate(&emu, 1, "holder");
    let mut cases = BTreeSet::new();
    for i in 0..30 {
        let v = allocate(&emu, 1, &format!("w{i}")).json();
        assert_eq!(lower(&v["fulfillmentState"]), "queued");
        assert!(v.get("hostName").is_none());
        cases.insert(v["fulfillmentState"].as_str().unwrap().to_string());
        let body = json!({"sessionId": session(&format!("x{i}")), "abortIfQueued": true}).to_string();
        assert_eq!(lower(&post_json(&emu, 1, AUTH, &body).json()["fulfillmentState"]), "aborted");
    }
    assert!(cases.len() >= 2, "{cases:?}");
}

#[test]
fn ticket_status_quirks() {
    let emu = quirky(3);
    let mut seen = BTreeSet::new();
    for i in 0..40 {
        let t = format!("t{i}");
        assert_eq!(lower(&inline(&emu, 77, &t).json()["fulfillmentState"]), "fulfilled");
        let v = ticket_status(&emu, 77, &t).json();
        assert_eq!(lower(&v["status"]), "active");
        assert_eq!(num(&v["titleId"]), Some(77));
        assert_eq!(v["ticketId"], json!(t));
        assert_eq!(ports(&v)[0].1, 7777);
        if v["titleId"].is_string() {
            seen.insert("titleId as string");
        }
        if v["status"] == json!("ACTIVE") || v["status"] == json!("active") {
            seen.insert("status case");
        }
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
}

#[test]
fn variants_quirks() {
    let emu = quirky(4);
    let mut seen = BTreeSet::new();
    for _ in 0..30 {
        let v = call(&emu, "POST", "/titles/1/variants", "{}").json();
        let variants = v["variants"].as_array().unwrap();
        assert_eq!(variants.len(), 3);
        for (i, x) in variants.iter().enumerate() {
            let id = x.get("gamevariantId").or_else(|| x.get("variantId")).and_then(Value::as_str).unwrap();
            assert!(id.ends_with(&format!("b00{}", i + 1)));
            if x.get("variantId").is_some() {
                seen.insert("variantId");
            }
            let publisher = match &x["isPublisher"] {
                Value::Bool(b) => {
                    seen.insert("isPublisher boolean");
                    *b
                }
                Value::String(s) => {
                    if s == "TRUE" || s == "FALSE" {
                        seen.insert("isPublisher upper");
                    }
                    if s == "true" || s == "false" {
                        seen.insert("isPublisher lower");
                    }
                    s.eq_ignore_ascii_case("true")
                }
                other => panic!("isPublisher {other}"),
            };
            assert_eq!(publisher, i < 2);
            assert_eq!(num(&x["rank"]), Some(i as u64 + 1));
            if x["rank"].is_number() {
                seen.insert("rank as number");
            }
        }
        for (i, g) in v["gsiSets"].as_array().unwrap().iter().enumerate() {
            assert_eq!(num(&g["maxAllowedPlayers"]), Some([8, 16][i]));
            assert_eq!(num(&g["selectionOrder"]), Some(i as u64 + 1));
            if g["minRequiredPlayers"].is_number() {
                seen.insert("count as number");
            }
        }
        assert_eq!(v["variantSchemas"].as_array().unwrap().len(), 2);
    }
    for w in [
        "variantId",
        "isPublisher boolean",
        "isPublisher upper",
        "isPublisher lower",
        "rank as number",
        "count as number",
    ] {
        assert!(seen.contains(w), "never saw: {w} ({seen:?})");
    }
}

#[test]
fn qos_servers_quirks() {
    let emu = quirky(5);
    let mut lower_key = false;
    for _ in 0..20 {
        let v = call(&emu, "GET", "/qosservers", "").json();
        let list = v.get("qosServers").or_else(|| v.get("qosservers")).expect("a list");
        lower_key |= v.get("qosservers").is_some();
        assert_eq!(list[0]["targetLocation"], json!("EmulatedWest"));
        assert!(list[0]["serverFqdn"].as_str().unwrap().starts_with("127.0.0.1:"));
    }
    assert!(lower_key);
}

#[test]
fn session_host_and_allocation_status_quirks() {
    let emu = quirky(6);
    let mut seen = BTreeSet::new();
    for i in 0..40 {
        let s = format!("s{i}");
        let v = session_host(&emu, 1, &s).json();
        match v.get("fulfillmentState") {
            None => {
                seen.insert("no state when fulfilled");
            }
            Some(state) => assert_eq!(lower(state), "fulfilled"),
        }
        assert!(v["sessionHostId"].is_string());
        let a = allocation_status(&emu, 1, &s).json();
        let status = a.get("status").or_else(|| a.get("fulfillmentState")).expect("a state");
        assert_eq!(lower(status), "fulfilled");
        if a.get("status").is_none() {
            seen.insert("fulfillmentState for status");
        }
        assert_eq!(a["sessionId"], json!(s));
        assert_eq!(ports(&a)[0].2, ports(&v)[0].2);
    }
    assert_eq!(seen.len(), 2, "{seen:?}");
}

#[test]
fn same_seed_same_bytes_and_errors_stay_canonical() {
    let run = |seed: u64| -> Vec<Vec<u8>> {
        let emu = quirky(seed);
        let mut bodies = Vec::new();
        for i in 0..10 {
            let mut b = allocate(&emu, 1, &format!("r{i}")).body;
            // Secure contexts carry random noise; blank them to compare the shape.
            let v: Value = serde_json::from_slice(&b).unwrap();
            if let Some(ctx) = v.get("secureContext").and_then(Value::as_str) {
                b = String::from_utf8(b).unwrap().replace(ctx, "CTX").into_bytes();
            }
            bodies.push(b);
            bodies.push(call(&emu, "POST", "/titles/1/variants", "{}").body);
        }
        bodies
    };
    assert_eq!(run(9), run(9));
    assert_ne!(run(9), run(10));

    let emu = quirky(9);
    let canonical = Emulator::start(Config::default()).unwrap();
    for e in [&emu, &canonical] {
        let r = call(e, "POST", "/titles/1/inlineclusters", "{}");
        assert_eq!(
            r.body,
            br#"{"code":400,"source":"gsms-emulator","description":"missing serviceConfigId"}"#.to_vec()
        );
    }
    assert_eq!(state(&emu)["config"]["quirks"], json!(true));
}

#[test]
fn optional_fields_stay_when_omission_is_off() {
    let emu = Emulator::start(Config { quirks: true, quirks_omit_optional: false, ..Config::default() }).unwrap();
    let mut varied = false;
    for i in 0..40 {
        let v = allocate(&emu, 1, &format!("k{i}")).json();
        let o = v.as_object().unwrap();
        assert!(o.contains_key("secureContext") && o.contains_key("region"), "{v}");
        varied |= v["fulfillmentState"] != json!("Fulfilled") || v["pollIntervalMilliseconds"].is_number();
        emu.release_all(1);
        let t = ticket_status(&emu, 1, "none");
        assert_eq!(t.status, 404);
    }
    assert!(varied, "the other variations still apply");
}
