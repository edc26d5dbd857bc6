//! Property tests (proptest) of the family's answer decoders: ticket status, variants, QoS servers,
//! session hosts and allocation status. Arbitrary bytes and arbitrary JSON never panic; whatever is
//! accepted is clean for C; and the tolerant readings of FAMILY.md hold: unknown fields are
//! ignored, numbers come as numbers or numeric strings, numbers that do not parse read as 0 without
//! failing the answer, enums and "True"/"False" flags in any case, both spellings of the keys
//! that have two.

use gsms::core::call::Decode;
use gsms::core::calls::session_hosts::decode_allocation_status;
use gsms::core::{FulfillmentState, HostStatus, QosServersResult, SessionHostResult, TicketResult, VariantsResult};
use proptest::prelude::*;
use serde_json::{json, Value};

/// 256 cases per property in the default `cargo test`; PROPTEST_CASES raises it.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Every key the family's answers know (so generated objects hit real fields).
const KEYS: &[&str] = &[
    "ticketId",
    "clusterId",
    "titleId",
    "hostName",
    "status",
    "description",
    "secureContext",
    "portMappings",
    "gameHostId",
    "region",
    "variants",
    "variantSchemas",
    "gsiSets",
    "gamevariantId",
    "variantId",
    "name",
    "isPublisher",
    "rank",
    "gameVariantSchemaId",
    "variantSchemaId",
    "schemaContent",
    "gsiSetId",
    "gsiSetName",
    "minRequiredPlayers",
    "maxAllowedPlayers",
    "selectionOrder",
    "tags",
    "value",
    "qosServers",
    "qosservers",
    "serverFqdn",
    "serverSecureDeviceAddress",
    "targetLocation",
    "fulfillmentState",
    "pollIntervalMilliseconds",
    "sessionHostId",
    "sessionId",
    "Key",
    "Value",
    "internal",
    "external",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![3 => proptest::sample::select(KEYS).prop_map(String::from), 1 => "\\PC{0,8}"]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter("JSON has no NaN", |f| f.is_finite()).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        any::<u64>().prop_map(|n| Value::from(n.to_string())),
        proptest::sample::select(vec!["Active", "queued", "FULFILLED", "True", "false", "\u{0}", "1e400"])
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
            proptest::collection::vec((key(), inner), 0..6).prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// An object of known and unknown keys with arbitrary values (what a broken service might send).
fn json_object() -> impl Strategy<Value = Value> {
    proptest::collection::vec((key(), json_value()), 0..10).prop_map(|kv| Value::Object(kv.into_iter().collect()))
}

/// Unknown keys (never one of [`KEYS`]) with arbitrary values.
fn unknown_fields() -> impl Strategy<Value = Vec<(String, Value)>> {
    proptest::collection::vec(("x[A-Za-z]{1,10}", json_value()), 0..5)
}

fn no_nul(s: &str) -> bool {
    !s.contains('\0')
}

/// Runs every decoder on `body`, checking what C would see of whatever is accepted.
fn decode_all(body: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(t) = TicketResult::decode(body) {
        for f in
            [&t.ticket_id, &t.cluster_id, &t.host_name, &t.description, &t.secure_context, &t.game_host_id, &t.region]
        {
            prop_assert!(no_nul(f));
        }
        prop_assert!(t.ports.iter().all(|p| no_nul(&p.name) && p.internal <= 65535 && p.external <= 65535));
    }
    if let Ok(v) = VariantsResult::decode(body) {
        for x in &v.variants {
            prop_assert!(no_nul(&x.id) && no_nul(&x.name) && no_nul(&x.schema_id));
        }
        for x in &v.schemas {
            prop_assert!(no_nul(&x.id) && no_nul(&x.name) && no_nul(&x.content));
        }
        for g in &v.gsi_sets {
            prop_assert!(no_nul(&g.id) && no_nul(&g.name) && no_nul(&g.schema_id));
            prop_assert!(g.tags.iter().all(|t| no_nul(&t.name) && no_nul(&t.value)));
        }
    }
    if let Ok(q) = QosServersResult::decode(body) {
        prop_assert!(q
            .servers
            .iter()
            .all(|s| no_nul(&s.fqdn) && no_nul(&s.secure_device_address) && no_nul(&s.target_location)));
    }
    for h in [SessionHostResult::decode(body), decode_allocation_status(body)].into_iter().flatten() {
        for f in [
            &h.host_name,
            &h.region,
            &h.secure_context,
            &h.session_host_id,
            &h.session_id,
            &h.description,
            &h.cluster_id,
            &h.ticket_id,
            &h.game_host_id,
        ] {
            prop_assert!(no_nul(f));
        }
        prop_assert!(h.ports.iter().all(|p| no_nul(&p.name) && p.internal <= 65535 && p.external <= 65535));
    }
    Ok(())
}

/// A number on the wire: as a JSON number or a numeric string (padded or not).
fn wire_number(n: u64, form: u8) -> Value {
    match form % 3 {
        0 => json!(n),
        1 => json!(n.to_string()),
        _ => json!(format!(" {n} ")),
    }
}

/// A value that is not a number: each must read as 0 without failing the answer.
fn not_a_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(null)),
        Just(json!(true)),
        Just(json!(-1)),
        Just(json!("-7")),
        Just(json!(-0.5)),
        Just(json!("many")),
        Just(json!("")),
        Just(json!("1e400")),
        Just(json!([1])),
        Just(json!({"n": 1})),
        "[a-z]{1,6}".prop_map(Value::from),
    ]
}

