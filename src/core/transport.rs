//! Connections for the HTTP client (http.rs): a TCP socket, TLS over it for https, and blocking
//! I/O bounded by the attempt's deadline. Per request it costs 3 system calls (measured in
//! BENCHMARKS.md; a general-purpose client made 14):
//! - the whole request (head and body) leaves in one write (one TLS record over HTTPS);
//! - socket timeouts are set only when they change by more than `TIMEOUT_STEP`, not before every
//!   read and write as the budget shrinks; a read may so outlast the budget by at most that step;
//! - a pooled connection is probed once, when it is taken for a request, with one
//!   `recv(MSG_PEEK | MSG_DONTWAIT)`.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection};

/// Socket timeouts are rounded up to this step so that a shrinking per-call budget does not cost
/// a `setsockopt` per read and write. (Linux rounds them to a clock tick, 1-10 ms, anyway.)
const TIMEOUT_STEP: Duration = Duration::from_millis(10);
/// Windows: a read blocks at most this long before it looks whether the socket was shut down.
/// Winsock's shutdown() does not wake a recv blocked on another thread (Linux's does), so
/// without this, freeing the client would leave a blocking call waiting for the server.
#[cfg(windows)]
const SHUTDOWN_POLL: Duration = Duration::from_millis(20);

/// A connection's socket, shared with the agent so that closing the client can interrupt I/O
/// blocked on it from another thread.
#[derive(Debug)]
pub struct Socket {
    stream: TcpStream,
    shut: AtomicBool,
}

impl Socket {
    /// Interrupts every read and write on this socket, now and later.
    pub fn shutdown(&self) {
        self.shut.store(true, Ordering::Release);
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}

/// `TimedOut`, the kind every expired budget reads as (http.rs maps it to a timeout).
fn timed_out() -> io::Error {
    io::Error::from(io::ErrorKind::TimedOut)
}

/// What is left of the budget, or `TimedOut`.
fn left(deadline: Instant) -> io::Result<Duration> {
    let d = deadline.saturating_duration_since(Instant::now());
    if d.is_zero() {
        return Err(timed_out());
    }
    Ok(d)
}

/// The socket timeout for `d`, rounded up to TIMEOUT_STEP.
fn rounded(d: Duration) -> Duration {
    let step = TIMEOUT_STEP.as_nanos();
    let nanos = d.as_nanos().div_ceil(step).saturating_mul(step);
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// The socket with the timeouts it has now and the deadline of the current attempt: plain
/// blocking `Read`/`Write` for rustls and for plain HTTP.
struct SocketIo {
    sock: Arc<Socket>,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    deadline: Instant,
}

impl SocketIo {
    fn set_write_timeout(&mut self) -> io::Result<()> {
        let want = Some(rounded(left(self.deadline)?));
        if want != self.write_timeout {
            self.sock.stream.set_write_timeout(want)?;
            self.write_timeout = want;
        }
        Ok(())
    }

    fn set_read_timeout(&mut self) -> io::Result<()> {
        let want = rounded(left(self.deadline)?);
        #[cfg(windows)]
        let want = want.min(SHUTDOWN_POLL);
        if Some(want) != self.read_timeout {
            self.sock.stream.set_read_timeout(Some(want))?;
            self.read_timeout = Some(want);
        }
        Ok(())
    }
}

/// A socket timeout reads as `WouldBlock` on POSIX and `TimedOut` on Windows: both are `TimedOut` here.
fn io_error(e: io::Error) -> io::Error {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => timed_out(),
        _ => e,
    }
}

impl Read for SocketIo {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            self.set_read_timeout()?;
            match (&self.sock.stream).read(buf) {
                Ok(n) => return Ok(n),
                Err(e) => {
                    let shut = self.sock.shut.load(Ordering::Acquire);
                    if let Some(e) = after_read_error(e, cfg!(windows), shut) {
                        return Err(e);
                    }
                }
            }
        }
    }
}

/// What the read loop does after a failed read: `None` reads again (while the budget lasts: the
/// loop checks it first), `Some` ends the read with that error. Interrupted by a signal: again.
/// Where the read timeout is only a short poll (`short_poll`: Windows, where it is at most
/// SHUTDOWN_POLL so that a shutdown is seen), a timeout reads again unless the socket was shut
/// down. Compiled and tested everywhere, so that the Windows rule is checked on Linux too.
fn after_read_error(e: io::Error, short_poll: bool, shut: bool) -> Option<io::Error> {
    match e.kind() {
        io::ErrorKind::Interrupted => None,
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock if short_poll => {
            shut.then(|| io::Error::from(io::ErrorKind::ConnectionAborted))
        }
        _ => Some(io_error(e)),
    }
}

