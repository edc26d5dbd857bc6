//! Shared state: each title's server pool and FIFO queue (clusters and inline clusters), the
//! tickets of inline clusters, each title's session hosts and their sessions, the variants
//! catalogue, the request log and the rate-limit windows.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::io;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;

use super::faults::ActiveFault;
use super::random_u64;
use crate::udp::UdpEcho;
use crate::{Config, RecordedRequest, TicketStatus, VariantCatalogue};

/// Internal port of the GameData mapping, as in the recorded test vector.
pub(crate) const GAME_DATA_INTERNAL: u16 = 7777;
/// First external GameData port of cluster servers when no UDP echo socket is bound.
const GAME_DATA_BASE: u16 = 31000;
/// First external GameData port of session hosts when no UDP echo socket is bound.
const SESSION_HOST_BASE: u16 = 32000;
pub(crate) const RDP_PORT: u16 = 3389;
/// How many requests [`crate::Emulator::requests`] keeps.
pub(crate) const RECORD_LIMIT: usize = 1000;
/// Rate-limit windows kept at most (one per user and call); older ones are dropped beyond it.
const RATE_WINDOWS_LIMIT: usize = 10_000;

/// Who holds (or waits for) a server of a title's pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Holder {
    /// A clusters allocation, by canonical MPSD session path.
    Session(String),
    /// An inline-clusters allocation, by ticketId.
    Ticket(String),
}

impl Holder {
    pub fn describe(&self) -> (&'static str, &str) {
        match self {
            Holder::Session(s) => ("sessionId", s),
            Holder::Ticket(t) => ("ticketId", t),
        }
    }
}

pub(crate) struct Lease {
    pub holder: Holder,
    pub expires: Instant,
}

/// A simulated machine: a cluster server or a session host.
pub(crate) struct Machine {
    pub index: usize,
    pub game_port: u16,
    pub secure_context: String,
    pub cluster_id: String,
    pub game_host_id: String,
    pub echo: Option<UdpEcho>,
}

impl Machine {
    fn new(cfg: &Config, title_id: u32, index: usize, kind: u16) -> io::Result<Machine> {
        let base = if kind == 0 { GAME_DATA_BASE } else { SESSION_HOST_BASE };
        let (game_port, echo) = if cfg.udp_echo {
            let echo = UdpEcho::bind(&cfg.host_name)?;
            (echo.port, Some(echo))
        } else {
            ((base as usize + index).min(u16::MAX as usize) as u16, None)
        };
        // "Secure device address" stand-in: a tag, the title, the machine, its port, noise.
        let mut context = Vec::with_capacity(24);
        context.extend_from_slice(if kind == 0 { b"GSMSEMU1" } else { b"GSMSEMU2" });
        context.extend_from_slice(&title_id.to_be_bytes());
        context.extend_from_slice(&(index as u16).to_be_bytes());
        context.extend_from_slice(&game_port.to_be_bytes());
        context.extend_from_slice(&random_u64(index as u64).to_be_bytes());
        Ok(Machine {
            index,
            game_port,
            secure_context: base64::engine::general_purpose::STANDARD.encode(&context),
            cluster_id: guid(title_id, 0xc100 | kind, index as u64),
            game_host_id: guid(title_id, 0x9a00 | kind, index as u64),
            echo,
        })
    }
}

/// A GUID-shaped id that is stable for the same inputs.
pub(crate) fn guid(a: u32, b: u16, c: u64) -> String {
    format!("{a:08x}-{b:04x}-4000-8000-{:012x}", c & 0xffff_ffff_ffff)
}

pub(crate) struct SimServer {
    pub machine: Machine,
    pub lease: Option<Lease>,
}

/// A title's servers and its queue, shared by clusters and inline clusters.
#[derive(Default)]
pub(crate) struct Pool {
    pub servers: Vec<SimServer>,
    pub queue: VecDeque<Holder>,
}

impl Pool {
    pub fn held_by(&self, holder: &Holder) -> Option<usize> {
        self.servers.iter().position(|s| s.lease.as_ref().is_some_and(|l| &l.holder == holder))
    }

    /// Gives free servers to the head of the queue.
    fn promote(&mut self, now: Instant, lifetime: Duration) {
        for server in &mut self.servers {
            if self.queue.is_empty() {
                break;
            }
            if server.lease.is_none() {
                let holder = self.queue.pop_front().expect("queue not empty");
                server.lease = Some(Lease { holder, expires: now + lifetime });
            }
        }
    }
}

