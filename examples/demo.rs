//! The demo: allocate a game server and print where to connect.
//!
//! `cargo run --example demo` starts the emulator in-process (one server per title, so the demo's
//! session waits in the queue behind another match and shows Queued progress), then allocates
//! asynchronously, dispatching completions on this thread once per "frame" as a game would.
//! With `GSMS_BASE_URL` set (and `GSMS_TOKEN`, the whole Authorization value), it talks to that
//! service instead. `GSMS_TITLE_ID` and `GSMS_SESSION_ID` override the title and session.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use gsms::core::{
    AllocateCluster, CallbackMode, ClusterRequest, Config, CreateCluster, FulfillmentState, LogLevel, Status,
};
use gsms::runtime::Client;

fn main() {
    let external = std::env::var("GSMS_BASE_URL").ok();
    let emulator = if external.is_none() {
        let cfg = gsms_emulator::Config {
            servers_per_title: 1,
            server_lifetime: Duration::from_millis(2500),
            poll_interval_ms: 500,
            udp_echo: true,
            ..Default::default()
        };
        Some(gsms_emulator::Emulator::start(cfg).expect("start the emulator"))
    } else {
        None
    };
    let base_url = external.unwrap_or_else(|| emulator.as_ref().expect("started").base_url());
    let token = std::env::var("GSMS_TOKEN").unwrap_or_else(|_| "XBL3.0 x=demo-user;demo-token".into());
    let title: u32 = std::env::var("GSMS_TITLE_ID").ok().and_then(|t| t.parse().ok()).unwrap_or(123456789);
    let session = std::env::var("GSMS_SESSION_ID").unwrap_or_else(|_| {
        "/serviceconfigs/00000000-0000-0000-0000-000000000000/sessionTemplates/quick/sessions/demo-match".into()
    });
    println!("libgsms {} demo: service at {base_url}", env!("CARGO_PKG_VERSION"));

    let mut cfg = Config::default();
    cfg.set_base_url(&base_url).expect("base URL");
    cfg.set_auth_token(&token).expect("token");
    cfg.set_user_agent("gsms-demo/1.0").expect("user agent");
    cfg.callback_mode = CallbackMode::OnDispatch;
    cfg.log = Some((Arc::new(|_, m: &str| eprintln!("  [gsms] {m}")), LogLevel::Warn));
    let client = Client::new(&cfg).expect("client");

    if emulator.is_some() {
        // Another match holds the only server for a moment, so ours is queued.
        let mut other = ClusterRequest::new(title);
        other.set_session_id(&session.replace("demo-match", "other-match")).expect("session");
        let r = client.call_blocking(CreateCluster::new(&other), None);
        println!("another match took the only server ({:?}); ours will wait in the queue", r.fulfillment_state);
    }

    let mut req = ClusterRequest::new(title);
    req.set_session_id(&session).expect("session id");
    println!("allocating a server for title {title}, session {session}");
    let done = Arc::new(Mutex::new(None));
    let d2 = Arc::clone(&done);
    let started = Instant::now();
    client
        .start(
            AllocateCluster::new(&req),
            Some(Instant::now() + Duration::from_secs(30)),
            Some(Box::new(move |r| {
                println!(
                    "  {:>5} ms  Queued (next poll in {} ms, correlation id {})",
                    started.elapsed().as_millis(),
                    r.poll_interval_ms,
                    r.correlation_id
                )
            })),
            Some(Box::new(move |s, r| *d2.lock().unwrap() = Some((s, r.cloned())))),
        )
        .expect("start");

    // The game loop: one dispatch per frame, ~60 frames a second.
    let (status, result) = loop {
        client.dispatch(0);
        if let Some(v) = done.lock().unwrap().take() {
            break v;
        }
        std::thread::sleep(Duration::from_millis(16));
    };
    let Some(r) = result else {
        eprintln!("allocation failed: {status:?}");
        std::process::exit(1);
    };
    if status != Status::Ok || r.fulfillment_state != FulfillmentState::Fulfilled {
        eprintln!("allocation ended with {status:?} / {:?}: {}", r.fulfillment_state, r.error_message);
        std::process::exit(1);
    }
    println!("  {:>5} ms  Fulfilled after {} requests", started.elapsed().as_millis(), r.attempts);
    println!("server: {} (region {})", r.host_name, r.region);
    for p in &r.ports {
        println!("  port {:<10} internal {:>5} -> external {:>5}", p.name, p.internal, p.external);
    }
    if let Some(game) = r.ports.iter().find(|p| p.name == "GameData") {
        println!("connect your game to {}:{}", r.host_name, game.external);
        if emulator.is_some() {
            // The emulator's simulated server echoes UDP: prove the answer is usable.
            let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
            sock.set_read_timeout(Some(Duration::from_secs(2))).ok();
            sock.send_to(b"hello from the demo", (r.host_name.as_str(), game.external as u16)).expect("send");
            let mut buf = [0u8; 64];
            if let Ok((n, _)) = sock.recv_from(&mut buf) {
                println!("game server echoed: {}", String::from_utf8_lossy(&buf[..n]));
            }
        }
    }
    client.shutdown();
}
