//! The HTTP/1.1 client under the retry logic: one exchange (request out, whole answer in) over a
//! pool of keep-alive connections (transport.rs), with the response head parsed by `httparse`.
//!
//! It does what this service needs and no more, which is most of why a warm request costs a
//! third of the instructions a general-purpose client spent (BENCHMARKS.md): no redirects (one
//! could carry the Authorization header to another host), no proxies, no compression, no
//! request streaming. Responses: Content-Length, chunked, or read until the connection closes;
//! 1xx answers skipped; a connection goes back to the pool only when its answer was read whole
//! and the server did not ask to close it.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant, SystemTime};

use rustls::pki_types::ServerName;
use rustls::ClientConfig;

use super::config::Config;
use super::exchange::Method;
use super::redact::Secrets;
use super::retry::parse_retry_after;
use super::tls::client_config;
use super::transport::{Conn, Socket};
use super::wire::MAX_BODY_BYTES;

/// How much of a non-2xx body is kept (for its message).
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;
/// Per-connection read buffer: it bounds the response head (and a chunk-size line).
const INPUT_BUFFER_BYTES: usize = 16 * 1024;
/// Response headers beyond this many are a protocol error.
const MAX_RESPONSE_HEADERS: usize = 64;
/// How long a resolved name is reused.
const DNS_TTL: Duration = Duration::from_secs(60);
/// Idle connections kept, in all and per host, and for how long.
const MAX_IDLE: usize = 64;
const MAX_IDLE_AGE: Duration = Duration::from_secs(50);

/// Whether something of `since` is still fresh at `now`: younger than `max_age` (an idle
/// connection and MAX_IDLE_AGE, a resolved name and DNS_TTL).
fn younger_than(max_age: Duration, since: Instant, now: Instant) -> bool {
    now.duration_since(since) < max_age
}

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

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A connection with its read buffer (`buf[pos..end]` is read and not yet consumed) and the
/// buffer its requests are written into, both kept for the connection's life.
struct Connection {
    conn: Conn,
    buf: Box<[u8]>,
    pos: usize,
    end: usize,
    out: Vec<u8>,
}

/// A connection waiting in the pool.
struct Idle {
    https: bool,
    authority: String,
    since: Instant,
    conn: Connection,
}

/// The client's HTTP side: connection pool, DNS cache, TLS configuration, and the sockets of
/// every open connection (so that `shutdown` can interrupt calls in progress on other threads).
pub struct Agent {
    connect_timeout: Duration,
    user_agent: String,
    extra_roots: Vec<Vec<u8>>,
    /// Made on the first https connection (a plain-HTTP client never pays for it).
    tls: OnceLock<Result<Arc<ClientConfig>, String>>,
    resolver: CachingResolver,
    idle: Mutex<Vec<Idle>>,
    max_idle_per_host: usize,
    live: Mutex<Vec<Weak<Socket>>>,
    closed: AtomicBool,
}

/// The client's HTTP agent.
pub fn build_agent(cfg: &Config) -> Agent {
    Agent {
        connect_timeout: cfg.connect_timeout,
        user_agent: user_agent(cfg),
        extra_roots: cfg.extra_roots.clone(),
        tls: OnceLock::new(),
        resolver: CachingResolver::default(),
        idle: Mutex::new(Vec::new()),
        max_idle_per_host: (cfg.worker_threads as usize).max(4) * 2,
        live: Mutex::new(Vec::new()),
        closed: AtomicBool::new(false),
    }
}

/// Where a URL points: `scheme://authority/path`.
struct Target<'a> {
    https: bool,
    /// As written in the URL (the Host header and the pool's key).
    authority: &'a str,
    /// Without an IPv6 literal's brackets.
    host: &'a str,
    port: u16,
    /// With its query, if any; "/" when the URL has none.
    path: &'a str,
}

fn target(url: &str) -> Option<Target<'_>> {
    let (https, rest) = match url.strip_prefix("https://") {
        Some(r) => (true, r),
        None => (false, url.strip_prefix("http://")?),
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => rest.split_at(i),
        Some(_) => return None,
        None => (rest, "/"),
    };
    let default_port = if https { 443 } else { 80 };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']')?;
        match after.strip_prefix(':') {
            Some(p) => (h, p.parse().ok()?),
            None if after.is_empty() => (h, default_port),
            None => return None,
        }
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().ok()?),
            None => (authority, default_port),
        }
    };
    if host.is_empty() {
        return None;
    }
    Some(Target { https, authority, host, port, path })
}

