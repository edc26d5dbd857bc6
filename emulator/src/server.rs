//! The listening socket, one thread per connection, and orderly shutdown.

use std::collections::HashMap;
use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::http::{self, Conn, ReadOutcome, Transport};
use crate::service::{Action, Service};
use crate::{
    base_url_for, Config, FaultRule, RecordedRequest, RegionConfig, TicketStatus, TlsConfig, VariantCatalogue,
};

/// An idle keep-alive connection is closed after this long.
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// Connections served at once; more are closed at accept.
const MAX_CONNECTIONS: usize = 1024;

/// Open connections, so that shutdown can close them and join their threads.
#[derive(Default)]
struct Connections {
    next_id: u64,
    sockets: HashMap<u64, TcpStream>,
    threads: Vec<JoinHandle<()>>,
}

struct Inner {
    service: Service,
    tls: Option<Arc<rustls::ServerConfig>>,
    conns: Mutex<Connections>,
}

impl Inner {
    fn conns(&self) -> std::sync::MutexGuard<'_, Connections> {
        self.conns.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running emulator. Serves until [`Emulator::shutdown`] or drop.
///
/// Each connection is served on its own thread (clients keep idle keep-alive connections in
/// their pools, and a fixed set of workers would starve behind them).
pub struct Emulator {
    inner: Arc<Inner>,
    addr: SocketAddr,
    base_url: String,
    accept_thread: Option<JoinHandle<()>>,
}

impl Emulator {
    /// Binds `cfg.bind` and starts serving on background threads.
    ///
    /// Fails when the address (or a QoS beacon's UDP socket on `host_name`) cannot be bound, the
    /// TLS material cannot be loaded, a fault rule is invalid (status outside 100..=599,
    /// probability outside 0..=1, control characters in `retry_after`, an unknown `call`), a
    /// region is invalid (empty or repeated name, delay or jitter outside 0..=60000 ms, loss
    /// outside 0..=1), or the rate limit is zero.
    pub fn start(cfg: Config) -> io::Result<Emulator> {
        if cfg.udp_echo {
            // Fail now rather than at the first allocation.
            use std::net::ToSocketAddrs;
            (cfg.host_name.as_str(), 0u16).to_socket_addrs()?;
        }
        let tls = cfg.tls.as_ref().map(server_tls_config).transpose()?;
        let listener = TcpListener::bind(cfg.bind.as_str())?;
        let addr = listener.local_addr()?;
        let base_url = base_url_for(addr, tls.is_some());
        let service = Service::new(&cfg)?;
        if let Err(e) = service.create_pools(&cfg.allowed_titles) {
            service.stop_udp();
            return Err(e);
        }
        let inner = Arc::new(Inner { service, tls, conns: Mutex::new(Connections::default()) });
        let accept_inner = inner.clone();
        let accept_thread = std::thread::Builder::new()
            .name(format!("gsms-emu-accept-{}", addr.port()))
            .spawn(move || accept_loop(listener, accept_inner))?;
        Ok(Emulator { inner, addr, base_url, accept_thread: Some(accept_thread) })
    }

    /// `http://127.0.0.1:PORT`, or `https://localhost:PORT` with TLS.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The address the emulator listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Appends a fault rule.
    ///
    /// # Panics
    /// If the rule is invalid (status outside 100..=599, probability outside 0..=1,
    /// control characters in `retry_after`, a `call` not in [`crate::CALLS`]).
    pub fn add_fault(&self, rule: FaultRule) {
        if let Err(e) = rule.check() {
            panic!("gsms-emulator: invalid fault rule: {e}");
        }
        self.inner.service.add_fault(rule);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.inner.service.clear_faults();
    }

    /// Back to the configured state: ends every allocation (clusters, inline clusters, session
    /// hosts), empties every queue, forgets tickets and sessions, removes every fault rule (the
    /// configured ones too), restores the configured variants catalogue, region conditions and
    /// titles without subscriptions, clears the rate-limit windows, and zeroes the request count
    /// and the request log. Pools (and their UDP ports) and beacons stay.
    pub fn reset(&self) {
        self.inner.service.reset();
    }

    /// Ends every fulfilled allocation of the title's server pool (clusters and inline
    /// clusters) now; queued ones move up into the freed servers (a queued cluster session's
    /// next POST answers Fulfilled, a queued ticket turns Active). Tickets that held a server
    /// turn Aborted.
    pub fn release_all(&self, title_id: u32) {
        self.inner.service.release_all(title_id);
    }

