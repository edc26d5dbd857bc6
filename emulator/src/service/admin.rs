//! The admin API under `/_emulator/` (no auth; not counted, recorded or faulted), and the
//! operations the [`crate::Emulator`] handle shares with it.

use std::time::{Instant, SystemTime};

use serde_json::{json, Value};

use super::calls::variants::{catalogue_json, parse_catalogue};
use super::errors;
use super::faults::{parse_fault, ActiveFault};
use super::route::{parse_u32_decimal, percent_decode};
use super::state::Holder;
use super::{json_response, Service};
use crate::beacon::Params;
use crate::http::{Request, Response};
use crate::{ErrorBodyStyle, FaultRule, RegionConfig, TicketStatus, VariantCatalogue};

/// Requests `/_emulator/state` lists.
const LATEST_REQUESTS: usize = 50;

const INDEX: &str = "admin resources: GET /_emulator/state, POST /_emulator/reset, \
    GET|POST|DELETE /_emulator/faults, POST /_emulator/release?title=N, POST /_emulator/tickets/{ticketId}, \
    GET|PUT /_emulator/variants, GET /_emulator/regions, PUT /_emulator/regions/{name}, \
    PUT /_emulator/subscriptions/{titleId}, POST /_emulator/sessionhosts/release?title=N, \
    POST /_emulator/sessions/{sessionId}";

fn admin_error(status: u16, msg: &str) -> Response {
    errors::error(ErrorBodyStyle::Description, status, msg)
}

fn body_object(req: &Request) -> Result<serde_json::Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(admin_error(400, "the body must be a JSON object")),
        Err(e) => Err(admin_error(400, &format!("the body is not valid JSON: {e}"))),
    }
}

fn title_query(req: &Request) -> Option<u32> {
    req.query.split('&').find_map(|kv| kv.strip_prefix("title=")).and_then(parse_u32_decimal)
}

impl Service {
    // ----- operations shared with the Rust handle -----

    pub fn add_fault(&self, rule: FaultRule) {
        self.lock().faults.push(ActiveFault::new(&rule));
    }

    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    /// Ends every lease of the title's pool (clusters and inline clusters), then moves queued
    /// ones up. Returns how many ended.
    pub fn release_all(&self, title_id: u32) -> usize {
        self.lock().release_all(title_id, self.settings.server_lifetime)
    }

    pub fn set_ticket_status(&self, ticket_id: &str, status: TicketStatus, description: &str) -> Result<(), String> {
        if !matches!(status, TicketStatus::Aborted | TicketStatus::Error) {
            return Err(format!("a ticket can be set Aborted or Error, not {}", status.as_str()));
        }
        match self.lock().set_ticket_status(ticket_id, status, description, self.settings.server_lifetime) {
            0 => Err(format!("no ticket {ticket_id:?}")),
            _ => Ok(()),
        }
    }

    pub fn set_variants(&self, catalogue: VariantCatalogue) {
        self.lock().variants = catalogue;
    }

    pub fn variants(&self) -> VariantCatalogue {
        self.lock().variants.clone()
    }

    pub fn set_region(&self, region: &RegionConfig) -> Result<(), String> {
        region.check()?;
        let beacon = self
            .beacons
            .iter()
            .find(|b| b.name.eq_ignore_ascii_case(&region.name))
            .ok_or_else(|| format!("no region {:?}", region.name))?;
        beacon.set_params(Params { delay_ms: region.delay_ms, jitter_ms: region.jitter_ms, loss: region.loss });
        Ok(())
    }

    pub fn regions(&self) -> Vec<(RegionConfig, std::net::SocketAddr)> {
        self.beacons
            .iter()
            .map(|b| {
                let p = b.params();
                let r =
                    RegionConfig { name: b.name.clone(), delay_ms: p.delay_ms, jitter_ms: p.jitter_ms, loss: p.loss };
                (r, b.addr)
            })
            .collect()
    }

    pub fn set_title_subscribed(&self, title_id: u32, subscribed: bool) {
        let mut st = self.lock();
        if subscribed {
            st.no_subscriptions.remove(&title_id);
        } else {
            st.no_subscriptions.insert(title_id);
        }
    }

    pub fn release_session_hosts(&self, title_id: u32) -> usize {
        self.lock().release_hosts(title_id)
    }

    pub fn abort_session(&self, session_id: &str, description: &str) -> Result<(), String> {
        match self.lock().abort_session(session_id, description) {
            0 => Err(format!("no session {session_id:?}")),
            _ => Ok(()),
        }
    }

    // ----- the admin API -----

