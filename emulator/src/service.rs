//! The emulated service: allocation state, fault rules, the clusters endpoint and the admin API.

use std::collections::{BTreeMap, VecDeque};
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::http::{Request, Response};
use crate::udp::UdpEcho;
use crate::{Config, FaultRule, RecordedRequest};

/// How many requests [`crate::Emulator::requests`] keeps.
pub(crate) const RECORD_LIMIT: usize = 1000;
/// Internal port of the GameData mapping, as in the recorded test vector.
const GAME_DATA_INTERNAL: u16 = 7777;
/// First external GameData port when no UDP echo socket is bound.
const GAME_DATA_BASE: u16 = 31000;
const RDP_PORT: u16 = 3389;

/// What the connection loop does with a handled request.
pub(crate) enum Action {
    Respond(Response),
    /// Close the connection without writing anything.
    Drop,
}

pub(crate) struct Handled {
    pub action: Action,
    pub correlation_id: String,
}

struct Lease {
    session_id: String,
    expires: Instant,
}

struct SimServer {
    index: usize,
    game_port: u16,
    secure_context: String,
    lease: Option<Lease>,
    echo: Option<UdpEcho>,
}

#[derive(Default)]
struct Pool {
    servers: Vec<SimServer>,
    queue: VecDeque<String>,
}

impl Pool {
    /// Ends expired leases, then gives free servers to the head of the queue.
    fn sweep(&mut self, now: Instant, lifetime: Duration) {
        for server in &mut self.servers {
            if server.lease.as_ref().is_some_and(|l| l.expires <= now) {
                server.lease = None;
            }
        }
        self.promote(now, lifetime);
    }

    fn promote(&mut self, now: Instant, lifetime: Duration) {
        for server in &mut self.servers {
            if self.queue.is_empty() {
                break;
            }
            if server.lease.is_none() {
                let session_id = self.queue.pop_front().expect("queue not empty");
                server.lease = Some(Lease { session_id, expires: now + lifetime });
            }
        }
    }
}

struct ActiveFault {
    rule: FaultRule,
    /// Matching requests left; None = forever.
    remaining: Option<u32>,
}

#[derive(Default)]
struct State {
    pools: BTreeMap<u32, Pool>,
    faults: Vec<ActiveFault>,
    records: VecDeque<RecordedRequest>,
}

/// State shared by the accept thread, connection threads and the [`crate::Emulator`] handle.
pub(crate) struct Service {
    pub settings: crate::Config,
    state: Mutex<State>,
    request_count: AtomicU64,
    pub stopping: AtomicBool,
    ids: AtomicU64,
    id_salt: u64,
}

/// The combined effect of the fault rules that fired for one request.
#[derive(Default)]
struct FaultEffect {
    latency_ms: u64,
    drop_connection: bool,
    status: Option<u16>,
    retry_after: Option<String>,
}

enum Fulfillment {
    Fulfilled(usize),
    Queued,
    Aborted,
}

/// A fresh random u64 (std's hasher keys are randomly seeded per `RandomState`).
pub(crate) fn random_u64(mix: u64) -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(mix);
    if let Ok(d) = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH) {
        h.write_u128(d.as_nanos());
    }
    h.finish()
}

