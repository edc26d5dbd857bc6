//! Hostile servers for the rest of the family: tests/hostile.rs's faults, played by the same
//! raw-socket server (tests/support/raw_server.rs), against every other call of the service
//! (variants, QoS servers, inline clusters, ticket status, session hosts, allocation status), the
//! clusters call included as the baseline. Each test plays one fault against the table of
//! [`targets`]: the same hostile answer for every call and, for the two following calls
//! (`allocate_inline_cluster`, `allocate_session_host`), also on their second exchange (the ticket
//! status or allocation status poll) after a good, Queued first answer.
//!
//! Whatever the server does, the call ends with the status docs/PROTOCOL.md gives, after the
//! attempts it says, within a time bound, with bounded memory, and the Authorization token never
//! appears in an error message, a result (raw_json included) or a log line: every run checks that.
//!
//! Time bounds are generous (a loaded 2-core CI machine): they prove "near the configured timeout,
//! not later" and "no spin", not exact latencies.

mod common;
#[path = "support/memory.rs"]
mod memory;
#[path = "support/raw_server.rs"]
mod raw_server;

use std::io::Write;
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use gsms::core::call;
use gsms::core::calls::inline_clusters::create_inline_cluster;
use gsms::core::calls::qos_servers::get_qos_servers;
use gsms::core::calls::session_hosts::create_session_host;
use gsms::core::calls::tickets::get_ticket_status;
use gsms::core::calls::variants::get_variants;
use gsms::core::{
    AllocateInlineCluster, AllocateSessionHost, CallInfo, GetAllocationStatus, InlineClusterRequest, InlineField,
    PortMapping, SessionHostRequest, VariantsRequest,
};
use memory::*;
use raw_server::*;

const SESSION: &str = "6f0c6c42-0000-4000-8000-000000000001";
const TICKET: &str = "ticket-1";
/// The token part of common's TOKEN (what follows the `;`): no string the client exposes may hold it.
const SECRET: &str = "eyJhbGciOiJSUzI1NiJ9.secret-token-value";
/// A good first answer of a following call: not final, poll again in 100 ms (the floor).
const QUEUED: &str = r#"{"fulfillmentState":"Queued","pollIntervalMilliseconds":100}"#;
const QUEUED_200: (&str, &str) = ("200 OK", QUEUED);
/// A session host POST's 409: the request exists, its host is not Active yet (followed, after the
/// default 1000 ms: a 409 carries no interval).
const CONFLICT_409: (&str, &str) = ("409 Conflict", r#"{"code":409,"description":"not active yet"}"#);

// ---------------------------------------------------------------------------------------------
// The table of calls
// ---------------------------------------------------------------------------------------------

/// What a call ended with: its info, and the text fields of its result (empty when nothing of a
/// refused answer was kept).
struct Outcome {
    info: CallInfo,
    texts: Vec<String>,
    debug: String,
}

fn outcome<T: std::fmt::Debug + std::ops::Deref<Target = CallInfo>>(r: &T, texts: Vec<String>) -> Outcome {
    Outcome {
        info: (**r).clone(),
        texts: texts.into_iter().filter(|t| !t.is_empty()).collect(),
        debug: format!("{r:?}"),
    }
}

fn port_names(p: &[PortMapping]) -> impl Iterator<Item = String> + '_ {
    p.iter().map(|p| p.name.clone())
}

/// One call of the table.
struct Target {
    name: &'static str,
    /// Exchanges answered well (with `first`) before the hostile one: 1 for the poll of a
    /// following call, else 0.
    before: usize,
    /// The good, not final first answer of a following call: status line and body.
    first: (&'static str, &'static str),
    /// How long the call waits before its hostile exchange (the poll wait after `first`).
    lead: Duration,
    /// How the hostile exchange's request line starts.
    line: &'static str,
    /// A final, good answer to the hostile exchange.
    good: &'static str,
    /// A final, good answer with a text field between these two halves (its JSON value).
    text_at: (&'static str, &'static str),
    /// The hostile exchange is a ticket status (an Error status ends a following call).
    ticket: bool,
    run: fn(&Client) -> Outcome,
}

impl Target {
    fn body_with_text(&self, value: &[u8]) -> Vec<u8> {
        [self.text_at.0.as_bytes(), value, self.text_at.1.as_bytes()].concat()
    }
}

fn opts() -> CallOptions<'static> {
    CallOptions::default()
}

fn inline_req() -> InlineClusterRequest {
    let mut r = InlineClusterRequest::new(TITLE);
    r.set(InlineField::ServiceConfigId, "00000000-0000-0000-0000-0000000000aa").unwrap();
    r.set(InlineField::SandboxId, "XDKS.1").unwrap();
    r.set(InlineField::TicketId, TICKET).unwrap();
    r.set(InlineField::GsiSetId, "9c4a1d7e-0000-4000-8000-00000000c001").unwrap();
    r.set(InlineField::GameVariantId, "3b0e7f52-0000-4000-8000-00000000b001").unwrap();
    r.set(InlineField::Location, "West US").unwrap();
    r.set_max_allowed_players(8).unwrap();
    r
}

