//! Wire tolerance, in one place: how every answer of the service is read.
//!
//! The service (and its documentation, and Microsoft's own client) disagree on types: numbers come
//! as strings or numbers, enums in any case, booleans as "True". These helpers are the rules
//! (docs/PROTOCOL.md, "Reading answers"), used through `#[serde(deserialize_with = ...)]` by every
//! result type, so that one answer model per call is both the wire struct and the result.
//!
//! Fields are read raw (`serde_json::value::RawValue`) where a type may vary, so that a value the
//! JSON library cannot hold (`1e400`) is "unparsable" (the field's default), never a broken answer.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

/// Poll interval reported when the answer has none (or an unusable one).
pub const DEFAULT_POLL_INTERVAL_MS: u32 = 1000;
/// Largest 2xx body accepted.
pub const MAX_BODY_BYTES: u64 = 1024 * 1024;

/// Decodes a 2xx body into `T`. `Err` is the protocol error's message. Never inlined: each answer
/// type's serde code is then in the binary once, not once per caller (the .so budget).
#[inline(never)]
pub fn decode<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, String> {
    let text = object_text(body)?;
    // (`text` starts like an object: whatever serde says, it is not the documented one.)
    serde_json::from_str(text).map_err(|e| format!("response body is not the documented JSON object: {e}"))
}

/// The body as text if it is UTF-8 and starts like an object (serde would also build a struct
/// from an array).
fn object_text(body: &[u8]) -> Result<&str, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("response body is not valid UTF-8 ({e})"))?;
    if !text.trim_start().starts_with('{') {
        let start: String = text.trim_start().chars().take(16).collect();
        return Err(format!("response body is not a JSON object (it starts with {start:?})"));
    }
    Ok(text)
}

/// The raw JSON text of a value, whatever its type (skipping it fully).
fn raw<'de, D: Deserializer<'de>>(d: D) -> Result<&'de str, D::Error> {
    <&'de RawValue>::deserialize(d).map(RawValue::get)
}

/// The value as text when it is a JSON string; `None` for any other type. A string without
/// escapes is borrowed as it stands (`raw` is valid JSON: serde_json checked it).
fn string_of(raw: &str) -> Option<Cow<'_, str>> {
    let t = raw.trim();
    if !t.starts_with('"') {
        return None;
    }
    if t.len() >= 2 && t.ends_with('"') && !t.contains('\\') {
        return Some(Cow::Borrowed(&t[1..t.len() - 1]));
    }
    serde_json::from_str::<String>(raw).ok().map(Cow::Owned)
}

/// An unsigned integer from a number or numeric string: saturated at `max`, truncated; negative,
/// non-finite or unparsable -> `None`.
fn unsigned_of(raw: &str, max: u64) -> Option<u64> {
    let text = string_of(raw).unwrap_or(Cow::Borrowed(raw.trim()));
    let t = text.trim();
    if let Ok(v) = t.parse::<u64>() {
        return Some(v.min(max));
    }
    // Rust's float parser also reads `inf`, `infinity` and `nan` (any case): refused as not
    // finite; every finite form it reads is digits, a sign, `.` and `e` only.
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Some(if v >= max as f64 { max } else { v as u64 }),
        _ => None,
    }
}

/// `pollIntervalMilliseconds`: a string or a number; negative, unparsable or of another type ->
/// 1000; beyond u32 -> u32::MAX (the poll wait is capped anyway).
pub fn interval<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    Ok(unsigned_of(raw(d)?, u32::MAX as u64).map_or(DEFAULT_POLL_INTERVAL_MS, |v| v as u32))
}

/// A count or id sent as a number or a numeric string; anything else reads as 0 (never fails).
pub fn number_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    Ok(unsigned_of(raw(d)?, u32::MAX as u64).unwrap_or(0) as u32)
}

/// As [`number_u32`], 64-bit.
pub fn number_u64<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(unsigned_of(raw(d)?, u64::MAX).unwrap_or(0))
}

