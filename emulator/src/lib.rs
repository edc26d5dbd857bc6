//! # gsms-emulator
//!
//! A local emulator of Xbox Live Compute's GSMS call `POST /titles/{titleId}/clusters`
//! (see `PROTOCOL.md`), for libgsms tests, samples and game developers.
//!
//! It is a real HTTP/1.1 server on a loopback port (keep-alive, optional TLS) with:
//! header and authorization checks, body validation, a pool of simulated servers per title,
//! a FIFO queue when a pool is full, `abortIfQueued`, idempotent repeat POSTs per sessionId,
//! servers released after a lifetime, and fault injection (status codes with `Retry-After`,
//! latency, dropped connections), driven from Rust ([`Emulator`]) or over HTTP (the admin API
//! under `/_emulator/`).
//!
//! ```no_run
//! let emu = gsms_emulator::Emulator::start(gsms_emulator::Config::default()).unwrap();
//! println!("POST {}/titles/1234/clusters", emu.base_url());
//! ```
//!
//! ## Order of checks for a request to the service
//!
//! 1. fault rules (latency, dropped connection, injected status with `Retry-After`);
//! 2. path `/titles/{decimal u32}/clusters`, else 404;
//! 3. method POST, else 405;
//! 4. `x-xbl-contract-version: 1`, else 400;
//! 5. `Authorization: XBL3.0 x=<hash>;<token>` present, well formed and not revoked, else 401;
//! 6. title allowed, else 403;
//! 7. `Content-Type: application/json` (parameters allowed), else 415;
//! 8. body at most 64 KiB, else 413;
//! 9. body a JSON object with an MPSD session path in `sessionId` and an optional
//!    `abortIfQueued` (boolean, `"true"`/`"false"` or null), else 400.
//!
//! ## Admin API (no auth; not counted or recorded)
//!
//! | request | effect |
//! |---|---|
//! | `GET /_emulator/state` | titles, servers (session, remaining lifetime), queues, fault rules, request count |
//! | `POST /_emulator/reset` | same as [`Emulator::reset`] |
//! | `GET /_emulator/faults` | the fault rules |
//! | `POST /_emulator/faults` | appends a rule: `{"status":503,"retryAfter":"1","latencyMs":0,"dropConnection":false,"times":2,"probability":1.0}` (every field optional; probability defaults to 1) |
//! | `DELETE /_emulator/faults` | clears the rules |
//! | `POST /_emulator/release?title=N` | same as [`Emulator::release_all`] |

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod http;
mod server;
mod service;
#[cfg(any(test, feature = "test-tls"))]
mod test_tls;
mod udp;

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

pub use server::Emulator;
#[cfg(any(test, feature = "test-tls"))]
pub use test_tls::generate_test_tls;

/// How an [`Emulator`] behaves. Start from [`Config::default()`] and change what matters.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on. Default `"127.0.0.1:0"` (a free port).
    pub bind: String,
    /// Titles that may request servers; empty (the default) allows every title, others get 403.
    pub allowed_titles: Vec<u32>,
    /// Simulated servers in each title's pool. Default 2.
    pub servers_per_title: usize,
    /// A fulfilled session releases its server after this long. Default 60 s.
    pub server_lifetime: Duration,
    /// `pollIntervalMilliseconds` in every allocation answer. Default 1000.
    pub poll_interval_ms: u32,
    /// Send `pollIntervalMilliseconds` as a JSON number; the default (false) sends a string
    /// such as `"1000"`, as the service's documentation shows.
    pub poll_interval_as_number: bool,
    /// `region` of fulfilled answers. Default `"EmulatedWest"`.
    pub region: String,
    /// `hostName` of the simulated servers (and the address UDP echo sockets bind). Default `"127.0.0.1"`.
    pub host_name: String,
    /// Whole `Authorization` values answered with 401, e.g. `"XBL3.0 x=u;expired"`.
    pub revoked_tokens: Vec<String>,
    /// Fault rules in force from the start.
    pub faults: Vec<FaultRule>,
    /// Bind a real UDP echo socket on `host_name` for each simulated server and report its port
    /// as the GameData external port. Default false: ports 31000, 31001, ... with nothing behind.
    pub udp_echo: bool,
    /// Serve HTTPS with this certificate chain and key.
    pub tls: Option<TlsConfig>,
    /// One line per request on stderr: method, path, status, elapsed ms, correlation id.
    /// Default false (the binary turns it on).
    pub log: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: "127.0.0.1:0".to_string(),
            allowed_titles: Vec::new(),
            servers_per_title: 2,
            server_lifetime: Duration::from_secs(60),
            poll_interval_ms: 1000,
            poll_interval_as_number: false,
            region: "EmulatedWest".to_string(),
            host_name: "127.0.0.1".to_string(),
            revoked_tokens: Vec::new(),
            faults: Vec::new(),
            udp_echo: false,
            tls: None,
            log: false,
        }
    }
}

