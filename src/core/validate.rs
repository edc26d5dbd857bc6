//! Input checks shared by every entry point: header values and the base URL.

use super::error::InvalidArgument;

/// Longest URL (base URL plus path) the library sends.
pub const MAX_URL_BYTES: usize = 2048;

/// A header value we are willing to send: non-empty, visible ASCII or space only. No control
/// characters (CR, LF, NUL, DEL, tab...), so a caller can never inject a header or split a request;
/// no byte above 0x7e, which the HTTP stack refuses when it builds the request (so every call would
/// fail later with a network error). Setters and the transport both use this one function.
pub fn header_value(what: &str, v: &str) -> Result<(), InvalidArgument> {
    if v.is_empty() {
        return Err(InvalidArgument(format!("{what} must not be empty")));
    }
    if let Some(pos) = v.bytes().position(|b| !(0x20..=0x7e).contains(&b)) {
        let b = v.as_bytes()[pos];
        // Outside 0x20..=0x7e, an ASCII byte is a control character (0x00-0x1f, 0x7f).
        let kind = if b.is_ascii() { "a control character" } else { "a non-ASCII character" };
        return Err(InvalidArgument(format!(
            "{what} contains {kind} (byte 0x{b:02x} at offset {pos}); header values must be visible ASCII or space"
        )));
    }
    Ok(())
}

/// A whole URL we are willing to send: at most [`MAX_URL_BYTES`] bytes.
pub fn url_length(what: &str, url: &str) -> Result<(), InvalidArgument> {
    if url.len() > MAX_URL_BYTES {
        return Err(InvalidArgument(format!(
            "{what} is {} bytes long; URLs are limited to {MAX_URL_BYTES} bytes",
            url.len()
        )));
    }
    Ok(())
}

/// A text field of a request (sent in a JSON body or as a path segment): non-empty, no control
/// characters. `what` names it in the message ("ticketId must not be empty").
pub fn field(what: &str, v: &str) -> Result<(), InvalidArgument> {
    if v.is_empty() {
        return Err(InvalidArgument(format!("{what} must not be empty")));
    }
    if v.chars().any(char::is_control) {
        return Err(InvalidArgument(format!("{what} must not contain control characters")));
    }
    Ok(())
}

/// A required field that was never set.
pub fn required(what: &str, setter: &str, v: &str) -> Result<(), InvalidArgument> {
    if v.is_empty() {
        return Err(InvalidArgument(format!("the request has no {what}: call {setter}")));
    }
    Ok(())
}

/// Normalises and checks a base URL: `http://` or `https://`, a host, an optional port and path
/// prefix, no user info, query or fragment. Returns it without a trailing slash.
pub fn base_url(url: &str) -> Result<String, InvalidArgument> {
    url_length("the base URL", url)?;
    let bad = |why: &str| Err(InvalidArgument(format!("base URL {url:?} is invalid: {why}")));
    if url.bytes().any(|b| b <= 0x20 || b == 0x7f) {
        return bad("it contains a space or a control character");
    }
    let rest = if let Some(r) = url.strip_prefix("https://") {
        r
    } else if let Some(r) = url.strip_prefix("http://") {
        r
    } else {
        return bad("it must start with http:// or https://");
    };
    if rest.contains('?') || rest.contains('#') {
        return bad("it must not have a query or fragment");
    }
    let authority = rest.split('/').next().unwrap_or("");
    if authority.is_empty() {
        return bad("it has no host");
    }
    if authority.contains('@') {
        return bad("user info is not allowed");
    }
    let uri: http::Uri = match url.parse() {
        Ok(u) => u,
        Err(e) => return bad(&e.to_string()),
    };
    match uri.host() {
        Some(h) if !h.is_empty() => {}
        _ => return bad("it has no host"),
    }
    if let Some(a) = uri.authority() {
        if a.as_str().ends_with(':') {
            return bad("empty port");
        }
    }
    // The port, if any, follows the last ':' outside an IPv6 literal's brackets.
    let after_host = authority.rsplit(']').next().unwrap_or(authority);
    if let Some((_, port)) = after_host.rsplit_once(':') {
        match port.parse::<u16>() {
            Ok(n) if n > 0 => {}
            _ => return bad("the port must be 1..=65535"),
        }
    }
    Ok(url.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_with_control_characters_are_rejected() {
        assert!(header_value("t", "XBL3.0 x=a;b").is_ok());
        for bad in ["", "a\rb", "a\nb", "a\0b", "a\tb", "a\x7fb", "caf\u{e9}", "a\u{85}b", "\u{202e}x"] {
            assert!(header_value("t", bad).is_err(), "{bad:?}");
        }
        assert!(header_value("t", "a\u{85}b").unwrap_err().0.contains("non-ASCII"));
        // The message names the kind of byte and where it is.
        for (bad, kind, at) in [
            ("a\tb", "a control character (byte 0x09", 1),
            ("ab\x7f", "a control character (byte 0x7f", 2),
            ("\x1f", "a control character (byte 0x1f", 0),
            ("x\u{e9}", "a non-ASCII character (byte 0xc3", 1),
        ] {
            let m = header_value("t", bad).unwrap_err().0;
            assert!(m.contains(kind) && m.contains(&format!("at offset {at})")), "{bad:?}: {m}");
        }
        assert!(header_value("t", " a b ").is_ok(), "spaces are allowed");
    }

    #[test]
    fn base_urls_are_checked_and_normalised() {
        assert_eq!(base_url("http://127.0.0.1:8080/").unwrap(), "http://127.0.0.1:8080");
        assert_eq!(base_url("https://gameserverms.xboxlive.com").unwrap(), "https://gameserverms.xboxlive.com");
        assert_eq!(base_url("https://h/prefix").unwrap(), "https://h/prefix");
        for bad in [
            "",
            "ftp://x",
            "http://",
            "http:///x",
            "http://u:p@h",
            "http://h?q=1",
            "http://h#f",
            "http://h x",
            "http://h:99999",
            "http://h:",
            "gameserverms.xboxlive.com",
            format!("http://h/{}", "p".repeat(MAX_URL_BYTES)).as_str(),
        ] {
            assert!(base_url(bad).is_err(), "{bad:?}");
        }
        // Spaces and control characters are named as such, wherever they are (the URL parser
        // would refuse some of them later, with a message that does not say which byte).
        for bad in ["http://h x", " http://h", "http://h/a\tb", "http://h/\n", "http://h/\x7f", "http://h\0"] {
            let e = base_url(bad).unwrap_err().0;
            assert!(e.ends_with("is invalid: it contains a space or a control character"), "{bad:?}: {e}");
        }
        // A port without a host: the URL parses, with an empty host.
        let e = base_url("http://:8080/x").unwrap_err().0;
        assert!(e.ends_with("is invalid: it has no host"), "{e}");
    }
}
