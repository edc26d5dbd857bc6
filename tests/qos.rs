//! QoS measurement against the emulator's beacons (real UDP on loopback) and against a hostile
//! beacon: order, figures, loss, unresolvable names, bad input, the async form and cancel.
//! Timings are asserted loosely here; the accuracy and schedule figures are benchmarks
//! (BENCHMARKS.md, `bash scripts/bench_qos.sh`).

mod common;

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use gsms::core::call::run;
use gsms::core::calls::qos_servers::get_qos_servers;
use gsms::core::{MeasureQos, QosProbe, QosResult};
use gsms_emulator::RegionConfig;

fn regions(emu_regions: &[(&str, f64, f64)]) -> Emulator {
    emulator(|c| {
        c.regions = emu_regions
            .iter()
            .map(|(n, d, loss)| RegionConfig { name: n.to_string(), delay_ms: *d, jitter_ms: 0.0, loss: *loss })
            .collect();
    })
}

fn measure(client: &Client, probe: &QosProbe) -> QosResult {
    run(MeasureQos::new(probe), client, &CallOptions::default())
}

#[test]
fn regions_come_back_best_first_with_their_figures() {
    let emu = regions(&[("Far", 20.0, 0.0), ("Near", 1.0, 0.0), ("Mid", 6.0, 0.0)]);
    let client = Client::new(&config(&emu)).unwrap();
    let servers = run(get_qos_servers(true), &client, &CallOptions::default());
    assert_eq!(servers.status, Status::Ok, "{}", servers.error_message);
    assert_eq!(servers.servers.len(), 3);
    let mut probe = QosProbe::new();
    probe.add_servers(&servers).unwrap();
    probe.set_options(6, 3, 500).unwrap();
    let r = measure(&client, &probe);
    assert_eq!(r.status, Status::Ok);
    let names: Vec<&str> = r.regions.iter().map(|g| g.region.as_str()).collect();
    assert_eq!(names, ["Near", "Mid", "Far"]);
    assert_eq!(r.best_region(), "Near");
    for (g, delay) in r.regions.iter().zip([1.0, 6.0, 20.0]) {
        assert_eq!((g.sent, g.received), (6, 6), "{g:?}");
        let ms = g.latency_us.unwrap() as f64 / 1e3;
        assert!(ms >= delay * 0.95 && ms < delay + 15.0, "{}: {ms} ms for a {delay} ms beacon", g.region);
        assert_eq!(g.message, "");
    }
    assert_eq!(r.attempts, 18, "attempts count the probes sent");
}

#[test]
fn a_region_that_never_answers_costs_its_timeouts_and_says_so() {
    let emu = regions(&[("Dead", 0.0, 1.0), ("Live", 0.0, 0.0)]);
    let client = Client::new(&config(&emu)).unwrap();
    let mut probe = QosProbe::new();
    for (cfg, addr) in emu.qos_beacons() {
        probe.add_target(&cfg.name, &addr.ip().to_string(), addr.port().into()).unwrap();
    }
    probe.set_options(4, 1, 100).unwrap();
    let t = Instant::now();
    let r = measure(&client, &probe);
    let took = t.elapsed();
    assert_eq!(r.best_region(), "Live");
    let dead = r.regions.iter().find(|g| g.region == "Dead").unwrap();
    assert_eq!((dead.latency_us, dead.sent, dead.received), (None, 4, 0));
    assert!(dead.message.contains("no reply"), "{}", dead.message);
    assert_eq!(r.regions.last().unwrap().region, "Dead", "no latency sorts last");
    // One in flight: 4 lost probes cost 4 timeouts, the live region's 4 round trips next to nothing.
    assert!(took >= Duration::from_millis(390) && took < Duration::from_millis(1500), "{took:?}");
}

