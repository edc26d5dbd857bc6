//! The blocking client and its one `send`: what every exchange with the service shares.
//!
//! `send` owns the token (static or from the provider, with one forced refresh after a 401), the
//! retry set (408/429/500/502/503/504 and connections that failed before any response), backoff
//! with jitter, Retry-After, the call's deadline, cancellation, logging, and the redaction of
//! secrets from server text. Calls (`core::calls`) describe their exchanges as data and decode
//! the 2xx body; nothing else in them knows about HTTP.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::cancel::CancelToken;
use super::config::{Config, LogLevel, LogSink, RetryPolicy, Token, TokenProvider, TokenRequest};
use super::error::{InvalidArgument, Status};
use super::exchange::{CallInfo, Endpoint, Host};
use super::hooks::Hooks;
use super::http::{self, TransportKind};
use super::redact::Secrets;
use super::retry::{backoff, is_retryable_status};
use super::validate;
use super::wire::error_body_message;

/// Per-call controls.
#[derive(Default, Clone, Copy)]
pub struct CallOptions<'a> {
    /// The whole call (retries and polls included) ends with `Timeout` at this instant.
    pub deadline: Option<Instant>,
    /// Checked between attempts and while waiting; a cancelled call returns `Cancelled`.
    pub cancel: Option<&'a CancelToken>,
}

impl CallOptions<'_> {
    /// True when waiting `wait` from now (a backoff, a poll interval) would end after the
    /// deadline; a wait that ends exactly at it is allowed.
    pub fn waits_past_deadline(&self, wait: Duration) -> bool {
        ends_past(self.deadline, Instant::now(), wait)
    }

    /// Sleeps for `d`, waking early when cancelled. True when cancelled.
    pub fn sleep(&self, d: Duration) -> bool {
        match self.cancel {
            Some(c) => c.sleep(d),
            None => {
                std::thread::sleep(d);
                false
            }
        }
    }
}

/// Whether a wait of `wait` begun at `now` ends after `deadline` (never, without one).
fn ends_past(deadline: Option<Instant>, now: Instant, wait: Duration) -> bool {
    deadline.is_some_and(|d| now + wait > d)
}

pub struct Client {
    agent: http::Agent,
    base_url: String,
    discovery_url: String,
    retry: RetryPolicy,
    request_timeout: Duration,
    /// The static Authorization value with its secrets, worked out once (not per call).
    token: RwLock<Option<Arc<Credential>>>,
    provider: Option<Arc<dyn TokenProvider>>,
    log: Option<(LogSink, LogLevel)>,
    hooks: Hooks,
}

/// An Authorization value (and signature) and the secrets to clean out of server text. The
/// static token's is made once per value; a provider's once per attempt.
pub struct Credential {
    token: Token,
    secrets: Secrets,
}

impl Credential {
    fn new(token: Token) -> Credential {
        let mut secrets = Secrets::of_authorization(Some(&token.authorization));
        if let Some(sig) = &token.signature {
            secrets.add(sig);
        }
        Credential { token, secrets }
    }
}

/// No credential: nothing to redact.
static NO_SECRETS: Secrets = Secrets::none();

fn secrets_of(cred: Option<&Credential>) -> &Secrets {
    cred.map_or(&NO_SECRETS, |c| &c.secrets)
}

/// The body of a 2xx answer, with the credential (its secrets) of the attempt that fetched it.
pub struct Body {
    pub bytes: Vec<u8>,
    cred: Option<Arc<Credential>>,
}

impl Body {
    /// `text` (this body's) cleaned of the attempt's secrets.
    pub fn redact<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        secrets_of(self.cred.as_deref()).redact(text)
    }

    /// The body as text for `raw_json`, cleaned of the attempt's secrets.
    pub fn into_text(self) -> String {
        let text = match String::from_utf8(self.bytes) {
            Ok(t) => t,
            Err(e) => super::call::lossy_text(e.as_bytes()),
        };
        secrets_of(self.cred.as_deref()).redact_owned(text)
    }
}

/// How one attempt ended, as `send`'s loop sees it.
enum Attempt {
    /// The call is over (successfully with a 2xx body, or not: `info` says).
    Done(Option<Body>),
    /// Send again now (a 401 refresh).
    Resend,
    /// Send again after this wait (a retry).
    RetryAfter(Duration),
}

