//! The library's own HTTP/1.1 client (src/core/http.rs) against a raw-socket server: when a
//! connection is kept and reused, when it is not, and the answers a server may legally give
//! (interim 1xx answers, chunked bodies with trailers, bodies read until close, HTTP/1.0).
//! Each test counts what reached the wire: requests and TCP connections.

mod common;
#[path = "support/raw_server.rs"]
mod raw_server;

use std::io::Write;
use std::thread;
use std::time::Duration;

use common::*;
use raw_server::*;

const FULFILLED: &str = r#"{"fulfillmentState":"Fulfilled","hostName":"10.0.0.7","region":"WestUS","portMappings":[{"Key":"GameData","Value":{"internal":7777,"external":31000}}]}"#;

fn client(url: &str) -> Client {
    let mut c = Config::default();
    c.set_base_url(url).unwrap();
    c.set_auth_token(TOKEN).unwrap();
    c.set_timeouts(2000, 3000).unwrap();
    c.set_retry_policy(3, 10, 200).unwrap();
    Client::new(&c).unwrap()
}

/// Three calls on one client; each must be the fulfilled answer. Returns (requests, connections).
fn three_calls(srv: &RawServer) -> (usize, usize) {
    let c = client(&srv.url());
    for i in 0..3 {
        let r = create(&c, &request("http1"));
        assert_eq!(r.status, Status::Ok, "call {i}: {}", r.error_message);
        assert_eq!(r.raw_json, FULFILLED, "call {i}");
        assert_eq!(r.attempts, 1, "call {i}: no retry needed");
    }
    (srv.requests(), srv.connections())
}

fn write(s: &mut std::net::TcpStream, bytes: &[u8]) -> After {
    match s.write_all(bytes) {
        Ok(()) => After::KeepAlive,
        Err(_) => After::Close,
    }
}

/// Runs `n` calls at once (released together by a barrier), each `call(&client)` returning its
/// status and message; asserts every one is Ok.
fn concurrently(
    c: &std::sync::Arc<Client>,
    n: usize,
    call: impl Fn(&Client) -> (Status, String) + Send + Sync + Copy + 'static,
) {
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(n));
    let threads: Vec<_> = (0..n)
        .map(|_| {
            let (c, b) = (c.clone(), barrier.clone());
            thread::spawn(move || {
                b.wait();
                call(&c)
            })
        })
        .collect();
    for t in threads {
        let (status, msg) = t.join().unwrap();
        assert_eq!(status, Status::Ok, "{msg}");
    }
}

fn create_one(c: &Client) -> (Status, String) {
    let r = create(c, &request("http1"));
    (r.status, r.error_message.clone())
}

