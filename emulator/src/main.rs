//! `gsms-emulator`: runs the GSMS emulator until stopped (Ctrl-C, SIGTERM). See `--help`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgAction, Parser, ValueEnum};
use gsms_emulator::{
    config_to_json, config_to_toml, Config, ConfigFile, Emulator, ErrorBodyStyle, FaultRule, LogFormat, RateLimit,
    RegionConfig, TlsConfig, VariantCatalogue, CALLS,
};

const ABOUT: &str = "A local emulator of the Xbox Live Compute game-server service (GSMS) and its discovery \
service, for libgsms samples, tests and game developers' local loops.";

const AFTER_HELP: &str = "\
On start it prints one line to stdout, `gsms-emulator listening on <base url>`, then logs one
line per request (and per game-server event) to stderr. The dashboard is at <base url>/_emulator/ui.
`--help` (not -h) also shows the body of every call, the admin API and the log format.";

const AFTER_LONG_HELP: &str = r#"THE CALLS (one URL serves both hosts, gameserverms and gameserverds)
Every call needs `x-xbl-contract-version` (the number after "contract") and
`Authorization: XBL3.0 x=<userhash>;<token>`; a POST needs `Content-Type: application/json`.
Bodies are JSON objects; a field that is wrong is answered 400 naming it.

  clusters          POST /titles/{titleId}/clusters                      contract 1
      {"sessionId": "/serviceconfigs/<scid>/sessionTemplates/<template>/sessions/<name>",
       "abortIfQueued": false}                                     (abortIfQueued optional)
      -> {"pollIntervalMilliseconds": "1000", "fulfillmentState": "Fulfilled" | "Queued" | "Aborted",
          "hostName", "region", "portMappings": [{"Key": "GameData", "Value": {"internal", "external"}}],
          "secureContext"}                                          (the last four once Fulfilled)
  inlineClusters    POST /titles/{titleId}/inlineclusters                contract 2
      {"serviceConfigId": "..", "sandboxId": "XDKS.1", "ticketId": "..", "gsiSetId": "..",
       "gameVariantId": "..", "location": "West US", "maxAllowedPlayers": 8, "abortIfQueued": false}
      -> as clusters
  ticketStatus      GET  /titles/{titleId}/tickets/{ticketId}/status      contract 6
      (no body) -> {"ticketId", "titleId", "status": "Active" | "Queued" | "Aborted" | "Error",
          "description", "region"; once Active "clusterId", "hostName", "secureContext",
          "portMappings", "gameHostId"}
  variants          POST /titles/{titleId}/variants                      contract 1
      {"locale": "en-us", "maxAllowedPlayers": 8, "maxVariants": 0, "publisherOnly": false,
       "tags": [{"name": "mode", "value": "ranked"}]}                  (every field optional)
      -> {"variants": [..], "variantSchemas": [..], "gsiSets": [..]}
  qosServers        GET  /qosservers, GET /xplatqosservers                contract 1
      (no body) -> {"qosServers": [{"serverFqdn": "127.0.0.1:PORT", "serverSecureDeviceAddress",
          "targetLocation": "West US"}]}           (one UDP QoS beacon per region; probes are
          10 bytes 0xFF 0xFF + 8-byte nonce, replies the same with 0x00 0x00)
  sessionHosts      POST /titles/{titleId}/sessionhosts                  contract 8
      {"sessionId": "..", "cloudGameId": "..", "locations": ["West US"],
       "sessionCookie": "..", "gameModeId": "..", "sandboxId": ".."}    (the last three optional)
      -> {"hostName", "portMappings", "region", "secureContext", "sessionHostId",
          "fulfillmentState": "Fulfilled" | "Queued"}; 409 while its host activates,
          503 + Retry-After when no host stands by, 404 for a title without subscriptions
  allocationStatus  GET  /titles/{titleId}/sessions/{sessionId}/allocationStatus   contract 8
      (no body) -> {"status": "Queued" | "Fulfilled" | "Aborted", "sessionId", "description",
          "ticketId"; with a host "hostName", "portMappings", "region", "secureContext",
          "sessionHostId", "clusterId", "gameHostId"}

A command server's allocation is answered once its game server is ready; one that cannot run,
exits first or is not ready within its ready timeout is answered 500 with why (its ticket turns
Error, its session Aborted), and stopped.

