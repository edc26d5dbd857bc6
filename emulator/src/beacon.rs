//! QoS beacons: one UDP socket per region speaking PlayFab's QoS beacon protocol, with a
//! settable delay, jitter and loss.
//!
//! A probe is exactly 10 bytes, `0xFF 0xFF` and an 8-byte nonce; the reply is the same
//! datagram with its first two bytes set to `0x00 0x00`. Anything else is ignored.
//!
//! One thread receives and stamps each probe on arrival. Replies without delay go out at once
//! from that thread; delayed ones go into a due-time heap served by a second thread, which
//! sleeps until shortly before the earliest is due and then spins (yielding) to the instant, so
//! replies are neither serialised behind one another nor late by a timer's slack. The heap is
//! capped: probes beyond the cap are dropped and counted.

use std::cmp::Ordering as CmpOrdering;
use std::collections::BinaryHeap;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::RegionConfig;

/// The length of a probe and of its reply.
pub(crate) const PROBE_LEN: usize = 10;
/// The scheduler sleeps until this long before a reply is due, then spins.
const SPIN_WINDOW: Duration = Duration::from_micros(200);

/// Network conditions of a beacon.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Params {
    pub delay_ms: f64,
    pub jitter_ms: f64,
    pub loss: f64,
}

/// What a beacon has done since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Stats {
    /// Well-formed probes received.
    pub received: u64,
    /// Replies sent.
    pub answered: u64,
    /// Probes not answered because of the loss setting.
    pub lost: u64,
    /// Probes dropped because the pending-reply heap was full.
    pub dropped: u64,
    /// Datagrams that were not probes.
    pub ignored: u64,
    /// Replies waiting for their due time now.
    pub pending: u64,
}

struct Pending {
    due: Instant,
    seq: u64,
    to: SocketAddr,
    reply: [u8; PROBE_LEN],
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    /// Reversed, so that the max-heap pops the earliest due time first.
    fn cmp(&self, other: &Self) -> CmpOrdering {
        (other.due, other.seq).cmp(&(self.due, self.seq))
    }
}

struct Shared {
    socket: UdpSocket,
    params: Mutex<Params>,
    pending: Mutex<BinaryHeap<Pending>>,
    wake: Condvar,
    stop: AtomicBool,
    limit: usize,
    received: AtomicU64,
    answered: AtomicU64,
    lost: AtomicU64,
    dropped: AtomicU64,
    ignored: AtomicU64,
}

