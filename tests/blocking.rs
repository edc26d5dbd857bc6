//! The blocking core client against the emulator over real loopback HTTP: every status path.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use gsms::core::TokenProvider;

#[test]
fn fulfilled_answer_carries_where_to_connect() {
    let emu = emulator(|_| {});
    let client = Client::new(&config(&emu)).unwrap();
    let r = create(&client, &request("fulfilled"));
    assert_eq!(r.status, Status::Ok, "{}", r.error_message);
    assert_eq!(r.fulfillment_state, FulfillmentState::Fulfilled);
    assert_eq!(r.host_name, "127.0.0.1");
    assert_eq!(r.region, "EmulatedWest");
    assert!(!r.secure_context.is_empty());
    let game = r.ports.iter().find(|p| p.name == "GameData").expect("GameData port");
    assert_eq!(game.internal, 7777);
    assert!(r.ports.iter().any(|p| p.name == "RDP" && p.internal == 3389));
    assert_eq!(r.http_status, 200);
    assert_eq!(r.attempts, 1);
    assert!(!r.correlation_id.is_empty());
    assert!(r.raw_json.contains("\"fulfillmentState\""));
    assert_eq!(r.error_message, "");
}

#[test]
fn request_on_the_wire_matches_the_protocol() {
    let emu = emulator(|_| {});
    let mut cfg = config(&emu);
    cfg.set_user_agent("MyGame/1.2").unwrap();
    let client = Client::new(&cfg).unwrap();
    let mut req = request("wire");
    req.abort_if_queued = true;
    assert_eq!(create(&client, &req).status, Status::Ok);
    create(&client, &request("wire2"));
    let seen = emu.requests();
    assert_eq!(seen.len(), 2);
    let r = &seen[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, format!("/titles/{TITLE}/clusters"));
    assert_eq!(r.header("x-xbl-contract-version"), Some("1"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("authorization"), Some(TOKEN));
    assert_eq!(r.header("user-agent"), Some(&*format!("gsms/{} MyGame/1.2", env!("CARGO_PKG_VERSION"))));
    assert_eq!(r.header("content-length"), Some(&*r.body.len().to_string()));
    let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["sessionId"], session("wire"));
    assert_eq!(body["abortIfQueued"], true);
    let body2: serde_json::Value = serde_json::from_slice(&seen[1].body).unwrap();
    assert!(body2.get("abortIfQueued").is_none(), "left out unless set");
}

#[test]
fn allocate_follows_queued_until_fulfilled_and_reports_progress() {
    let emu = emulator(|c| c.servers_per_title = 1);
    let mut cfg = config(&emu);
    let logs = capture_logs(&mut cfg, LogLevel::Info);
    let client = Client::new(&cfg).unwrap();
    assert_eq!(create(&client, &request("holder")).fulfillment_state, FulfillmentState::Fulfilled);
    let emu = Arc::new(emu);
    let e2 = Arc::clone(&emu);
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(350));
        e2.release_all(TITLE);
    });
    let mut progress = Vec::new();
    let mut on_progress = |r: &ClusterResult| progress.push(r.fulfillment_state);
    let r = client.allocate_cluster_with_progress(&request("waiter"), &CallOptions::default(), &mut on_progress);
    releaser.join().unwrap();
    assert_eq!(r.status, Status::Ok, "{}", r.error_message);
    assert_eq!(r.fulfillment_state, FulfillmentState::Fulfilled);
    assert!(progress.len() >= 2, "polled while queued: {progress:?}");
    assert!(progress.iter().all(|s| *s == FulfillmentState::Queued));
    assert_eq!(r.attempts as usize, progress.len() + 1);
    // Each wait is logged naming what is followed: the POST to the clusters resource.
    let waits: Vec<String> = logs.lock().unwrap().iter().filter(|l| l.contains("polling again")).cloned().collect();
    let named = format!("POST /titles/{TITLE}/clusters: not final yet");
    assert!(
        waits.len() == progress.len() && waits.iter().all(|l| l.starts_with(&named)),
        "{waits:?} (expected {named:?})"
    );
}