ADMIN API (no auth; not counted, logged or faulted)
    GET    /_emulator/ui               the dashboard (one page, served by the emulator)
    GET    /_emulator/state            pools, queues, tickets, session hosts, sessions, variants,
                                       regions, fault rules, request count, latest 50 requests
    POST   /_emulator/reset            back to the configured state; clears counters and log
    GET    /_emulator/faults           list fault rules
    POST   /_emulator/faults           add one: {"status":503,"retryAfter":"1","latencyMs":0,
                                       "dropConnection":false,"times":2,"probability":1.0,
                                       "call":"sessionHosts"}         (every field optional)
    DELETE /_emulator/faults           clear fault rules
    POST   /_emulator/release?title=N  release every server of title N now
    POST   /_emulator/tickets/ID       {"status":"Error","description":"..."} (or Aborted)
    GET    /_emulator/variants         the variants catalogue
    PUT    /_emulator/variants         replace it (the variants answer's form)
    GET    /_emulator/regions          regions, beacons and their counters
    PUT    /_emulator/regions/NAME     {"delayMs":20,"jitterMs":2,"loss":0.1}
    PUT    /_emulator/subscriptions/T  {"subscribed":false}
    POST   /_emulator/sessionhosts/release?title=N  free every session host of title N now
    POST   /_emulator/sessions/ID      {"status":"Aborted","description":"..."}
A body that is not JSON, or not the expected shape, is answered 400 with a message.

LOGS (stderr)
    human: 2026-11-01T10:00:00.123Z POST /titles/1/clusters 200 0.4ms clusters title=1
           session=/serviceconfigs/.. fault=503 corr=<X-XblCorrelationId>
    json:  {"timestamp":"..","event":"request","call":"clusters","title":1,"sessionId":"..",
           "method":"POST","path":"..","status":200,"dropped":false,"latencyMs":0.4,
           "correlationId":"..","fault":null}   (ticketId instead of sessionId for tickets;
           game servers log serverStarted, serverReady, serverOutput, serverFailed,
           serverExited and serverStopped events)

CONFIGURATION FILE
    --config FILE reads TOML (JSON when the name ends in .json): everything the flags set, plus
    titles with their server pools (simulated servers, a fixed host:port you run yourself, or
    a command started per allocation with {port}, {host}, {title}, {session}, {index}),
    regions, fault rules, the variants catalogue and port mappings per server. Flags win over
    the file; a list flag (--region, --fault, --revoked-token) replaces the file's list.
    emulator/gsms-emulator.example.toml in the repository documents every key;
    --print-config prints the effective configuration in that form."#;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum PrintFormat {
    Toml,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ErrorBodyArg {
    /// {"code", "source", "description"}
    Description,
    /// {"errorCode", "errorMessage"}
    #[value(name = "errorcode")]
    ErrorCode,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LogFormatArg {
    /// Timestamped lines
    Human,
    /// One JSON object per line
    Json,
}

#[derive(Debug, Parser)]
#[command(name = "gsms-emulator", version, about = ABOUT, after_help = AFTER_HELP, after_long_help = AFTER_LONG_HELP)]
struct Args {
    /// Read settings from FILE (TOML, or JSON when it ends in .json); flags given here win
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Print the effective configuration (defaults, file and flags) and exit [default format: toml]
    #[arg(long, value_name = "FORMAT", num_args = 0..=1, default_missing_value = "toml")]
    print_config: Option<PrintFormat>,

    /// Address to listen on [default: 127.0.0.1:8080]; port 0 picks a free one
    ///
    /// The address it chose is printed as `gsms-emulator listening on <url>`. When the port is
    /// taken (a second emulator, say), it says so and exits 1: pick another port, or port 0.
    #[arg(long, value_name = "ADDR")]
    bind: Option<String>,

    /// Comma-separated title ids allowed to call the service; others get 403 [default: every title]
    #[arg(long, value_name = "LIST", value_parser = parse_titles)]
    titles: Option<TitleList>,

    /// Simulated servers per title (clusters and inline clusters) [default: 2]
    #[arg(long, value_name = "N")]
    servers: Option<usize>,

    /// Seconds an allocation keeps its server or session host (decimals allowed) [default: 60]
    #[arg(long, value_name = "S", value_parser = parse_secs)]
    lifetime_secs: Option<Duration>,

    /// pollIntervalMilliseconds in answers [default: 1000]
    #[arg(long, value_name = "N")]
    poll_ms: Option<u32>,

    /// Send pollIntervalMilliseconds as a JSON number instead of a string
    #[arg(long)]
    poll_as_number: bool,

    /// A QoS region with its beacon, NAME[:delay=MS][:jitter=MS][:loss=P]; repeatable
    ///
    /// MS may have decimals, P is 0..1. The first one is also the region of fulfilled answers.
    /// [default: one region EmulatedWest with no delay]
    /// e.g. --region "West US:delay=20:jitter=2" --region "North Europe:delay=80"
    #[arg(long, value_name = "SPEC", action = ArgAction::Append, value_parser = parse_region_spec, verbatim_doc_comment)]
    region: Vec<RegionConfig>,

    /// hostName of simulated servers, and where UDP echo sockets and QoS beacons bind [default: 127.0.0.1]
    ///
    /// An IPv4 or IPv6 literal, or a local name.
    #[arg(long, value_name = "H")]
    host_name: Option<String>,

    /// An Authorization value (whole header value) answered 401; repeatable
    #[arg(long, value_name = "V", action = ArgAction::Append)]
    revoked_token: Vec<String>,

    /// A fault rule, colon-separated items; repeatable
    ///
    /// Items:
    ///   <status>          answer this HTTP status (100-599)
    ///   drop              close the connection without answering
    ///   retry-after=V     Retry-After value (seconds or HTTP date; put it last if the date
    ///                     contains colons)
    ///   latency=MS        wait MS milliseconds first
    ///   times=N           only the next N requests it fires for
    ///   p=P               probability 0..1 per request [default: 1]
    ///   call=NAME         only for this call: clusters, inlineClusters, ticketStatus, variants,
    ///                     qosServers, sessionHosts, allocationStatus [default: every call]
    /// e.g. 503:retry-after=1:times=2:p=0.5   drop:times=1   latency=250
    ///      409:call=allocationStatus:times=2
    /// Rules apply to service calls only (never to HEAD / or unknown paths).
    #[arg(long, value_name = "SPEC", action = ArgAction::Append, value_parser = parse_fault_spec, verbatim_doc_comment)]
    fault: Vec<FaultRule>,

    /// Add N ms of latency to every call (a fault rule)
    #[arg(long, value_name = "N")]
    latency_ms: Option<u64>,

    /// Drop a fraction P (0..1) of calls without answering (a fault rule)
    #[arg(long, value_name = "P", value_parser = parse_probability)]
    drop_rate: Option<f64>,

    /// A UDP echo socket behind each simulated server and session host, reported as its GameData port
    #[arg(long)]
    udp_echo: bool,

    /// Session hosts (StandingBy at start) per title [default: 2]
    #[arg(long, value_name = "N")]
    session_hosts: Option<usize>,

    /// A claimed session host turns Active after N ms [default: 0]
    #[arg(long, value_name = "N")]
    activation_ms: Option<u64>,

    /// Comma-separated title ids without subscriptions: sessionhosts answers 404 for them
    #[arg(long, value_name = "LIST", value_parser = parse_titles)]
    no_subscriptions: Option<TitleList>,

    /// The variants catalogue, a JSON file in the variants answer's form [default: a sample of 3 variants]
    #[arg(long, value_name = "FILE")]
    variants: Option<PathBuf>,

    /// Error body shape [default: description]
    #[arg(long, value_name = "STYLE", ignore_case = true)]
    error_body: Option<ErrorBodyArg>,

    /// Answer 429 (Retry-After, Xbox Live throttling body) past N calls in S seconds, per user and call
    #[arg(long, value_name = "N/S", value_parser = parse_rate_limit)]
    rate_limit: Option<RateLimit>,

    /// Delayed QoS replies held at once per beacon; more are dropped [default: 4096]
    #[arg(long, value_name = "N")]
    qos_pending_limit: Option<usize>,

    /// Vary every 2xx answer within what clients must accept (case, numbers as strings, extra fields, ...)
    #[arg(long)]
    quirks: bool,

    /// Seed of --quirks (same seed, same requests: same answers) [default: 1]
    #[arg(long, value_name = "N")]
    quirks_seed: Option<u64>,

    /// Serve HTTPS with this PEM certificate chain (leaf first); needs --tls-key
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,

    /// PEM private key of the certificate
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,

    /// Log format on stderr [default: human]
    #[arg(long, value_name = "FORMAT")]
    log_format: Option<LogFormatArg>,

    /// Do not log requests
    #[arg(long)]
    quiet: bool,
}

#[derive(Clone, Debug)]
struct TitleList(Vec<u32>);

/// The configuration, and the TLS files it came from (for --print-config).
struct Effective {
    cfg: Config,
    tls_files: Option<(PathBuf, PathBuf)>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let eff = match effective(&args) {
        Ok(e) => e,
        Err(msg) => {
            eprintln!("gsms-emulator: {msg}");
            return ExitCode::from(2);
        }
    };
    if let Some(format) = args.print_config {
        let tls = eff.tls_files.as_ref().map(|(c, k)| (c.as_path(), k.as_path()));
        let text = match format {
            PrintFormat::Toml => config_to_toml(&eff.cfg, tls),
            PrintFormat::Json => config_to_json(&eff.cfg, tls),
        };
        return match text {
            Ok(t) => {
                print!("{t}");
                if !t.ends_with('\n') {
                    println!();
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("gsms-emulator: {e}");
                ExitCode::from(1)
            }
        };
    }
    let (tx, rx) = std::sync::mpsc::channel();
    // Ctrl-C, SIGTERM and SIGHUP stop the emulator in order, game server processes included.
    if let Err(e) = ctrlc::set_handler(move || {
        let _ = tx.send(());
    }) {
        eprintln!("gsms-emulator: cannot handle signals ({e}); game servers may outlive a kill");
    }
    let emulator = match Emulator::start(eff.cfg) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("gsms-emulator: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "gsms-emulator listening on {}", emulator.base_url());
    let _ = out.flush();
    drop(out);
    if rx.recv().is_err() {
        // No signal handler: serve until killed.
        loop {
            std::thread::park();
        }
    }
    emulator.shutdown();
    ExitCode::SUCCESS
}

/// Defaults, then the file, then the flags.
fn effective(args: &Args) -> Result<Effective, String> {
    let mut cfg = Config { bind: "127.0.0.1:8080".to_string(), log: true, ..Config::default() };
    let mut tls_files = None;
    if let Some(path) = &args.config {
        let file = ConfigFile::load(path).map_err(|e| format!("configuration file {e}"))?;
        file.apply_to(&mut cfg);
        tls_files = file.tls_files();
    }
    if let Some(v) = &args.bind {
        cfg.bind = v.clone();
    }
    if let Some(v) = &args.titles {
        cfg.allowed_titles = v.0.clone();
    }
    if let Some(v) = args.servers {
        cfg.servers_per_title = v;
    }
    if let Some(v) = args.lifetime_secs {
        cfg.server_lifetime = v;
    }
    if let Some(v) = args.poll_ms {
        cfg.poll_interval_ms = v;
    }
    if args.poll_as_number {
        cfg.poll_interval_as_number = true;
    }
    if let Some(first) = args.region.first() {
        cfg.region = first.name.clone();
        cfg.regions = args.region.clone();
    }
    if let Some(v) = &args.host_name {
        cfg.host_name = v.clone();
    }
    if !args.revoked_token.is_empty() {
        cfg.revoked_tokens = args.revoked_token.clone();
    }
    // Latency first (it stacks with what follows), then drops, then the --fault rules; given any,
    // they replace the file's rules.
    let mut faults: Vec<FaultRule> = Vec::new();
    faults.extend(args.latency_ms.map(FaultRule::latency));
    faults.extend(args.drop_rate.map(|p| FaultRule::dropped_connection().with_probability(p)));
    faults.extend(args.fault.iter().cloned());
    if !faults.is_empty() {
        cfg.faults = faults;
    }
    if args.udp_echo {
        cfg.udp_echo = true;
    }
    if let Some(v) = args.session_hosts {
        cfg.session_hosts_per_title = v;
    }
    if let Some(v) = args.activation_ms {
        cfg.session_host_activation = Duration::from_millis(v);
    }
    if let Some(v) = &args.no_subscriptions {
        cfg.titles_without_subscriptions = v.0.clone();
    }
    if let Some(path) = &args.variants {
        let bytes = std::fs::read(path).map_err(|e| format!("--variants: cannot read {}: {e}", path.display()))?;
        cfg.variants =
            VariantCatalogue::from_json(&bytes).map_err(|e| format!("--variants {}: {e}", path.display()))?;
    }
    if let Some(v) = args.error_body {
        cfg.error_body_style = match v {
            ErrorBodyArg::Description => ErrorBodyStyle::Description,
            ErrorBodyArg::ErrorCode => ErrorBodyStyle::ErrorCode,
        };
    }
    if let Some(v) = args.rate_limit {
        cfg.rate_limit = Some(v);
    }
    if let Some(v) = args.qos_pending_limit {
        cfg.qos_pending_limit = v;
    }
    if args.quirks {
        cfg.quirks = true;
    }
    if let Some(v) = args.quirks_seed {
        cfg.quirks_seed = v;
    }
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        let read = |p: &Path| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));
        cfg.tls = Some(TlsConfig { cert_pem: read(cert)?, key_pem: read(key)? });
        let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
        tls_files = Some((abs(cert), abs(key)));
    }
    if let Some(f) = args.log_format {
        cfg.log = true;
        cfg.log_format = match f {
            LogFormatArg::Human => LogFormat::Human,
            LogFormatArg::Json => LogFormat::Json,
        };
    }
    if args.quiet {
        cfg.log = false;
    }
    Ok(Effective { cfg, tls_files })
}

/// A comma-separated list of title ids.
fn parse_titles(list: &str) -> Result<TitleList, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<u32>().map_err(|_| format!("{s:?} is not a title id (a decimal u32)")))
        .collect::<Result<Vec<_>, _>>()
        .map(TitleList)
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    let secs: f64 = s.trim().parse().map_err(|_| format!("{s:?} is not a number of seconds"))?;
    Duration::try_from_secs_f64(secs).map_err(|_| format!("{s:?} is not a duration"))
}

