//! The router: which call a method and path name.

/// One of the service's calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Call {
    Clusters,
    InlineClusters,
    TicketStatus,
    Variants,
    QosServers,
    SessionHosts,
    AllocationStatus,
}

impl Call {
    /// The name in fault filters, logs and state (one of [`crate::CALLS`]).
    pub fn name(self) -> &'static str {
        match self {
            Call::Clusters => "clusters",
            Call::InlineClusters => "inlineClusters",
            Call::TicketStatus => "ticketStatus",
            Call::Variants => "variants",
            Call::QosServers => "qosServers",
            Call::SessionHosts => "sessionHosts",
            Call::AllocationStatus => "allocationStatus",
        }
    }

    pub fn method(self) -> &'static str {
        match self {
            Call::TicketStatus | Call::QosServers | Call::AllocationStatus => "GET",
            _ => "POST",
        }
    }

    /// The `x-xbl-contract-version` the call speaks.
    pub fn contract(self) -> &'static str {
        match self {
            Call::Clusters | Call::Variants | Call::QosServers => "1",
            Call::InlineClusters => "2",
            Call::TicketStatus => "6",
            Call::SessionHosts | Call::AllocationStatus => "8",
        }
    }

    /// Calls with a JSON body (Content-Type checked).
    pub fn has_body(self) -> bool {
        self.method() == "POST"
    }
}

/// A request routed to a call.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Route {
    pub call: Call,
    /// The `{titleId}` of the path (all calls but QoS servers).
    pub title: Option<u32>,
    /// The percent-decoded `{ticketId}` or `{sessionId}` of the path.
    pub id: Option<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Routed {
    Found(Route),
    /// The path names a call, the method is not its.
    WrongMethod(Call),
    NotFound,
}

/// Routes a method and a path (without its query).
pub(crate) fn route(method: &str, path: &str) -> Routed {
    let Some(route) = match_path(path) else {
        return Routed::NotFound;
    };
    if method != route.call.method() {
        return Routed::WrongMethod(route.call);
    }
    Routed::Found(route)
}

fn match_path(path: &str) -> Option<Route> {
    let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    let found = |call, title, id| Some(Route { call, title, id });
    match segments.as_slice() {
        ["qosservers"] | ["xplatqosservers"] => found(Call::QosServers, None, None),
        ["titles", title, rest @ ..] => {
            let title = parse_u32_decimal(title)?;
            match rest {
                ["clusters"] => found(Call::Clusters, Some(title), None),
                ["inlineclusters"] => found(Call::InlineClusters, Some(title), None),
                ["variants"] => found(Call::Variants, Some(title), None),
                ["sessionhosts"] => found(Call::SessionHosts, Some(title), None),
                ["tickets", id, "status"] => found(Call::TicketStatus, Some(title), Some(decode_id(id)?)),
                ["sessions", id, "allocationStatus"] => {
                    found(Call::AllocationStatus, Some(title), Some(decode_id(id)?))
                }
                _ => None,
            }
        }
        _ => None,
    }
}

pub(crate) fn parse_u32_decimal(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A non-empty path segment, percent-decoded into UTF-8.
fn decode_id(segment: &str) -> Option<String> {
    let decoded = percent_decode(segment)?;
    (!decoded.is_empty()).then_some(decoded)
}

/// `%XX` escapes decoded (`+` stays a plus in a path); None when an escape or the UTF-8 is bad.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(method: &str, path: &str) -> Option<Route> {
        match route(method, path) {
            Routed::Found(r) => Some(r),
            _ => None,
        }
    }

    #[test]
    fn every_call() {
        let r = found("POST", "/titles/123/clusters").unwrap();
        assert_eq!((r.call, r.title, r.id), (Call::Clusters, Some(123), None));
        assert_eq!(found("POST", "/titles/4294967295/inlineclusters").unwrap().title, Some(u32::MAX));
        let r = found("GET", "/titles/1/tickets/a%2Fb%20c/status").unwrap();
        assert_eq!((r.call, r.id.as_deref()), (Call::TicketStatus, Some("a/b c")));
        assert_eq!(found("POST", "/titles/1/variants").unwrap().call, Call::Variants);
        assert_eq!(found("GET", "/qosservers").unwrap().call, Call::QosServers);
        assert_eq!(found("GET", "/xplatqosservers").unwrap().call, Call::QosServers);
        assert_eq!(found("POST", "/titles/1/sessionhosts").unwrap().call, Call::SessionHosts);
        let r = found("GET", "/titles/1/sessions/%E2%9C%93+x/allocationStatus").unwrap();
        assert_eq!((r.call, r.id.as_deref()), (Call::AllocationStatus, Some("\u{2713}+x")));
    }

    #[test]
    fn misses_and_methods() {
        for path in [
            "/",
            "/titles/4294967296/clusters",
            "/titles/+1/clusters",
            "/titles/0x10/clusters",
            "/titles//clusters",
            "/titles/1/clusters/x",
            "/titles/1/tickets//status",
            "/titles/1/tickets/%zz/status",
            "/titles/1/tickets/%ff/status",
            "/titles/1/sessions/s/allocationstatus",
            "/qosservers/",
            "/titles/1",
        ] {
            assert_eq!(route("POST", path), Routed::NotFound, "{path}");
            assert_eq!(route("GET", path), Routed::NotFound, "{path}");
        }
        assert_eq!(route("GET", "/titles/1/clusters"), Routed::WrongMethod(Call::Clusters));
        assert_eq!(route("POST", "/qosservers"), Routed::WrongMethod(Call::QosServers));
        assert_eq!(route("HEAD", "/titles/1/tickets/t/status"), Routed::WrongMethod(Call::TicketStatus));
    }
}
