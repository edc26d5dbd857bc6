//! QoS measurement benchmark (BENCHMARKS.md, "QoS"): accuracy against emulated delays, the schedule
//! of a big measurement against its ideal, the cost of a lost probe, the cost of starting a
//! measurement on the calling thread, and memory under a flood of replies.
//!
//! `cargo bench --bench qos` (or `bash scripts/bench_qos.sh`). Prints one line per figure and a
//! summary; exits non-zero when a contract figure is missed:
//! - emulated delays of 1, 5, 20 and 80 ms, no jitter: the measured latency within 0.3 ms;
//! - 20 regions x 10 probes, P = 4, 20 ms each: wall time within 10 % of the ideal (1.0 s);
//! - a lost probe costs its timeout and nothing more (within 10 % + 5 ms);
//! - starting a measurement costs the calling thread at most 5 us (median);
//! - resident memory does not grow with a flood of replies (less than 2 MiB for 200,000 datagrams).

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use gsms::core::call::run;
use gsms::core::{CallOptions, Client, Config, MeasureQos, QosProbe};
use gsms_emulator::{Config as EmuConfig, Emulator, RegionConfig};

fn emulator(regions: Vec<RegionConfig>) -> Emulator {
    Emulator::start(EmuConfig { regions, ..EmuConfig::default() }).expect("emulator starts")
}

fn client(emu: &Emulator) -> Client {
    let mut c = Config::default();
    c.set_base_url(&emu.base_url()).unwrap();
    c.set_auth_token("XBL3.0 x=1;bench").unwrap();
    Client::new(&c).unwrap()
}