impl Service {
    pub fn new(cfg: &Config) -> Service {
        let faults = cfg.faults.iter().map(|r| ActiveFault { rule: r.clone(), remaining: r.times }).collect();
        Service {
            settings: cfg.clone(),
            state: Mutex::new(State { faults, ..State::default() }),
            request_count: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            ids: AtomicU64::new(0),
            id_salt: random_u64(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent-enough data for a test tool.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// A unique id shaped like a UUID: a per-emulator random salt, a counter and fresh noise.
    fn correlation_id(&self) -> String {
        let n = self.ids.fetch_add(1, Ordering::Relaxed);
        let r = random_u64(n);
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            (self.id_salt >> 32) as u32,
            (self.id_salt >> 16) as u16,
            0x4000 | ((r >> 48) as u16 & 0x0fff),
            0x8000 | ((r >> 32) as u16 & 0x3fff),
            n & 0xffff_ffff_ffff
        )
    }

    /// Creates the pools of the allowed titles up front (binding their UDP sockets now).
    pub fn create_pools(&self, titles: &[u32]) -> io::Result<()> {
        let mut st = self.lock();
        for &title_id in titles {
            if let std::collections::btree_map::Entry::Vacant(e) = st.pools.entry(title_id) {
                e.insert(self.new_pool(title_id)?);
            }
        }
        Ok(())
    }

    // ----- public handle operations -----

    pub fn add_fault(&self, rule: FaultRule) {
        let remaining = rule.times;
        self.lock().faults.push(ActiveFault { rule, remaining });
    }

    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    pub fn reset(&self) {
        let mut st = self.lock();
        for pool in st.pools.values_mut() {
            pool.queue.clear();
            for server in &mut pool.servers {
                server.lease = None;
            }
        }
        st.faults.clear();
        st.records.clear();
        self.request_count.store(0, Ordering::SeqCst);
    }

    /// Ends every lease of the title, then moves queued sessions up. Returns how many ended.
    pub fn release_all(&self, title_id: u32) -> usize {
        let lifetime = self.settings.server_lifetime;
        let mut st = self.lock();
        let Some(pool) = st.pools.get_mut(&title_id) else {
            return 0;
        };
        let mut released = 0;
        for server in &mut pool.servers {
            if server.lease.take().is_some() {
                released += 1;
            }
        }
        pool.promote(Instant::now(), lifetime);
        released
    }

    pub fn request_count(&self) -> u64 {
        self.request_count.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().records.iter().cloned().collect()
    }

    /// Closes every UDP echo socket and joins its thread.
    pub fn stop_udp(&self) {
        let echoes: Vec<UdpEcho> = {
            let mut st = self.lock();
            st.pools.values_mut().flat_map(|p| p.servers.iter_mut()).filter_map(|s| s.echo.take()).collect()
        };
        for mut echo in echoes {
            echo.stop();
        }
    }

    // ----- request handling -----

    /// Handles one request (admin or service).
    pub fn handle(&self, req: &Request) -> Handled {
        let correlation_id = self.correlation_id();
        let action = if req.path == "/_emulator" || req.path.starts_with("/_emulator/") {
            Action::Respond(self.admin(req))
        } else {
            self.request_count.fetch_add(1, Ordering::SeqCst);
            let action = self.service(req);
            let status = match &action {
                Action::Respond(r) => r.status,
                Action::Drop => 0,
            };
            self.record(req, status);
            action
        };
        let action = match action {
            Action::Respond(resp) => Action::Respond(self.common_headers(resp, &correlation_id)),
            Action::Drop => Action::Drop,
        };
        Handled { action, correlation_id }
    }

    fn common_headers(&self, mut resp: Response, correlation_id: &str) -> Response {
        let mut headers = vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("Cache-Control".to_string(), "no-cache".to_string()),
            ("X-Content-Type-Options".to_string(), "nosniff".to_string()),
            ("X-XblCorrelationId".to_string(), correlation_id.to_string()),
            ("Date".to_string(), httpdate::fmt_http_date(SystemTime::now())),
        ];
        headers.append(&mut resp.headers);
        resp.headers = headers;
        resp
    }

    fn record(&self, req: &Request, status: u16) {
        let rec = RecordedRequest {
            method: req.method.clone(),
            path: req.target.clone(),
            headers: req.headers.clone(),
            body: req.body.clone(),
            status,
        };
        let mut st = self.lock();
        if st.records.len() >= RECORD_LIMIT {
            st.records.pop_front();
        }
        st.records.push_back(rec);
    }

    /// Rolls the fault rules in order. Rules that only add latency fire and let the next rules
    /// be rolled too; the first rule that fires with a status or a drop ends the roll.
    fn roll_faults(&self) -> FaultEffect {
        let mut effect = FaultEffect::default();
        let mut st = self.lock();
        let mut i = 0;
        let mut salt = self.ids.load(Ordering::Relaxed);
        while i < st.faults.len() {
            let fault = &mut st.faults[i];
            salt = salt.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let p = fault.rule.probability;
            let fires = fault.remaining != Some(0)
                && p > 0.0
                && (p >= 1.0 || (random_u64(salt) >> 11) as f64 / (1u64 << 53) as f64 <= p);
            if !fires {
                i += 1;
                continue;
            }
            if let Some(n) = fault.remaining.as_mut() {
                *n -= 1;
            }
            let rule = fault.rule.clone();
            if fault.remaining == Some(0) {
                st.faults.remove(i);
            } else {
                i += 1;
            }
            effect.latency_ms = effect.latency_ms.saturating_add(rule.latency_ms);
            if rule.drop_connection || rule.status.is_some() {
                effect.drop_connection = rule.drop_connection;
                effect.status = rule.status;
                effect.retry_after = rule.retry_after;
                break;
            }
        }
        effect
    }

    /// Sleeps, waking early when the emulator shuts down.
    fn sleep(&self, ms: u64) {
        let end = Instant::now() + Duration::from_millis(ms);
        loop {
            let now = Instant::now();
            if now >= end || self.stopping() {
                return;
            }
            std::thread::sleep((end - now).min(Duration::from_millis(20)));
        }
    }

    fn service(&self, req: &Request) -> Action {
        let fault = self.roll_faults();
        if fault.latency_ms > 0 {
            self.sleep(fault.latency_ms);
        }
        if fault.drop_connection {
            return Action::Drop;
        }
        if let Some(status) = fault.status {
            let mut resp = error(status, "injected fault (gsms-emulator)");
            if let Some(ra) = fault.retry_after {
                resp = resp.header("Retry-After", ra);
            }
            return Action::Respond(resp);
        }
        Action::Respond(self.clusters(req))
    }

    /// POST /titles/{titleId}/clusters.
    fn clusters(&self, req: &Request) -> Response {
        let Some(title_id) = parse_clusters_path(&req.path) else {
            return error(404, "no such resource: the emulator serves POST /titles/{titleId}/clusters");
        };
        if req.method != "POST" {
            return error(405, "method not allowed: use POST").header("Allow", "POST");
        }
        match req.header("x-xbl-contract-version") {
            Some("1") => {}
            Some(v) => {
                return error(400, &format!("unsupported x-xbl-contract-version {v:?}: this call speaks version 1"))
            }
            None => return error(400, "missing x-xbl-contract-version header (expected 1)"),
        }
        let auth = match req.header("authorization") {
            None => return unauthorized("missing Authorization header"),
            Some(v) => v,
        };
        if !valid_xbl_auth(auth) {
            return unauthorized("invalid Authorization header: expected XBL3.0 x=<userhash>;<token>");
        }
        if self.settings.revoked_tokens.iter().any(|t| t == auth) {
            return unauthorized("the token was revoked or has expired");
        }
        if !self.settings.allowed_titles.is_empty() && !self.settings.allowed_titles.contains(&title_id) {
            return error(403, &format!("the caller may not request servers for title {title_id}"));
        }
        let json_type = req.header("content-type").is_some_and(|ct| {
            let essence = ct.split(';').next().unwrap_or("").trim();
            essence.eq_ignore_ascii_case("application/json")
        });
        if !json_type {
            return error(415, "Content-Type must be application/json");
        }
        if req.body_too_large {
            return error(413, &format!("request body larger than {} bytes", crate::http::MAX_BODY));
        }
        let (session_key, abort_if_queued) = match parse_body(&req.body) {
            Ok(v) => v,
            Err(msg) => return error(400, &msg),
        };
        match self.allocate(title_id, session_key, abort_if_queued) {
            Ok(body) => Response { status: 200, headers: Vec::new(), body },
            Err(e) => error(500, &format!("emulator could not create the server pool: {e}")),
        }
    }

    fn allocate(&self, title_id: u32, session_key: String, abort: bool) -> io::Result<Vec<u8>> {
        let now = Instant::now();
        let lifetime = self.settings.server_lifetime;
        let mut st = self.lock();
        let pool = match st.pools.entry(title_id) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => e.insert(self.new_pool(title_id)?),
        };
        pool.sweep(now, lifetime);
        let held = pool.servers.iter().position(|s| s.lease.as_ref().is_some_and(|l| l.session_id == session_key));
        let outcome = if let Some(i) = held {
            Fulfillment::Fulfilled(i)
        } else if pool.queue.contains(&session_key) {
            Fulfillment::Queued
        } else if let Some(i) = pool.servers.iter().position(|s| s.lease.is_none()) {
            pool.servers[i].lease = Some(Lease { session_id: session_key, expires: now + lifetime });
            Fulfillment::Fulfilled(i)
        } else if abort {
            Fulfillment::Aborted
        } else {
            pool.queue.push_back(session_key);
            Fulfillment::Queued
        };
        let poll = if self.settings.poll_interval_as_number {
            json!(self.settings.poll_interval_ms)
        } else {
            json!(self.settings.poll_interval_ms.to_string())
        };
        // Serialized from a struct so the fields come in the documentation's order.
        let mut body = AllocationBody {
            poll_interval_milliseconds: poll,
            fulfillment_state: "Queued",
            host_name: None,
            region: None,
            port_mappings: None,
            secure_context: None,
        };
        match outcome {
            Fulfillment::Fulfilled(i) => {
                let server = &pool.servers[i];
                body.fulfillment_state = "Fulfilled";
                body.host_name = Some(self.settings.host_name.clone());
                body.region = Some(self.settings.region.clone());
                body.port_mappings = Some(vec![
                    PortMapping {
                        key: "GameData",
                        value: Ports { internal: GAME_DATA_INTERNAL, external: server.game_port },
                    },
                    PortMapping { key: "RDP", value: Ports { internal: RDP_PORT, external: RDP_PORT } },
                ]);
                body.secure_context = Some(server.secure_context.clone());
            }
            Fulfillment::Queued => {}
            Fulfillment::Aborted => body.fulfillment_state = "Aborted",
        }
        Ok(serde_json::to_vec(&body).expect("the answer serializes"))
    }