impl Client {
    pub fn new(cfg: &Config) -> Result<Client, InvalidArgument> {
        validate::base_url(&cfg.base_url)?;
        Ok(Client {
            agent: http::build_agent(cfg),
            base_url: cfg.base_url.clone(),
            discovery_url: cfg.discovery_url().to_string(),
            retry: cfg.retry,
            request_timeout: cfg.request_timeout,
            token: RwLock::new(
                cfg.auth_token
                    .as_ref()
                    .map(|a| Arc::new(Credential::new(Token { authorization: a.clone(), signature: None }))),
            ),
            provider: cfg.token_provider.clone(),
            log: cfg.log.clone(),
            hooks: Hooks::default(),
        })
    }

    fn host_url(&self, host: Host) -> &str {
        match host {
            Host::Allocation => &self.base_url,
            Host::Discovery => &self.discovery_url,
        }
    }

    /// The URL of an exchange, refused when it is longer than the library sends.
    pub fn url_of(&self, ep: &Endpoint) -> Result<String, InvalidArgument> {
        let host = self.host_url(ep.host);
        let mut url = String::with_capacity(host.len() + ep.path.len());
        url.push_str(host);
        url.push_str(&ep.path);
        validate::url_length("the request URL", &url)?;
        Ok(url)
    }