/// A flag sent as a boolean or as "True"/"False" (any case); anything else reads as false.
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let r = raw(d)?;
    // JSON `false` (not a string) falls to the last arm and reads as false.
    Ok(match r.trim() {
        "true" => true,
        _ => string_of(r).is_some_and(|s| s.trim().eq_ignore_ascii_case("true")),
    })
}

/// An enum sent as a string, matched case-insensitively by the caller: the text, or `None` when
/// the value is not a string (then the enum reads as unknown).
pub fn enum_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(string_of(raw(d)?).map(Cow::into_owned))
}

/// A text field: a string (no NUL: it reaches C as a C string), or null/absent -> "". Any other
/// type is a protocol error (a host name of 5 is not a host name).
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let s = Option::<String>::deserialize(d)?.unwrap_or_default();
    if s.contains('\0') {
        return Err(de::Error::custom("a text field contains a NUL character"));
    }
    Ok(s)
}

/// An identifier that may come as a string or a number (kept as sent); null/absent -> "".
pub fn id_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let r = raw(d)?;
    let t = r.trim();
    let s = match string_of(t) {
        Some(s) => s.into_owned(),
        None if t.bytes().next().is_some_and(|b| b == b'-' || b.is_ascii_digit()) => t.to_string(),
        None => String::new(),
    };
    if s.contains('\0') {
        return Err(de::Error::custom("an identifier contains a NUL character"));
    }
    Ok(s)
}

/// A port mapping: a name and its internal and external ports.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct PortMapping {
    pub name: String,
    pub internal: u32,
    pub external: u32,
}

/// A port: a number or a numeric string in 0..=65535; anything else is a protocol error (a wrong
/// port would send the game to the wrong place).
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
    #[serde(rename = "Key", deserialize_with = "text")]
    key: String,
    #[serde(rename = "Value")]
    value: PortValue,
}

/// `portMappings`: an array of `{"Key": name, "Value": {"internal": n, "external": n}}`; null,
/// absent or an object in its place -> no ports; a string or a number in its place, or a bad
/// entry, is a protocol error.
/// Read in one pass (not as raw text parsed again).
pub fn ports<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PortMapping>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<PortMapping>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an array of port mappings")
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> Result<Vec<PortMapping>, A::Error> {
            let mut out = Vec::with_capacity(s.size_hint().unwrap_or(0).min(16));
            while let Some(e) = s.next_element::<PortEntry>()? {
                out.push(PortMapping { name: e.key, internal: e.value.internal.0, external: e.value.external.0 });
            }
            Ok(out)
        }
        fn visit_map<A: de::MapAccess<'de>>(self, mut m: A) -> Result<Vec<PortMapping>, A::Error> {
            while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(Vec::new())
        }
        // JSON null: serde_json hands it to `visit_unit` (never `visit_none`) in `deserialize_any`.
        fn visit_unit<E: de::Error>(self) -> Result<Vec<PortMapping>, E> {
            Ok(Vec::new())
        }
    }
    d.deserialize_any(V)
}

/// A list whose entries are objects of type `T`; null or absent -> empty; entries that are not
/// objects are skipped; a non-array in its place reads as empty (lists are advisory; a broken one
/// must not lose the rest of the answer).
pub fn list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    object_entries(raw(d)?)
        .map_err(de::Error::custom)?
        .into_iter()
        .map(|r| serde_json::from_str::<T>(r).map_err(de::Error::custom))
        .collect()
}

/// The raw text of the entries of a list that are objects (the rest of [`list`]'s rule), without
/// the entry type: one copy in the binary, not one per list type.
fn object_entries(raw: &str) -> Result<Vec<&str>, String> {
    if !raw.trim_start().starts_with('[') {
        return Ok(Vec::new());
    }
    let entries: Vec<&RawValue> = serde_json::from_str(raw).map_err(|e| e.to_string())?;
    Ok(entries.into_iter().map(RawValue::get).filter(|r| r.trim_start().starts_with('{')).collect())
}