    fn new_pool(&self, title_id: u32) -> io::Result<Pool> {
        let mut servers = Vec::with_capacity(self.settings.servers_per_title);
        for index in 0..self.settings.servers_per_title {
            let (game_port, echo) = if self.settings.udp_echo {
                let echo = UdpEcho::bind(&self.settings.host_name)?;
                (echo.port, Some(echo))
            } else {
                let port = (GAME_DATA_BASE as usize + index).min(u16::MAX as usize) as u16;
                (port, None)
            };
            // "Secure device address" stand-in: a tag, the title, the server, its port, noise.
            let mut context = Vec::with_capacity(24);
            context.extend_from_slice(b"GSMSEMU1");
            context.extend_from_slice(&title_id.to_be_bytes());
            context.extend_from_slice(&(index as u16).to_be_bytes());
            context.extend_from_slice(&game_port.to_be_bytes());
            context.extend_from_slice(&random_u64(index as u64).to_be_bytes());
            servers.push(SimServer {
                index,
                game_port,
                secure_context: base64::engine::general_purpose::STANDARD.encode(&context),
                lease: None,
                echo,
            });
        }
        Ok(Pool { servers, queue: VecDeque::new() })
    }

    // ----- admin API -----

    fn admin(&self, req: &Request) -> Response {
        let sub = req.path.trim_start_matches("/_emulator").trim_end_matches('/');
        match (req.method.as_str(), sub) {
            ("GET", "/state") | ("GET", "") => json_response(200, &self.state_json()),
            ("POST", "/reset") => {
                self.reset();
                json_response(200, &json!({"reset": true}))
            }
            ("GET", "/faults") => json_response(200, &json!({"faults": self.faults_json()})),
            ("POST", "/faults") => match parse_fault(&req.body) {
                Ok(rule) => {
                    self.add_fault(rule);
                    json_response(200, &json!({"faults": self.faults_json()}))
                }
                Err(msg) => error(400, &msg),
            },
            ("DELETE", "/faults") => {
                self.clear_faults();
                json_response(200, &json!({"faults": []}))
            }
            ("POST", "/release") => {
                let title = req.query.split('&').find_map(|kv| kv.strip_prefix("title=")).and_then(parse_u32_decimal);
                match title {
                    Some(t) => {
                        let released = self.release_all(t);
                        json_response(200, &json!({"titleId": t, "released": released}))
                    }
                    None => error(400, "expected ?title=<decimal title id>"),
                }
            }
            (_, "/state" | "" | "/reset" | "/faults" | "/release") => {
                error(405, "method not allowed on this admin resource")
            }
            _ => error(
                404,
                "unknown admin resource: GET /_emulator/state, POST /_emulator/reset, \
                 GET|POST|DELETE /_emulator/faults, POST /_emulator/release?title=N",
            ),
        }
    }