#[test]
fn abort_if_queued_answers_aborted_as_success() {
    let emu = emulator(|c| c.servers_per_title = 1);
    let client = Client::new(&config(&emu)).unwrap();
    create(&client, &request("holder"));
    let mut req = request("impatient");
    req.abort_if_queued = true;
    let r = client.allocate_cluster(&req, &CallOptions::default());
    assert_eq!(r.status, Status::Ok);
    assert_eq!(r.fulfillment_state, FulfillmentState::Aborted);
    assert_eq!(r.attempts, 1);
}

#[test]
fn allocate_deadline_while_queued_is_a_timeout_with_the_last_answer() {
    let emu = emulator(|c| c.servers_per_title = 1);
    let client = Client::new(&config(&emu)).unwrap();
    create(&client, &request("holder"));
    let t = Instant::now();
    let opts = CallOptions { deadline: Some(Instant::now() + Duration::from_millis(450)), ..Default::default() };
    let r = client.allocate_cluster(&request("late"), &opts);
    assert_eq!(r.status, Status::Timeout);
    assert_eq!(r.fulfillment_state, FulfillmentState::Queued);
    assert!(ms(t.elapsed()) < 1500, "{:?}", t.elapsed());
    assert!(r.attempts >= 2);
}

#[test]
fn static_token_401_is_final_at_once() {
    let emu = emulator(|c| c.revoked_tokens = vec![TOKEN.to_string()]);
    let client = Client::new(&config(&emu)).unwrap();
    let r = create(&client, &request("s"));
    assert_eq!(r.status, Status::Unauthorized);
    assert_eq!(r.http_status, 401);
    assert_eq!(emu.request_count(), 1);
}

#[test]
fn missing_token_gets_401_with_a_hint() {
    let emu = emulator(|_| {});
    let mut cfg = config(&emu);
    cfg.auth_token = None;
    let client = Client::new(&cfg).unwrap();
    let r = create(&client, &request("s"));
    assert_eq!(r.status, Status::Unauthorized);
    assert!(r.error_message.contains("no Authorization configured"), "{}", r.error_message);
    assert!(emu.requests()[0].header("authorization").is_none());
}

struct Provider {
    calls: Mutex<Vec<bool>>,
    tokens: Vec<&'static str>,
}

impl TokenProvider for Provider {
    fn token(&self, force: bool) -> Result<String, String> {
        let mut c = self.calls.lock().unwrap();
        c.push(force);
        let t = self.tokens.get(c.len() - 1).or(self.tokens.last()).unwrap();
        if t.is_empty() {
            Err("no token today".into())
        } else {
            Ok(t.to_string())
        }
    }
}

#[test]
fn provider_401_refreshes_once_and_resends() {
    let emu = emulator(|c| c.revoked_tokens = vec!["XBL3.0 x=u;expired".into()]);
    let mut cfg = config(&emu);
    let p = Arc::new(Provider { calls: Mutex::new(vec![]), tokens: vec!["XBL3.0 x=u;expired", "XBL3.0 x=u;fresh"] });
    cfg.token_provider = Some(p.clone());
    let client = Client::new(&cfg).unwrap();
    let r = create(&client, &request("p"));
    assert_eq!(r.status, Status::Ok, "{}", r.error_message);
    assert_eq!(*p.calls.lock().unwrap(), vec![false, true]);
    assert_eq!(r.attempts, 2);
    assert_eq!(emu.requests()[1].header("authorization"), Some("XBL3.0 x=u;fresh"));
}

