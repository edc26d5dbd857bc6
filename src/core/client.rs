//! The blocking client: one POST with retries, and the allocate loop that follows Queued answers.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use super::cancel::CancelToken;
use super::config::{Config, LogLevel, LogSink, RetryPolicy, TokenProvider};
use super::error::{InvalidArgument, Status};
use super::http::{self, TransportKind};
use super::redact::Secrets;
use super::request::ClusterRequest;
use super::result::{error_body_message, parse_answer, ClusterResult, FulfillmentState};
use super::retry::{backoff, is_retryable_status};
use super::validate;

/// Smallest wait between two polls, whatever the service says.
pub const MIN_POLL_INTERVAL: Duration = Duration::from_millis(100);
/// Largest wait between two polls: a broken answer (say 4294967295 ms) must not park an
/// allocation for weeks when the caller gave no deadline. Five times the peer's recorded 60 s.
pub const MAX_POLL_INTERVAL: Duration = Duration::from_secs(300);

/// How long to wait before the next poll, given the service's `pollIntervalMilliseconds`.
pub fn poll_wait(poll_interval_ms: u32) -> Duration {
    Duration::from_millis(poll_interval_ms.into()).clamp(MIN_POLL_INTERVAL, MAX_POLL_INTERVAL)
}

/// What an allocation does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Done,
    PollAfter(Duration),
}

/// Per-call controls.
#[derive(Default)]
pub struct CallOptions<'a> {
    /// The whole call (retries and polls included) ends with `Timeout` at this instant.
    pub deadline: Option<Instant>,
    /// Checked between attempts and while waiting; a cancelled call returns `Cancelled`.
    pub cancel: Option<&'a CancelToken>,
    /// Called with each Queued answer of an allocate call, before waiting again.
    pub on_progress: Option<&'a mut dyn FnMut(&ClusterResult)>,
}

pub struct Client {
    agent: ureq::Agent,
    base_url: String,
    retry: RetryPolicy,
    request_timeout: Duration,
    token: RwLock<Option<Arc<str>>>,
    provider: Option<Arc<dyn TokenProvider>>,
    log: Option<(LogSink, LogLevel)>,
    hooks: Hooks,
}

/// Gate in front of the user's hooks (log sink and token provider): once `close` has returned on
/// a thread that is not itself inside a hook, no hook runs any more, even on a worker still
/// finishing a request the client abandoned.
///
/// Why it is right:
/// - `call` records its thread in `inside` and checks `closed` under one lock before the hook runs,
///   and removes its entry under that lock after. `close` sets `closed` under the same lock. So
///   every hook call either began before `close` (and is listed in `inside`) or sees `closed` and
///   never runs.
/// - `close` then waits until `inside` is empty, and every exit notifies, so it wakes for each.
///   Exception: a thread that is itself inside a hook of this client (a hook that frees the
///   client) must not wait: it would wait for itself, or two such threads for each other. It
///   returns at once; the hooks in progress end on their own.
/// - The gate lives in the client, and every call that can reach a hook holds a reference to the
///   client until it returns, so the exit path never touches freed memory.
#[derive(Default)]
struct Hooks {
    state: std::sync::Mutex<HookState>,
    idle: std::sync::Condvar,
}

#[derive(Default)]
struct HookState {
    closed: bool,
    /// One entry per hook call in progress (a thread inside nested hooks appears once per level).
    inside: Vec<std::thread::ThreadId>,
}

