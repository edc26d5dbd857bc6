//! Property tests (proptest, stable Rust) of the parsers and validators that face the network or
//! the caller: the response parser, the Retry-After parser, header values, base URLs, and the
//! request body. The same targets are fuzzed with cargo-fuzz (fuzz/) when nightly is available.

use std::time::{Duration, SystemTime};

use gsms::core::call::Decode;
use gsms::core::wire::{error_body_message, DEFAULT_POLL_INTERVAL_MS};
use gsms::core::ClusterResult;

/// The clusters answer decoder.
fn parse_answer(body: &[u8]) -> Result<ClusterResult, String> {
    ClusterResult::decode(body)
}
use gsms::core::retry::parse_retry_after;
use gsms::core::{validate, ClusterRequest, Config, FulfillmentState};
use proptest::prelude::*;

/// 256 cases per property in the default `cargo test`; PROPTEST_CASES raises it (scripts/test_extra.sh).
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Fragments of JSON and near-JSON, glued at random: reaches deeper into the parser than bytes.
fn jsonish() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        Just("{".to_string()),
        Just("}".to_string()),
        Just("[".to_string()),
        Just("]".to_string()),
        Just(",".to_string()),
        Just(":".to_string()),
        Just("null".to_string()),
        Just("true".to_string()),
        Just("-".to_string()),
        Just("\"pollIntervalMilliseconds\"".to_string()),
        Just("\"fulfillmentState\"".to_string()),
        Just("\"hostName\"".to_string()),
        Just("\"region\"".to_string()),
        Just("\"secureContext\"".to_string()),
        Just("\"portMappings\"".to_string()),
        Just("\"Key\"".to_string()),
        Just("\"Value\"".to_string()),
        Just("\"internal\"".to_string()),
        Just("\"external\"".to_string()),
        Just("\"Queued\"".to_string()),
        Just("\"\\u0000\"".to_string()),
        Just("\"\\ud800\"".to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| format!("\"{n}\"")),
        "\\PC{0,8}".prop_map(|s| serde_json::to_string(&s).unwrap()),
    ];
    proptest::collection::vec(token, 0..64).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn parse_answer_never_panics_on_bytes(body in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_answer(&body);
        let _ = error_body_message(&body);
    }

    #[test]
    fn parse_answer_never_panics_on_json_fragments(body in jsonish()) {
        if let Ok(a) = parse_answer(body.as_bytes()) {
            // Whatever is accepted is clean for C: no NUL in any string.
            prop_assert!(!a.host_name.contains('\0') && !a.region.contains('\0') && !a.secure_context.contains('\0'));
            prop_assert!(a.ports.iter().all(|p| !p.name.contains('\0') && p.internal <= 65535 && p.external <= 65535));
        }
        let _ = error_body_message(body.as_bytes());
    }

    #[test]
    fn any_u32_poll_interval_round_trips_as_number_and_string(v in any::<u32>(), pad in "( |\\\\t){0,3}") {
        for wire in [v.to_string(), format!("\"{v}\""), format!("\"{pad}{v}{pad}\"")] {
            let body = format!(r#"{{"fulfillmentState":"Queued","pollIntervalMilliseconds":{wire}}}"#);
            let a = parse_answer(body.as_bytes()).unwrap();
            prop_assert_eq!(a.poll_interval_ms, v, "{}", wire);
            prop_assert_eq!(a.fulfillment_state, FulfillmentState::Queued);
        }
    }

    #[test]
    fn out_of_range_poll_intervals_saturate_or_default(big in (u32::MAX as u64 + 1)..=u64::MAX, neg in i64::MIN..0) {
        let parse = |w: String| parse_answer(format!(r#"{{"pollIntervalMilliseconds":{w}}}"#).as_bytes()).unwrap().poll_interval_ms;
        prop_assert_eq!(parse(big.to_string()), u32::MAX);
        prop_assert_eq!(parse(format!("\"{big}\"")), u32::MAX);
        prop_assert_eq!(parse(neg.to_string()), DEFAULT_POLL_INTERVAL_MS);
        prop_assert_eq!(parse(format!("\"{neg}\"")), DEFAULT_POLL_INTERVAL_MS);
    }

    #[test]
    fn ports_in_range_round_trip_and_others_are_refused(p in 0u32..=65535, q in 65536u64..=u64::MAX, as_string: bool) {
        let w = |n: String| if as_string { format!("\"{n}\"") } else { n };
        let body = format!(r#"{{"portMappings":[{{"Key":"G","Value":{{"internal":{},"external":{}}}}}]}}"#, w(p.to_string()), w(p.to_string()));
        let a = parse_answer(body.as_bytes()).unwrap();
        prop_assert_eq!((a.ports[0].internal, a.ports[0].external), (p, p));
        let bad = format!(r#"{{"portMappings":[{{"Key":"G","Value":{{"internal":{},"external":1}}}}]}}"#, w(q.to_string()));
        prop_assert!(parse_answer(bad.as_bytes()).is_err());
    }

    #[test]
    fn string_fields_round_trip_unless_they_hold_nul(host in "\\PC*", region in any::<String>(), name in any::<String>()) {
        let body = serde_json::json!({
            "fulfillmentState": "Fulfilled",
            "hostName": host,
            "region": region,
            "portMappings": [{"Key": name, "Value": {"internal": 1, "external": 2}}],
        })
        .to_string();
        let r = parse_answer(body.as_bytes());
        if region.contains('\0') || name.contains('\0') {
            prop_assert!(r.is_err());
        } else {
            let a = r.unwrap();
            prop_assert_eq!(a.host_name, host);
            prop_assert_eq!(a.region, region);
            prop_assert_eq!(&a.ports[0].name, &name);
        }
    }

    #[test]
    fn fulfillment_state_is_case_insensitive_and_anything_else_is_unknown(s in "[A-Za-z]{0,12}", flips in any::<u16>()) {
        for (name, want) in [("fulfilled", FulfillmentState::Fulfilled), ("queued", FulfillmentState::Queued), ("aborted", FulfillmentState::Aborted)] {
            let mixed: String = name.chars().enumerate().map(|(i, c)| if flips >> (i % 16) & 1 == 1 { c.to_ascii_uppercase() } else { c }).collect();
            let a = parse_answer(format!(r#"{{"fulfillmentState":"{mixed}"}}"#).as_bytes()).unwrap();
            prop_assert_eq!(a.fulfillment_state, want);
        }
        let known = ["fulfilled", "queued", "aborted"].iter().any(|k| s.eq_ignore_ascii_case(k));
        let a = parse_answer(format!(r#"{{"fulfillmentState":"{s}"}}"#).as_bytes()).unwrap();
        prop_assert_eq!(a.fulfillment_state == FulfillmentState::Unknown, !known);
    }

    #[test]
    fn retry_after_never_panics(v in any::<String>()) {
        let _ = parse_retry_after(&v, SystemTime::now());
    }

    #[test]
    fn any_seconds_value_parses(secs in any::<u32>(), pad_l in "[ \t]{0,2}", pad_r in "[ \t]{0,2}") {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        prop_assert_eq!(parse_retry_after(&format!("{pad_l}{secs}{pad_r}"), now), Some(Duration::from_secs(secs.into())));
        prop_assert_eq!(parse_retry_after(&format!("{secs:0>12}"), now), Some(Duration::from_secs(secs.into())), "leading zeros");
    }

    #[test]
    fn huge_seconds_saturate(digits in "[1-9][0-9]{10,60}") {
        let now = SystemTime::now();
        let d = parse_retry_after(&digits, now).unwrap();
        let exact = digits.parse::<u64>().ok().filter(|v| *v <= u32::MAX as u64);
        prop_assert_eq!(d, Duration::from_secs(exact.unwrap_or(u32::MAX as u64)));
    }

    #[test]
    fn http_dates_are_relative_to_now(ahead in 0u64..10_000_000, past in 1u64..1_000_000_000) {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let later = httpdate::fmt_http_date(now + Duration::from_secs(ahead));
        prop_assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(ahead)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(past));
        prop_assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
    }

    #[test]
    fn non_numbers_and_signs_are_not_seconds(v in "[-+.eE][0-9]{1,5}|[0-9]{1,5}[.eE,][0-9]{0,3}|[a-zA-Z]{1,12}") {
        prop_assert_eq!(parse_retry_after(&v, SystemTime::now()), None);
    }

    #[test]
    fn header_value_accepts_exactly_nonempty_visible_ascii_or_space(v in any::<String>()) {
        let clean = !v.is_empty() && v.bytes().all(|b| (0x20..=0x7e).contains(&b));
        prop_assert_eq!(validate::header_value("h", &v).is_ok(), clean, "{:?}", v);
    }

    #[test]
    fn printable_header_values_are_accepted_and_injections_refused(v in "[ -~]{1,64}", inject in prop::sample::select(vec!['\r', '\n', '\0', '\t', '\x7f', '\x1b']), at in any::<prop::sample::Index>()) {
        prop_assert!(validate::header_value("h", &v).is_ok());
        let mut bad = v.clone();
        bad.insert(at.index(v.len() + 1).min(bad.len()), inject);
        let err = validate::header_value("h", &bad).unwrap_err();
        prop_assert!(!err.0.contains(&bad), "the reason does not echo the value");
    }

    #[test]
    fn base_url_never_panics_and_accepted_urls_are_normal(v in any::<String>()) {
        if let Ok(u) = validate::base_url(&v) {
            prop_assert!(u.starts_with("http://") || u.starts_with("https://"));
            prop_assert!(!u.ends_with('/'));
            prop_assert!(!u.bytes().any(|b| b <= 0x20 || b == 0x7f));
            prop_assert!(!u.contains('?') && !u.contains('#'));
            // No user info: an '@' may appear in the path prefix, never in the authority.
            let authority = u.split("://").nth(1).unwrap_or("").split('/').next().unwrap_or("");
            prop_assert!(!authority.is_empty() && !authority.contains('@'), "{:?}", u);
            prop_assert_eq!(validate::base_url(&u).unwrap(), u.clone(), "idempotent");
            prop_assert!(u.parse::<ureq::http::Uri>().is_ok());
        }
    }

    #[test]
    fn well_formed_base_urls_are_accepted(
        https: bool,
        host in "[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\\.[a-z0-9]{1,10}){0,3}",
        port in proptest::option::of(1u16..=65535),
        path in "(/[a-zA-Z0-9_.~-]{1,10}){0,3}/?",
    ) {
        let scheme = if https { "https" } else { "http" };
        let port = port.map(|p| format!(":{p}")).unwrap_or_default();
        let url = format!("{scheme}://{host}{port}{path}");
        let norm = validate::base_url(&url).unwrap();
        prop_assert_eq!(norm.clone(), url.trim_end_matches('/').to_string());
        let mut cfg = Config::default();
        prop_assert!(cfg.set_base_url(&url).is_ok());
        prop_assert!(gsms::core::Client::new(&cfg).is_ok());
    }

    #[test]
    fn base_urls_with_smuggled_parts_are_refused(
        host in "[a-z]{1,10}",
        junk in prop::sample::select(vec!["\r\n", " ", "\t", "?q", "#f", "@", "\0"]),
    ) {
        let url = format!("http://{host}{junk}x/");
        prop_assert!(validate::base_url(&url).is_err(), "{:?}", url);
        let userinfo = format!("http://user{junk}@{host}/");
        prop_assert!(validate::base_url(&userinfo).is_err(), "{:?}", userinfo);
    }

    #[test]
    fn request_bodies_are_json_holding_the_session_id(session in any::<String>(), abort: bool) {
        let mut r = ClusterRequest::new(7);
        let ok = r.set_session_id(&session).is_ok();
        prop_assert_eq!(ok, !session.is_empty() && !session.chars().any(char::is_control));
        if ok {
            r.abort_if_queued = abort;
            let v: serde_json::Value = serde_json::from_slice(&r.body()).unwrap();
            prop_assert_eq!(v["sessionId"].as_str(), Some(session.as_str()));
            prop_assert_eq!(v.get("abortIfQueued").is_some(), abort);
        }
    }

    #[test]
    fn session_parts_never_smuggle_a_path(scid in "\\PC{0,12}", t in "\\PC{0,12}", n in "\\PC{0,12}") {
        let mut r = ClusterRequest::new(1);
        let ok = r.set_session(&scid, &t, &n).is_ok();
        let clean = |s: &str| !s.is_empty() && !s.contains('/') && !s.chars().any(char::is_control);
        prop_assert_eq!(ok, clean(&scid) && clean(&t) && clean(&n));
        if ok {
            prop_assert_eq!(r.session_id.matches('/').count(), 6);
        }
    }
}