#[test]
fn provider_second_401_is_final() {
    let emu = emulator(|c| c.revoked_tokens = vec!["XBL3.0 x=u;expired".into()]);
    let mut cfg = config(&emu);
    let p = Arc::new(Provider { calls: Mutex::new(vec![]), tokens: vec!["XBL3.0 x=u;expired"] });
    cfg.token_provider = Some(p.clone());
    let client = Client::new(&cfg).unwrap();
    let r = create(&client, &request("p"));
    assert_eq!(r.status, Status::Unauthorized);
    assert_eq!(emu.request_count(), 2);
    assert_eq!(*p.calls.lock().unwrap(), vec![false, true]);
}

#[test]
fn provider_failure_sends_nothing() {
    let emu = emulator(|_| {});
    let mut cfg = config(&emu);
    cfg.token_provider = Some(Arc::new(Provider { calls: Mutex::new(vec![]), tokens: vec![""] }));
    let client = Client::new(&cfg).unwrap();
    let r = create(&client, &request("p"));
    assert_eq!(r.status, Status::AuthProvider);
    assert!(r.error_message.contains("no token today"));
    assert_eq!(emu.request_count(), 0);
}

#[test]
fn forbidden_title_is_final_and_not_retried() {
    let emu = emulator(|c| c.allowed_titles = vec![1]);
    let client = Client::new(&config(&emu)).unwrap();
    let r = create(&client, &request("f"));
    assert_eq!(r.status, Status::Forbidden);
    assert_eq!(r.http_status, 403);
    assert_eq!(emu.request_count(), 1);
}

#[test]
fn other_statuses_are_final_with_message_and_correlation_id() {
    let emu = emulator(|_| {});
    emu.add_fault(FaultRule::http_status(409).with_times(1));
    let client = Client::new(&config(&emu)).unwrap();
    let r = create(&client, &request("c"));
    assert_eq!(r.status, Status::HttpStatus);
    assert_eq!(r.http_status, 409);
    assert!(r.error_message.starts_with("HTTP 409"), "{}", r.error_message);
    assert!(!r.correlation_id.is_empty());
    assert_eq!(emu.request_count(), 1);
    // A malformed session id: the emulator's 400 with its message.
    let mut bad = ClusterRequest::new(TITLE);
    bad.set_session_id("not-a-session-path").unwrap();
    let r = create(&client, &bad);
    assert_eq!(r.status, Status::HttpStatus);
    assert_eq!(r.http_status, 400);
    assert!(r.error_message.len() > "HTTP 400".len(), "{}", r.error_message);
}

#[test]
fn retryable_statuses_are_retried_then_succeed() {
    for status in [408u16, 429, 500, 502, 503, 504] {
        let emu = emulator(|_| {});
        emu.add_fault(FaultRule::http_status(status).with_times(2));
        let client = Client::new(&config(&emu)).unwrap();
        let r = create(&client, &request("r"));
        assert_eq!(r.status, Status::Ok, "{status}: {}", r.error_message);
        assert_eq!(r.attempts, 3, "{status}");
        assert_eq!(emu.request_count(), 3);
    }
}

#[test]
fn retries_exhausted_after_the_budget() {
    let emu = emulator(|_| {});
    emu.add_fault(FaultRule::http_status(503).with_retry_after("0"));
    let client = Client::new(&config(&emu)).unwrap();
    let r = create(&client, &request("r"));
    assert_eq!(r.status, Status::RetriesExhausted);
    assert_eq!(r.http_status, 503);
    assert_eq!(r.attempts, 4);
    assert_eq!(emu.request_count(), 4);
}