fn probe_for(emu: &Emulator, n: u32, p: u32, timeout_ms: u32) -> QosProbe {
    let mut probe = QosProbe::new();
    for (cfg, addr) in emu.qos_beacons() {
        probe.add_target(&cfg.name, &addr.ip().to_string(), addr.port().into()).unwrap();
    }
    probe.set_options(n, p, timeout_ms).unwrap();
    probe
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

struct Summary {
    failed: Vec<String>,
}

impl Summary {
    fn check(&mut self, what: &str, ok: bool, detail: String) {
        println!("{} {what}: {detail}", if ok { "PASS" } else { "FAIL" });
        if !ok {
            self.failed.push(what.to_string());
        }
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing useful: run either way.
    let mut sum = Summary { failed: Vec::new() };
    let rounds: usize = std::env::var("GSMS_QOS_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(5);

    // 1. Accuracy: each delay alone (P = 1), 20 probes, `rounds` measurements; the error of each
    //    measurement's latency figure, and its median over the rounds.
    println!("# accuracy: 20 probes per measurement, P = 1, no jitter, {rounds} rounds");
    println!("| emulated delay | measured (median of rounds) | error | worst round |");
    for delay in [1.0, 5.0, 20.0, 80.0] {
        let emu = emulator(vec![RegionConfig::new("R").with_delay_ms(delay)]);
        let c = client(&emu);
        let probe = probe_for(&emu, 20, 1, 1000);
        let mut errs: Vec<f64> = (0..rounds)
            .map(|_| {
                let r = run(MeasureQos::new(&probe), &c, &CallOptions::default());
                r.regions[0].latency_us.map_or(f64::INFINITY, |us| us as f64 / 1e3 - delay)
            })
            .collect();
        errs.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let med = errs[errs.len() / 2];
        let worst = errs.iter().cloned().fold(0.0_f64, |m, e| if e.abs() > m.abs() { e } else { m });
        println!("| {delay} ms | {:.3} ms | {med:+.3} ms | {worst:+.3} ms |", delay + med);
        sum.check(&format!("accuracy at {delay} ms"), med.abs() <= 0.3, format!("error {med:+.3} ms (limit 0.3 ms)"));
    }

    // 2. Schedule: 20 regions x 10 probes, P = 4, 20 ms each. Ideal: 200 probes / 4 = 50 rounds of 20 ms.
    let regions: Vec<RegionConfig> =
        (0..20).map(|i| RegionConfig::new(format!("R{i:02}")).with_delay_ms(20.0)).collect();
    let emu = emulator(regions);
    let c = client(&emu);
    let probe = probe_for(&emu, 10, 4, 1000);
    let mut walls: Vec<f64> = (0..rounds.min(3))
        .map(|_| {
            let t = Instant::now();
            let r = run(MeasureQos::new(&probe), &c, &CallOptions::default());
            assert!(r.regions.iter().all(|g| g.received == 10), "every probe answered");
            t.elapsed().as_secs_f64()
        })
        .collect();
    walls.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let wall = walls[walls.len() / 2];
    sum.check(
        "schedule 20 x 10, P 4, 20 ms",
        wall <= 1.0 * 1.10,
        format!("{:.3} s (ideal 1.000 s, {:+.1} %)", wall, (wall - 1.0) * 100.0),
    );

    // 3. A lost probe costs its timeout: one region, loss 1, 5 probes, P 1, timeout 100 ms -> 500 ms.
    let emu = emulator(vec![RegionConfig { loss: 1.0, ..RegionConfig::new("Lost") }]);
    let c = client(&emu);
    let probe = probe_for(&emu, 5, 1, 100);
    let t = Instant::now();
    run(MeasureQos::new(&probe), &c, &CallOptions::default());
    let lost = t.elapsed().as_secs_f64() * 1e3;
    sum.check(
        "a lost probe costs its timeout",
        lost <= 500.0 * 1.10 + 5.0,
        format!("5 lost probes, timeout 100 ms, P 1: {lost:.1} ms (ideal 500 ms)"),
    );

    // 4. Starting a measurement on the calling thread (the async form), median of 2000 starts.
    let emu = emulator(vec![RegionConfig::new("R")]);
    let mut cfg = Config::default();
    cfg.set_base_url(&emu.base_url()).unwrap();
    let rt = gsms::runtime::Client::new(&cfg).unwrap();
    rt.warmup().unwrap();
    let probe = probe_for(&emu, 1, 1, 50);
    thread::sleep(Duration::from_millis(50));
    let mut starts: Vec<f64> = (0..2000)
        .map(|_| {
            let t = Instant::now();
            let op = rt.start(MeasureQos::new(&probe), None, None, None).unwrap();
            let us = t.elapsed().as_secs_f64() * 1e6;
            op.cancel();
            us
        })
        .collect();
    starts.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let p50 = starts[starts.len() / 2];
    sum.check(
        "start cost on the calling thread",
        p50 <= 5.0,
        format!("median {p50:.2} us, p90 {:.2} us (limit 5 us)", starts[starts.len() * 9 / 10]),
    );
    rt.shutdown();

    // 5. A flood: a beacon that answers each probe with 20,000 junk datagrams (wrong nonces) before
    //    the true answer; 10 probes -> 200,000 datagrams. Resident memory before and after.
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let s2 = Arc::clone(&stop);
    let flooder = thread::spawn(move || {
        sock.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
        let mut buf = [0u8; 64];
        while !s2.load(Ordering::SeqCst) {
            let Ok((n, from)) = sock.recv_from(&mut buf) else { continue };
            if n != 10 {
                continue;
            }
            let mut junk = buf;
            junk[0] = 0;
            junk[1] = 0;
            for i in 0..20_000u32 {
                junk[6..10].copy_from_slice(&i.to_be_bytes());
                let _ = sock.send_to(&junk[..10], from);
            }
            buf[0] = 0;
            buf[1] = 0;
            let _ = sock.send_to(&buf[..10], from);
        }
    });
    let c = client(&emu);
    let mut probe = QosProbe::new();
    probe.add_target("Flood", "127.0.0.1", port.into()).unwrap();
    probe.set_options(10, 1, 2000).unwrap();
    run(MeasureQos::new(&probe), &c, &CallOptions::default()); // warm
    let before = rss_kib();
    let r = run(MeasureQos::new(&probe), &c, &CallOptions::default());
    let after = rss_kib();
    stop.store(true, Ordering::SeqCst);
    flooder.join().unwrap();
    sum.check(
        "memory under a flood of replies",
        after.saturating_sub(before) < 2048,
        format!(
            "200,000 junk datagrams: RSS {before} -> {after} KiB; {} of 10 true answers counted",
            r.regions[0].received
        ),
    );

    println!();
    if sum.failed.is_empty() {
        println!("qos bench: all targets met");
    } else {
        println!("qos bench: missed: {}", sum.failed.join(", "));
        std::process::exit(1);
    }
}
