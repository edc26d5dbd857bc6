//! The `gsms-emulator` binary: its command line, configuration file, logs, port clash and
//! signals.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_gsms-emulator");

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("gsms-emulator.example.toml")
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gsms-emu-bin-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Starts the binary and reads its "listening on" line; (child, host:port).
fn spawn(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(BIN).args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line
        .trim_end()
        .strip_prefix("gsms-emulator listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    (child, url.strip_prefix("http://").unwrap().to_string())
}

/// One request with Connection: close; (status, headers and body as text).
fn http(hostport: &str, method: &str, path: &str, contract: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(hostport).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nx-xbl-contract-version: {contract}\r\n\
         Authorization: XBL3.0 x=1;secret-token\r\nConnection: close\r\n"
    );
    if method != "GET" {
        req.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, answer)
}

fn body_json(answer: &str) -> Value {
    serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap()
}

fn header<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
    answer.split("\r\n\r\n").next()?.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn stop(mut child: Child) -> String {
    child.kill().unwrap();
    child.wait().unwrap();
    let mut log = String::new();
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    log
}

fn print_config(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn help_lists_every_flag_and_the_body_of_each_call() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--config",
        "--print-config",
        "--bind",
        "--titles",
        "--servers",
        "--lifetime-secs",
        "--poll-ms",
        "--poll-as-number",
        "--region",
        "--host-name",
        "--revoked-token",
        "--fault",
        "--latency-ms",
        "--drop-rate",
        "--udp-echo",
        "--session-hosts",
        "--activation-ms",
        "--no-subscriptions",
        "--variants",
        "--error-body",
        "--rate-limit",
        "--qos-pending-limit",
        "--quirks",
        "--quirks-seed",
        "call=NAME",
        "--tls-cert",
        "--tls-key",
        "--log-format",
        "--quiet",
        "--help",
        "--version",
    ] {
        assert!(help.contains(flag), "--help does not mention {flag}");
    }
    for call in gsms_emulator::CALLS {
        assert!(help.contains(call), "--help does not name the call {call}");
    }
    // The body of each call, by its fields and paths.
    for body in [
        "POST /titles/{titleId}/clusters",
        "\"sessionId\": \"/serviceconfigs/<scid>/sessionTemplates/<template>/sessions/<name>\"",
        "\"abortIfQueued\"",
        "POST /titles/{titleId}/inlineclusters",
        "\"gsiSetId\"",
        "\"gameVariantId\"",
        "\"maxAllowedPlayers\": 8",
        "GET  /titles/{titleId}/tickets/{ticketId}/status",
        "POST /titles/{titleId}/variants",
        "\"publisherOnly\"",
        "GET  /qosservers, GET /xplatqosservers",
        "POST /titles/{titleId}/sessionhosts",
        "\"cloudGameId\"",
        "\"locations\": [\"West US\"]",
        "/sessions/{sessionId}/allocationStatus",
        "contract 8",
        "x-xbl-contract-version",
        "\"portMappings\"",
    ] {
        assert!(help.contains(body), "--help does not show {body:?}");
    }
    for admin in [
        "/_emulator/ui",
        "/_emulator/tickets/",
        "/_emulator/variants",
        "/_emulator/regions/",
        "/_emulator/subscriptions/",
        "/_emulator/sessionhosts/release",
        "/_emulator/sessions/",
        "\"event\":\"request\"",
        "gsms-emulator.example.toml",
    ] {
        assert!(help.contains(admin), "--help does not mention {admin}");
    }
    let short = String::from_utf8(Command::new(BIN).arg("-h").output().unwrap().stdout).unwrap();
    assert!(short.contains("--config") && short.contains("see more with '--help'"), "{short}");
    let version = String::from_utf8(Command::new(BIN).arg("--version").output().unwrap().stdout).unwrap();
    assert_eq!(version.trim(), format!("gsms-emulator {}", env!("CARGO_PKG_VERSION")));
    let bad = Command::new(BIN).arg("--bogus").output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--bogus"));
}