    /// Replaces the static Authorization value (a token provider, when configured, still wins).
    pub fn set_auth_token(&self, authorization: &str) -> Result<(), InvalidArgument> {
        validate::header_value("authorization", authorization)?;
        let cred = Credential::new(Token { authorization: authorization.to_string(), signature: None });
        *self.token.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(cred));
        Ok(())
    }

    pub fn log(&self, level: LogLevel, msg: impl FnOnce() -> String) {
        if let Some((sink, min)) = &self.log {
            if level <= *min {
                let m = msg();
                self.hooks.call(|| sink(level, &m));
            }
        }
    }

    /// After this returns, the log sink and the token provider are never called again (calls in
    /// progress on other threads are waited for, unless this thread is inside one). Then every
    /// request in flight on any thread is interrupted (its socket is shut down) and later ones
    /// fail at once. Used when the client is freed.
    pub fn close(&self) {
        self.hooks.close();
        self.agent.shutdown();
    }

    /// True when this thread is inside this client's log sink or token provider.
    pub fn in_hook_on_this_thread(&self) -> bool {
        self.hooks.inside_on_this_thread()
    }

    /// Resolves DNS and opens a pooled connection to the base URL (blocking).
    pub fn warmup(&self) {
        let t = Instant::now();
        match http::warmup(&self.agent, &self.base_url, self.request_timeout) {
            Ok(s) => self
                .log(LogLevel::Debug, || format!("warmup: HEAD / -> {s} in {:.1} ms", t.elapsed().as_secs_f64() * 1e3)),
            Err(e) => self.log(LogLevel::Warn, || format!("warmup failed: {e}")),
        }
    }

    /// The Authorization value (and signature) for the next attempt. `Err(None)`: the client is
    /// being freed (the provider may not be called any more); `Err(Some(msg))`: the provider failed.
    fn authorization(&self, req: &TokenRequest<'_>) -> Result<Option<Arc<Credential>>, Option<String>> {
        if let Some(p) = &self.provider {
            let t = self.hooks.call(|| p.token_for(req)).ok_or(None)?.map_err(Some)?;
            validate::header_value("authorization from the token provider", &t.authorization).map_err(|e| Some(e.0))?;
            if let Some(sig) = &t.signature {
                validate::header_value("signature from the token provider", sig).map_err(|e| Some(e.0))?;
            }
            return Ok(Some(Arc::new(Credential::new(t))));
        }
        Ok(self.token.read().unwrap_or_else(|e| e.into_inner()).clone())
    }

    /// One exchange with everything calls share: the token (and one refresh after a 401), the
    /// retry policy, Retry-After, the deadline and cancellation, logging, redaction. Counts every
    /// HTTP request in `info.attempts` and records what the last response said. Returns the body
    /// of a 2xx answer (read whole, at most 1 MiB); `None` when the exchange failed, with
    /// `info.status` and `info.error_message` saying why.
    #[inline(never)] // one copy for every call (it would be inlined into each call's exchange)
    pub fn send(&self, ep: &Endpoint, opts: &CallOptions<'_>, info: &mut CallInfo) -> Option<Body> {
        let url = match self.url_of(ep) {
            Ok(u) => u,
            Err(e) => {
                info.fail(Status::InvalidArgument, e.0);
                return None;
            }
        };
        let method = ep.method.as_str();
        let mut tries: u32 = 0; // attempts that count against the retry budget
        let mut refreshed = false;
        let mut force_refresh = false;
        loop {
            if opts.cancel.is_some_and(|c| c.is_cancelled()) {
                info.fail(Status::Cancelled, "cancelled");
                return None;
            }
            let timeout = match opts.deadline {
                Some(d) => {
                    let now = Instant::now();
                    if d <= now {
                        info.fail(Status::Timeout, format!("deadline passed after {} attempts", info.attempts));
                        return None;
                    }
                    self.request_timeout.min(d - now)
                }
                None => self.request_timeout,
            };
            let token = match self.authorization(&TokenRequest { force_refresh, method, url: &url }) {
                Ok(t) => t,
                Err(None) => {
                    info.fail(Status::Cancelled, "cancelled: the client is being freed");
                    return None;
                }
                Err(Some(msg)) => {
                    info.fail(Status::AuthProvider, format!("token provider failed: {msg}"));
                    self.log(LogLevel::Error, || format!("{method} {}: {}", ep.path, info.error_message));
                    return None;
                }
            };
            force_refresh = false;
            tries += 1;
            info.attempts += 1;
            match self.attempt(ep, &url, token, timeout, tries, refreshed, opts, info) {
                Attempt::Done(body) => return body,
                Attempt::Resend => {
                    refreshed = true;
                    force_refresh = true;
                    tries -= 1; // the refresh resend is not a retry
                }
                Attempt::RetryAfter(wait) => {
                    if opts.sleep(wait) {
                        info.fail(Status::Cancelled, "cancelled");
                        return None;
                    }
                }
            }
        }
    }

    /// One HTTP request and what to do about its outcome.
    #[allow(clippy::too_many_arguments)]
    fn attempt(
        &self,
        ep: &Endpoint,
        url: &str,
        cred: Option<Arc<Credential>>,
        timeout: Duration,
        tries: u32,
        refreshed: bool,
        opts: &CallOptions<'_>,
        info: &mut CallInfo,
    ) -> Attempt {
        let method = ep.method.as_str();
        let path = ep.path.as_str();
        // Server text is cleaned of this attempt's secrets here, once, before anything keeps or logs it.
        let token = cred.as_deref().map(|c| &c.token);
        let secrets = secrets_of(cred.as_deref());
        let started = Instant::now();
        let request = http::Request {
            method: ep.method,
            url,
            contract: ep.contract,
            body: ep.body.as_deref(),
            authorization: token.map(|t| t.authorization.as_str()),
            signature: token.and_then(|t| t.signature.as_deref()),
        };
        let outcome = http::exchange(&self.agent, &request, timeout)
            .map(|r| r.redacted(secrets))
            .map_err(|e| e.redacted(secrets));
        let ms = started.elapsed().as_secs_f64() * 1e3;
        let reply = match outcome {
            Err(_) if opts.cancel.is_some_and(|c| c.is_cancelled()) => {
                // Cancel and shutdown interrupt the socket: that error is the cancel, not the network.
                info.fail(Status::Cancelled, "cancelled");
                return Attempt::Done(None);
            }
            Err(e) => {
                self.log(LogLevel::Debug, || {
                    format!("{method} {path} -> {} in {ms:.1} ms (attempt {})", e.message, info.attempts)
                });
                info.error_message = e.message.clone();
                let deadline_hit = opts.deadline.is_some_and(|d| Instant::now() >= d);
                if e.kind == TransportKind::Timeout || deadline_hit {
                    self.log(LogLevel::Warn, || format!("{method} {path}: {}", e.message));
                    info.status = Status::Timeout;
                    return Attempt::Done(None);
                }
                if e.retryable && tries < self.retry.max_attempts {
                    let wait = backoff(&self.retry, tries);
                    if opts.waits_past_deadline(wait) {
                        info.status = Status::Network;
                        return Attempt::Done(None);
                    }
                    self.log(LogLevel::Info, || {
                        format!("{method} {path}: {}; retrying in {} ms", e.message, wait.as_millis())
                    });
                    return Attempt::RetryAfter(wait);
                }
                self.log(LogLevel::Error, || format!("{method} {path}: {}", e.message));
                info.status = Status::Network;
                return Attempt::Done(None);
            }
            Ok(r) => r,
        };
        self.log(LogLevel::Debug, || {
            format!(
                "{method} {path} -> {} in {ms:.1} ms (attempt {}, correlation id {})",
                reply.status, info.attempts, reply.correlation_id
            )
        });
        info.http_status = reply.status;
        info.correlation_id = reply.correlation_id;
        info.retry_after_ms = reply.retry_after.map(|d| u32::try_from(d.as_millis()).unwrap_or(u32::MAX)).unwrap_or(0);
        let status = reply.status;
        if (200..300).contains(&status) {
            if let Some(e) = reply.body_error {
                info.raw_json.clear();
                // Ends the call like any other timeout, network or protocol error: logged (WARN,
                // ERROR), and a protocol error's message carries the HTTP status.
                let (st, level, message) = match e.kind {
                    TransportKind::Timeout => (Status::Timeout, LogLevel::Warn, e.message),
                    TransportKind::TooLarge => {
                        (Status::Protocol, LogLevel::Error, format!("HTTP {status}: {}", e.message))
                    }
                    TransportKind::Network => (Status::Network, LogLevel::Error, e.message),
                };
                self.log(level, || format!("{method} {path}: {message}"));
                info.fail(st, message);
                return Attempt::Done(None);
            }
            info.status = Status::Ok;
            info.error_message.clear();
            return Attempt::Done(Some(Body { bytes: reply.body, cred }));
        }
        info.raw_json = secrets.redact_owned(super::call::lossy_text(&reply.body));
        let detail = error_body_message(info.raw_json.as_bytes())
            .map(|m| format!(": {}", secrets.redact(&m)))
            .unwrap_or_default();
        let fail = |info: &mut CallInfo, st: Status, msg: String, level: LogLevel| {
            self.log(level, || format!("{method} {path}: {msg}"));
            info.fail(st, msg);
            Attempt::Done(None)
        };
        match status {
            401 => {
                if self.provider.is_some() && !refreshed {
                    self.log(LogLevel::Info, || {
                        format!("{method} {path}: 401; refreshing the token and resending once")
                    });
                    return Attempt::Resend;
                }
                let msg = if token.is_none() {
                    format!(
                        "HTTP 401 Unauthorized{detail} (no Authorization configured: set a token or a token provider)"
                    )
                } else if refreshed {
                    format!("HTTP 401 Unauthorized again after a refreshed token{detail}")
                } else {
                    format!("HTTP 401 Unauthorized{detail}")
                };
                fail(info, Status::Unauthorized, msg, LogLevel::Error)
            }
            403 => fail(info, Status::Forbidden, format!("HTTP 403 Forbidden{detail}"), LogLevel::Error),
            s if is_retryable_status(s) => {
                let ra = reply.retry_after;
                let msg = if tries >= self.retry.max_attempts {
                    format!("HTTP {s}{detail}; gave up after {tries} attempts")
                } else if ra.is_some_and(|r| r > self.retry.max_delay) {
                    format!(
                        "HTTP {s}{detail}; Retry-After of {} ms exceeds the policy's max delay of {} ms",
                        ra.unwrap_or_default().as_millis(),
                        self.retry.max_delay.as_millis()
                    )
                } else {
                    let wait = backoff(&self.retry, tries).max(ra.unwrap_or_default());
                    if opts.waits_past_deadline(wait) {
                        format!(
                            "HTTP {s}{detail}; the next retry (in {} ms) would come after the deadline",
                            wait.as_millis()
                        )
                    } else {
                        self.log(LogLevel::Info, || {
                            format!(
                                "{method} {path}: HTTP {s}; retrying in {} ms (attempt {} of {})",
                                wait.as_millis(),
                                tries + 1,
                                self.retry.max_attempts
                            )
                        });
                        return Attempt::RetryAfter(wait);
                    }
                };
                fail(info, Status::RetriesExhausted, msg, LogLevel::Warn)
            }
            s => fail(info, Status::HttpStatus, format!("HTTP {s}{detail}"), LogLevel::Error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wait_that_ends_at_the_deadline_is_allowed_and_one_a_nanosecond_later_is_not() {
        let now = Instant::now();
        let ms = Duration::from_millis;
        let d = Some(now + ms(500));
        assert!(!ends_past(d, now, ms(499)));
        assert!(!ends_past(d, now, ms(500)), "ending exactly at the deadline");
        assert!(ends_past(d, now, ms(500) + Duration::from_nanos(1)));
        assert!(ends_past(d, now + ms(1), ms(500)), "begun later, the same wait ends past it");
        assert!(!ends_past(None, now, Duration::from_secs(3600)), "no deadline, nothing is past it");
        // Through the options, from now: far inside and far past.
        let opts = CallOptions { deadline: Some(Instant::now() + Duration::from_secs(60)), cancel: None };
        assert!(!opts.waits_past_deadline(ms(100)));
        assert!(opts.waits_past_deadline(Duration::from_secs(61)));
    }
}
