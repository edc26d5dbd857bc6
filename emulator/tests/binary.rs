use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_gsms-emulator");

#[test]
fn help_lists_every_flag() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
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
        "--quiet",
        "--help",
        "--version",
    ] {
        assert!(help.contains(flag), "--help does not mention {flag}");
    }
    for call in gsms_emulator::CALLS {
        assert!(help.contains(call), "--help does not name the call {call}");
    }
    for admin in [
        "/_emulator/tickets/",
        "/_emulator/variants",
        "/_emulator/regions/",
        "/_emulator/subscriptions/",
        "/_emulator/sessionhosts/release",
        "/_emulator/sessions/",
    ] {
        assert!(help.contains(admin), "--help does not mention {admin}");
    }
    let bad = Command::new(BIN).arg("--bogus").output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn prints_its_url_and_logs_requests() {
    let mut child = Command::new(BIN)
        .args([
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
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line
        .trim_end()
        .strip_prefix("gsms-emulator listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    let hostport = url.strip_prefix("http://").unwrap();

    let body = r#"{"sessionId":"/serviceconfigs/a/sessionTemplates/t/sessions/bin"}"#;
    let mut s = TcpStream::connect(hostport).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let req = format!(
        "POST /titles/1/clusters HTTP/1.1\r\nHost: x\r\nx-xbl-contract-version: 1\r\n\
         Authorization: XBL3.0 x=1;secret-token\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 503 "), "{answer}");
    assert!(answer.contains("Retry-After: 3\r\n"));
    assert!(answer.contains(r#""errorCode":"ServiceUnavailable""#), "{answer}");

    // The regions are the beacons listed by the discovery call.
    let mut s = TcpStream::connect(hostport).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(
        b"GET /xplatqosservers HTTP/1.1\r\nHost: x\r\nx-xbl-contract-version: 1\r\n\
          Authorization: XBL3.0 x=1;secret-token\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    assert!(
        answer.contains(r#""targetLocation":"West US""#) && answer.contains(r#""targetLocation":"East""#),
        "{answer}"
    );

    child.kill().unwrap();
    child.wait().unwrap();
    let mut log = String::new();
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    let first = log.lines().next().expect("a log line");
    let fields: Vec<&str> = first.split(' ').collect();
    assert_eq!(&fields[..3], ["POST", "/titles/1/clusters", "503"], "{first}");
    assert!(fields[3].ends_with("ms"));
    assert_eq!(fields[4].len(), 36);
    assert_eq!(fields[5], "clusters", "{first}");
    let second = log.lines().nth(1).expect("a second log line");
    assert!(second.starts_with("GET /xplatqosservers 200 ") && second.ends_with(" qosServers"), "{second}");
    assert!(!log.contains("secret-token"));
}
