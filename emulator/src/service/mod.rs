//! The emulated service: a router over the seven calls, the checks they share, fault rules,
//! shared state, and the admin API apart.

mod admin;
pub(crate) mod calls;
pub(crate) mod checks;
pub(crate) mod errors;
pub(crate) mod faults;
pub(crate) mod route;
pub(crate) mod state;

use std::hash::{BuildHasher, Hasher};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use crate::beacon::Beacon;
use crate::http::{Request, Response};
use crate::quirks;
use crate::{Config, RecordedRequest};
use route::{Call, Routed};
use state::{Record, State};

/// What the connection loop does with a handled request.
pub(crate) enum Action {
    Respond(Response),
    /// Close the connection without writing anything.
    Drop,
}

pub(crate) struct Handled {
    pub action: Action,
    pub correlation_id: String,
    /// The call the request named, if any.
    pub call: Option<&'static str>,
}

/// State shared by the accept thread, connection threads and the [`crate::Emulator`] handle.
pub(crate) struct Service {
    pub settings: Config,
    state: Mutex<State>,
    pub beacons: Vec<Beacon>,
    request_count: AtomicU64,
    /// 2xx answers given (numbers quirks mode's answers).
    answers: AtomicU64,
    pub stopping: AtomicBool,
    ids: AtomicU64,
    id_salt: u64,
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
    /// Checks the configuration and starts the QoS beacons.
    pub fn new(cfg: &Config) -> io::Result<Service> {
        let invalid = |e: String| io::Error::new(io::ErrorKind::InvalidInput, e);
        for rule in &cfg.faults {
            rule.check().map_err(invalid)?;
        }
        for (i, r) in cfg.regions.iter().enumerate() {
            r.check().map_err(invalid)?;
            if cfg.regions[..i].iter().any(|o| o.name.eq_ignore_ascii_case(&r.name)) {
                return Err(invalid(format!("region {:?} is configured twice", r.name)));
            }
        }
        if let Some(limit) = cfg.rate_limit {
            if limit.max_requests == 0 || limit.period.is_zero() {
                return Err(invalid("rate limit needs max_requests >= 1 and a period > 0".into()));
            }
        }
        let mut beacons = Vec::with_capacity(cfg.regions.len());
        for (i, r) in cfg.regions.iter().enumerate() {
            // Dropping the ones started so far stops them.
            beacons.push(Beacon::start(&cfg.host_name, i, r, cfg.qos_pending_limit)?);
        }
        Ok(Service {
            settings: cfg.clone(),
            state: Mutex::new(State::new(cfg)),
            beacons,
            request_count: AtomicU64::new(0),
            answers: AtomicU64::new(0),
            stopping: AtomicBool::new(false),
            ids: AtomicU64::new(0),
            id_salt: random_u64(0),
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent-enough data for a test tool.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// An error answer in the configured body style.
    pub(crate) fn err(&self, status: u16, description: &str) -> Response {
        errors::error(self.settings.error_body_style, status, description)
    }

    fn pool_error(&self, e: io::Error) -> Response {
        self.err(500, &format!("emulator could not create the server pool: {e}"))
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
            st.pool(&self.settings, title_id)?;
            st.hosts(&self.settings, title_id)?;
        }
        Ok(())
    }

    pub fn request_count(&self) -> u64 {
        self.request_count.load(Ordering::SeqCst)
    }

    pub fn reset(&self) {
        self.lock().reset(&self.settings);
        for (b, r) in self.beacons.iter().zip(&self.settings.regions) {
            b.set_params(crate::beacon::Params { delay_ms: r.delay_ms, jitter_ms: r.jitter_ms, loss: r.loss });
        }
        self.request_count.store(0, Ordering::SeqCst);
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().records.iter().map(|r| r.request.clone()).collect()
    }

    /// Closes every UDP socket (echo and beacons) and joins their threads.
    pub fn stop_udp(&self) {
        let echoes: Vec<crate::udp::UdpEcho> = {
            let mut st = self.lock();
            let servers = st.pools.values_mut().flat_map(|p| p.servers.iter_mut()).map(|s| &mut s.machine);
            let mut echoes: Vec<_> = servers.filter_map(|m| m.echo.take()).collect();
            let hosts = st.host_pools.values_mut().flat_map(|h| h.iter_mut()).map(|h| &mut h.machine);
            echoes.extend(hosts.filter_map(|m| m.echo.take()));
            echoes
        };
        for mut echo in echoes {
            echo.stop();
        }
        for b in &self.beacons {
            b.stop();
        }
    }

    // ----- request handling -----

    /// Handles one request (admin or service).
    pub fn handle(&self, req: &Request) -> Handled {
        let started = Instant::now();
        let correlation_id = self.correlation_id();
        if req.path == "/_emulator" || req.path.starts_with("/_emulator/") {
            let resp = self.admin(req);
            return Handled {
                action: Action::Respond(common_headers(resp, &correlation_id)),
                correlation_id,
                call: None,
            };
        }
        self.request_count.fetch_add(1, Ordering::SeqCst);
        let (call, action) = self.service(req);
        let call = call.map(Call::name);
        let status = match &action {
            Action::Respond(r) => r.status,
            Action::Drop => 0,
        };
        let request = RecordedRequest {
            method: req.method.clone(),
            path: req.target.clone(),
            headers: req.headers.clone(),
            body: req.body.clone(),
            status,
            call,
            correlation_id: correlation_id.clone(),
        };
        self.lock().record(Record { request, time: SystemTime::now(), latency: started.elapsed() });
        let action = match action {
            Action::Respond(resp) => Action::Respond(common_headers(resp, &correlation_id)),
            Action::Drop => Action::Drop,
        };
        Handled { action, correlation_id, call }
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

    /// Routes, rolls the fault rules of the call, runs the shared checks and the call.
    fn service(&self, req: &Request) -> (Option<Call>, Action) {
        let route = match route::route(&req.method, &req.path) {
            Routed::NotFound => {
                let msg = format!("no such resource: {} {}", req.method, req.path);
                return (None, Action::Respond(self.err(404, &msg)));
            }
            Routed::WrongMethod(call) => {
                let msg = format!("method not allowed: {} takes {}", call.name(), call.method());
                return (Some(call), Action::Respond(self.err(405, &msg).header("Allow", call.method())));
            }
            Routed::Found(route) => route,
        };
        let call = route.call;
        let fault = faults::roll(&mut self.lock().faults, call, self.ids.load(Ordering::Relaxed));
        if fault.latency_ms > 0 {
            self.sleep(fault.latency_ms);
        }
        if fault.drop_connection {
            return (Some(call), Action::Drop);
        }
        if let Some(status) = fault.status {
            let mut resp = self.err(status, &format!("injected fault on {} (gsms-emulator)", call.name()));
            if let Some(ra) = fault.retry_after {
                resp = resp.header("Retry-After", ra);
            }
            return (Some(call), Action::Respond(resp));
        }
        if let Err(resp) = checks::shared_checks(self, req, &route) {
            return (Some(call), Action::Respond(resp));
        }
        let title = route.title.unwrap_or(0);
        let id = route.id.as_deref().unwrap_or("");
        let answer = match call {
            Call::Clusters => calls::clusters::handle(self, req, title),
            Call::InlineClusters => calls::inline_clusters::handle(self, req, title),
            Call::TicketStatus => calls::ticket_status::handle(self, title, id),
            Call::Variants => calls::variants::handle(self, req),
            Call::QosServers => Ok(calls::qos_servers::handle(self)),
            Call::SessionHosts => calls::session_hosts::handle(self, req, title),
            Call::AllocationStatus => calls::allocation_status::handle(self, title, id),
        };
        let resp = match answer {
            Ok(body) => {
                let n = self.answers.fetch_add(1, Ordering::Relaxed);
                let body = if self.settings.quirks {
                    quirks::apply(
                        call,
                        body,
                        &mut quirks::Rng::new(self.settings.quirks_seed, n),
                        self.settings.quirks_omit_optional,
                    )
                } else {
                    body
                };
                Response { status: 200, headers: Vec::new(), body: body.to_bytes() }
            }
            Err(resp) => resp,
        };
        (Some(call), Action::Respond(resp))
    }
}

fn common_headers(mut resp: Response, correlation_id: &str) -> Response {
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

/// A JSON answer of the admin API.
fn json_response(status: u16, body: &serde_json::Value) -> Response {
    Response { status, headers: Vec::new(), body: serde_json::to_vec(body).expect("JSON values serialize") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn correlation_ids_are_unique_and_uuid_shaped() {
        let svc = Service::new(&Config { regions: Vec::new(), ..Config::default() }).unwrap();
        let a = svc.correlation_id();
        let b = svc.correlation_id();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
    }
}