fn any_case(s: &str, mask: u64) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| if mask >> (i % 64) & 1 == 1 { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() })
        .collect()
}

fn with_unknown(mut v: Value, extra: &[(String, Value)]) -> Value {
    let o = v.as_object_mut().unwrap();
    for (k, x) in extra {
        o.insert(k.clone(), x.clone());
    }
    v
}

fn text() -> impl Strategy<Value = String> {
    "[^\u{0}]{0,16}"
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..1024)) {
        decode_all(&body)?;
    }

    #[test]
    fn arbitrary_json_never_panics(v in json_object()) {
        decode_all(v.to_string().as_bytes())?;
    }

    #[test]
    fn arbitrary_json_inside_the_lists_never_panics(list in json_value(), item in json_object(), pick in 0usize..5) {
        let key = ["variants", "variantSchemas", "gsiSets", "qosServers", "portMappings"][pick];
        decode_all(json!({ key: list }).to_string().as_bytes())?;
        decode_all(json!({ key: [item.clone(), item] }).to_string().as_bytes())?;
    }

    #[test]
    fn a_list_that_is_not_an_array_reads_as_empty(bad in prop_oneof![Just(json!(null)), Just(json!(3)), Just(json!("x")), Just(json!(true)), Just(json!({"a": [1]}))]) {
        let v = VariantsResult::decode(json!({"variants": bad, "variantSchemas": bad, "gsiSets": bad}).to_string().as_bytes()).unwrap();
        prop_assert!(v.variants.is_empty() && v.schemas.is_empty() && v.gsi_sets.is_empty());
        let q = QosServersResult::decode(json!({"qosServers": bad}).to_string().as_bytes()).unwrap();
        prop_assert!(q.servers.is_empty());
    }

    #[test]
    fn ticket_status_reads_tolerantly(
        ticket in text(), host in text(), region in text(), title in any::<u32>(), form in any::<u8>(),
        status in 0usize..4, mask in any::<u64>(), extra in unknown_fields(), internal in 0u32..=65535, external in 0u32..=65535,
    ) {
        let names = ["Active", "Queued", "Aborted", "Error"];
        let want = [HostStatus::Active, HostStatus::Queued, HostStatus::Aborted, HostStatus::Error][status];
        let body = with_unknown(json!({
            "ticketId": ticket, "titleId": wire_number(title.into(), form), "hostName": host, "region": region,
            "status": any_case(names[status], mask), "clusterId": title, "gameHostId": "g",
            "portMappings": [{"Key": "GameData", "Value": {"internal": wire_number(internal.into(), form), "external": external}}],
        }), &extra);
        let t = TicketResult::decode(body.to_string().as_bytes()).unwrap();
        prop_assert_eq!(&t.ticket_id, &ticket);
        prop_assert_eq!(t.title_id, title);
        prop_assert_eq!(t.status, want);
        prop_assert_eq!((&t.host_name, &t.region), (&host, &region));
        prop_assert_eq!(&t.cluster_id, &title.to_string(), "a numeric id is kept as sent");
        prop_assert_eq!((t.ports[0].internal, t.ports[0].external), (internal, external));
    }

    #[test]
    fn ticket_status_bad_title_ids_and_states_default(bad in not_a_number(), state in prop_oneof![Just(json!("Fulfilled")), Just(json!(1)), Just(json!(null)), "[a-z]{0,8}".prop_map(Value::from)]) {
        let t = TicketResult::decode(json!({"titleId": bad, "status": state, "ticketId": "t"}).to_string().as_bytes()).unwrap();
        prop_assert_eq!(t.title_id, 0);
        let known = ["active", "queued", "aborted", "error"];
        if !state.as_str().is_some_and(|s| known.contains(&s)) {
            prop_assert_eq!(t.status, HostStatus::Unknown);
        }
        prop_assert_eq!(t.ticket_id.as_str(), "t", "the rest of the answer is kept");
    }

    #[test]
    fn variants_read_tolerantly(
        id in text(), name in text(), rank in any::<u64>(), publisher in any::<bool>(), flag_form in 0u8..3, mask in any::<u64>(),
        id_key in 0usize..3, form in any::<u8>(), min in any::<u64>(), max in any::<u64>(), order in any::<u64>(),
        extra in unknown_fields(), extra_item in unknown_fields(),
    ) {
        let flag = match flag_form {
            0 => json!(publisher),
            _ => json!(any_case(if publisher { "True" } else { "False" }, mask)),
        };
        let id_key = ["gamevariantId", "variantId", "gameVariantId"][id_key];
        let variant = with_unknown(json!({ id_key: id, "name": name, "isPublisher": flag, "rank": wire_number(rank, form), "gameVariantSchemaId": "s" }), &extra_item);
        let set = with_unknown(json!({"gsiSetId": "g", "gsiSetName": name, "minRequiredPlayers": wire_number(min, form),
            "maxAllowedPlayers": wire_number(max, form / 3), "selectionOrder": wire_number(order, form / 9),
            "variantSchemaId": "s", "tags": [{"name": "mode", "value": name}]}), &extra_item);
        let body = with_unknown(json!({"variants": [variant], "variantSchemas": [{"variantSchemaId": "s", "name": name, "schemaContent": "<x/>"}], "gsiSets": [set]}), &extra);
        let v = VariantsResult::decode(body.to_string().as_bytes()).unwrap();
        prop_assert_eq!(v.variants.len(), 1);
        let x = &v.variants[0];
        prop_assert_eq!((&x.id, &x.name, x.is_publisher, x.rank, x.schema_id.as_str()), (&id, &name, publisher, rank, "s"));
        prop_assert_eq!(&v.schemas[0].content, "<x/>");
        let g = &v.gsi_sets[0];
        prop_assert_eq!((g.min_players, g.max_players, g.selection_order), (min, max, order));
        prop_assert_eq!(&g.tags[0].value, &name);
    }

    #[test]
    fn variants_bad_numbers_read_as_zero_and_keep_the_answer(bad in not_a_number(), flag in prop_oneof![Just(json!("yes")), Just(json!(1)), Just(json!(null)), Just(json!("")), Just(json!([true]))]) {
        let body = json!({
            "variants": [{"gamevariantId": "a", "name": "A", "isPublisher": flag, "rank": bad}],
            "gsiSets": [{"gsiSetId": "g", "minRequiredPlayers": bad, "maxAllowedPlayers": bad, "selectionOrder": bad, "tags": bad}],
        });
        let v = VariantsResult::decode(body.to_string().as_bytes()).unwrap();
        prop_assert_eq!((v.variants[0].id.as_str(), v.variants[0].rank, v.variants[0].is_publisher), ("a", 0, false));
        let g = &v.gsi_sets[0];
        prop_assert_eq!((g.id.as_str(), g.min_players, g.max_players, g.selection_order), ("g", 0, 0, 0));
        prop_assert!(g.tags.is_empty(), "tags that are not a list of objects read as none");
    }

    #[test]
    fn qos_servers_read_under_either_key(fqdn in text(), loc in text(), sda in text(), lower in any::<bool>(), extra in unknown_fields(), extra_item in unknown_fields()) {
        let key = if lower { "qosservers" } else { "qosServers" };
        let server = with_unknown(json!({"serverFqdn": fqdn, "serverSecureDeviceAddress": sda, "targetLocation": loc}), &extra_item);
        let q = QosServersResult::decode(with_unknown(json!({ key: [server, 5, "x"] }), &extra).to_string().as_bytes()).unwrap();
        prop_assert_eq!(q.servers.len(), 1, "entries that are not objects are skipped");
        prop_assert_eq!((&q.servers[0].fqdn, &q.servers[0].target_location, &q.servers[0].secure_device_address), (&fqdn, &loc, &sda));
    }

    #[test]
    fn session_host_and_allocation_status_states(
        state in proptest::option::of(0usize..4), status in proptest::option::of(0usize..4), mask in any::<u64>(),
        host in text(), poll in any::<u32>(), form in any::<u8>(), extra in unknown_fields(),
    ) {
        let names = ["Fulfilled", "Queued", "Aborted", "Bogus"];
        let parsed = [FulfillmentState::Fulfilled, FulfillmentState::Queued, FulfillmentState::Aborted, FulfillmentState::Unknown];
        let mut body = json!({"hostName": host, "sessionHostId": 17, "pollIntervalMilliseconds": wire_number(poll.into(), form)});
        if let Some(s) = state {
            body["fulfillmentState"] = json!(any_case(names[s], mask));
        }
        if let Some(s) = status {
            body["status"] = json!(any_case(names[s], mask.rotate_left(7)));
        }
        let body = with_unknown(body, &extra).to_string();
        let h = SessionHostResult::decode(body.as_bytes()).unwrap();
        // A session host answer: fulfillmentState, else status, else Fulfilled (the page's answer has none).
        let want = state.or(status).map_or(FulfillmentState::Fulfilled, |i| parsed[i]);
        prop_assert_eq!(h.fulfillment_state, want);
        // Allocation status: status, else fulfillmentState, else Unknown.
        let a = decode_allocation_status(body.as_bytes()).unwrap();
        prop_assert_eq!(a.fulfillment_state, status.or(state).map_or(FulfillmentState::Unknown, |i| parsed[i]));
        for r in [&h, &a] {
            prop_assert_eq!(&r.host_name, &host);
            prop_assert_eq!(r.session_host_id.as_str(), "17");
            prop_assert_eq!(r.poll_interval_ms, poll);
        }
    }

    #[test]
    fn an_object_in_place_of_port_mappings_reads_as_no_ports(inner in json_object()) {
        let body = json!({"portMappings": inner, "hostName": "h", "status": "Active"}).to_string();
        let t = TicketResult::decode(body.as_bytes()).unwrap();
        prop_assert!(t.ports.is_empty());
        prop_assert_eq!((t.host_name.as_str(), t.status), ("h", HostStatus::Active));
        prop_assert!(SessionHostResult::decode(body.as_bytes()).unwrap().ports.is_empty());
    }
}
