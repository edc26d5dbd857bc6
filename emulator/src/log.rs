//! Log lines on stderr: timestamped text, or one JSON object per line ([`LogFormat`]).
//!
//! Requests (outside `/_emulator/`) and game-server events (started, ready, output, failed,
//! exited, stopped) are logged; admin requests are not.

use std::io::Write;
use std::time::{Duration, SystemTime};

use serde_json::{json, Map, Value};

use crate::LogFormat;

/// An RFC 3339 UTC timestamp with milliseconds: `2026-11-01T10:00:00.123Z`.
pub(crate) fn timestamp(t: SystemTime) -> String {
    let dt = time::OffsetDateTime::from(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.millisecond()
    )
}

/// What is logged of one request.
pub(crate) struct RequestLine<'a> {
    pub time: SystemTime,
    pub method: &'a str,
    pub target: &'a str,
    /// 0 when the connection was dropped by a fault.
    pub status: u16,
    pub latency: Duration,
    pub call: Option<&'static str>,
    pub title: Option<u32>,
    /// `("sessionId", ..)` or `("ticketId", ..)`.
    pub subject: Option<(&'static str, &'a str)>,
    pub correlation_id: &'a str,
    /// The fault rule's effect, e.g. `"503"`, `"drop"`, `"latency=250ms"`.
    pub fault: Option<&'a str>,
}

/// Writes log lines when enabled.
pub(crate) struct Logger {
    pub enabled: bool,
    pub format: LogFormat,
}

impl Logger {
    fn write(&self, line: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    }

    pub fn request(&self, r: &RequestLine<'_>) {
        if !self.enabled {
            return;
        }
        let status = if r.status == 0 { "dropped".to_string() } else { r.status.to_string() };
        let latency_ms = r.latency.as_secs_f64() * 1000.0;
        match self.format {
            LogFormat::Human => {
                let mut line = format!(
                    "{} {} {} {} {:.1}ms {}",
                    timestamp(r.time),
                    r.method,
                    r.target,
                    status,
                    latency_ms,
                    r.call.unwrap_or("-")
                );
                if let Some(t) = r.title {
                    line.push_str(&format!(" title={t}"));
                }
                if let Some((kind, id)) = r.subject {
                    let key = if kind == "ticketId" { "ticket" } else { "session" };
                    line.push_str(&format!(" {key}={id}"));
                }
                if let Some(f) = r.fault {
                    line.push_str(&format!(" fault={f}"));
                }
                line.push_str(&format!(" corr={}", r.correlation_id));
                self.write(&line);
            }
            LogFormat::Json => {
                let mut m = Map::new();
                m.insert("timestamp".into(), json!(timestamp(r.time)));
                m.insert("event".into(), json!("request"));
                m.insert("call".into(), json!(r.call));
                m.insert("title".into(), json!(r.title));
                if let Some((kind, id)) = r.subject {
                    m.insert(kind.into(), json!(id));
                }
                m.insert("method".into(), json!(r.method));
                m.insert("path".into(), json!(r.target));
                m.insert("status".into(), if r.status == 0 { Value::Null } else { json!(r.status) });
                m.insert("dropped".into(), json!(r.status == 0));
                m.insert("latencyMs".into(), json!((latency_ms * 1000.0).round() / 1000.0));
                m.insert("correlationId".into(), json!(r.correlation_id));
                m.insert("fault".into(), json!(r.fault));
                self.write(&Value::Object(m).to_string());
            }
        }
    }

    /// A game-server event: `event` (e.g. `"serverReady"`), the server it is about, fields for
    /// the JSON form, and the human text.
    pub fn event(&self, event: &str, server: &str, fields: &[(&str, Value)], text: &str) {
        if !self.enabled {
            return;
        }
        let now = SystemTime::now();
        match self.format {
            LogFormat::Human => self.write(&format!("{} {server}: {text}", timestamp(now))),
            LogFormat::Json => {
                let mut m = Map::new();
                m.insert("timestamp".into(), json!(timestamp(now)));
                m.insert("event".into(), json!(event));
                m.insert("server".into(), json!(server));
                for (k, v) in fields {
                    m.insert((*k).into(), v.clone());
                }
                m.insert("message".into(), json!(text));
                self.write(&Value::Object(m).to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc_with_millis() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(timestamp(t), "2023-11-14T22:13:20.123Z");
        assert_eq!(timestamp(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }
}