#[test]
fn an_unresolvable_host_is_a_region_message_not_a_failure() {
    let emu = regions(&[("Live", 0.0, 0.0)]);
    let client = Client::new(&config(&emu)).unwrap();
    let (cfg, addr) = emu.qos_beacons().remove(0);
    let mut probe = QosProbe::new();
    probe.add_target(&cfg.name, &addr.ip().to_string(), addr.port().into()).unwrap();
    probe.add_target("Nowhere", "no-such-host.invalid", 0).unwrap();
    let r = measure(&client, &probe);
    assert_eq!(r.status, Status::Ok);
    let nowhere = r.regions.iter().find(|g| g.region == "Nowhere").unwrap();
    assert_eq!((nowhere.latency_us, nowhere.sent), (None, 0));
    assert!(nowhere.message.contains("resolve"), "{}", nowhere.message);
    assert_eq!(r.best_region(), "Live");
}

#[test]
fn ipv6_beacons_are_measured() {
    let Ok(sock) = UdpSocket::bind("[::1]:0") else {
        eprintln!("SKIPPED: this machine has no IPv6 loopback");
        return;
    };
    let port = sock.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = Arc::clone(&stop);
    let beacon = thread::spawn(move || echo_beacon(sock, s2, |_| Some(Duration::ZERO)));
    let emu = regions(&[]);
    let client = Client::new(&config(&emu)).unwrap();
    let mut probe = QosProbe::new();
    probe.add_target("Six", "::1", port.into()).unwrap();
    probe.set_options(3, 1, 500).unwrap();
    let r = measure(&client, &probe);
    stop.store(true, Ordering::SeqCst);
    beacon.join().unwrap();
    assert_eq!(r.regions[0].received, 3);
    assert_eq!(r.best_region(), "Six");
}

/// A beacon that answers each probe as `decide` says (delay, or None for no answer).
fn echo_beacon(sock: UdpSocket, stop: Arc<AtomicBool>, decide: impl Fn(u32) -> Option<Duration>) {
    sock.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
    let mut buf = [0u8; 64];
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        let Ok((len, from)) = sock.recv_from(&mut buf) else { continue };
        if len == 10 && buf[0] == 0xFF && buf[1] == 0xFF {
            if let Some(d) = decide(n) {
                thread::sleep(d);
                let mut reply = buf;
                reply[0] = 0;
                reply[1] = 0;
                sock.send_to(&reply[..10], from).unwrap();
            }
            n += 1;
        }
    }
}

#[test]
fn a_hostile_beacon_is_only_believed_for_matching_replies() {
    // For every probe, the beacon first sends everything that must be ignored (a wrong nonce,
    // garbage, a truncated answer, the probe itself or half-answered, the right bytes from
    // another port), then (after 5 ms)
    // the true answer; every third probe it answers again (a duplicate); every fourth probe only
    // after the timeout (late).
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let other = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(AtomicU32::new(0));
    let (s2, seen2) = (Arc::clone(&stop), Arc::clone(&seen));
    let beacon = thread::spawn(move || {
        sock.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        let mut buf = [0u8; 64];
        while !s2.load(Ordering::SeqCst) {
            let Ok((len, from)) = sock.recv_from(&mut buf) else { continue };
            if len != 10 {
                continue;
            }
            let k = seen2.fetch_add(1, Ordering::SeqCst);
            let mut good = buf;
            good[0] = 0;
            good[1] = 0;
            let mut wrong_nonce = good;
            wrong_nonce[9] ^= 0xFF;
            sock.send_to(&wrong_nonce[..10], from).unwrap(); // wrong nonce
            sock.send_to(b"garbage garbage!", from).unwrap(); // garbage
            sock.send_to(&good[..6], from).unwrap(); // truncated
            sock.send_to(&buf[..10], from).unwrap(); // the probe echoed unchanged (FF FF)
            let (mut half_a, mut half_b) = (good, good);
            half_a[1] = 0xFF;
            half_b[0] = 0xFF;
            sock.send_to(&half_a[..10], from).unwrap(); // only the first byte cleared (00 FF)
            sock.send_to(&half_b[..10], from).unwrap(); // only the second (FF 00)
            other.send_to(&good[..10], from).unwrap(); // right bytes, wrong source port
            if k % 4 == 3 {
                thread::sleep(Duration::from_millis(150)); // late: after the 100 ms timeout
                sock.send_to(&good[..10], from).unwrap();
                continue;
            }
            thread::sleep(Duration::from_millis(5));
            sock.send_to(&good[..10], from).unwrap();
            if k % 3 == 0 {
                sock.send_to(&good[..10], from).unwrap(); // duplicate
            }
        }
    });
    let emu = regions(&[]);
    let client = Client::new(&config(&emu)).unwrap();
    let mut probe = QosProbe::new();
    probe.add_target("Hostile", "127.0.0.1", port.into()).unwrap();
    probe.set_options(8, 1, 100).unwrap();
    let r = measure(&client, &probe);
    stop.store(true, Ordering::SeqCst);
    beacon.join().unwrap();
    let g = &r.regions[0];
    assert_eq!(g.sent, 8);
    assert_eq!(g.received, 6, "probes 3 and 7 were answered late; nothing else counted: {g:?}");
    let ms = g.latency_us.unwrap() as f64 / 1e3;
    assert!((4.5..40.0).contains(&ms), "latency {ms} ms from the true 5 ms answers");
}

