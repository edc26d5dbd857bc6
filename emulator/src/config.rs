//! The public configuration types: [`Config`] and what it holds.

use std::fmt;
use std::time::Duration;

/// The names of the service calls, as used in fault filters ([`FaultRule::call`]), the request
/// log, [`RecordedRequest::call`] and `/_emulator/state`.
pub const CALLS: [&str; 7] =
    ["clusters", "inlineClusters", "ticketStatus", "variants", "qosServers", "sessionHosts", "allocationStatus"];

/// How an [`crate::Emulator`] behaves. Start from [`Config::default()`] and change what matters.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on. Default `"127.0.0.1:0"` (a free port).
    pub bind: String,
    /// Titles that may call the service; empty (the default) allows every title, others get 403.
    pub allowed_titles: Vec<u32>,
    /// Simulated servers in each title's pool (shared by clusters and inline clusters). Default 2.
    pub servers_per_title: usize,
    /// A fulfilled allocation (cluster, inline cluster or session host) releases its server after
    /// this long. Default 60 s.
    pub server_lifetime: Duration,
    /// `pollIntervalMilliseconds` in every allocation answer. Default 1000.
    pub poll_interval_ms: u32,
    /// Send `pollIntervalMilliseconds` as a JSON number; the default (false) sends a string
    /// such as `"1000"`, as the service's documentation shows.
    pub poll_interval_as_number: bool,
    /// `region` of fulfilled answers (when the request names no configured region). Default
    /// `"EmulatedWest"`.
    pub region: String,
    /// `hostName` of the simulated servers, and the address UDP echo sockets and QoS beacons
    /// bind (an IPv4 or IPv6 literal, or a name that resolves locally). Default `"127.0.0.1"`.
    pub host_name: String,
    /// Whole `Authorization` values answered with 401, e.g. `"XBL3.0 x=u;expired"`.
    pub revoked_tokens: Vec<String>,
    /// Fault rules in force from the start.
    pub faults: Vec<FaultRule>,
    /// Bind a real UDP echo socket on `host_name` for each simulated server (and session host)
    /// and report its port as the GameData external port. Default false: ports 31000, 31001, ...
    /// (session hosts 32000, ...) with nothing behind.
    pub udp_echo: bool,
    /// Serve HTTPS with this certificate chain and key.
    pub tls: Option<TlsConfig>,
    /// One line per request on stderr: method, path, status, elapsed ms, correlation id, call.
    /// Default false (the binary turns it on).
    pub log: bool,
    /// QoS regions: one UDP beacon each (PlayFab QoS protocol), listed by `/qosservers` and
    /// `/xplatqosservers`. Default: one region `"EmulatedWest"` with no delay. Empty: no beacons.
    pub regions: Vec<RegionConfig>,
    /// Replies a beacon holds back at once (waiting for their delay); probes beyond it are
    /// dropped, so a flood cannot grow memory. Default 4096.
    pub qos_pending_limit: usize,
    /// What `POST /titles/{t}/variants` offers. Default [`VariantCatalogue::sample`].
    pub variants: VariantCatalogue,
    /// Session hosts (StandingBy at start) in each title's session-host pool. Default 2.
    pub session_hosts_per_title: usize,
    /// A claimed session host becomes Active after this long. Default 0 (at once).
    pub session_host_activation: Duration,
    /// Titles answered 404 by `sessionhosts` ("the title has no subscriptions").
    pub titles_without_subscriptions: Vec<u32>,
    /// The shape of error bodies. Default [`ErrorBodyStyle::Description`].
    pub error_body_style: ErrorBodyStyle,
    /// Throttle each user (the `x=<hash>` of its Authorization) per call. Default None.
    pub rate_limit: Option<RateLimit>,
    /// Answer 2xx bodies in varied but valid forms (see the crate docs, "Quirks mode"). Default false.
    pub quirks: bool,
    /// Seed of quirks mode: the same seed and the same requests give the same answers. Default 1.
    pub quirks_seed: u64,
    /// In quirks mode, also leave optional fields out now and then (`secureContext`, and
    /// `region` of answers with a host). Default true; tests that check those values turn it off.
    pub quirks_omit_optional: bool,
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
            regions: vec![RegionConfig::new("EmulatedWest")],
            qos_pending_limit: 4096,
            variants: VariantCatalogue::sample(),
            session_hosts_per_title: 2,
            session_host_activation: Duration::ZERO,
            titles_without_subscriptions: Vec::new(),
            error_body_style: ErrorBodyStyle::Description,
            rate_limit: None,
            quirks: false,
            quirks_seed: 1,
            quirks_omit_optional: true,
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

