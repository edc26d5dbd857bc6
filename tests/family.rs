//! The rest of the family (inline clusters and ticket status, variants, QoS servers, session hosts
//! and allocation status) against the emulator over real loopback HTTP, through the blocking core
//! client and the async runtime: the values read back, what goes on the wire, and every error
//! path of PROTOCOL.md's shared rules (retries, Retry-After, 401 refresh, deadline, cancel,
//! invalid arguments, secrets). The C ABI of the same calls: tests/family_ffi.rs.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::*;
use gsms::core::call::{self, Call};
use gsms::core::calls::inline_clusters::{create_inline_cluster, AllocateInlineCluster};
use gsms::core::calls::qos_servers::get_qos_servers;
use gsms::core::calls::session_hosts::create_session_host;
use gsms::core::calls::tickets::get_ticket_status;
use gsms::core::calls::variants::get_variants;
use gsms::core::{
    AllocateSessionHost, CallInfo, CancelToken, GetAllocationStatus, HasInfo, HostStatus, InlineClusterRequest,
    InlineField, MeasureQos, QosProbe, QosServersResult, SessionHostRequest, SessionHostResult, TicketResult,
    TokenProvider, VariantsRequest, VariantsResult,
};
use gsms::runtime::{Client as RtClient, Taken};
use gsms_emulator::{RegionConfig, TicketStatus};
use serde_json::{json, Value};

const SESSION: &str = "6f0c6c42-0000-4000-8000-000000000001";

fn regions_emu(f: impl FnOnce(&mut EmuConfig)) -> Emulator {
    emulator(|c| {
        c.regions = vec![RegionConfig::new("West US"), RegionConfig::new("North Europe").with_delay_ms(15.0)];
        c.region = "West US".into();
        f(c);
    })
}

fn run<C: Call>(client: &Client, c: C) -> C::Output {
    call::run(c, client, &CallOptions::default())
}

fn run_opts<C: Call>(client: &Client, c: C, opts: &CallOptions<'_>) -> C::Output {
    call::run(c, client, opts)
}

fn inline_req(ticket: &str, location: &str) -> InlineClusterRequest {
    let mut r = InlineClusterRequest::new(TITLE);
    r.set(InlineField::ServiceConfigId, "00000000-0000-0000-0000-0000000000aa").unwrap();
    r.set(InlineField::SandboxId, "XDKS.1").unwrap();
    r.set(InlineField::TicketId, ticket).unwrap();
    r.set(InlineField::GsiSetId, "9c4a1d7e-0000-4000-8000-00000000c001").unwrap();
    r.set(InlineField::GameVariantId, "3b0e7f52-0000-4000-8000-00000000b001").unwrap();
    r.set(InlineField::Location, location).unwrap();
    r.set_max_allowed_players(8).unwrap();
    r
}

fn host_req(session: &str, locations: &[&str]) -> SessionHostRequest {
    let mut r = SessionHostRequest::new(TITLE);
    r.set_session_id(session).unwrap();
    r.set_cloud_game_id("gsi-set-1").unwrap();
    for l in locations {
        r.add_location(l).unwrap();
    }
    r
}

fn body_of(r: &gsms_emulator::RecordedRequest) -> Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{} {}: body is not JSON ({e})", r.method, r.path))
}

fn state(emu: &Emulator) -> Value {
    let mut resp = ureq::get(&format!("{}/_emulator/state", emu.base_url())).call().unwrap();
    resp.body_mut().read_json::<Value>().unwrap()
}

fn admin_post(emu: &Emulator, path: &str, body: &Value) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let resp = agent
        .post(&format!("{}{path}", emu.base_url()))
        .header("content-type", "application/json")
        .send(body.to_string())
        .unwrap();
    resp.status().as_u16()
}

/// Asserts what every family request carries, whatever the call.
fn assert_common_headers(r: &gsms_emulator::RecordedRequest, contract: &str) {
    assert_eq!(r.header("x-xbl-contract-version"), Some(contract), "{} {}", r.method, r.path);
    assert_eq!(r.header("authorization"), Some(TOKEN), "{} {}", r.method, r.path);
    assert_eq!(r.header("user-agent"), Some(&*format!("gsms/{}", env!("CARGO_PKG_VERSION"))));
    if r.method == "GET" {
        assert!(r.body.is_empty(), "a GET sends no body: {}", r.path);
        assert_eq!(r.header("content-type"), None, "a GET sends no Content-Type: {}", r.path);
    } else {
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("content-length"), Some(&*r.body.len().to_string()));
    }
}

/// A cancel token that another thread cancels after `d` (join the handle).
fn cancel_after(d: Duration) -> (Arc<CancelToken>, thread::JoinHandle<()>) {
    let cancel = Arc::new(CancelToken::new());
    let c2 = Arc::clone(&cancel);
    (
        cancel,
        thread::spawn(move || {
            thread::sleep(d);
            c2.cancel();
        }),
    )
}