    fn faults_json(&self) -> Vec<Value> {
        self.lock()
            .faults
            .iter()
            .map(|f| {
                let mut v = serde_json::to_value(FaultWire::from(&f.rule)).unwrap_or(Value::Null);
                if let Value::Object(m) = &mut v {
                    m.insert("remaining".into(), json!(f.remaining));
                }
                v
            })
            .collect()
    }

    fn state_json(&self) -> Value {
        let now = Instant::now();
        let lifetime = self.settings.server_lifetime;
        let titles: Vec<Value> = {
            let mut st = self.lock();
            st.pools
                .iter_mut()
                .map(|(title_id, pool)| {
                    pool.sweep(now, lifetime);
                    let servers: Vec<Value> = pool
                        .servers
                        .iter()
                        .map(|s| {
                            json!({
                                "index": s.index,
                                "hostName": self.settings.host_name,
                                "gameDataPort": s.game_port,
                                "udpEcho": s.echo.is_some(),
                                "sessionId": s.lease.as_ref().map(|l| l.session_id.clone()),
                                "remainingLifetimeMs": s.lease.as_ref().map(|l| {
                                    l.expires.saturating_duration_since(now).as_millis() as u64
                                }),
                            })
                        })
                        .collect();
                    json!({
                        "titleId": title_id,
                        "servers": servers,
                        "queue": pool.queue.iter().collect::<Vec<_>>(),
                    })
                })
                .collect()
        };
        let s = &self.settings;
        json!({
            "requestCount": self.request_count(),
            "titles": titles,
            "faults": self.faults_json(),
            "config": {
                "allowedTitles": s.allowed_titles,
                "serversPerTitle": s.servers_per_title,
                "serverLifetimeMs": s.server_lifetime.as_millis() as u64,
                "pollIntervalMs": s.poll_interval_ms,
                "pollIntervalAsNumber": s.poll_interval_as_number,
                "region": s.region,
                "hostName": s.host_name,
                "revokedTokens": s.revoked_tokens.len(),
                "udpEcho": s.udp_echo,
            },
        })
    }
}

