//! The configuration file: the example parses, errors name the file, line and field, and the
//! printed form reads back as the same configuration.

use std::path::{Path, PathBuf};
use std::time::Duration;

use gsms_emulator::{
    config_to_json, config_to_toml, CommandLine, Config, ConfigFile, ErrorBodyStyle, LogFormat, PortValue, Readiness,
    ServerKind,
};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("gsms-emulator.example.toml")
}

/// The binary's starting point (bind 8080, human log).
fn base() -> Config {
    Config { bind: "127.0.0.1:8080".into(), log: true, ..Config::default() }
}

fn load_text(name: &str, text: &str) -> Result<Config, gsms_emulator::ConfigError> {
    let f = ConfigFile::parse(text, Path::new("/tmp/cfgt").join(name))?;
    let mut cfg = base();
    f.apply_to(&mut cfg);
    Ok(cfg)
}

#[test]
fn the_example_parses_and_says_what_it_shows() {
    let f = ConfigFile::load(example()).unwrap_or_else(|e| panic!("{e}"));
    let mut cfg = base();
    f.apply_to(&mut cfg);
    assert_eq!(cfg.bind, "127.0.0.1:8080");
    assert_eq!(cfg.server_lifetime, Duration::from_secs(300));
    assert_eq!(cfg.regions.len(), 2);
    assert_eq!(cfg.regions[1].name, "North Europe");
    assert_eq!(cfg.regions[1].loss, 0.01);
    assert_eq!(cfg.region, "West US");
    assert_eq!(cfg.faults.len(), 1);
    assert_eq!(cfg.faults[0].latency_ms, 25);
    assert_eq!(cfg.revoked_tokens, vec!["XBL3.0 x=expired;token"]);
    let t1 = &cfg.titles[0];
    assert_eq!(t1.id, 2001);
    let servers = t1.servers.as_ref().unwrap();
    assert_eq!(servers.len(), 3);
    assert_eq!(servers[0].kind, ServerKind::Fixed { host: "127.0.0.1".into(), port: 7777 });
    assert_eq!(servers[0].ports[1].name, "Query");
    assert_eq!(servers[1].kind, ServerKind::Simulated);
    let t2 = &cfg.titles[1];
    let ServerKind::Command(cmd) = &t2.servers.as_ref().unwrap()[0].kind else { panic!("a command server") };
    assert_eq!(
        cmd.command,
        CommandLine::Argv(vec![
            "target/debug/examples/echo_server".into(),
            "--port".into(),
            "{port}".into(),
            "--host".into(),
            "{host}".into()
        ])
    );
    assert_eq!(cmd.ready, Readiness::Line("listening".into()));
    assert_eq!(cmd.ready_timeout, Duration::from_secs(10));
    assert_eq!(t2.servers.as_ref().unwrap()[0].ports[0].external, PortValue::ServerPort);
    let hosts = t2.session_hosts.as_ref().unwrap();
    assert!(matches!(&hosts[0].kind, ServerKind::Command(c) if matches!(c.command, CommandLine::Shell(_))));
    assert_eq!(hosts[1].kind, ServerKind::Simulated);
    // And it starts.
    let emu = gsms_emulator::Emulator::start(Config { bind: "127.0.0.1:0".into(), log: false, ..cfg }).unwrap();
    emu.shutdown();
}

/// (file name, text, line, field, part of the message)
const BAD: &[(&str, &str, usize, &str, &str)] = &[
    ("unknown.toml", "bind = \"127.0.0.1:0\"\nservers = 3\n", 2, "", "unknown field `servers`"),
    ("type.toml", "# a comment\npoll_interval_ms = \"fast\"\n", 2, "poll_interval_ms", "invalid type"),
    (
        "loss.toml",
        "[[regions]]\nname = \"A\"\n\n[[regions]]\nname = \"B\"\nloss = 2.0\n",
        4,
        "regions[1]",
        "loss 2 is not in 0..=1",
    ),
    ("twice.toml", "regions = [{ name = \"A\" },\n  { name = \"a\" }]\n", 1, "regions", "listed twice"),
    (
        "placeholder.toml",
        "[[titles]]\nid = 7\n\n[[titles.servers]]\ncommand = [\"srv\", \"--port\", \"{prot}\"]\n",
        4,
        "titles[0].servers[0]",
        "unknown placeholder {prot}",
    ),
    (
        "both.toml",
        "[[titles]]\nid = 7\n[[titles.servers]]\naddress = \"127.0.0.1:7777\"\ncommand = \"srv\"\n",
        3,
        "titles[0].servers[0]",
        "not both",
    ),
    (
        "address.toml",
        "[[titles]]\nid = 7\nservers = [{ address = \"localhost\" }]\n",
        3,
        "titles[0].servers[0]",
        "host:port",
    ),
    (
        "port.toml",
        "port_mappings = [{ name = \"G\", internal = 7777, external = \"{prt}\" }]\n",
        1,
        "port_mappings[0].external",
        "not a port",
    ),
    ("dup.toml", "[[titles]]\nid = 7\n[[titles]]\nid = 7\n", 1, "titles", "title 7 is listed twice"),
    ("fault.toml", "[[faults]]\nstatus = 42\n", 1, "faults[0]", "fault status 42"),
    ("call.toml", "faults = [{ status = 503, call = \"Clusters\" }]\n", 1, "faults[0]", "not one of clusters"),
    ("enum.toml", "error_body = \"json\"\n", 1, "error_body", "unknown variant `json`"),
    ("syntax.toml", "bind = \"127.0.0.1:0\"\nhost_name = \n", 2, "", "string"),
    ("variants.toml", "variants_file = \"no-such-variants.json\"\n", 1, "variants_file", "no-such-variants.json"),
    ("tls.toml", "tls = { cert = \"missing.pem\", key = \"missing.key\" }\n", 1, "tls", "missing.pem"),
    (
        "ready.toml",
        "[[titles]]\nid = 1\n[[titles.servers]]\ncommand = \"x\"\nready_line = \"a\"\nready_after_ms = 5\n",
        3,
        "titles[0].servers[0]",
        "not both",
    ),
    ("region.toml", "region = \"Mars\"\n[[regions]]\nname = \"Earth\"\n", 1, "region", "not one of the regions"),
    (
        "json.json",
        "{\n  \"bind\": \"127.0.0.1:0\",\n  \"titles\": [{\"id\": -3}]\n}\n",
        3,
        "titles[0].id",
        "invalid value",
    ),
    ("jsonkey.json", "{\n  \"bind\": \"x\",\n  \"quirk\": true\n}\n", 3, "", "unknown field `quirk`"),
];