#[test]
fn a_keep_alive_connection_carries_every_call() {
    let srv = RawServer::start(|s, _| {
        write(s, format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{FULFILLED}", FULFILLED.len()).as_bytes())
    });
    assert_eq!(three_calls(&srv), (3, 1));
}

#[test]
fn connection_close_is_honoured_and_the_next_call_opens_a_new_one() {
    let srv = RawServer::start(|s, _| {
        let _ = s.write_all(
            format!("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{FULFILLED}", FULFILLED.len())
                .as_bytes(),
        );
        // The server keeps the socket open: only the header says it is done with it.
        thread::sleep(Duration::from_millis(300));
        After::Close
    });
    assert_eq!(three_calls(&srv), (3, 3));
}

#[test]
fn an_http_1_0_answer_closes_unless_it_says_keep_alive() {
    let plain = RawServer::start(|s, _| {
        let _ = s
            .write_all(format!("HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{FULFILLED}", FULFILLED.len()).as_bytes());
        thread::sleep(Duration::from_millis(300));
        After::Close
    });
    assert_eq!(three_calls(&plain), (3, 3));
    let kept = RawServer::start(|s, _| {
        write(
            s,
            format!(
                "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: {}\r\n\r\n{FULFILLED}",
                FULFILLED.len()
            )
            .as_bytes(),
        )
    });
    assert_eq!(three_calls(&kept), (3, 1));
    // A Connection header naming other options (hop-by-hop headers) does not keep it open.
    let other = RawServer::start(|s, _| {
        let _ = s.write_all(
            format!("HTTP/1.0 200 OK\r\nConnection: x-trace\r\nContent-Length: {}\r\n\r\n{FULFILLED}", FULFILLED.len())
                .as_bytes(),
        );
        thread::sleep(Duration::from_millis(300));
        After::Close
    });
    assert_eq!(three_calls(&other), (3, 3));
}

#[test]
fn interim_answers_are_skipped_and_the_connection_is_kept() {
    let srv = RawServer::start(|s, _| {
        write(
            s,
            format!(
                "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{FULFILLED}",
                FULFILLED.len()
            )
            .as_bytes(),
        )
    });
    assert_eq!(three_calls(&srv), (3, 1));
}

#[test]
fn a_chunked_body_with_extensions_and_trailers_is_read_whole_and_the_connection_kept() {
    let srv = RawServer::start(|s, _| {
        let mut out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for part in FULFILLED.as_bytes().chunks(40) {
            out.extend_from_slice(format!("{:X};ext=1\r\n", part.len()).as_bytes());
            out.extend_from_slice(part);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\nX-Trailer: yes\r\nX-Other: 2\r\n\r\n");
        write(s, &out)
    });
    assert_eq!(three_calls(&srv), (3, 1));
}

#[test]
fn a_body_read_until_close_is_whole_and_the_connection_is_not_reused() {
    let srv = RawServer::start(|s, _| {
        let _ = s.write_all(format!("HTTP/1.1 200 OK\r\n\r\n{FULFILLED}").as_bytes());
        After::Close
    });
    assert_eq!(three_calls(&srv), (3, 3));
}

#[test]
fn a_pooled_connection_the_server_closed_is_not_used_again() {
    // The server answers with keep-alive framing, then closes the connection while it is idle in
    // the pool: the next call must notice (the pool's probe) and open a new connection, not send
    // into the dead one and count a retry.
    let srv = RawServer::start(|s, _| {
        let _ = s
            .write_all(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{FULFILLED}", FULFILLED.len()).as_bytes());
        After::Close
    });
    let c = client(&srv.url());
    for i in 0..3 {
        let r = create(&c, &request("http1"));
        assert_eq!(r.status, Status::Ok, "call {i}: {}", r.error_message);
        assert_eq!(r.attempts, 1, "call {i}");
        // Let the server's FIN arrive before the next call takes the connection out of the pool.
        thread::sleep(Duration::from_millis(50));
    }
    assert_eq!((srv.requests(), srv.connections()), (3, 3));
}

#[test]
fn bytes_after_the_body_make_the_connection_unusable() {
    // A server that sends more than its Content-Length: what follows is not the next answer, so
    // the connection must not carry another request (the stray bytes would be read as its answer).
    let srv = RawServer::start(|s, _| {
        write(
            s,
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{FULFILLED}HTTP/1.1 500 Stray\r\nContent-Length: 0\r\n\r\n",
                FULFILLED.len()
            )
            .as_bytes(),
        )
    });
    assert_eq!(three_calls(&srv), (3, 3));
}

#[test]
fn warmup_opens_the_connection_the_first_call_then_uses() {
    let srv = RawServer::start_with_head(|s, _, head| {
        if head.starts_with("HEAD / ") {
            // A HEAD answer announces a length but carries no body.
            return write(s, b"HTTP/1.1 404 Not Found\r\nContent-Length: 1234\r\n\r\n");
        }
        write(s, format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{FULFILLED}", FULFILLED.len()).as_bytes())
    });
    let c = client(&srv.url());
    c.warmup();
    assert_eq!((srv.requests(), srv.connections()), (1, 1), "the warmup's HEAD");
    let r = create(&c, &request("http1"));
    assert_eq!(r.status, Status::Ok, "{}", r.error_message);
    assert_eq!((srv.requests(), srv.connections()), (2, 1), "the call reused the warm connection");
    let heads = srv.heads();
    assert!(!heads[0].to_ascii_lowercase().contains("authorization"), "the warmup sends no credential: {}", heads[0]);
}

#[test]
fn the_request_head_is_exactly_what_the_protocol_says() {
    let srv = RawServer::start(|s, _| {
        write(s, format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{FULFILLED}", FULFILLED.len()).as_bytes())
    });
    let c = client(&srv.url());
    assert_eq!(create(&c, &request("http1")).status, Status::Ok);
    let head = srv.heads().remove(0);
    let lines: Vec<&str> = head.trim_end().split("\r\n").collect();
    assert_eq!(lines[0], format!("POST /titles/{TITLE}/clusters HTTP/1.1"));
    let names: Vec<String> = lines[1..].iter().map(|l| l.split(':').next().unwrap().to_string()).collect();
    assert_eq!(
        names,
        ["host", "user-agent", "accept", "x-xbl-contract-version", "authorization", "content-type", "content-length"],
        "{head}"
    );
    assert!(lines.contains(&format!("host: {}", srv.url().trim_start_matches("http://")).as_str()), "{head}");
    assert!(lines.contains(&"x-xbl-contract-version: 1"), "{head}");
    assert!(lines.contains(&format!("authorization: {TOKEN}").as_str()), "{head}");
    assert!(lines.contains(&"content-type: application/json"), "{head}");
}

/// A fulfilled answer padded with an unknown field to about `bytes`.
fn big_answer(bytes: usize) -> String {
    let pad = "x".repeat(bytes);
    format!(r#"{{"padding":"{pad}",{}"#, &FULFILLED[1..])
}

/// `body` answered with `status` in one of three framings: Content-Length, chunked (in chunks
/// of `chunk` bytes), or read until the connection closes.
fn framed(status: &str, body: &str, framing: &str, chunk: usize) -> Vec<u8> {
    match framing {
        "length" => format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes(),
        "chunked" | "chunked-long-lines" => {
            // Long lines: a 300-byte chunk extension on every size line, so that the lines, not
            // the data, keep straddling the end of the client's read buffer.
            let ext = if framing == "chunked" { String::new() } else { format!(";e={}", "x".repeat(300)) };
            let mut o = format!("HTTP/1.1 {status}\r\nTransfer-Encoding: chunked\r\n\r\n").into_bytes();
            for part in body.as_bytes().chunks(chunk) {
                o.extend_from_slice(format!("{:x}{ext}\r\n", part.len()).as_bytes());
                o.extend_from_slice(part);
                o.extend_from_slice(b"\r\n");
            }
            o.extend_from_slice(b"0\r\n\r\n");
            o
        }
        _ => format!("HTTP/1.1 {status}\r\n\r\n{body}").into_bytes(),
    }
}

#[test]
fn a_large_valid_body_under_the_cap_is_read_whole_in_every_framing() {
    // 300 KB: well under the 1 MiB cap, but many times the 16 KiB read buffer and many chunks,
    // so the cap arithmetic runs on every read.
    // Small chunks and long size lines too: then lines keep straddling the end of the buffer.
    let body = big_answer(300_000);
    for (framing, chunk) in
        [("length", 0), ("chunked", 16 * 1024), ("chunked", 100), ("chunked-long-lines", 50), ("until-close", 0)]
    {
        let b = body.clone();
        let srv = RawServer::start(move |s, _| {
            let _ = s.write_all(&framed("200 OK", &b, framing, chunk));
            if framing == "until-close" {
                After::Close
            } else {
                After::KeepAlive
            }
        });
        let r = create(&client(&srv.url()), &request("http1"));
        assert_eq!(r.status, Status::Ok, "{framing} {chunk}: {}", r.error_message);
        assert_eq!(r.raw_json.len(), body.len(), "{framing} {chunk}");
        assert_eq!(r.host_name, "10.0.0.7", "{framing} {chunk}");
    }
}

#[test]
fn a_single_chunk_larger_than_the_cap_is_refused_before_it_is_read() {
    // One chunk announcing 64 MiB: refused at its size line, not after buffering it.
    let srv = RawServer::start(|s, _| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4000000\r\n");
        let block = vec![b' '; 64 * 1024];
        for _ in 0..1024 {
            if s.write_all(&block).is_err() {
                break;
            }
        }
        let _ = s.write_all(b"\r\n0\r\n\r\n");
        After::Close
    });
    let r = create(&client(&srv.url()), &request("http1"));
    assert_eq!(r.status, Status::Protocol, "{}", r.error_message);
    assert!(r.error_message.contains("exceeds the 1048576 byte cap"), "{}", r.error_message);
}

#[test]
fn concurrent_calls_keep_their_connections_for_the_next_round() {
    // Four calls at once need four connections; once they are back in the pool, the next four
    // concurrent calls take them again instead of opening new ones.
    let srv = RawServer::start(|s, _| {
        write(s, format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{FULFILLED}", FULFILLED.len()).as_bytes())
    });
    let c = std::sync::Arc::new(client(&srv.url()));
    for _round in 0..3 {
        concurrently(&c, 4, create_one);
    }
    assert_eq!(srv.requests(), 12);
    // Four at most: a round may find fewer calls overlapping, never more than four.
    assert!(srv.connections() <= 4, "{} connections for 3 rounds of 4 concurrent calls", srv.connections());
}

#[test]
fn a_response_head_up_to_16_kib_is_read_and_a_larger_one_is_refused() {
    // Long headers (a CDN's cookies, a trace header) are legal; the head is bounded by the
    // connection's 16 KiB read buffer, and a head over it is refused, not read without end.
    for (pad, ok) in [(12 * 1024, true), (17 * 1024, false)] {
        let srv = RawServer::start(move |s, _| {
            write(
                s,
                format!(
                    "HTTP/1.1 200 OK\r\nX-Padding: {}\r\nContent-Length: {}\r\n\r\n{FULFILLED}",
                    "p".repeat(pad),
                    FULFILLED.len()
                )
                .as_bytes(),
            )
        });
        let r = create(&client(&srv.url()), &request("http1"));
        if ok {
            assert_eq!(r.status, Status::Ok, "{pad}: {}", r.error_message);
            assert_eq!(r.raw_json, FULFILLED);
        } else {
            // Broken HTTP is a network error (final: the same server would answer the same).
            assert_eq!(r.status, Status::Network, "{pad}: {}", r.error_message);
            assert_eq!(r.attempts, 1);
            assert!(r.error_message.contains("a response line or head exceeds 16384 bytes"), "{}", r.error_message);
        }
    }
}

#[test]
fn at_most_eight_idle_connections_are_kept_per_host() {
    // 2 workers: max(2, 4) * 2 = 8 idle connections per host. Twelve overlapping calls open
    // twelve; eight are kept, so the next twelve open four more.
    let srv = RawServer::start(|s, _| {
        thread::sleep(Duration::from_millis(150));
        write(s, format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{FULFILLED}", FULFILLED.len()).as_bytes())
    });
    let c = std::sync::Arc::new(client(&srv.url()));
    for (round, want) in [(0, 12), (1, 16)] {
        concurrently(&c, 12, create_one);
        assert_eq!(srv.connections(), want, "round {round}");
    }
}

#[test]
fn a_host_keeps_its_idle_connections_when_another_host_has_filled_its_share() {
    // The pool keeps up to 8 idle connections per host (2 workers: max(2, 4) * 2). With the
    // allocation host's 8 parked, the discovery host's two must still be kept and reused.
    const QOS: &str = r#"{"qosServers":[]}"#;
    let answer = |body: &'static str| {
        move |s: &mut std::net::TcpStream, _| {
            // Slow enough that the concurrent calls of a round each need a connection.
            thread::sleep(Duration::from_millis(150));
            write(s, format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len()).as_bytes())
        }
    };
    let alloc = RawServer::start(answer(FULFILLED));
    let disc = RawServer::start(answer(QOS));
    let mut cfg = Config::default();
    cfg.set_base_url(&alloc.url()).unwrap();
    cfg.set_discovery_base_url(&disc.url()).unwrap();
    cfg.set_auth_token(TOKEN).unwrap();
    cfg.set_timeouts(2000, 5000).unwrap();
    let c = std::sync::Arc::new(Client::new(&cfg).unwrap());
    let round = |n: usize, qos: bool| {
        if qos {
            concurrently(&c, n, |c| {
                let r = gsms::core::call::run(
                    gsms::core::calls::qos_servers::get_qos_servers(false),
                    c,
                    &CallOptions::default(),
                );
                (r.status, r.error_message.clone())
            });
        } else {
            concurrently(&c, n, create_one);
        }
    };
    round(8, false);
    assert_eq!(alloc.connections(), 8, "eight overlapping calls, eight connections");
    round(2, true);
    assert_eq!(disc.connections(), 2);
    round(2, true);
    round(2, true);
    assert_eq!(disc.requests(), 6);
    assert_eq!(disc.connections(), 2, "the discovery host's idle connections were dropped");
    round(8, false);
    assert_eq!(alloc.connections(), 8, "the allocation host's idle connections were dropped");
}

#[test]
fn an_error_body_over_64_kib_keeps_exactly_its_first_64_kib_in_every_framing() {
    // 100 KB of a pattern that shows where each byte came from.
    let body: String = (0..100_000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    for framing in ["length", "chunked", "until-close"] {
        let b = body.clone();
        let srv = RawServer::start(move |s, _| {
            let _ = s.write_all(&framed("404 Not Found", &b, framing, 7_000));
            After::Close
        });
        let r = create(&client(&srv.url()), &request("http1"));
        assert_eq!((r.status, r.http_status), (Status::HttpStatus, 404), "{framing}: {}", r.error_message);
        assert_eq!(r.raw_json.len(), 64 * 1024, "{framing}");
        assert!(r.raw_json == body[..64 * 1024], "{framing}: the kept bytes are not the body's first 64 KiB");
    }
}

#[test]
fn a_failed_warmup_is_logged_with_its_reason() {
    // A port nothing listens on: the warmup fails, and says why at Warn.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut cfg = Config::default();
    cfg.set_base_url(&format!("http://127.0.0.1:{port}")).unwrap();
    cfg.set_auth_token(TOKEN).unwrap();
    let lines = capture_logs(&mut cfg, LogLevel::Warn);
    Client::new(&cfg).unwrap().warmup();
    let lines = lines.lock().unwrap();
    assert!(lines.iter().any(|l| l.starts_with("warmup failed: network error") && l.contains("refused")), "{lines:#?}");
}

#[test]
fn bare_lf_line_ends_are_read_even_at_the_start_of_a_read() {
    // Some servers end chunk lines with LF alone. Here the LF that ends a chunk's data arrives in
    // a read of its own, so it is the first byte of the buffer.
    let srv = RawServer::start(|s, _| {
        let head = format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\n{FULFILLED}", FULFILLED.len());
        if s.write_all(head.as_bytes()).is_err() {
            return After::Close;
        }
        thread::sleep(Duration::from_millis(50));
        let _ = s.write_all(b"\n0\n\n");
        After::Close
    });
    let r = create(&client(&srv.url()), &request("http1"));
    assert_eq!(r.status, Status::Ok, "{}", r.error_message);
    assert_eq!(r.raw_json, FULFILLED);
}

#[test]
fn a_body_of_exactly_the_cap_is_read_and_one_byte_more_is_refused_in_every_framing() {
    const CAP: usize = 1024 * 1024;
    let exact = big_answer(CAP - big_answer(0).len());
    assert_eq!(exact.len(), CAP);
    let over = big_answer(CAP + 1 - big_answer(0).len());
    for framing in ["length", "chunked", "until-close"] {
        for (body, ok) in [(exact.clone(), true), (over.clone(), false)] {
            let srv = RawServer::start(move |s, _| {
                let _ = s.write_all(&framed("200 OK", &body, framing, 10_000));
                After::Close
            });
            let r = create(&client(&srv.url()), &request("http1"));
            if ok {
                assert_eq!(r.status, Status::Ok, "{framing}, exactly the cap: {}", r.error_message);
                assert_eq!(r.raw_json.len(), CAP, "{framing}");
            } else {
                assert_eq!(r.status, Status::Protocol, "{framing}, one byte over: {}", r.error_message);
                assert!(r.error_message.contains("exceeds the 1048576 byte cap"), "{framing}: {}", r.error_message);
            }
        }
    }
}

#[test]
fn a_connection_closed_before_any_answer_is_retried_and_one_closed_inside_the_head_is_not() {
    // Nothing at all: safe to send again (the server never answered), and the message says so.
    let silent = RawServer::start(|_, _| After::Close);
    let r = create(&client(&silent.url()), &request("http1"));
    assert_eq!(r.status, Status::Network, "{}", r.error_message);
    assert_eq!((r.attempts, silent.requests()), (3, 3), "the retry budget of 3: {}", r.error_message);
    assert!(r.error_message.contains("the connection closed before any response"), "{}", r.error_message);
    // Half a head: the server has started answering, so the request is not sent again.
    let halfway = RawServer::start(|s, _| {
        write(s, b"HTTP/1.1 200 OK\r\nContent-");
        After::Close
    });
    let r = create(&client(&halfway.url()), &request("http1"));
    assert_eq!(r.status, Status::Network, "{}", r.error_message);
    assert_eq!((r.attempts, halfway.requests()), (1, 1), "{}", r.error_message);
    assert!(
        r.error_message
            .contains("network error reading the response head: the connection closed inside the response head"),
        "{}",
        r.error_message
    );
    // An interim answer is an answer too: the server has the request.
    let interim = RawServer::start(|s, _| {
        write(s, b"HTTP/1.1 100 Continue\r\n\r\n");
        After::Close
    });
    let r = create(&client(&interim.url()), &request("http1"));
    assert_eq!((r.status, r.attempts, interim.requests()), (Status::Network, 1, 1), "{}", r.error_message);
}