    /// Sets an inline-clusters ticket (by ticketId, in every title that has it) to `Aborted` or
    /// `Error` with a description: it leaves the queue or frees its server. Err when no ticket
    /// has that id or the status is Active or Queued.
    pub fn set_ticket_status(&self, ticket_id: &str, status: TicketStatus, description: &str) -> Result<(), String> {
        self.inner.service.set_ticket_status(ticket_id, status, description)
    }

    /// Replaces the variants catalogue (every title's).
    pub fn set_variants(&self, catalogue: VariantCatalogue) {
        self.inner.service.set_variants(catalogue);
    }

    /// The variants catalogue in force.
    pub fn variants(&self) -> VariantCatalogue {
        self.inner.service.variants()
    }

    /// Sets the delay, jitter and loss of the region's beacon (found by name, any case) from
    /// now on. Err when there is no such region or a value is out of range.
    pub fn set_region(&self, region: RegionConfig) -> Result<(), String> {
        self.inner.service.set_region(&region)
    }

    /// The QoS regions with their conditions in force and their beacons' UDP addresses.
    pub fn qos_beacons(&self) -> Vec<(RegionConfig, SocketAddr)> {
        self.inner.service.regions()
    }

    /// Whether the title has subscriptions: without, `sessionhosts` answers 404.
    pub fn set_title_subscribed(&self, title_id: u32, subscribed: bool) {
        self.inner.service.set_title_subscribed(title_id, subscribed);
    }

    /// Frees every session host of the title now (back to StandingBy); their sessions' allocation
    /// status turns Aborted. Returns how many hosts were claimed.
    pub fn release_session_hosts(&self, title_id: u32) -> usize {
        self.inner.service.release_session_hosts(title_id)
    }

    /// Aborts a session-host allocation (by sessionId, in every title that has it), freeing its
    /// host; its allocation status turns Aborted with the description. Err when unknown.
    pub fn abort_session(&self, session_id: &str, description: &str) -> Result<(), String> {
        self.inner.service.abort_session(session_id, description)
    }

    /// TCP connections accepted since start (admin ones included): tests use it to see whether a
    /// client reused its pooled connection.
    pub fn connections_accepted(&self) -> u64 {
        self.inner.conns().next_id
    }

    /// Requests received outside `/_emulator/` (faulted and dropped ones included).
    pub fn request_count(&self) -> u64 {
        self.inner.service.request_count()
    }

    /// The last 1000 requests received outside `/_emulator/`, oldest first (`HEAD /` and other
    /// requests that are no call included: their `call` is None).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.inner.service.requests()
    }

    /// Stops serving: closes the listener and every open connection, joins the threads and
    /// closes the UDP echo sockets and QoS beacons. Dropping the emulator does the same.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let Some(accept_thread) = self.accept_thread.take() else {
            return;
        };
        self.inner.service.stopping.store(true, Ordering::SeqCst);
        // Wake the accept thread with a connection of our own.
        let wake = match self.addr {
            SocketAddr::V4(a) if a.ip().is_unspecified() => SocketAddr::from((Ipv4Addr::LOCALHOST, a.port())),
            SocketAddr::V6(a) if a.ip().is_unspecified() => SocketAddr::from((Ipv6Addr::LOCALHOST, a.port())),
            a => a,
        };
        let _ = TcpStream::connect_timeout(&wake, Duration::from_secs(1));
        let _ = accept_thread.join();
        // Every connection is registered by now; closing the sockets unblocks their threads.
        let threads = {
            let mut conns = self.inner.conns();
            for socket in conns.sockets.values() {
                let _ = socket.shutdown(Shutdown::Both);
            }
            std::mem::take(&mut conns.threads)
        };
        for t in threads {
            let _ = t.join();
        }
        self.inner.service.stop_udp();
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop();
    }
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator").field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