impl Write for SocketIo {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            self.set_write_timeout()?;
            match (&self.sock.stream).write(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return r.map_err(io_error),
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One open connection: TCP, or TLS over TCP.
pub struct Conn {
    io: SocketIo,
    tls: Option<Box<ClientConnection>>,
}

impl Conn {
    /// Connects to one of `addrs` (each in turn: the first gets half of the budget, the next a
    /// quarter, and so on, at least 10 ms each, so one black-holed address does not use it all),
    /// then makes the TLS handshake when `tls` is given. `connect_budget` bounds the TCP connect,
    /// `deadline` everything. `register` sees the socket before the handshake (so that closing
    /// the client can interrupt it) and may refuse it.
    pub fn open(
        addrs: &[SocketAddr],
        connect_budget: Duration,
        deadline: Instant,
        tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
        register: impl FnOnce(&Arc<Socket>) -> io::Result<()>,
    ) -> io::Result<Conn> {
        let stream = connect_any(addrs, connect_budget, deadline)?;
        stream.set_nodelay(true)?;
        let sock = Arc::new(Socket { stream, shut: AtomicBool::new(false) });
        register(&sock)?;
        let mut conn = Conn { io: SocketIo { sock, read_timeout: None, write_timeout: None, deadline }, tls: None };
        if let Some((config, name)) = tls {
            // A TLS failure (unknown issuer, bad name, alert) reads as InvalidData: final (http.rs).
            let mut c =
                ClientConnection::new(config, name).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            while c.is_handshaking() {
                c.complete_io(&mut conn.io)?;
            }
            conn.tls = Some(Box::new(c));
        }
        Ok(conn)
    }

    /// Bounds every following read and write by `deadline`.
    pub fn set_deadline(&mut self, deadline: Instant) {
        self.io.deadline = deadline;
    }

    /// Sends `data` whole: one write over TCP; over TLS one record per 16 KiB.
    pub fn write_all(&mut self, data: &[u8]) -> io::Result<()> {
        match &mut self.tls {
            None => self.io.write_all(data),
            Some(tls) => {
                // rustls takes at most its buffer limit (64 KiB) of plaintext at a time: a larger
                // request is encrypted and sent in turns.
                let mut rest = data;
                loop {
                    let n = tls.writer().write(rest)?;
                    rest = &rest[n..];
                    while tls.wants_write() {
                        tls.write_tls(&mut self.io)?;
                    }
                    if rest.is_empty() {
                        return Ok(());
                    }
                    if n == 0 {
                        return Err(io::ErrorKind::WriteZero.into());
                    }
                }
            }
        }
    }

    /// Reads what is available (at least one byte, blocking within the deadline); 0 at the end
    /// of the stream.
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(tls) = &mut self.tls else { return self.io.read(buf) };
        loop {
            match tls.reader().read(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                r => return r,
            }
            // No plaintext yet: more records from the socket (answering what the server asks
            // first, such as a key update).
            while tls.wants_write() {
                tls.write_tls(&mut self.io)?;
            }
            let closed = tls.read_tls(&mut self.io)? == 0;
            tls.process_new_packets().map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            if closed {
                // The peer closed: rustls now says how, with what plaintext is left, then 0 after
                // its close_notify or UnexpectedEof without one (never WouldBlock once it has
                // seen the end).
                return tls.reader().read(buf);
            }
        }
    }

    /// True when a pooled connection looks usable: nothing to read and not closed by the peer.
    pub fn looks_open(&self) -> bool {
        probe(&self.io.sock.stream)
    }
}

/// The connect budget's share of each of `n` addresses, in order: each half the one before, all
/// of them the whole budget (an address that does not answer leaves the next ones time).
fn connect_shares(budget: Duration, n: usize) -> impl Iterator<Item = Duration> {
    let total_weight = 2.0 * (1.0 - 0.5_f64.powi(n as i32));
    (0..n).map(move |i| budget.mul_f64(0.5_f64.powi(i as i32) / total_weight))
}

fn connect_any(addrs: &[SocketAddr], budget: Duration, deadline: Instant) -> io::Result<TcpStream> {
    let started = Instant::now();
    let mut last_err: Option<io::Error> = None;
    for (addr, share) in addrs.iter().zip(connect_shares(budget, addrs.len())) {
        let remaining = budget.saturating_sub(started.elapsed()).min(left(deadline)?);
        if remaining.is_zero() {
            return Err(timed_out());
        }
        let share = share.max(Duration::from_millis(10)).min(remaining);
        match TcpStream::connect_timeout(addr, share) {
            Ok(s) => return Ok(s),
            Err(e) => last_err = Some(io_error(e)),
        }
    }
    Err(last_err.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address to connect to")))
}

/// True when a pooled connection looks usable: nothing to read and not closed by the peer.
#[cfg(unix)]
fn probe(stream: &TcpStream) -> bool {
    use std::os::fd::AsRawFd;
    let mut b = [0u8; 1];
    // SAFETY: a valid socket and a 1-byte buffer we own.
    let n = unsafe { libc::recv(stream.as_raw_fd(), b.as_mut_ptr().cast(), 1, libc::MSG_PEEK | libc::MSG_DONTWAIT) };
    n < 0 && matches!(io::Error::last_os_error().kind(), io::ErrorKind::WouldBlock)
}

#[cfg(not(unix))]
use self::portable_probe as probe;

/// True when a pooled connection looks usable (portable version: the probe off Unix, compiled
/// and unit-tested everywhere so that Linux runs of the tests and of cargo-mutants check it too).
#[cfg_attr(unix, allow(dead_code))]
fn portable_probe(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return false;
    }
    let mut b = [0u8; 1];
    let open = matches!(stream.peek(&mut b), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
    stream.set_nonblocking(false).is_ok() && open
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_a_failed_read_only_a_signal_or_a_short_poll_timeout_reads_again() {
        use io::ErrorKind::*;
        let after = |k: io::ErrorKind, short_poll, shut| {
            after_read_error(io::Error::from(k), short_poll, shut).map(|e| e.kind())
        };
        for short_poll in [false, true] {
            for shut in [false, true] {
                assert_eq!(after(Interrupted, short_poll, shut), None, "a signal: read again");
                assert_eq!(after(ConnectionReset, short_poll, shut), Some(ConnectionReset), "a reset ends the read");
                assert_eq!(after(UnexpectedEof, short_poll, shut), Some(UnexpectedEof));
            }
            // Where the read timeout is the budget (Unix), a timeout is the end of it.
            assert_eq!(after(WouldBlock, false, short_poll), Some(TimedOut));
            assert_eq!(after(TimedOut, false, short_poll), Some(TimedOut));
        }
        // Where it is a short poll (Windows), a timeout reads again unless the socket was shut.
        for k in [TimedOut, WouldBlock] {
            assert_eq!(after(k, true, false), None);
            assert_eq!(after(k, true, true), Some(ConnectionAborted));
        }
    }

    #[test]
    fn each_address_gets_half_the_connect_share_of_the_one_before_and_all_get_the_whole_budget() {
        let ms = |n| connect_shares(Duration::from_millis(700), n).map(|d| d.as_secs_f64() * 1e3).collect::<Vec<_>>();
        let near = |got: &[f64], want: &[f64]| {
            got.len() == want.len() && got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-6)
        };
        assert!(near(&ms(1), &[700.0]), "{:?}", ms(1));
        assert!(near(&ms(3), &[400.0, 200.0, 100.0]), "{:?}", ms(3));
        assert!(ms(0).is_empty());
    }

    #[test]
    fn socket_timeouts_are_rounded_up_to_the_step() {
        let r = |ms: f64| rounded(Duration::from_secs_f64(ms / 1e3));
        // A budget that shrinks by microseconds from call to call keeps the same socket timeout.
        assert_eq!(r(29_999.96), Duration::from_secs(30));
        assert_eq!(r(29_999.95), Duration::from_secs(30));
        assert_eq!(r(30_000.0), Duration::from_secs(30));
        assert_eq!(r(0.2), TIMEOUT_STEP);
        assert_eq!(r(10.01), Duration::from_millis(20));
    }

    use std::net::TcpListener;

    /// A plain connection to a listener on loopback, and the server's side of it.
    fn pair(deadline: Duration) -> (Conn, Arc<Socket>, TcpStream) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut sock = None;
        let conn =
            Conn::open(&[l.local_addr().unwrap()], Duration::from_secs(2), Instant::now() + deadline, None, |s| {
                sock = Some(Arc::clone(s));
                Ok(())
            })
            .unwrap();
        let (server, _) = l.accept().unwrap();
        (conn, sock.unwrap(), server)
    }