/// A call run with options, returning what it learnt.
type CallFn = Box<dyn Fn(&Client, &CallOptions<'_>) -> CallInfo>;

/// Every family call once, by its emulator name, returning what the call learnt.
fn each_call() -> Vec<(&'static str, CallFn)> {
    vec![
        (
            "inlineClusters",
            Box::new(|c: &Client, o: &CallOptions<'_>| {
                run_opts(c, create_inline_cluster(&inline_req("ft", "West US")), o).info
            }),
        ),
        (
            "ticketStatus",
            Box::new(|c: &Client, o: &CallOptions<'_>| run_opts(c, get_ticket_status(TITLE, "ft"), o).info),
        ),
        (
            "variants",
            Box::new(|c: &Client, o: &CallOptions<'_>| run_opts(c, get_variants(&VariantsRequest::new(TITLE)), o).info),
        ),
        ("qosServers", Box::new(|c: &Client, o: &CallOptions<'_>| run_opts(c, get_qos_servers(true), o).info)),
        (
            "sessionHosts",
            Box::new(|c: &Client, o: &CallOptions<'_>| {
                run_opts(c, create_session_host(&host_req(SESSION, &["West US"])), o).info
            }),
        ),
        (
            "allocationStatus",
            Box::new(|c: &Client, o: &CallOptions<'_>| run_opts(c, GetAllocationStatus::new(TITLE, SESSION), o).info),
        ),
    ]
}

/// The emulator with the ticket and the session the calls of [`each_call`] ask about.
fn seeded(f: impl FnOnce(&mut EmuConfig)) -> (Emulator, Client) {
    let emu = regions_emu(f);
    let client = Client::new(&config(&emu)).unwrap();
    assert_eq!(run(&client, create_inline_cluster(&inline_req("ft", "West US"))).status, Status::Ok);
    assert_eq!(run(&client, create_session_host(&host_req(SESSION, &["West US"]))).status, Status::Ok);
    (emu, client)
}

// ----- inline clusters and ticket status -----

#[test]
fn inline_cluster_fulfilled_with_where_to_connect_and_the_documented_body() {
    let emu = regions_emu(|_| {});
    let client = Client::new(&config(&emu)).unwrap();
    let r = run(&client, create_inline_cluster(&inline_req("ticket-1", "north europe")));
    assert_eq!(r.status, Status::Ok, "{}", r.error_message);
    assert_eq!(r.fulfillment_state, FulfillmentState::Fulfilled);
    assert_eq!(r.host_name, "127.0.0.1");
    assert_eq!(r.region, "North Europe", "the location, spelled as the service knows it");
    assert!(!r.secure_context.is_empty());
    let game = r.ports.iter().find(|p| p.name == "GameData").expect("GameData");
    assert_eq!((game.internal, game.external), (7777, 31000));
    assert_eq!((r.http_status, r.attempts), (200, 1));
    assert!(r.raw_json.contains("fulfillmentState"), "{}", r.raw_json);

    let seen = emu.requests();
    assert_eq!(seen.len(), 1);
    let q = &seen[0];
    assert_eq!((q.method.as_str(), q.path.as_str()), ("POST", &*format!("/titles/{TITLE}/inlineclusters")));
    assert_eq!(q.call, Some("inlineClusters"));
    assert_common_headers(q, "2");
    assert_eq!(r.correlation_id, q.correlation_id, "the answer's X-XblCorrelationId is kept");
    assert!(!r.correlation_id.is_empty());
    assert_eq!(
        body_of(q),
        json!({
            "serviceConfigId": "00000000-0000-0000-0000-0000000000aa",
            "sandboxId": "XDKS.1",
            "ticketId": "ticket-1",
            "gsiSetId": "9c4a1d7e-0000-4000-8000-00000000c001",
            "gameVariantId": "3b0e7f52-0000-4000-8000-00000000b001",
            "location": "north europe",
            "maxAllowedPlayers": 8
        }),
        "abortIfQueued is left out unless set"
    );
    // The emulator holds the ticket on a server.
    let st = state(&emu);
    assert!(st["tickets"].to_string().contains("ticket-1"), "{}", st["tickets"]);
}

#[test]
fn inline_cluster_abort_if_queued_is_sent_as_true_and_answers_aborted() {
    let emu = regions_emu(|c| c.servers_per_title = 1);
    let client = Client::new(&config(&emu)).unwrap();
    assert_eq!(
        run(&client, create_inline_cluster(&inline_req("holder", "West US"))).fulfillment_state,
        FulfillmentState::Fulfilled
    );
    let mut req = inline_req("impatient", "West US");
    req.abort_if_queued = true;
    let r = run(&client, AllocateInlineCluster::new(&req));
    assert_eq!(r.status, Status::Ok, "{}", r.error_message);
    assert_eq!(r.fulfillment_state, FulfillmentState::Aborted);
    assert_eq!(r.attempts, 1, "an Aborted answer is final: no ticket status");
    let seen = emu.requests();
    assert_eq!(body_of(&seen[1])["abortIfQueued"], json!(true));
    assert_eq!(body_of(&seen[1]).as_object().unwrap().len(), 8);
    let t = run(&client, get_ticket_status(TITLE, "impatient"));
    assert_eq!(t.status, HostStatus::Aborted);
    assert!(t.description.contains("abortIfQueued"), "{}", t.description);
}

#[test]
fn allocate_inline_cluster_follows_the_ticket_until_active() {
    let emu = Arc::new(regions_emu(|c| c.servers_per_title = 1));
    let client = Client::new(&config(&emu)).unwrap();
    assert_eq!(run(&client, create_inline_cluster(&inline_req("holder", "West US"))).status, Status::Ok);
    let e2 = Arc::clone(&emu);
    let releaser = thread::spawn(move || {
        thread::sleep(Duration::from_millis(350));
        e2.release_all(TITLE);
    });
    let mut progress = Vec::new();
    let t = Instant::now();
    let r = call::run_with_progress(
        AllocateInlineCluster::new(&inline_req("waiter", "north europe")),
        &client,
        &CallOptions::default(),
        &mut |r| progress.push((r.fulfillment_state, r.status)),
    );
    releaser.join().unwrap();
    assert_eq!(r.status, Status::Ok, "{}", r.error_message);
    assert_eq!(r.fulfillment_state, FulfillmentState::Fulfilled, "Active maps to Fulfilled");
    assert_eq!(r.host_name, "127.0.0.1");
    assert_eq!(r.region, "North Europe");
    assert!(!r.secure_context.is_empty());
    assert_eq!(r.ports.iter().find(|p| p.name == "GameData").map(|p| p.internal), Some(7777));
    assert!(progress.len() >= 2, "{progress:?}");
    assert!(progress.iter().all(|p| *p == (FulfillmentState::Queued, Status::Ok)), "{progress:?}");
    assert_eq!(r.attempts as usize, progress.len() + 1);
    // At the emulator's 100 ms interval, not faster (the floor) and not much slower.
    assert!(t.elapsed() >= Duration::from_millis(350), "{:?}", t.elapsed());

    let seen: Vec<_> = emu.requests().into_iter().skip(1).collect();
    assert_eq!(seen[0].call, Some("inlineClusters"));
    assert_eq!(seen.len(), r.attempts as usize);
    for g in &seen[1..] {
        assert_eq!(g.call, Some("ticketStatus"), "following is by ticket status, never a second POST");
        assert_eq!((g.method.as_str(), g.path.as_str()), ("GET", &*format!("/titles/{TITLE}/tickets/waiter/status")));
        assert_common_headers(g, "6");
    }
    assert_eq!(r.correlation_id, seen.last().unwrap().correlation_id);
}

#[test]
fn a_ticket_turning_error_ends_the_allocation_with_allocation_failed() {
    let emu = Arc::new(regions_emu(|c| c.servers_per_title = 1));
    let client = Client::new(&config(&emu)).unwrap();
    run(&client, create_inline_cluster(&inline_req("holder", "West US")));
    let e2 = Arc::clone(&emu);
    let setter = thread::spawn(move || {
        thread::sleep(Duration::from_millis(250));
        e2.set_ticket_status("doomed", TicketStatus::Error, "the build crashed").unwrap();
    });
    let r = run(&client, AllocateInlineCluster::new(&inline_req("doomed", "West US")));
    setter.join().unwrap();
    assert_eq!(r.status, Status::AllocationFailed, "{}", r.error_message);
    assert!(r.error_message.contains("the build crashed"), "{}", r.error_message);
    assert_eq!(r.http_status, 200);
    assert!(r.attempts >= 2);

    // Aborted (through the admin API) is a final answer, not a failure.
    let e3 = Arc::clone(&emu);
    let aborter = thread::spawn(move || {
        thread::sleep(Duration::from_millis(250));
        assert_eq!(
            admin_post(&e3, "/_emulator/tickets/dropped", &json!({"status":"Aborted","description":"match cancelled"})),
            200
        );
    });
    let r = run(&client, AllocateInlineCluster::new(&inline_req("dropped", "West US")));
    aborter.join().unwrap();
    assert_eq!(r.status, Status::Ok, "{}", r.error_message);
    assert_eq!(r.fulfillment_state, FulfillmentState::Aborted);
}

#[test]
fn ticket_status_reads_every_field_and_percent_encodes_the_id() {
    let emu = regions_emu(|_| {});
    let client = Client::new(&config(&emu)).unwrap();
    let id = "group/1 é+x?";
    assert_eq!(run(&client, create_inline_cluster(&inline_req(id, "West US"))).status, Status::Ok);
    let t = run(&client, get_ticket_status(TITLE, id));
    assert_eq!(t.status, HostStatus::Active, "{}", t.error_message);
    assert_eq!(t.ticket_id, id, "the emulator decoded the same id");
    assert_eq!(t.title_id, TITLE);
    assert_eq!(t.host_name, "127.0.0.1");
    assert_eq!(t.region, "West US");
    assert!(!t.cluster_id.is_empty() && !t.game_host_id.is_empty() && !t.secure_context.is_empty());
    assert_eq!(t.ports.iter().find(|p| p.name == "GameData").map(|p| (p.internal, p.external)), Some((7777, 31000)));
    assert_eq!(t.info.status, Status::Ok);
    assert_eq!(t.attempts, 1);
    let g = emu.requests().pop().unwrap();
    assert_eq!(g.path, format!("/titles/{TITLE}/tickets/group%2F1%20%C3%A9%2Bx%3F/status"));
    assert_common_headers(&g, "6");
    assert_eq!(t.correlation_id, g.correlation_id);

    // An unknown ticket is the service's 404, final, with its message.
    let n = run(&client, get_ticket_status(TITLE, "nobody"));
    assert_eq!(n.info.status, Status::HttpStatus);
    assert_eq!((n.http_status, n.attempts), (404, 1));
    assert!(n.error_message.contains("404"), "{}", n.error_message);
    assert!(n.raw_json.contains("gsms-emulator"), "the error body is kept: {}", n.raw_json);
}

#[test]
fn a_queued_ticket_has_no_host_yet() {
    let emu = regions_emu(|c| c.servers_per_title = 1);
    let client = Client::new(&config(&emu)).unwrap();
    run(&client, create_inline_cluster(&inline_req("a", "West US")));
    let q = run(&client, create_inline_cluster(&inline_req("b", "West US")));
    assert_eq!(q.fulfillment_state, FulfillmentState::Queued);
    assert_eq!(q.poll_interval_ms, 100, "the emulator's interval");
    let t = run(&client, get_ticket_status(TITLE, "b"));
    assert_eq!(t.status, HostStatus::Queued);
    assert_eq!((t.host_name.as_str(), t.ports.len()), ("", 0));
    assert!(t.description.contains("ahead"), "{}", t.description);
}

// ----- variants -----

#[test]
fn variants_read_the_catalogue_and_send_the_documented_body() {
    let emu = emulator(|_| {});
    let client = Client::new(&config(&emu)).unwrap();
    let v: VariantsResult = run(&client, get_variants(&VariantsRequest::new(TITLE)));
    assert_eq!(v.status, Status::Ok, "{}", v.error_message);
    let cat = gsms_emulator::VariantCatalogue::sample();
    assert_eq!(v.variants.len(), 3);
    for (got, want) in v.variants.iter().zip(&cat.variants) {
        assert_eq!(
            (got.id.as_str(), got.name.as_str(), got.is_publisher, got.rank, got.schema_id.as_str()),
            (want.id.as_str(), want.name.as_str(), want.is_publisher, want.rank, want.schema_id.as_str())
        );
    }
    assert!(!v.variants[2].is_publisher);
    assert_eq!(v.schemas.len(), 2);
    for (got, want) in v.schemas.iter().zip(&cat.schemas) {
        assert_eq!(
            (got.id.as_str(), got.name.as_str(), got.content.as_str()),
            (want.id.as_str(), want.name.as_str(), want.content.as_str())
        );
    }
    assert!(v.schemas[0].content.starts_with("<?xml"));
    assert_eq!(v.gsi_sets.len(), 2);
    for (got, want) in v.gsi_sets.iter().zip(&cat.gsi_sets) {
        assert_eq!(got.id, want.id);
        assert_eq!(got.name, want.name);
        assert_eq!(
            (got.min_players, got.max_players, got.selection_order),
            (want.min_required_players, want.max_allowed_players, want.selection_order)
        );
        assert_eq!(got.schema_id, want.schema_id);
        let tags: Vec<(String, String)> = got.tags.iter().map(|t| (t.name.clone(), t.value.clone())).collect();
        assert_eq!(tags, want.tags);
    }
    assert_eq!((v.gsi_sets[1].min_players, v.gsi_sets[1].max_players), (4, 16));

    let q = emu.requests().pop().unwrap();
    assert_eq!((q.method.as_str(), q.path.as_str()), ("POST", &*format!("/titles/{TITLE}/variants")));
    assert_common_headers(&q, "1");
    assert_eq!(
        body_of(&q),
        json!({"locale":"en-us","maxAllowedPlayers":0,"maxVariants":0,"publisherOnly":false,"tags":[]})
    );
    assert_eq!(v.correlation_id, q.correlation_id);

    // Filters: what is set is sent, and the emulator applies it.
    let mut req = VariantsRequest::new(TITLE);
    req.set_locale("fr-FR").unwrap();
    req.max_allowed_players = 8;
    req.max_variants = 1;
    req.publisher_only = true;
    req.add_tag("mode", "ranked").unwrap();
    req.add_tag("size", "").unwrap();
    let v = run(&client, get_variants(&req));
    assert_eq!(v.variants.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(), ["Deathmatch"]);
    assert_eq!(
        body_of(&emu.requests().pop().unwrap()),
        json!({"locale":"fr-FR","maxAllowedPlayers":8,"maxVariants":1,"publisherOnly":true,
               "tags":[{"name":"mode","value":"ranked"},{"name":"size","value":""}]})
    );
    req.max_variants = 0;
    let names: Vec<String> = run(&client, get_variants(&req)).variants.into_iter().map(|v| v.name).collect();
    assert_eq!(names, ["Deathmatch", "Capture the Flag"], "publisherOnly");
}

#[test]
fn variants_and_qos_servers_go_to_the_discovery_host_once_it_is_set() {
    let alloc = regions_emu(|_| {});
    let disco = regions_emu(|_| {});
    let mut cfg = config(&alloc);
    cfg.set_discovery_base_url(&disco.base_url()).unwrap();
    let client = Client::new(&cfg).unwrap();
    assert_eq!(run(&client, get_variants(&VariantsRequest::new(TITLE))).status, Status::Ok);
    assert_eq!(run(&client, get_qos_servers(false)).status, Status::Ok);
    assert_eq!(run(&client, create_inline_cluster(&inline_req("t", "West US"))).status, Status::Ok);
    assert_eq!(run(&client, get_ticket_status(TITLE, "t")).status, HostStatus::Active);
    assert_eq!(run(&client, create_session_host(&host_req(SESSION, &["West US"]))).status, Status::Ok);
    assert_eq!(run(&client, GetAllocationStatus::new(TITLE, SESSION)).status, Status::Ok);
    let calls = |e: &Emulator| e.requests().into_iter().map(|r| r.call.unwrap_or("?")).collect::<Vec<_>>();
    assert_eq!(calls(&disco), ["variants", "qosServers"]);
    assert_eq!(calls(&alloc), ["inlineClusters", "ticketStatus", "sessionHosts", "allocationStatus"]);
    // Unset, it follows the changed base URL: everything goes to one emulator (the other tests).
}

// ----- QoS servers -----

#[test]
fn qos_servers_list_the_beacons_and_feed_a_measurement() {
    let emu = emulator(|c| {
        c.regions = vec![RegionConfig::new("Slow Region").with_delay_ms(40.0), RegionConfig::new("Fast Region")];
    });
    let client = Client::new(&config(&emu)).unwrap();
    let beacons = emu.qos_beacons();
    for (xplat, path) in [(true, "/xplatqosservers"), (false, "/qosservers")] {
        let s: QosServersResult = run(&client, get_qos_servers(xplat));
        assert_eq!(s.status, Status::Ok, "{}", s.error_message);
        assert_eq!(s.servers.len(), 2);
        for (got, (region, addr)) in s.servers.iter().zip(&beacons) {
            assert_eq!(got.fqdn, format!("127.0.0.1:{}", addr.port()));
            assert_eq!(got.target_location, region.name);
            assert!(!got.secure_device_address.is_empty());
        }
        let g = emu.requests().pop().unwrap();
        assert_eq!((g.method.as_str(), g.path.as_str()), ("GET", path));
        assert_common_headers(&g, "1");
        assert_eq!(s.correlation_id, g.correlation_id);
    }
    // The answer feeds the measurement: the fast region wins.
    let mut probe = QosProbe::new();
    probe.add_servers(&run(&client, get_qos_servers(true))).unwrap();
    probe.set_options(3, 2, 500).unwrap();
    let q = run(&client, MeasureQos::new(&probe));
    assert_eq!(q.status, Status::Ok, "{}", q.error_message);
    assert_eq!(q.best_region(), "Fast Region");
    assert_eq!(q.regions.len(), 2);
    assert!(q.regions[1].latency_us.unwrap() >= 30_000, "{:?}", q.regions);
}

// ----- session hosts and allocation status -----

#[test]
fn session_host_fulfilled_at_once_with_the_documented_body() {
    let emu = regions_emu(|_| {});
    let client = Client::new(&config(&emu)).unwrap();
    let mut req = host_req(SESSION, &["Mars", "north europe"]);
    req.set_session_cookie("{\"mode\":\"ranked\"}").unwrap();
    req.set_game_mode_id("mode-1").unwrap();
    req.set_sandbox_id("XDKS.1").unwrap();
    let r: SessionHostResult = run(&client, create_session_host(&req));
    assert_eq!(r.status, Status::Ok, "{}", r.error_message);
    assert_eq!(r.fulfillment_state, FulfillmentState::Fulfilled);
    assert_eq!(r.host_name, "127.0.0.1");
    assert_eq!(r.region, "North Europe", "the first location that names a region");
    assert_eq!(r.session_host_id.len(), 36, "{}", r.session_host_id);
    assert!(!r.secure_context.is_empty());
    assert_eq!(r.ports.iter().find(|p| p.name == "GameData").map(|p| (p.internal, p.external)), Some((7777, 32000)));
    let q = emu.requests().pop().unwrap();
    assert_eq!((q.method.as_str(), q.path.as_str()), ("POST", &*format!("/titles/{TITLE}/sessionhosts")));
    assert_common_headers(&q, "8");
    assert_eq!(
        body_of(&q),
        json!({"sessionId": SESSION, "cloudGameId": "gsi-set-1", "locations": ["Mars", "north europe"],
               "sessionCookie": "{\"mode\":\"ranked\"}", "gameModeId": "mode-1", "sandboxId": "XDKS.1"})
    );
    assert_eq!(r.correlation_id, q.correlation_id);

    // Its allocation status: the same host, and the ids the service adds.
    let s = run(&client, GetAllocationStatus::new(TITLE, SESSION));
    assert_eq!(s.status, Status::Ok, "{}", s.error_message);
    assert_eq!(s.fulfillment_state, FulfillmentState::Fulfilled);
    assert_eq!(s.session_id, SESSION);
    assert_eq!((s.host_name.as_str(), s.session_host_id.as_str()), (r.host_name.as_str(), r.session_host_id.as_str()));
    assert_eq!((s.region.as_str(), s.secure_context.as_str()), (r.region.as_str(), r.secure_context.as_str()));
    assert_eq!(s.ports, r.ports);
    assert!(!s.cluster_id.is_empty() && !s.ticket_id.is_empty() && !s.game_host_id.is_empty());
    let g = emu.requests().pop().unwrap();
    assert_eq!(
        (g.method.as_str(), g.path.as_str()),
        ("GET", &*format!("/titles/{TITLE}/sessions/{SESSION}/allocationStatus"))
    );
    assert_common_headers(&g, "8");
    let st = state(&emu);
    assert_eq!(st["sessionHosts"][0]["hosts"][0]["state"], json!("Active"), "{}", st["sessionHosts"]);
    assert_eq!(st["sessionHosts"][0]["hosts"][0]["sessionId"], json!(SESSION));
}

#[test]
fn session_ids_are_percent_encoded_and_unknown_ones_are_404() {
    let emu = regions_emu(|_| {});
    let client = Client::new(&config(&emu)).unwrap();
    let id = "match/7 ü";
    assert_eq!(run(&client, create_session_host(&host_req(id, &["West US"]))).status, Status::Ok);
    let s = run(&client, GetAllocationStatus::new(TITLE, id));
    assert_eq!(s.status, Status::Ok, "{}", s.error_message);
    assert_eq!(s.session_id, id);
    assert_eq!(
        emu.requests().pop().unwrap().path,
        format!("/titles/{TITLE}/sessions/match%2F7%20%C3%BC/allocationStatus")
    );
    let n = run(&client, GetAllocationStatus::new(TITLE, "nobody"));
    assert_eq!((n.status, n.http_status, n.attempts), (Status::HttpStatus, 404, 1));
}

#[test]
fn allocate_session_host_follows_a_queued_host_until_fulfilled() {
    let emu = regions_emu(|c| c.session_host_activation = Duration::from_millis(300));
    let client = Client::new(&config(&emu)).unwrap();
    let mut progress = Vec::new();
    let t = Instant::now();
    let r = call::run_with_progress(
        AllocateSessionHost::new(&host_req(SESSION, &["West US"])),
        &client,
        &CallOptions::default(),
        &mut |r: &SessionHostResult| progress.push(r.fulfillment_state),
    );
    let took = t.elapsed();
    assert_eq!(r.status, Status::Ok, "{}", r.error_message);
    assert_eq!(r.fulfillment_state, FulfillmentState::Fulfilled);
    assert_eq!(r.session_id, SESSION);
    assert_eq!(r.host_name, "127.0.0.1");
    assert_eq!(r.region, "West US");
    assert!(!r.session_host_id.is_empty());
    assert_eq!(progress, [FulfillmentState::Queued], "one poll, 1000 ms later");
    assert_eq!(r.attempts, 2);
    // 1000 ms between polls unless an answer says otherwise (FAMILY.md).
    assert!(took >= Duration::from_millis(950) && took < Duration::from_millis(2500), "{took:?}");
    let seen = emu.requests();
    assert_eq!(seen.iter().map(|r| r.call.unwrap()).collect::<Vec<_>>(), ["sessionHosts", "allocationStatus"]);
}

#[test]
fn allocate_session_host_after_a_409_polls_allocation_status() {
    let emu = regions_emu(|c| c.session_host_activation = Duration::from_millis(300));
    let client = Client::new(&config(&emu)).unwrap();
    let first = run(&client, create_session_host(&host_req(SESSION, &["West US"])));
    assert_eq!(first.fulfillment_state, FulfillmentState::Queued);
    // The same session again while its host activates: 409, then followed to the end.
    let r = run(&client, AllocateSessionHost::new(&host_req(SESSION, &["West US"])));
    assert_eq!(r.status, Status::Ok, "{}", r.error_message);
    assert_eq!(r.fulfillment_state, FulfillmentState::Fulfilled);
    assert_eq!(r.session_host_id, first.session_host_id);
    assert_eq!(r.http_status, 200);
    assert_eq!(r.error_message, "", "the 409 is not the outcome");
    let statuses: Vec<(u16, &str)> = emu.requests().iter().skip(1).map(|r| (r.status, r.call.unwrap())).collect();
    assert_eq!(statuses[0], (409, "sessionHosts"));
    assert!(statuses[1..].iter().all(|s| s.1 == "allocationStatus"), "{statuses:?}");
    // A plain create on a 409 is final.
    let emu2 = regions_emu(|c| c.session_host_activation = Duration::from_millis(300));
    let c2 = Client::new(&config(&emu2)).unwrap();
    run(&c2, create_session_host(&host_req(SESSION, &["West US"])));
    let again = run(&c2, create_session_host(&host_req(SESSION, &["West US"])));
    assert_eq!((again.status, again.http_status, again.attempts), (Status::HttpStatus, 409, 1));
    assert!(again.error_message.contains("not Active yet"), "{}", again.error_message);
}

#[test]
fn no_standing_by_host_is_a_503_retried_under_the_policy() {
    // Retry-After: 1 is more than this policy's max delay (200 ms): stop at once.
    let emu = Arc::new(regions_emu(|c| c.session_hosts_per_title = 1));
    let client = Client::new(&config(&emu)).unwrap();
    assert_eq!(run(&client, create_session_host(&host_req("a", &["West US"]))).status, Status::Ok);
    let t = Instant::now();
    let r = run(&client, AllocateSessionHost::new(&host_req("b", &["West US"])));
    assert_eq!(r.status, Status::RetriesExhausted, "{}", r.error_message);
    assert_eq!((r.http_status, r.attempts, r.retry_after_ms), (503, 1, 1000));
    assert!(r.error_message.contains("StandingBy"), "the service's reason is kept: {}", r.error_message);
    assert!(t.elapsed() < Duration::from_millis(500));

    // A policy that can wait 1 s retries, and gets the host freed meanwhile.
    let mut cfg = config(&emu);
    cfg.set_retry_policy(3, 10, 2000).unwrap();
    let patient = Client::new(&cfg).unwrap();
    let e2 = Arc::clone(&emu);
    let freer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(300));
        assert_eq!(e2.release_session_hosts(TITLE), 1);
    });
    let t = Instant::now();
    let r = run(&patient, AllocateSessionHost::new(&host_req("b", &["West US"])));
    freer.join().unwrap();
    assert_eq!(r.status, Status::Ok, "{}", r.error_message);
    assert_eq!(r.fulfillment_state, FulfillmentState::Fulfilled);
    assert_eq!(r.attempts, 2);
    assert!(t.elapsed() >= Duration::from_millis(950), "Retry-After is honoured: {:?}", t.elapsed());
}

#[test]
fn a_title_without_subscriptions_is_404_and_an_aborted_session_reads_aborted() {
    let emu = regions_emu(|_| {});
    let client = Client::new(&config(&emu)).unwrap();
    emu.set_title_subscribed(TITLE, false);
    let r = run(&client, AllocateSessionHost::new(&host_req(SESSION, &["West US"])));
    assert_eq!((r.status, r.http_status, r.attempts), (Status::HttpStatus, 404, 1));
    emu.set_title_subscribed(TITLE, true);
    assert_eq!(run(&client, create_session_host(&host_req(SESSION, &["West US"]))).status, Status::Ok);
    emu.abort_session(SESSION, "the match was cancelled").unwrap();
    let s = run(&client, GetAllocationStatus::new(TITLE, SESSION));
    assert_eq!(s.status, Status::Ok);
    assert_eq!(s.fulfillment_state, FulfillmentState::Aborted);
    assert_eq!(s.description, "the match was cancelled");
}

// ----- the shared rules, for every call -----

#[test]
fn every_call_retries_503_and_succeeds() {
    let (emu, client) = seeded(|_| {});
    for (name, f) in each_call() {
        emu.add_fault(FaultRule::http_status(503).with_times(2).for_call(name));
        let before = emu.request_count();
        let i = f(&client, &CallOptions::default());
        assert_eq!(i.status, Status::Ok, "{name}: {}", i.error_message);
        assert_eq!((i.attempts, i.http_status), (3, 200), "{name}");
        assert_eq!(emu.request_count() - before, 3, "{name}");
    }
}

#[test]
fn every_call_gives_up_on_a_retry_after_beyond_the_max_delay_and_keeps_it() {
    let (emu, client) = seeded(|_| {});
    for (name, f) in each_call() {
        emu.clear_faults();
        emu.add_fault(FaultRule::http_status(429).with_retry_after("5").for_call(name));
        let i = f(&client, &CallOptions::default());
        assert_eq!(i.status, Status::RetriesExhausted, "{name}: {}", i.error_message);
        assert_eq!((i.attempts, i.http_status, i.retry_after_ms), (1, 429, 5000), "{name}");
        assert!(i.error_message.contains("Retry-After"), "{name}: {}", i.error_message);
        assert!(i.error_message.contains("allowed per"), "{name}: the throttling body is read: {}", i.error_message);
    }
    // A short Retry-After is waited for, then the call succeeds.
    emu.clear_faults();
    let mut cfg = config(&emu);
    cfg.set_retry_policy(3, 10, 2000).unwrap();
    let patient = Client::new(&cfg).unwrap();
    for (name, f) in each_call().into_iter().take(2) {
        emu.add_fault(FaultRule::http_status(429).with_retry_after("1").with_times(1).for_call(name));
        let t = Instant::now();
        let i = f(&patient, &CallOptions::default());
        assert_eq!((i.status, i.attempts), (Status::Ok, 2), "{name}: {}", i.error_message);
        assert!(t.elapsed() >= Duration::from_millis(950), "{name}: {:?}", t.elapsed());
    }
}

#[test]
fn every_call_exhausts_its_attempts_on_persistent_503() {
    let (emu, client) = seeded(|_| {});
    for (name, f) in each_call() {
        emu.clear_faults();
        emu.add_fault(FaultRule::http_status(503).for_call(name));
        let i = f(&client, &CallOptions::default());
        assert_eq!(i.status, Status::RetriesExhausted, "{name}");
        assert_eq!((i.attempts, i.http_status), (4, 503), "{name}: the policy's 4 attempts");
    }
}

#[test]
fn every_call_treats_400_403_404_as_final() {
    let (emu, client) = seeded(|_| {});
    for (status, want) in
        [(400, Status::HttpStatus), (403, Status::Forbidden), (404, Status::HttpStatus), (409, Status::HttpStatus)]
    {
        for (name, f) in each_call() {
            emu.clear_faults();
            emu.add_fault(FaultRule::http_status(status).for_call(name));
            let before = emu.request_count();
            let i = f(&client, &CallOptions::default());
            assert_eq!(i.status, want, "{name} {status}: {}", i.error_message);
            assert_eq!((i.attempts, i.http_status), (1, status), "{name} {status}");
            assert_eq!(emu.request_count() - before, 1, "{name} {status}: never retried");
            assert!(i.error_message.contains(&status.to_string()), "{name}: {}", i.error_message);
            assert!(!i.correlation_id.is_empty(), "{name}: the correlation id of a failure is kept");
        }
    }
}

#[test]
fn faults_through_the_admin_api_reach_the_named_call_only() {
    let (emu, client) = seeded(|_| {});
    assert_eq!(admin_post(&emu, "/_emulator/faults", &json!({"status": 500, "times": 1, "call": "variants"})), 200);
    let q = run(&client, get_qos_servers(true));
    assert_eq!(q.attempts, 1, "another call is not faulted");
    let v = run(&client, get_variants(&VariantsRequest::new(TITLE)));
    assert_eq!((v.status, v.attempts), (Status::Ok, 2), "{}", v.error_message);
    let statuses: Vec<u16> = emu.requests().iter().rev().take(2).map(|r| r.status).collect();
    assert_eq!(statuses, [200, 500]);
}

struct Rotating {
    calls: Mutex<Vec<(bool, String, String)>>,
    old: String,
    new: String,
}

impl TokenProvider for Rotating {
    fn token(&self, _: bool) -> Result<String, String> {
        unreachable!("token_for is overridden")
    }
    fn token_for(&self, req: &gsms::core::TokenRequest<'_>) -> Result<gsms::core::Token, String> {
        self.calls.lock().unwrap().push((req.force_refresh, req.method.to_string(), req.url.to_string()));
        let authorization = if req.force_refresh { self.new.clone() } else { self.old.clone() };
        Ok(gsms::core::Token { authorization, signature: None })
    }
}

#[test]
fn every_call_refreshes_the_token_once_after_a_401() {
    let old = "XBL3.0 x=42;expired-token";
    let (emu, _) = seeded(|c| c.revoked_tokens = vec!["XBL3.0 x=42;expired-token".into()]);
    let provider = Arc::new(Rotating { calls: Mutex::default(), old: old.into(), new: TOKEN.into() });
    let mut cfg = config(&emu);
    cfg.auth_token = None;
    cfg.token_provider = Some(provider.clone());
    let client = Client::new(&cfg).unwrap();
    let wants = [
        ("inlineClusters", "POST", format!("/titles/{TITLE}/inlineclusters")),
        ("ticketStatus", "GET", format!("/titles/{TITLE}/tickets/ft/status")),
        ("variants", "POST", format!("/titles/{TITLE}/variants")),
        ("qosServers", "GET", "/xplatqosservers".to_string()),
        ("sessionHosts", "POST", format!("/titles/{TITLE}/sessionhosts")),
        ("allocationStatus", "GET", format!("/titles/{TITLE}/sessions/{SESSION}/allocationStatus")),
    ];
    for ((name, f), (wname, method, path)) in each_call().into_iter().zip(wants) {
        assert_eq!(name, wname);
        provider.calls.lock().unwrap().clear();
        let before = emu.requests().len();
        let i = f(&client, &CallOptions::default());
        assert_eq!(i.status, Status::Ok, "{name}: {}", i.error_message);
        assert_eq!(i.attempts, 2, "{name}");
        let asked = provider.calls.lock().unwrap().clone();
        let url = format!("{}{path}", emu.base_url());
        assert_eq!(asked, [(false, method.to_string(), url.clone()), (true, method.to_string(), url)], "{name}");
        let sent: Vec<(u16, Option<String>)> =
            emu.requests()[before..].iter().map(|r| (r.status, r.header("authorization").map(String::from))).collect();
        assert_eq!(sent, [(401, Some(old.to_string())), (200, Some(TOKEN.to_string()))], "{name}");
    }
    // A second 401 is final: the provider keeps handing out the revoked token.
    let stale = Arc::new(Rotating { calls: Mutex::default(), old: old.into(), new: old.into() });
    cfg.token_provider = Some(stale.clone());
    let client = Client::new(&cfg).unwrap();
    for (name, f) in each_call() {
        let i = f(&client, &CallOptions::default());
        assert_eq!((i.status, i.attempts, i.http_status), (Status::Unauthorized, 2, 401), "{name}");
        assert!(!i.error_message.contains("expired-token"), "{name}: {}", i.error_message);
    }
}

#[test]
fn a_static_token_401_is_final_at_once_for_every_call() {
    let emu = regions_emu(|c| c.revoked_tokens = vec!["XBL3.0 x=1;wrong-but-well-formed".into()]);
    let mut cfg = config(&emu);
    cfg.set_auth_token("XBL3.0 x=1;wrong-but-well-formed").unwrap();
    let client = Client::new(&cfg).unwrap();
    for (name, f) in each_call() {
        let before = emu.request_count();
        let i = f(&client, &CallOptions::default());
        assert_eq!((i.status, i.attempts, i.http_status), (Status::Unauthorized, 1, 401), "{name}");
        assert_eq!(emu.request_count() - before, 1, "{name}");
        assert!(!i.error_message.contains("wrong-but-well-formed"), "{name}: {}", i.error_message);
    }
}

#[test]
fn every_call_ends_at_its_deadline_and_on_cancel() {
    let (emu, client) = seeded(|_| {});
    let mut cfg = config(&emu);
    cfg.set_retry_policy(3, 10, 2000).unwrap();
    let patient = Client::new(&cfg).unwrap();
    for (name, f) in each_call() {
        emu.clear_faults();
        emu.add_fault(FaultRule::latency(1500).for_call(name));
        let t = Instant::now();
        let opts = CallOptions { deadline: Some(Instant::now() + Duration::from_millis(150)), cancel: None };
        let i = f(&client, &opts);
        assert_eq!(i.status, Status::Timeout, "{name}: {}", i.error_message);
        assert!(t.elapsed() < Duration::from_millis(700), "{name}: {:?}", t.elapsed());

        // Cancel while waiting to retry (a Retry-After of 1 s this policy would wait for).
        emu.clear_faults();
        emu.add_fault(FaultRule::http_status(503).with_retry_after("1").for_call(name));
        let (cancel, canceller) = cancel_after(Duration::from_millis(150));
        let t = Instant::now();
        let i = f(&patient, &CallOptions { deadline: None, cancel: Some(&cancel) });
        canceller.join().unwrap();
        assert_eq!(i.status, Status::Cancelled, "{name}: {}", i.error_message);
        assert_eq!(i.attempts, 1, "{name}");
        assert!(t.elapsed() < Duration::from_millis(600), "{name}: {:?}", t.elapsed());
    }
}

#[test]
fn following_calls_end_at_the_deadline_with_the_last_answer() {
    let emu = regions_emu(|c| {
        c.servers_per_title = 1;
        c.session_host_activation = Duration::from_secs(30);
    });
    let client = Client::new(&config(&emu)).unwrap();
    run(&client, create_inline_cluster(&inline_req("holder", "West US")));
    let t = Instant::now();
    let opts = CallOptions { deadline: Some(Instant::now() + Duration::from_millis(450)), cancel: None };
    let r = run_opts(&client, AllocateInlineCluster::new(&inline_req("late", "West US")), &opts);
    assert_eq!(r.status, Status::Timeout, "{}", r.error_message);
    assert_eq!(r.fulfillment_state, FulfillmentState::Queued);
    assert!(r.attempts >= 2 && t.elapsed() < Duration::from_millis(1200), "{} {:?}", r.attempts, t.elapsed());
    assert!(r.error_message.contains("deadline"), "{}", r.error_message);

    let t = Instant::now();
    let opts = CallOptions { deadline: Some(Instant::now() + Duration::from_millis(450)), cancel: None };
    let r = run_opts(&client, AllocateSessionHost::new(&host_req(SESSION, &["West US"])), &opts);
    assert_eq!(r.status, Status::Timeout, "{}", r.error_message);
    assert_eq!(r.fulfillment_state, FulfillmentState::Queued);
    assert_eq!(r.attempts, 1, "the next poll (1000 ms) would come after the deadline");
    assert!(t.elapsed() < Duration::from_millis(400), "ends now, not at the deadline: {:?}", t.elapsed());

    // Cancel while waiting to poll.
    let (cancel, canceller) = cancel_after(Duration::from_millis(150));
    let t = Instant::now();
    let r = run_opts(
        &client,
        AllocateInlineCluster::new(&inline_req("late2", "West US")),
        &CallOptions { deadline: None, cancel: Some(&cancel) },
    );
    canceller.join().unwrap();
    assert_eq!(r.status, Status::Cancelled);
    assert!(t.elapsed() < Duration::from_millis(500), "{:?}", t.elapsed());
}

#[test]
fn invalid_arguments_are_refused_and_nothing_is_sent() {
    let emu = regions_emu(|_| {});
    let client = Client::new(&config(&emu)).unwrap();
    let mut infos: Vec<(String, CallInfo)> = Vec::new();
    for missing in InlineField::ALL {
        let mut r = InlineClusterRequest::new(TITLE);
        for f in InlineField::ALL.into_iter().filter(|f| *f != missing) {
            r.set(f, "x").unwrap();
        }
        r.set_max_allowed_players(2).unwrap();
        infos.push((format!("inline without {}", missing.wire_name()), run(&client, create_inline_cluster(&r)).info));
        infos.push((
            format!("allocate inline without {}", missing.wire_name()),
            run(&client, AllocateInlineCluster::new(&r)).info,
        ));
    }
    let mut no_players = inline_req("t", "West US");
    no_players.max_allowed_players = 0;
    infos.push(("inline without maxAllowedPlayers".into(), run(&client, create_inline_cluster(&no_players)).info));
    for bad in ["", "a\nb", "a\rb", "x\u{1b}[31m"] {
        infos.push((format!("ticket {bad:?}"), run(&client, get_ticket_status(TITLE, bad)).info));
        infos.push((format!("allocation status {bad:?}"), run(&client, GetAllocationStatus::new(TITLE, bad)).info));
    }
    let mut no_loc = host_req(SESSION, &[]);
    infos.push(("session host without locations".into(), run(&client, create_session_host(&no_loc)).info));
    infos
        .push(("allocate session host without locations".into(), run(&client, AllocateSessionHost::new(&no_loc)).info));
    no_loc.add_location("West US").unwrap();
    no_loc.session_id.clear();
    infos.push(("session host without session id".into(), run(&client, create_session_host(&no_loc)).info));
    let mut no_game = host_req(SESSION, &["West US"]);
    no_game.cloud_game_id.clear();
    infos.push(("session host without cloudGameId".into(), run(&client, AllocateSessionHost::new(&no_game)).info));
    infos.push(("QoS without targets".into(), run(&client, MeasureQos::new(&QosProbe::new())).info));
    for (what, i) in &infos {
        assert_eq!(i.status, Status::InvalidArgument, "{what}");
        assert_eq!((i.attempts, i.http_status), (0, 0), "{what}");
        assert!(!i.error_message.is_empty(), "{what}: a reason");
    }
    assert_eq!(emu.request_count(), 0, "nothing reached the wire");

    // Setters refuse what could never be sent.
    let mut r = inline_req("t", "West US");
    assert!(r.set(InlineField::Location, "").is_err() && r.set(InlineField::TicketId, "a\r\nb").is_err());
    assert!(r.set_max_allowed_players(0).is_err());
    assert_eq!(r, inline_req("t", "West US"), "a refused value changes nothing");
    let mut h = host_req(SESSION, &["West US"]);
    assert!(h.set_session_cookie(&"c".repeat(32 * 1024 + 1)).is_err());
    assert!(h.add_location("").is_err() && h.set_game_mode_id("\n").is_err() && h.set_sandbox_id("").is_err());
    let mut v = VariantsRequest::new(TITLE);
    assert!(v.set_locale("").is_err() && v.add_tag("", "x").is_err() && v.add_tag("n", "a\nb").is_err());
}

#[test]
fn secrets_never_reach_messages_or_logs_even_when_the_service_echoes_them() {
    let secret = "eyJhbGciOiJSUzI1NiJ9.secret-token-value";
    let emu = Arc::new(regions_emu(|c| c.servers_per_title = 1));
    let mut cfg = config(&emu);
    let logs = capture_logs(&mut cfg, LogLevel::Trace);
    let client = Client::new(&cfg).unwrap();
    run(&client, create_inline_cluster(&inline_req("holder", "West US")));
    // The service's description of a failed ticket carries the caller's token.
    let e2 = Arc::clone(&emu);
    let setter = thread::spawn(move || {
        thread::sleep(Duration::from_millis(200));
        e2.set_ticket_status("echo", TicketStatus::Error, &format!("rejected token {TOKEN}")).unwrap();
    });
    let r = run(&client, AllocateInlineCluster::new(&inline_req("echo", "West US")));
    setter.join().unwrap();
    assert_eq!(r.status, Status::AllocationFailed, "{}", r.error_message);
    assert!(r.error_message.contains("rejected token"), "{}", r.error_message);
    assert!(!r.error_message.contains(secret), "the token is in the error message: {}", r.error_message);
    assert!(!r.raw_json.contains(secret), "{}", r.raw_json);
    let t = run(&client, get_ticket_status(TITLE, "echo"));
    assert!(!t.raw_json.contains(secret), "{}", t.raw_json);
    for line in logs.lock().unwrap().iter() {
        assert!(!line.contains(secret), "a log line holds the token: {line}");
    }
}

// ----- the async runtime -----

fn rt(emu: &Emulator, mode: CallbackMode) -> RtClient {
    let mut cfg = config(emu);
    cfg.callback_mode = mode;
    RtClient::new(&cfg).unwrap()
}

fn take<T: HasInfo>(op: &gsms::runtime::Operation<T>) -> (Status, Arc<T>) {
    assert!(wait_until(Duration::from_secs(5), || op.take_result().is_some()), "the operation finished");
    let (s, r) = op.take_result().unwrap();
    (s, r.expect("a result"))
}

type Done = Arc<Mutex<Vec<(&'static str, Status, String)>>>;

/// A completion callback that logs `(what, status, detail(result))`.
fn done_into<T: HasInfo>(done: &Done, what: &'static str, detail: fn(&T) -> String) -> gsms::runtime::DoneFn<T> {
    let d = Arc::clone(done);
    Box::new(move |s, r: Option<&Arc<T>>| d.lock().unwrap().push((what, s, r.map(|r| detail(r)).unwrap_or_default())))
}

#[test]
fn async_calls_complete_with_their_results() {
    let emu = regions_emu(|_| {});
    let c = rt(&emu, CallbackMode::OnWorker);
    let done: Done = Arc::default();

    let inline = c
        .start(
            create_inline_cluster(&inline_req("at", "north europe")),
            None,
            None,
            Some(done_into(&done, "inline", |r: &ClusterResult| r.region.clone())),
        )
        .unwrap();
    let (s, r) = take(&inline);
    assert_eq!((s, r.fulfillment_state, r.region.as_str()), (Status::Ok, FulfillmentState::Fulfilled, "North Europe"));

    let ticket = c
        .start(
            get_ticket_status(TITLE, "at"),
            None,
            None,
            Some(done_into(&done, "ticket", |r: &TicketResult| r.ticket_id.clone())),
        )
        .unwrap();
    let (s, t) = take(&ticket);
    assert_eq!((s, t.status, t.ticket_id.as_str(), t.title_id), (Status::Ok, HostStatus::Active, "at", TITLE));

    let variants = c.start(get_variants(&VariantsRequest::new(TITLE)), None, None, None).unwrap();
    let (s, v) = take(&variants);
    assert_eq!((s, v.variants.len(), v.schemas.len(), v.gsi_sets.len()), (Status::Ok, 3, 2, 2));

    let qos = c.start(get_qos_servers(true), None, None, None).unwrap();
    let (s, q) = take(&qos);
    assert_eq!(s, Status::Ok);
    assert_eq!(q.servers.iter().map(|s| s.target_location.as_str()).collect::<Vec<_>>(), ["West US", "North Europe"]);

    let host = c
        .start(
            create_session_host(&host_req(SESSION, &["West US"])),
            None,
            None,
            Some(done_into(&done, "host", |r: &SessionHostResult| r.session_host_id.clone())),
        )
        .unwrap();
    let (s, h) = take(&host);
    assert_eq!((s, h.fulfillment_state), (Status::Ok, FulfillmentState::Fulfilled));

    let status = c.start(GetAllocationStatus::new(TITLE, SESSION), None, None, None).unwrap();
    let (s, a) = take(&status);
    assert_eq!(
        (s, a.session_id.as_str(), a.session_host_id.as_str()),
        (Status::Ok, SESSION, h.session_host_id.as_str())
    );

    assert!(wait_until(Duration::from_secs(2), || done.lock().unwrap().len() == 3));
    let d = done.lock().unwrap().clone();
    assert_eq!(
        d,
        [
            ("inline", Status::Ok, "North Europe".to_string()),
            ("ticket", Status::Ok, "at".to_string()),
            ("host", Status::Ok, h.session_host_id.clone())
        ]
    );
    // take_result may be called again: the same outcome.
    assert_eq!(ticket.take_result().unwrap().1.unwrap().ticket_id, "at");
    // Through the erased handle, another result type is refused.
    assert!(matches!(ticket.clone().erase().take_result::<VariantsResult>(), Taken::WrongKind));
    assert!(matches!(ticket.clone().erase().take_result::<TicketResult>(), Taken::Done(Status::Ok, Some(_))));
    assert!(ticket.clone().erase().is_kind::<TicketResult>() && !ticket.erase().is_kind::<ClusterResult>());
}

/// Progress and completion callbacks that log "<what> progress <state>" and "<what> done <status> <state>".
fn recorder<T: HasInfo>(
    events: &Arc<Mutex<Vec<String>>>,
    what: &'static str,
    state: fn(&T) -> FulfillmentState,
) -> (gsms::runtime::ProgressFn<T>, gsms::runtime::DoneFn<T>) {
    let (e1, e2) = (Arc::clone(events), Arc::clone(events));
    (
        Box::new(move |r: &Arc<T>| e1.lock().unwrap().push(format!("{what} progress {:?}", state(r)))),
        Box::new(move |s, r: Option<&Arc<T>>| {
            e2.lock().unwrap().push(format!("{what} done {s:?} {:?}", r.map(|r| state(r))))
        }),
    )
}

#[test]
fn async_following_calls_report_progress_then_complete_on_dispatch() {
    let emu = Arc::new(regions_emu(|c| {
        c.servers_per_title = 1;
        c.session_host_activation = Duration::from_millis(200);
    }));
    let c = rt(&emu, CallbackMode::OnDispatch);
    let blocking = Client::new(&config(&emu)).unwrap();
    run(&blocking, create_inline_cluster(&inline_req("holder", "West US")));
    let events = Arc::new(Mutex::new(Vec::<String>::new()));
    let (p, d) = recorder(&events, "inline", |r: &ClusterResult| r.fulfillment_state);
    let inline = c.start(AllocateInlineCluster::new(&inline_req("waiter", "West US")), None, Some(p), Some(d)).unwrap();
    let (p, d) = recorder(&events, "host", |r: &SessionHostResult| r.fulfillment_state);
    let host = c.start(AllocateSessionHost::new(&host_req(SESSION, &["West US"])), None, Some(p), Some(d)).unwrap();
    thread::sleep(Duration::from_millis(300));
    assert!(events.lock().unwrap().is_empty(), "nothing runs before dispatch");
    c.dispatch(0);
    emu.release_all(TITLE);
    assert!(wait_until(Duration::from_secs(4), || {
        c.dispatch(0);
        events.lock().unwrap().iter().filter(|e| e.contains("done")).count() == 2
    }));
    let ev = events.lock().unwrap().clone();
    let pos = |s: &str| ev.iter().position(|e| e == s).unwrap_or_else(|| panic!("{s} in {ev:?}"));
    assert!(pos("inline progress Queued") < pos("inline done Ok Some(Fulfilled)"), "{ev:?}");
    assert!(pos("host progress Queued") < pos("host done Ok Some(Fulfilled)"), "{ev:?}");
    assert_eq!(take(&inline).1.host_name, "127.0.0.1");
    assert_eq!(take(&host).1.session_id, SESSION);
}

#[test]
fn async_cancel_completes_at_once_even_when_the_request_is_stuck() {
    let emu = regions_emu(|c| c.faults = vec![FaultRule::latency(3000)]);
    let c = rt(&emu, CallbackMode::OnWorker);
    let cancelled = Arc::new(AtomicU32::new(0));
    let ops: Vec<Box<dyn Fn() -> Option<Status>>> = {
        let cb = |n: &Arc<AtomicU32>| {
            let n = Arc::clone(n);
            move |s: Status| {
                if s == Status::Cancelled {
                    n.fetch_add(1, Ordering::SeqCst);
                }
            }
        };
        let (a, b, d, e, f) = (cb(&cancelled), cb(&cancelled), cb(&cancelled), cb(&cancelled), cb(&cancelled));
        let o1 = c.start(get_ticket_status(TITLE, "x"), None, None, Some(Box::new(move |s, _| a(s)))).unwrap();
        let o2 =
            c.start(get_variants(&VariantsRequest::new(TITLE)), None, None, Some(Box::new(move |s, _| b(s)))).unwrap();
        let o3 = c.start(get_qos_servers(false), None, None, Some(Box::new(move |s, _| d(s)))).unwrap();
        let o4 = c
            .start(
                AllocateSessionHost::new(&host_req(SESSION, &["West US"])),
                None,
                None,
                Some(Box::new(move |s, _| e(s))),
            )
            .unwrap();
        let o5 = c
            .start(
                AllocateInlineCluster::new(&inline_req("t", "West US")),
                None,
                None,
                Some(Box::new(move |s, _| f(s))),
            )
            .unwrap();
        thread::sleep(Duration::from_millis(100));
        let t = Instant::now();
        o1.cancel();
        o2.cancel();
        o3.cancel();
        o4.cancel();
        o5.cancel();
        let ops: Vec<Box<dyn Fn() -> Option<Status>>> = vec![
            Box::new(move || o1.take_result().map(|r| r.0)),
            Box::new(move || o2.take_result().map(|r| r.0)),
            Box::new(move || o3.take_result().map(|r| r.0)),
            Box::new(move || o4.take_result().map(|r| r.0)),
            Box::new(move || o5.take_result().map(|r| r.0)),
        ];
        for o in &ops {
            assert_eq!(o(), Some(Status::Cancelled), "take_result reports the cancel at once");
        }
        assert!(t.elapsed() < Duration::from_millis(100), "{:?}", t.elapsed());
        ops
    };
    assert!(wait_until(Duration::from_millis(500), || cancelled.load(Ordering::SeqCst) == 5), "each completed once");
    thread::sleep(Duration::from_millis(50));
    assert_eq!(cancelled.load(Ordering::SeqCst), 5, "exactly once");
    assert!(ops.iter().all(|o| o() == Some(Status::Cancelled)), "a cancelled outcome stays");
}

#[test]
fn async_deadlines_errors_and_invalid_arguments() {
    let emu = regions_emu(|c| c.session_host_activation = Duration::from_secs(30));
    let c = rt(&emu, CallbackMode::OnWorker);
    let t = Instant::now();
    let op = c
        .start(
            AllocateSessionHost::new(&host_req(SESSION, &["West US"])),
            Some(Instant::now() + Duration::from_millis(400)),
            None,
            None,
        )
        .unwrap();
    let (s, r) = take(&op);
    assert_eq!((s, r.fulfillment_state), (Status::Timeout, FulfillmentState::Queued), "{}", r.error_message);
    assert!(t.elapsed() < Duration::from_millis(1000));

    emu.add_fault(FaultRule::http_status(403).for_call("ticketStatus"));
    let (s, r) = take(&c.start(get_ticket_status(TITLE, "t"), None, None, None).unwrap());
    assert_eq!((s, r.http_status, r.attempts), (Status::Forbidden, 403, 1));

    // A call whose arguments were refused completes with InvalidArgument, having sent nothing.
    let before = emu.request_count();
    let (s, r) = take(&c.start(get_ticket_status(TITLE, ""), None, None, None).unwrap());
    assert_eq!((s, r.attempts), (Status::InvalidArgument, 0));
    let (s, _) = take(&c.start(AllocateSessionHost::new(&host_req(SESSION, &[])), None, None, None).unwrap());
    assert_eq!(s, Status::InvalidArgument);
    assert_eq!(emu.request_count(), before);
}

// ----- more of the shared rules -----

#[test]
fn every_call_retries_a_dropped_connection() {
    let (emu, client) = seeded(|_| {});
    for (name, f) in each_call() {
        emu.add_fault(FaultRule::dropped_connection().with_times(1).for_call(name));
        let i = f(&client, &CallOptions::default());
        assert_eq!(i.status, Status::Ok, "{name}: {}", i.error_message);
        assert_eq!(i.attempts, 2, "{name}: a connection that failed before any response is retried");
    }
    // Always dropped: NETWORK after the policy's attempts.
    emu.add_fault(FaultRule::dropped_connection().for_call("ticketStatus"));
    let t = run(&client, get_ticket_status(TITLE, "ft"));
    assert_eq!((t.info.status, t.attempts, t.http_status), (Status::Network, 4, 0), "{}", t.error_message);
}

#[test]
fn a_token_provider_failure_ends_every_call_before_anything_is_sent() {
    struct Failing;
    impl TokenProvider for Failing {
        fn token(&self, _: bool) -> Result<String, String> {
            Err("no user is signed in".into())
        }
    }
    let emu = regions_emu(|_| {});
    let mut cfg = config(&emu);
    cfg.auth_token = None;
    cfg.token_provider = Some(Arc::new(Failing));
    let client = Client::new(&cfg).unwrap();
    for (name, f) in each_call() {
        let i = f(&client, &CallOptions::default());
        assert_eq!((i.status, i.attempts), (Status::AuthProvider, 0), "{name}");
        assert!(i.error_message.contains("no user is signed in"), "{name}: {}", i.error_message);
    }
    assert_eq!(emu.request_count(), 0);
}

#[test]
fn allocate_inline_cluster_polls_no_faster_than_the_floor() {
    // The emulator answers pollIntervalMilliseconds 0: the client waits 100 ms between polls anyway.
    let emu = Arc::new(regions_emu(|c| {
        c.servers_per_title = 1;
        c.poll_interval_ms = 0;
    }));
    let client = Client::new(&config(&emu)).unwrap();
    run(&client, create_inline_cluster(&inline_req("holder", "West US")));
    let e2 = Arc::clone(&emu);
    let releaser = thread::spawn(move || {
        thread::sleep(Duration::from_millis(450));
        e2.release_all(TITLE);
    });
    let r = run(&client, AllocateInlineCluster::new(&inline_req("waiter", "West US")));
    releaser.join().unwrap();
    assert_eq!((r.status, r.fulfillment_state), (Status::Ok, FulfillmentState::Fulfilled), "{}", r.error_message);
    assert_eq!(r.poll_interval_ms, 0, "as the service said");
    assert!((4..=7).contains(&r.attempts), "about one poll per 100 ms over 450 ms: {}", r.attempts);
}

#[test]
fn a_session_cookie_at_its_limit_is_sent_whole() {
    let emu = regions_emu(|_| {});
    let client = Client::new(&config(&emu)).unwrap();
    let mut req = host_req(SESSION, &["West US"]);
    let cookie: String = (0..32 * 1024).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    req.set_session_cookie(&cookie).unwrap();
    let r = run(&client, create_session_host(&req));
    assert_eq!(r.status, Status::Ok, "{}", r.error_message);
    assert_eq!(body_of(&emu.requests()[0])["sessionCookie"], json!(cookie));
}

#[test]
fn one_base_url_serves_every_call_until_a_discovery_url_is_set() {
    let emu = regions_emu(|_| {});
    let mut cfg = config(&emu);
    cfg.set_base_url(&format!("{}/", emu.base_url())).unwrap();
    assert_eq!(cfg.discovery_url(), emu.base_url(), "follows the changed base URL, trailing '/' trimmed");
    let client = Client::new(&cfg).unwrap();
    assert_eq!(run(&client, get_qos_servers(true)).status, Status::Ok);
    assert_eq!(emu.requests()[0].path, "/xplatqosservers");
    // Never set, with the default base URL: the default discovery host.
    assert_eq!(Config::default().discovery_url(), "https://gameserverds.xboxlive.com");
}

#[test]
fn progress_after_a_409_reads_queued() {
    let emu = regions_emu(|c| c.session_host_activation = Duration::from_millis(300));
    let client = Client::new(&config(&emu)).unwrap();
    assert_eq!(
        run(&client, create_session_host(&host_req(SESSION, &["West US"]))).fulfillment_state,
        FulfillmentState::Queued
    );
    let mut progress = Vec::new();
    let r = call::run_with_progress(
        AllocateSessionHost::new(&host_req(SESSION, &["West US"])),
        &client,
        &CallOptions::default(),
        &mut |r: &SessionHostResult| progress.push((r.fulfillment_state, r.status, r.http_status)),
    );
    assert_eq!((r.status, r.fulfillment_state), (Status::Ok, FulfillmentState::Fulfilled), "{}", r.error_message);
    // The 409 says the request exists and its host is not Active yet: the progress sees Queued.
    assert_eq!(progress, [(FulfillmentState::Queued, Status::Ok, 409)]);
}

#[test]
fn a_provider_signs_each_call_for_its_own_method_and_url() {
    struct Signing;
    impl TokenProvider for Signing {
        fn token(&self, _: bool) -> Result<String, String> {
            unreachable!("token_for is overridden")
        }
        fn token_for(&self, req: &gsms::core::TokenRequest<'_>) -> Result<gsms::core::Token, String> {
            let path = req.url.split_once("//").map_or("", |(_, rest)| rest.split_once('/').map_or("", |(_, p)| p));
            Ok(gsms::core::Token {
                authorization: TOKEN.into(),
                signature: Some(format!("sig {} /{path}", req.method)),
            })
        }
    }
    let (emu, _) = seeded(|_| {});
    let mut cfg = config(&emu);
    cfg.token_provider = Some(Arc::new(Signing));
    let client = Client::new(&cfg).unwrap();
    for (name, f) in each_call() {
        let i = f(&client, &CallOptions::default());
        assert_eq!(i.status, Status::Ok, "{name}: {}", i.error_message);
        let q = emu.requests().pop().unwrap();
        assert_eq!(q.header("signature"), Some(&*format!("sig {} {}", q.method, q.path)), "{name}");
        assert_eq!(q.header("authorization"), Some(TOKEN), "{name}");
    }
}

#[test]
fn a_retry_after_past_the_deadline_stops_at_once() {
    let (emu, _) = seeded(|_| {});
    let mut cfg = config(&emu);
    cfg.set_retry_policy(3, 10, 5000).unwrap();
    let client = Client::new(&cfg).unwrap();
    for (name, f) in each_call() {
        emu.clear_faults();
        emu.add_fault(FaultRule::http_status(503).with_retry_after("2").for_call(name));
        let t = Instant::now();
        let opts = CallOptions { deadline: Some(Instant::now() + Duration::from_millis(1000)), cancel: None };
        let i = f(&client, &opts);
        assert_eq!((i.status, i.attempts, i.retry_after_ms), (Status::RetriesExhausted, 1, 2000), "{name}");
        assert!(i.error_message.contains("deadline"), "{name}: {}", i.error_message);
        assert!(t.elapsed() < Duration::from_millis(700), "{name}: {:?}", t.elapsed());
    }
}

#[test]
fn each_attempt_and_each_poll_is_logged() {
    let emu = Arc::new(regions_emu(|c| c.servers_per_title = 1));
    let mut cfg = config(&emu);
    let logs = capture_logs(&mut cfg, LogLevel::Debug);
    let client = Client::new(&cfg).unwrap();
    run(&client, create_inline_cluster(&inline_req("holder", "West US")));
    let e2 = Arc::clone(&emu);
    let releaser = thread::spawn(move || {
        thread::sleep(Duration::from_millis(250));
        e2.release_all(TITLE);
    });
    let r = run(&client, AllocateInlineCluster::new(&inline_req("w 1", "West US")));
    releaser.join().unwrap();
    assert_eq!(r.status, Status::Ok, "{}", r.error_message);
    let lines = logs.lock().unwrap().clone();
    let gets: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with(&format!("GET /titles/{TITLE}/tickets/w%201/status -> 200 in ")))
        .collect();
    assert_eq!(gets.len() + 1, r.attempts as usize, "one line per attempt: {lines:#?}");
    assert!(gets.last().unwrap().contains(&format!("correlation id {}", r.correlation_id)), "{gets:?}");
    let polls = lines.iter().filter(|l| l.contains("not final yet; polling again in 100 ms")).count();
    assert_eq!(polls, gets.len(), "{lines:#?}");
    assert!(lines.iter().any(|l| l.starts_with(&format!("POST /titles/{TITLE}/inlineclusters -> 200 in "))));
}

#[test]
fn an_id_too_long_for_the_url_of_a_later_exchange_is_refused_before_anything_is_sent() {
    let emu = regions_emu(|c| c.session_host_activation = Duration::from_millis(200));
    let client = Client::new(&config(&emu)).unwrap();
    let long = "t".repeat(2100);
    let r = run(&client, AllocateInlineCluster::new(&inline_req(&long, "West US")));
    assert_eq!((r.status, r.attempts), (Status::InvalidArgument, 0), "{}", r.error_message);
    assert!(r.error_message.contains("2048"), "{}", r.error_message);
    let h = run(&client, AllocateSessionHost::new(&host_req(&long, &["West US"])));
    assert_eq!((h.status, h.attempts), (Status::InvalidArgument, 0), "{}", h.error_message);
    let t = run(&client, get_ticket_status(TITLE, &long));
    assert_eq!((t.info.status, t.attempts), (Status::InvalidArgument, 0));
    // The async runtime refuses the same before its first exchange.
    let c = rt(&emu, CallbackMode::OnWorker);
    let (s, r) = take(&c.start(AllocateInlineCluster::new(&inline_req(&long, "West US")), None, None, None).unwrap());
    assert_eq!((s, r.attempts), (Status::InvalidArgument, 0));
    assert_eq!(emu.request_count(), 0, "not even the POST: its follow-up could never be sent");
    // Just short enough is sent.
    let fits = "t".repeat(2048 - format!("{}/titles/{TITLE}/tickets//status", emu.base_url()).len());
    let r = run(&client, AllocateInlineCluster::new(&inline_req(&fits, "West US")));
    assert_eq!((r.status, r.fulfillment_state), (Status::Ok, FulfillmentState::Fulfilled), "{}", r.error_message);
}

#[test]
fn calls_waiting_to_poll_do_not_hold_the_workers() {
    let emu = regions_emu(|c| {
        c.session_host_activation = Duration::from_secs(30);
        c.session_hosts_per_title = 4;
    });
    let mut cfg = config(&emu);
    cfg.callback_mode = CallbackMode::OnWorker;
    cfg.set_worker_threads(1).unwrap();
    let c = RtClient::new(&cfg).unwrap();
    let following: Vec<_> = (0..3)
        .map(|i| {
            c.start(AllocateSessionHost::new(&host_req(&format!("s{i}"), &["West US"])), None, None, None).unwrap()
        })
        .collect();
    assert!(wait_until(Duration::from_secs(2), || emu.request_count() == 3), "each POSTed once");
    // With the one worker free, a new call runs now, not after the polls (1000 ms away).
    let t = Instant::now();
    let (s, q) = take(&c.start(get_qos_servers(true), None, None, None).unwrap());
    assert_eq!((s, q.servers.len()), (Status::Ok, 2));
    assert!(t.elapsed() < Duration::from_millis(500), "{:?}", t.elapsed());
    assert!(following.iter().all(|o| o.take_result().is_none()), "the others still wait to poll");
    following.iter().for_each(|o| o.cancel());
}
