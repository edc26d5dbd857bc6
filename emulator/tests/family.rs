//! The rest of the family over real loopback HTTP: inline clusters and tickets, variants, QoS
//! servers, session hosts and allocation status, and what `/_emulator/state` shows of them.
mod common;

use std::time::Duration;

use common::*;
use gsms_emulator::{Config, Emulator, GameVariant, RegionConfig, TicketStatus, VariantCatalogue};
use serde_json::{json, Value};

fn start(cfg: Config) -> Emulator {
    Emulator::start(cfg).expect("emulator starts")
}

fn one_server() -> Emulator {
    start(Config { servers_per_title: 1, ..Config::default() })
}

fn status_of(r: &Resp) -> String {
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r.json()["status"].as_str().expect("status").to_string()
}

// ----- inline clusters and ticket status -----

#[test]
fn inline_cluster_fulfilled_answer_has_the_clusters_shape() {
    let emu = start(Config {
        regions: vec![RegionConfig::new("West US"), RegionConfig::new("North Europe")],
        region: "West US".into(),
        ..Config::default()
    });
    let r = call(&emu, "POST", "/titles/7/inlineclusters", &inline_body("t1", "north europe", false));
    assert_eq!(r.status, 200);
    assert!(r.body.starts_with(br#"{"pollIntervalMilliseconds":"1000","fulfillmentState":"Fulfilled","hostName""#));
    let v = r.json();
    assert_eq!(v["region"], json!("North Europe"), "the requested location, spelled as configured");
    assert_eq!(v["portMappings"][0]["Key"], json!("GameData"));
    assert_eq!(v["portMappings"][0]["Value"]["internal"], json!(7777));
    assert!(!v["secureContext"].as_str().unwrap().is_empty());
    // An unknown location gets the configured region.
    let v = call(&emu, "POST", "/titles/7/inlineclusters", &inline_body("t2", "Mars", false)).json();
    assert_eq!(v["region"], json!("West US"));
    assert_ne!(v["secureContext"], json!(null));
    // Repeats return the current state; never a second server.
    let again = call(&emu, "POST", "/titles/7/inlineclusters", &inline_body("t1", "Mars", false)).json();
    assert_eq!(again["region"], json!("North Europe"));
    assert_eq!(
        again["portMappings"],
        call(&emu, "POST", "/titles/7/inlineclusters", &inline_body("t1", "x", false)).json()["portMappings"]
    );
}

#[test]
fn inline_cluster_bad_bodies_name_the_field() {
    let emu = start(Config::default());
    let good: Value = serde_json::from_str(&inline_body("t", "West", false)).unwrap();
    let post = |v: &Value| call(&emu, "POST", "/titles/1/inlineclusters", &v.to_string());
    for field in
        ["serviceConfigId", "sandboxId", "ticketId", "gsiSetId", "gameVariantId", "location", "maxAllowedPlayers"]
    {
        let mut v = good.clone();
        v.as_object_mut().unwrap().remove(field);
        let r = post(&v);
        assert_eq!(r.status, 400, "{field}");
        assert_eq!(r.json()["description"], json!(format!("missing {field}")));
    }
    for (field, bad) in [
        ("ticketId", json!("")),
        ("location", json!(5)),
        ("maxAllowedPlayers", json!(0)),
        ("maxAllowedPlayers", json!("8")),
        ("abortIfQueued", json!("maybe")),
    ] {
        let mut v = good.clone();
        v[field] = bad.clone();
        let r = post(&v);
        assert_eq!(r.status, 400, "{field} = {bad}");
        assert!(r.json()["description"].as_str().unwrap().contains(field), "{field}");
    }
    assert_eq!(call(&emu, "POST", "/titles/1/inlineclusters", "[1]").status, 400);
    assert_eq!(call(&emu, "POST", "/titles/1/inlineclusters", "{").status, 400);
    assert!(emu.requests().iter().all(|r| r.status == 400));
}

#[test]
fn clusters_and_inline_clusters_share_one_fifo_queue() {
    let emu = one_server();
    assert_eq!(allocate(&emu, 3, "a").state(), "Fulfilled");
    assert_eq!(inline(&emu, 3, "t1").state(), "Queued");
    assert_eq!(allocate(&emu, 3, "b").state(), "Queued");
    assert_eq!(inline(&emu, 3, "t2").state(), "Queued");
    // Not queued twice.
    assert_eq!(inline(&emu, 3, "t1").state(), "Queued");
    assert_eq!(status_of(&ticket_status(&emu, 3, "t1")), "Queued");
    let st = state(&emu);
    assert_eq!(st["titles"][0]["queue"], json!(["t1", session("b"), "t2"]));
    assert_eq!(st["titles"][0]["queued"][0], json!({"ticketId": "t1"}));
    assert_eq!(st["titles"][0]["queued"][1], json!({"sessionId": session("b")}));

    // The ticket ahead gets the server first, without asking: its status turns Active.
    emu.release_all(3);
    let t = ticket_status(&emu, 3, "t1").json();
    assert_eq!(t["status"], json!("Active"));
    assert_eq!(allocate(&emu, 3, "b").state(), "Queued");
    assert_eq!(status_of(&ticket_status(&emu, 3, "t2")), "Queued");
    emu.release_all(3);
    assert_eq!(status_of(&ticket_status(&emu, 3, "t1")), "Aborted", "its server was released");
    assert_eq!(allocate(&emu, 3, "b").state(), "Fulfilled");
    emu.release_all(3);
    assert_eq!(status_of(&ticket_status(&emu, 3, "t2")), "Active");
    assert_eq!(inline(&emu, 3, "t2").state(), "Fulfilled");
    // An ended ticket asking again is a new allocation at the back.
    assert_eq!(inline(&emu, 3, "t1").state(), "Queued");
    assert_eq!(status_of(&ticket_status(&emu, 3, "t1")), "Queued");
}

#[test]
fn abort_if_queued_for_tickets() {
    let emu = one_server();
    let post = |t: &str, abort: bool| call(&emu, "POST", "/titles/4/inlineclusters", &inline_body(t, "West", abort));
    assert_eq!(post("t1", true).state(), "Fulfilled");
    let r = post("t2", true);
    assert_eq!(r.state(), "Aborted");
    assert_eq!(r.json().as_object().unwrap().len(), 2);
    let s = ticket_status(&emu, 4, "t2").json();
    assert_eq!(s["status"], json!("Aborted"));
    assert!(s["description"].as_str().unwrap().contains("abortIfQueued"));
    assert_eq!(state(&emu)["titles"][0]["queue"], json!([]));
    // A string works too.
    let mut v: Value = serde_json::from_str(&inline_body("t3", "West", false)).unwrap();
    v["abortIfQueued"] = json!("true");
    assert_eq!(call(&emu, "POST", "/titles/4/inlineclusters", &v.to_string()).state(), "Aborted");
}

#[test]
fn ticket_status_fields_and_state_machine() {
    let emu = start(Config {
        servers_per_title: 1,
        regions: vec![RegionConfig::new("West")],
        region: "West".into(),
        ..Config::default()
    });
    assert_eq!(inline(&emu, 9, "first").state(), "Fulfilled");
    let r = ticket_status(&emu, 9, "first");
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["ticketId"], json!("first"));
    assert_eq!(v["titleId"], json!(9));
    assert_eq!(v["status"], json!("Active"));
    assert_eq!(v["hostName"], json!("127.0.0.1"));
    assert_eq!(v["region"], json!("West"));
    for key in ["clusterId", "gameHostId", "secureContext", "description"] {
        assert!(v[key].as_str().is_some_and(|s| !s.is_empty()), "{key}: {v}");
    }
    assert_eq!(v["portMappings"][0]["Value"]["external"], json!(31000));
    // The same server as the POST's answer.
    assert_eq!(v["secureContext"], inline(&emu, 9, "first").json()["secureContext"]);

    // Queued: no host fields yet.
    let q = inline(&emu, 9, "second");
    assert_eq!(q.state(), "Queued");
    let v = ticket_status(&emu, 9, "second").json();
    assert_eq!(v["status"], json!("Queued"));
    assert!(v.get("hostName").is_none() && v.get("portMappings").is_none() && v.get("secureContext").is_none());
    assert!(v["description"].as_str().unwrap().contains("0 ahead"));

    // Error through the admin API frees the server; the queued ticket turns Active.
    let r = admin(&emu, "POST", "/_emulator/tickets/first", r#"{"status":"Error","description":"the build crashed"}"#);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = ticket_status(&emu, 9, "first").json();
    assert_eq!((v["status"].clone(), v["description"].clone()), (json!("Error"), json!("the build crashed")));
    assert_eq!(status_of(&ticket_status(&emu, 9, "second")), "Active");

    // Aborted through the Rust handle; bad requests refused.
    emu.set_ticket_status("second", TicketStatus::Aborted, "match cancelled").unwrap();
    let v = ticket_status(&emu, 9, "second").json();
    assert_eq!((v["status"].clone(), v["description"].clone()), (json!("Aborted"), json!("match cancelled")));
    assert!(emu.set_ticket_status("second", TicketStatus::Active, "").is_err());
    assert!(emu.set_ticket_status("nobody", TicketStatus::Error, "").is_err());
    assert_eq!(admin(&emu, "POST", "/_emulator/tickets/nobody", r#"{"status":"Error"}"#).status, 404);
    assert_eq!(admin(&emu, "POST", "/_emulator/tickets/first", r#"{"status":"Queued"}"#).status, 400);
    assert_eq!(admin(&emu, "POST", "/_emulator/tickets/first", r#"{"state":"Error"}"#).status, 400);
    assert_eq!(admin(&emu, "GET", "/_emulator/tickets/first", "").status, 405);

    // Unknown ticket, another title's ticket.
    assert_eq!(ticket_status(&emu, 9, "third").status, 404);
    assert_eq!(ticket_status(&emu, 10, "first").status, 404);
}

#[test]
fn ticket_ids_are_percent_decoded() {
    let emu = start(Config::default());
    let id = "group/1 é+x";
    assert_eq!(call(&emu, "POST", "/titles/2/inlineclusters", &inline_body(id, "West", false)).state(), "Fulfilled");
    let r = ticket_status(&emu, 2, "group%2F1%20%C3%A9+x");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["ticketId"], json!(id));
    assert_eq!(ticket_status(&emu, 2, "group%2f1%20%c3%a9%2Bx").json()["ticketId"], json!(id));
    assert_eq!(ticket_status(&emu, 2, "group%2F1").status, 404);
    assert_eq!(ticket_status(&emu, 2, "bad%zz").status, 404);
    let r = admin(&emu, "POST", "/_emulator/tickets/group%2F1%20%C3%A9+x", r#"{"status":"Error"}"#);
    assert_eq!(r.status, 200);
    assert_eq!(ticket_status(&emu, 2, "group%2F1%20%C3%A9%2Bx").json()["status"], json!("Error"));
}

#[test]
fn ticket_lifetime_ends_as_aborted() {
    let emu = start(Config { servers_per_title: 1, server_lifetime: Duration::from_millis(200), ..Config::default() });
    assert_eq!(inline(&emu, 1, "a").state(), "Fulfilled");
    assert_eq!(inline(&emu, 1, "b").state(), "Queued");
    std::thread::sleep(Duration::from_millis(260));
    let a = ticket_status(&emu, 1, "a").json();
    assert_eq!(a["status"], json!("Aborted"));
    assert!(a["description"].as_str().unwrap().contains("lifetime"));
    assert_eq!(status_of(&ticket_status(&emu, 1, "b")), "Active");
}

// ----- variants -----

#[test]
fn variants_default_catalogue_and_filters() {
    let emu = start(Config::default());
    let r = call(
        &emu,
        "POST",
        "/titles/1/variants",
        r#"{"locale":"en-us","maxAllowedPlayers":8,"maxVariants":10,"publisherOnly":false,"tags":[]}"#,
    );
    assert_eq!(r.status, 200);
    assert!(r.body.starts_with(br#"{"variants":[{"gamevariantId":"#));
    let v = r.json();
    let variants = v["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 3);
    assert_eq!(variants[0]["name"], json!("Deathmatch"));
    assert_eq!(variants[0]["isPublisher"], json!("True"));
    assert_eq!(variants[2]["isPublisher"], json!("False"));
    assert_eq!(variants[1]["rank"], json!("2"));
    let schemas = v["variantSchemas"].as_array().unwrap();
    assert_eq!(schemas.len(), 2);
    assert!(schemas[0]["schemaContent"].as_str().unwrap().starts_with("<?xml"));
    assert_eq!(variants[0]["gameVariantSchemaId"], schemas[0]["variantSchemaId"]);
    let sets = v["gsiSets"].as_array().unwrap();
    assert_eq!(sets.len(), 2);
    assert_eq!(sets[1]["maxAllowedPlayers"], json!("16"));
    assert_eq!(sets[1]["tags"], json!([{"name": "mode", "value": "casual"}, {"name": "size", "value": "large"}]));

    let names = |body: &str| -> Vec<String> {
        let v = call(&emu, "POST", "/titles/1/variants", body).json();
        v["variants"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(names(r#"{"publisherOnly":true}"#), ["Deathmatch", "Capture the Flag"]);
    assert_eq!(names(r#"{"maxVariants":1}"#), ["Deathmatch"]);
    assert_eq!(names(r#"{"maxVariants":0}"#).len(), 3);
    assert_eq!(names(r#"{"publisherOnly":"true","maxVariants":1}"#), ["Deathmatch"]);
    assert_eq!(names("{}").len(), 3);

    for (body, field) in [
        (r#"{"locale":1}"#, "locale"),
        (r#"{"maxVariants":-1}"#, "maxVariants"),
        (r#"{"maxAllowedPlayers":"8"}"#, "maxAllowedPlayers"),
        (r#"{"publisherOnly":"yes"}"#, "publisherOnly"),
        (r#"{"tags":[{"name":"a"}]}"#, "tags[0]"),
        (r#"{"tags":"mode"}"#, "tags"),
    ] {
        let r = call(&emu, "POST", "/titles/1/variants", body);
        assert_eq!(r.status, 400, "{body}");
        assert!(r.json()["description"].as_str().unwrap().contains(field), "{body}");
    }
}

#[test]
fn variants_catalogue_is_settable() {
    let emu = start(Config::default());
    let mut cat = VariantCatalogue::sample();
    cat.variants = vec![GameVariant {
        id: "v-only".into(),
        name: "Only".into(),
        is_publisher: false,
        rank: 7,
        schema_id: cat.schemas[0].id.clone(),
    }];
    emu.set_variants(cat.clone());
    assert_eq!(emu.variants(), cat);
    let v = call(&emu, "POST", "/titles/1/variants", "{}").json();
    assert_eq!(
        v["variants"],
        json!([{"gamevariantId": "v-only", "name": "Only", "isPublisher": "False", "rank": "7", "gameVariantSchemaId": cat.schemas[0].id}])
    );
    assert_eq!(call(&emu, "POST", "/titles/1/variants", r#"{"publisherOnly":true}"#).json()["variants"], json!([]));

    // Over the admin API, in the answer's form (tolerant spellings accepted).
    let body = json!({
        "variants": [{"variantId": "a", "name": "A", "isPublisher": true, "rank": 1, "gameVariantSchemaId": "s"}],
        "variantSchemas": [{"variantSchemaId": "s", "name": "S", "schemaContent": "<s/>"}],
        "gsiSets": [{"gsiSetId": "g", "gsiSetName": "G", "minRequiredPlayers": 1, "maxAllowedPlayers": "4",
                     "selectionOrder": 1, "variantSchemaId": "s", "tags": [{"name": "k", "value": "v"}]}]
    });
    let r = admin(&emu, "PUT", "/_emulator/variants", &body.to_string());
    assert_eq!(r.status, 200);
    let v = call(&emu, "POST", "/titles/1/variants", "{}").json();
    assert_eq!(v["variants"][0]["gamevariantId"], json!("a"));
    assert_eq!(v["variants"][0]["isPublisher"], json!("True"));
    assert_eq!(v["gsiSets"][0]["minRequiredPlayers"], json!("1"));
    assert_eq!(v["gsiSets"][0]["tags"], json!([{"name": "k", "value": "v"}]));
    assert_eq!(admin(&emu, "GET", "/_emulator/variants", "").json(), v);
    assert_eq!(state(&emu)["variants"], v);
    let r = admin(&emu, "PUT", "/_emulator/variants", r#"{"variants":[{"name":"no id"}]}"#);
    assert_eq!(r.status, 400);
    assert!(r.json()["description"].as_str().unwrap().contains("gamevariantId"));
    // Reset brings the configured catalogue back.
    emu.reset();
    assert_eq!(emu.variants(), VariantCatalogue::sample());
}

// ----- QoS servers -----

#[test]
fn qos_servers_list_the_beacons() {
    let emu = start(Config {
        regions: vec![RegionConfig::new("West US").with_delay_ms(5.0), RegionConfig::new("North Europe")],
        ..Config::default()
    });
    for path in ["/qosservers", "/xplatqosservers"] {
        let r = call(&emu, "GET", path, "");
        assert_eq!(r.status, 200);
        assert!(r.body.starts_with(br#"{"qosServers":[{"serverFqdn":"127.0.0.1:"#));
        let v = r.json();
        let servers = v["qosServers"].as_array().unwrap();
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[0]["targetLocation"], json!("West US"));
        assert_eq!(servers[1]["targetLocation"], json!("North Europe"));
        let beacons = emu.qos_beacons();
        for (s, (region, addr)) in servers.iter().zip(&beacons) {
            assert_eq!(s["serverFqdn"], json!(format!("127.0.0.1:{}", addr.port())));
            assert_eq!(s["targetLocation"], json!(region.name));
            let sda = s["serverSecureDeviceAddress"].as_str().unwrap();
            assert!(!sda.is_empty() && sda.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b)));
        }
        assert_ne!(servers[0]["serverFqdn"], servers[1]["serverFqdn"]);
    }
    let none = start(Config { regions: Vec::new(), ..Config::default() });
    assert_eq!(call(&none, "GET", "/qosservers", "").json(), json!({"qosServers": []}));
}

// ----- session hosts and allocation status -----

#[test]
fn session_host_at_once_and_its_allocation_status() {
    let emu = start(Config {
        regions: vec![RegionConfig::new("West"), RegionConfig::new("East")],
        region: "West".into(),
        ..Config::default()
    });
    let body = session_host_body("s-1", &["Mars", "east"]);
    let r = call(&emu, "POST", "/titles/5/sessionhosts", &body);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(v["fulfillmentState"], json!("Fulfilled"));
    assert_eq!(v["hostName"], json!("127.0.0.1"));
    assert_eq!(v["region"], json!("East"), "the first location that names a region");
    assert_eq!(v["portMappings"][0]["Value"], json!({"internal": 7777, "external": 32000}));
    assert!(v["sessionHostId"].as_str().is_some_and(|s| s.len() == 36));
    assert!(v["secureContext"].as_str().is_some_and(|s| !s.is_empty()));
    // Repeat: the same host, Fulfilled.
    let again = call(&emu, "POST", "/titles/5/sessionhosts", &body).json();
    assert_eq!(again["sessionHostId"], v["sessionHostId"]);
    assert_eq!(again["fulfillmentState"], json!("Fulfilled"));

    let s = allocation_status(&emu, 5, "s-1").json();
    assert_eq!(s["status"], json!("Fulfilled"));
    assert_eq!(s["sessionId"], json!("s-1"));
    assert_eq!(s["region"], json!("East"));
    for key in ["hostName", "sessionHostId", "secureContext", "portMappings"] {
        assert_eq!(s[key], v[key], "{key}");
    }
    for key in ["clusterId", "ticketId", "gameHostId", "description"] {
        assert!(s[key].as_str().is_some_and(|x| !x.is_empty()), "{key}");
    }
    assert_eq!(allocation_status(&emu, 5, "s-2").status, 404);
    assert_eq!(allocation_status(&emu, 6, "s-1").status, 404);
}

#[test]
fn session_host_activation_409_and_503() {
    let emu = start(Config { session_host_activation: Duration::from_millis(300), ..Config::default() });
    let a = session_host(&emu, 1, "a");
    assert_eq!(a.status, 200);
    let v = a.json();
    assert_eq!(v["fulfillmentState"], json!("Queued"));
    assert!(v["hostName"].is_string() && v["sessionHostId"].is_string());
    assert_eq!(status_of(&allocation_status(&emu, 1, "a")), "Queued");
    // A repeat while the host activates is 409.
    let r = session_host(&emu, 1, "a");
    assert_eq!(r.status, 409);
    assert!(r.json()["description"].as_str().unwrap().contains("not Active yet"));
    // The second host; then none is StandingBy.
    assert_eq!(session_host(&emu, 1, "b").status, 200);
    let r = session_host(&emu, 1, "c");
    assert_eq!(r.status, 503);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert!(r.json()["description"].as_str().unwrap().contains("StandingBy"));
    let st = state(&emu);
    let hosts = &st["sessionHosts"][0]["hosts"];
    assert_eq!(hosts[0]["state"], json!("Activating"));
    assert_eq!(hosts[0]["sessionId"], json!("a"));
    assert!(hosts[0]["activatesInMs"].as_u64().unwrap() <= 300);
    // Another title has its own hosts.
    assert_eq!(session_host(&emu, 2, "c").status, 200);

    std::thread::sleep(Duration::from_millis(350));
    assert_eq!(status_of(&allocation_status(&emu, 1, "a")), "Fulfilled");
    assert_eq!(session_host(&emu, 1, "a").json()["fulfillmentState"], json!("Fulfilled"));
    assert_eq!(state(&emu)["sessionHosts"][0]["hosts"][0]["state"], json!("Active"));
    assert_eq!(state(&emu)["sessions"][0]["status"], json!("Fulfilled"));
}

#[test]
fn session_hosts_release_abort_and_lifetime() {
    let emu = start(Config { server_lifetime: Duration::from_millis(250), ..Config::default() });
    assert_eq!(session_host(&emu, 1, "a").status, 200);
    assert_eq!(session_host(&emu, 1, "b").status, 200);
    assert_eq!(session_host(&emu, 1, "c").status, 503);

    // Abort one through the admin API: its host is StandingBy again.
    let r = admin(&emu, "POST", "/_emulator/sessions/a", r#"{"status":"Aborted","description":"host crashed"}"#);
    assert_eq!(r.status, 200);
    let s = allocation_status(&emu, 1, "a").json();
    assert_eq!((s["status"].clone(), s["description"].clone()), (json!("Aborted"), json!("host crashed")));
    assert!(s.get("hostName").is_none());
    assert_eq!(session_host(&emu, 1, "c").status, 200);
    assert_eq!(admin(&emu, "POST", "/_emulator/sessions/zzz", r#"{"status":"Aborted"}"#).status, 404);
    assert_eq!(admin(&emu, "POST", "/_emulator/sessions/b", r#"{"status":"Fulfilled"}"#).status, 400);
    assert!(emu.abort_session("zzz", "").is_err());

    // The lifetime frees the rest.
    std::thread::sleep(Duration::from_millis(300));
    let s = allocation_status(&emu, 1, "b").json();
    assert_eq!(s["status"], json!("Aborted"));
    assert!(s["description"].as_str().unwrap().contains("lifetime"));
    // An aborted session asking again is a new claim.
    assert_eq!(session_host(&emu, 1, "a").json()["fulfillmentState"], json!("Fulfilled"));
    assert_eq!(status_of(&allocation_status(&emu, 1, "a")), "Fulfilled");

    // Release over the admin API and the handle.
    let r = admin(&emu, "POST", "/_emulator/sessionhosts/release?title=1", "");
    assert_eq!(r.json()["released"], json!(1));
    assert_eq!(status_of(&allocation_status(&emu, 1, "a")), "Aborted");
    assert_eq!(session_host(&emu, 1, "d").status, 200);
    assert_eq!(emu.release_session_hosts(1), 1);
    assert_eq!(admin(&emu, "POST", "/_emulator/sessionhosts/release", "").status, 400);
}

#[test]
fn titles_without_subscriptions_are_404() {
    let emu = start(Config { titles_without_subscriptions: vec![13], ..Config::default() });
    let r = session_host(&emu, 13, "s");
    assert_eq!(r.status, 404);
    assert!(r.json()["description"].as_str().unwrap().contains("no subscriptions"));
    assert_eq!(session_host(&emu, 14, "s").status, 200);
    emu.set_title_subscribed(14, false);
    assert_eq!(session_host(&emu, 14, "t").status, 404);
    let r = admin(&emu, "PUT", "/_emulator/subscriptions/13", r#"{"subscribed":true}"#);
    assert_eq!(r.status, 200);
    assert_eq!(session_host(&emu, 13, "s").status, 200);
    assert_eq!(admin(&emu, "PUT", "/_emulator/subscriptions/x", r#"{"subscribed":true}"#).status, 400);
    assert_eq!(admin(&emu, "PUT", "/_emulator/subscriptions/13", r#"{"subscribed":"no"}"#).status, 400);
    assert_eq!(state(&emu)["titlesWithoutSubscriptions"], json!([14]));
    emu.reset();
    assert_eq!(state(&emu)["titlesWithoutSubscriptions"], json!([13]));
}

#[test]
fn session_host_bad_bodies_name_the_field() {
    let emu = start(Config::default());
    let post = |v: Value| call(&emu, "POST", "/titles/1/sessionhosts", &v.to_string());
    for (body, field) in [
        (json!({"cloudGameId": "g", "locations": ["W"]}), "sessionId"),
        (json!({"sessionId": "s", "locations": ["W"]}), "cloudGameId"),
        (json!({"sessionId": "s", "cloudGameId": "g"}), "locations"),
        (json!({"sessionId": "s", "cloudGameId": "g", "locations": []}), "locations"),
        (json!({"sessionId": "s", "cloudGameId": "g", "locations": [3]}), "locations"),
        (json!({"sessionId": "", "cloudGameId": "g", "locations": ["W"]}), "sessionId"),
        (
            json!({"sessionId": "s", "cloudGameId": "g", "locations": ["W"], "sessionCookie": "x".repeat(32 * 1024 + 1)}),
            "sessionCookie",
        ),
        (json!({"sessionId": "s", "cloudGameId": "g", "locations": ["W"], "gameModeId": 1}), "gameModeId"),
        (json!({"sessionId": "s", "cloudGameId": "g", "locations": ["W"], "sandboxId": []}), "sandboxId"),
    ] {
        let r = post(body);
        assert_eq!(r.status, 400, "{field}");
        assert!(r.json()["description"].as_str().unwrap().contains(field), "{field}");
    }
    let ok = json!({"sessionId": "s", "cloudGameId": "g", "locations": ["W"], "sessionCookie": "x".repeat(32 * 1024),
                    "gameModeId": "m", "sandboxId": "XDKS.1"});
    assert_eq!(post(ok).status, 200);
}

#[test]
fn session_ids_are_percent_decoded() {
    let emu = start(Config::default());
    let id = "a1b2/c3 ü";
    assert_eq!(call(&emu, "POST", "/titles/1/sessionhosts", &session_host_body(id, &["W"])).status, 200);
    let r = allocation_status(&emu, 1, "a1b2%2Fc3%20%C3%BC");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["sessionId"], json!(id));
    assert_eq!(admin(&emu, "POST", "/_emulator/sessions/a1b2%2Fc3%20%C3%BC", r#"{"status":"Aborted"}"#).status, 200);
    assert_eq!(status_of(&allocation_status(&emu, 1, "a1b2%2fc3%20%c3%bc")), "Aborted");
}

#[test]
fn udp_echo_covers_session_hosts() {
    let emu = start(Config { udp_echo: true, ..Config::default() });
    let v = session_host(&emu, 1, "u").json();
    let port = v["portMappings"][0]["Value"]["external"].as_u64().unwrap() as u16;
    assert_ne!(port, 32000);
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    sock.send_to(b"hello", ("127.0.0.1", port)).unwrap();
    let mut buf = [0u8; 16];
    let (n, _) = sock.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"hello");
}

#[test]
fn state_shows_tickets_hosts_sessions_regions() {
    let emu = start(Config {
        servers_per_title: 1,
        regions: vec![RegionConfig::new("West").with_delay_ms(3.0).with_jitter_ms(1.0).with_loss(0.25)],
        region: "West".into(),
        ..Config::default()
    });
    inline(&emu, 8, "t-active");
    inline(&emu, 8, "t-queued");
    session_host(&emu, 8, "s1");
    let st = state(&emu);
    let tickets = st["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 2);
    assert_eq!(tickets[0]["ticketId"], json!("t-active"));
    assert_eq!(tickets[0]["status"], json!("Active"));
    assert_eq!(tickets[0]["server"], json!(0));
    assert_eq!(tickets[1]["status"], json!("Queued"));
    assert_eq!(st["titles"][0]["servers"][0]["ticketId"], json!("t-active"));
    assert_eq!(st["titles"][0]["servers"][0]["sessionId"], json!(null));
    let hosts = st["sessionHosts"][0]["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 2);
    assert_eq!(hosts[0]["state"], json!("Active"));
    assert_eq!(hosts[1]["state"], json!("StandingBy"));
    assert_eq!(st["sessionHosts"][0]["subscribed"], json!(true));
    assert_eq!(st["sessions"][0]["sessionId"], json!("s1"));
    let region = &st["regions"][0];
    assert_eq!(region["name"], json!("West"));
    assert_eq!(
        (region["delayMs"].clone(), region["jitterMs"].clone(), region["loss"].clone()),
        (json!(3.0), json!(1.0), json!(0.25))
    );
    assert_eq!(region["port"], json!(emu.qos_beacons()[0].1.port()));
    assert_eq!(st["config"]["sessionHostsPerTitle"], json!(2));
    // Reset forgets tickets and sessions and frees hosts.
    admin(&emu, "POST", "/_emulator/reset", "");
    let st = state(&emu);
    assert_eq!(st["tickets"], json!([]));
    assert_eq!(st["sessions"], json!([]));
    assert_eq!(st["sessionHosts"][0]["hosts"][0]["state"], json!("StandingBy"));
}
