//! The service's answer (the Rust side of `gsms_cluster_result`) and its parser.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::error::Status;

/// Poll interval reported when the answer has none (or an unusable one).
pub const DEFAULT_POLL_INTERVAL_MS: u32 = 1000;
/// Largest 2xx body accepted.
pub const MAX_BODY_BYTES: u64 = 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FulfillmentState {
    #[default]
    Unknown = 0,
    Fulfilled = 1,
    Queued = 2,
    Aborted = 3,
}

impl FulfillmentState {
    fn parse(s: &str) -> FulfillmentState {
        if s.eq_ignore_ascii_case("fulfilled") {
            FulfillmentState::Fulfilled
        } else if s.eq_ignore_ascii_case("queued") {
            FulfillmentState::Queued
        } else if s.eq_ignore_ascii_case("aborted") {
            FulfillmentState::Aborted
        } else {
            FulfillmentState::Unknown
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortMapping {
    pub name: String,
    pub internal: u32,
    pub external: u32,
}

/// Everything known about a call: the parsed answer and the transport details.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterResult {
    pub status: Status,
    pub fulfillment_state: FulfillmentState,
    pub poll_interval_ms: u32,
    pub host_name: String,
    pub region: String,
    pub secure_context: String,
    pub ports: Vec<PortMapping>,
    pub http_status: u16,
    pub attempts: u32,
    pub correlation_id: String,
    pub retry_after_ms: u32,
    pub error_message: String,
    pub raw_json: String,
}

impl Default for ClusterResult {
    fn default() -> Self {
        ClusterResult {
            status: Status::Ok,
            fulfillment_state: FulfillmentState::Unknown,
            poll_interval_ms: DEFAULT_POLL_INTERVAL_MS,
            host_name: String::new(),
            region: String::new(),
            secure_context: String::new(),
            ports: Vec::new(),
            http_status: 0,
            attempts: 0,
            correlation_id: String::new(),
            retry_after_ms: 0,
            error_message: String::new(),
            raw_json: String::new(),
        }
    }
}

/// The parsed fields of a 2xx body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub fulfillment_state: FulfillmentState,
    pub poll_interval_ms: u32,
    pub host_name: String,
    pub region: String,
    pub secure_context: String,
    pub ports: Vec<PortMapping>,
}

impl ClusterResult {
    pub fn apply_answer(&mut self, a: Answer) {
        self.fulfillment_state = a.fulfillment_state;
        self.poll_interval_ms = a.poll_interval_ms;
        self.host_name = a.host_name;
        self.region = a.region;
        self.secure_context = a.secure_context;
        self.ports = a.ports;
    }
}

/// Parses a 2xx body per PROTOCOL.md. `Err` is a protocol error with a message.
pub fn parse_answer(body: &[u8]) -> Result<Answer, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("response body is not valid UTF-8 ({e})"))?;
    let wire: Wire = serde_json::from_str(text).map_err(|e| {
        if e.classify() == serde_json::error::Category::Data || text.trim_start().starts_with('{') {
            format!("response body is not the documented JSON object: {e}")
        } else {
            format!("response body is not a JSON object: {e}")
        }
    })?;
    for (what, s) in [("hostName", &wire.host), ("region", &wire.region), ("secureContext", &wire.secure)] {
        if s.contains('\0') {
            return Err(format!("{what} contains a NUL character"));
        }
    }
    Ok(Answer {
        fulfillment_state: wire.state,
        poll_interval_ms: wire.poll,
        host_name: wire.host,
        region: wire.region,
        secure_context: wire.secure,
        ports: wire.ports,
    })
}

struct Wire {
    poll: u32,
    state: FulfillmentState,
    host: String,
    region: String,
    secure: String,
    ports: Vec<PortMapping>,
}

impl<'de> Deserialize<'de> for Wire {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Wire;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Wire, A::Error> {
                let mut w = Wire {
                    poll: DEFAULT_POLL_INTERVAL_MS,
                    state: FulfillmentState::Unknown,
                    host: String::new(),
                    region: String::new(),
                    secure: String::new(),
                    ports: Vec::new(),
                };
                while let Some(key) = m.next_key::<KeyName>()? {
                    match key {
                        // Read raw, so that a number serde_json cannot hold (1e400) is "unparsable", not
                        // a broken answer.
                        KeyName::Poll => w.poll = interval(m.next_value::<&RawValue>()?.get()),
                        KeyName::State => w.state = state(m.next_value::<&RawValue>()?.get()),
                        KeyName::Host => w.host = m.next_value::<OptString>()?.0,
                        KeyName::Region => w.region = m.next_value::<OptString>()?.0,
                        KeyName::Secure => w.secure = m.next_value::<OptString>()?.0,
                        KeyName::Ports => w.ports = m.next_value::<Ports>()?.0,
                        KeyName::Other => {
                            m.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(w)
            }
        }
        d.deserialize_map(V)
    }
}

enum KeyName {
    Poll,
    State,
    Host,
    Region,
    Secure,
    Ports,
    Other,
}

impl<'de> Deserialize<'de> for KeyName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyName;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<KeyName, E> {
                Ok(match s {
                    "pollIntervalMilliseconds" => KeyName::Poll,
                    "fulfillmentState" => KeyName::State,
                    "hostName" => KeyName::Host,
                    "region" => KeyName::Region,
                    "secureContext" => KeyName::Secure,
                    "portMappings" => KeyName::Ports,
                    _ => KeyName::Other,
                })
            }
        }
        d.deserialize_str(V)
    }
}

