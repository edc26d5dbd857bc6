//! Fault rules: rolling them for a service call, and their JSON form in the admin API.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::random_u64;
use super::route::Call;
use crate::FaultRule;

pub(crate) struct ActiveFault {
    pub rule: FaultRule,
    /// Matching requests left; None = forever.
    pub remaining: Option<u32>,
}

impl ActiveFault {
    pub fn new(rule: &FaultRule) -> ActiveFault {
        ActiveFault { rule: rule.clone(), remaining: rule.times }
    }

    pub fn to_json(&self) -> Value {
        let mut v = serde_json::to_value(FaultWire::from(&self.rule)).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.insert("remaining".into(), json!(self.remaining));
        }
        v
    }
}

/// The combined effect of the fault rules that fired for one request.
#[derive(Default)]
pub(crate) struct FaultEffect {
    pub latency_ms: u64,
    pub drop_connection: bool,
    pub status: Option<u16>,
    pub retry_after: Option<String>,
}

/// Rolls the rules in order for one call. Rules that only add latency fire and let the next
/// rules be rolled too; the first rule that fires with a status or a drop ends the roll.
pub(crate) fn roll(faults: &mut Vec<ActiveFault>, call: Call, mut salt: u64) -> FaultEffect {
    let mut effect = FaultEffect::default();
    let mut i = 0;
    while i < faults.len() {
        let fault = &mut faults[i];
        salt = salt.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let p = fault.rule.probability;
        let applies = fault.rule.call.as_deref().is_none_or(|c| c == call.name());
        let fires = applies
            && fault.remaining != Some(0)
            && p > 0.0
            && (p >= 1.0 || (random_u64(salt) >> 11) as f64 / (1u64 << 53) as f64 <= p);
        if !fires {
            i += 1;
            continue;
        }
        if let Some(n) = fault.remaining.as_mut() {
            *n -= 1;
        }
        let rule = fault.rule.clone();
        if fault.remaining == Some(0) {
            faults.remove(i);
        } else {
            i += 1;
        }
        effect.latency_ms = effect.latency_ms.saturating_add(rule.latency_ms);
        if rule.drop_connection || rule.status.is_some() {
            effect.drop_connection = rule.drop_connection;
            effect.status = rule.status;
            effect.retry_after = rule.retry_after;
            break;
        }
    }
    effect
}

/// A fault rule as JSON (admin API): camelCase, unknown fields refused, probability 1 when absent.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FaultWire {
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    retry_after: Option<String>,
    #[serde(default)]
    latency_ms: u64,
    #[serde(default)]
    drop_connection: bool,
    #[serde(default)]
    times: Option<u32>,
    #[serde(default = "one")]
    probability: f64,
    #[serde(default)]
    call: Option<String>,
}

fn one() -> f64 {
    1.0
}

impl From<&FaultRule> for FaultWire {
    fn from(r: &FaultRule) -> Self {
        FaultWire {
            status: r.status,
            retry_after: r.retry_after.clone(),
            latency_ms: r.latency_ms,
            drop_connection: r.drop_connection,
            times: r.times,
            probability: r.probability,
            call: r.call.clone(),
        }
    }
}

pub(crate) fn parse_fault(body: &[u8]) -> Result<FaultRule, String> {
    let w: FaultWire = serde_json::from_slice(body).map_err(|e| format!("invalid fault rule: {e}"))?;
    let rule = FaultRule {
        status: w.status,
        retry_after: w.retry_after,
        latency_ms: w.latency_ms,
        drop_connection: w.drop_connection,
        times: w.times,
        probability: w.probability,
        call: w.call,
    };
    rule.check()?;
    Ok(rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_defaults_and_checks() {
        let r = parse_fault(br#"{"status":503,"retryAfter":"1","times":2}"#).unwrap();
        assert_eq!(r.status, Some(503));
        assert_eq!(r.probability, 1.0);
        assert_eq!(r.call, None);
        let r = parse_fault(br#"{"status":409,"call":"allocationStatus"}"#).unwrap();
        assert_eq!(r.call.as_deref(), Some("allocationStatus"));
        assert!(parse_fault(br#"{"status":409,"call":"allocationstatus"}"#).is_err());
        assert!(parse_fault(br#"{"status":503,"bogus":1}"#).is_err());
        assert!(parse_fault(br#"{"status":42}"#).is_err());
        assert!(parse_fault(br#"{"probability":2}"#).is_err());
    }

    #[test]
    fn call_filter_skips_other_calls_without_using_the_rule_up() {
        let mut faults = vec![ActiveFault::new(&FaultRule::http_status(503).for_call("sessionHosts").with_times(1))];
        assert_eq!(roll(&mut faults, Call::Clusters, 1).status, None);
        assert_eq!(faults[0].remaining, Some(1));
        assert_eq!(roll(&mut faults, Call::SessionHosts, 2).status, Some(503));
        assert!(faults.is_empty());
    }
}