fn host_req() -> SessionHostRequest {
    let mut r = SessionHostRequest::new(TITLE);
    r.set_session_id(SESSION).unwrap();
    r.set_cloud_game_id("gsi-set-1").unwrap();
    r.add_location("West US").unwrap();
    r
}

fn cluster_outcome(r: &ClusterResult) -> Outcome {
    let mut t = vec![r.host_name.clone(), r.region.clone(), r.secure_context.clone()];
    t.extend(port_names(&r.ports));
    outcome(r, t)
}

fn host_outcome(r: &gsms::core::SessionHostResult) -> Outcome {
    let mut t = vec![
        r.host_name.clone(),
        r.region.clone(),
        r.secure_context.clone(),
        r.session_host_id.clone(),
        r.session_id.clone(),
        r.description.clone(),
        r.cluster_id.clone(),
        r.ticket_id.clone(),
        r.game_host_id.clone(),
    ];
    t.extend(port_names(&r.ports));
    outcome(r, t)
}

const CLUSTER_GOOD: &str = r#"{"fulfillmentState":"Fulfilled","hostName":"10.0.0.7","region":"WestUS","portMappings":[{"Key":"GameData","Value":{"internal":7777,"external":31000}}]}"#;
const CLUSTER_TEXT: (&str, &str) = (r#"{"fulfillmentState":"Fulfilled","region":"WestUS","hostName":"#, "}");
const TICKET_GOOD: &str =
    r#"{"status":"Active","ticketId":"ticket-1","hostName":"10.0.0.7","region":"WestUS","description":"ok"}"#;
const TICKET_TEXT: (&str, &str) = (r#"{"status":"Active","hostName":"10.0.0.7","region":"#, "}");
const HOST_GOOD: &str =
    r#"{"fulfillmentState":"Fulfilled","hostName":"10.0.0.7","region":"WestUS","sessionHostId":"sh-1"}"#;
const HOST_TEXT: (&str, &str) = (r#"{"fulfillmentState":"Fulfilled","sessionHostId":"sh-1","hostName":"#, "}");
const STATUS_GOOD: &str = r#"{"status":"Fulfilled","hostName":"10.0.0.7","region":"WestUS","sessionHostId":"sh-1"}"#;
const STATUS_TEXT: (&str, &str) = (r#"{"status":"Fulfilled","sessionHostId":"sh-1","hostName":"#, "}");

fn targets() -> Vec<Target> {
    vec![
        Target {
            name: "create_cluster (baseline)",
            before: 0,
            first: QUEUED_200,
            lead: Duration::ZERO,
            line: "POST /titles/123456789/clusters ",
            good: CLUSTER_GOOD,
            text_at: CLUSTER_TEXT,
            ticket: false,
            run: |c| cluster_outcome(&create(c, &request("hostile-family"))),
        },
        Target {
            name: "get_variants",
            before: 0,
            first: QUEUED_200,
            lead: Duration::ZERO,
            line: "POST /titles/123456789/variants ",
            good: r#"{"variants":[{"gamevariantId":"v1","name":"Ranked","rank":1}],"variantSchemas":[],"gsiSets":[{"gsiSetId":"g1","gsiSetName":"G"}]}"#,
            text_at: (r#"{"variants":[{"gamevariantId":"v1","name":"#, "}]}"),
            ticket: false,
            run: |c| {
                let r = call::run(get_variants(&VariantsRequest::new(TITLE)), c, &opts());
                let mut t = Vec::new();
                for v in &r.variants {
                    t.extend([v.id.clone(), v.name.clone(), v.schema_id.clone()]);
                }
                for s in &r.schemas {
                    t.extend([s.id.clone(), s.name.clone(), s.content.clone()]);
                }
                for g in &r.gsi_sets {
                    t.extend([g.id.clone(), g.name.clone(), g.schema_id.clone()]);
                    t.extend(g.tags.iter().flat_map(|t| [t.name.clone(), t.value.clone()]));
                }
                outcome(&r, t)
            },
        },
        Target {
            name: "get_qos_servers",
            before: 0,
            first: QUEUED_200,
            lead: Duration::ZERO,
            line: "GET /xplatqosservers ",
            good: r#"{"qosServers":[{"serverFqdn":"127.0.0.1:3075","serverSecureDeviceAddress":"AA==","targetLocation":"West US"}]}"#,
            text_at: (r#"{"qosServers":[{"serverFqdn":"127.0.0.1:3075","targetLocation":"#, "}]}"),
            ticket: false,
            run: |c| {
                let r = call::run(get_qos_servers(true), c, &opts());
                let t = r
                    .servers
                    .iter()
                    .flat_map(|s| [s.fqdn.clone(), s.secure_device_address.clone(), s.target_location.clone()])
                    .collect();
                outcome(&r, t)
            },
        },
        Target {
            name: "create_inline_cluster",
            before: 0,
            first: QUEUED_200,
            lead: Duration::ZERO,
            line: "POST /titles/123456789/inlineclusters ",
            good: CLUSTER_GOOD,
            text_at: CLUSTER_TEXT,
            ticket: false,
            run: |c| cluster_outcome(&call::run(create_inline_cluster(&inline_req()), c, &opts())),
        },
        Target {
            name: "allocate_inline_cluster (its POST)",
            before: 0,
            first: QUEUED_200,
            lead: Duration::ZERO,
            line: "POST /titles/123456789/inlineclusters ",
            good: CLUSTER_GOOD,
            text_at: CLUSTER_TEXT,
            ticket: false,
            run: |c| cluster_outcome(&call::run(AllocateInlineCluster::new(&inline_req()), c, &opts())),
        },
        Target {
            name: "allocate_inline_cluster (its ticket status poll)",
            before: 1,
            first: QUEUED_200,
            lead: Duration::from_millis(100),
            line: "GET /titles/123456789/tickets/ticket-1/status ",
            good: TICKET_GOOD,
            text_at: TICKET_TEXT,
            ticket: true,
            run: |c| cluster_outcome(&call::run(AllocateInlineCluster::new(&inline_req()), c, &opts())),
        },
        Target {
            name: "get_ticket_status",
            before: 0,
            first: QUEUED_200,
            lead: Duration::ZERO,
            line: "GET /titles/123456789/tickets/ticket-1/status ",
            good: TICKET_GOOD,
            text_at: TICKET_TEXT,
            ticket: true,
            run: |c| {
                let r = call::run(get_ticket_status(TITLE, TICKET), c, &opts());
                let mut t = vec![
                    r.ticket_id.clone(),
                    r.cluster_id.clone(),
                    r.host_name.clone(),
                    r.description.clone(),
                    r.secure_context.clone(),
                    r.game_host_id.clone(),
                    r.region.clone(),
                ];
                t.extend(port_names(&r.ports));
                outcome(&r, t)
            },
        },
        Target {
            name: "create_session_host",
            before: 0,
            first: QUEUED_200,
            lead: Duration::ZERO,
            line: "POST /titles/123456789/sessionhosts ",
            good: HOST_GOOD,
            text_at: HOST_TEXT,
            ticket: false,
            run: |c| host_outcome(&call::run(create_session_host(&host_req()), c, &opts())),
        },
        Target {
            name: "allocate_session_host (its POST)",
            before: 0,
            first: QUEUED_200,
            lead: Duration::ZERO,
            line: "POST /titles/123456789/sessionhosts ",
            good: HOST_GOOD,
            text_at: HOST_TEXT,
            ticket: false,
            run: |c| host_outcome(&call::run(AllocateSessionHost::new(&host_req()), c, &opts())),
        },
        Target {
            name: "allocate_session_host (its allocation status poll)",
            before: 1,
            first: QUEUED_200,
            lead: Duration::from_millis(100),
            line: "GET /titles/123456789/sessions/6f0c6c42-0000-4000-8000-000000000001/allocationStatus ",
            good: STATUS_GOOD,
            text_at: STATUS_TEXT,
            ticket: false,
            run: |c| host_outcome(&call::run(AllocateSessionHost::new(&host_req()), c, &opts())),
        },
        Target {
            name: "allocate_session_host (its allocation status poll after a 409)",
            before: 1,
            first: CONFLICT_409,
            lead: Duration::from_millis(1000),
            line: "GET /titles/123456789/sessions/6f0c6c42-0000-4000-8000-000000000001/allocationStatus ",
            good: STATUS_GOOD,
            text_at: STATUS_TEXT,
            ticket: false,
            run: |c| host_outcome(&call::run(AllocateSessionHost::new(&host_req()), c, &opts())),
        },
        Target {
            name: "get_allocation_status",
            before: 0,
            first: QUEUED_200,
            lead: Duration::ZERO,
            line: "GET /titles/123456789/sessions/6f0c6c42-0000-4000-8000-000000000001/allocationStatus ",
            good: STATUS_GOOD,
            text_at: STATUS_TEXT,
            ticket: false,
            run: |c| host_outcome(&call::run(GetAllocationStatus::new(TITLE, SESSION), c, &opts())),
        },
    ]
}

// ---------------------------------------------------------------------------------------------
// Running a fault against a target
// ---------------------------------------------------------------------------------------------

/// A fault: the hostile exchange's connection, its request index counted from the first hostile
/// request (retries of the hostile exchange are 1, 2, ...), and the request's head.
type Fault = dyn Fn(&mut TcpStream, usize, &str) -> After + Send + Sync;

/// A server for `t`: its first `t.before` requests get `t.first`, the others `fault`.
fn serve(t: &Target, fault: impl Fn(&mut TcpStream, usize, &str) -> After + Send + Sync + 'static) -> RawServer {
    let (before, (status, body)) = (t.before, t.first);
    let fault: Box<Fault> = Box::new(fault);
    RawServer::start_with_head(move |s, n, head| {
        if n < before {
            let _ = respond(s, status, &[("Content-Type", "application/json")], body.as_bytes());
            After::Close
        } else {
            fault(s, n - before, head)
        }
    })
}

/// The server answers every hostile request with `status` and `body` (and `headers`).
fn serve_answer(
    t: &Target,
    status: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: Vec<u8>,
) -> RawServer {
    serve(t, move |s, _, _| {
        let _ = respond(s, status, headers, &body);
        After::Close
    })
}

/// A client config pointed at `url`: connect 2 s, request 3 s, 3 attempts with fast backoff
/// (tests/hostile.rs's).
fn raw_config(url: &str) -> Config {
    let mut c = Config::default();
    c.set_base_url(url).unwrap();
    c.set_auth_token(TOKEN).unwrap();
    c.set_timeouts(2000, 3000).unwrap();
    c.set_retry_policy(3, 10, 200).unwrap();
    c
}

struct Ran {
    out: Outcome,
    took: Duration,
    /// Requests the server read.
    requests: usize,
    /// Every log line, with its level.
    logs: Vec<(LogLevel, String)>,
}

impl Ran {
    /// Asserts that the call's end was logged at `level` (PROTOCOL.md, Logging: timeouts and
    /// retries exhausted at WARN; final network errors and protocol errors at ERROR).
    fn assert_logged(&self, t: &Target, level: LogLevel) {
        assert!(
            self.logs.iter().any(|(l, _)| *l == level),
            "{}: no {level:?} line for a {:?}: {:?}",
            t.name,
            self.status,
            self.logs
        );
    }
}

impl std::ops::Deref for Ran {
    type Target = CallInfo;
    fn deref(&self) -> &CallInfo {
        &self.out.info
    }
}

fn assert_clean(what: &str, s: &str) {
    assert!(!s.contains(SECRET), "{what} leaks the token: {s}");
    assert!(!s.contains(TOKEN), "{what} leaks the Authorization value: {s}");
}

/// Runs `t` against `srv` with `f`'s changes to the config; checks that the hostile exchange was
/// reached (when the server read it) and that no string the call exposed or logged holds the token.
fn run(t: &Target, srv: &RawServer, f: impl FnOnce(&mut Config)) -> Ran {
    let mut cfg = raw_config(&srv.url());
    f(&mut cfg);
    let lines = Arc::new(Mutex::new(Vec::new()));
    let l2 = Arc::clone(&lines);
    cfg.log = Some((Arc::new(move |lvl, msg: &str| l2.lock().unwrap().push((lvl, msg.to_string()))), LogLevel::Trace));
    let client = Client::new(&cfg).unwrap();
    let start = Instant::now();
    let out = (t.run)(&client);
    let took = start.elapsed();
    drop(client);
    let requests = srv.requests();
    let i = &out.info;
    eprintln!(
        "{}: {:?} (HTTP {}) after {} attempt(s), {requests} request(s), in {took:?}: {}",
        t.name, i.status, i.http_status, i.attempts, i.error_message
    );
    let heads = srv.heads();
    for (k, h) in heads.iter().enumerate().skip(t.before).take(1) {
        assert!(h.starts_with(t.line), "{}: request {k} is the hostile exchange: {h}", t.name);
    }
    let logs = std::mem::take(&mut *lines.lock().unwrap());
    for (_, l) in &logs {
        assert_clean(&format!("{}: a log line", t.name), l);
        assert!(!l.chars().any(char::is_control), "{}: a log line carries a control character: {l:?}", t.name);
    }
    assert_clean(&format!("{}: error_message", t.name), &i.error_message);
    assert_clean(&format!("{}: raw_json", t.name), &i.raw_json);
    assert_clean(&format!("{}: the result", t.name), &out.debug);
    assert!(i.error_message.len() < 2048, "{}: a message of {} bytes", t.name, i.error_message.len());
    Ran { out, took, requests, logs }
}

/// Attempts of a call whose hostile exchange made `n` requests.
fn attempts(t: &Target, n: usize) -> u32 {
    (t.before + n) as u32
}

/// The generous upper bound for a call whose hostile exchange should take `d`: the first
/// exchange and the poll wait of a following call, then a loaded machine's slack.
fn bound(t: &Target, d: Duration) -> Duration {
    d + t.lead + Duration::from_millis(1500) + Duration::from_millis(400) * t.before as u32
}

// ---------------------------------------------------------------------------------------------
// Truncated and oversized bodies
// ---------------------------------------------------------------------------------------------

#[test]
fn truncated_body_is_a_network_error_and_not_resent() {
    for t in targets() {
        let srv = serve(&t, |s, _, _| {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n{\"fulfillmentState\":\"Fulf");
            After::Close
        });
        let r = run(&t, &srv, |_| {});
        assert_eq!(r.status, Status::Network, "{}: {}", t.name, r.error_message);
        assert_eq!(r.http_status, 200, "{}: the head arrived", t.name);
        assert!(!r.error_message.is_empty(), "{}", t.name);
        assert_eq!(r.requests, t.before + 1, "{}: a body that broke off is not resent", t.name);
        assert_eq!(r.attempts, attempts(&t, 1), "{}", t.name);
        assert!(r.took < bound(&t, Duration::ZERO), "{}: {:?}", t.name, r.took);
        r.assert_logged(&t, LogLevel::Error);
    }
}

#[test]
fn a_64_mib_body_is_refused_at_the_cap_without_being_buffered() {
    let _m = memory_lock();
    let total = 64 << 20;
    for t in targets() {
        let srv = serve(&t, move |s, _, _| {
            stream_body(
                s,
                &format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {total}\r\n\r\n"),
                total,
                b' ',
            );
            After::Close
        });
        let (r, growth) = peak_rss_growth(|| run(&t, &srv, |_| {}));
        assert_eq!(r.status, Status::Protocol, "{}: {}", t.name, r.error_message);
        assert!(r.error_message.contains("1048576 byte cap"), "{}: {}", t.name, r.error_message);
        assert!(r.error_message.starts_with("HTTP 200: "), "{}: the HTTP status and why: {}", t.name, r.error_message);
        r.assert_logged(&t, LogLevel::Error);
        assert_eq!(r.raw_json, "", "{}", t.name);
        assert_eq!(r.attempts, attempts(&t, 1), "{}", t.name);
        assert!(growth < BOUNDED_GROWTH_KIB, "{}: RSS grew by {growth} KiB", t.name);
        assert!(r.took < bound(&t, Duration::from_secs(1)), "{}: {:?}", t.name, r.took);
    }
}

#[test]
fn a_64_mib_chunked_body_is_refused_at_the_cap_without_being_buffered() {
    let _m = memory_lock();
    let total = 64usize << 20;
    for t in targets() {
        let srv = serve(&t, move |s, _, _| {
            if s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n").is_err() {
                return After::Close;
            }
            let chunk = [b' '; 64 * 1024];
            let frame = format!("{:x}\r\n", chunk.len());
            for _ in 0..(total / chunk.len()) {
                let sent =
                    s.write_all(frame.as_bytes()).and_then(|_| s.write_all(&chunk)).and_then(|_| s.write_all(b"\r\n"));
                if sent.is_err() {
                    return After::Close;
                }
            }
            let _ = s.write_all(b"0\r\n\r\n");
            After::Close
        });
        let (r, growth) = peak_rss_growth(|| run(&t, &srv, |_| {}));
        assert_eq!(r.status, Status::Protocol, "{}: {}", t.name, r.error_message);
        assert!(r.error_message.starts_with("HTTP 200: "), "{}: {}", t.name, r.error_message);
        assert_eq!(r.attempts, attempts(&t, 1), "{}", t.name);
        assert!(growth < BOUNDED_GROWTH_KIB, "{}: RSS grew by {growth} KiB", t.name);
        assert!(r.took < bound(&t, Duration::from_secs(1)), "{}: {:?}", t.name, r.took);
    }
}

#[test]
fn a_64_mib_error_body_on_503_keeps_only_a_bounded_start() {
    let _m = memory_lock();
    let total = 64 << 20;
    for t in targets() {
        let srv = serve(&t, move |s, _, _| {
            stream_body(
                s,
                &format!("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\nContent-Length: {total}\r\n\r\n"),
                total,
                b'x',
            );
            After::Close
        });
        let (r, growth) = peak_rss_growth(|| run(&t, &srv, |_| {}));
        assert_eq!(r.status, Status::RetriesExhausted, "{}: {}", t.name, r.error_message);
        assert_eq!(r.http_status, 503, "{}", t.name);
        assert_eq!(r.attempts, attempts(&t, 3), "{}", t.name);
        assert_eq!(r.requests, t.before + 3, "{}", t.name);
        assert!(!r.raw_json.is_empty(), "{}: the start of the body is kept", t.name);
        assert!(r.raw_json.len() <= 64 * 1024, "{}: kept {} bytes", t.name, r.raw_json.len());
        assert!(r.error_message.len() < 1024, "{}: message of {} bytes", t.name, r.error_message.len());
        r.assert_logged(&t, LogLevel::Warn);
        assert!(growth < BOUNDED_GROWTH_KIB, "{}: RSS grew by {growth} KiB", t.name);
        assert!(r.took < bound(&t, Duration::from_secs(2)), "{}: {:?}", t.name, r.took);
    }
}

// ---------------------------------------------------------------------------------------------
// Slow, silent and garbled peers
// ---------------------------------------------------------------------------------------------

/// A call that should end at the 1 s request timeout of its hostile exchange: TIMEOUT, not
/// retried, not before the timeout, and not much later.
fn assert_times_out(t: &Target, r: &Ran, timeout: Duration) {
    assert_eq!(r.status, Status::Timeout, "{}: {}", t.name, r.error_message);
    assert_eq!(r.attempts, attempts(t, 1), "{}: a timeout is not retried", t.name);
    assert_eq!(r.requests, t.before + 1, "{}: nothing is resent", t.name);
    assert!(r.took >= t.lead + timeout - Duration::from_millis(100), "{}: {:?}", t.name, r.took);
    assert!(
        r.took < bound(t, timeout),
        "{}: ends near the {timeout:?} request timeout, not later: {:?}",
        t.name,
        r.took
    );
    r.assert_logged(t, LogLevel::Warn);
}

#[test]
fn a_dripping_head_ends_at_the_request_timeout() {
    for t in targets() {
        let good = t.good;
        let srv = serve(&t, move |s, _, _| {
            let head = format!(
                "HTTP/1.1 200 OK\r\nX-Slow: {}\r\nContent-Length: {}\r\n\r\n{good}",
                "a".repeat(200),
                good.len()
            );
            drip(s, head.as_bytes(), Duration::from_millis(200));
            After::Close
        });
        let r = run(&t, &srv, |c| c.set_timeouts(2000, 1000).unwrap());
        assert_times_out(&t, &r, Duration::from_secs(1));
    }
}

#[test]
fn a_dripping_body_ends_at_the_request_timeout() {
    for t in targets() {
        let good = t.good;
        let srv = serve(&t, move |s, _, _| {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", good.len());
            if s.write_all(head.as_bytes()).is_ok() {
                drip(s, good.as_bytes(), Duration::from_millis(200));
            }
            After::Close
        });
        let r = run(&t, &srv, |c| c.set_timeouts(2000, 1000).unwrap());
        assert_times_out(&t, &r, Duration::from_secs(1));
    }
}

#[test]
fn a_silent_server_ends_at_the_request_timeout() {
    for t in targets() {
        let srv = serve(&t, |_, _, _| {
            thread::sleep(Duration::from_secs(5));
            After::Close
        });
        let r = run(&t, &srv, |c| c.set_timeouts(2000, 800).unwrap());
        assert_times_out(&t, &r, Duration::from_millis(800));
    }
}

#[test]
fn non_http_bytes_are_a_network_error() {
    for t in targets() {
        for garbage in [
            &b"SSH-2.0-OpenSSH_9.6\r\n"[..],
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
            b"HTTP/1.1 abc Whatever\r\n\r\n",
            b"HTTP/9.9 200 OK\r\n\r\n",
            b"\0\0\0\0\0\0\0\0\r\n\r\n",
        ] {
            let srv = serve(&t, move |s, _, _| {
                let _ = s.write_all(garbage);
                After::Close
            });
            let r = run(&t, &srv, |_| {});
            let what = String::from_utf8_lossy(garbage);
            assert_eq!(r.status, Status::Network, "{}: {what:?}: {}", t.name, r.error_message);
            if t.before == 0 {
                assert_eq!(r.http_status, 0, "{}: {what:?}", t.name);
            }
            assert!(!r.error_message.is_empty(), "{}: {what:?}", t.name);
            assert!(r.requests <= t.before + 3, "{}: {what:?}: bounded by max_attempts", t.name);
            assert!(r.took < bound(&t, Duration::from_secs(1)), "{}: {what:?}: {:?}", t.name, r.took);
            r.assert_logged(&t, LogLevel::Error);
        }
    }
}

#[test]
fn a_reset_in_the_middle_of_a_body_is_a_network_error_and_not_resent() {
    for t in targets() {
        let srv = serve(&t, |s, _, _| {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"fulfillmentState\":");
            thread::sleep(Duration::from_millis(50));
            reset(s.try_clone().unwrap());
            After::Close
        });
        let r = run(&t, &srv, |_| {});
        assert_eq!(r.status, Status::Network, "{}: {}", t.name, r.error_message);
        assert_eq!(r.requests, t.before + 1, "{}: a body that broke off is not resent", t.name);
        assert_eq!(r.attempts, attempts(&t, 1), "{}", t.name);
        assert!(r.took < bound(&t, Duration::ZERO), "{}: {:?}", t.name, r.took);
        r.assert_logged(&t, LogLevel::Error);
        r.assert_logged(&t, LogLevel::Error);
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile 2xx bodies
// ---------------------------------------------------------------------------------------------

/// A 2xx answer that must be refused: PROTOCOL on the first read, nothing of it kept in the
/// result's fields, its (clean, NUL-free) text in raw_json.
fn assert_refused(t: &Target, r: &Ran, what: &str) {
    assert_eq!(r.status, Status::Protocol, "{}: {what}: {}", t.name, r.error_message);
    assert_eq!(r.http_status, 200, "{}: {what}", t.name);
    assert_eq!(r.attempts, attempts(t, 1), "{}: {what}: a refused answer is not asked again", t.name);
    assert!(r.error_message.starts_with("HTTP 200: "), "{}: {what}: {}", t.name, r.error_message);
    assert!(r.out.texts.is_empty(), "{}: {what}: no partial answer: {:?}", t.name, r.out.texts);
    r.assert_logged(t, LogLevel::Error);
}

#[test]
fn a_json_nesting_bomb_never_overflows_the_stack() {
    let deep = |open: &str, close: &str, n: usize| format!("{}{}", open.repeat(n), close.repeat(n));
    for t in targets() {
        let refused = [
            ("unclosed arrays", format!("{{\"x\":{}", "[".repeat(500_000)).into_bytes()),
            ("unclosed objects", "{\"a\":".repeat(200_000).into_bytes()),
            ("deep arrays as text", t.body_with_text(deep("[", "]", 200_000).as_bytes())),
            (
                "deep objects as text",
                t.body_with_text(format!("{}1{}", "{\"a\":".repeat(100_000), "}".repeat(100_000)).as_bytes()),
            ),
        ];
        for (what, body) in refused {
            assert!(body.len() <= 1 << 20, "{what}: under the cap, so the parser sees it");
            let srv = serve_answer(&t, "200 OK", &[], body);
            let r = run(&t, &srv, |_| {});
            assert_refused(&t, &r, what);
            assert!(r.took < bound(&t, Duration::from_secs(2)), "{}: {what}: {:?}", t.name, r.took);
        }
        // An unknown field is skipped without recursing: a well-formed bomb there is harmless.
        let body = format!("{{\"x\":{},{}", deep("[", "]", 400_000), &t.good[1..]);
        let srv = serve_answer(&t, "200 OK", &[], body.into_bytes());
        let r = run(&t, &srv, |_| {});
        assert_eq!(r.status, Status::Ok, "{}: deep unknown field: {}", t.name, r.error_message);
        assert!(!r.out.texts.is_empty(), "{}: the answer was read", t.name);
    }
}

#[test]
fn invalid_utf8_lone_surrogates_and_nul_in_strings_are_protocol_errors() {
    for t in targets() {
        let mut bodies: Vec<(&str, Vec<u8>)> = vec![
            ("invalid UTF-8", t.body_with_text(b"\"gs-\xff\xfe.example\"")),
            ("a broken sequence", t.body_with_text(b"\"\xc3\x28\"")),
            ("an encoded surrogate", t.body_with_text(b"\"\xed\xa0\x80\"")),
            ("a lone leading surrogate", t.body_with_text(br#""\ud800""#)),
            ("a lone trailing surrogate", t.body_with_text(br#""a\udc00b""#)),
            ("an escaped NUL", t.body_with_text(br#""a\u0000b""#)),
            ("a raw NUL", t.body_with_text(b"\"a\0b\"")),
        ];
        // Anywhere in the body: it must be UTF-8 as a whole.
        bodies.push((
            "invalid UTF-8 in an unknown field",
            [b"{\"unknown\":\"\xf8\x88\x80\x80\x80\",", &t.good.as_bytes()[1..]].concat(),
        ));
        for (what, body) in bodies {
            let srv = serve_answer(&t, "200 OK", &[("Content-Type", "application/json")], body);
            let r = run(&t, &srv, |_| {});
            assert_refused(&t, &r, what);
            // A NUL that was escaped stays escaped; a raw one in a UTF-8 body is kept as received
            // (PROTOCOL.md promises NUL replaced for error bodies; the C ABI replaces it anyway).
            if what != "a raw NUL" {
                assert!(!r.raw_json.contains('\0'), "{}: {what}", t.name);
            }
        }
    }
}

#[test]
fn a_2xx_that_is_not_a_json_object_is_a_protocol_error() {
    for t in targets() {
        let array = format!("[{}]", t.good);
        let string = serde_json::to_string(t.good).unwrap();
        for (what, body) in [
            ("an empty array", "[]".to_string()),
            ("an array holding the answer", array),
            ("a string", "\"Fulfilled\"".to_string()),
            ("the answer as a JSON string", string),
            ("null", "null".to_string()),
            ("a number", "42".to_string()),
            ("true", "true".to_string()),
            ("an empty body", String::new()),
            ("two objects", format!("{} {}", t.good, t.good)),
            ("an object then garbage", format!("{}]", t.good)),
        ] {
            let srv = serve_answer(&t, "200 OK", &[("Content-Type", "application/json")], body.into_bytes());
            let r = run(&t, &srv, |_| {});
            assert_refused(&t, &r, what);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Retry-After
// ---------------------------------------------------------------------------------------------

#[test]
fn retry_after_of_100000_seconds_ends_after_one_attempt() {
    for t in targets() {
        for status in ["503 Service Unavailable", "429 Too Many Requests"] {
            let srv = serve_answer(&t, status, &[("Retry-After", "100000")], b"{\"message\":\"busy\"}".to_vec());
            let r = run(&t, &srv, |c| c.set_retry_policy(4, 10, 10_000).unwrap());
            assert_eq!(r.status, Status::RetriesExhausted, "{}: {status}: {}", t.name, r.error_message);
            assert_eq!(r.retry_after_ms, 100_000_000, "{}: {status}", t.name);
            assert_eq!(r.attempts, attempts(&t, 1), "{}: {status}: does not sleep 27 hours", t.name);
            assert_eq!(r.requests, t.before + 1, "{}: {status}", t.name);
            assert!(r.error_message.contains("busy"), "{}: {status}: {}", t.name, r.error_message);
            assert!(r.took < bound(&t, Duration::ZERO), "{}: {status}: {:?}", t.name, r.took);
            r.assert_logged(&t, LogLevel::Warn);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Polling: a following call's second exchange cannot make it spin
// ---------------------------------------------------------------------------------------------

#[test]
fn a_zero_poll_interval_does_not_spin_a_following_call() {
    for t in targets().into_iter().filter(|t| t.before == 1 && t.first == QUEUED_200) {
        for interval in ["0", "\"0\"", "-1"] {
            let queued = if t.ticket {
                r#"{"status":"Queued"}"#.to_string()
            } else {
                format!(r#"{{"status":"Queued","pollIntervalMilliseconds":{interval}}}"#)
            };
            let first = format!(r#"{{"fulfillmentState":"Queued","pollIntervalMilliseconds":{interval}}}"#);
            let srv = RawServer::start(move |s, n| {
                let body = if n == 0 { &first } else { &queued };
                let _ = respond(s, "200 OK", &[], body.as_bytes());
                After::Close
            });
            let mut cfg = raw_config(&srv.url());
            let lines = capture_logs(&mut cfg, LogLevel::Trace);
            let client = Client::new(&cfg).unwrap();
            let opts =
                CallOptions { deadline: Some(Instant::now() + Duration::from_millis(1000)), ..Default::default() };
            let start = Instant::now();
            let info = if t.ticket {
                call::run(AllocateInlineCluster::new(&inline_req()), &client, &opts).info
            } else {
                call::run(AllocateSessionHost::new(&host_req()), &client, &opts).info
            };
            let took = start.elapsed();
            let n = srv.requests();
            eprintln!("{}: interval {interval}: {:?} after {n} requests in {took:?}", t.name, info.status);
            assert_eq!(info.status, Status::Timeout, "{}: {interval}: {}", t.name, info.error_message);
            // 0 is raised to the 100 ms floor: about 10 requests in a second (negative -> 1000 ms: 1).
            assert!((1..=12).contains(&n), "{}: {interval}: {n} requests in {took:?}", t.name);
            assert_eq!(info.attempts as usize, n, "{}", t.name);
            assert!(srv.heads().iter().skip(1).all(|h| h.starts_with(t.line)), "{}: the polls are GETs", t.name);
            assert!(took < Duration::from_millis(2500), "{}: {took:?}", t.name);
            for l in lines.lock().unwrap().iter() {
                assert_clean(t.name, l);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A server that echoes the Authorization token
// ---------------------------------------------------------------------------------------------

/// The Authorization value of a request head.
fn authorization(head: &str) -> String {
    head.lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.trim().eq_ignore_ascii_case("authorization")))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

/// Echoes what the request carried: its whole Authorization value and the token alone.
fn echo(head: &str) -> (String, String) {
    let auth = authorization(head);
    assert_eq!(auth, TOKEN, "the client sent the token");
    let token = auth.split_once(';').map(|(_, t)| t.to_string()).unwrap_or_default();
    (auth, token)
}

#[test]
fn an_echoed_token_never_reaches_messages_raw_json_or_logs() {
    for t in targets() {
        // Error bodies: a final 400 and a retried 503, the token in the message and the code.
        for (status, want, tries) in
            [("400 Bad Request", Status::HttpStatus, 1), ("503 Service Unavailable", Status::RetriesExhausted, 3)]
        {
            let srv = serve(&t, move |s, _, head| {
                let (auth, token) = echo(head);
                let body = format!(
                    r#"{{"message":"Authorization {auth} refused; token {token}","errorCode":"{token}","echo":{{"Authorization":"{auth}"}}}}"#
                );
                let _ = respond(s, status, &[("Retry-After", "0"), ("X-XblCorrelationId", &token)], body.as_bytes());
                After::Close
            });
            let r = run(&t, &srv, |_| {});
            assert_eq!(r.status, want, "{}: {status}: {}", t.name, r.error_message);
            assert_eq!(r.attempts, attempts(&t, tries), "{}: {status}", t.name);
            assert!(
                r.error_message.contains("<redacted>"),
                "{}: {status}: the echo was read: {}",
                t.name,
                r.error_message
            );
            assert!(r.raw_json.contains("<redacted>"), "{}: {status}: {}", t.name, r.raw_json);
        }
        // A 2xx holding the token in a text field (a variant's name, a ticket's description, a
        // host name) and in an unknown field.
        let (prefix, suffix) = t.text_at;
        let srv = serve(&t, move |s, _, head| {
            let (auth, token) = echo(head);
            let body = format!(r#"{}"{auth} / {token}"{},"echo":"{auth}"}}"#, prefix, &suffix[..suffix.len() - 1]);
            let _ = respond(s, "200 OK", &[], body.as_bytes());
            After::Close
        });
        let r = run(&t, &srv, |_| {});
        assert_eq!(r.status, Status::Ok, "{}: 2xx echo: {}", t.name, r.error_message);
        assert!(
            r.out.texts.iter().any(|s| s.contains("<redacted>")),
            "{}: the field was read: {:?}",
            t.name,
            r.out.texts
        );
        assert!(r.raw_json.contains("<redacted>"), "{}: {}", t.name, r.raw_json);
        // A ticket in Error: its description becomes a following call's error message.
        if t.ticket {
            let srv = serve(&t, move |s, _, head| {
                let (auth, token) = echo(head);
                let body = format!(r#"{{"status":"Error","description":"no server for {auth} ({token})"}}"#);
                let _ = respond(s, "200 OK", &[], body.as_bytes());
                After::Close
            });
            let r = run(&t, &srv, |_| {});
            let want = if t.before == 1 { Status::AllocationFailed } else { Status::Ok };
            assert_eq!(r.status, want, "{}: ticket Error: {}", t.name, r.error_message);
            if want == Status::AllocationFailed {
                assert!(r.error_message.contains("<redacted>"), "{}: {}", t.name, r.error_message);
            } else {
                assert!(r.out.texts.iter().any(|s| s.contains("<redacted>")), "{}: {:?}", t.name, r.out.texts);
            }
        }
    }
}
