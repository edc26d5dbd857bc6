//! One module per call, and what they share: body field readers and answer pieces.

pub(crate) mod allocation_status;
pub(crate) mod clusters;
pub(crate) mod inline_clusters;
pub(crate) mod qos_servers;
pub(crate) mod session_hosts;
pub(crate) mod ticket_status;
pub(crate) mod variants;

use serde_json::{Map, Value};

use super::state::{Machine, Outcome, GAME_DATA_INTERNAL, RDP_PORT};
use crate::json::Json;
use crate::Config;

/// The request body as a JSON object, or why not.
pub(crate) fn object(body: &[u8]) -> Result<Map<String, Value>, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("request body is not valid JSON: {e}"))?;
    match value {
        Value::Object(obj) => Ok(obj),
        _ => Err("request body must be a JSON object".into()),
    }
}

/// A required non-empty string field.
pub(crate) fn required_str(obj: &Map<String, Value>, field: &str) -> Result<String, String> {
    match obj.get(field) {
        None | Some(Value::Null) => Err(format!("missing {field}")),
        Some(Value::String(s)) if s.is_empty() => Err(format!("{field} is empty")),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!("{field} must be a string")),
    }
}

/// An optional string field (absent or null: None).
pub(crate) fn optional_str(obj: &Map<String, Value>, field: &str) -> Result<Option<String>, String> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("{field} must be a string")),
    }
}

/// An optional flag: a boolean, `"true"`/`"false"` (any case) or null; absent is false.
pub(crate) fn optional_flag(obj: &Map<String, Value>, field: &str) -> Result<bool, String> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
        Some(_) => Err(format!("{field} must be true or false")),
    }
}

/// An optional whole JSON number >= `min` (absent or null: None).
pub(crate) fn optional_count(obj: &Map<String, Value>, field: &str, min: u64) -> Result<Option<u64>, String> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(v) if v >= min => Ok(Some(v)),
            _ => Err(format!("{field} must be a whole number >= {min}")),
        },
        Some(_) => Err(format!("{field} must be a number")),
    }
}

/// `pollIntervalMilliseconds` as configured: a string (the documentation's form) or a number.
pub(crate) fn poll_interval(cfg: &Config) -> Json {
    if cfg.poll_interval_as_number {
        Json::from(cfg.poll_interval_ms)
    } else {
        Json::from(cfg.poll_interval_ms.to_string())
    }
}

/// The port mappings of a machine: GameData 7777 -> its port, and RDP 3389 -> 3389.
pub(crate) fn port_mappings(machine: &Machine) -> Json {
    let mapping = |key: &str, internal: u16, external: u16| {
        Json::obj().with("Key", key).with("Value", Json::obj().with("internal", internal).with("external", external))
    };
    Json::Arr(vec![mapping("GameData", GAME_DATA_INTERNAL, machine.game_port), mapping("RDP", RDP_PORT, RDP_PORT)])
}

/// The answer's region for a requested one: the configured QoS region of that name (any
/// case; its configured spelling) when there is one, else [`Config::region`].
pub(crate) fn resolve_region<'a>(cfg: &Config, requested: impl IntoIterator<Item = &'a str>) -> String {
    for want in requested {
        if let Some(r) = cfg.regions.iter().find(|r| r.name.eq_ignore_ascii_case(want)) {
            return r.name.clone();
        }
    }
    cfg.region.clone()
}

/// The clusters-shaped answer of an allocation (clusters and inline clusters).
pub(crate) fn allocation_answer(cfg: &Config, outcome: &Outcome, machine: Option<&Machine>, region: &str) -> Json {
    let answer = Json::obj().with("pollIntervalMilliseconds", poll_interval(cfg));
    match (outcome, machine) {
        (Outcome::Fulfilled(_), Some(m)) => answer
            .with("fulfillmentState", "Fulfilled")
            .with("hostName", &cfg.host_name)
            .with("region", region)
            .with("portMappings", port_mappings(m))
            .with("secureContext", &m.secure_context),
        (Outcome::Aborted, _) => answer.with("fulfillmentState", "Aborted"),
        _ => answer.with("fulfillmentState", "Queued"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn field_readers_name_the_field() {
        let o = obj(json!({"a": "x", "e": "", "n": 3, "f": "TRUE", "z": 0, "neg": -1, "frac": 1.5, "nul": null}));
        assert_eq!(required_str(&o, "a"), Ok("x".into()));
        assert_eq!(required_str(&o, "b"), Err("missing b".into()));
        assert_eq!(required_str(&o, "nul"), Err("missing nul".into()));
        assert_eq!(required_str(&o, "e"), Err("e is empty".into()));
        assert_eq!(required_str(&o, "n"), Err("n must be a string".into()));
        assert_eq!(optional_str(&o, "b"), Ok(None));
        assert!(optional_str(&o, "n").is_err());
        assert_eq!(optional_flag(&o, "f"), Ok(true));
        assert_eq!(optional_flag(&o, "b"), Ok(false));
        assert!(optional_flag(&o, "n").unwrap_err().contains('n'));
        assert_eq!(optional_count(&o, "n", 1), Ok(Some(3)));
        assert!(optional_count(&o, "z", 1).is_err());
        assert!(optional_count(&o, "neg", 0).is_err());
        assert!(optional_count(&o, "frac", 0).is_err());
        assert!(optional_count(&o, "a", 0).unwrap_err().contains("must be a number"));
        assert!(object(b"[]").is_err());
        assert!(object(b"{").is_err());
    }

    #[test]
    fn regions_resolve_to_configured_ones() {
        let cfg = Config {
            regions: vec![crate::RegionConfig::new("West US"), crate::RegionConfig::new("North Europe")],
            region: "Fallback".into(),
            ..Config::default()
        };
        assert_eq!(resolve_region(&cfg, ["north europe"]), "North Europe");
        assert_eq!(resolve_region(&cfg, ["Mars", "West US"]), "West US");
        assert_eq!(resolve_region(&cfg, ["Mars"]), "Fallback");
        assert_eq!(resolve_region(&cfg, []), "Fallback");
    }
}
