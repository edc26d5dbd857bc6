//! One HTTP exchange over the client's ureq agent: the transport below the retry logic.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use ureq::http::header::{HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{Connector, NextTimeout};
use ureq::Agent;

use super::config::Config;
use super::exchange::Method;
use super::redact::Secrets;
use super::retry::parse_retry_after;
use super::tls::{client_config, TlsConnector};
use super::transport::TcpConnector;
use super::wire::MAX_BODY_BYTES;

/// How much of a non-2xx body is kept (for its message).
const MAX_ERROR_BODY_BYTES: u64 = 64 * 1024;
/// Per-connection buffers (see build_agent). The input buffer bounds the response head, the output
/// buffer the request head (the Authorization value included).
const INPUT_BUFFER_BYTES: usize = 16 * 1024;
const OUTPUT_BUFFER_BYTES: usize = 16 * 1024;
/// How long a resolved name is reused.
const DNS_TTL: Duration = Duration::from_secs(60);

/// A response whose head arrived.
pub struct Reply {
    pub status: u16,
    pub correlation_id: String,
    pub retry_after: Option<Duration>,
    pub body: Vec<u8>,
    /// Set when the body could not be read whole (2xx only; error bodies keep what arrived).
    pub body_error: Option<TransportError>,
}

impl Reply {
    /// The reply with its header text cleaned of `secrets` (bodies are cleaned where they become text).
    pub fn redacted(mut self, secrets: &Secrets) -> Reply {
        self.correlation_id = secrets.redact_owned(self.correlation_id);
        self.body_error = self.body_error.map(|e| e.redacted(secrets));
        self
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportKind {
    /// No usable response: refused, reset, DNS, TLS, bad HTTP.
    Network,
    Timeout,
    /// The 2xx body exceeded MAX_BODY_BYTES.
    TooLarge,
}

#[derive(Clone, Debug)]
pub struct TransportError {
    pub kind: TransportKind,
    pub message: String,
    /// True when the connection failed before any response byte arrived, so resending is safe.
    pub retryable: bool,
}

impl TransportError {
    /// The error with its message cleaned of `secrets` (it may quote what the server sent).
    pub fn redacted(mut self, secrets: &Secrets) -> TransportError {
        self.message = secrets.redact_owned(self.message);
        self
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The User-Agent value of a client.
pub fn user_agent(cfg: &Config) -> String {
    match &cfg.user_agent {
        Some(app) => format!("gsms/{} {app}", env!("CARGO_PKG_VERSION")),
        None => format!("gsms/{}", env!("CARGO_PKG_VERSION")),
    }
}

/// A header value made once and sent with every request: cloning it shares its bytes (ureq
/// would otherwise copy the value into a new allocation for every request).
pub fn shared_value(v: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(v).ok()
}

/// The client's HTTP agent. `Err`: the CA bundle cannot be used (the setter checks it first).
pub fn build_agent(cfg: &Config) -> Result<Agent, String> {
    let tls = client_config(&cfg.extra_roots)?;
    let ua = user_agent(cfg);
    let config = Agent::config_builder()
        .http_status_as_error(false)
        // Never follow a redirect: it could carry the Authorization header to another host.
        .max_redirects(0)
        .max_redirects_will_error(false)
        .proxy(None)
        .user_agent(ua)
        .timeout_connect(Some(cfg.connect_timeout))
        .timeout_per_call(Some(cfg.request_timeout))
        .max_idle_connections(64)
        .max_idle_connections_per_host((cfg.worker_threads as usize).max(4) * 2)
        .max_idle_age(Duration::from_secs(50))
        // ureq's default is 128 KiB each, zero-filled for every new connection (twice over TLS):
        // answers here are a few hundred bytes.
        .input_buffer_size(INPUT_BUFFER_BYTES)
        .max_response_header_size(INPUT_BUFFER_BYTES)
        .output_buffer_size(OUTPUT_BUFFER_BYTES)
        .build();
    // Our TCP transport (fewer system calls per request, see transport.rs) with TLS on top (tls.rs).
    let connector = TcpConnector.chain(TlsConnector::new(tls));
    Ok(Agent::with_parts(config, connector, CachingResolver::default()))
}

/// When a name was resolved, and to what.
type Resolved = (Instant, Vec<SocketAddr>);

/// Answers IP literals directly and caches names for a short time. ureq's default resolver starts
/// a thread per request whenever a timeout is set; this one never does.
#[derive(Default)]
pub struct CachingResolver {
    cache: Mutex<HashMap<(String, u16), Resolved>>,
}

impl fmt::Debug for CachingResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CachingResolver")
    }
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        _config: &ureq::config::Config,
        _timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().ok_or(ureq::Error::HostNotFound)?;
        let port = uri.port_u16().unwrap_or(if uri.scheme_str() == Some("https") { 443 } else { 80 });
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let mut out = self.empty();
        if let Ok(ip) = bare.parse::<IpAddr>() {
            out.push(SocketAddr::new(ip, port));
            return Ok(out);
        }
        let key = (bare.to_ascii_lowercase(), port);
        {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((at, addrs)) = cache.get(&key) {
                if at.elapsed() < DNS_TTL {
                    for a in addrs.iter().take(16) {
                        out.push(*a);
                    }
                    return Ok(out);
                }
            }
        }
        let addrs: Vec<SocketAddr> = (bare, port).to_socket_addrs()?.take(16).collect();
        if addrs.is_empty() {
            return Err(ureq::Error::HostNotFound);
        }
        for a in &addrs {
            out.push(*a);
        }
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).insert(key, (Instant::now(), addrs));
        Ok(out)
    }
}