/// `pollIntervalMilliseconds` from its raw JSON text: a string or a number; negative,
/// unparsable or of another type -> 1000; beyond u32 -> u32::MAX (the poll wait is capped anyway).
fn interval(raw: &str) -> u32 {
    let raw = raw.trim();
    let text: std::borrow::Cow<'_, str> = if raw.starts_with('"') {
        match serde_json::from_str::<String>(raw) {
            Ok(s) => s.into(),
            Err(_) => return DEFAULT_POLL_INTERVAL_MS,
        }
    } else {
        raw.into()
    };
    let t = text.trim();
    if let Ok(v) = t.parse::<u64>() {
        return u32::try_from(v).unwrap_or(u32::MAX);
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => {
            if v >= u32::MAX as f64 {
                u32::MAX
            } else {
                v as u32
            }
        }
        _ => DEFAULT_POLL_INTERVAL_MS,
    }
}

/// `fulfillmentState` from its raw JSON text: a string, case-insensitive; anything else -> Unknown.
fn state(raw: &str) -> FulfillmentState {
    match serde_json::from_str::<String>(raw) {
        Ok(s) => FulfillmentState::parse(&s),
        Err(_) => FulfillmentState::Unknown,
    }
}

/// A string field that may be null or absent (-> ""); any other type is a protocol error.
struct OptString(String);
impl<'de> Deserialize<'de> for OptString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(OptString(Option::<String>::deserialize(d)?.unwrap_or_default()))
    }
}

/// A port: a number or a numeric string in 0..=65535.
struct Port(u32);
impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Port;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a port number 0..=65535 (number or numeric string)")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Port, E> {
                if v <= 65535 {
                    Ok(Port(v as u32))
                } else {
                    Err(E::custom(format!("port {v} is out of range 0..=65535")))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Port, E> {
                if v < 0 {
                    Err(E::custom(format!("port {v} is out of range 0..=65535")))
                } else {
                    self.visit_u64(v as u64)
                }
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Port, E> {
                match s.trim().parse::<u64>() {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom(format!("port {s:?} is not a number"))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
struct PortValue {
    internal: Port,
    external: Port,
}

#[derive(Deserialize)]
struct PortEntry {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "Value")]
    value: PortValue,
}

struct Ports(Vec<PortMapping>);
impl<'de> Deserialize<'de> for Ports {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let entries = Option::<Vec<PortEntry>>::deserialize(d)?.unwrap_or_default();
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            if e.key.contains('\0') {
                return Err(de::Error::custom("port mapping name contains a NUL character"));
            }
            out.push(PortMapping { name: e.key, internal: e.value.internal.0, external: e.value.external.0 });
        }
        Ok(Ports(out))
    }
}

/// The human message of an error body: `message`, `error_description` or `description` of a JSON
/// object, else the start of the text. Never fails. The body comes from the server: control
/// characters become spaces (no forged log lines, no terminal escapes) and the length is capped.
pub fn error_body_message(body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        for k in ["message", "error_description", "description", "error"] {
            if let Some(m) = v.get(k).and_then(|m| m.as_str()).and_then(|s| clean_text(s, 512)) {
                return Some(m);
            }
        }
    }
    clean_text(&String::from_utf8_lossy(body), 200)
}

