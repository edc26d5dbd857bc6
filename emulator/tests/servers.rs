//! Servers of a title's pool: fixed `host:port` servers you run yourself, commands started per
//! allocation (with `{port}`), and port mappings per server.
//!
//! The "game server" of the command tests is the emulator binary itself: it listens on TCP
//! `{port}` and prints a line when it does, which is all the readiness checks need.

mod common;

use std::time::{Duration, Instant};

use common::*;
use gsms_emulator::{CommandConfig, Config, Emulator, PortMapping, PortValue, Readiness, ServerConfig, TitleConfig};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_gsms-emulator");

fn start(cfg: Config) -> Emulator {
    Emulator::start(cfg).expect("emulator starts")
}

fn with_title(title: TitleConfig) -> Config {
    Config { titles: vec![title], ..Config::default() }
}

/// A command that serves TCP on `{port}` until stopped.
fn listener_command() -> CommandConfig {
    CommandConfig::new([BIN, "--bind", "127.0.0.1:{port}", "--quiet", "--region", "R{index}"])
}

/// Whether a process runs (a zombie counts as gone).
fn alive(pid: u64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

fn wait_gone(pid: u64, within: Duration) -> bool {
    let end = Instant::now() + within;
    while Instant::now() < end {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    !alive(pid)
}

fn server_state(emu: &Emulator, title: u32, index: usize) -> Value {
    let st = state(emu);
    let t = st["titles"].as_array().unwrap().iter().find(|t| t["titleId"] == json!(title)).expect("title in state");
    t["servers"][index].clone()
}

fn game_data(v: &Value) -> (u64, u64) {
    let m = v["portMappings"].as_array().unwrap().iter().find(|m| m["Key"] == "GameData").expect("GameData");
    (m["Value"]["internal"].as_u64().unwrap(), m["Value"]["external"].as_u64().unwrap())
}

#[test]
fn fixed_servers_are_reported_by_every_allocation_call() {
    let emu = start(with_title(
        TitleConfig::new(50)
            .with_servers(vec![
                ServerConfig::fixed("192.0.2.10", 7777),
                ServerConfig::fixed("game.local", 9000).with_ports(vec![
                    PortMapping::new("GameData", PortValue::Fixed(7777), PortValue::ServerPort),
                    PortMapping::new("Query", PortValue::Fixed(27015), PortValue::Fixed(27016)),
                ]),
            ])
            .with_session_hosts(vec![ServerConfig::fixed("192.0.2.20", 30000)]),
    ));
    let a = allocate(&emu, 50, "fixed-a").json();
    assert_eq!(a["fulfillmentState"], "Fulfilled");
    assert_eq!(a["hostName"], "192.0.2.10");
    assert_eq!(a["portMappings"], json!([{"Key": "GameData", "Value": {"internal": 7777, "external": 7777}}]));
    let t = call(&emu, "POST", "/titles/50/inlineclusters", &inline_body("fixed-t", "EmulatedWest", false));
    assert_eq!(t.status, 200);
    let t = t.json();
    assert_eq!(t["hostName"], "game.local");
    assert_eq!(
        t["portMappings"],
        json!([
            {"Key": "GameData", "Value": {"internal": 7777, "external": 9000}},
            {"Key": "Query", "Value": {"internal": 27015, "external": 27016}},
        ])
    );
    let status = ticket_status(&emu, 50, "fixed-t").json();
    assert_eq!((status["status"].as_str(), status["hostName"].as_str()), (Some("Active"), Some("game.local")));
    assert_eq!(status["portMappings"], t["portMappings"]);
    // The pool has two servers: a third allocation waits.
    assert_eq!(allocate(&emu, 50, "fixed-c").state(), "Queued");

    let h = session_host(&emu, 50, "fixed-h");
    assert_eq!(h.status, 200);
    let h = h.json();
    assert_eq!(h["hostName"], "192.0.2.20");
    assert_eq!(h["portMappings"], json!([{"Key": "GameData", "Value": {"internal": 30000, "external": 30000}}]));
    let s = allocation_status(&emu, 50, "fixed-h").json();
    assert_eq!((s["status"].as_str(), s["hostName"].as_str()), (Some("Fulfilled"), Some("192.0.2.20")));

    // Titles that are not listed keep simulated servers; the state page tells the kinds apart.
    assert_eq!(allocate(&emu, 51, "other").json()["hostName"], "127.0.0.1");
    let st = server_state(&emu, 50, 1);
    assert_eq!((st["kind"].as_str(), st["hostName"].as_str()), (Some("fixed"), Some("game.local")));
    assert_eq!(server_state(&emu, 51, 0)["kind"], "simulated");
}

#[test]
fn port_mappings_of_simulated_servers_are_configurable() {
    let emu = start(Config {
        port_mappings: vec![
            PortMapping::new("GameData", PortValue::Fixed(7000), PortValue::ServerPort),
            PortMapping::new("Voice", PortValue::Fixed(9987), PortValue::Fixed(9987)),
        ],
        ..Config::default()
    });
    let v = allocate(&emu, 3, "pm").json();
    assert_eq!(
        v["portMappings"],
        json!([
            {"Key": "GameData", "Value": {"internal": 7000, "external": 31000}},
            {"Key": "Voice", "Value": {"internal": 9987, "external": 9987}},
        ])
    );
}

#[test]
fn invalid_servers_are_refused_at_start() {
    let bad = |title: TitleConfig| Emulator::start(with_title(title)).unwrap_err().to_string();
    let e = bad(TitleConfig::new(1).with_servers(vec![ServerConfig::fixed("", 7777)]));
    assert!(e.contains("title 1 servers[0]") && e.contains("host"), "{e}");
    let e = bad(TitleConfig::new(1).with_servers(vec![ServerConfig::fixed("h", 0)]));
    assert!(e.contains("port 0"), "{e}");
    let e =
        bad(TitleConfig::new(1).with_session_hosts(vec![ServerConfig::command(CommandConfig::new(["x", "{prot}"]))]));
    assert!(e.contains("session_hosts[0]") && e.contains("{prot}"), "{e}");
    let e =
        bad(TitleConfig::new(1).with_servers(vec![ServerConfig::command(CommandConfig::new(Vec::<String>::new()))]));
    assert!(e.contains("no program"), "{e}");
    let twice = Config { titles: vec![TitleConfig::new(2), TitleConfig::new(2)], ..Config::default() };
    assert!(Emulator::start(twice).unwrap_err().to_string().contains("twice"));
}

#[test]
fn a_command_server_starts_per_allocation_with_its_port_and_stops_on_release() {
    let emu = start(Config {
        titles: vec![TitleConfig::new(60).with_servers(vec![ServerConfig::command(listener_command())])],
        server_lifetime: Duration::from_secs(60),
        ..Config::default()
    });
    // Nothing runs before an allocation.
    assert_eq!(server_state(&emu, 60, 0)["process"], Value::Null);
    let started = Instant::now();
    let r = allocate(&emu, 60, "cmd-1");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    // Fulfilled only once the game server listens on the reported port.
    assert_eq!(v["fulfillmentState"], "Fulfilled");
    let (internal, external) = game_data(&v);
    assert_eq!(internal, external);
    let port = external as u16;
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(), "nothing listens on {port}");
    assert!(started.elapsed() < Duration::from_secs(10));
    let s = server_state(&emu, 60, 0);
    assert_eq!(s["kind"], "command");
    assert_eq!(s["process"]["state"], "Ready");
    assert_eq!(s["process"]["port"], json!(port));
    assert!(s["process"]["command"].as_str().unwrap().contains(&format!("127.0.0.1:{port}")));
    let pid = s["process"]["pid"].as_u64().unwrap();
    assert!(alive(pid));
    // A repeat answers the same server; a second session waits (one server).
    assert_eq!(game_data(&allocate(&emu, 60, "cmd-1").json()).1, external);
    assert_eq!(allocate(&emu, 60, "cmd-2").state(), "Queued");

    // Release: the process is stopped, and the queued session gets a fresh one on another port.
    emu.release_all(60);
    assert!(wait_gone(pid, Duration::from_secs(5)), "pid {pid} still runs after release");
    let r2 = allocate(&emu, 60, "cmd-2").json();
    assert_eq!(r2["fulfillmentState"], "Fulfilled");
    let pid2 = server_state(&emu, 60, 0)["process"]["pid"].as_u64().unwrap();
    assert_ne!(pid2, pid);
    assert!(alive(pid2));

    // Shutdown stops it too.
    emu.shutdown();
    assert!(wait_gone(pid2, Duration::from_secs(5)), "pid {pid2} still runs after shutdown");
}

#[test]
fn a_command_server_is_stopped_when_its_lifetime_ends_and_its_whole_group_goes() {
    let dir = std::env::temp_dir().join(format!("gsms-emu-group-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pidfile = dir.join("child.pid");
    // A shell that starts the server in the background and waits: the stop must reach both.
    let line = format!("'{BIN}' --bind 127.0.0.1:{{port}} --quiet & echo $! > '{}'; wait", pidfile.display());
    let emu = start(Config {
        titles: vec![TitleConfig::new(61).with_servers(vec![ServerConfig::command(CommandConfig::shell(line))])],
        server_lifetime: Duration::from_millis(1500),
        ..Config::default()
    });
    let t = call(&emu, "POST", "/titles/61/inlineclusters", &inline_body("group-t", "EmulatedWest", false));
    assert_eq!(t.status, 200, "{}", String::from_utf8_lossy(&t.body));
    assert_eq!(t.json()["fulfillmentState"], "Fulfilled");
    let shell_pid = server_state(&emu, 61, 0)["process"]["pid"].as_u64().unwrap();
    let child_pid: u64 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    assert!(alive(shell_pid) && alive(child_pid));
    std::thread::sleep(Duration::from_millis(1600));
    // The lifetime ended: the next look at the pool ends the lease and stops the group.
    let s = ticket_status(&emu, 61, "group-t").json();
    assert_eq!(s["status"], "Aborted");
    assert!(wait_gone(shell_pid, Duration::from_secs(5)), "shell {shell_pid} still runs");
    assert!(wait_gone(child_pid, Duration::from_secs(5)), "its child {child_pid} still runs");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_command_that_fails_to_start_is_a_clear_500_not_a_hang() {
    let missing = ServerConfig::command(CommandConfig::new(["/nonexistent/game-server", "--port", "{port}"]));
    let exits = ServerConfig::command(CommandConfig::shell("echo cannot open map.dat >&2; exit 3"));
    let never_ready =
        ServerConfig::command(CommandConfig::new(["sleep", "30"]).with_ready_timeout(Duration::from_millis(400)));
    let emu = start(Config {
        titles: vec![
            TitleConfig::new(70).with_servers(vec![missing]),
            TitleConfig::new(71).with_servers(vec![exits.clone()]),
            TitleConfig::new(72).with_servers(vec![never_ready]),
            TitleConfig::new(73).with_session_hosts(vec![exits]),
        ],
        ..Config::default()
    });
    let t0 = Instant::now();
    let r = allocate(&emu, 70, "f");
    assert_eq!(r.status, 500);
    let why = r.json()["description"].as_str().unwrap().to_string();
    assert!(why.contains("/nonexistent/game-server"), "{why}");

    let r = allocate(&emu, 71, "f");
    assert_eq!(r.status, 500);
    let why = r.json()["description"].as_str().unwrap().to_string();
    assert!(why.contains("exited before it was ready") && why.contains("exit status 3"), "{why}");
    assert!(why.contains("cannot open map.dat"), "the last output is in the message: {why}");

    let r = inline(&emu, 72, "slow");
    assert_eq!(r.status, 500);
    let why = r.json()["description"].as_str().unwrap().to_string();
    assert!(why.contains("not ready after 400 ms") && why.contains("port"), "{why}");
    // The ticket reports the same failure; the server is free again.
    let s = ticket_status(&emu, 72, "slow").json();
    assert_eq!(s["status"], "Error");
    assert!(s["description"].as_str().unwrap().contains("not ready"), "{s}");
    assert_eq!(server_state(&emu, 72, 0)["sessionId"], Value::Null);
    assert_eq!(server_state(&emu, 72, 0)["ticketId"], Value::Null);

    let r = session_host(&emu, 73, "sh-f");
    assert_eq!(r.status, 500);
    assert!(r.json()["description"].as_str().unwrap().contains("exit status 3"));
    let s = allocation_status(&emu, 73, "sh-f").json();
    assert_eq!(s["status"], "Aborted");
    assert!(s["description"].as_str().unwrap().contains("exit status 3"), "{s}");
    assert!(t0.elapsed() < Duration::from_secs(15), "failures took {:?}", t0.elapsed());
}

#[test]
fn readiness_by_output_line_and_session_hosts_with_commands() {
    let cmd = listener_command().with_ready(Readiness::Line("listening on".into()));
    let emu = start(with_title(TitleConfig::new(80).with_session_hosts(vec![ServerConfig::command(cmd)])));
    let r = session_host(&emu, 80, "line-h");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(v["fulfillmentState"], "Fulfilled");
    let port = game_data(&v).1 as u16;
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    let st = state(&emu);
    let host = &st["sessionHosts"].as_array().unwrap().iter().find(|t| t["titleId"] == 80).unwrap()["hosts"][0];
    assert_eq!(host["state"], "Active");
    let pid = host["process"]["pid"].as_u64().unwrap();
    assert_eq!(allocation_status(&emu, 80, "line-h").json()["status"], "Fulfilled");
    assert_eq!(emu.release_session_hosts(80), 1);
    assert!(wait_gone(pid, Duration::from_secs(5)));
    assert_eq!(allocation_status(&emu, 80, "line-h").json()["status"], "Aborted");
}

#[test]
fn a_game_server_that_exits_ends_its_allocation() {
    let cmd = CommandConfig::shell("sleep 0.3").with_ready(Readiness::After(Duration::from_millis(100)));
    let emu = start(with_title(TitleConfig::new(90).with_servers(vec![ServerConfig::command(cmd)])));
    assert_eq!(inline(&emu, 90, "short").json()["fulfillmentState"], "Fulfilled");
    assert_eq!(ticket_status(&emu, 90, "short").json()["status"], "Active");
    std::thread::sleep(Duration::from_millis(700));
    let s = ticket_status(&emu, 90, "short").json();
    assert_eq!(s["status"], "Aborted");
    assert!(s["description"].as_str().unwrap().contains("exited"), "{s}");
}

#[test]
fn placeholders_and_environment_reach_the_command() {
    let dir = std::env::temp_dir().join(format!("gsms-emu-env-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("env.txt");
    let mut cmd = CommandConfig::shell(format!(
        "echo \"{{port}} {{title}} {{index}} {{session}} {{host}} $GSMS_EMULATOR_PORT $GSMS_EMULATOR_SESSION $EXTRA\" > '{}'; sleep 30",
        out.display()
    ))
    .with_ready(Readiness::After(Duration::from_millis(200)));
    cmd.env.push(("EXTRA".into(), "x{title}".into()));
    let emu = start(with_title(TitleConfig::new(91).with_servers(vec![ServerConfig::command(cmd)])));
    // A session id with shell metacharacters stays one quoted value.
    let r = call(&emu, "POST", "/titles/91/inlineclusters", &inline_body("t'$(id)", "EmulatedWest", false));
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let port = game_data(&r.json()).1;
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.trim(), format!("{port} 91 0 t'$(id) 127.0.0.1 {port} t'$(id) x91"));
    drop(emu);
    let _ = std::fs::remove_dir_all(&dir);
}
