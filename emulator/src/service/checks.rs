//! The checks every call shares, in order: contract version (400), Authorization (401), rate
//! limit (429), title allow list (403), Content-Type of calls with a body (415), body size (413).

use super::errors::{self, unauthorized};
use super::route::Route;
use super::Service;
use crate::http::{Request, Response, MAX_BODY};

/// Ok when the request passes every shared check, else the answer to send.
pub(crate) fn shared_checks(svc: &Service, req: &Request, route: &Route) -> Result<(), Response> {
    let call = route.call;
    let style = svc.settings.error_body_style;
    let want = call.contract();
    match req.header("x-xbl-contract-version") {
        Some(v) if v == want => {}
        Some(v) => {
            let msg = format!("unsupported x-xbl-contract-version {v:?}: {} speaks version {want}", call.name());
            return Err(svc.err(400, &msg));
        }
        None => return Err(svc.err(400, &format!("missing x-xbl-contract-version header (expected {want})"))),
    }
    let auth = match req.header("authorization") {
        None => return Err(unauthorized(style, "missing Authorization header")),
        Some(v) => v,
    };
    let Some(user) = xbl_user_hash(auth) else {
        return Err(unauthorized(style, "invalid Authorization header: expected XBL3.0 x=<userhash>;<token>"));
    };
    if svc.settings.revoked_tokens.iter().any(|t| t == auth) {
        return Err(unauthorized(style, "the token was revoked or has expired"));
    }
    if let Some(limit) = svc.settings.rate_limit {
        let over = svc.lock().rate_count(user, call.name(), limit.max_requests, limit.period);
        if let Some((current, retry_after)) = over {
            let period = limit.period.as_secs().max(1);
            return Err(errors::throttled(style, current, limit.max_requests, period)
                .header("Retry-After", retry_after.max(1).to_string()));
        }
    }
    if let Some(title_id) = route.title {
        let allowed = &svc.settings.allowed_titles;
        if !allowed.is_empty() && !allowed.contains(&title_id) {
            return Err(svc.err(403, &format!("the caller may not use title {title_id}")));
        }
    }
    if call.has_body() {
        let json_type = req.header("content-type").is_some_and(|ct| {
            let essence = ct.split(';').next().unwrap_or("").trim();
            essence.eq_ignore_ascii_case("application/json")
        });
        if !json_type {
            return Err(svc.err(415, "Content-Type must be application/json"));
        }
    }
    if req.body_too_large {
        return Err(svc.err(413, &format!("request body larger than {MAX_BODY} bytes")));
    }
    Ok(())
}

/// The user hash of `XBL3.0 x=<userhash>;<token>` when both parts are non-empty.
pub(crate) fn xbl_user_hash(value: &str) -> Option<&str> {
    let rest = value.strip_prefix("XBL3.0 x=")?;
    let (hash, token) = rest.split_once(';')?;
    (!hash.is_empty() && !token.trim().is_empty() && !hash.contains(char::is_whitespace)).then_some(hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_forms() {
        assert_eq!(xbl_user_hash("XBL3.0 x=123;abc"), Some("123"));
        assert!(xbl_user_hash("XBL3.0 x=;abc").is_none());
        assert!(xbl_user_hash("XBL3.0 x=123;").is_none());
        assert!(xbl_user_hash("XBL3.0 x=123").is_none());
        assert!(xbl_user_hash("Bearer abc").is_none());
        assert!(xbl_user_hash("XBL3.0 y=1;2").is_none());
        assert!(xbl_user_hash("XBL3.0 x=a b;2").is_none());
    }
}
