//! `POST /titles/{titleId}/clusters` (contract 1): allocation through an MPSD session.

use super::{allocation_answer, object, optional_flag};
use crate::http::{Request, Response};
use crate::json::Json;
use crate::service::state::Holder;
use crate::service::Service;

pub(crate) fn handle(svc: &Service, req: &Request, title_id: u32) -> Result<Json, Response> {
    let (session, abort) = parse_body(&req.body).map_err(|m| svc.err(400, &m))?;
    let cfg = &svc.settings;
    let mut st = svc.lock();
    let outcome = st.allocate(cfg, title_id, Holder::Session(session), abort).map_err(|e| svc.pool_error(e))?;
    let pool = &st.pools[&title_id];
    let machine = match outcome {
        super::Outcome::Fulfilled(i) => Some(&pool.servers[i].machine),
        _ => None,
    };
    Ok(allocation_answer(cfg, &outcome, machine, &cfg.region))
}

/// Checks an MPSD session path and returns its canonical form, so the XSAPI spelling
/// (`sessionTemplates/../sessions/..`) and the doc's (`sessiontemplates/../session/..`)
/// name the same session.
fn canonical_session(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    if parts.len() != 7 || !parts[0].is_empty() {
        return None;
    }
    let ok = parts[1].eq_ignore_ascii_case("serviceconfigs")
        && !parts[2].is_empty()
        && parts[3].eq_ignore_ascii_case("sessiontemplates")
        && !parts[4].is_empty()
        && (parts[5].eq_ignore_ascii_case("sessions") || parts[5].eq_ignore_ascii_case("session"))
        && !parts[6].is_empty();
    if !ok {
        return None;
    }
    Some(format!(
        "/serviceconfigs/{}/sessionTemplates/{}/sessions/{}",
        parts[2].to_ascii_lowercase(),
        parts[4],
        parts[6]
    ))
}

/// The request body: (canonical session path, abortIfQueued).
fn parse_body(body: &[u8]) -> Result<(String, bool), String> {
    let obj = object(body)?;
    let session = super::required_str(&obj, "sessionId")?;
    let key = canonical_session(&session).ok_or_else(|| {
        "sessionId must be an MPSD session path: \
         /serviceconfigs/<scid>/sessionTemplates/<template>/sessions/<name>"
            .to_string()
    })?;
    Ok((key, optional_flag(&obj, "abortIfQueued")?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn session_paths() {
        let a = canonical_session("/serviceconfigs/ABC/sessionTemplates/quick/sessions/s1");
        let b = canonical_session("/serviceconfigs/abc/sessiontemplates/quick/session/s1");
        assert!(a.is_some());
        assert_eq!(a, b);
        assert!(canonical_session("/serviceconfigs/abc/sessiontemplates/quick/sessions/").is_none());
        assert!(canonical_session("serviceconfigs/abc/sessiontemplates/q/sessions/s").is_none());
        assert!(canonical_session("/serviceconfigs/abc/templates/q/sessions/s").is_none());
        assert!(canonical_session("s1").is_none());
    }

    #[test]
    fn bodies() {
        let p = "/serviceconfigs/a/sessionTemplates/t/sessions/n";
        let ok = |b: Value| parse_body(b.to_string().as_bytes());
        let abort = |b: Value| ok(b).unwrap().1;
        assert!(!abort(json!({"sessionId": p})));
        assert!(abort(json!({"sessionId": p, "abortIfQueued": true})));
        assert!(abort(json!({"sessionId": p, "abortIfQueued": "true"})));
        assert!(!abort(json!({"sessionId": p, "abortIfQueued": "false"})));
        assert!(!abort(json!({"sessionId": p, "abortIfQueued": null})));
        assert!(ok(json!({"sessionId": p, "abortIfQueued": 1})).is_err());
        assert!(ok(json!({"sessionId": p, "abortIfQueued": "yes"})).is_err());
        assert!(ok(json!({"sessionId": ""})).is_err());
        assert!(ok(json!({"sessionId": 5})).is_err());
        assert!(ok(json!({})).is_err());
        assert!(ok(json!([p])).is_err());
        assert!(parse_body(b"{").is_err());
    }
}