fn server_tls_config(tls: &TlsConfig) -> io::Result<Arc<rustls::ServerConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidInput, what);
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&tls.cert_pem)
        .collect::<Result<_, _>>()
        .map_err(|e| invalid(format!("TLS certificate PEM: {e}")))?;
    if certs.is_empty() {
        return Err(invalid("TLS certificate PEM holds no certificate".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(&tls.key_pem).map_err(|e| invalid(format!("TLS private key PEM: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(format!("TLS: {e}")))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| invalid(format!("TLS certificate or key: {e}")))?;
    Ok(Arc::new(config))
}

fn accept_loop(listener: TcpListener, inner: Arc<Inner>) {
    loop {
        let accepted = listener.accept();
        if inner.service.stopping() {
            return;
        }
        let (stream, peer) = match accepted {
            Ok(s) => s,
            Err(_) => {
                // Out of descriptors and the like: back off a little.
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let mut conns = inner.conns();
        conns.threads.retain(|t| !t.is_finished());
        if conns.sockets.len() >= MAX_CONNECTIONS {
            continue; // dropping the stream closes it
        }
        let Ok(registered) = stream.try_clone() else {
            continue;
        };
        let id = conns.next_id;
        conns.next_id += 1;
        conns.sockets.insert(id, registered);
        let conn_inner = inner.clone();
        let spawned = std::thread::Builder::new().name(format!("gsms-emu-conn-{id}")).spawn(move || {
            serve(&conn_inner, stream, peer);
            conn_inner.conns().sockets.remove(&id);
        });
        match spawned {
            Ok(handle) => conns.threads.push(handle),
            Err(_) => {
                conns.sockets.remove(&id);
            }
        }
    }
}

fn serve(inner: &Inner, stream: TcpStream, _peer: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IDLE_TIMEOUT));
    let Ok(raw) = stream.try_clone() else {
        return;
    };
    match &inner.tls {
        None => serve_http(inner, Conn::new(stream), &raw),
        Some(cfg) => {
            let Ok(session) = rustls::ServerConnection::new(cfg.clone()) else {
                return;
            };
            serve_http(inner, Conn::new(rustls::StreamOwned::new(session, stream)), &raw)
        }
    }
    // Close now, whatever clones of the socket still exist.
    let _ = raw.shutdown(Shutdown::Both);
}

fn serve_http<S: Transport>(inner: &Inner, mut conn: Conn<S>, raw: &TcpStream) {
    let svc = &inner.service;
    loop {
        if svc.stopping() {
            return;
        }
        let req = match conn.read_request() {
            ReadOutcome::Closed => return,
            ReadOutcome::Bad(status, message) => {
                let resp = svc.err(status, message);
                let _ = conn.write_response(&resp, false, 1, false);
                conn.stream.close_gracefully();
                http::linger(raw);
                return;
            }
            ReadOutcome::Request(req) => req,
        };
        let started = Instant::now();
        let handled = svc.handle(&req);
        let log = |status: &str| {
            if svc.settings.log {
                eprintln!(
                    "{} {} {} {}ms {} {}",
                    req.method,
                    req.target,
                    status,
                    started.elapsed().as_millis(),
                    handled.correlation_id,
                    handled.call.unwrap_or("-")
                );
            }
        };
        match &handled.action {
            Action::Drop => {
                log("dropped");
                return;
            }
            Action::Respond(resp) => {
                let keep_alive = req.wants_keep_alive() && !req.body_too_large && !svc.stopping();
                let written = conn.write_response(resp, keep_alive, req.minor_version, req.method == "HEAD");
                log(&resp.status.to_string());
                if written.is_err() {
                    return;
                }
                if !keep_alive {
                    conn.stream.close_gracefully();
                    if req.body_too_large {
                        http::linger(raw);
                    }
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn emulator_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Emulator>();
    }

    /// An HTTPS round trip, keep-alive included, trusting only the generated CA.
    #[test]
    fn tls_with_generated_ca() {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, ServerName};

        let (tls, ca_pem) = crate::generate_test_tls();
        let emu = Emulator::start(Config { tls: Some(tls), ..Config::default() }).unwrap();
        let url = emu.base_url();
        assert!(url.starts_with("https://localhost:"), "{url}");

        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&ca_pem) {
            roots.add(cert.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = ServerName::try_from("localhost").unwrap();
        let conn = rustls::ClientConnection::new(Arc::new(client), name).unwrap();
        let tcp = TcpStream::connect(emu.addr()).unwrap();
        tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut s = rustls::StreamOwned::new(conn, tcp);

        let body = r#"{"sessionId":"/serviceconfigs/a/sessionTemplates/t/sessions/tls"}"#;
        let req = format!(
            "POST /titles/1/clusters HTTP/1.1\r\nHost: localhost\r\nx-xbl-contract-version: 1\r\n\
             Authorization: XBL3.0 x=1;t\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let mut got = Vec::new();
        for round in 1..=2 {
            s.write_all(req.as_bytes()).unwrap();
            s.flush().unwrap();
            // Read until both answers' bodies are in.
            let mut buf = [0u8; 4096];
            while String::from_utf8_lossy(&got).matches("\"Fulfilled\"").count() < round {
                let n = s.read(&mut buf).unwrap();
                assert!(n > 0, "connection closed early");
                got.extend_from_slice(&buf[..n]);
            }
        }
        let text = String::from_utf8_lossy(&got);
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 2);
        assert_eq!(emu.request_count(), 2);
        emu.shutdown();
    }
}