/// The body of a 2xx allocation answer.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AllocationBody {
    poll_interval_milliseconds: Value,
    fulfillment_state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    host_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    port_mappings: Option<Vec<PortMapping>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    secure_context: Option<String>,
}

#[derive(Serialize)]
struct PortMapping {
    #[serde(rename = "Key")]
    key: &'static str,
    #[serde(rename = "Value")]
    value: Ports,
}

#[derive(Serialize)]
struct Ports {
    internal: u16,
    external: u16,
}

/// A fault rule as JSON (admin API): camelCase, unknown fields refused, probability 1 when absent.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FaultWire {
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    retry_after: Option<String>,
    #[serde(default)]
    latency_ms: u64,
    #[serde(default)]
    drop_connection: bool,
    #[serde(default)]
    times: Option<u32>,
    #[serde(default = "one")]
    probability: f64,
}

fn one() -> f64 {
    1.0
}

impl From<&FaultRule> for FaultWire {
    fn from(r: &FaultRule) -> Self {
        FaultWire {
            status: r.status,
            retry_after: r.retry_after.clone(),
            latency_ms: r.latency_ms,
            drop_connection: r.drop_connection,
            times: r.times,
            probability: r.probability,
        }
    }
}

fn parse_fault(body: &[u8]) -> Result<FaultRule, String> {
    let w: FaultWire = serde_json::from_slice(body).map_err(|e| format!("invalid fault rule: {e}"))?;
    let rule = FaultRule {
        status: w.status,
        retry_after: w.retry_after,
        latency_ms: w.latency_ms,
        drop_connection: w.drop_connection,
        times: w.times,
        probability: w.probability,
    };
    rule.check()?;
    Ok(rule)
}

