mod common;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use common::*;
use gsms_emulator::{Config, Emulator, FaultRule};
use serde_json::json;

fn start(cfg: Config) -> Emulator {
    Emulator::start(cfg).expect("emulator starts")
}

fn one_server() -> Emulator {
    start(Config { servers_per_title: 1, ..Config::default() })
}

#[test]
fn fulfilled_answer_shape_and_headers() {
    let emu = start(Config::default());
    assert!(emu.base_url().starts_with("http://127.0.0.1:"));
    let r = allocate(&emu, 1234, "shape");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert!(r.header("date").is_some_and(|d| d.ends_with("GMT")));
    let id = r.header("x-xblcorrelationid").expect("correlation id");
    assert_eq!(id.len(), 36);
    // Fields in the documentation's order.
    assert!(r.body.starts_with(br#"{"pollIntervalMilliseconds":"1000","fulfillmentState":"Fulfilled","hostName""#));
    let v = r.json();
    assert_eq!(v["pollIntervalMilliseconds"], json!("1000"));
    assert_eq!(v["fulfillmentState"], json!("Fulfilled"));
    assert_eq!(v["hostName"], json!("127.0.0.1"));
    assert_eq!(v["region"], json!("EmulatedWest"));
    assert_eq!(
        v["portMappings"],
        json!([
            {"Key": "GameData", "Value": {"internal": 7777, "external": 31000}},
            {"Key": "RDP", "Value": {"internal": 3389, "external": 3389}},
        ])
    );
    let ctx = v["secureContext"].as_str().unwrap();
    assert!(ctx.len() >= 16 && ctx.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)));

    // Second server of the pool: next port, another secure context, another correlation id.
    let r2 = allocate(&emu, 1234, "shape2");
    let v2 = r2.json();
    assert_eq!(v2["portMappings"][0]["Value"]["external"], json!(31001));
    assert_ne!(v2["secureContext"], v["secureContext"]);
    assert_ne!(r2.header("x-xblcorrelationid"), Some(id));
}

#[test]
fn poll_interval_as_number_and_custom_fields() {
    let emu = start(Config {
        poll_interval_ms: 250,
        poll_interval_as_number: true,
        region: "Here".into(),
        host_name: "10.0.0.7".into(),
        // Beacons bind the host name, which is not an address of this machine.
        regions: Vec::new(),
        ..Config::default()
    });
    let v = allocate(&emu, 1, "n").json();
    assert_eq!(v["pollIntervalMilliseconds"], json!(250));
    assert_eq!(v["region"], json!("Here"));
    assert_eq!(v["hostName"], json!("10.0.0.7"));
}

#[test]
fn queue_is_fifo_and_release_all_moves_it_up() {
    let emu = one_server();
    assert_eq!(allocate(&emu, 7, "a").state(), "Fulfilled");
    let q = allocate(&emu, 7, "b");
    assert_eq!(q.state(), "Queued");
    // Queued answers carry only the two fields.
    assert_eq!(q.json().as_object().unwrap().len(), 2);
    assert_eq!(q.json()["pollIntervalMilliseconds"], json!("1000"));
    assert_eq!(allocate(&emu, 7, "c").state(), "Queued");
    assert_eq!(allocate(&emu, 7, "b").state(), "Queued"); // not queued twice
                                                          // Another title has its own pool.
    assert_eq!(allocate(&emu, 8, "x").state(), "Fulfilled");

    emu.release_all(7);
    assert_eq!(allocate(&emu, 7, "c").state(), "Queued"); // b is ahead
    assert_eq!(allocate(&emu, 7, "b").state(), "Fulfilled");
    emu.release_all(7);
    assert_eq!(allocate(&emu, 7, "c").state(), "Fulfilled");
    assert_eq!(allocate(&emu, 8, "x").state(), "Fulfilled"); // untouched
                                                             // a's server was released: a asking again is a new session at the back.
    assert_eq!(allocate(&emu, 7, "a").state(), "Queued");
}