#[test]
fn retry_after_beyond_max_delay_ends_at_once() {
    let emu = emulator(|_| {});
    emu.add_fault(FaultRule::http_status(503).with_retry_after("100000"));
    let client = Client::new(&config(&emu)).unwrap();
    let t = Instant::now();
    let r = create(&client, &request("r"));
    assert_eq!(r.status, Status::RetriesExhausted);
    assert_eq!(r.retry_after_ms, 100_000_000);
    assert_eq!(r.attempts, 1);
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[test]
fn retry_after_is_honoured_in_seconds_and_as_a_date() {
    let emu = emulator(|_| {});
    emu.add_fault(FaultRule::http_status(429).with_retry_after("1").with_times(1));
    let mut cfg = config(&emu);
    cfg.set_retry_policy(3, 1, 5000).unwrap();
    let client = Client::new(&cfg).unwrap();
    let t = Instant::now();
    let r = create(&client, &request("r"));
    assert_eq!(r.status, Status::Ok);
    assert!(t.elapsed() >= Duration::from_millis(1000), "waited {:?}", t.elapsed());
    assert_eq!(r.retry_after_ms, 0, "the last answer had none");

    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(3600));
    emu.add_fault(FaultRule::http_status(503).with_retry_after(date).with_times(1));
    let r = create(&client, &request("r2"));
    assert_eq!(r.status, Status::RetriesExhausted, "an hour is beyond max delay");
    assert!(r.retry_after_ms > 3_500_000, "{}", r.retry_after_ms);
}

#[test]
fn retry_after_past_the_deadline_ends_at_once() {
    let emu = emulator(|_| {});
    emu.add_fault(FaultRule::http_status(503).with_retry_after("3"));
    let mut cfg = config(&emu);
    cfg.set_retry_policy(4, 10, 10_000).unwrap();
    let client = Client::new(&cfg).unwrap();
    let t = Instant::now();
    let opts = CallOptions { deadline: Some(Instant::now() + Duration::from_secs(1)), ..Default::default() };
    let r = client.allocate_cluster(&request("d"), &opts);
    assert_eq!(r.status, Status::RetriesExhausted);
    assert!(t.elapsed() < Duration::from_millis(900));
}

#[test]
fn dropped_connections_are_retried() {
    let emu = emulator(|_| {});
    emu.add_fault(FaultRule::dropped_connection().with_times(2));
    let client = Client::new(&config(&emu)).unwrap();
    let r = create(&client, &request("d"));
    assert_eq!(r.status, Status::Ok, "{}", r.error_message);
    assert_eq!(r.attempts, 3);
}

#[test]
fn connections_that_keep_failing_are_a_network_error() {
    let emu = emulator(|_| {});
    emu.add_fault(FaultRule::dropped_connection());
    let client = Client::new(&config(&emu)).unwrap();
    let r = create(&client, &request("d"));
    assert_eq!(r.status, Status::Network);
    assert_eq!(r.attempts, 4);
    assert_eq!(r.http_status, 0);

    // Nothing listening at all.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut cfg = config(&emu);
    cfg.set_base_url(&format!("http://127.0.0.1:{port}")).unwrap();
    let r = create(&Client::new(&cfg).unwrap(), &request("d"));
    assert_eq!(r.status, Status::Network);
    assert!(!r.error_message.is_empty());
}

#[test]
fn slow_answers_hit_the_request_timeout() {
    let emu = emulator(|_| {});
    emu.add_fault(FaultRule::latency(1500));
    let mut cfg = config(&emu);
    cfg.set_timeouts(1000, 300).unwrap();
    let client = Client::new(&cfg).unwrap();
    let t = Instant::now();
    let r = create(&client, &request("t"));
    assert_eq!(r.status, Status::Timeout, "{}", r.error_message);
    assert!(t.elapsed() < Duration::from_millis(1200), "{:?}", t.elapsed());
    assert_eq!(r.attempts, 1, "a timeout is not retried");
}

#[test]
fn a_request_without_session_sends_nothing() {
    let emu = emulator(|_| {});
    let client = Client::new(&config(&emu)).unwrap();
    let r = create(&client, &ClusterRequest::new(TITLE));
    assert_eq!(r.status, Status::InvalidArgument);
    assert!(r.error_message.contains("session id"));
    assert_eq!(emu.request_count(), 0);
}

