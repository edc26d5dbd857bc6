//! `POST /titles/{titleId}/sessionhosts` (contract 8): claim a StandingBy session host.
//!
//! 200 with the host (Fulfilled once Active, Queued while it activates); a repeat for a session
//! whose host is not Active yet: 409; no StandingBy host: 503 with `Retry-After: 1`; a title
//! without subscriptions: 404.

use std::time::Instant;

use serde_json::Value;

use super::{object, optional_str, port_mappings, required_str, resolve_region};
use crate::http::{Request, Response};
use crate::json::Json;
use crate::service::state::{guid, Claim, SessionHost, SessionRecord};
use crate::service::{random_u64, Service};

/// Largest `sessionCookie` accepted.
pub(crate) const MAX_COOKIE: usize = 32 * 1024;

#[derive(Debug)]
struct Body {
    session_id: String,
    cloud_game_id: String,
    locations: Vec<String>,
}

fn parse_body(body: &[u8]) -> Result<Body, String> {
    let obj = object(body)?;
    let session_id = required_str(&obj, "sessionId")?;
    let cloud_game_id = required_str(&obj, "cloudGameId")?;
    let locations = match obj.get("locations") {
        None | Some(Value::Null) => return Err("missing locations".into()),
        Some(Value::Array(a)) if a.is_empty() => return Err("locations must name at least one region".into()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|l| match l {
                Value::String(s) if !s.is_empty() => Ok(s.clone()),
                _ => Err("locations must be an array of non-empty strings".to_string()),
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err("locations must be an array of strings".into()),
    };
    if let Some(cookie) = optional_str(&obj, "sessionCookie")? {
        if cookie.len() > MAX_COOKIE {
            return Err(format!("sessionCookie is {} bytes, more than {MAX_COOKIE}", cookie.len()));
        }
    }
    optional_str(&obj, "gameModeId")?;
    optional_str(&obj, "sandboxId")?;
    Ok(Body { session_id, cloud_game_id, locations })
}

/// A session host's answer fields (shared with allocation status).
pub(crate) fn host_fields(svc: &Service, answer: Json, host: &SessionHost, region: &str) -> Json {
    answer
        .with("hostName", &svc.settings.host_name)
        .with("portMappings", port_mappings(&host.machine))
        .with("region", region)
        .with("secureContext", &host.machine.secure_context)
        .with("sessionHostId", &host.session_host_id)
}

pub(crate) fn handle(svc: &Service, req: &Request, title_id: u32) -> Result<Json, Response> {
    let body = parse_body(&req.body).map_err(|m| svc.err(400, &m))?;
    let cfg = &svc.settings;
    let mut st = svc.lock();
    if st.no_subscriptions.contains(&title_id) {
        return Err(svc.err(404, &format!("title {title_id} has no subscriptions")));
    }
    st.hosts(cfg, title_id).map_err(|e| svc.pool_error(e))?;
    st.sweep_hosts(title_id);
    let now = Instant::now();
    let key = (title_id, body.session_id.clone());
    if let Some(i) = st.host_of(title_id, &body.session_id) {
        let host = &st.host_pools[&title_id][i];
        if host.claim.as_ref().is_some_and(|c| c.ready_at > now) {
            let msg = format!("a request for session {:?} exists; its host is not Active yet", body.session_id);
            return Err(svc.err(409, &msg));
        }
        let region = st.sessions.get(&key).map(|r| r.region.clone()).unwrap_or_else(|| cfg.region.clone());
        return Ok(host_fields(svc, Json::obj(), host, &region).with("fulfillmentState", "Fulfilled"));
    }
    let hosts = st.host_pools.get_mut(&title_id).expect("created above");
    let Some(i) = hosts.iter().position(|h| h.claim.is_none()) else {
        return Err(svc.err(503, "no session host is StandingBy").header("Retry-After", "1"));
    };
    let ready_at = now + cfg.session_host_activation;
    hosts[i].claim =
        Some(Claim { session_id: body.session_id.clone(), ready_at, expires: ready_at + cfg.server_lifetime });
    let region = resolve_region(cfg, body.locations.iter().map(String::as_str));
    let ticket_id = guid(title_id, 0x71c7, random_u64(i as u64));
    st.sessions.insert(
        key,
        SessionRecord { region: region.clone(), ticket_id, cloud_game_id: body.cloud_game_id, aborted: None },
    );
    let state = if cfg.session_host_activation.is_zero() { "Fulfilled" } else { "Queued" };
    let host = &st.host_pools[&title_id][i];
    Ok(host_fields(svc, Json::obj(), host, &region).with("fulfillmentState", state))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_name_the_field() {
        let parse = |v: Value| parse_body(v.to_string().as_bytes()).map(|b| b.locations);
        let good = json!({"sessionId": "s", "cloudGameId": "g", "locations": ["West", "East"]});
        assert_eq!(parse(good.clone()), Ok(vec!["West".to_string(), "East".to_string()]));
        let with = |k: &str, v: Value| {
            let mut b = good.clone();
            b[k] = v;
            b
        };
        let without = |k: &str| {
            let mut b = good.clone();
            b.as_object_mut().unwrap().remove(k);
            b
        };
        assert_eq!(parse(without("sessionId")).unwrap_err(), "missing sessionId");
        assert_eq!(parse(without("cloudGameId")).unwrap_err(), "missing cloudGameId");
        assert_eq!(parse(without("locations")).unwrap_err(), "missing locations");
        assert!(parse(with("locations", json!([]))).unwrap_err().contains("locations"));
        assert!(parse(with("locations", json!(["a", 1]))).unwrap_err().contains("locations"));
        assert!(parse(with("locations", json!("West"))).unwrap_err().contains("locations"));
        assert!(parse(with("sessionCookie", json!("x".repeat(MAX_COOKIE)))).is_ok());
        assert!(parse(with("sessionCookie", json!("x".repeat(MAX_COOKIE + 1)))).unwrap_err().contains("sessionCookie"));
        assert!(parse(with("gameModeId", json!(3))).unwrap_err().contains("gameModeId"));
        assert!(parse(with("sandboxId", json!(true))).unwrap_err().contains("sandboxId"));
    }
}