impl Agent {
    /// After this, every request in flight is interrupted (its socket is shut down) and every
    /// later one fails at once.
    pub fn shutdown(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let live = std::mem::take(&mut *lock(&self.live));
        for sock in live.iter().filter_map(Weak::upgrade) {
            sock.shutdown();
        }
        lock(&self.idle).clear();
    }

    fn tls_config(&self) -> io::Result<Arc<ClientConfig>> {
        match self.tls.get_or_init(|| client_config(&self.extra_roots)) {
            Ok(c) => Ok(c.clone()),
            Err(e) => Err(io::Error::new(io::ErrorKind::InvalidData, e.clone())),
        }
    }

    /// A pooled connection to `t` that looks usable, newest first.
    fn pooled(&self, t: &Target<'_>) -> Option<Connection> {
        loop {
            let idle = {
                let mut pool = lock(&self.idle);
                let i = pool.iter().rposition(|c| c.https == t.https && c.authority == t.authority)?;
                pool.remove(i)
            };
            if younger_than(MAX_IDLE_AGE, idle.since, Instant::now()) && idle.conn.conn.looks_open() {
                return Some(idle.conn);
            }
        }
    }

    /// A new connection to `t` (DNS, TCP, TLS), registered for `shutdown`.
    fn connect(&self, t: &Target<'_>, deadline: Instant) -> io::Result<Connection> {
        let addrs = self.resolver.resolve(t.host, t.port)?;
        let tls = if t.https {
            let name = ServerName::try_from(t.host.to_string())
                .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "invalid TLS server name"))?;
            Some((self.tls_config()?, name))
        } else {
            None
        };
        let register = |sock: &Arc<Socket>| {
            let mut live = lock(&self.live);
            if self.closed.load(Ordering::SeqCst) {
                return Err(shut_down());
            }
            live.retain(|w| w.strong_count() > 0);
            live.push(Arc::downgrade(sock));
            Ok(())
        };
        let conn = Conn::open(&addrs, self.connect_timeout, deadline, tls, register)?;
        Ok(Connection { conn, buf: vec![0; INPUT_BUFFER_BYTES].into_boxed_slice(), pos: 0, end: 0, out: Vec::new() })
    }

    /// Back into the pool, unless the client is closing or the pool is full.
    fn put_back(&self, t: &Target<'_>, conn: Connection) {
        if self.closed.load(Ordering::SeqCst) {
            return;
        }
        let mut pool = lock(&self.idle);
        let now = Instant::now();
        pool.retain(|c| younger_than(MAX_IDLE_AGE, c.since, now));
        let same = pool.iter().filter(|c| c.https == t.https && c.authority == t.authority).count();
        if same >= self.max_idle_per_host {
            if let Some(i) = pool.iter().position(|c| c.https == t.https && c.authority == t.authority) {
                pool.remove(i);
            }
        }
        if pool.len() >= MAX_IDLE {
            pool.remove(0);
        }
        pool.push(Idle { https: t.https, authority: t.authority.to_string(), since: now, conn });
    }
}

fn shut_down() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionAborted, "the client is shutting down")
}

/// When a name was resolved, and to what.
type Resolved = (Instant, Vec<SocketAddr>);

/// Answers IP literals directly and caches names for a short time (no thread per lookup).
#[derive(Default)]
struct CachingResolver {
    cache: Mutex<HashMap<(String, u16), Resolved>>,
}

impl CachingResolver {
    fn resolve(&self, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, port)]);
        }
        let key = (host.to_ascii_lowercase(), port);
        if let Some((at, addrs)) = lock(&self.cache).get(&key) {
            if younger_than(DNS_TTL, *at, Instant::now()) {
                return Ok(addrs.clone());
            }
        }
        let addrs: Vec<SocketAddr> = (host, port).to_socket_addrs()?.take(16).collect();
        if addrs.is_empty() {
            return Err(io::Error::new(io::ErrorKind::NotFound, format!("{host}: no address found")));
        }
        lock(&self.cache).insert(key, (Instant::now(), addrs.clone()));
        Ok(addrs)
    }
}

/// What went wrong with one exchange, before it becomes a [`TransportError`].
enum Failure {
    Io(io::Error),
    /// The server's bytes are not HTTP/1.1 as this client reads it.
    Protocol(String),
    TooLarge,
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Failure {
        Failure::Io(e)
    }
}