fn map_error(e: ureq::Error, phase: &str, before_response: bool) -> TransportError {
    use ureq::Error as E;
    let (kind, retryable) = match &e {
        E::Timeout(_) => (TransportKind::Timeout, false),
        E::BodyExceedsLimit(_) => (TransportKind::TooLarge, false),
        E::Io(io) if io.kind() == std::io::ErrorKind::TimedOut || io.kind() == std::io::ErrorKind::WouldBlock => {
            (TransportKind::Timeout, false)
        }
        // A TLS failure (unknown issuer, bad name, alert) surfaces as InvalidData: sending the
        // same handshake again cannot help, so it is final.
        E::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => (TransportKind::Network, false),
        E::Io(_) | E::ConnectionFailed => (TransportKind::Network, before_response),
        _ => (TransportKind::Network, false),
    };
    let message = match kind {
        TransportKind::Timeout => format!("timed out {phase}: {e}"),
        TransportKind::TooLarge => format!("response body exceeds the {} byte cap", MAX_BODY_BYTES),
        TransportKind::Network => format!("network error {phase}: {e}"),
    };
    TransportError { kind, message, retryable }
}

/// One request, as the transport sends it.
pub struct Request<'a> {
    pub method: Method,
    pub url: &'a str,
    /// `x-xbl-contract-version`.
    pub contract: &'static str,
    /// A JSON body (sent with Content-Type and Content-Length); `None` sends neither.
    pub body: Option<&'a [u8]>,
    pub authorization: Option<&'a str>,
    /// `authorization` made into a header value once (see [`shared_value`]), when it could be.
    pub authorization_value: Option<&'a HeaderValue>,
    /// `Signature` header, when the token provider gave one.
    pub signature: Option<&'a str>,
    /// The client's User-Agent (see [`shared_value`]); `None`: ureq adds the agent's.
    pub user_agent: Option<&'a HeaderValue>,
}