impl Hooks {
    fn lock(&self) -> std::sync::MutexGuard<'_, HookState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` unless closed; `None` when closed.
    fn call<R>(&self, f: impl FnOnce() -> R) -> Option<R> {
        let me = std::thread::current().id();
        {
            let mut st = self.lock();
            if st.closed {
                return None;
            }
            st.inside.push(me);
        }
        struct Exit<'a>(&'a Hooks, std::thread::ThreadId);
        impl Drop for Exit<'_> {
            fn drop(&mut self) {
                let mut st = self.0.lock();
                if let Some(i) = st.inside.iter().rposition(|t| *t == self.1) {
                    st.inside.swap_remove(i);
                }
                drop(st);
                self.0.idle.notify_all();
            }
        }
        let _exit = Exit(self, me);
        Some(f())
    }

    /// True when this thread is inside one of these hooks.
    fn inside_on_this_thread(&self) -> bool {
        let me = std::thread::current().id();
        self.lock().inside.contains(&me)
    }

    /// Closes the gate; waits for hook calls in progress unless this thread is inside one.
    fn close(&self) {
        let me = std::thread::current().id();
        let mut st = self.lock();
        st.closed = true;
        if st.inside.contains(&me) {
            return;
        }
        while !st.inside.is_empty() {
            st = self.idle.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl Client {
    pub fn new(cfg: &Config) -> Result<Client, InvalidArgument> {
        validate::base_url(&cfg.base_url)?;
        Ok(Client {
            agent: http::build_agent(cfg),
            base_url: cfg.base_url.clone(),
            retry: cfg.retry,
            request_timeout: cfg.request_timeout,
            token: RwLock::new(cfg.auth_token.as_deref().map(Arc::from)),
            provider: cfg.token_provider.clone(),
            log: cfg.log.clone(),
            hooks: Hooks::default(),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Replaces the static Authorization value (a token provider, when configured, still wins).
    pub fn set_auth_token(&self, authorization: &str) -> Result<(), InvalidArgument> {
        validate::header_value("authorization", authorization)?;
        *self.token.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::from(authorization));
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
        self.agent.clone().shutdown();
    }

    /// True when this thread is inside this client's log sink or token provider.
    pub fn in_hook_on_this_thread(&self) -> bool {
        self.hooks.inside_on_this_thread()
    }

    /// Resolves DNS and opens a pooled connection to the base URL (blocking).
    pub fn warmup(&self) {
        let t = Instant::now();
        match http::warmup(&self.agent, &self.base_url) {
            Ok(s) => self
                .log(LogLevel::Debug, || format!("warmup: HEAD / -> {s} in {:.1} ms", t.elapsed().as_secs_f64() * 1e3)),
            Err(e) => self.log(LogLevel::Warn, || format!("warmup failed: {e}")),
        }
    }

    /// One POST, retried per the policy. The status is in `result.status`.
    pub fn create_cluster(&self, req: &ClusterRequest, opts: &mut CallOptions<'_>) -> ClusterResult {
        let mut result = ClusterResult::default();
        if let Err(e) = req.validate() {
            result.status = Status::InvalidArgument;
            result.error_message = e.0;
            return result;
        }
        let url = format!("{}{}", self.base_url, req.path());
        let body = req.body();
        result.status = self.post(&url, &req.path(), &body, opts, &mut result);
        result
    }

    /// POST, then while Queued wait the poll interval (at least 100 ms) and POST again, until
    /// Fulfilled, Aborted, an unrecognised state, an error, the deadline or cancellation.
    pub fn allocate_cluster(&self, req: &ClusterRequest, opts: &mut CallOptions<'_>) -> ClusterResult {
        let mut result = ClusterResult::default();
        loop {
            match self.allocate_step(req, opts, &mut result) {
                Step::Done => return result,
                Step::PollAfter(wait) => {
                    if self.sleep(wait, opts) {
                        result.status = Status::Cancelled;
                        result.error_message = "cancelled while waiting to poll".into();
                        return result;
                    }
                }
            }
        }
    }

    /// One POST of an allocation (with its retries). `Done` when the call is over (`result.status`
    /// says how); `PollAfter(d)` when the answer was Queued and the next POST is due in `d`.
    /// The async runtime schedules that next step on a timer instead of sleeping on a worker.
    pub fn allocate_step(&self, req: &ClusterRequest, opts: &mut CallOptions<'_>, result: &mut ClusterResult) -> Step {
        if let Err(e) = req.validate() {
            result.status = Status::InvalidArgument;
            result.error_message = e.0;
            return Step::Done;
        }
        let path = req.path();
        let url = format!("{}{}", self.base_url, path);
        let body = req.body();
        let status = self.post(&url, &path, &body, opts, result);
        result.status = status;
        if status != Status::Ok || result.fulfillment_state != FulfillmentState::Queued {
            return Step::Done;
        }
        if let Some(cb) = opts.on_progress.as_mut() {
            cb(result);
        }
        let wait = poll_wait(result.poll_interval_ms);
        if let Some(d) = opts.deadline {
            if Instant::now() + wait > d {
                result.status = Status::Timeout;
                result.error_message = format!(
                    "still Queued after {} attempts; the next poll (in {} ms) would come after the deadline",
                    result.attempts,
                    wait.as_millis()
                );
                self.log(LogLevel::Warn, || format!("{path}: {}", result.error_message));
                return Step::Done;
            }
        }
        self.log(LogLevel::Info, || {
            format!(
                "{path}: Queued; polling again in {} ms (correlation id {})",
                wait.as_millis(),
                result.correlation_id
            )
        });
        Step::PollAfter(wait)
    }

    /// Sleeps unless cancelled; true when cancelled.
    fn sleep(&self, d: Duration, opts: &CallOptions<'_>) -> bool {
        match opts.cancel {
            Some(c) => c.sleep(d),
            None => {
                std::thread::sleep(d);
                false
            }
        }
    }

    /// The Authorization value for the next attempt. `Err(None)`: the client is being freed (the
    /// provider may not be called any more); `Err(Some(msg))`: the provider failed.
    fn authorization(&self, force_refresh: bool) -> Result<Option<Arc<str>>, Option<String>> {
        if let Some(p) = &self.provider {
            let v = self.hooks.call(|| p.token(force_refresh)).ok_or(None)?.map_err(Some)?;
            validate::header_value("authorization from the token provider", &v).map_err(|e| Some(e.0))?;
            return Ok(Some(Arc::from(v)));
        }
        Ok(self.token.read().unwrap_or_else(|e| e.into_inner()).clone())
    }

    /// One POST with the retry policy, 401 refresh and deadline. Fills `result` with what was
    /// learnt (counting every HTTP request in `attempts`) and returns the status.
    fn post(
        &self,
        url: &str,
        path: &str,
        body: &[u8],
        opts: &mut CallOptions<'_>,
        result: &mut ClusterResult,
    ) -> Status {
        if let Err(e) = validate::url_length("the request URL", url) {
            result.error_message = e.0;
            return Status::InvalidArgument;
        }
        let mut tries: u32 = 0; // attempts that count against the retry budget
        let mut refreshed = false;
        let mut force_refresh = false;
        loop {
            if opts.cancel.is_some_and(|c| c.is_cancelled()) {
                result.error_message = "cancelled".into();
                return Status::Cancelled;
            }
            let timeout = match opts.deadline {
                Some(d) => {
                    let now = Instant::now();
                    if d <= now {
                        result.error_message = format!("deadline passed after {} attempts", result.attempts);
                        return Status::Timeout;
                    }
                    self.request_timeout.min(d - now)
                }
                None => self.request_timeout,
            };
            let auth = match self.authorization(force_refresh) {
                Ok(a) => a,
                Err(None) => {
                    result.error_message = "cancelled: the client is being freed".into();
                    return Status::Cancelled;
                }
                Err(Some(msg)) => {
                    result.error_message = format!("token provider failed: {msg}");
                    self.log(LogLevel::Error, || format!("{path}: {}", result.error_message));
                    return Status::AuthProvider;
                }
            };
            force_refresh = false;
            tries += 1;
            result.attempts += 1;
            // Server text is cleaned of this attempt's secrets here, once, before anything keeps or logs it.
            let secrets = Secrets::of_authorization(auth.as_deref());
            let started = Instant::now();
            let outcome = http::post(&self.agent, url, body, auth.as_deref(), timeout, self.request_timeout)
                .map(|r| r.redacted(&secrets))
                .map_err(|e| e.redacted(&secrets));
            let ms = started.elapsed().as_secs_f64() * 1e3;
            let reply = match outcome {
                Err(_) if opts.cancel.is_some_and(|c| c.is_cancelled()) => {
                    // Cancel and shutdown interrupt the socket: that error is the cancel, not the network.
                    result.error_message = "cancelled".into();
                    return Status::Cancelled;
                }
                Err(e) => {
                    self.log(LogLevel::Debug, || {
                        format!("POST {path} -> {} in {ms:.1} ms (attempt {})", e.message, result.attempts)
                    });
                    result.error_message = e.message.clone();
                    let deadline_hit = opts.deadline.is_some_and(|d| Instant::now() >= d);
                    if e.kind == TransportKind::Timeout || deadline_hit {
                        self.log(LogLevel::Warn, || format!("POST {path}: {}", e.message));
                        return Status::Timeout;
                    }
                    if e.retryable && tries < self.retry.max_attempts {
                        let wait = backoff(&self.retry, tries);
                        if opts.deadline.is_some_and(|d| Instant::now() + wait > d) {
                            return Status::Network;
                        }
                        self.log(LogLevel::Info, || {
                            format!("POST {path}: {}; retrying in {} ms", e.message, wait.as_millis())
                        });
                        if self.sleep(wait, opts) {
                            result.error_message = "cancelled".into();
                            return Status::Cancelled;
                        }
                        continue;
                    }
                    self.log(LogLevel::Error, || format!("POST {path}: {}", e.message));
                    return Status::Network;
                }
                Ok(r) => r,
            };
            self.log(LogLevel::Debug, || {
                format!(
                    "POST {path} -> {} in {ms:.1} ms (attempt {}, correlation id {})",
                    reply.status, result.attempts, reply.correlation_id
                )
            });
            result.http_status = reply.status;
            result.correlation_id = reply.correlation_id;
            result.retry_after_ms =
                reply.retry_after.map(|d| u32::try_from(d.as_millis()).unwrap_or(u32::MAX)).unwrap_or(0);
            let status = reply.status;
            if (200..300).contains(&status) {
                if let Some(e) = reply.body_error {
                    result.error_message = e.message;
                    return match e.kind {
                        TransportKind::Timeout => Status::Timeout,
                        TransportKind::TooLarge => Status::Protocol,
                        TransportKind::Network => Status::Network,
                    };
                }
                return match parse_answer(&reply.body) {
                    Ok(a) => {
                        // Valid UTF-8 was checked by the parser.
                        result.raw_json = secrets.redact_owned(String::from_utf8(reply.body).unwrap_or_default());
                        result.apply_answer(a);
                        result.error_message.clear();
                        Status::Ok
                    }
                    Err(msg) => {
                        result.raw_json = secrets.redact_owned(lossy_text(&reply.body));
                        result.error_message = format!("HTTP {status}: {msg}");
                        self.log(LogLevel::Error, || format!("POST {path}: {}", result.error_message));
                        Status::Protocol
                    }
                };
            }
            result.raw_json = secrets.redact_owned(lossy_text(&reply.body));
            let detail = error_body_message(result.raw_json.as_bytes())
                .map(|m| format!(": {}", secrets.redact(&m)))
                .unwrap_or_default();
            match status {
                401 => {
                    if self.provider.is_some() && !refreshed {
                        refreshed = true;
                        force_refresh = true;
                        tries -= 1; // the refresh resend is not a retry
                        self.log(LogLevel::Info, || {
                            format!("POST {path}: 401; refreshing the token and resending once")
                        });
                        continue;
                    }
                    result.error_message = if auth.is_none() {
                        format!("HTTP 401 Unauthorized{detail} (no Authorization configured: set a token or a token provider)")
                    } else if refreshed {
                        format!("HTTP 401 Unauthorized again after a refreshed token{detail}")
                    } else {
                        format!("HTTP 401 Unauthorized{detail}")
                    };
                    self.log(LogLevel::Error, || format!("POST {path}: {}", result.error_message));
                    return Status::Unauthorized;
                }
                403 => {
                    result.error_message = format!("HTTP 403 Forbidden{detail}");
                    self.log(LogLevel::Error, || format!("POST {path}: {}", result.error_message));
                    return Status::Forbidden;
                }
                s if is_retryable_status(s) => {
                    let ra = reply.retry_after;
                    if tries >= self.retry.max_attempts {
                        result.error_message = format!("HTTP {s}{detail}; gave up after {tries} attempts");
                    } else if ra.is_some_and(|r| r > self.retry.max_delay) {
                        result.error_message = format!(
                            "HTTP {s}{detail}; Retry-After of {} ms exceeds the policy's max delay of {} ms",
                            ra.unwrap_or_default().as_millis(),
                            self.retry.max_delay.as_millis()
                        );
                    } else {
                        let wait = backoff(&self.retry, tries).max(ra.unwrap_or_default());
                        if opts.deadline.is_some_and(|d| Instant::now() + wait > d) {
                            result.error_message = format!(
                                "HTTP {s}{detail}; the next retry (in {} ms) would come after the deadline",
                                wait.as_millis()
                            );
                        } else {
                            self.log(LogLevel::Info, || {
                                format!(
                                    "POST {path}: HTTP {s}; retrying in {} ms (attempt {} of {})",
                                    wait.as_millis(),
                                    tries + 1,
                                    self.retry.max_attempts
                                )
                            });
                            if self.sleep(wait, opts) {
                                result.error_message = "cancelled".into();
                                return Status::Cancelled;
                            }
                            continue;
                        }
                    }
                    self.log(LogLevel::Warn, || format!("POST {path}: {}", result.error_message));
                    return Status::RetriesExhausted;
                }
                s => {
                    result.error_message = format!("HTTP {s}{detail}");
                    self.log(LogLevel::Error, || format!("POST {path}: {}", result.error_message));
                    return Status::HttpStatus;
                }
            }
        }
    }
}

fn lossy_text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).replace('\0', "\u{FFFD}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_waits_are_floored_and_capped() {
        assert_eq!(poll_wait(0), MIN_POLL_INTERVAL);
        assert_eq!(poll_wait(99), MIN_POLL_INTERVAL);
        assert_eq!(poll_wait(1000), Duration::from_millis(1000));
        assert_eq!(poll_wait(60_000), Duration::from_secs(60));
        assert_eq!(poll_wait(u32::MAX), MAX_POLL_INTERVAL);
    }
}