/// At most `max_chars` characters of `s`, control characters replaced by spaces, trimmed; `None`
/// when nothing is left.
fn clean_text(s: &str, max_chars: usize) -> Option<String> {
    let t: String = s.chars().take(max_chars).map(|c| if c.is_control() { ' ' } else { c }).collect();
    let t = t.trim();
    (!t.is_empty()).then(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The peer's recorded fulfilled answer (PROTOCOL.md).
    const PEER_FULFILLED: &str = r#"{
        "pollIntervalMilliseconds": "60000",
        "fulfillmentState": "Fulfilled",
        "hostName": "gs-westus-042.cloudapp.net",
        "region": "WestUS",
        "portMappings": [
            {"Key": "GameData", "Value": {"internal": 7777, "external": 31000}},
            {"Key": "RDP", "Value": {"internal": 3389, "external": 3389}}
        ]
    }"#;

    #[test]
    fn peer_fulfilled_vector_parses() {
        let a = parse_answer(PEER_FULFILLED.as_bytes()).unwrap();
        assert_eq!(a.fulfillment_state, FulfillmentState::Fulfilled);
        assert_eq!(a.poll_interval_ms, 60000);
        assert_eq!(a.host_name, "gs-westus-042.cloudapp.net");
        assert_eq!(a.region, "WestUS");
        assert_eq!(a.secure_context, "");
        assert_eq!(
            a.ports,
            vec![
                PortMapping { name: "GameData".into(), internal: 7777, external: 31000 },
                PortMapping { name: "RDP".into(), internal: 3389, external: 3389 },
            ]
        );
    }

    #[test]
    fn doc_sample_parses_each_state() {
        for (s, want) in [
            ("Fulfilled", FulfillmentState::Fulfilled),
            ("Queued", FulfillmentState::Queued),
            ("Aborted", FulfillmentState::Aborted),
            ("queued", FulfillmentState::Queued),
            ("ABORTED", FulfillmentState::Aborted),
            ("Pending", FulfillmentState::Unknown),
        ] {
            let body = format!(r#"{{ "pollIntervalMilliseconds" : "1000", "fulfillmentState" : "{s}" }}"#);
            let a = parse_answer(body.as_bytes()).unwrap();
            assert_eq!(a.fulfillment_state, want, "{s}");
            assert_eq!(a.poll_interval_ms, 1000);
        }
    }

    #[test]
    fn poll_interval_accepts_strings_and_numbers_and_defaults() {
        for (v, want) in [
            ("\"250\"", 250),
            ("250", 250),
            ("250.7", 250),
            ("\"-5\"", 1000),
            ("-5", 1000),
            ("\"soon\"", 1000),
            ("null", 1000),
            ("true", 1000),
            ("[1]", 1000),
            ("{}", 1000),
            ("99999999999", u32::MAX),
            ("1e400", 1000),
            ("-1e400", 1000),
            ("\"1e400\"", 1000),
            ("1e3", 1000),
            ("2.5e2", 250),
        ] {
            let body = format!(r#"{{"pollIntervalMilliseconds":{v}}}"#);
            assert_eq!(parse_answer(body.as_bytes()).unwrap().poll_interval_ms, want, "{v}");
        }
        assert_eq!(parse_answer(b"{}").unwrap().poll_interval_ms, 1000);
    }

    #[test]
    fn numbers_serde_cannot_hold_do_not_break_the_answer() {
        let a =
            parse_answer(br#"{"fulfillmentState":1e400,"pollIntervalMilliseconds":1e400,"x":-1e400,"hostName":"h"}"#)
                .unwrap();
        assert_eq!(a.fulfillment_state, FulfillmentState::Unknown);
        assert_eq!(a.poll_interval_ms, DEFAULT_POLL_INTERVAL_MS);
        assert_eq!(a.host_name, "h");
    }

    #[test]
    fn unknown_fields_are_ignored_and_missing_state_is_unknown() {
        let a = parse_answer(br#"{"x":[1,{"y":null}],"fulfillmentState":7,"region":null}"#).unwrap();
        assert_eq!(a.fulfillment_state, FulfillmentState::Unknown);
        assert_eq!(a.region, "");
    }

    #[test]
    fn ports_accept_numeric_strings_and_reject_out_of_range() {
        let a =
            parse_answer(br#"{"portMappings":[{"Key":"G","Value":{"internal":"7777","external":" 1 "}}]}"#).unwrap();
        assert_eq!(a.ports[0].internal, 7777);
        assert_eq!(a.ports[0].external, 1);
        for bad in [
            r#"{"portMappings":[{"Key":"G","Value":{"internal":70000,"external":1}}]}"#,
            r#"{"portMappings":[{"Key":"G","Value":{"internal":-1,"external":1}}]}"#,
            r#"{"portMappings":[{"Key":"G","Value":{"internal":"x","external":1}}]}"#,
            r#"{"portMappings":[{"Key":"G"}]}"#,
            r#"{"portMappings":"nope"}"#,
        ] {
            assert!(parse_answer(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn non_objects_and_bad_bytes_are_protocol_errors() {
        for bad in [
            &b""[..],
            b"[]",
            b"\"Fulfilled\"",
            b"null",
            b"{\"hostName\":5}",
            b"{\"hostName\":\"a\\u0000b\"}",
            b"{\"hostName\":\"\xff\"}",
            b"{\"a\":1",
            b"<html>",
            b"{\"a\":1}trailing",
        ] {
            assert!(parse_answer(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let bomb = "[".repeat(100_000);
        let body = format!("{{\"x\":{bomb}");
        assert!(parse_answer(body.as_bytes()).is_err());
    }

    #[test]
    fn error_messages_come_from_json_or_text() {
        assert_eq!(error_body_message(br#"{"code":400,"message":"bad session"}"#).unwrap(), "bad session");
        assert_eq!(error_body_message(b"Service Unavailable\r\n").unwrap(), "Service Unavailable");
        assert_eq!(error_body_message(b""), None);
        // Server text never carries control characters, and is capped.
        assert_eq!(error_body_message(br#"{"message":"a\nb\u001b[2J"}"#).unwrap(), "a b [2J");
        assert_eq!(
            error_body_message(format!("{{\"message\":\"{}\"}}", "x".repeat(10_000)).as_bytes()).unwrap().len(),
            512
        );
        assert_eq!(error_body_message(br#"{"message":"\r\n","error":"e"}"#).unwrap(), "e");
    }
}