/// The shape of error bodies (both are shapes Xbox Live services answer with).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ErrorBodyStyle {
    /// `{"code":404,"source":"gsms-emulator","description":"..."}`; a 429 adds `limitType`,
    /// `currentRequests`, `maxRequests` and `periodInSeconds`.
    #[default]
    Description,
    /// `{"errorCode":"NotFound","errorMessage":"..."}`; a 429 adds the same four fields.
    ErrorCode,
}

/// A fixed-window rate limit: at most `max_requests` per `period`, counted per user and call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed in one window.
    pub max_requests: u32,
    /// Length of the window (whole seconds in the 429 body, at least 1).
    pub period: Duration,
}

/// One QoS region and the network conditions its beacon emulates.
#[derive(Clone, Debug, PartialEq)]
pub struct RegionConfig {
    /// `targetLocation` in QoS server lists, and a region inline clusters and session hosts may
    /// ask for.
    pub name: String,
    /// Each reply is sent this long after its probe arrived (milliseconds, fractions allowed).
    pub delay_ms: f64,
    /// Plus or minus up to this much, uniformly (milliseconds; the delay never goes below 0).
    pub jitter_ms: f64,
    /// Chance (0..=1) that a probe is not answered.
    pub loss: f64,
}

impl RegionConfig {
    /// A region with no delay, jitter or loss.
    pub fn new(name: impl Into<String>) -> Self {
        RegionConfig { name: name.into(), delay_ms: 0.0, jitter_ms: 0.0, loss: 0.0 }
    }

    /// Sets the delay.
    pub fn with_delay_ms(mut self, ms: f64) -> Self {
        self.delay_ms = ms;
        self
    }

    /// Sets the jitter.
    pub fn with_jitter_ms(mut self, ms: f64) -> Self {
        self.jitter_ms = ms;
        self
    }

    /// Sets the loss.
    pub fn with_loss(mut self, p: f64) -> Self {
        self.loss = p;
        self
    }

    /// Why the region cannot be used, if it cannot: an empty name or one with control
    /// characters, a delay or jitter outside 0..=60000 ms, a loss outside 0..=1.
    pub fn check(&self) -> Result<(), String> {
        if self.name.is_empty() || self.name.chars().any(|c| c.is_control()) {
            return Err(format!("region name {:?} is empty or has control characters", self.name));
        }
        check_params(self.delay_ms, self.jitter_ms, self.loss).map_err(|e| format!("region {:?}: {e}", self.name))
    }
}

/// Delays up to a minute; loss a probability.
pub(crate) fn check_params(delay_ms: f64, jitter_ms: f64, loss: f64) -> Result<(), String> {
    for (what, v) in [("delay", delay_ms), ("jitter", jitter_ms)] {
        if !v.is_finite() || !(0.0..=60_000.0).contains(&v) {
            return Err(format!("{what} {v} ms is not in 0..=60000"));
        }
    }
    if !loss.is_finite() || !(0.0..=1.0).contains(&loss) {
        return Err(format!("loss {loss} is not in 0..=1"));
    }
    Ok(())
}

/// The game variants, variant schemas and GSI sets of every title (`POST /titles/{t}/variants`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VariantCatalogue {
    /// Game variants (game modes), in rank order.
    pub variants: Vec<GameVariant>,
    /// Variant schemas.
    pub schemas: Vec<VariantSchema>,
    /// Game server image sets.
    pub gsi_sets: Vec<GsiSet>,
}

/// One game variant.
#[derive(Clone, Debug, PartialEq)]
pub struct GameVariant {
    /// Sent as `gamevariantId`.
    pub id: String,
    /// `name`.
    pub name: String,
    /// `isPublisher`, sent as `"True"`/`"False"`.
    pub is_publisher: bool,
    /// `rank`, sent as a decimal string.
    pub rank: u64,
    /// `gameVariantSchemaId`.
    pub schema_id: String,
}

/// One variant schema.
#[derive(Clone, Debug, PartialEq)]
pub struct VariantSchema {
    /// `variantSchemaId`.
    pub id: String,
    /// `name`.
    pub name: String,
    /// `schemaContent`: an XML document.
    pub content: String,
}

/// One game server image (GSI) set.
#[derive(Clone, Debug, PartialEq)]
pub struct GsiSet {
    /// `gsiSetId`.
    pub id: String,
    /// `gsiSetName`.
    pub name: String,
    /// `minRequiredPlayers`, sent as a decimal string.
    pub min_required_players: u64,
    /// `maxAllowedPlayers`, sent as a decimal string.
    pub max_allowed_players: u64,
    /// `selectionOrder`, sent as a decimal string.
    pub selection_order: u64,
    /// `variantSchemaId`.
    pub schema_id: String,
    /// `tags`: `[{"name":..,"value":..}]`.
    pub tags: Vec<(String, String)>,
}

