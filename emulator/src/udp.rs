//! UDP echo sockets standing in for the game port of simulated servers.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// One UDP socket bound on the simulated server's host, echoing every datagram to its sender.
pub(crate) struct UdpEcho {
    pub port: u16,
    local: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl UdpEcho {
    /// Binds `host:0` and starts the echo thread.
    pub fn bind(host: &str) -> io::Result<UdpEcho> {
        let stop = Arc::new(AtomicBool::new(false));
        let addr = (host, 0u16).to_socket_addrs()?.next().ok_or_else(|| {
            io::Error::new(io::ErrorKind::AddrNotAvailable, format!("host name {host:?} resolves to no address"))
        })?;
        let socket = UdpSocket::bind(addr)?;
        // A backstop: the thread also wakes up by itself now and then to see the stop flag.
        socket.set_read_timeout(Some(Duration::from_millis(500)))?;
        let local = socket.local_addr()?;
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name(format!("gsms-emu-udp-{}", local.port()))
            .spawn(move || echo_loop(socket, flag))?;
        Ok(UdpEcho { port: local.port(), local, stop, thread: Some(thread) })
    }

    /// Stops the thread and waits for it; the socket closes with it.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            wake(self.local);
            let _ = thread.join();
        }
    }
}

/// Wakes a thread blocked receiving on the socket bound to `local`, with one empty datagram.
pub(crate) fn wake(local: SocketAddr) {
    let target = match local {
        SocketAddr::V4(a) if a.ip().is_unspecified() => SocketAddr::from((Ipv4Addr::LOCALHOST, a.port())),
        SocketAddr::V6(a) if a.ip().is_unspecified() => SocketAddr::from((Ipv6Addr::LOCALHOST, a.port())),
        a => a,
    };
    let from: SocketAddr =
        if target.is_ipv4() { (Ipv4Addr::UNSPECIFIED, 0).into() } else { (Ipv6Addr::UNSPECIFIED, 0).into() };
    if let Ok(waker) = UdpSocket::bind(from) {
        let _ = waker.send_to(b"", target);
    }
}

impl Drop for UdpEcho {
    fn drop(&mut self) {
        self.stop();
    }
}

fn echo_loop(socket: UdpSocket, stop: Arc<AtomicBool>) {
    let mut buf = vec![0u8; 65536];
    while !stop.load(Ordering::SeqCst) {
        match socket.recv_from(&mut buf) {
            Ok((n, from)) => {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let _ = socket.send_to(&buf[..n], from);
            }
            // Timeouts, and ICMP "port unreachable" from an earlier send, are not fatal.
            Err(_) => continue,
        }
    }
}