/// `before_response`: no response head was read yet (so resending is safe, for a network error).
fn map_error(f: Failure, phase: &str, before_response: bool) -> TransportError {
    let (kind, retryable, message) = match f {
        Failure::Io(e) => match e.kind() {
            io::ErrorKind::TimedOut => (TransportKind::Timeout, false, format!("timed out {phase}")),
            // A TLS failure (unknown issuer, bad name, alert) reads as InvalidData: sending the
            // same handshake again cannot help, so it is final.
            io::ErrorKind::InvalidData => (TransportKind::Network, false, format!("network error {phase}: {e}")),
            _ => (TransportKind::Network, before_response, format!("network error {phase}: {e}")),
        },
        Failure::Protocol(why) => (TransportKind::Network, false, format!("network error {phase}: {why}")),
        Failure::TooLarge => {
            (TransportKind::TooLarge, false, format!("response body exceeds the {MAX_BODY_BYTES} byte cap"))
        }
    };
    TransportError { kind, message, retryable }
}

/// One request, as the transport sends it.
pub struct Request<'a> {
    pub method: Method,
    pub url: &'a str,
    /// `x-xbl-contract-version` ("": not sent).
    pub contract: &'static str,
    /// The JSON body of a POST (sent with Content-Type and Content-Length; `None`: empty).
    pub body: Option<&'a [u8]>,
    /// Checked (visible ASCII and space) before it got here, as is the signature.
    pub authorization: Option<&'a str>,
    /// `Signature` header, when the token provider gave one.
    pub signature: Option<&'a str>,
}

/// How the body of an answer ends.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Framing {
    /// No body (HEAD, 204, 304).
    Empty,
    Length(u64),
    Chunked,
    /// Until the server closes the connection.
    UntilClose,
}

/// What the client uses of a response head.
struct Head {
    status: u16,
    correlation_id: String,
    retry_after: Option<Duration>,
    framing: Framing,
    /// The server asked to close the connection after this answer (or it is HTTP/1.0).
    close: bool,
}

/// A header value as text when it is visible ASCII (with spaces and tabs), trimmed.
fn text(v: &[u8]) -> Option<&str> {
    if v.iter().all(|&b| (0x20..=0x7e).contains(&b) || b == b'\t') {
        std::str::from_utf8(v).ok().map(str::trim)
    } else {
        None
    }
}

/// True when the comma-separated list `v` holds `token` (case-insensitively).
fn has_token(v: &[u8], token: &str) -> bool {
    v.split(|&b| b == b',').any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}

