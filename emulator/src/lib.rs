//! # gsms-emulator
//!
//! A local emulator of Xbox Live Compute's game-server service (GSMS) and its discovery
//! service: the seven calls of the family (clusters, inline clusters and ticket status,
//! variants, QoS servers, session hosts and allocation status; `PROTOCOL.md`, `FAMILY.md`) and
//! QoS beacons, for libgsms tests, samples and game developers.
//!
//! It is a real HTTP/1.1 server on a loopback port (keep-alive, optional TLS) with header and
//! authorization checks, body validation, a pool of simulated servers per title with a FIFO
//! queue, tickets, session hosts, a variants catalogue, one UDP QoS beacon per region with
//! settable delay, jitter and loss, fault injection (status codes with `Retry-After`, latency,
//! dropped connections, per call), an optional rate limit and a quirks mode, driven from Rust
//! ([`Emulator`]) or over HTTP (the admin API under `/_emulator/`). The same URL serves both
//! hosts (`gameserverms` and `gameserverds`).
//!
//! ```no_run
//! let emu = gsms_emulator::Emulator::start(gsms_emulator::Config::default()).unwrap();
//! println!("POST {}/titles/1234/clusters", emu.base_url());
//! ```
//!
//! ## The calls
//!
//! | call name | method, path | contract | answer |
//! |---|---|---|---|
//! | `clusters` | `POST /titles/{t}/clusters` | 1 | `pollIntervalMilliseconds`, `fulfillmentState` (Fulfilled, Queued, Aborted), and once Fulfilled `hostName`, `region`, `portMappings`, `secureContext` |
//! | `inlineClusters` | `POST /titles/{t}/inlineclusters` | 2 | as clusters |
//! | `ticketStatus` | `GET /titles/{t}/tickets/{ticketId}/status` | 6 | `ticketId`, `titleId`, `status` (Active, Queued, Aborted, Error), `description`, `region`; once Active `clusterId`, `hostName`, `secureContext`, `portMappings`, `gameHostId` |
//! | `variants` | `POST /titles/{t}/variants` | 1 | `variants`, `variantSchemas`, `gsiSets` |
//! | `qosServers` | `GET /qosservers`, `GET /xplatqosservers` | 1 | `qosServers`: `serverFqdn` (`host:port` of a beacon), `serverSecureDeviceAddress`, `targetLocation` |
//! | `sessionHosts` | `POST /titles/{t}/sessionhosts` | 8 | `hostName`, `portMappings`, `region`, `secureContext`, `sessionHostId`, `fulfillmentState` (Fulfilled once Active, Queued while activating) |
//! | `allocationStatus` | `GET /titles/{t}/sessions/{sessionId}/allocationStatus` | 8 | `status` (Queued, Fulfilled, Aborted), `sessionId`, `description`, `ticketId`; with a host also `hostName`, `portMappings`, `region`, `secureContext`, `sessionHostId`, `clusterId`, `gameHostId` |
//!
//! - **clusters**: body `sessionId` (an MPSD session path; XSAPI's and the documentation's
//!   spellings name the same session) and optional `abortIfQueued` (boolean or `"true"`/`"false"`).
//!   A free server of the title's pool is leased for [`Config::server_lifetime`]; when none is
//!   free the session waits in the title's FIFO queue, or is answered Aborted with
//!   `abortIfQueued` (and not stored). A repeat POST returns the session's current state and
//!   never queues it twice; a session whose lease ended asks again as a new one.
//! - **inlineClusters**: body `serviceConfigId`, `sandboxId`, `ticketId`, `gsiSetId`,
//!   `gameVariantId`, `location` (non-empty strings), `maxAllowedPlayers` (a whole number >= 1),
//!   optional `abortIfQueued`; else 400 naming the field. Tickets share the title's pool and FIFO
//!   queue with clusters sessions. A repeat POST for a ticket that holds a server or waits returns
//!   its state; an ended ticket (Aborted, Error) asks again as a new one. `region` is `location`
//!   when a configured QoS region has that name (any case), else [`Config::region`].
//! - **ticketStatus**: the ticket id is percent-decoded; unknown tickets are 404. Queued turns
//!   Active when a server frees up; a ticket whose server's lifetime ends or is released turns
//!   Aborted; Aborted and Error are settable ([`Emulator::set_ticket_status`], admin API).
//! - **variants**: body fields, each optional and type-checked (else 400 naming it): `locale`
//!   (string), `maxAllowedPlayers` (number), `maxVariants` (number; 0 or absent: no limit),
//!   `publisherOnly` (boolean or `"true"`/`"false"`), `tags` (`[{"name":..,"value":..}]`). The
//!   answer is the catalogue ([`Config::variants`]) with `publisherOnly` and `maxVariants`
//!   applied to the variants. Variant ids go under `gamevariantId` (as XSAPI read them),
//!   `isPublisher` is `"True"`/`"False"`, ranks and GSI set counts are decimal strings.
//! - **qosServers**: one entry per configured region ([`Config::regions`]).
//! - **sessionHosts**: body `sessionId`, `cloudGameId` (non-empty strings), `locations` (a
//!   non-empty array of non-empty strings), optional strings `sessionCookie` (at most 32 KiB),
//!   `gameModeId`, `sandboxId`; else 400 naming the field. A title in
//!   [`Config::titles_without_subscriptions`] (or set so) is 404. A new session claims a
//!   StandingBy host ([`Config::session_hosts_per_title`]), which turns Active after
//!   [`Config::session_host_activation`]: 200 Queued until then, Fulfilled after. A repeat for a
//!   session whose host is still activating is 409; an Active one answers Fulfilled again. No
//!   StandingBy host: 503 with `Retry-After: 1`. `region` is the first of `locations` that names a
//!   configured region, else [`Config::region`]. Hosts are freed after the server lifetime
//!   (counted from activation) or on release.
//! - **allocationStatus**: the session id is percent-decoded; unknown sessions are 404; a session
//!   whose host was freed (lifetime, release, abort) is Aborted with a description.
//!
//! Anything else outside `/_emulator/` (a warm-up `HEAD /` included) is 404, and a known path
//! with another method is 405 with `Allow`.
//!
//! ## Order of checks for a service call
//!
//! 1. route: a known path, else 404; its method, else 405 (neither is a call: no fault rule is
//!    rolled or used up);
//! 2. fault rules whose `call` matches (latency, dropped connection, injected status with
//!    `Retry-After`);
//! 3. `x-xbl-contract-version` of the call (table above), else 400;
//! 4. `Authorization: XBL3.0 x=<hash>;<token>` present, well formed and not revoked, else 401
//!    with `WWW-Authenticate: XBL3.0` (every call, QoS servers included);
//! 5. rate limit per user hash and call ([`Config::rate_limit`]), else 429 with `Retry-After`;
//! 6. title allowed ([`Config::allowed_titles`]; calls with a title), else 403;
//! 7. `Content-Type: application/json` (parameters allowed) for calls with a body (POST), else
//!    415; a GET needs neither a body nor a Content-Type;
//! 8. body at most 64 KiB, else 413 (the connection is closed after the answer);
//! 9. the call's body (400 naming the field), then its own outcomes (404, 409, 503).
//!
//! ## Error bodies
//!
//! Every error answer is JSON, in the style [`Config::error_body_style`] picks:
//!
//! - [`ErrorBodyStyle::Description`] (default): `{"code":404,"source":"gsms-emulator","description":"..."}`;
//! - [`ErrorBodyStyle::ErrorCode`]: `{"errorCode":"NotFound","errorMessage":"..."}` (the code is
//!   the status's name in CamelCase: `BadRequest`, `Unauthorized`, `Forbidden`, `NotFound`,
//!   `MethodNotAllowed`, `Conflict`, `PayloadTooLarge`, `UnsupportedMediaType`, `TooManyRequests`,
//!   `InternalServerError`, `ServiceUnavailable`, ...).
//!
//! A 429 (the rate limit's, or an injected one) is the throttling answer Xbox Live sends:
//! `{"code":429,"source":"gsms-emulator","description":"Rate limit exceeded ...","limitType":"Rate",
//! "currentRequests":N,"maxRequests":M,"periodInSeconds":S}` (in the errorCode style
//! `errorCode`/`errorMessage` and the same four fields). The rate limit's 429 carries
//! `Retry-After` (seconds until its window ends); an injected 429 carries the rule's
//! `retry_after` when it has one, and reports `maxRequests` 30 and `periodInSeconds` 15 unless
//! a rate limit is configured. Admin API errors always use the description style.
//!
//! ## QoS beacons
//!
//! One UDP socket per [`Config::regions`] entry, bound on [`Config::host_name`]. A probe is
//! exactly 10 bytes, `0xFF 0xFF` and an 8-byte nonce; the reply is the same datagram with the
//! first two bytes `0x00 0x00`, sent `delay_ms` (plus or minus up to `jitter_ms`, uniformly)
//! after the probe arrived, or not at all with probability `loss`. Anything else is ignored.
//! Delayed replies wait in a due-time heap served by a timer thread that sleeps until about
//! 200 us before each is due and then spins to the instant, so they are neither serialised
//! behind one another nor late by a timer's slack; at most [`Config::qos_pending_limit`] wait at
//! once, beyond that probes are dropped (and counted in `/_emulator/state`).
//!
//! ## Quirks mode
//!
//! With [`Config::quirks`], every 2xx answer varies per answer, chosen by a generator seeded
//! with [`Config::quirks_seed`] and the answer's number (reproducible for the same requests in
//! the same order), within what a client must accept: enum values in lower or upper case
//! (`fulfillmentState`, `status`, `isPublisher` `"true"`/`"TRUE"`/boolean), numbers as
//! numeric strings and numeric strings as numbers (`pollIntervalMilliseconds`, ports,
//! `titleId`, `rank`, GSI set counts), unknown fields (scalars, nested objects and arrays, at the
//! top and in array items), keys in a random order, optional fields left out (`secureContext`,
//! `region` of answers with a host; off with [`Config::quirks_omit_optional`]), `qosservers` for `qosServers`, `variantId` for
//! `gamevariantId`, `fulfillmentState` in place of `status` in allocation status, and a session
//! host answer without `fulfillmentState` when Fulfilled. Error bodies and the admin API stay
//! canonical.
//!
//! ## Admin API (no auth; not counted, recorded or faulted)
//!
//! | request | effect |
//! |---|---|
//! | `GET /_emulator/state` | `requestCount`; `titles` (servers with session or ticket and remaining lifetime, `queue`, `queued`); `tickets` (status, description, region, server); `sessionHosts` (per title: `subscribed`, hosts with `state` StandingBy/Activating/Active, session, times); `sessions`; `titlesWithoutSubscriptions`; `variants`; `regions` (delay, jitter, loss, port, probe counters); `faults`; `latestRequests` (last 50: `time`, `unixMs`, `call`, `method`, `path`, `status`, `latencyMs`, `correlationId`); `config` |
//! | `POST /_emulator/reset` | same as [`Emulator::reset`] |
//! | `GET /_emulator/faults` | the fault rules |
//! | `POST /_emulator/faults` | appends a rule: `{"status":503,"retryAfter":"1","latencyMs":0,"dropConnection":false,"times":2,"probability":1.0,"call":"sessionHosts"}` (every field optional; probability defaults to 1, no `call` means every call) |
//! | `DELETE /_emulator/faults` | clears the rules |
//! | `POST /_emulator/release?title=N` | same as [`Emulator::release_all`] |
//! | `POST /_emulator/tickets/{ticketId}` | `{"status":"Error","description":"..."}` (or `"Aborted"`): same as [`Emulator::set_ticket_status`]; 404 when unknown |
//! | `GET /_emulator/variants` | the catalogue, in the answer's form |
//! | `PUT /_emulator/variants` | replaces the catalogue (the answer's form; `variantId`, boolean `isPublisher` and numeric counts accepted) |
//! | `GET /_emulator/regions` | the regions with their conditions, ports and counters |
//! | `PUT /_emulator/regions/{name}` | `{"delayMs":20,"jitterMs":2,"loss":0.1}` (each optional): same as [`Emulator::set_region`]; 404 when unknown |
//! | `PUT /_emulator/subscriptions/{titleId}` | `{"subscribed":false}`: same as [`Emulator::set_title_subscribed`] |
//! | `POST /_emulator/sessionhosts/release?title=N` | same as [`Emulator::release_session_hosts`] |
//! | `POST /_emulator/sessions/{sessionId}` | `{"status":"Aborted","description":"..."}`: same as [`Emulator::abort_session`]; 404 when unknown |

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod beacon;
mod config;
mod http;
mod json;
mod quirks;
mod server;
mod service;
#[cfg(any(test, feature = "test-tls"))]
mod test_tls;
mod udp;

use std::net::SocketAddr;

pub use config::{
    Config, ErrorBodyStyle, FaultRule, GameVariant, GsiSet, RateLimit, RecordedRequest, RegionConfig, TicketStatus,
    TlsConfig, VariantCatalogue, VariantSchema, CALLS,
};
pub use server::Emulator;
#[cfg(any(test, feature = "test-tls"))]
pub use test_tls::generate_test_tls;

impl VariantCatalogue {
    /// Reads a catalogue in the variants answer's form (what `PUT /_emulator/variants` takes):
    /// `{"variants":[..],"variantSchemas":[..],"gsiSets":[..]}`.
    pub fn from_json(bytes: &[u8]) -> Result<VariantCatalogue, String> {
        service::calls::variants::parse_catalogue(bytes)
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