/// What an inline-clusters POST asked for, and how its ticket ended if it did.
pub(crate) struct Ticket {
    pub region: String,
    /// Aborted or Error with a description, once final; None while queued or active.
    pub ended: Option<(TicketStatus, String)>,
}

/// The outcome of an allocation in a pool.
pub(crate) enum Outcome {
    Fulfilled(usize),
    Queued,
    Aborted,
}

/// A session host's claim by a session.
pub(crate) struct Claim {
    pub session_id: String,
    pub ready_at: Instant,
    pub expires: Instant,
}

pub(crate) struct SessionHost {
    pub machine: Machine,
    pub session_host_id: String,
    pub claim: Option<Claim>,
}

impl SessionHost {
    pub fn state_name(&self, now: Instant) -> &'static str {
        match &self.claim {
            None => "StandingBy",
            Some(c) if c.ready_at > now => "Activating",
            Some(_) => "Active",
        }
    }
}

/// A session that asked for a session host.
pub(crate) struct SessionRecord {
    pub region: String,
    pub ticket_id: String,
    pub cloud_game_id: String,
    /// Why it was aborted, once it was.
    pub aborted: Option<String>,
}

/// One answered request, with what the state page shows of it.
pub(crate) struct Record {
    pub request: RecordedRequest,
    pub time: SystemTime,
    pub latency: Duration,
}

pub(crate) struct State {
    pub pools: BTreeMap<u32, Pool>,
    pub tickets: BTreeMap<(u32, String), Ticket>,
    pub host_pools: BTreeMap<u32, Vec<SessionHost>>,
    pub sessions: BTreeMap<(u32, String), SessionRecord>,
    pub faults: Vec<ActiveFault>,
    pub records: VecDeque<Record>,
    pub variants: VariantCatalogue,
    pub no_subscriptions: BTreeSet<u32>,
    /// (user hash, call) -> (window start, requests in it).
    pub rate: HashMap<(String, &'static str), (Instant, u32)>,
}

impl State {
    pub fn new(cfg: &Config) -> State {
        State {
            pools: BTreeMap::new(),
            tickets: BTreeMap::new(),
            host_pools: BTreeMap::new(),
            sessions: BTreeMap::new(),
            faults: cfg.faults.iter().map(ActiveFault::new).collect(),
            records: VecDeque::new(),
            variants: cfg.variants.clone(),
            no_subscriptions: cfg.titles_without_subscriptions.iter().copied().collect(),
            rate: HashMap::new(),
        }
    }

    /// Back to the configured state; pools and their sockets stay.
    pub fn reset(&mut self, cfg: &Config) {
        for pool in self.pools.values_mut() {
            pool.queue.clear();
            for server in &mut pool.servers {
                server.lease = None;
            }
        }
        for hosts in self.host_pools.values_mut() {
            for host in hosts {
                host.claim = None;
            }
        }
        self.tickets.clear();
        self.sessions.clear();
        self.faults.clear();
        self.records.clear();
        self.variants = cfg.variants.clone();
        self.no_subscriptions = cfg.titles_without_subscriptions.iter().copied().collect();
        self.rate.clear();
    }

    pub fn record(&mut self, record: Record) {
        if self.records.len() >= RECORD_LIMIT {
            self.records.pop_front();
        }
        self.records.push_back(record);
    }

    // ----- rate limit -----

    /// Counts a request; Some((requests in the window, seconds until it ends)) when over the limit.
    pub fn rate_count(&mut self, user: &str, call: &'static str, max: u32, period: Duration) -> Option<(u32, u64)> {
        let now = Instant::now();
        if self.rate.len() >= RATE_WINDOWS_LIMIT {
            self.rate.retain(|_, (start, _)| now.duration_since(*start) < period);
            if self.rate.len() >= RATE_WINDOWS_LIMIT {
                self.rate.clear();
            }
        }
        let entry = self.rate.entry((user.to_string(), call)).or_insert((now, 0));
        if now.duration_since(entry.0) >= period {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        if entry.1 <= max {
            return None;
        }
        let left = period.saturating_sub(now.duration_since(entry.0));
        Some((entry.1, left.as_secs() + u64::from(left.subsec_nanos() > 0)))
    }

    // ----- the server pool (clusters and inline clusters) -----

    /// The title's pool, created on first use.
    pub fn pool(&mut self, cfg: &Config, title_id: u32) -> io::Result<&mut Pool> {
        match self.pools.entry(title_id) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(e) => {
                let mut servers = Vec::with_capacity(cfg.servers_per_title);
                for index in 0..cfg.servers_per_title {
                    servers.push(SimServer { machine: Machine::new(cfg, title_id, index, 0)?, lease: None });
                }
                Ok(e.insert(Pool { servers, queue: VecDeque::new() }))
            }
        }
    }