fn parse_head(resp: &httparse::Response<'_, '_>, head_request: bool) -> Result<Head, Failure> {
    let status = resp.code.unwrap_or(0);
    let mut head = Head {
        status,
        correlation_id: String::new(),
        retry_after: None,
        framing: Framing::UntilClose,
        close: resp.version != Some(1),
    };
    let mut length: Option<u64> = None;
    let mut chunked = false;
    let mut encoded = false;
    for h in resp.headers.iter() {
        let name = h.name;
        if name.eq_ignore_ascii_case("content-length") {
            let v = text(h.value).and_then(|v| v.parse::<u64>().ok().filter(|_| v.bytes().all(|b| b.is_ascii_digit())));
            match (v, length) {
                (Some(n), None) => length = Some(n),
                (Some(n), Some(m)) if n == m => {}
                _ => return Err(Failure::Protocol("invalid Content-Length".into())),
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            encoded = true;
            // Chunked when it is the last coding; any other framing is read until the close.
            chunked =
                h.value.rsplit(|&b| b == b',').next().is_some_and(|t| t.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case("connection") {
            if has_token(h.value, "close") {
                head.close = true;
            } else if has_token(h.value, "keep-alive") && resp.version == Some(0) {
                head.close = false;
            }
        } else if name.eq_ignore_ascii_case("x-xblcorrelationid") {
            if let Some(v) = text(h.value) {
                v.clone_into(&mut head.correlation_id);
            }
        } else if name.eq_ignore_ascii_case("retry-after") {
            head.retry_after = text(h.value).and_then(|v| parse_retry_after(v, SystemTime::now()));
        }
    }
    head.framing = if head_request || status == 204 || status == 304 {
        Framing::Empty
    } else if encoded {
        if chunked {
            Framing::Chunked
        } else {
            Framing::UntilClose
        }
    } else {
        length.map_or(Framing::UntilClose, Framing::Length)
    };
    if encoded && length.is_some() {
        // Both framings given: read by Transfer-Encoding, and do not trust the connection after it.
        head.close = true;
    }
    Ok(head)
}

/// What to do when a body is longer than its cap.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Over {
    Fail,
    /// Keep the first `cap` bytes (the connection is then not reused).
    Truncate,
}

impl Connection {
    /// Reads more into the buffer, keeping `buf[pos..end]`. `Ok(false)` at the end of the stream.
    fn fill(&mut self) -> Result<bool, Failure> {
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
        } else if self.end == self.buf.len() {
            // Full: move what is still to read to the front (a no-op when it is there already).
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.end == self.buf.len() {
            return Err(Failure::Protocol(format!("a response line or head exceeds {INPUT_BUFFER_BYTES} bytes")));
        }
        let n = self.conn.read(&mut self.buf[self.end..])?;
        self.end += n;
        Ok(n > 0)
    }

    /// Writes the request into `out` (one allocation for the connection's life, not per request).
    fn encode(&mut self, req: &Request<'_>, t: &Target<'_>, user_agent: &str) {
        fn header(o: &mut Vec<u8>, name: &[u8], value: &[u8]) {
            o.extend_from_slice(name);
            o.extend_from_slice(value);
            o.extend_from_slice(b"\r\n");
        }
        let o = &mut self.out;
        o.clear();
        o.extend_from_slice(req.method.as_str().as_bytes());
        o.push(b' ');
        o.extend_from_slice(t.path.as_bytes());
        o.extend_from_slice(b" HTTP/1.1\r\n");
        header(o, b"host: ", t.authority.as_bytes());
        header(o, b"user-agent: ", user_agent.as_bytes());
        o.extend_from_slice(b"accept: */*\r\n");
        if !req.contract.is_empty() {
            header(o, b"x-xbl-contract-version: ", req.contract.as_bytes());
        }
        if let Some(a) = req.authorization {
            header(o, b"authorization: ", a.as_bytes());
        }
        if let Some(s) = req.signature {
            header(o, b"signature: ", s.as_bytes());
        }
        if req.method == Method::Post {
            let body = req.body.unwrap_or_default();
            o.extend_from_slice(b"content-type: application/json\r\ncontent-length: ");
            push_decimal(o, body.len());
            o.extend_from_slice(b"\r\n\r\n");
            o.extend_from_slice(body);
        } else {
            o.extend_from_slice(b"\r\n");
        }
    }

    /// Reads up to the end of a response head other than 1xx. A failure says whether any of the
    /// answer had arrived (an interim answer or part of a head): then the server has the request
    /// and it is not sent again.
    fn read_head(&mut self, head_request: bool) -> Result<Head, (Failure, bool)> {
        let mut answered = false;
        self.read_head_into(head_request, &mut answered).map_err(|e| (e, answered))
    }

    fn read_head_into(&mut self, head_request: bool, answered: &mut bool) -> Result<Head, Failure> {
        loop {
            // (An empty buffer parses as Partial: then more is read.)
            let mut headers = [httparse::EMPTY_HEADER; MAX_RESPONSE_HEADERS];
            let mut resp = httparse::Response::new(&mut headers);
            match resp.parse(&self.buf[self.pos..self.end]) {
                Ok(httparse::Status::Complete(n)) => {
                    let code = resp.code.unwrap_or(0);
                    if (100..200).contains(&code) {
                        if code == 101 {
                            return Err(Failure::Protocol("unexpected 101 Switching Protocols".into()));
                        }
                        // An interim answer (100 Continue, 103 Early Hints): the real one follows.
                        self.pos += n;
                        continue;
                    }
                    let head = parse_head(&resp, head_request)?;
                    self.pos += n;
                    return Ok(head);
                }
                Ok(httparse::Status::Partial) => {}
                Err(e) => return Err(Failure::Protocol(format!("invalid response head: {e}"))),
            }
            if !self.fill()? {
                return Err(Failure::Io(if *answered {
                    io::Error::new(io::ErrorKind::UnexpectedEof, "the connection closed inside the response head")
                } else {
                    io::Error::new(io::ErrorKind::UnexpectedEof, "the connection closed before any response")
                }));
            }
            *answered = true;
        }
    }

    /// Appends `n` body bytes to `out`: first what the buffer holds, then straight from the connection.
    fn read_exact_into(&mut self, out: &mut Vec<u8>, n: usize) -> Result<(), Failure> {
        let take = n.min(self.end - self.pos);
        out.extend_from_slice(&self.buf[self.pos..self.pos + take]);
        self.pos += take;
        let mut got = out.len();
        let want = got + (n - take);
        out.resize(want, 0); // nothing to do when the buffer held it all
        while got < want {
            let k = self.conn.read(&mut out[got..])?;
            if k == 0 {
                out.truncate(got);
                return Err(Failure::Io(io::ErrorKind::UnexpectedEof.into()));
            }
            got += k;
        }
        Ok(())
    }

    /// The next line (without CR LF), as a range of the buffer, consumed.
    fn line(&mut self) -> Result<std::ops::Range<usize>, Failure> {
        loop {
            if let Some(i) = self.buf[self.pos..self.end].iter().position(|&b| b == b'\n') {
                let start = self.pos;
                let mut stop = start + i;
                self.pos = stop + 1;
                if stop > start && self.buf[stop - 1] == b'\r' {
                    stop -= 1;
                }
                return Ok(start..stop);
            }
            if !self.fill()? {
                return Err(Failure::Io(io::ErrorKind::UnexpectedEof.into()));
            }
        }
    }

    /// Reads the body into `out` (at most `cap` bytes). `Ok(true)`: the whole answer was consumed,
    /// so the connection can serve another request.
    fn read_body(&mut self, framing: Framing, cap: usize, over: Over, out: &mut Vec<u8>) -> Result<bool, Failure> {
        match framing {
            Framing::Empty => Ok(true),
            Framing::Length(n) => {
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                if n > cap {
                    if over == Over::Fail {
                        return Err(Failure::TooLarge);
                    }
                    self.read_exact_into(out, cap)?;
                    return Ok(false);
                }
                out.reserve_exact(n);
                self.read_exact_into(out, n)?;
                Ok(true)
            }
            Framing::Chunked => loop {
                let r = self.line()?;
                let size_text = self.buf[r].split(|&b| b == b';').next().unwrap_or_default().trim_ascii();
                let size = std::str::from_utf8(size_text)
                    .ok()
                    .filter(|s| !s.is_empty() && s.len() <= 15)
                    .and_then(|s| usize::from_str_radix(s, 16).ok())
                    .ok_or_else(|| Failure::Protocol("invalid chunk size".into()))?;
                if size == 0 {
                    // Trailer fields, up to the empty line.
                    while !self.line()?.is_empty() {}
                    return Ok(true);
                }
                if out.len() + size > cap {
                    if over == Over::Fail {
                        return Err(Failure::TooLarge);
                    }
                    let room = cap - out.len();
                    self.read_exact_into(out, room)?;
                    return Ok(false);
                }
                self.read_exact_into(out, size)?;
                if !self.line()?.is_empty() {
                    return Err(Failure::Protocol("a chunk is longer than its size".into()));
                }
            },
            Framing::UntilClose => loop {
                let avail = &self.buf[self.pos..self.end];
                if out.len() + avail.len() > cap {
                    if over == Over::Fail {
                        return Err(Failure::TooLarge);
                    }
                    out.extend_from_slice(&avail[..cap - out.len()]);
                    return Ok(false);
                }
                out.extend_from_slice(avail);
                self.pos = self.end;
                if !self.fill()? {
                    return Ok(false);
                }
            },
        }
    }
}

/// Appends `n` in decimal.
fn push_decimal(o: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    o.extend_from_slice(&digits[i..]);
}

/// Sends one request and reads the whole answer, all within `timeout` and the body caps.
pub fn exchange(agent: &Agent, req: &Request<'_>, timeout: Duration) -> Result<Reply, TransportError> {
    const BEFORE: &str = "before any response";
    let deadline = Instant::now() + timeout;
    if agent.closed.load(Ordering::SeqCst) {
        return Err(map_error(Failure::Io(shut_down()), BEFORE, false));
    }
    let t = target(req.url)
        .ok_or_else(|| map_error(Failure::Protocol(format!("invalid URL {:?}", req.url)), BEFORE, false))?;
    let mut c = match agent.pooled(&t) {
        Some(c) => c,
        None => agent.connect(&t, deadline).map_err(|e| map_error(Failure::Io(e), BEFORE, true))?,
    };
    c.conn.set_deadline(deadline);
    c.encode(req, &t, &agent.user_agent);
    c.conn.write_all(&c.out).map_err(|e| map_error(Failure::Io(e), BEFORE, true))?;
    let head = c.read_head(req.method == Method::Head).map_err(|(e, answered)| {
        if answered {
            map_error(e, "reading the response head", false)
        } else {
            map_error(e, BEFORE, true)
        }
    })?;
    let status = head.status;
    let mut body = Vec::new();
    let (reusable, body_error) = if (200..300).contains(&status) {
        match c.read_body(head.framing, MAX_BODY_BYTES as usize, Over::Fail, &mut body) {
            Ok(whole) => (whole, None),
            Err(e) => {
                body = Vec::new();
                (false, Some(map_error(e, "reading the response body", false)))
            }
        }
    } else {
        // An error body that breaks off still tells us the status; keep what arrived.
        (c.read_body(head.framing, MAX_ERROR_BODY_BYTES, Over::Truncate, &mut body).unwrap_or(false), None)
    };
    if reusable && !head.close && c.pos == c.end {
        agent.put_back(&t, c);
    }
    Ok(Reply { status, correlation_id: head.correlation_id, retry_after: head.retry_after, body, body_error })
}

/// Sends `HEAD /` so DNS is cached and a (TLS) connection waits in the pool. The answer's status
/// does not matter.
pub fn warmup(agent: &Agent, base_url: &str, timeout: Duration) -> Result<u16, TransportError> {
    let url = format!("{base_url}/");
    let req =
        Request { method: Method::Head, url: &url, contract: "", body: None, authorization: None, signature: None };
    exchange(agent, &req, timeout).map(|r| r.status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_connection_or_a_cached_name_is_used_until_it_is_max_age_old_and_not_at_that_age() {
        let t = Instant::now();
        for age in [MAX_IDLE_AGE, DNS_TTL] {
            assert!(younger_than(age, t, t));
            assert!(younger_than(age, t, t + age - Duration::from_nanos(1)));
            assert!(!younger_than(age, t, t + age));
            assert!(!younger_than(age, t, t + age + Duration::from_secs(1)));
        }
    }

    #[test]
    fn the_resolver_answers_from_its_cache_while_an_entry_is_fresh_and_asks_again_after() {
        let r = CachingResolver::default();
        let fake = SocketAddr::from(([203, 0, 113, 9], 80));
        // A fresh entry (as if resolved just now) is the answer, whatever the case of the name.
        lock(&r.cache).insert(("localhost".into(), 80), (Instant::now(), vec![fake]));
        assert_eq!(r.resolve("LocalHost", 80).unwrap(), vec![fake]);
        // An entry older than DNS_TTL is resolved again (localhost: the hosts file, no network).
        let old = Instant::now().checked_sub(DNS_TTL + Duration::from_secs(1)).unwrap();
        lock(&r.cache).insert(("localhost".into(), 80), (old, vec![fake]));
        let again = r.resolve("localhost", 80).unwrap();
        assert!(!again.contains(&fake) && again.iter().all(|a| a.ip().is_loopback()), "{again:?}");
        // ... and the new answer is cached with a fresh time.
        let (at, cached) = lock(&r.cache).get(&("localhost".to_string(), 80)).cloned().unwrap();
        assert_eq!(cached, again);
        assert!(at.elapsed() < Duration::from_secs(5));
        // IP literals never touch the cache.
        assert_eq!(r.resolve("127.0.0.1", 8080).unwrap(), vec![SocketAddr::from(([127, 0, 0, 1], 8080))]);
        assert_eq!(lock(&r.cache).len(), 1);
    }

    #[test]
    fn the_socket_registry_forgets_closed_connections() {
        // Every connection registers its socket so that closing the client can shut it down;
        // connections that are gone must not pile up there (a client making new connections for
        // hours would grow without bound).
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let accepting = std::thread::spawn(move || {
            let mut held = Vec::new();
            for s in listener.incoming().take(20) {
                held.push(s);
            }
        });
        let agent = build_agent(&Config::default());
        let t = target(&url).unwrap();
        for _ in 0..20 {
            let deadline = Instant::now() + Duration::from_secs(5);
            drop(agent.connect(&t, deadline).unwrap());
        }
        let live = lock(&agent.live).len();
        assert!(live <= 1, "{live} registered sockets after 20 connections were closed");
        accepting.join().unwrap();
    }

    #[test]
    fn a_shutdown_interrupts_every_connection_still_open_not_only_the_newest() {
        // Registering a connection forgets the ones that are gone, and only those: each of three
        // open connections is shut down by the client's shutdown (the server sees each one end).
        use std::io::Read;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let agent = build_agent(&Config::default());
        let t = target(&url).unwrap();
        let mut open = Vec::new();
        let mut accepted = Vec::new();
        for _ in 0..3 {
            open.push(agent.connect(&t, Instant::now() + Duration::from_secs(5)).unwrap());
            let (s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
            accepted.push(s);
        }
        agent.shutdown();
        for (i, mut s) in accepted.into_iter().enumerate() {
            let mut b = [0u8; 1];
            match s.read(&mut b) {
                Ok(0) => {}
                other => panic!("connection {i} of 3 was not shut down by the client's shutdown: {other:?}"),
            }
        }
        drop(open);
    }

    #[test]
    fn urls_are_split_into_scheme_authority_and_path() {
        let t = target("https://gameserverms.xboxlive.com/titles/1/clusters").unwrap();
        assert!(t.https);
        assert_eq!(
            (t.authority, t.host, t.port, t.path),
            ("gameserverms.xboxlive.com", "gameserverms.xboxlive.com", 443, "/titles/1/clusters")
        );
        let t = target("http://127.0.0.1:8080").unwrap();
        assert_eq!((t.https, t.authority, t.host, t.port, t.path), (false, "127.0.0.1:8080", "127.0.0.1", 8080, "/"));
        let t = target("http://[::1]:9/x?a=1").unwrap();
        assert_eq!((t.authority, t.host, t.port, t.path), ("[::1]:9", "::1", 9, "/x?a=1"));
        assert_eq!(target("http://[::1]/").unwrap().port, 80);
        for bad in ["ftp://h/", "http://", "http://:80/", "http://h:x/", "http://[::1/", "http://h?q", "http://[::1]x/"]
        {
            assert!(target(bad).is_none(), "{bad}");
        }
    }

    fn head_of(raw: &[u8], head_request: bool) -> Result<Head, Failure> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_RESPONSE_HEADERS];
        let mut resp = httparse::Response::new(&mut headers);
        assert!(resp.parse(raw).unwrap().is_complete());
        parse_head(&resp, head_request)
    }

    #[test]
    fn framing_follows_the_head() {
        let f = |raw: &str| head_of(raw.as_bytes(), false).ok().map(|h| (h.framing, h.close));
        assert_eq!(f("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"), Some((Framing::Length(5), false)));
        assert_eq!(
            f("HTTP/1.1 200 OK\r\ncontent-length: 5\r\nContent-Length: 5\r\n\r\n"),
            Some((Framing::Length(5), false))
        );
        assert_eq!(f("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), None);
        assert_eq!(f("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n"), None);
        assert_eq!(f("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n"), Some((Framing::Chunked, false)));
        assert_eq!(
            f("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
            Some((Framing::UntilClose, false))
        );
        assert_eq!(
            f("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"),
            Some((Framing::Chunked, true))
        );
        assert_eq!(f("HTTP/1.1 200 OK\r\n\r\n"), Some((Framing::UntilClose, false)));
        assert_eq!(f("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"), Some((Framing::Empty, false)));
        assert_eq!(
            f("HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\nContent-Length: 0\r\n\r\n"),
            Some((Framing::Length(0), true))
        );
        assert_eq!(f("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"), Some((Framing::Length(0), true)));
        assert_eq!(
            f("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n"),
            Some((Framing::Length(0), false))
        );
        let h = head_of(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", true).ok().unwrap();
        assert_eq!(h.framing, Framing::Empty, "the answer to HEAD has no body");
    }

    #[test]
    fn correlation_id_and_retry_after_are_read_as_visible_ascii() {
        let h =
            head_of(b"HTTP/1.1 503 x\r\nX-XblCorrelationId:  abc-1 \r\nRetry-After: 7\r\n\r\n", false).ok().unwrap();
        assert_eq!((h.status, h.correlation_id.as_str(), h.retry_after), (503, "abc-1", Some(Duration::from_secs(7))));
        let h = head_of(b"HTTP/1.1 200 x\r\nx-xblcorrelationid: caf\xc3\xa9\r\n\r\n", false).ok().unwrap();
        assert_eq!(h.correlation_id, "", "a value that is not visible ASCII is ignored");
    }
}