#[test]
fn bad_files_name_the_file_line_and_field() {
    for (name, text, line, field, part) in BAD {
        let e = load_text(name, text).err().unwrap_or_else(|| panic!("{name} was accepted"));
        let shown = e.to_string();
        assert_eq!(e.file, Path::new("/tmp/cfgt").join(name), "{shown}");
        assert_eq!(e.line, Some(*line), "{name}: {shown}");
        if !field.is_empty() {
            assert_eq!(e.field.as_deref(), Some(*field), "{name}: {shown}");
            assert!(shown.contains(&format!("field `{field}`")), "{shown}");
        }
        assert!(e.message.contains(part), "{name}: {shown}");
        assert!(shown.starts_with(&format!("/tmp/cfgt/{name}:{line}")), "{shown}");
    }
    let missing = ConfigFile::load("/nonexistent/emu.toml").unwrap_err();
    assert!(missing.to_string().starts_with("/nonexistent/emu.toml: cannot read it"), "{missing}");
}

#[test]
fn printed_configuration_reads_back_the_same() {
    let f = ConfigFile::load(example()).unwrap();
    let mut cfg = base();
    f.apply_to(&mut cfg);
    cfg.rate_limit = Some(gsms_emulator::RateLimit { max_requests: 5, period: Duration::from_millis(1500) });
    cfg.error_body_style = ErrorBodyStyle::ErrorCode;
    cfg.log_format = LogFormat::Json;
    cfg.titles_without_subscriptions = vec![9];
    let toml_text = config_to_toml(&cfg, None).unwrap();
    let again = load_text("printed.toml", &toml_text).unwrap_or_else(|e| panic!("{e}\n{toml_text}"));
    assert_eq!(config_to_toml(&again, None).unwrap(), toml_text);
    assert_eq!(again.rate_limit, cfg.rate_limit);
    assert_eq!(again.titles, cfg.titles);
    assert_eq!(again.regions, cfg.regions);
    assert_eq!(again.faults, cfg.faults);
    assert_eq!(again.variants, cfg.variants);
    assert_eq!(again.port_mappings, cfg.port_mappings);
    assert_eq!((again.log, again.log_format), (true, LogFormat::Json));
    // JSON the same way, and both forms agree.
    let json_text = config_to_json(&cfg, None).unwrap();
    let from_json = load_text("printed.json", &json_text).unwrap_or_else(|e| panic!("{e}\n{json_text}"));
    assert_eq!(config_to_toml(&from_json, None).unwrap(), toml_text);
    // The defaults print and read back too.
    let d = config_to_toml(&base(), None).unwrap();
    assert_eq!(config_to_toml(&load_text("d.toml", &d).unwrap(), None).unwrap(), d);
}

#[test]
fn an_empty_file_changes_nothing_and_relative_paths_start_at_the_file() {
    let cfg = load_text("empty.toml", "").unwrap();
    assert_eq!(config_to_toml(&cfg, None).unwrap(), config_to_toml(&base(), None).unwrap());
    let dir = std::env::temp_dir().join(format!("gsms-emu-rel-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("sub")).unwrap();
    std::fs::write(
        dir.join("sub/v.json"),
        r#"{"variants":[{"gamevariantId":"v1","name":"Only","isPublisher":"True","rank":"1"}]}"#,
    )
    .unwrap();
    let path = dir.join("sub/emu.toml");
    std::fs::write(
        &path,
        "variants_file = \"v.json\"\n[[titles]]\nid = 3\nservers = [{ command = \"srv\", cwd = \"game\" }]\n",
    )
    .unwrap();
    let f = ConfigFile::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut cfg = base();
    f.apply_to(&mut cfg);
    assert_eq!(cfg.variants.variants.len(), 1);
    assert_eq!(cfg.variants.variants[0].name, "Only");
    let ServerKind::Command(c) = &cfg.titles[0].servers.as_ref().unwrap()[0].kind else { panic!() };
    assert_eq!(c.cwd.as_deref(), Some(dir.join("sub/game").as_path()));
    let _ = std::fs::remove_dir_all(&dir);
}