const CONTRACT_VERSION: HeaderName = HeaderName::from_static("x-xbl-contract-version");
const SIGNATURE: HeaderName = HeaderName::from_static("signature");
const CORRELATION_ID: HeaderName = HeaderName::from_static("x-xblcorrelationid");
const ANY: HeaderValue = HeaderValue::from_static("*/*");
const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Sends one request and reads the whole answer (bounded by `timeout` and the body caps).
pub fn exchange(
    agent: &Agent,
    req: &Request<'_>,
    timeout: Duration,
    agent_timeout: Duration,
) -> Result<Reply, TransportError> {
    // Names and values that are static or made once per client or token: no allocation or
    // validation per request for them (a header ureq does not find, it adds with a copy).
    fn headers<B>(mut rb: ureq::RequestBuilder<B>, req: &Request<'_>) -> ureq::RequestBuilder<B> {
        if let Some(ua) = req.user_agent {
            rb = rb.header(USER_AGENT, ua.clone()).header(ACCEPT, ANY);
        }
        rb = rb.header(CONTRACT_VERSION, HeaderValue::from_static(req.contract));
        // Every header is (HeaderName, HeaderValue): one instance of ureq's generic `header`.
        // Authorization and Signature values were checked (visible ASCII and space: always valid
        // header values) before they got here.
        let auth = req.authorization_value.cloned().or_else(|| req.authorization.and_then(shared_value));
        if let Some(v) = auth {
            rb = rb.header(AUTHORIZATION, v);
        }
        if let Some(v) = req.signature.and_then(shared_value) {
            rb = rb.header(SIGNATURE, v);
        }
        rb
    }
    // A request-level config only when the agent's own timeout does not apply (a deadline is
    // nearer): ureq rebuilds its rustls config (parsing every root) for each new connection made
    // with a request-level config, and clones the config for each such request.
    let per_call = (timeout != agent_timeout).then_some(timeout);
    let sent = match (req.method, req.body) {
        (Method::Post, body) => {
            let rb = headers(agent.post(req.url), req).header(CONTENT_TYPE, JSON);
            let body = body.unwrap_or_default();
            match per_call {
                None => rb.send(body),
                Some(t) => rb.config().timeout_per_call(Some(t)).build().send(body),
            }
        }
        (Method::Get, _) => {
            let rb = headers(agent.get(req.url), req);
            match per_call {
                None => rb.call(),
                Some(t) => rb.config().timeout_per_call(Some(t)).build().call(),
            }
        }
    };
    let mut resp = sent.map_err(|e| map_error(e, "before any response", true))?;
    let status = resp.status().as_u16();
    // Looked up by HeaderName (a &str name is parsed and lowercased for every lookup).
    let header = |name: &HeaderName| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let correlation_id = header(&CORRELATION_ID).unwrap_or_default().to_string();
    let retry_after = header(&RETRY_AFTER).and_then(|v| parse_retry_after(v, SystemTime::now()));
    let (body, body_error) = if (200..300).contains(&status) {
        // One allocation of the announced size (capped) instead of a vector grown from empty.
        let announced = resp.body().content_length().unwrap_or(0).min(MAX_BODY_BYTES);
        let mut buf = Vec::with_capacity(usize::try_from(announced).unwrap_or(0));
        match resp.body_mut().with_config().limit(MAX_BODY_BYTES).reader().read_to_end(&mut buf) {
            Ok(_) => (buf, None),
            Err(e) => (Vec::new(), Some(map_error(ureq::Error::from(e), "reading the response body", false))),
        }
    } else {
        let mut buf = Vec::new();
        let mut reader = resp.body_mut().as_reader().take(MAX_ERROR_BODY_BYTES);
        // An error body that breaks off still tells us the status; keep what arrived.
        let _ = reader.read_to_end(&mut buf);
        (buf, None)
    };
    Ok(Reply { status, correlation_id, retry_after, body, body_error })
}

/// Sends `HEAD /` so DNS is cached and a (TLS) connection waits in the pool. The answer's status
/// does not matter.
pub fn warmup(agent: &Agent, base_url: &str) -> Result<u16, TransportError> {
    let url = format!("{base_url}/");
    let resp = agent.head(&url).call().map_err(|e| map_error(e, "warming up", true))?;
    Ok(resp.status().as_u16())
}