#[test]
fn logs_one_line_per_attempt_and_never_the_token() {
    let emu = emulator(|_| {});
    emu.add_fault(FaultRule::http_status(503).with_times(1));
    let mut cfg = config(&emu);
    let lines = capture_logs(&mut cfg, LogLevel::Trace);
    let client = Client::new(&cfg).unwrap();
    let r = create(&client, &request("log"));
    assert_eq!(r.status, Status::Ok);
    let lines = lines.lock().unwrap();
    let attempts: Vec<_> = lines.iter().filter(|l| l.starts_with("POST /titles/") && l.contains(" -> ")).collect();
    assert_eq!(attempts.len(), 2, "{lines:#?}");
    assert!(attempts[0].contains("503") && attempts[1].contains("200"));
    assert!(attempts[1].contains(&r.correlation_id));
    assert!(lines.iter().any(|l| l.contains("retrying in")));
    for l in lines.iter() {
        assert!(!l.contains("secret-token-value") && !l.contains(TOKEN), "{l}");
    }
}

#[test]
fn the_attempt_log_line_gives_the_attempt_time_in_milliseconds() {
    let emu = emulator(|_| {});
    emu.add_fault(FaultRule::latency(200));
    let mut cfg = config(&emu);
    let lines = capture_logs(&mut cfg, LogLevel::Debug);
    let client = Client::new(&cfg).unwrap();
    let t = Instant::now();
    assert_eq!(create(&client, &request("log-ms")).status, Status::Ok);
    let whole_call = t.elapsed().as_secs_f64() * 1e3;
    let lines = lines.lock().unwrap();
    let line =
        lines.iter().find(|l| l.starts_with("POST /titles/") && l.contains(" -> 200 in ")).expect("attempt line");
    let ms: f64 = line.split(" -> 200 in ").nth(1).and_then(|t| t.split(" ms").next()).unwrap().parse().unwrap();
    // At least the answer's 200 ms, and no more than the whole call took (seconds read as
    // milliseconds, or a unit added rather than multiplied, would break one or the other).
    assert!(
        ms >= 190.0 && ms <= whole_call,
        "a 200 ms answer (the call took {whole_call:.1} ms) logged as {ms} ms: {line}"
    );
}

#[test]
fn config_debug_shows_the_settings_but_never_the_token() {
    let emu = emulator(|_| {});
    let cfg = config(&emu);
    let d = format!("{cfg:?}");
    assert!(d.contains("127.0.0.1") && d.contains("auth_token: Some(\"<set>\")"), "{d}");
    assert!(!d.contains("secret-token-value"), "{d}");
}

#[test]
fn log_level_filters_lines() {
    let emu = emulator(|_| {});
    let mut cfg = config(&emu);
    let lines = capture_logs(&mut cfg, LogLevel::Warn);
    let client = Client::new(&cfg).unwrap();
    create(&client, &request("quiet"));
    assert!(lines.lock().unwrap().is_empty());
}

#[test]
fn token_swap_applies_to_later_requests() {
    let emu = emulator(|_| {});
    let client = Client::new(&config(&emu)).unwrap();
    client.set_auth_token("XBL3.0 x=9;new").unwrap();
    assert!(client.set_auth_token("XBL3.0 x=9;bad\r\nX-Evil: 1").is_err());
    create(&client, &request("swap"));
    assert_eq!(emu.requests()[0].header("authorization"), Some("XBL3.0 x=9;new"));
}

#[test]
fn connections_are_reused() {
    let emu = emulator(|_| {});
    let client = Client::new(&config(&emu)).unwrap();
    for i in 0..5 {
        assert_eq!(create(&client, &request(&format!("k{i}"))).status, Status::Ok);
    }
    assert_eq!(emu.connections_accepted(), 1, "five calls over one pooled keep-alive connection");
}