#[test]
fn abort_if_queued_as_bool_and_string() {
    let emu = one_server();
    let with = |name: &str, abort: serde_json::Value| {
        let body = json!({"sessionId": session(name), "abortIfQueued": abort}).to_string();
        post_json(&emu, 5, AUTH, &body)
    };
    // With a free server, abortIfQueued does not matter.
    assert_eq!(with("a", json!(true)).state(), "Fulfilled");
    let r = with("b", json!(true));
    assert_eq!(r.state(), "Aborted");
    assert_eq!(r.json().as_object().unwrap().len(), 2);
    assert_eq!(with("c", json!("true")).state(), "Aborted");
    assert_eq!(with("d", json!("false")).state(), "Queued");
    assert_eq!(with("e", json!(false)).state(), "Queued");
    // Aborted sessions were not stored: after a release, d (first in line) gets the server.
    emu.release_all(5);
    assert_eq!(allocate(&emu, 5, "b").state(), "Queued");
    assert_eq!(allocate(&emu, 5, "d").state(), "Fulfilled");
}

#[test]
fn repeats_are_idempotent_across_spellings() {
    let emu = start(Config::default());
    let first = allocate(&emu, 9, "same").json();
    for _ in 0..3 {
        let again = allocate(&emu, 9, "same").json();
        assert_eq!(again["portMappings"], first["portMappings"]);
        assert_eq!(again["secureContext"], first["secureContext"]);
    }
    // The documentation's spelling names the same session.
    let doc = json!({
        "sessionId": "/serviceconfigs/00000000-0000-0000-0000-000000000000/sessiontemplates/quick/session/same",
        "abortIfQueued": "true"
    });
    let v = post_json(&emu, 9, AUTH, &doc.to_string()).json();
    assert_eq!(v["fulfillmentState"], json!("Fulfilled"));
    assert_eq!(v["secureContext"], first["secureContext"]);
}

