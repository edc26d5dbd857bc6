//! The TCP transport under ureq (in place of ureq's own `TcpConnector`), cut to fewer system calls
//! per request. Measured in BENCHMARKS.md; ureq's transport made 14 per pooled request, this one 3:
//! - the request head and body leave in one write: output is held until the transport is asked to
//!   read (the request is then complete) and sent with one `send` (ureq writes them separately);
//! - socket timeouts are set only when they change by more than `TIMEOUT_STEP` (ureq sets
//!   `SO_SNDTIMEO`/`SO_RCVTIMEO` before every write and read, as the per-call budget shrinks);
//!   a read may so outlast the call's budget by at most `TIMEOUT_STEP`;
//! - the liveness probe of a pooled connection is one `recv(MSG_PEEK | MSG_DONTWAIT)` (ureq
//!   switches the socket to non-blocking and back around a read: three calls), and it is made
//!   once per request instead of twice: ureq's pool asks `is_open` when a connection goes back
//!   into the pool and again when it is taken out. Only the second answer decides anything (a
//!   connection that fails the probe is dropped, and the later probe sees everything the earlier
//!   one would have, and more), so the first is answered without a system call.
//!
//! TLS (ureq's `RustlsConnector`) is chained on top, unchanged. No proxy support: the agent has none.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, LazyBuffers, NextTimeout, ShutdownHandle, Transport,
};
use ureq::{Error, Timeout};

/// Socket timeouts are rounded up to this step so that a shrinking per-call budget does not cost
/// a `setsockopt` per read and write. (Linux rounds them to a clock tick, 1-10 ms, anyway.)
const TIMEOUT_STEP: Duration = Duration::from_millis(10);
/// Held output beyond this is sent at once (request bodies here are a few hundred bytes).
const MAX_HELD_OUTPUT: usize = 16 * 1024;
/// Windows: a read blocks at most this long before it looks whether the socket was shut down.
/// Winsock's shutdown() does not wake a recv blocked on another thread (Linux's does), so
/// without this, freeing the client would leave a blocking call waiting for the server.
#[cfg(windows)]
const SHUTDOWN_POLL: Duration = Duration::from_millis(20);

/// The socket, and whether `Agent::shutdown` shut it down (see SHUTDOWN_POLL).
#[derive(Debug)]
struct Socket {
    stream: TcpStream,
    shut: AtomicBool,
}

impl ShutdownHandle for Socket {
    fn shutdown(&self) {
        self.shut.store(true, Ordering::Release);
        let _ = self.stream.shutdown(std::net::Shutdown::Both);
    }
}

/// Opens plain TCP connections for ureq's connector chain (first link).
#[derive(Debug, Default)]
pub struct TcpConnector;

impl Connector<()> for TcpConnector {
    type Out = TcpTransport;

    fn connect(&self, details: &ConnectionDetails, _chained: Option<()>) -> Result<Option<TcpTransport>, Error> {
        let stream = connect_any(details)?;
        if details.config.no_delay() {
            stream.set_nodelay(true)?;
        }
        let stream = Arc::new(Socket { stream, shut: AtomicBool::new(false) });
        // Lets Agent::shutdown interrupt I/O blocked on this socket, as ureq's own transport does.
        let handle: Weak<dyn ShutdownHandle> = Arc::downgrade(&stream) as Weak<dyn ShutdownHandle>;
        (details.register_shutdown)(handle)?;
        let config = details.config;
        Ok(Some(TcpTransport {
            stream,
            buffers: LazyBuffers::new(config.input_buffer_size(), config.output_buffer_size()),
            held: Vec::new(),
            read_timeout: None,
            write_timeout: None,
            read_since_probe: false,
        }))
    }
}

/// Tries each resolved address in turn. As ureq does, the first gets half the connect budget,
/// the next a quarter, and so on (at least 10 ms each), so one black-holed address does not use
/// it all.
fn connect_any(details: &ConnectionDetails) -> Result<TcpStream, Error> {
    let started = Instant::now();
    let budget = details.timeout.not_zero().map(|d| *d);
    let n = details.addrs.len() as i32;
    let total_weight = 2.0 * (1.0 - 0.5_f64.powi(n));
    let mut weight = 1.0_f64;
    let mut last_err: Option<Error> = None;
    for addr in details.addrs.iter() {
        let attempt = match budget {
            None => TcpStream::connect(addr),
            Some(b) => {
                let left = b.saturating_sub(started.elapsed());
                if left.is_zero() {
                    return Err(Error::Timeout(details.timeout.reason));
                }
                let share = b.mul_f64(weight / total_weight).max(Duration::from_millis(10)).min(left);
                TcpStream::connect_timeout(addr, share)
            }
        };
        weight /= 2.0;
        match attempt {
            Ok(s) => return Ok(s),
            Err(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => {
                last_err = Some(Error::Timeout(Timeout::Connect))
            }
            Err(e) => last_err = Some(e.into()),
        }
    }
    Err(last_err.unwrap_or(Error::ConnectionFailed))
}

/// A pooled TCP connection (see the module doc).
pub struct TcpTransport {
    stream: Arc<Socket>,
    buffers: LazyBuffers,
    /// Output written by ureq and not yet sent (sent when a read begins, or when large).
    held: Vec<u8>,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    /// Set by a read, cleared by `is_open`: the first `is_open` after a response (ureq returning
    /// the connection to its pool) is answered without probing; the next one (taking it out of
    /// the pool for a request) probes. See the module doc.
    read_since_probe: bool,
}

impl fmt::Debug for TcpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpTransport").field("peer", &self.stream.stream.peer_addr().ok()).finish()
    }
}