fn json_response(status: u16, body: &Value) -> Response {
    Response { status, headers: Vec::new(), body: serde_json::to_vec(body).expect("JSON values serialize") }
}

/// An error answer: `{"code":status,"message":...}`.
pub(crate) fn error(status: u16, message: &str) -> Response {
    json_response(status, &json!({"code": status, "message": message}))
}

fn unauthorized(message: &str) -> Response {
    error(401, message).header("WWW-Authenticate", "XBL3.0")
}

fn parse_u32_decimal(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `/titles/{titleId}/clusters` -> titleId.
fn parse_clusters_path(path: &str) -> Option<u32> {
    let rest = path.strip_prefix("/titles/")?;
    let (id, tail) = rest.split_once('/')?;
    if tail != "clusters" {
        return None;
    }
    parse_u32_decimal(id)
}

/// `XBL3.0 x=<userhash>;<token>` with both parts non-empty.
fn valid_xbl_auth(value: &str) -> bool {
    let Some(rest) = value.strip_prefix("XBL3.0 x=") else {
        return false;
    };
    match rest.split_once(';') {
        Some((hash, token)) => !hash.is_empty() && !token.trim().is_empty() && !hash.contains(char::is_whitespace),
        None => false,
    }
}

/// Checks an MPSD session path and returns its canonical form, so the XSAPI spelling
/// (`sessionTemplates/../sessions/..`) and the doc's (`sessiontemplates/../session/..`)
/// name the same session.
fn canonical_session(path: &str) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    if parts.len() != 7 || !parts[0].is_empty() {
        return None;
    }
    let ok = parts[1].eq_ignore_ascii_case("serviceconfigs")
        && !parts[2].is_empty()
        && parts[3].eq_ignore_ascii_case("sessiontemplates")
        && !parts[4].is_empty()
        && (parts[5].eq_ignore_ascii_case("sessions") || parts[5].eq_ignore_ascii_case("session"))
        && !parts[6].is_empty();
    if !ok {
        return None;
    }
    Some(format!(
        "/serviceconfigs/{}/sessionTemplates/{}/sessions/{}",
        parts[2].to_ascii_lowercase(),
        parts[4],
        parts[6]
    ))
}