#[test]
fn unauthorized_missing_malformed_and_revoked() {
    let emu = start(Config { revoked_tokens: vec!["XBL3.0 x=u;expired".into()], ..Config::default() });
    let body = json!({"sessionId": session("s")}).to_string();
    let no_auth = request(
        &emu,
        "POST",
        "/titles/1/clusters",
        &[("x-xbl-contract-version", "1"), ("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(no_auth.status, 401);
    assert_eq!(no_auth.json()["code"], json!(401));
    assert!(no_auth.json()["description"].as_str().unwrap().contains("missing"));
    assert_eq!(no_auth.json()["source"], json!("gsms-emulator"));
    assert_eq!(no_auth.header("www-authenticate"), Some("XBL3.0"));
    assert!(no_auth.header("x-xblcorrelationid").is_some());
    for bad in ["Bearer abc", "XBL3.0 x=;token", "XBL3.0 x=hash;", "XBL3.0 x=hash", "XBL3.0 token", ""] {
        let r = post_json(&emu, 1, bad, &body);
        assert_eq!(r.status, 401, "{bad:?}");
        // The token never appears in the answer.
        assert!(bad.is_empty() || !String::from_utf8_lossy(&r.body).contains(bad));
    }
    assert_eq!(post_json(&emu, 1, "XBL3.0 x=u;expired", &body).status, 401);
    assert_eq!(post_json(&emu, 1, "XBL3.0 x=u;fresh", &body).status, 200);
}

#[test]
fn forbidden_title() {
    let emu = start(Config { allowed_titles: vec![100, 200], ..Config::default() });
    assert_eq!(allocate(&emu, 100, "s").status, 200);
    let r = allocate(&emu, 300, "s");
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["code"], json!(403));
    // Auth is checked before the title.
    let body = json!({"sessionId": session("s")}).to_string();
    assert_eq!(post_json(&emu, 300, "nope", &body).status, 401);
    // Allowed titles have their pools from the start; refused ones get none.
    let st = request(&emu, "GET", "/_emulator/state", &[], b"").json();
    let ids: Vec<u64> = st["titles"].as_array().unwrap().iter().map(|t| t["titleId"].as_u64().unwrap()).collect();
    assert_eq!(ids, vec![100, 200]);
}

#[test]
fn bad_requests() {
    let emu = start(Config::default());
    let good_body = json!({"sessionId": session("s")}).to_string();
    let post =
        |headers: &[(&str, &str)], body: &str| request(&emu, "POST", "/titles/1/clusters", headers, body.as_bytes());
    let h_ok =
        [("x-xbl-contract-version", "1"), ("Authorization", AUTH), ("Content-Type", "application/json; charset=utf-8")];
    assert_eq!(post(&h_ok, &good_body).status, 200);

    // Contract version.
    let r = post(&[("Authorization", AUTH), ("Content-Type", "application/json")], &good_body);
    assert_eq!(r.status, 400);
    assert!(r.json()["description"].as_str().unwrap().contains("x-xbl-contract-version"));
    let r = post(
        &[("x-xbl-contract-version", "2"), ("Authorization", AUTH), ("Content-Type", "application/json")],
        &good_body,
    );
    assert_eq!(r.status, 400);

    // Bodies.
    for body in [
        "",
        "{",
        "[]",
        "\"s\"",
        "{}",
        r#"{"sessionId":""}"#,
        r#"{"sessionId":42}"#,
        r#"{"sessionId":"not-a-session-path"}"#,
        r#"{"sessionId":"/serviceconfigs/x/sessionTemplates/t/sessions/"}"#,
    ] {
        let r = post(&h_ok, body);
        assert_eq!(r.status, 400, "{body:?}");
        assert_eq!(r.json()["code"], json!(400));
        assert!(!r.json()["description"].as_str().unwrap().is_empty());
    }
    let r = post(&h_ok, &json!({"sessionId": session("s"), "abortIfQueued": "maybe"}).to_string());
    assert_eq!(r.status, 400);

    // Content type.
    let r =
        post(&[("x-xbl-contract-version", "1"), ("Authorization", AUTH), ("Content-Type", "text/plain")], &good_body);
    assert_eq!(r.status, 415);

    // Too large.
    let big = format!("{{\"sessionId\":\"{}\",\"pad\":\"{}\"}}", session("s"), "x".repeat(70 * 1024));
    let r = post(&h_ok, &big);
    assert_eq!(r.status, 413);
    assert_eq!(r.header("connection"), Some("close"));

    // Path and method.
    let r = request(&emu, "POST", "/titles/abc/clusters", &h_ok, good_body.as_bytes());
    assert_eq!(r.status, 404);
    let r = request(&emu, "POST", "/titles/4294967296/clusters", &h_ok, good_body.as_bytes());
    assert_eq!(r.status, 404);
    let r = request(&emu, "GET", "/", &[], b"");
    assert_eq!(r.status, 404);
    let r = request(&emu, "GET", "/titles/1/clusters", &h_ok, b"");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST"));
}

#[test]
fn faults_with_times_and_retry_after() {
    let emu = start(Config::default());
    emu.add_fault(FaultRule::http_status(503).with_retry_after("2").with_times(2));
    for _ in 0..2 {
        let r = allocate(&emu, 1, "f");
        assert_eq!(r.status, 503);
        assert_eq!(r.header("retry-after"), Some("2"));
        assert_eq!(r.json()["code"], json!(503));
        assert!(r.header("x-xblcorrelationid").is_some());
    }
    let r = allocate(&emu, 1, "f");
    assert_eq!(r.status, 200);
    assert!(r.header("retry-after").is_none());
    assert_eq!(emu.request_count(), 3);
    let statuses: Vec<u16> = emu.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![503, 503, 200]);

    // Faults come before the checks of a call (here: no Authorization), but only for calls:
    // an unknown path, a wrong method or a warm-up HEAD / neither fire nor use up a rule.
    emu.add_fault(FaultRule::http_status(429).with_times(1));
    assert_eq!(request(&emu, "GET", "/nowhere", &[], b"").status, 404);
    assert_eq!(head(&emu, "/"), 404);
    assert_eq!(request(&emu, "GET", "/titles/1/clusters", &[], b"").status, 405);
    assert_eq!(request(&emu, "POST", "/titles/1/clusters", &[], b"").status, 429);
    assert_eq!(request(&emu, "POST", "/titles/1/clusters", &[], b"").status, 400);

    // Rules fire in order; an HTTP date is sent verbatim.
    let date = "Wed, 21 Oct 2015 07:28:00 GMT";
    emu.add_fault(FaultRule::http_status(500).with_times(1));
    emu.add_fault(FaultRule::http_status(429).with_retry_after(date).with_times(1));
    assert_eq!(allocate(&emu, 1, "f").status, 500);
    let r = allocate(&emu, 1, "f");
    assert_eq!((r.status, r.header("retry-after")), (429, Some(date)));
    assert_eq!(allocate(&emu, 1, "f").status, 200);

    // Probability 0 (and FaultRule::default()) never fire; clear_faults removes rules.
    emu.add_fault(FaultRule::http_status(500).with_probability(0.0));
    emu.add_fault(FaultRule { status: Some(500), ..FaultRule::default() });
    assert_eq!(allocate(&emu, 1, "f").status, 200);
    emu.add_fault(FaultRule::http_status(502));
    assert_eq!(allocate(&emu, 1, "f").status, 502);
    emu.clear_faults();
    assert_eq!(allocate(&emu, 1, "f").status, 200);
}

#[test]
fn latency_stacks_with_status() {
    let emu = start(Config { faults: vec![FaultRule::latency(150).with_times(1)], ..Config::default() });
    emu.add_fault(FaultRule::http_status(503).with_times(1));
    let t = Instant::now();
    assert_eq!(allocate(&emu, 1, "l").status, 503);
    assert!(t.elapsed() >= Duration::from_millis(150));
    let t = Instant::now();
    assert_eq!(allocate(&emu, 1, "l").status, 200);
    assert!(t.elapsed() < Duration::from_millis(150));
}

#[test]
fn drop_connection_sends_zero_bytes() {
    let emu = start(Config::default());
    emu.add_fault(FaultRule::dropped_connection().with_times(1));
    let mut c = Client::connect(&emu);
    let body = json!({"sessionId": session("d")}).to_string();
    c.send(
        "POST",
        "/titles/1/clusters",
        &[("x-xbl-contract-version", "1"), ("Authorization", AUTH), ("Content-Type", "application/json")],
        body.as_bytes(),
    );
    let t = Instant::now();
    assert!(c.read_to_end().is_empty());
    assert!(t.elapsed() < Duration::from_secs(2), "closed promptly");
    assert_eq!(emu.requests().last().unwrap().status, 0);
    assert_eq!(emu.request_count(), 1);
    assert_eq!(allocate(&emu, 1, "d").status, 200);
}

#[test]
fn keep_alive_serves_many_requests_on_one_connection() {
    let emu = one_server();
    let mut c = Client::connect(&emu);
    let headers = [("x-xbl-contract-version", "1"), ("Authorization", AUTH), ("Content-Type", "application/json")];
    let a = json!({"sessionId": session("a")}).to_string();
    let b = json!({"sessionId": session("b")}).to_string();
    c.send("POST", "/titles/1/clusters", &headers, a.as_bytes());
    let r1 = c.read().expect("first answer");
    assert_eq!(r1.state(), "Fulfilled");
    assert!(r1.header("connection").is_none());
    c.send("POST", "/titles/1/clusters", &headers, b.as_bytes());
    assert_eq!(c.read().expect("second answer").state(), "Queued");
    // Errors keep the connection too.
    c.send("POST", "/titles/1/clusters", &headers[1..], b.as_bytes());
    assert_eq!(c.read().expect("third answer").status, 400);
    // Pipelined: two requests in one write.
    let one = format!(
        "POST /titles/1/clusters HTTP/1.1\r\nHost: x\r\nx-xbl-contract-version: 1\r\n\
         Authorization: {AUTH}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{a}",
        a.len()
    );
    c.send_raw(format!("{one}{one}").as_bytes());
    assert_eq!(c.read().unwrap().state(), "Fulfilled");
    assert_eq!(c.read().unwrap().state(), "Fulfilled");
    // Connection: close is honoured.
    c.send(
        "POST",
        "/titles/1/clusters",
        &[
            ("x-xbl-contract-version", "1"),
            ("Authorization", AUTH),
            ("Content-Type", "application/json"),
            ("Connection", "close"),
        ],
        a.as_bytes(),
    );
    let last = c.read().unwrap();
    assert_eq!(last.header("connection"), Some("close"));
    assert!(c.read_to_end().is_empty());
    assert_eq!(emu.request_count(), 6);
}

#[test]
fn chunked_body_and_expect_continue() {
    let emu = start(Config::default());
    let body = json!({"sessionId": session("chunky")}).to_string();
    let (x, y) = body.split_at(10);
    let mut c = Client::connect(&emu);
    c.send_raw(
        format!(
            "POST /titles/1/clusters HTTP/1.1\r\nHost: x\r\nx-xbl-contract-version: 1\r\n\
             Authorization: {AUTH}\r\nContent-Type: application/json\r\n\
             Transfer-Encoding: chunked\r\n\r\n{:x}\r\n{x}\r\n{:x}\r\n{y}\r\n0\r\n\r\n",
            x.len(),
            y.len()
        )
        .as_bytes(),
    );
    assert_eq!(c.read().unwrap().state(), "Fulfilled");

    c.send_raw(
        format!(
            "POST /titles/1/clusters HTTP/1.1\r\nHost: x\r\nx-xbl-contract-version: 1\r\n\
             Authorization: {AUTH}\r\nContent-Type: application/json\r\n\
             Expect: 100-continue\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    let cont = c.read_interim();
    assert_eq!(cont, "HTTP/1.1 100 Continue");
    c.send_raw(body.as_bytes());
    assert_eq!(c.read().unwrap().state(), "Fulfilled");
}

#[test]
fn lifetime_releases_servers() {
    let emu = start(Config { servers_per_title: 1, server_lifetime: Duration::from_millis(200), ..Config::default() });
    assert_eq!(allocate(&emu, 3, "a").state(), "Fulfilled");
    assert_eq!(allocate(&emu, 3, "b").state(), "Queued");
    std::thread::sleep(Duration::from_millis(260));
    assert_eq!(allocate(&emu, 3, "b").state(), "Fulfilled");
    assert_eq!(allocate(&emu, 3, "a").state(), "Queued");
    std::thread::sleep(Duration::from_millis(260));
    // b's lease ended and a took the server; the state shows it.
    let st = request(&emu, "GET", "/_emulator/state", &[], b"").json();
    let server = &st["titles"][0]["servers"][0];
    assert!(server["sessionId"].as_str().unwrap().ends_with("/a"));
    assert!(server["remainingLifetimeMs"].as_u64().unwrap() <= 200);
}

#[test]
fn udp_echo_ports_answer() {
    let emu = start(Config { udp_echo: true, ..Config::default() });
    let v = allocate(&emu, 1, "u").json();
    let port = v["portMappings"][0]["Value"]["external"].as_u64().unwrap() as u16;
    assert_ne!(port, 31000);
    let v2 = allocate(&emu, 1, "u2").json();
    let port2 = v2["portMappings"][0]["Value"]["external"].as_u64().unwrap() as u16;
    assert_ne!(port, port2);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    for (p, msg) in [(port, &b"ping"[..]), (port2, &b"pong pong"[..])] {
        sock.send_to(msg, ("127.0.0.1", p)).unwrap();
        let mut buf = [0u8; 64];
        let (n, from) = sock.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], msg);
        assert_eq!(from.port(), p);
    }
    let t = Instant::now();
    emu.shutdown();
    assert!(t.elapsed() < Duration::from_secs(1));
    // The sockets are closed: the ports can be bound again.
    UdpSocket::bind(("127.0.0.1", port)).expect("port released");
}

#[test]
fn admin_api() {
    let emu = start(Config { servers_per_title: 1, ..Config::default() });
    allocate(&emu, 42, "a");
    allocate(&emu, 42, "b");
    let st = request(&emu, "GET", "/_emulator/state", &[], b"");
    assert_eq!(st.status, 200);
    assert_eq!(st.header("content-type"), Some("application/json"));
    let st = st.json();
    assert_eq!(st["requestCount"], json!(2));
    assert_eq!(st["titles"][0]["titleId"], json!(42));
    assert_eq!(st["titles"][0]["queue"], json!([session("b")]));
    assert!(st["titles"][0]["servers"][0]["remainingLifetimeMs"].as_u64().unwrap() > 50_000);

    // Faults over HTTP.
    let rule = json!({"status":503,"retryAfter":"1","latencyMs":0,"dropConnection":false,"times":2,"probability":1.0});
    let r = request(&emu, "POST", "/_emulator/faults", &[], rule.to_string().as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["faults"][0]["remaining"], json!(2));
    let r = request(&emu, "POST", "/_emulator/faults", &[], br#"{"status":429}"#);
    assert_eq!(r.json()["faults"][1]["probability"], json!(1.0));
    let r = request(&emu, "POST", "/_emulator/faults", &[], br#"{"stauts":429}"#);
    assert_eq!(r.status, 400);
    assert_eq!(allocate(&emu, 42, "a").status, 503);
    let r = request(&emu, "GET", "/_emulator/faults", &[], b"");
    assert_eq!(r.json()["faults"][0]["remaining"], json!(1));
    assert_eq!(request(&emu, "DELETE", "/_emulator/faults", &[], b"").status, 200);
    assert_eq!(allocate(&emu, 42, "a").state(), "Fulfilled");

    // Release over HTTP.
    let r = request(&emu, "POST", "/_emulator/release?title=42", &[], b"");
    assert_eq!(r.json()["released"], json!(1));
    assert_eq!(allocate(&emu, 42, "b").state(), "Fulfilled");
    assert_eq!(request(&emu, "POST", "/_emulator/release?title=x", &[], b"").status, 400);

    // Admin requests are neither counted nor recorded.
    let count = emu.request_count();
    request(&emu, "GET", "/_emulator/state", &[], b"");
    assert_eq!(emu.request_count(), count);
    assert!(emu.requests().iter().all(|r| !r.path.starts_with("/_emulator")));

    // Reset.
    emu.add_fault(FaultRule::http_status(500));
    assert_eq!(request(&emu, "POST", "/_emulator/reset", &[], b"").status, 200);
    assert_eq!(emu.request_count(), 0);
    assert!(emu.requests().is_empty());
    let st = request(&emu, "GET", "/_emulator/state", &[], b"").json();
    assert_eq!(st["faults"], json!([]));
    assert_eq!(st["titles"][0]["queue"], json!([]));
    assert_eq!(st["titles"][0]["servers"][0]["sessionId"], json!(null));

    assert_eq!(request(&emu, "GET", "/_emulator/nope", &[], b"").status, 404);
    assert_eq!(request(&emu, "PUT", "/_emulator/reset", &[], b"").status, 405);
}

#[test]
fn recorded_requests_keep_headers_and_body() {
    let emu = start(Config::default());
    allocate(&emu, 11, "rec");
    emu.reset();
    allocate(&emu, 11, "rec2");
    let recs = emu.requests();
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/titles/11/clusters");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("authorization"), Some(AUTH));
    assert!(String::from_utf8_lossy(&r.body).contains("rec2"));
}

#[test]
fn shutdown_closes_idle_connections_quickly() {
    let emu = start(Config::default());
    let addr = emu.addr();
    let mut idle = Client::connect(&emu);
    idle.send("GET", "/_emulator/state", &[], b"");
    assert_eq!(idle.read().unwrap().status, 200);
    // A request stuck in a long injected latency does not hold shutdown either.
    emu.add_fault(FaultRule::latency(10_000));
    let mut slow = Client::connect(&emu);
    slow.send("GET", "/x", &[], b"");
    std::thread::sleep(Duration::from_millis(50));
    let t = Instant::now();
    emu.shutdown();
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    assert!(idle.read_to_end().is_empty());
    assert!(std::net::TcpStream::connect(addr).is_err());
}

#[test]
fn concurrent_clients() {
    let emu = start(Config { servers_per_title: 4, ..Config::default() });
    std::thread::scope(|s| {
        for t in 0..8 {
            let emu = &emu;
            s.spawn(move || {
                let mut c = Client::connect(emu);
                let body = json!({"sessionId": session(&format!("c{t}"))}).to_string();
                for _ in 0..20 {
                    c.send(
                        "POST",
                        "/titles/1/clusters",
                        &[
                            ("x-xbl-contract-version", "1"),
                            ("Authorization", AUTH),
                            ("Content-Type", "application/json"),
                        ],
                        body.as_bytes(),
                    );
                    assert_eq!(c.read().unwrap().status, 200);
                }
            });
        }
    });
    assert_eq!(emu.request_count(), 160);
    let st = request(&emu, "GET", "/_emulator/state", &[], b"").json();
    assert_eq!(st["titles"][0]["queue"].as_array().unwrap().len(), 4);
}

#[test]
fn invalid_config_is_refused() {
    let bad_fault = Config { faults: vec![FaultRule::http_status(42)], ..Config::default() };
    assert!(Emulator::start(bad_fault).is_err());
    let bad_bind = Config { bind: "not an address".into(), ..Config::default() };
    assert!(Emulator::start(bad_bind).is_err());
    let bad_tls = Config {
        tls: Some(gsms_emulator::TlsConfig { cert_pem: b"nope".to_vec(), key_pem: b"nope".to_vec() }),
        ..Config::default()
    };
    assert!(Emulator::start(bad_tls).is_err());
}

#[test]
fn malformed_http_gets_400_and_close() {
    let emu = start(Config::default());
    let mut c = Client::connect(&emu);
    c.send_raw(b"THIS IS NOT HTTP\r\n\r\n");
    let r = c.read().expect("an answer");
    assert_eq!(r.status, 400);
    assert!(c.read_to_end().is_empty());
}