/// The socket timeout for `t`, rounded up to TIMEOUT_STEP; `None` when no timeout applies.
fn rounded(t: NextTimeout) -> Option<Duration> {
    let d = *t.not_zero()?;
    let step = TIMEOUT_STEP.as_nanos();
    let nanos = d.as_nanos().div_ceil(step).saturating_mul(step);
    Some(Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX)))
}

fn timed_out(t: &NextTimeout) -> Result<(), Error> {
    if t.after.is_zero() {
        return Err(Error::Timeout(t.reason));
    }
    Ok(())
}

fn io_error(e: io::Error, t: &NextTimeout) -> Error {
    match e.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Error::Timeout(t.reason),
        _ => e.into(),
    }
}

impl TcpTransport {
    fn set_write_timeout(&mut self, t: &NextTimeout) -> Result<(), Error> {
        let want = rounded(*t);
        if want != self.write_timeout {
            self.stream.stream.set_write_timeout(want)?;
            self.write_timeout = want;
        }
        Ok(())
    }

    fn set_read_timeout(&mut self, t: &NextTimeout) -> Result<(), Error> {
        let want = rounded(*t);
        #[cfg(windows)]
        let want = Some(want.map_or(SHUTDOWN_POLL, |d| d.min(SHUTDOWN_POLL)));
        if want != self.read_timeout {
            self.stream.stream.set_read_timeout(want)?;
            self.read_timeout = want;
        }
        Ok(())
    }

    /// Sends the held output with one write.
    fn flush_held(&mut self, timeout: &NextTimeout) -> Result<(), Error> {
        if self.held.is_empty() {
            return Ok(());
        }
        self.set_write_timeout(timeout)?;
        let r = (&self.stream.stream).write_all(&self.held);
        self.held.clear();
        r.map_err(|e| io_error(e, timeout))
    }
}

impl Transport for TcpTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), Error> {
        let timeout = timeout.for_write();
        timed_out(&timeout)?;
        let out = &self.buffers.output()[..amount];
        self.held.extend_from_slice(out);
        if self.held.len() >= MAX_HELD_OUTPUT {
            self.flush_held(&timeout)?;
        }
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
        let wtimeout = timeout.for_write();
        self.flush_held(&wtimeout)?;
        let timeout = timeout.for_read();
        timed_out(&timeout)?;
        self.set_read_timeout(&timeout)?;
        let started = Instant::now();
        let input = self.buffers.input_append_buf();
        let amount = loop {
            match (&self.stream.stream).read(input) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    // Interrupted by a signal: go on while the budget lasts.
                    if timeout.not_zero().is_some_and(|b| started.elapsed() >= *b) {
                        return Err(Error::Timeout(timeout.reason));
                    }
                }
                // Windows: the read timeout is at most SHUTDOWN_POLL; go on while the budget
                // lasts and the socket was not shut down.
                #[cfg(windows)]
                Err(e)
                    if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock)
                        && timeout.not_zero().is_none_or(|b| started.elapsed() < *b) =>
                {
                    if self.stream.shut.load(Ordering::Acquire) {
                        return Err(io::Error::from(io::ErrorKind::ConnectionAborted).into());
                    }
                }
                Err(e) => return Err(io_error(e, &timeout)),
                Ok(n) => break n,
            }
        };
        self.buffers.input_appended(amount);
        self.read_since_probe = true;
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        if !self.held.is_empty() {
            return false;
        }
        if std::mem::take(&mut self.read_since_probe) {
            // Going back into the pool: the probe made when it is taken out decides.
            return true;
        }
        probe(&self.stream.stream)
    }
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

/// True when a pooled connection looks usable (portable version: as ureq does it).
#[cfg(not(unix))]
fn probe(stream: &TcpStream) -> bool {
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
    use ureq::unversioned::transport::time::Duration as UDuration;

    fn next(after: UDuration) -> NextTimeout {
        NextTimeout { after, reason: Timeout::Global, per_read: None, per_write: None }
    }

    #[test]
    fn socket_timeouts_are_rounded_up_to_the_step() {
        let r = |ms: f64| rounded(next(UDuration::Exact(Duration::from_secs_f64(ms / 1e3))));
        // A budget that shrinks by microseconds from call to call keeps the same socket timeout.
        assert_eq!(r(29_999.96), Some(Duration::from_secs(30)));
        assert_eq!(r(29_999.95), Some(Duration::from_secs(30)));
        assert_eq!(r(30_000.0), Some(Duration::from_secs(30)));
        assert_eq!(r(0.2), Some(TIMEOUT_STEP));
        assert_eq!(rounded(next(UDuration::NotHappening)), None);
    }
}