/// A certificate chain (leaf first) and its private key (PKCS#8, PKCS#1 or SEC1), both PEM.
#[derive(Clone)]
pub struct TlsConfig {
    /// PEM certificates, the server's leaf first.
    pub cert_pem: Vec<u8>,
    /// PEM private key of the leaf.
    pub key_pem: Vec<u8>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("cert_pem", &format_args!("{} bytes", self.cert_pem.len()))
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// A fault injected into requests to the service (admin requests are never faulted).
///
/// Rules are rolled in order for each request. A rule fires when it is not spent and its
/// probability roll succeeds; a firing rule that only adds latency lets the following rules be
/// rolled as well, and the first firing rule with a `status` or `drop_connection` ends the roll.
/// A rule that fired `times` times is removed.
///
/// `FaultRule::default()` has probability 0 and never fires: start from [`FaultRule::new`]
/// or one of the shorthands.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultRule {
    /// Answer this status instead of the real answer; body `{"code":..,"message":..}`.
    pub status: Option<u16>,
    /// `Retry-After` value sent with `status`, verbatim (seconds or an HTTP date).
    pub retry_after: Option<String>,
    /// Sleep this long before answering (also when `status` is None).
    pub latency_ms: u64,
    /// Read the request, then close the connection without sending a byte.
    pub drop_connection: bool,
    /// Apply to the next N requests the rule fires for, then it is spent; None = forever.
    pub times: Option<u32>,
    /// Chance (0..=1) that the rule fires for a given request.
    pub probability: f64,
}

impl FaultRule {
    /// A rule that always fires and does nothing yet (probability 1, forever).
    pub fn new() -> Self {
        FaultRule { probability: 1.0, ..FaultRule::default() }
    }

    /// Always answer `status`.
    pub fn http_status(status: u16) -> Self {
        FaultRule { status: Some(status), ..FaultRule::new() }
    }

    /// Always wait `ms` before answering normally.
    pub fn latency(ms: u64) -> Self {
        FaultRule { latency_ms: ms, ..FaultRule::new() }
    }

    /// Always close the connection without answering.
    pub fn dropped_connection() -> Self {
        FaultRule { drop_connection: true, ..FaultRule::new() }
    }

    /// Sets the `Retry-After` value.
    pub fn with_retry_after(mut self, value: impl Into<String>) -> Self {
        self.retry_after = Some(value.into());
        self
    }

    /// Sets the latency.
    pub fn with_latency_ms(mut self, ms: u64) -> Self {
        self.latency_ms = ms;
        self
    }

    /// Limits the rule to the next `n` requests it fires for.
    pub fn with_times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Sets the probability (0..=1).
    pub fn with_probability(mut self, p: f64) -> Self {
        self.probability = p;
        self
    }

    /// Why the rule cannot be used, if it cannot.
    pub(crate) fn check(&self) -> Result<(), String> {
        if let Some(s) = self.status {
            if !(100..=599).contains(&s) {
                return Err(format!("fault status {s} is not in 100..=599"));
            }
        }
        if let Some(ra) = &self.retry_after {
            if ra.chars().any(|c| c.is_control()) {
                return Err("fault retryAfter contains control characters".into());
            }
        }
        if !(0.0..=1.0).contains(&self.probability) {
            return Err(format!("fault probability {} is not in 0..=1", self.probability));
        }
        Ok(())
    }
}

/// A request the service received, as [`Emulator::requests`] reports it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// Method as sent.
    pub method: String,
    /// Request target as sent (path and query).
    pub path: String,
    /// Headers as sent, in order (names keep the sender's case).
    pub headers: Vec<(String, String)>,
    /// Body bytes (empty when the body was too large to read).
    pub body: Vec<u8>,
    /// Status answered; 0 when the connection was dropped by a fault.
    pub status: u16,
}

impl RecordedRequest {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// The URL scheme and host part for an address the emulator listens on.
pub(crate) fn base_url_for(addr: SocketAddr, tls: bool) -> String {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let host = match ip {
        // Test certificates name "localhost"; it resolves to 127.0.0.1.
        IpAddr::V4(v4) if tls && v4 == Ipv4Addr::LOCALHOST => "localhost".to_string(),
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => format!("[{v6}]"),
    };
    let scheme = if tls { "https" } else { "http" };
    format!("{scheme}://{host}:{}", addr.port())
}