impl Shared {
    fn pending(&self) -> MutexGuard<'_, BinaryHeap<Pending>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn send(&self, reply: &[u8], to: SocketAddr) {
        if self.socket.send_to(reply, to).is_ok() {
            self.answered.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A running beacon. Stops (and closes its socket) on [`Beacon::stop`] or drop.
pub(crate) struct Beacon {
    pub name: String,
    pub addr: SocketAddr,
    /// `serverSecureDeviceAddress` of the QoS server list: an opaque base64 tag.
    pub secure_address: String,
    shared: Arc<Shared>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl Beacon {
    /// Binds `host:0` and starts the beacon's two threads.
    pub fn start(host: &str, index: usize, region: &RegionConfig, limit: usize) -> io::Result<Beacon> {
        let addr = (host, 0u16).to_socket_addrs()?.next().ok_or_else(|| {
            io::Error::new(io::ErrorKind::AddrNotAvailable, format!("host name {host:?} resolves to no address"))
        })?;
        let socket = UdpSocket::bind(addr)?;
        // A backstop: the receiver also wakes up by itself now and then to see the stop flag.
        socket.set_read_timeout(Some(Duration::from_millis(500)))?;
        let addr = socket.local_addr()?;
        let mut tag = Vec::with_capacity(16);
        tag.extend_from_slice(b"GSMSQOS1");
        tag.extend_from_slice(&(index as u16).to_be_bytes());
        tag.extend_from_slice(&addr.port().to_be_bytes());
        tag.extend_from_slice(region.name.as_bytes().get(..4).unwrap_or(region.name.as_bytes()));
        let shared = Arc::new(Shared {
            socket,
            params: Mutex::new(Params { delay_ms: region.delay_ms, jitter_ms: region.jitter_ms, loss: region.loss }),
            pending: Mutex::new(BinaryHeap::new()),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
            limit,
            received: AtomicU64::new(0),
            answered: AtomicU64::new(0),
            lost: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            ignored: AtomicU64::new(0),
        });
        let beacon = Beacon {
            name: region.name.clone(),
            addr,
            secure_address: base64::engine::general_purpose::STANDARD.encode(&tag),
            shared: shared.clone(),
            threads: Mutex::new(Vec::new()),
        };
        let rx = shared.clone();
        let seed = crate::service::random_u64(index as u64 ^ u64::from(addr.port()));
        let receiver = std::thread::Builder::new()
            .name(format!("gsms-emu-qos-rx-{}", addr.port()))
            .spawn(move || receive_loop(&rx, seed))?;
        beacon.threads.lock().unwrap_or_else(|e| e.into_inner()).push(receiver);
        let tx = shared;
        let scheduler = std::thread::Builder::new()
            .name(format!("gsms-emu-qos-tx-{}", addr.port()))
            .spawn(move || schedule_loop(&tx));
        match scheduler {
            Ok(t) => beacon.threads.lock().unwrap_or_else(|e| e.into_inner()).push(t),
            Err(e) => {
                beacon.stop();
                return Err(e);
            }
        }
        Ok(beacon)
    }

    pub fn params(&self) -> Params {
        *self.shared.params.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_params(&self, p: Params) {
        *self.shared.params.lock().unwrap_or_else(|e| e.into_inner()) = p;
    }

    pub fn stats(&self) -> Stats {
        let s = &self.shared;
        Stats {
            received: s.received.load(Ordering::Relaxed),
            answered: s.answered.load(Ordering::Relaxed),
            lost: s.lost.load(Ordering::Relaxed),
            dropped: s.dropped.load(Ordering::Relaxed),
            ignored: s.ignored.load(Ordering::Relaxed),
            pending: s.pending().len() as u64,
        }
    }

    /// Stops both threads and waits for them; pending replies are not sent.
    pub fn stop(&self) {
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        if threads.is_empty() {
            return;
        }
        self.shared.stop.store(true, Ordering::SeqCst);
        {
            let _heap = self.shared.pending();
            self.shared.wake.notify_all();
        }
        // Wake the blocked receive with one (ignored) datagram.
        crate::udp::wake(self.addr);
        for t in threads {
            let _ = t.join();
        }
    }
}

impl Drop for Beacon {
    fn drop(&mut self) {
        self.stop();
    }
}

/// xorshift64*: a uniform f64 in [0, 1).
fn next_unit(state: &mut u64) -> f64 {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    let r = state.wrapping_mul(0x2545_f491_4f6c_dd1d);
    (r >> 11) as f64 / (1u64 << 53) as f64
}

fn receive_loop(shared: &Shared, seed: u64) {
    let mut rng = seed | 1;
    let mut seq = 0u64;
    let mut buf = [0u8; 2048];
    while !shared.stop.load(Ordering::SeqCst) {
        let (n, from) = match shared.socket.recv_from(&mut buf) {
            Ok(r) => r,
            // Timeouts, and ICMP "port unreachable" from an earlier send, are not fatal.
            Err(_) => continue,
        };
        let arrived = Instant::now();
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        if n != PROBE_LEN || buf[0] != 0xFF || buf[1] != 0xFF {
            shared.ignored.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        shared.received.fetch_add(1, Ordering::Relaxed);
        let p = *shared.params.lock().unwrap_or_else(|e| e.into_inner());
        if p.loss > 0.0 && next_unit(&mut rng) < p.loss {
            shared.lost.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let mut reply = [0u8; PROBE_LEN];
        reply.copy_from_slice(&buf[..PROBE_LEN]);
        reply[0] = 0;
        reply[1] = 0;
        let jitter = if p.jitter_ms > 0.0 { (next_unit(&mut rng) * 2.0 - 1.0) * p.jitter_ms } else { 0.0 };
        let delay_ms = (p.delay_ms + jitter).max(0.0);
        if delay_ms <= 0.0 {
            shared.send(&reply, from);
            continue;
        }
        let due = arrived + Duration::from_secs_f64(delay_ms / 1000.0);
        let mut heap = shared.pending();
        if heap.len() >= shared.limit {
            drop(heap);
            shared.dropped.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        seq += 1;
        heap.push(Pending { due, seq, to: from, reply });
        drop(heap);
        shared.wake.notify_one();
    }
}

fn schedule_loop(shared: &Shared) {
    loop {
        let next = {
            let mut heap = shared.pending();
            loop {
                if shared.stop.load(Ordering::SeqCst) {
                    return;
                }
                let Some(top) = heap.peek() else {
                    heap =
                        shared.wake.wait_timeout(heap, Duration::from_millis(250)).unwrap_or_else(|e| e.into_inner()).0;
                    continue;
                };
                let now = Instant::now();
                if top.due <= now {
                    break heap.pop().expect("peeked");
                }
                let left = top.due - now;
                if left > SPIN_WINDOW {
                    // Woken early when an earlier reply is pushed.
                    heap = shared.wake.wait_timeout(heap, left - SPIN_WINDOW).unwrap_or_else(|e| e.into_inner()).0;
                    continue;
                }
                let due = top.due;
                drop(heap);
                while Instant::now() < due {
                    std::hint::spin_loop();
                    std::thread::yield_now();
                }
                heap = shared.pending();
            }
        };
        shared.send(&next.reply, next.to);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_pops_earliest_first() {
        let t = Instant::now();
        let to: SocketAddr = "127.0.0.1:1".parse().unwrap();
        let mut h = BinaryHeap::new();
        for (ms, seq) in [(30u64, 1u64), (10, 2), (20, 3), (10, 4)] {
            h.push(Pending { due: t + Duration::from_millis(ms), seq, to, reply: [0; PROBE_LEN] });
        }
        let order: Vec<u64> = std::iter::from_fn(|| h.pop().map(|p| p.seq)).collect();
        assert_eq!(order, vec![2, 4, 3, 1]);
    }

    #[test]
    fn unit_rng_stays_in_range() {
        let mut s = 12345u64;
        let xs: Vec<f64> = (0..10_000).map(|_| next_unit(&mut s)).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
    }
}