    fn eventually(what: &str, cond: impl Fn() -> bool) {
        let until = Instant::now() + Duration::from_secs(5);
        while !cond() {
            assert!(Instant::now() < until, "{what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    // These run on every platform: the read loop has a Windows arm and the probe a portable
    // version used off Unix (`scripts/mutants.sh --windows` runs them under wine: docs/TESTING.md).

    #[test]
    fn a_pooled_connection_looks_open_until_the_peer_sends_unasked_or_closes() {
        looks_open_until_the_peer_sends_unasked_or_closes(Conn::looks_open);
    }

    #[test]
    fn the_portable_probe_also_sees_a_connection_open_until_the_peer_sends_unasked_or_closes() {
        looks_open_until_the_peer_sends_unasked_or_closes(|c| portable_probe(&c.io.sock.stream));
    }

    fn looks_open_until_the_peer_sends_unasked_or_closes(looks_open: fn(&Conn) -> bool) {
        let (mut conn, _, mut server) = pair(Duration::from_secs(5));
        assert!(looks_open(&conn));
        assert!(looks_open(&conn), "probing twice changes nothing");
        // The probe leaves the socket blocking: a read waits for its deadline, then times out.
        conn.set_deadline(Instant::now() + Duration::from_millis(150));
        let t = Instant::now();
        let e = conn.read(&mut [0u8; 8]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert!(t.elapsed() >= Duration::from_millis(100), "the read returned after {:?}", t.elapsed());
        server.write_all(b"x").unwrap();
        eventually("bytes nobody asked for: the connection must not be reused", || !looks_open(&conn));

        let (conn, _, server) = pair(Duration::from_secs(5));
        assert!(looks_open(&conn));
        drop(server);
        eventually("closed by the peer: the connection must not be reused", || !looks_open(&conn));
    }

    #[test]
    fn a_connection_reset_during_a_read_is_an_error_at_once_not_a_timeout() {
        let (mut conn, _, server) = pair(Duration::from_secs(4));
        // SO_LINGER with zero seconds: the close sends a reset (RST), not a FIN.
        socket2::SockRef::from(&server).set_linger(Some(Duration::ZERO)).unwrap();
        drop(server);
        let t = Instant::now();
        let r = conn.read(&mut [0u8; 8]).map_err(|e| e.kind());
        assert!(t.elapsed() < Duration::from_secs(2), "the read took {:?}", t.elapsed());
        // Not a timeout, and not the end of the stream that a second read would see. Wine's
        // Winsock does not always send the reset (neither SO_LINGER nor unread bytes make it do
        // so in every run): there the read says aborted or the end of the stream, and only "at
        // once" is checked.
        #[cfg(unix)]
        assert!(matches!(r, Err(io::ErrorKind::ConnectionReset)), "{r:?}");
        #[cfg(not(unix))]
        assert!(matches!(r, Err(io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted) | Ok(0)), "{r:?}");
    }

    #[test]
    fn a_read_blocked_on_another_thread_ends_soon_after_the_socket_is_shut_down() {
        let (mut conn, sock, _server) = pair(Duration::from_secs(4));
        let reader = std::thread::spawn(move || {
            let t = Instant::now();
            let r = conn.read(&mut [0u8; 8]).map_err(|e| e.kind());
            (r, t.elapsed())
        });
        std::thread::sleep(Duration::from_millis(100));
        sock.shutdown();
        let (r, took) = reader.join().unwrap();
        assert!(took < Duration::from_secs(2), "the read ended after {took:?}, not at the shutdown");
        assert!(matches!(r, Ok(0) | Err(io::ErrorKind::ConnectionAborted)), "{r:?}");
    }

    #[test]
    fn an_expired_deadline_is_a_timeout_before_any_io() {
        let past = Instant::now() - Duration::from_millis(1);
        assert_eq!(left(past).unwrap_err().kind(), io::ErrorKind::TimedOut);
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let e = connect_any(&[addr], Duration::from_secs(1), past).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
    }
}
