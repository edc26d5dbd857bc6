//! `gsms-emulator`: runs the GSMS emulator until killed. See `--help`.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use gsms_emulator::{
    Config, Emulator, ErrorBodyStyle, FaultRule, RateLimit, RegionConfig, TlsConfig, VariantCatalogue, CALLS,
};

const HELP: &str = "\
gsms-emulator: a local emulator of the Xbox Live Compute game-server service (GSMS) and its
discovery service, for libgsms samples and tests. One URL serves every call:
    POST /titles/{t}/clusters            POST /titles/{t}/inlineclusters
    GET  /titles/{t}/tickets/{id}/status POST /titles/{t}/variants
    GET  /qosservers, /xplatqosservers   POST /titles/{t}/sessionhosts
    GET  /titles/{t}/sessions/{id}/allocationStatus
plus one UDP QoS beacon per region (PlayFab QoS protocol).

USAGE:
    gsms-emulator [OPTIONS]

On start it prints one line to stdout, `gsms-emulator listening on <base url>`,
then one line per request to stderr: method path status elapsed-ms correlation-id call.

OPTIONS (`--flag value` or `--flag=value`):
    --bind ADDR            Address to listen on [default: 127.0.0.1:8080]; port 0 picks a free one
    --titles LIST          Comma-separated title ids allowed to call the service; others get 403
                           [default: every title]
    --servers N            Simulated servers per title (clusters and inline clusters) [default: 2]
    --lifetime-secs S      Seconds an allocation keeps its server or session host (decimals
                           allowed) [default: 60]
    --poll-ms N            pollIntervalMilliseconds in answers [default: 1000]
    --poll-as-number       Send pollIntervalMilliseconds as a JSON number instead of a string
    --region SPEC          A QoS region with its beacon; repeatable. SPEC is
                           NAME[:delay=MS][:jitter=MS][:loss=P] (MS may have decimals, P 0..1).
                           The first one is also the region of fulfilled answers. [default: one
                           region EmulatedWest with no delay]
                           e.g. --region \"West US:delay=20:jitter=2\" --region \"North Europe:delay=80\"
    --host-name H          hostName of simulated servers, and the address UDP echo sockets and
                           QoS beacons bind (IPv4 or IPv6 literal, or a local name) [default: 127.0.0.1]
    --revoked-token V      An Authorization value (whole header value) answered 401; repeatable
    --fault SPEC           A fault rule; repeatable. SPEC is colon-separated items:
                             <status>          answer this HTTP status (100-599)
                             drop              close the connection without answering
                             retry-after=V     Retry-After value (seconds or HTTP date; put it
                                               last if the date contains colons)
                             latency=MS        wait MS milliseconds first
                             times=N           only the next N requests it fires for
                             p=P               probability 0..1 per request [default: 1]
                             call=NAME         only for this call: clusters, inlineClusters,
                                               ticketStatus, variants, qosServers, sessionHosts,
                                               allocationStatus [default: every call]
                           e.g. 503:retry-after=1:times=2:p=0.5   drop:times=1   latency=250
                                409:call=allocationStatus:times=2
                           Rules apply to service calls only (never to HEAD / or unknown paths).
    --latency-ms N         Add N ms of latency to every call (a fault rule)
    --drop-rate P          Drop a fraction P (0..1) of calls without answering (a fault rule)
    --udp-echo             Bind a UDP echo socket on the host name for each simulated server and
                           session host and report its port as the GameData external port
    --session-hosts N      Session hosts (StandingBy at start) per title [default: 2]
    --activation-ms N      A claimed session host turns Active after N ms [default: 0]
    --no-subscriptions LIST  Comma-separated title ids without subscriptions: sessionhosts
                           answers 404 for them
    --variants FILE        The variants catalogue, as JSON in the variants answer's form
                           [default: a sample of 3 variants, 2 schemas, 2 GSI sets]
    --error-body STYLE     Error body shape: description ({\"code\",\"source\",\"description\"})
                           or errorcode ({\"errorCode\",\"errorMessage\"}) [default: description]
    --rate-limit N/S       Answer 429 (Retry-After, Xbox Live throttling body) past N calls in S
                           seconds, per user and call [default: no limit]
    --qos-pending-limit N  Delayed QoS replies held at once per beacon; more are dropped
                           [default: 4096]
    --quirks               Vary every 2xx answer within what clients must accept (case, numbers
                           as strings, extra fields, key order, optional fields left out, ...)
    --quirks-seed N        Seed of --quirks (same seed, same requests: same answers) [default: 1]
    --tls-cert FILE        Serve HTTPS with this PEM certificate chain (leaf first); needs --tls-key
    --tls-key FILE         PEM private key of the certificate
    --quiet                Do not log requests
    -h, --help             Print this help
    -V, --version          Print the version

ADMIN API (no auth):
    GET    /_emulator/state            pools, queues, tickets, session hosts, sessions, variants,
                                       regions, fault rules, request count, latest 50 requests
    POST   /_emulator/reset            back to the configured state; clears counters and log
    GET    /_emulator/faults           list fault rules
    POST   /_emulator/faults           add one: {\"status\":503,\"retryAfter\":\"1\",\"latencyMs\":0,
                                       \"dropConnection\":false,\"times\":2,\"probability\":1.0,
                                       \"call\":\"sessionHosts\"}
    DELETE /_emulator/faults           clear fault rules
    POST   /_emulator/release?title=N  release every server of title N now
    POST   /_emulator/tickets/ID       {\"status\":\"Error\",\"description\":\"...\"} (or Aborted)
    GET    /_emulator/variants         the variants catalogue
    PUT    /_emulator/variants         replace it
    GET    /_emulator/regions          regions, beacons and their counters
    PUT    /_emulator/regions/NAME     {\"delayMs\":20,\"jitterMs\":2,\"loss\":0.1}
    PUT    /_emulator/subscriptions/T  {\"subscribed\":false}
    POST   /_emulator/sessionhosts/release?title=N  free every session host of title N now
    POST   /_emulator/sessions/ID      {\"status\":\"Aborted\",\"description\":\"...\"}
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let cfg = match parse_args(&args) {
        Ok(Some(cfg)) => cfg,
        Ok(None) => return ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("gsms-emulator: {msg}\nTry `gsms-emulator --help`.");
            return ExitCode::from(2);
        }
    };
    let emulator = match Emulator::start(cfg) {
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
    loop {
        std::thread::park();
    }
}

/// Ok(None) when the help or version was printed.
fn parse_args(args: &[String]) -> Result<Option<Config>, String> {
    let mut cfg = Config { bind: "127.0.0.1:8080".to_string(), log: true, ..Config::default() };
    let mut tls_cert: Option<String> = None;
    let mut tls_key: Option<String> = None;
    let mut extra_faults: Vec<FaultRule> = Vec::new();
    let mut regions: Vec<RegionConfig> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let takes_value = !matches!(
            flag,
            "-h" | "--help" | "-V" | "--version" | "--udp-echo" | "--quiet" | "--poll-as-number" | "--quirks"
        );
        let value = if takes_value {
            match inline {
                Some(v) => v,
                None => {
                    let v = args.get(i).ok_or_else(|| format!("{flag} needs a value"))?.clone();
                    i += 1;
                    v
                }
            }
        } else {
            if inline.is_some() {
                return Err(format!("{flag} takes no value"));
            }
            String::new()
        };
        match flag {
            "-h" | "--help" => {
                print!("{HELP}");
                return Ok(None);
            }
            "-V" | "--version" => {
                println!("gsms-emulator {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            "--bind" => cfg.bind = value,
            "--titles" => cfg.allowed_titles = parse_titles(flag, &value)?,
            "--servers" => cfg.servers_per_title = parse_num(flag, &value)?,
            "--lifetime-secs" => {
                let secs: f64 = parse_num(flag, &value)?;
                cfg.server_lifetime = Duration::try_from_secs_f64(secs)
                    .map_err(|_| format!("--lifetime-secs: {value:?} is not a duration"))?;
            }
            "--poll-ms" => cfg.poll_interval_ms = parse_num(flag, &value)?,
            "--poll-as-number" => cfg.poll_interval_as_number = true,
            "--region" => regions.push(parse_region_spec(&value)?),
            "--host-name" => cfg.host_name = value,
            "--revoked-token" => cfg.revoked_tokens.push(value),
            "--fault" => cfg.faults.push(parse_fault_spec(&value)?),
            "--latency-ms" => extra_faults.push(FaultRule::latency(parse_num(flag, &value)?)),
            "--drop-rate" => {
                let p: f64 = parse_num(flag, &value)?;
                if !(0.0..=1.0).contains(&p) {
                    return Err(format!("--drop-rate {p} is not in 0..1"));
                }
                extra_faults.push(FaultRule::dropped_connection().with_probability(p));
            }
            "--udp-echo" => cfg.udp_echo = true,
            "--session-hosts" => cfg.session_hosts_per_title = parse_num(flag, &value)?,
            "--activation-ms" => cfg.session_host_activation = Duration::from_millis(parse_num(flag, &value)?),
            "--no-subscriptions" => cfg.titles_without_subscriptions = parse_titles(flag, &value)?,
            "--variants" => {
                let bytes = std::fs::read(&value).map_err(|e| format!("cannot read {value}: {e}"))?;
                cfg.variants = VariantCatalogue::from_json(&bytes).map_err(|e| format!("--variants {value}: {e}"))?;
            }
            "--error-body" => {
                cfg.error_body_style = match value.to_ascii_lowercase().as_str() {
                    "description" => ErrorBodyStyle::Description,
                    "errorcode" => ErrorBodyStyle::ErrorCode,
                    _ => return Err(format!("--error-body {value:?}: expected description or errorcode")),
                }
            }
            "--rate-limit" => {
                let bad = || format!("--rate-limit {value:?}: expected N/SECONDS, e.g. 10/15");
                let (n, secs) = value.split_once('/').ok_or_else(bad)?;
                let max_requests: u32 = n.trim().parse().map_err(|_| bad())?;
                let secs: f64 = secs.trim().parse().map_err(|_| bad())?;
                let period = Duration::try_from_secs_f64(secs).map_err(|_| bad())?;
                if max_requests == 0 || period.is_zero() {
                    return Err(bad());
                }
                cfg.rate_limit = Some(RateLimit { max_requests, period });
            }
            "--qos-pending-limit" => cfg.qos_pending_limit = parse_num(flag, &value)?,
            "--quirks" => cfg.quirks = true,
            "--quirks-seed" => cfg.quirks_seed = parse_num(flag, &value)?,
            "--tls-cert" => tls_cert = Some(value),
            "--tls-key" => tls_key = Some(value),
            "--quiet" => cfg.log = false,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    // Latency first (it stacks with what follows), then drops, then the --fault rules.
    let latency: Vec<FaultRule> = extra_faults.iter().filter(|r| !r.drop_connection).cloned().collect();
    let drops: Vec<FaultRule> = extra_faults.into_iter().filter(|r| r.drop_connection).collect();
    cfg.faults = latency.into_iter().chain(drops).chain(cfg.faults).collect();
    if let Some(first) = regions.first() {
        cfg.region = first.name.clone();
        cfg.regions = regions;
    }
    match (tls_cert, tls_key) {
        (None, None) => {}
        (Some(cert), Some(key)) => {
            let read = |p: &str| std::fs::read(p).map_err(|e| format!("cannot read {p}: {e}"));
            cfg.tls = Some(TlsConfig { cert_pem: read(&cert)?, key_pem: read(&key)? });
        }
        _ => return Err("--tls-cert and --tls-key go together".to_string()),
    }
    Ok(Some(cfg))
}

/// A comma-separated list of title ids.
fn parse_titles(flag: &str, list: &str) -> Result<Vec<u32>, String> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| parse_num::<u32>(flag, s)).collect()
}

fn parse_num<T: std::str::FromStr>(flag: &str, s: &str) -> Result<T, String> {
    s.trim().parse().map_err(|_| format!("{flag}: {s:?} is not a valid number"))
}

/// `503:retry-after=1:times=2:p=0.5`, `drop:times=1`, `latency=250`.
fn parse_fault_spec(spec: &str) -> Result<FaultRule, String> {
    let bad = |why: String| format!("--fault {spec:?}: {why}");
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
    let bad = |why: String| format!("--region {spec:?}: {why}");
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

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
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
        let cfg = parse_args(&args(
            "--bind 127.0.0.1:0 --titles 1,2 --servers=3 --lifetime-secs 0.5 --poll-ms 250 \
             --region R --host-name h --revoked-token t1 --revoked-token t2 --fault 503 \
             --latency-ms 10 --drop-rate 0.1 --udp-echo --quiet --poll-as-number",
        ))
        .unwrap()
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
        assert!(parse_args(&args("--nope")).is_err());
        assert!(parse_args(&args("--servers")).is_err());
        assert!(parse_args(&args("--tls-cert x")).is_err());
        assert!(parse_args(&args("--quiet=1")).is_err());
    }

    #[test]
    fn regions_and_family_flags() {
        let cfg = parse_args(&args("--region R")).unwrap().unwrap();
        assert_eq!(cfg.region, "R");
        assert_eq!(cfg.regions, vec![RegionConfig::new("R")]);
        let default = parse_args(&args("")).unwrap().unwrap();
        assert_eq!(default.region, "EmulatedWest");
        assert_eq!(default.regions, vec![RegionConfig::new("EmulatedWest")]);
        let cfg = parse_args(&[
            "--region".to_string(),
            "West US:delay=20.5:jitter=2:loss=0.1".to_string(),
            "--region=East".to_string(),
            "--activation-ms".to_string(),
            "250".to_string(),
            "--session-hosts=3".to_string(),
            "--no-subscriptions".to_string(),
            "7,8".to_string(),
            "--error-body".to_string(),
            "errorcode".to_string(),
            "--rate-limit".to_string(),
            "10/15".to_string(),
            "--quirks".to_string(),
            "--quirks-seed".to_string(),
            "42".to_string(),
            "--qos-pending-limit".to_string(),
            "16".to_string(),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(cfg.region, "West US");
        assert_eq!(
            cfg.regions,
            vec![
                RegionConfig::new("West US").with_delay_ms(20.5).with_jitter_ms(2.0).with_loss(0.1),
                RegionConfig::new("East")
            ]
        );
        assert_eq!(cfg.session_host_activation, Duration::from_millis(250));
        assert_eq!(cfg.session_hosts_per_title, 3);
        assert_eq!(cfg.titles_without_subscriptions, vec![7, 8]);
        assert_eq!(cfg.error_body_style, ErrorBodyStyle::ErrorCode);
        assert_eq!(cfg.rate_limit, Some(RateLimit { max_requests: 10, period: Duration::from_secs(15) }));
        assert!(cfg.quirks);
        assert_eq!(cfg.quirks_seed, 42);
        assert_eq!(cfg.qos_pending_limit, 16);
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
        ] {
            assert!(parse_args(&args(bad)).is_err(), "{bad}");
        }
    }
}