    pub(super) fn admin(&self, req: &Request) -> Response {
        let sub = req.path.trim_start_matches("/_emulator").trim_end_matches('/');
        let method = req.method.as_str();
        let segments: Vec<&str> = sub.trim_start_matches('/').split('/').collect();
        match (method, segments.as_slice()) {
            ("GET", [""] | ["state"]) => json_response(200, &self.state_json()),
            ("POST", ["reset"]) => {
                self.reset();
                json_response(200, &json!({"reset": true}))
            }
            ("GET", ["faults"]) => json_response(200, &json!({"faults": self.faults_json()})),
            ("POST", ["faults"]) => match parse_fault(&req.body) {
                Ok(rule) => {
                    self.add_fault(rule);
                    json_response(200, &json!({"faults": self.faults_json()}))
                }
                Err(msg) => admin_error(400, &msg),
            },
            ("DELETE", ["faults"]) => {
                self.clear_faults();
                json_response(200, &json!({"faults": []}))
            }
            ("POST", ["release"]) => match title_query(req) {
                Some(t) => json_response(200, &json!({"titleId": t, "released": self.release_all(t)})),
                None => admin_error(400, "expected ?title=<decimal title id>"),
            },
            ("POST", ["sessionhosts", "release"]) => match title_query(req) {
                Some(t) => json_response(200, &json!({"titleId": t, "released": self.release_session_hosts(t)})),
                None => admin_error(400, "expected ?title=<decimal title id>"),
            },
            ("POST", ["tickets", id]) => self.admin_ticket(req, id),
            ("POST", ["sessions", id]) => self.admin_session(req, id),
            ("GET", ["variants"]) => json_response(200, &self.variants_json()),
            ("PUT", ["variants"]) => match parse_catalogue(&req.body) {
                Ok(cat) => {
                    self.set_variants(cat);
                    json_response(200, &self.variants_json())
                }
                Err(msg) => admin_error(400, &msg),
            },
            ("GET", ["regions"]) => json_response(200, &json!({"regions": self.regions_json()})),
            ("PUT", ["regions", name]) => self.admin_region(req, name),
            ("PUT", ["subscriptions", title]) => {
                let Some(t) = parse_u32_decimal(title) else {
                    return admin_error(400, "expected /_emulator/subscriptions/<decimal title id>");
                };
                let body = match body_object(req) {
                    Ok(b) => b,
                    Err(r) => return r,
                };
                match body.get("subscribed") {
                    Some(Value::Bool(b)) => {
                        self.set_title_subscribed(t, *b);
                        json_response(200, &json!({"titleId": t, "subscribed": b}))
                    }
                    _ => admin_error(400, "expected {\"subscribed\": true|false}"),
                }
            }
            (
                _,
                [""]
                | ["state"]
                | ["reset"]
                | ["faults"]
                | ["release"]
                | ["sessionhosts", "release"]
                | ["tickets", _]
                | ["sessions", _]
                | ["variants"]
                | ["regions"]
                | ["regions", _]
                | ["subscriptions", _],
            ) => admin_error(405, "method not allowed on this admin resource"),
            _ => admin_error(404, &format!("unknown admin resource; {INDEX}")),
        }
    }