    /// Ends the title's expired leases (their tickets end as Aborted) and moves the queue up.
    pub fn sweep(&mut self, title_id: u32, lifetime: Duration) {
        let now = Instant::now();
        let Some(pool) = self.pools.get_mut(&title_id) else {
            return;
        };
        let mut ended = Vec::new();
        for server in &mut pool.servers {
            if server.lease.as_ref().is_some_and(|l| l.expires <= now) {
                ended.extend(server.lease.take().map(|l| l.holder));
            }
        }
        pool.promote(now, lifetime);
        for holder in ended {
            self.end_ticket(title_id, &holder, TicketStatus::Aborted, "the server's lifetime ended");
        }
    }

    pub fn sweep_all(&mut self, lifetime: Duration) {
        let titles: Vec<u32> = self.pools.keys().copied().collect();
        for t in titles {
            self.sweep(t, lifetime);
        }
        let titles: Vec<u32> = self.host_pools.keys().copied().collect();
        for t in titles {
            self.sweep_hosts(t);
        }
    }

    fn end_ticket(&mut self, title_id: u32, holder: &Holder, status: TicketStatus, why: &str) {
        if let Holder::Ticket(id) = holder {
            if let Some(t) = self.tickets.get_mut(&(title_id, id.clone())) {
                if t.ended.is_none() {
                    t.ended = Some((status, why.to_string()));
                }
            }
        }
    }

    /// Allocates for `holder` in the title's pool: its current state when it holds a server or
    /// waits in the queue (never queued twice), else a free server, else Aborted (abort) or the
    /// back of the queue.
    pub fn allocate(&mut self, cfg: &Config, title_id: u32, holder: Holder, abort: bool) -> io::Result<Outcome> {
        let lifetime = cfg.server_lifetime;
        self.pool(cfg, title_id)?;
        self.sweep(title_id, lifetime);
        let pool = self.pools.get_mut(&title_id).expect("created above");
        if let Some(i) = pool.held_by(&holder) {
            return Ok(Outcome::Fulfilled(i));
        }
        if pool.queue.contains(&holder) {
            return Ok(Outcome::Queued);
        }
        if let Some(i) = pool.servers.iter().position(|s| s.lease.is_none()) {
            pool.servers[i].lease = Some(Lease { holder, expires: Instant::now() + lifetime });
            return Ok(Outcome::Fulfilled(i));
        }
        if abort {
            return Ok(Outcome::Aborted);
        }
        pool.queue.push_back(holder);
        Ok(Outcome::Queued)
    }

    /// Ends every lease of the title, then moves queued holders up. Returns how many ended.
    pub fn release_all(&mut self, title_id: u32, lifetime: Duration) -> usize {
        let Some(pool) = self.pools.get_mut(&title_id) else {
            return 0;
        };
        let ended: Vec<Holder> = pool.servers.iter_mut().filter_map(|s| s.lease.take()).map(|l| l.holder).collect();
        pool.promote(Instant::now(), lifetime);
        for holder in &ended {
            self.end_ticket(title_id, holder, TicketStatus::Aborted, "the server was released");
        }
        ended.len()
    }

    /// The live status of a ticket (Active, Queued at a position, or how it ended); None when unknown.
    pub fn ticket_status(&self, title_id: u32, ticket_id: &str) -> Option<(TicketStatus, Option<usize>, String)> {
        let ticket = self.tickets.get(&(title_id, ticket_id.to_string()))?;
        let holder = Holder::Ticket(ticket_id.to_string());
        if let Some(pool) = self.pools.get(&title_id) {
            if let Some(i) = pool.held_by(&holder) {
                return Some((TicketStatus::Active, Some(i), "a server is allocated".to_string()));
            }
            if let Some(pos) = pool.queue.iter().position(|h| h == &holder) {
                let why = format!("waiting for a free server ({} ahead in the queue)", pos);
                return Some((TicketStatus::Queued, None, why));
            }
        }
        let (status, why) = ticket
            .ended
            .clone()
            .unwrap_or_else(|| (TicketStatus::Aborted, "no free server and abortIfQueued was set".to_string()));
        Some((status, None, why))
    }