/// The request body: (canonical session path, abortIfQueued).
fn parse_body(body: &[u8]) -> Result<(String, bool), String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("request body is not valid JSON: {e}"))?;
    let Value::Object(obj) = value else {
        return Err("request body must be a JSON object".into());
    };
    let session = match obj.get("sessionId") {
        None | Some(Value::Null) => return Err("missing sessionId".into()),
        Some(Value::String(s)) if s.is_empty() => return Err("sessionId is empty".into()),
        Some(Value::String(s)) => s,
        Some(_) => return Err("sessionId must be a string".into()),
    };
    let key = canonical_session(session).ok_or_else(|| {
        "sessionId must be an MPSD session path: \
         /serviceconfigs/<scid>/sessionTemplates/<template>/sessions/<name>"
            .to_string()
    })?;
    let abort = match obj.get("abortIfQueued") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
        Some(_) => return Err("abortIfQueued must be true or false".into()),
    };
    Ok((key, abort))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_forms() {
        assert!(valid_xbl_auth("XBL3.0 x=123;abc"));
        assert!(!valid_xbl_auth("XBL3.0 x=;abc"));
        assert!(!valid_xbl_auth("XBL3.0 x=123;"));
        assert!(!valid_xbl_auth("XBL3.0 x=123"));
        assert!(!valid_xbl_auth("Bearer abc"));
        assert!(!valid_xbl_auth("XBL3.0 y=1;2"));
    }

    #[test]
    fn paths() {
        assert_eq!(parse_clusters_path("/titles/123/clusters"), Some(123));
        assert_eq!(parse_clusters_path("/titles/4294967295/clusters"), Some(u32::MAX));
        assert_eq!(parse_clusters_path("/titles/4294967296/clusters"), None);
        assert_eq!(parse_clusters_path("/titles/+1/clusters"), None);
        assert_eq!(parse_clusters_path("/titles/0x10/clusters"), None);
        assert_eq!(parse_clusters_path("/titles/1/clusters/x"), None);
        assert_eq!(parse_clusters_path("/titles//clusters"), None);
    }

    #[test]
    fn session_paths() {
        let a = canonical_session("/serviceconfigs/ABC/sessionTemplates/quick/sessions/s1");
        let b = canonical_session("/serviceconfigs/abc/sessiontemplates/quick/session/s1");
        assert!(a.is_some());
        assert_eq!(a, b);
        assert!(canonical_session("/serviceconfigs/abc/sessiontemplates/quick/sessions/").is_none());
        assert!(canonical_session("serviceconfigs/abc/sessiontemplates/q/sessions/s").is_none());
        assert!(canonical_session("/serviceconfigs/abc/templates/q/sessions/s").is_none());
        assert!(canonical_session("s1").is_none());
    }

    #[test]
    fn bodies() {
        let p = "/serviceconfigs/a/sessionTemplates/t/sessions/n";
        let ok = |b: Value| parse_body(b.to_string().as_bytes());
        let abort = |b: Value| ok(b).unwrap().1;
        assert!(!abort(json!({"sessionId": p})));
        assert!(abort(json!({"sessionId": p, "abortIfQueued": true})));
        assert!(abort(json!({"sessionId": p, "abortIfQueued": "true"})));
        assert!(!abort(json!({"sessionId": p, "abortIfQueued": "false"})));
        assert!(!abort(json!({"sessionId": p, "abortIfQueued": null})));
        assert!(ok(json!({"sessionId": p, "abortIfQueued": 1})).is_err());
        assert!(ok(json!({"sessionId": p, "abortIfQueued": "yes"})).is_err());
        assert!(ok(json!({"sessionId": ""})).is_err());
        assert!(ok(json!({"sessionId": 5})).is_err());
        assert!(ok(json!({})).is_err());
        assert!(ok(json!([p])).is_err());
        assert!(parse_body(b"{").is_err());
    }

    #[test]
    fn correlation_ids_are_unique_and_uuid_shaped() {
        let svc = Service::new(&Config::default());
        let a = svc.correlation_id();
        let b = svc.correlation_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
    }

    #[test]
    fn fault_wire_defaults() {
        let r = parse_fault(br#"{"status":503,"retryAfter":"1","times":2}"#).unwrap();
        assert_eq!(r.status, Some(503));
        assert_eq!(r.probability, 1.0);
        assert!(parse_fault(br#"{"status":503,"bogus":1}"#).is_err());
        assert!(parse_fault(br#"{"status":42}"#).is_err());
        assert!(parse_fault(br#"{"probability":2}"#).is_err());
    }
}