fn parse_probability(s: &str) -> Result<f64, String> {
    let p: f64 = s.trim().parse().map_err(|_| format!("{s:?} is not a number"))?;
    if !(0.0..=1.0).contains(&p) {
        return Err(format!("{p} is not in 0..1"));
    }
    Ok(p)
}

fn parse_rate_limit(value: &str) -> Result<RateLimit, String> {
    let bad = || format!("{value:?}: expected N/SECONDS, e.g. 10/15");
    let (n, secs) = value.split_once('/').ok_or_else(bad)?;
    let max_requests: u32 = n.trim().parse().map_err(|_| bad())?;
    let secs: f64 = secs.trim().parse().map_err(|_| bad())?;
    let period = Duration::try_from_secs_f64(secs).map_err(|_| bad())?;
    if max_requests == 0 || period.is_zero() {
        return Err(bad());
    }
    Ok(RateLimit { max_requests, period })
}

/// `503:retry-after=1:times=2:p=0.5`, `drop:times=1`, `latency=250`.
fn parse_fault_spec(spec: &str) -> Result<FaultRule, String> {
    let bad = |why: String| format!("{spec:?}: {why}");
    let mut rule = FaultRule::new();
    let items: Vec<&str> = spec.split(':').collect();
    let is_key = |s: &str| {
        s == "drop"
            || (s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()))
            || ["retry-after=", "latency=", "latency-ms=", "times=", "p=", "probability=", "call="]
                .iter()
                .any(|k| s.starts_with(k))
    };
    let mut i = 0;
    while i < items.len() {
        let item = items[i].trim();
        i += 1;
        if item.is_empty() {
            continue;
        }
        if item == "drop" {
            rule.drop_connection = true;
        } else if let Ok(status) = item.parse::<u16>() {
            rule.status = Some(status);
        } else if let Some(v) = item.strip_prefix("retry-after=") {
            // An HTTP date has colons: take the following pieces that are not items.
            let mut value = v.to_string();
            while i < items.len() && !is_key(items[i].trim()) {
                value.push(':');
                value.push_str(items[i]);
                i += 1;
            }
            rule.retry_after = Some(value);
        } else if let Some(v) = item.strip_prefix("latency=").or_else(|| item.strip_prefix("latency-ms=")) {
            rule.latency_ms = v.parse().map_err(|_| bad(format!("bad latency {v:?}")))?;
        } else if let Some(v) = item.strip_prefix("times=") {
            rule.times = Some(v.parse().map_err(|_| bad(format!("bad times {v:?}")))?);
        } else if let Some(v) = item.strip_prefix("p=").or_else(|| item.strip_prefix("probability=")) {
            rule.probability = v.parse().map_err(|_| bad(format!("bad probability {v:?}")))?;
        } else if let Some(v) = item.strip_prefix("call=") {
            if !CALLS.contains(&v) {
                return Err(bad(format!("unknown call {v:?}: expected one of {}", CALLS.join(", "))));
            }
            rule.call = Some(v.to_string());
        } else {
            return Err(bad(format!("unknown item {item:?}")));
        }
    }
    if let Some(s) = rule.status {
        if !(100..=599).contains(&s) {
            return Err(bad(format!("status {s} is not in 100..599")));
        }
    }
    if !(0.0..=1.0).contains(&rule.probability) {
        return Err(bad("probability is not in 0..1".to_string()));
    }
    Ok(rule)
}