/// The human message of an error body, never failing. Understood shapes: Xbox Live's
/// `{"code","source","description"}`, `{"errorCode","errorMessage"}`, the throttling answer
/// (`{"code":429,...,"currentRequests","maxRequests","periodInSeconds"}`), and the common
/// `message`/`error_description`/`error`; otherwise the start of the text. The body comes from the
/// server: control characters become spaces (no forged log lines, no terminal escapes) and the
/// length is capped. (Secrets are removed before the body gets here.)
pub fn error_body_message(body: &[u8]) -> Option<String> {
    if body.is_empty() {
        return None;
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        let field = |k: &str| match v.get(k) {
            Some(serde_json::Value::String(s)) => clean_text(s, 512),
            Some(n @ serde_json::Value::Number(_)) => Some(n.to_string()),
            _ => None,
        };
        let message =
            ["message", "errorMessage", "description", "error_description", "error"].iter().find_map(|k| field(k));
        if let Some(mut m) = message {
            if let Some(code) = field("errorCode") {
                m = format!("{m} (error code {code})");
            }
            if let (Some(cur), Some(max), Some(per)) =
                (field("currentRequests"), field("maxRequests"), field("periodInSeconds"))
            {
                m = format!("{m} ({cur} requests, {max} allowed per {per} s)");
            }
            return Some(m);
        }
    }
    clean_text(&String::from_utf8_lossy(body), 200)
}