    /// `{"status": "Error"|"Aborted", "description": ".."}` for a status change.
    fn status_body(req: &Request) -> Result<(String, String), Response> {
        let body = body_object(req)?;
        let status = match body.get("status") {
            Some(Value::String(s)) => s.clone(),
            _ => return Err(admin_error(400, "expected {\"status\": \"...\", \"description\": \"...\"}")),
        };
        let description = match body.get("description") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(admin_error(400, "description must be a string")),
        };
        Ok((status, description))
    }

    fn admin_ticket(&self, req: &Request, id: &str) -> Response {
        let Some(id) = percent_decode(id) else {
            return admin_error(400, "the ticket id is not valid percent-encoding");
        };
        let (status, description) = match Self::status_body(req) {
            Ok(v) => v,
            Err(r) => return r,
        };
        let Some(status) = TicketStatus::parse(&status) else {
            return admin_error(400, "status must be Aborted or Error");
        };
        let description =
            if description.is_empty() { format!("set {} by the admin API", status.as_str()) } else { description };
        match self.set_ticket_status(&id, status, &description) {
            Ok(()) => {
                json_response(200, &json!({"ticketId": id, "status": status.as_str(), "description": description}))
            }
            Err(msg) if msg.starts_with("no ticket") => admin_error(404, &msg),
            Err(msg) => admin_error(400, &msg),
        }
    }

    fn admin_session(&self, req: &Request, id: &str) -> Response {
        let Some(id) = percent_decode(id) else {
            return admin_error(400, "the session id is not valid percent-encoding");
        };
        let (status, description) = match Self::status_body(req) {
            Ok(v) => v,
            Err(r) => return r,
        };
        if !status.eq_ignore_ascii_case("Aborted") {
            return admin_error(400, "status must be Aborted");
        }
        let description = if description.is_empty() { "aborted by the admin API".to_string() } else { description };
        match self.abort_session(&id, &description) {
            Ok(()) => json_response(200, &json!({"sessionId": id, "status": "Aborted", "description": description})),
            Err(msg) => admin_error(404, &msg),
        }
    }

    fn admin_region(&self, req: &Request, name: &str) -> Response {
        let Some(name) = percent_decode(name) else {
            return admin_error(400, "the region name is not valid percent-encoding");
        };
        let Some((mut region, _)) = self.regions().into_iter().find(|(r, _)| r.name.eq_ignore_ascii_case(&name)) else {
            return admin_error(404, &format!("no region {name:?}"));
        };
        let body = match body_object(req) {
            Ok(b) => b,
            Err(r) => return r,
        };
        for (key, slot) in
            [("delayMs", &mut region.delay_ms), ("jitterMs", &mut region.jitter_ms), ("loss", &mut region.loss)]
        {
            match body.get(key) {
                None => {}
                Some(Value::Number(n)) if n.as_f64().is_some() => *slot = n.as_f64().expect("checked"),
                Some(_) => return admin_error(400, &format!("{key} must be a number")),
            }
        }
        if let Some(k) = body.keys().find(|k| !["delayMs", "jitterMs", "loss"].contains(&k.as_str())) {
            return admin_error(400, &format!("unknown field {k:?}: expected delayMs, jitterMs, loss"));
        }
        match self.set_region(&region) {
            Ok(()) => json_response(200, &json!({"regions": self.regions_json()})),
            Err(msg) => admin_error(400, &msg),
        }
    }

    // ----- views -----

    fn faults_json(&self) -> Vec<Value> {
        self.lock().faults.iter().map(ActiveFault::to_json).collect()
    }

    fn variants_json(&self) -> Value {
        let cat = self.variants();
        catalogue_json(cat.variants.iter(), &cat).to_value()
    }

    fn regions_json(&self) -> Vec<Value> {
        self.beacons
            .iter()
            .map(|b| {
                let p = b.params();
                let s = b.stats();
                json!({
                    "name": b.name,
                    "delayMs": p.delay_ms,
                    "jitterMs": p.jitter_ms,
                    "loss": p.loss,
                    "port": b.addr.port(),
                    "serverFqdn": b.addr.to_string(),
                    "received": s.received,
                    "answered": s.answered,
                    "lost": s.lost,
                    "dropped": s.dropped,
                    "ignored": s.ignored,
                    "pending": s.pending,
                })
            })
            .collect()
    }

    fn state_json(&self) -> Value {
        let now = Instant::now();
        let cfg = &self.settings;
        let ms_until = |t: Instant| t.saturating_duration_since(now).as_millis() as u64;
        let mut st = self.lock();
        st.sweep_all(cfg.server_lifetime);
        let titles: Vec<Value> = st
            .pools
            .iter()
            .map(|(title_id, pool)| {
                let servers: Vec<Value> = pool
                    .servers
                    .iter()
                    .map(|s| {
                        let (session, ticket) = match s.lease.as_ref().map(|l| &l.holder) {
                            Some(Holder::Session(id)) => (Some(id.clone()), None),
                            Some(Holder::Ticket(id)) => (None, Some(id.clone())),
                            None => (None, None),
                        };
                        json!({
                            "index": s.machine.index,
                            "hostName": cfg.host_name,
                            "gameDataPort": s.machine.game_port,
                            "udpEcho": s.machine.echo.is_some(),
                            "clusterId": s.machine.cluster_id,
                            "sessionId": session,
                            "ticketId": ticket,
                            "remainingLifetimeMs": s.lease.as_ref().map(|l| ms_until(l.expires)),
                        })
                    })
                    .collect();
                let queued: Vec<Value> = pool
                    .queue
                    .iter()
                    .map(|h| {
                        let (kind, id) = h.describe();
                        let mut m = serde_json::Map::new();
                        m.insert(kind.to_string(), Value::from(id));
                        Value::Object(m)
                    })
                    .collect();
                json!({
                    "titleId": title_id,
                    "servers": servers,
                    "queue": pool.queue.iter().map(|h| h.describe().1).collect::<Vec<_>>(),
                    "queued": queued,
                })
            })
            .collect();
        let tickets: Vec<Value> = st
            .tickets
            .keys()
            .map(|(title_id, id)| {
                let (status, server, description) = st.ticket_status(*title_id, id).expect("listed");
                json!({
                    "titleId": title_id,
                    "ticketId": id,
                    "status": status.as_str(),
                    "description": description,
                    "region": st.tickets[&(*title_id, id.clone())].region,
                    "server": server,
                })
            })
            .collect();
        let session_hosts: Vec<Value> = st
            .host_pools
            .iter()
            .map(|(title_id, hosts)| {
                let hosts: Vec<Value> = hosts
                    .iter()
                    .map(|h| {
                        json!({
                            "index": h.machine.index,
                            "sessionHostId": h.session_host_id,
                            "state": h.state_name(now),
                            "sessionId": h.claim.as_ref().map(|c| c.session_id.clone()),
                            "gameDataPort": h.machine.game_port,
                            "udpEcho": h.machine.echo.is_some(),
                            "activatesInMs": h.claim.as_ref().map(|c| ms_until(c.ready_at)),
                            "remainingLifetimeMs": h.claim.as_ref().map(|c| ms_until(c.expires)),
                        })
                    })
                    .collect();
                json!({
                    "titleId": title_id,
                    "subscribed": !st.no_subscriptions.contains(title_id),
                    "hosts": hosts,
                })
            })
            .collect();
        let sessions: Vec<Value> = st
            .sessions
            .iter()
            .map(|((title_id, id), r)| {
                let status = match st.host_of(*title_id, id) {
                    Some(i) if st.host_pools[title_id][i].state_name(now) == "Active" => "Fulfilled",
                    Some(_) => "Queued",
                    None => "Aborted",
                };
                json!({
                    "titleId": title_id,
                    "sessionId": id,
                    "status": status,
                    "region": r.region,
                    "cloudGameId": r.cloud_game_id,
                    "ticketId": r.ticket_id,
                    "description": r.aborted,
                })
            })
            .collect();
        let latest: Vec<Value> = st
            .records
            .iter()
            .rev()
            .take(LATEST_REQUESTS)
            .map(|r| {
                let unix_ms = r.time.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
                json!({
                    "time": httpdate::fmt_http_date(r.time),
                    "unixMs": unix_ms,
                    "call": r.request.call,
                    "method": r.request.method,
                    "path": r.request.path,
                    "status": r.request.status,
                    "latencyMs": r.latency.as_secs_f64() * 1000.0,
                    "correlationId": r.request.correlation_id,
                })
            })
            .collect();
        let faults: Vec<Value> = st.faults.iter().map(ActiveFault::to_json).collect();
        let no_subscriptions: Vec<u32> = st.no_subscriptions.iter().copied().collect();
        let variants = catalogue_json(st.variants.variants.iter(), &st.variants).to_value();
        drop(st);
        json!({
            "requestCount": self.request_count(),
            "titles": titles,
            "tickets": tickets,
            "sessionHosts": session_hosts,
            "sessions": sessions,
            "titlesWithoutSubscriptions": no_subscriptions,
            "variants": variants,
            "regions": self.regions_json(),
            "faults": faults,
            "latestRequests": latest,
            "config": {
                "allowedTitles": cfg.allowed_titles,
                "serversPerTitle": cfg.servers_per_title,
                "serverLifetimeMs": cfg.server_lifetime.as_millis() as u64,
                "pollIntervalMs": cfg.poll_interval_ms,
                "pollIntervalAsNumber": cfg.poll_interval_as_number,
                "region": cfg.region,
                "hostName": cfg.host_name,
                "revokedTokens": cfg.revoked_tokens.len(),
                "udpEcho": cfg.udp_echo,
                "sessionHostsPerTitle": cfg.session_hosts_per_title,
                "sessionHostActivationMs": cfg.session_host_activation.as_millis() as u64,
                "errorBodyStyle": match cfg.error_body_style {
                    ErrorBodyStyle::Description => "description",
                    ErrorBodyStyle::ErrorCode => "errorcode",
                },
                "rateLimit": cfg.rate_limit.map(|l| json!({"maxRequests": l.max_requests, "periodSeconds": l.period.as_secs_f64()})),
                "quirks": cfg.quirks,
                "quirksSeed": cfg.quirks_seed,
                "quirksOmitOptional": cfg.quirks_omit_optional,
                "qosPendingLimit": cfg.qos_pending_limit,
            },
        })
    }
}