/// `NAME[:delay=MS][:jitter=MS][:loss=P]`; a bare name is a region with no delay.
fn parse_region_spec(spec: &str) -> Result<RegionConfig, String> {
    let bad = |why: String| format!("{spec:?}: {why}");
    let mut items = spec.split(':');
    let name = items.next().unwrap_or("").trim();
    if name.is_empty() {
        return Err(bad("the region needs a name".into()));
    }
    let mut region = RegionConfig::new(name);
    for item in items {
        let item = item.trim();
        let (key, v) = item.split_once('=').ok_or_else(|| bad(format!("unknown item {item:?}")))?;
        let n: f64 = v.trim().parse().map_err(|_| bad(format!("bad {key} {v:?}")))?;
        match key {
            "delay" => region.delay_ms = n,
            "jitter" => region.jitter_ms = n,
            "loss" => region.loss = n,
            _ => return Err(bad(format!("unknown item {item:?}"))),
        }
    }
    region.check().map_err(bad)?;
    Ok(region)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn cfg(s: &str) -> Result<Config, String> {
        let argv = std::iter::once("gsms-emulator").chain(s.split_whitespace());
        let args = Args::try_parse_from(argv).map_err(|e| e.to_string())?;
        effective(&args).map(|e| e.cfg)
    }

    #[test]
    fn the_command_line_is_well_formed() {
        Args::command().debug_assert();
    }

    #[test]
    fn fault_specs() {
        let r = parse_fault_spec("503:retry-after=1:times=2:p=0.5").unwrap();
        assert_eq!(r.status, Some(503));
        assert_eq!(r.retry_after.as_deref(), Some("1"));
        assert_eq!(r.times, Some(2));
        assert_eq!(r.probability, 0.5);
        let r = parse_fault_spec("429:retry-after=Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(r.retry_after.as_deref(), Some("Wed, 21 Oct 2015 07:28:00 GMT"));
        let r = parse_fault_spec("503:retry-after=Wed, 21 Oct 2015 07:28:00 GMT:times=1").unwrap();
        assert_eq!(r.retry_after.as_deref(), Some("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(r.times, Some(1));
        let r = parse_fault_spec("drop:times=1").unwrap();
        assert!(r.drop_connection);
        assert_eq!(parse_fault_spec("latency=250").unwrap().latency_ms, 250);
        let r = parse_fault_spec("409:call=allocationStatus:times=2").unwrap();
        assert_eq!((r.status, r.call.as_deref(), r.times), (Some(409), Some("allocationStatus"), Some(2)));
        let r = parse_fault_spec("503:retry-after=Wed, 21 Oct 2015 07:28:00 GMT:call=sessionHosts").unwrap();
        assert_eq!(r.retry_after.as_deref(), Some("Wed, 21 Oct 2015 07:28:00 GMT"));
        assert_eq!(r.call.as_deref(), Some("sessionHosts"));
        assert!(parse_fault_spec("503:call=sessionhosts").is_err());
        assert!(parse_fault_spec("503:bogus").is_err());
        assert!(parse_fault_spec("99").is_err());
        assert!(parse_fault_spec("p=3").is_err());
    }

    #[test]
    fn flags() {
        let cfg = cfg("--bind 127.0.0.1:0 --titles 1,2 --servers=3 --lifetime-secs 0.5 --poll-ms 250 \
             --region R --host-name h --revoked-token t1 --revoked-token t2 --fault 503 \
             --latency-ms 10 --drop-rate 0.1 --udp-echo --quiet --poll-as-number")
        .unwrap();
        assert_eq!(cfg.bind, "127.0.0.1:0");
        assert_eq!(cfg.allowed_titles, vec![1, 2]);
        assert_eq!(cfg.servers_per_title, 3);
        assert_eq!(cfg.server_lifetime, Duration::from_millis(500));
        assert_eq!(cfg.poll_interval_ms, 250);
        assert!(cfg.poll_interval_as_number);
        assert_eq!(cfg.region, "R");
        assert_eq!(cfg.host_name, "h");
        assert_eq!(cfg.revoked_tokens, vec!["t1", "t2"]);
        assert_eq!(cfg.faults.len(), 3);
        assert_eq!(cfg.faults[0].latency_ms, 10);
        assert!(cfg.faults[1].drop_connection);
        assert_eq!(cfg.faults[2].status, Some(503));
        assert!(cfg.udp_echo);
        assert!(!cfg.log);
        for bad in ["--nope", "--servers", "--tls-cert x", "--quiet=1", "--servers x", "--log-format xml"] {
            assert!(super::tests::cfg(bad).is_err(), "{bad}");
        }
        let d = super::tests::cfg("").unwrap();
        assert_eq!((d.bind.as_str(), d.log, d.log_format), ("127.0.0.1:8080", true, LogFormat::Human));
        let j = super::tests::cfg("--log-format json").unwrap();
        assert_eq!((j.log, j.log_format), (true, LogFormat::Json));
    }

    #[test]
    fn regions_and_family_flags() {
        let c = cfg("--region R").unwrap();
        assert_eq!(c.region, "R");
        assert_eq!(c.regions, vec![RegionConfig::new("R")]);
        let default = cfg("").unwrap();
        assert_eq!(default.region, "EmulatedWest");
        assert_eq!(default.regions, vec![RegionConfig::new("EmulatedWest")]);
        let args = Args::try_parse_from([
            "gsms-emulator",
            "--region",
            "West US:delay=20.5:jitter=2:loss=0.1",
            "--region=East",
            "--activation-ms",
            "250",
            "--session-hosts=3",
            "--no-subscriptions",
            "7,8",
            "--error-body",
            "errorcode",
            "--rate-limit",
            "10/15",
            "--quirks",
            "--quirks-seed",
            "42",
            "--qos-pending-limit",
            "16",
        ])
        .unwrap();
        let c = effective(&args).unwrap().cfg;
        assert_eq!(c.region, "West US");
        assert_eq!(
            c.regions,
            vec![
                RegionConfig::new("West US").with_delay_ms(20.5).with_jitter_ms(2.0).with_loss(0.1),
                RegionConfig::new("East")
            ]
        );
        assert_eq!(c.session_host_activation, Duration::from_millis(250));
        assert_eq!(c.session_hosts_per_title, 3);
        assert_eq!(c.titles_without_subscriptions, vec![7, 8]);
        assert_eq!(c.error_body_style, ErrorBodyStyle::ErrorCode);
        assert_eq!(c.rate_limit, Some(RateLimit { max_requests: 10, period: Duration::from_secs(15) }));
        assert!(c.quirks);
        assert_eq!(c.quirks_seed, 42);
        assert_eq!(c.qos_pending_limit, 16);
        for bad in [
            "--region :delay=1",
            "--region R:delay=x",
            "--region R:speed=1",
            "--region R:loss=2",
            "--region R:delay=-1",
            "--error-body json",
            "--rate-limit 10",
            "--rate-limit 0/1",
            "--quirks=1",
            "--variants /nonexistent/file.json",
            "--config /nonexistent/emu.toml",
        ] {
            assert!(cfg(bad).is_err(), "{bad}");
        }
    }
}