    /// Ends tickets with that id (every title): leaves the queue or frees the server, then
    /// records the status. Returns how many tickets it found.
    pub fn set_ticket_status(
        &mut self,
        ticket_id: &str,
        status: TicketStatus,
        description: &str,
        lifetime: Duration,
    ) -> usize {
        let titles: Vec<u32> = self.tickets.keys().filter(|(_, id)| id == ticket_id).map(|(title, _)| *title).collect();
        let holder = Holder::Ticket(ticket_id.to_string());
        for &title in &titles {
            if let Some(pool) = self.pools.get_mut(&title) {
                pool.queue.retain(|h| h != &holder);
                for server in &mut pool.servers {
                    if server.lease.as_ref().is_some_and(|l| l.holder == holder) {
                        server.lease = None;
                    }
                }
                pool.promote(Instant::now(), lifetime);
            }
            if let Some(t) = self.tickets.get_mut(&(title, ticket_id.to_string())) {
                t.ended = Some((status, description.to_string()));
            }
        }
        titles.len()
    }

    // ----- session hosts -----

    /// The title's session hosts, created on first use.
    pub fn hosts(&mut self, cfg: &Config, title_id: u32) -> io::Result<&mut Vec<SessionHost>> {
        match self.host_pools.entry(title_id) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(e) => {
                let mut hosts = Vec::with_capacity(cfg.session_hosts_per_title);
                for index in 0..cfg.session_hosts_per_title {
                    hosts.push(SessionHost {
                        machine: Machine::new(cfg, title_id, index, 1)?,
                        session_host_id: guid(title_id, 0x5e55, index as u64),
                        claim: None,
                    });
                }
                Ok(e.insert(hosts))
            }
        }
    }

    /// Releases session hosts whose lifetime ended; their sessions end as Aborted.
    pub fn sweep_hosts(&mut self, title_id: u32) {
        let now = Instant::now();
        let Some(hosts) = self.host_pools.get_mut(&title_id) else {
            return;
        };
        let mut ended = Vec::new();
        for host in hosts.iter_mut() {
            if host.claim.as_ref().is_some_and(|c| c.expires <= now) {
                ended.extend(host.claim.take().map(|c| c.session_id));
            }
        }
        for session_id in ended {
            self.abort_session_record(title_id, &session_id, "the session host's lifetime ended");
        }
    }

    fn abort_session_record(&mut self, title_id: u32, session_id: &str, why: &str) {
        if let Some(r) = self.sessions.get_mut(&(title_id, session_id.to_string())) {
            if r.aborted.is_none() {
                r.aborted = Some(why.to_string());
            }
        }
    }

    pub fn host_of(&self, title_id: u32, session_id: &str) -> Option<usize> {
        self.host_pools
            .get(&title_id)?
            .iter()
            .position(|h| h.claim.as_ref().is_some_and(|c| c.session_id == session_id))
    }

    /// Frees every session host of the title. Returns how many were claimed.
    pub fn release_hosts(&mut self, title_id: u32) -> usize {
        let Some(hosts) = self.host_pools.get_mut(&title_id) else {
            return 0;
        };
        let ended: Vec<String> = hosts.iter_mut().filter_map(|h| h.claim.take()).map(|c| c.session_id).collect();
        for session_id in &ended {
            self.abort_session_record(title_id, session_id, "the session host was released");
        }
        ended.len()
    }

    /// Aborts sessions with that id (every title), freeing their hosts. Returns how many it found.
    pub fn abort_session(&mut self, session_id: &str, description: &str) -> usize {
        let titles: Vec<u32> =
            self.sessions.keys().filter(|(_, id)| id == session_id).map(|(title, _)| *title).collect();
        for &title in &titles {
            if let Some(hosts) = self.host_pools.get_mut(&title) {
                for host in hosts.iter_mut() {
                    if host.claim.as_ref().is_some_and(|c| c.session_id == session_id) {
                        host.claim = None;
                    }
                }
            }
            if let Some(r) = self.sessions.get_mut(&(title, session_id.to_string())) {
                r.aborted = Some(description.to_string());
            }
        }
        titles.len()
    }
}