impl VariantCatalogue {
    /// Three variants (two by the publisher), two schemas with small XML documents and two GSI
    /// sets with tags.
    pub fn sample() -> Self {
        const STANDARD: &str = "6f1d2c1e-0000-4000-8000-00000000a001";
        const COMMUNITY: &str = "6f1d2c1e-0000-4000-8000-00000000a002";
        let schema = |id: &str, name: &str, limit: u32| VariantSchema {
            id: id.to_string(),
            name: name.to_string(),
            content: format!(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?><variantSchema name=\"{name}\">\
                 <setting name=\"scoreLimit\" type=\"int\" default=\"{limit}\"/>\
                 <setting name=\"timeLimitMinutes\" type=\"int\" default=\"10\"/></variantSchema>"
            ),
        };
        let variant = |n: u32, name: &str, is_publisher: bool, schema_id: &str| GameVariant {
            id: format!("3b0e7f52-0000-4000-8000-00000000b00{n}"),
            name: name.to_string(),
            is_publisher,
            rank: n as u64,
            schema_id: schema_id.to_string(),
        };
        VariantCatalogue {
            variants: vec![
                variant(1, "Deathmatch", true, STANDARD),
                variant(2, "Capture the Flag", true, STANDARD),
                variant(3, "Community Playlist", false, COMMUNITY),
            ],
            schemas: vec![schema(STANDARD, "Standard rules", 50), schema(COMMUNITY, "Community rules", 25)],
            gsi_sets: vec![
                GsiSet {
                    id: "9c4a1d7e-0000-4000-8000-00000000c001".to_string(),
                    name: "Standard (8 players)".to_string(),
                    min_required_players: 2,
                    max_allowed_players: 8,
                    selection_order: 1,
                    schema_id: STANDARD.to_string(),
                    tags: vec![("mode".into(), "ranked".into())],
                },
                GsiSet {
                    id: "9c4a1d7e-0000-4000-8000-00000000c002".to_string(),
                    name: "Large (16 players)".to_string(),
                    min_required_players: 4,
                    max_allowed_players: 16,
                    selection_order: 2,
                    schema_id: COMMUNITY.to_string(),
                    tags: vec![("mode".into(), "casual".into()), ("size".into(), "large".into())],
                },
            ],
        }
    }
}

/// The state of an inline-clusters ticket (`GET /titles/{t}/tickets/{id}/status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TicketStatus {
    /// A server was given to the ticket.
    Active,
    /// Waiting in the title's queue.
    Queued,
    /// Ended without (or after) a server: abortIfQueued, released, or set so.
    Aborted,
    /// Failed (set through the admin API or [`crate::Emulator::set_ticket_status`]).
    Error,
}

impl TicketStatus {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Active => "Active",
            TicketStatus::Queued => "Queued",
            TicketStatus::Aborted => "Aborted",
            TicketStatus::Error => "Error",
        }
    }

    /// Case-insensitive wire spelling.
    pub fn parse(s: &str) -> Option<TicketStatus> {
        [TicketStatus::Active, TicketStatus::Queued, TicketStatus::Aborted, TicketStatus::Error]
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
    }
}

/// A fault injected into service calls (admin requests and anything that is not one of the
/// calls, such as a warm-up `HEAD /`, are never faulted and use no rule up).
///
/// Rules are rolled in order for each service call. A rule fires when it is not spent, its
/// `call` filter matches and its probability roll succeeds; a firing rule that only adds
/// latency lets the following rules be rolled as well, and the first firing rule with a
/// `status` or `drop_connection` ends the roll. A rule that fired `times` times is removed.
///
/// `FaultRule::default()` has probability 0 and never fires: start from [`FaultRule::new`]
/// or one of the shorthands.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultRule {
    /// Answer this status instead of the real answer, with an error body of the configured
    /// style (a 429 with the throttling body).
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
    /// Only for this call (one of [`CALLS`]); None = every call.
    pub call: Option<String>,
}

impl FaultRule {
    /// A rule that always fires and does nothing yet (probability 1, forever, every call).
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

    /// Limits the rule to one call, by its name in [`CALLS`] (e.g. `"ticketStatus"`).
    pub fn for_call(mut self, call: impl Into<String>) -> Self {
        self.call = Some(call.into());
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
        if let Some(call) = &self.call {
            if !CALLS.contains(&call.as_str()) {
                return Err(format!("fault call {call:?} is not one of {}", CALLS.join(", ")));
            }
        }
        Ok(())
    }
}

/// A request the emulator received outside `/_emulator/`, as [`crate::Emulator::requests`]
/// reports it.
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
    /// The call (one of [`CALLS`]) when method and path named one.
    pub call: Option<&'static str>,
    /// The `X-XblCorrelationId` of the answer.
    pub correlation_id: String,
}

impl RecordedRequest {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}