#[test]
fn bad_input_is_refused_and_nothing_is_sent_through_the_c_abi() {
    use gsms::ffi::client::*;
    use gsms::ffi::config::*;
    use gsms::ffi::gsms_status::*;
    use gsms::ffi::qos::*;
    use std::ffi::{CStr, CString};
    use std::ptr;
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_nonblocking(true).unwrap();
    let port = sock.local_addr().unwrap().port() as u32;
    unsafe {
        let cfg = gsms_config_new();
        let mut c = ptr::null_mut();
        assert_eq!(gsms_client_new(cfg, &mut c), GSMS_OK);
        let p = gsms_qos_probe_new();
        let mut r = ptr::null_mut();
        assert_eq!(gsms_client_measure_qos(c, p, &mut r), GSMS_ERR_INVALID_ARGUMENT, "no targets");
        assert!(r.is_null());
        let msg = CStr::from_ptr(gsms::ffi::gsms_last_error_message()).to_str().unwrap().to_string();
        assert!(msg.contains("no targets"), "{msg}");
        let host = CString::new("127.0.0.1").unwrap();
        assert_eq!(gsms_qos_probe_add_target(p, c"West".as_ptr(), host.as_ptr(), 65536), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_qos_probe_add_target(p, c"".as_ptr(), host.as_ptr(), port), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_qos_probe_add_target(p, c"West".as_ptr(), c"".as_ptr(), port), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_qos_probe_add_target(p, c"West".as_ptr(), host.as_ptr(), port), GSMS_OK);
        assert_eq!(
            gsms_qos_probe_add_target(p, c"West".as_ptr(), host.as_ptr(), port),
            GSMS_ERR_INVALID_ARGUMENT,
            "duplicate"
        );
        assert_eq!(gsms_qos_probe_target_count(p), 1);
        assert_eq!(gsms_qos_probe_set_options(p, 0, 1, 1), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_qos_probe_set_options(p, 1, 65, 1), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(gsms_qos_probe_add_servers(p, ptr::null()), GSMS_ERR_INVALID_ARGUMENT);
        let mut buf = [0u8; 16];
        assert!(sock.recv_from(&mut buf).is_err(), "no probe was sent by refused calls");
        // Indexed getters past the end.
        assert_eq!(gsms_qos_probe_set_options(p, 1, 1, 50), GSMS_OK);
        assert_eq!(gsms_client_measure_qos(c, p, &mut r), GSMS_OK, "a region that does not answer is not a failure");
        let (mut lat, mut sent, mut got) = (0u32, 0u32, 0u32);
        let mut name = ptr::null();
        assert_eq!(gsms_qos_result_region(r, 0, &mut name, &mut lat, &mut sent, &mut got), GSMS_OK);
        assert_eq!((lat, sent, got), (u32::MAX, 1, 0));
        assert_eq!(CStr::from_ptr(gsms_qos_result_best_region(r)).to_bytes(), b"");
        assert!(CStr::from_ptr(gsms_qos_result_region_message(r, 0)).to_str().unwrap().contains("no reply"));
        assert_eq!(gsms_qos_result_region(r, 1, &mut name, &mut lat, &mut sent, &mut got), GSMS_ERR_INVALID_ARGUMENT);
        assert_eq!(lat, u32::MAX, "out-pointers untouched");
        gsms_qos_result_free(r);
        gsms_qos_probe_free(p);
        gsms_client_free(c);
        gsms_config_free(cfg);
    }
}

#[test]
fn the_async_form_runs_on_a_worker_and_cancels_at_once() {
    use gsms::runtime::Client as RtClient;
    let emu = regions(&[("Slow", 0.0, 1.0)]);
    let rt = RtClient::new(&config(&emu)).unwrap();
    let (cfg, addr) = emu.qos_beacons().remove(0);
    let mut probe = QosProbe::new();
    probe.add_target(&cfg.name, &addr.ip().to_string(), addr.port().into()).unwrap();
    probe.add_target("Nowhere", "no-such-host.invalid", 0).unwrap();
    probe.set_options(50, 1, 200).unwrap(); // 10 s if left alone
    let t = Instant::now();
    let op = rt.start(MeasureQos::new(&probe), None, None, None).unwrap();
    assert!(t.elapsed() < Duration::from_millis(20), "starting does not resolve or probe: {:?}", t.elapsed());
    thread::sleep(Duration::from_millis(100));
    let t = Instant::now();
    op.cancel();
    let (st, _) = op.take_result().expect("completed by the cancel");
    assert_eq!(st, Status::Cancelled);
    assert!(t.elapsed() < Duration::from_millis(100));
    let t = Instant::now();
    rt.shutdown();
    assert!(t.elapsed() < Duration::from_millis(250), "the worker left its probing promptly: {:?}", t.elapsed());
}

#[test]
fn a_measurement_cancelled_before_it_starts_claims_no_probes() {
    // Nothing was sent: no region may read "no reply to 0 probes", and none counts a probe.
    let emu = regions(&[("A", 0.0, 0.0), ("B", 0.0, 0.0)]);
    let client = Client::new(&config(&emu)).unwrap();
    let mut probe = QosProbe::new();
    for (cfg, addr) in emu.qos_beacons() {
        probe.add_target(&cfg.name, &addr.ip().to_string(), addr.port().into()).unwrap();
    }
    let cancel = gsms::core::CancelToken::new();
    cancel.cancel();
    let r = run(MeasureQos::new(&probe), &client, &CallOptions { deadline: None, cancel: Some(&cancel) });
    assert_eq!(r.status, Status::Cancelled, "{}", r.error_message);
    assert_eq!(r.regions.len(), 2);
    for g in &r.regions {
        assert_eq!((g.sent, g.received), (0, 0), "{}", g.region);
        assert!(!g.message.contains("no reply"), "{}: {}", g.region, g.message);
    }
}

/// A beacon that never answers: it records when each probe arrived.
fn silent_beacon(sock: UdpSocket, stop: Arc<AtomicBool>) -> thread::JoinHandle<Vec<Instant>> {
    thread::spawn(move || {
        sock.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
        let mut buf = [0u8; 64];
        let mut seen = Vec::new();
        while !stop.load(Ordering::SeqCst) {
            if let Ok((10, _)) = sock.recv_from(&mut buf) {
                seen.push(Instant::now());
            }
        }
        seen
    })
}

#[test]
fn with_beacons_of_both_families_the_in_flight_budget_is_split_by_their_share() {
    if UdpSocket::bind("[::1]:0").is_err() {
        eprintln!("SKIPPED: this machine has no IPv6 loopback");
        return;
    }
    let emu = regions(&[]);
    let client = Client::new(&config(&emu)).unwrap();
    // (parallelism, probes per region, timeout ms, expected in flight on IPv4 and on IPv6):
    // three IPv4 regions and one IPv6 region share the budget 3:1, at least one each; with a
    // budget of one the families take turns (IPv4 first).
    for (parallelism, per_region, timeout_ms, want4, want6) in [(8, 4, 600, 6, 2), (2, 1, 400, 1, 1), (1, 1, 300, 1, 0)]
    {
        let stop = Arc::new(AtomicBool::new(false));
        let mut probe = QosProbe::new();
        let mut beacons = Vec::new();
        for (i, host) in ["127.0.0.1", "127.0.0.1", "127.0.0.1", "::1"].into_iter().enumerate() {
            let sock = UdpSocket::bind((host, 0)).unwrap();
            probe.add_target(&format!("R{i}"), host, sock.local_addr().unwrap().port().into()).unwrap();
            beacons.push(silent_beacon(sock, Arc::clone(&stop)));
        }
        probe.set_options(per_region, parallelism, timeout_ms).unwrap();
        let r = measure(&client, &probe);
        stop.store(true, Ordering::SeqCst);
        let seen: Vec<Vec<Instant>> = beacons.into_iter().map(|b| b.join().unwrap()).collect();
        assert_eq!(r.info.status, Status::Ok, "{}", r.info.error_message);
        assert!(seen.iter().all(|s| s.len() == per_region as usize), "every probe is sent once: {seen:?}");
        // Nothing answers: until the first timeouts free a slot, what arrived is what is in flight.
        let first = *seen.iter().flatten().min().unwrap();
        let window = first + Duration::from_millis(u64::from(timeout_ms) / 2);
        let early = |s: &[Vec<Instant>]| s.iter().flatten().filter(|&&t| t < window).count();
        assert_eq!(
            (early(&seen[..3]), early(&seen[3..])),
            (want4, want6),
            "probes in flight at once (IPv4, IPv6) with parallelism {parallelism}"
        );
    }
}

#[test]
fn every_probe_carries_its_own_nonce_within_and_across_measurements() {
    // A reply is matched to its probe by the nonce: two probes with the same one (in a
    // measurement, or a late reply from the previous measurement) would be mistaken for each
    // other. The beacon answers at once and records every nonce it sees.
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = Arc::clone(&stop);
    let beacon = thread::spawn(move || {
        sock.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
        let mut buf = [0u8; 64];
        let mut nonces = Vec::new();
        while !s2.load(Ordering::SeqCst) {
            let Ok((10, from)) = sock.recv_from(&mut buf) else { continue };
            nonces.push(u64::from_be_bytes(buf[2..10].try_into().unwrap()));
            let mut reply = buf;
            reply[0] = 0;
            reply[1] = 0;
            sock.send_to(&reply[..10], from).unwrap();
        }
        nonces
    });
    let emu = regions(&[]);
    let client = Client::new(&config(&emu)).unwrap();
    let mut probe = QosProbe::new();
    probe.add_target("A", "127.0.0.1", port.into()).unwrap();
    probe.add_target("B", "127.0.0.1", port.into()).unwrap();
    probe.set_options(16, 4, 300).unwrap();
    for round in 0..3 {
        let r = measure(&client, &probe);
        assert_eq!(r.info.status, Status::Ok, "{}", r.info.error_message);
        assert!(r.regions.iter().all(|g| g.sent == 16 && g.received == 16), "round {round}: {:?}", r.regions);
    }
    stop.store(true, Ordering::SeqCst);
    let nonces = beacon.join().unwrap();
    assert_eq!(nonces.len(), 96, "3 measurements of 2 regions x 16 probes");
    let distinct: std::collections::HashSet<u64> = nonces.iter().copied().collect();
    assert_eq!(distinct.len(), nonces.len(), "some probes shared a nonce");
}
