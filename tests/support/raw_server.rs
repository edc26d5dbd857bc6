//! A raw-socket HTTP fault server for the hostile-server and security tests: it reads each request
//! and hands the connection to a behaviour that may answer anything, or nothing.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// What a behaviour does with the connection after answering.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum After {
    /// Read the next request on the same connection.
    KeepAlive,
    /// Close (FIN).
    Close,
}

/// A behaviour: the connection, the request's index and the request's head (request line and
/// headers, so that a behaviour can echo what the client sent).
pub type Behaviour = dyn Fn(&mut TcpStream, usize, &str) -> After + Send + Sync;

/// A TCP listener that reads each HTTP request (head and Content-Length body) and hands the
/// connection to a behaviour, with the request's index (0-based, over all connections).
pub struct RawServer {
    addr: SocketAddr,
    requests: Arc<AtomicUsize>,
    connections: Arc<AtomicUsize>,
    heads: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl RawServer {
    pub fn start(behaviour: impl Fn(&mut TcpStream, usize) -> After + Send + Sync + 'static) -> RawServer {
        RawServer::start_with_head(move |s, n, _| behaviour(s, n))
    }

    /// As [`RawServer::start`], the behaviour also seeing the request's head.
    pub fn start_with_head(
        behaviour: impl Fn(&mut TcpStream, usize, &str) -> After + Send + Sync + 'static,
    ) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let connections = Arc::new(AtomicUsize::new(0));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let behaviour: Arc<Behaviour> = Arc::new(behaviour);
        let (r, c, h, s) = (requests.clone(), connections.clone(), heads.clone(), stop.clone());
        let accept = thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(mut stream) = conn else { continue };
                c.fetch_add(1, Ordering::SeqCst);
                let (r, h, b, s) = (r.clone(), h.clone(), behaviour.clone(), s.clone());
                thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
                    while !s.load(Ordering::SeqCst) {
                        let Some(head) = read_request(&mut stream) else { return };
                        h.lock().unwrap().push(head.clone());
                        let n = r.fetch_add(1, Ordering::SeqCst);
                        if b(&mut stream, n, &head) == After::Close {
                            let _ = stream.shutdown(Shutdown::Both);
                            return;
                        }
                    }
                });
            }
        });
        RawServer { addr, requests, connections, heads, stop, accept: Some(accept) }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// The heads of the requests read so far (request line and headers).
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

/// Reads one request: the head up to CRLFCRLF, then Content-Length bytes of body. `None` at EOF.
pub fn read_request(s: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
        if head.len() > 64 * 1024 {
            return None;
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case("content-length").then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).ok()?;
    Some(head)
}

/// Writes a whole answer. Unless `headers` says otherwise, it announces `Connection: close` (the
/// behaviours close after answering), so the client never resends on a connection we closed.
pub fn respond(s: &mut TcpStream, status: &str, headers: &[(&str, &str)], body: &[u8]) -> std::io::Result<()> {
    let mut out = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("connection")) {
        out.push_str("Connection: close\r\n");
    }
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    s.write_all(out.as_bytes())?;
    s.write_all(body)?;
    s.flush()
}

/// Closes with RST instead of FIN: SO_LINGER with a zero timeout, then close (socket2: the same
/// on POSIX and Winsock).
pub fn reset(s: TcpStream) {
    socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO)).expect("setsockopt(SO_LINGER)");
    drop(s);
}

/// Writes `bytes` one at a time, `every` apart, stopping quietly when the client goes away.
pub fn drip(s: &mut TcpStream, bytes: &[u8], every: Duration) {
    for b in bytes {
        if s.write_all(&[*b]).is_err() {
            return;
        }
        thread::sleep(every);
    }
}

/// Streams `total` bytes of `fill` after `head`, stopping quietly when the client goes away.
pub fn stream_body(s: &mut TcpStream, head: &str, total: usize, fill: u8) {
    if s.write_all(head.as_bytes()).is_err() {
        return;
    }
    let chunk = vec![fill; 64 * 1024];
    let mut sent = 0;
    while sent < total {
        let n = chunk.len().min(total - sent);
        if s.write_all(&chunk[..n]).is_err() {
            return;
        }
        sent += n;
    }
}