/// At most `max_chars` characters of `s`, control characters replaced by spaces, trimmed; `None`
/// when nothing is left.
pub fn clean_text(s: &str, max_chars: usize) -> Option<String> {
    let t: String = s.chars().take(max_chars).map(|c| if c.is_control() { ' ' } else { c }).collect();
    let t = t.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Percent-encodes a caller-supplied path segment (everything but RFC 3986's unreserved characters).
pub fn path_segment(s: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    utf8_percent_encode(s, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Default, Debug)]
    #[serde(default)]
    struct Probe {
        #[serde(deserialize_with = "interval")]
        poll: u32,
        #[serde(deserialize_with = "number_u32")]
        n32: u32,
        #[serde(deserialize_with = "number_u64")]
        n64: u64,
        #[serde(deserialize_with = "flag")]
        flag: bool,
        #[serde(deserialize_with = "enum_text")]
        state: Option<String>,
        #[serde(deserialize_with = "id_text")]
        id: String,
        #[serde(deserialize_with = "ports")]
        ports: Vec<PortMapping>,
    }

    fn probe(json: &str) -> Probe {
        decode(json.as_bytes()).unwrap()
    }

    #[test]
    fn numbers_come_as_strings_or_numbers_and_default_when_unparsable() {
        for (v, want) in [
            ("\"250\"", 250),
            ("250", 250),
            ("250.7", 250),
            ("\" 7 \"", 7),
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
            ("\"1e3\"", 1000),
            ("\"+40\"", 40),
            // Words Rust's float parser reads: not finite, so not a number here.
            ("\"inf\"", 1000),
            ("\"Infinity\"", 1000),
            ("\"-inf\"", 1000),
            ("\"NaN\"", 1000),
            ("\"\"", 1000),
            ("\"0x10\"", 1000),
        ] {
            assert_eq!(probe(&format!(r#"{{"poll":{v}}}"#)).poll, want, "{v}");
        }
        assert_eq!(probe(r#"{"n32":"12","n64":"18446744073709551615"}"#).n32, 12);
        assert_eq!(probe(r#"{"n64":"18446744073709551615"}"#).n64, u64::MAX);
        assert_eq!(probe(r#"{"n32":"x","n64":[1]}"#).n32, 0);
        assert_eq!(probe(r#"{"n32":"nan","n64":"infinity"}"#).n32, 0);
        assert_eq!(probe(r#"{"n64":"INF"}"#).n64, 0);
    }

    #[test]
    fn flags_enums_and_ids_are_tolerant() {
        assert!(probe(r#"{"flag":"True"}"#).flag);
        assert!(probe(r#"{"flag":"TRUE"}"#).flag);
        assert!(probe(r#"{"flag":true}"#).flag);
        assert!(!probe(r#"{"flag":"False"}"#).flag);
        assert!(!probe(r#"{"flag":false}"#).flag);
        assert!(!probe(r#"{"flag":1}"#).flag);
        assert_eq!(probe(r#"{"state":"queued"}"#).state.as_deref(), Some("queued"));
        assert_eq!(probe(r#"{"state":7}"#).state, None);
        assert_eq!(probe(r#"{"state":1e400}"#).state, None);
        assert_eq!(probe(r#"{"id":123}"#).id, "123");
        assert_eq!(probe(r#"{"id":"abc"}"#).id, "abc");
        assert_eq!(probe(r#"{"id":{"x":1}}"#).id, "");
    }

    #[test]
    fn ports_accept_numeric_strings_and_refuse_out_of_range() {
        let p = probe(r#"{"ports":[{"Key":"G","Value":{"internal":"7777","external":" 1 "}}]}"#).ports;
        assert_eq!(p, vec![PortMapping { name: "G".into(), internal: 7777, external: 1 }]);
        assert!(probe(r#"{"ports":{"Key":"G"}}"#).ports.is_empty(), "an object in its place: no ports");
        assert!(probe(r#"{"ports":null}"#).ports.is_empty());
        for bad in [
            r#"{"ports":[{"Key":"G","Value":{"internal":70000,"external":1}}]}"#,
            r#"{"ports":[{"Key":"G","Value":{"internal":-1,"external":1}}]}"#,
            r#"{"ports":[{"Key":"G","Value":{"internal":"x","external":1}}]}"#,
            r#"{"ports":[{"Key":"G"}]}"#,
            r#"{"ports":[{"Key":"a\u0000b","Value":{"internal":1,"external":1}}]}"#,
            r#"{"ports":"nope"}"#,
        ] {
            assert!(decode::<Probe>(bad.as_bytes()).is_err(), "{bad}");
        }
        // The message names the port as the server sent it (a negative one too).
        let e = decode::<Probe>(br#"{"ports":[{"Key":"G","Value":{"internal":-1,"external":1}}]}"#).err().unwrap();
        assert!(e.contains("port -1 is out of range"), "{e}");
        // A value of the wrong type says what was expected in its place.
        let e = decode::<Probe>(br#"{"ports":"nope"}"#).err().unwrap();
        assert!(e.contains("expected an array of port mappings"), "{e}");
        let e = decode::<Probe>(br#"{"ports":[{"Key":"G","Value":{"internal":true,"external":1}}]}"#).err().unwrap();
        assert!(e.contains("expected a port number 0..=65535 (number or numeric string)"), "{e}");
    }

    #[test]
    fn error_messages_come_from_every_documented_shape() {
        assert_eq!(error_body_message(br#"{"code":400,"message":"bad session"}"#).unwrap(), "bad session");
        assert_eq!(
            error_body_message(br#"{"code":404,"source":"gsms","description":"no such title"}"#).unwrap(),
            "no such title"
        );
        assert_eq!(
            error_body_message(br#"{"errorCode":"TitleNotFound","errorMessage":"no such title"}"#).unwrap(),
            "no such title (error code TitleNotFound)"
        );
        assert_eq!(
            error_body_message(
                br#"{"code":429,"source":"x","description":"Rate limit exceeded","limitType":"Rate","currentRequests":"11","maxRequests":10,"periodInSeconds":"15"}"#
            )
            .unwrap(),
            "Rate limit exceeded (11 requests, 10 allowed per 15 s)"
        );
        assert_eq!(error_body_message(b"Service Unavailable\r\n").unwrap(), "Service Unavailable");
        assert_eq!(error_body_message(b""), None);
        assert_eq!(error_body_message(br#"{"message":"a\nb\u001b[2J"}"#).unwrap(), "a b [2J");
        assert_eq!(
            error_body_message(format!("{{\"message\":\"{}\"}}", "x".repeat(10_000)).as_bytes()).unwrap().len(),
            512
        );
        assert_eq!(error_body_message(br#"{"message":"\r\n","error":"e"}"#).unwrap(), "e");
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(path_segment("abc-1.2_3~"), "abc-1.2_3~");
        assert_eq!(path_segment("a/b c?d#e%"), "a%2Fb%20c%3Fd%23e%25");
        assert_eq!(path_segment("é"), "%C3%A9");
    }
}
