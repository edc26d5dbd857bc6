//! Error bodies, in the two shapes Xbox Live services answer with.

use crate::http::Response;
use crate::json::Json;
use crate::ErrorBodyStyle;

/// `source` of every error body.
pub(crate) const SOURCE: &str = "gsms-emulator";

/// Throttling figures of a 429 when no rate limit is configured (an injected 429).
pub(crate) const DEFAULT_MAX_REQUESTS: u32 = 30;
pub(crate) const DEFAULT_PERIOD_SECS: u64 = 15;

/// The `errorCode` of a status in [`ErrorBodyStyle::ErrorCode`].
fn error_code(status: u16) -> &'static str {
    match status {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        408 => "RequestTimeout",
        409 => "Conflict",
        413 => "PayloadTooLarge",
        415 => "UnsupportedMediaType",
        429 => "TooManyRequests",
        431 => "RequestHeaderFieldsTooLarge",
        500 => "InternalServerError",
        501 => "NotImplemented",
        502 => "BadGateway",
        503 => "ServiceUnavailable",
        504 => "GatewayTimeout",
        s if s < 500 => "ClientError",
        _ => "ServerError",
    }
}

fn body(style: ErrorBodyStyle, status: u16, description: &str) -> Json {
    match style {
        ErrorBodyStyle::Description => {
            Json::obj().with("code", status).with("source", SOURCE).with("description", description)
        }
        ErrorBodyStyle::ErrorCode => {
            Json::obj().with("errorCode", error_code(status)).with("errorMessage", description)
        }
    }
}

fn respond(status: u16, body: Json) -> Response {
    Response { status, headers: Vec::new(), body: body.to_bytes() }
}

/// An error answer.
pub(crate) fn error(style: ErrorBodyStyle, status: u16, description: &str) -> Response {
    if status == 429 {
        return throttled(style, DEFAULT_MAX_REQUESTS + 1, DEFAULT_MAX_REQUESTS, DEFAULT_PERIOD_SECS);
    }
    respond(status, body(style, status, description))
}

/// The throttling answer (without its Retry-After, which the caller adds).
pub(crate) fn throttled(style: ErrorBodyStyle, current: u32, max: u32, period_secs: u64) -> Response {
    let description = format!(
        "Rate limit exceeded: {current} requests in the last {period_secs} seconds, {max} allowed (gsms-emulator)"
    );
    let b = body(style, 429, &description)
        .with("limitType", "Rate")
        .with("currentRequests", current)
        .with("maxRequests", max)
        .with("periodInSeconds", period_secs);
    respond(429, b)
}

/// A 401 with its challenge.
pub(crate) fn unauthorized(style: ErrorBodyStyle, description: &str) -> Response {
    error(style, 401, description).header("WWW-Authenticate", "XBL3.0")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn parsed(r: &Response) -> Value {
        serde_json::from_slice(&r.body).unwrap()
    }

    #[test]
    fn shapes() {
        let r = error(ErrorBodyStyle::Description, 404, "no such thing");
        assert_eq!(r.body, br#"{"code":404,"source":"gsms-emulator","description":"no such thing"}"#.to_vec());
        let r = error(ErrorBodyStyle::ErrorCode, 415, "wrong type");
        assert_eq!(parsed(&r), json!({"errorCode": "UnsupportedMediaType", "errorMessage": "wrong type"}));
        let r = throttled(ErrorBodyStyle::Description, 11, 10, 15);
        let v = parsed(&r);
        assert_eq!(v["code"], 429);
        assert_eq!(v["limitType"], "Rate");
        assert_eq!(
            (v["currentRequests"].clone(), v["maxRequests"].clone(), v["periodInSeconds"].clone()),
            (json!(11), json!(10), json!(15))
        );
        assert!(v["description"].as_str().unwrap().starts_with("Rate limit exceeded"));
        let v = parsed(&error(ErrorBodyStyle::ErrorCode, 429, "ignored"));
        assert_eq!(v["errorCode"], "TooManyRequests");
        assert_eq!(v["maxRequests"], 30);
        let r = unauthorized(ErrorBodyStyle::Description, "no");
        assert_eq!(r.headers, vec![("WWW-Authenticate".to_string(), "XBL3.0".to_string())]);
    }
}