#[test]
fn prints_its_url_and_logs_requests_with_timestamps() {
    let (child, hostport) = spawn(&[
        "--bind",
        "127.0.0.1:0",
        "--fault",
        "503:retry-after=3:times=1:call=clusters",
        "--region",
        "West US:delay=1",
        "--region",
        "East",
        "--error-body",
        "errorcode",
    ]);
    let body = r#"{"sessionId":"/serviceconfigs/a/sessionTemplates/t/sessions/bin"}"#;
    let (status, answer) = http(&hostport, "POST", "/titles/1/clusters", "1", body);
    assert_eq!(status, 503, "{answer}");
    assert_eq!(header(&answer, "Retry-After"), Some("3"));
    assert!(answer.contains(r#""errorCode":"ServiceUnavailable""#), "{answer}");
    let corr = header(&answer, "X-XblCorrelationId").unwrap().to_string();
    // The regions are the beacons listed by the discovery call.
    let (status, answer) = http(&hostport, "GET", "/xplatqosservers", "1", "");
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains(r#""targetLocation":"West US""#) && answer.contains(r#""targetLocation":"East""#));
    // Admin requests are not logged.
    assert_eq!(http(&hostport, "GET", "/_emulator/state", "1", "").0, 200);

    let log = stop(child);
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2, "{log}");
    let fields: Vec<&str> = lines[0].split(' ').collect();
    let ts = fields[0];
    assert!(ts.len() == 24 && ts.ends_with('Z') && ts.as_bytes()[10] == b'T' && ts.as_bytes()[19] == b'.', "{ts}");
    assert_eq!(&fields[1..4], ["POST", "/titles/1/clusters", "503"], "{}", lines[0]);
    assert!(fields[4].ends_with("ms"));
    assert_eq!(fields[5], "clusters");
    assert!(lines[0].contains(" title=1 "), "{}", lines[0]);
    assert!(lines[0].contains(" session=/serviceconfigs/a/sessionTemplates/t/sessions/bin "), "{}", lines[0]);
    assert!(lines[0].contains(" fault=503 "), "{}", lines[0]);
    assert!(lines[0].ends_with(&format!(" corr={corr}")), "{}", lines[0]);
    assert!(lines[1].contains(" GET /xplatqosservers 200 ") && lines[1].contains(" qosServers "), "{}", lines[1]);
    assert!(!lines[1].contains("fault="));
    assert!(!log.contains("secret-token"));
}

#[test]
fn json_log_lines_parse_and_hold_the_fields() {
    let (child, hostport) =
        spawn(&["--bind", "127.0.0.1:0", "--log-format", "json", "--fault", "429:times=1:call=ticketStatus"]);
    let s = r#"{"sessionId":"/serviceconfigs/a/sessionTemplates/t/sessions/j"}"#;
    let (_, a1) = http(&hostport, "POST", "/titles/7/clusters", "1", s);
    let inline = r#"{"serviceConfigId":"s","sandboxId":"X","ticketId":"tk-1","gsiSetId":"g","gameVariantId":"v","location":"EmulatedWest","maxAllowedPlayers":4}"#;
    let (_, a2) = http(&hostport, "POST", "/titles/7/inlineclusters", "2", inline);
    let (st, a3) = http(&hostport, "GET", "/titles/7/tickets/tk-1/status", "6", "");
    assert_eq!(st, 429);
    let (st, _) = http(&hostport, "GET", "/titles/7/tickets/tk-1/status", "6", "");
    assert_eq!(st, 200);
    let (st, _) = http(&hostport, "GET", "/nowhere", "1", "");
    assert_eq!(st, 404);
    let log = stop(child);
    let lines: Vec<Value> =
        log.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
    assert_eq!(lines.len(), 5, "{log}");
    for l in &lines {
        assert_eq!(l["event"], "request");
        let ts = l["timestamp"].as_str().unwrap();
        assert!(ts.ends_with('Z') && ts.len() == 24, "{ts}");
        assert!(l["latencyMs"].as_f64().unwrap() >= 0.0);
        assert_eq!(l["correlationId"].as_str().unwrap().len(), 36);
    }
    let corr = |a: &str| header(a, "X-XblCorrelationId").unwrap().to_string();
    assert_eq!(lines[0]["call"], "clusters");
    assert_eq!(lines[0]["title"], 7);
    assert_eq!(lines[0]["sessionId"], "/serviceconfigs/a/sessionTemplates/t/sessions/j");
    assert_eq!(lines[0]["status"], 200);
    assert_eq!(lines[0]["method"], "POST");
    assert_eq!(lines[0]["path"], "/titles/7/clusters");
    assert_eq!(lines[0]["fault"], Value::Null);
    assert_eq!(lines[0]["correlationId"].as_str().unwrap(), corr(&a1));
    assert_eq!((lines[1]["call"].as_str(), lines[1]["ticketId"].as_str()), (Some("inlineClusters"), Some("tk-1")));
    assert_eq!(lines[1]["correlationId"].as_str().unwrap(), corr(&a2));
    assert_eq!(lines[2]["call"], "ticketStatus");
    assert_eq!(lines[2]["ticketId"], "tk-1");
    assert_eq!(lines[2]["status"], 429);
    assert_eq!(lines[2]["fault"], "429");
    assert_eq!(lines[2]["correlationId"].as_str().unwrap(), corr(&a3));
    assert_eq!(lines[3]["fault"], Value::Null);
    assert_eq!(
        (lines[4]["call"].clone(), lines[4]["title"].clone(), lines[4]["status"].clone()),
        (Value::Null, Value::Null, 404.into())
    );
}

#[test]
fn a_taken_port_is_a_clear_error_naming_it() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = Command::new(BIN).args(["--bind", &addr]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "it printed {:?}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
    assert!(err.contains("another program (a second gsms-emulator?)") && err.contains("--bind 127.0.0.1:0"), "{err}");
    // Two instances side by side: port 0 gives each its own.
    let (a, ha) = spawn(&["--bind", "127.0.0.1:0", "--quiet"]);
    let (b, hb) = spawn(&["--bind", "127.0.0.1:0", "--quiet"]);
    assert_ne!(ha, hb);
    stop(a);
    stop(b);
}

#[test]
fn print_config_round_trips_and_flags_override_the_file() {
    let dir = temp_dir("print");
    let ex = example();
    let ex = ex.to_str().unwrap();
    let printed = print_config(&["--config", ex, "--print-config"]);
    assert!(printed.contains("bind = \"127.0.0.1:8080\"") && printed.contains("id = 2002"), "{printed}");
    let saved = dir.join("printed.toml");
    std::fs::write(&saved, &printed).unwrap();
    assert_eq!(print_config(&["--config", saved.to_str().unwrap(), "--print-config"]), printed);
    // JSON: the same configuration.
    let json = print_config(&["--config", ex, "--print-config", "json"]);
    let saved_json = dir.join("printed.json");
    std::fs::write(&saved_json, &json).unwrap();
    assert_eq!(print_config(&["--config", saved_json.to_str().unwrap(), "--print-config=toml"]), printed);
    // Flags win; a list flag replaces the file's list.
    let over = print_config(&[
        "--config",
        ex,
        "--bind",
        "127.0.0.1:0",
        "--servers",
        "5",
        "--region",
        "Only:delay=3",
        "--fault",
        "500:times=2",
        "--quiet",
        "--print-config",
    ]);
    let v: toml::Value = toml::from_str(&over).unwrap();
    assert_eq!(v["bind"].as_str(), Some("127.0.0.1:0"));
    assert_eq!(v["servers_per_title"].as_integer(), Some(5));
    assert_eq!(v["log"].as_str(), Some("off"));
    assert_eq!(v["region"].as_str(), Some("Only"));
    let regions = v["regions"].as_array().unwrap();
    assert_eq!(regions.len(), 1);
    assert_eq!(regions[0]["delay_ms"].as_float(), Some(3.0));
    let faults = v["faults"].as_array().unwrap();
    assert_eq!((faults.len(), faults[0]["status"].as_integer()), (1, Some(500)));
    // What the file set and no flag touched stays.
    assert_eq!(v["server_lifetime_secs"].as_float(), Some(300.0));
    assert_eq!(v["titles"].as_array().unwrap().len(), 2);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_malformed_config_file_names_file_line_and_field_and_nothing_starts() {
    let dir = temp_dir("bad");
    let path = dir.join("emu.toml");
    std::fs::write(&path, "bind = \"127.0.0.1:0\"\n\n[[regions]]\nname = \"West\"\njitter_ms = \"lots\"\n").unwrap();
    let out = Command::new(BIN).args(["--config", path.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "it started: {:?}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:5:13", path.display())), "{err}");
    assert!(err.contains("field `regions[0].jitter_ms`") && err.contains("invalid type"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| !s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
}

#[test]
fn sigterm_stops_the_game_servers_it_started() {
    let dir = temp_dir("sigterm");
    let path = dir.join("emu.toml");
    std::fs::write(
        &path,
        format!(
            "bind = \"127.0.0.1:0\"\nlog = \"json\"\n[[titles]]\nid = 5\n[[titles.servers]]\ncommand = [\"{BIN}\", \"--bind\", \"127.0.0.1:{{port}}\", \"--quiet\"]\n"
        ),
    )
    .unwrap();
    let (child, hostport) = spawn(&["--config", path.to_str().unwrap()]);
    let body = r#"{"sessionId":"/serviceconfigs/a/sessionTemplates/t/sessions/sig"}"#;
    let (status, answer) = http(&hostport, "POST", "/titles/5/clusters", "1", body);
    assert_eq!(status, 200, "{answer}");
    let port = body_json(&answer)["portMappings"][0]["Value"]["external"].as_u64().unwrap();
    let (_, st) = http(&hostport, "GET", "/_emulator/state", "1", "");
    let st = body_json(&st);
    let pid = st["titles"][0]["servers"][0]["process"]["pid"].as_u64().unwrap();
    assert!(alive(pid));
    assert!(TcpStream::connect(("127.0.0.1", port as u16)).is_ok());
    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let mut child = child;
    let end = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < end, "the emulator did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(pid), "the game server {pid} outlived the emulator");
    let mut log = String::new();
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    let events: Vec<String> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| v["event"].as_str().unwrap_or("").to_string())
        .collect();
    for e in ["serverStarted", "serverReady", "request", "serverStopped"] {
        assert!(events.iter().any(|x| x == e), "no {e} event in {log}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