#[test]
fn repeated_post_for_a_session_is_idempotent() {
    let emu = emulator(|c| c.servers_per_title = 1);
    let client = Client::new(&config(&emu)).unwrap();
    let a = create(&client, &request("same"));
    let b = create(&client, &request("same"));
    assert_eq!(a.fulfillment_state, FulfillmentState::Fulfilled);
    assert_eq!(b.fulfillment_state, FulfillmentState::Fulfilled);
    assert_eq!(a.ports, b.ports);
    assert_eq!(a.secure_context, b.secure_context);
}

#[test]
fn https_needs_the_ca_bundle() {
    let (tls, ca_pem) = gsms_emulator::generate_test_tls();
    let emu = emulator(|c| c.tls = Some(tls));
    assert!(emu.base_url().starts_with("https://localhost:"));
    let dir = std::env::temp_dir().join(format!("gsms-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &ca_pem).unwrap();

    let untrusted = Client::new(&config(&emu)).unwrap();
    let r = create(&untrusted, &request("tls"));
    assert_eq!(r.status, Status::Network, "an unknown CA is refused");
    assert_eq!(emu.request_count(), 0);

    let mut cfg = config(&emu);
    cfg.set_ca_bundle_path(ca.to_str().unwrap()).unwrap();
    let r = create(&Client::new(&cfg).unwrap(), &request("tls"));
    assert_eq!(r.status, Status::Ok, "{}", r.error_message);
    assert_eq!(r.fulfillment_state, FulfillmentState::Fulfilled);

    let mut bad = Config::default();
    assert!(bad.set_ca_bundle_path(dir.join("missing.pem").to_str().unwrap()).is_err());
    std::fs::write(dir.join("empty.pem"), "hello").unwrap();
    assert!(bad.set_ca_bundle_path(dir.join("empty.pem").to_str().unwrap()).is_err());
}

#[test]
fn a_large_https_answer_spans_many_tls_records_and_the_connection_is_kept() {
    // 2,000 port mappings: an answer of about 130 KB, so many TLS records, some of them split
    // across socket reads.
    let (tls, ca_pem) = gsms_emulator::generate_test_tls();
    let emu = emulator(|c| {
        c.tls = Some(tls);
        c.port_mappings = (0..2000)
            .map(|i| gsms_emulator::PortMapping {
                name: format!("Port{i}"),
                internal: gsms_emulator::PortValue::Fixed(1000 + i as u16),
                external: gsms_emulator::PortValue::Fixed(30000 + i as u16),
            })
            .collect();
    });
    let dir = std::env::temp_dir().join(format!("gsms-ca-large-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &ca_pem).unwrap();
    let mut cfg = config(&emu);
    cfg.set_ca_bundle_path(ca.to_str().unwrap()).unwrap();
    let client = Client::new(&cfg).unwrap();
    for i in 0..3 {
        let r = create(&client, &request("tls-large"));
        assert_eq!(r.status, Status::Ok, "call {i}: {}", r.error_message);
        assert!(r.raw_json.len() > 100_000, "call {i}: {} bytes", r.raw_json.len());
        assert_eq!(r.ports.len(), 2000, "call {i}");
        assert_eq!(r.ports[1999].external, 31999, "call {i}");
    }
}

#[test]
fn provider_is_asked_before_every_attempt() {
    let emu = emulator(|_| {});
    emu.add_fault(FaultRule::http_status(500).with_times(1));
    let mut cfg = config(&emu);
    struct Count(AtomicU32);
    impl TokenProvider for Count {
        fn token(&self, _: bool) -> Result<String, String> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok("XBL3.0 x=c;t".into())
        }
    }
    let p = Arc::new(Count(AtomicU32::new(0)));
    cfg.token_provider = Some(p.clone());
    let r = create(&Client::new(&cfg).unwrap(), &request("c"));
    assert_eq!(r.status, Status::Ok);
    assert_eq!(p.0.load(Ordering::SeqCst), 2);
}
