//! A tiny HTTP/1.1 client over std::net::TcpStream, enough to drive the emulator.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use gsms_emulator::Emulator;
use serde_json::Value;

pub const AUTH: &str = "XBL3.0 x=1234;token";

pub fn session(name: &str) -> String {
    format!("/serviceconfigs/00000000-0000-0000-0000-000000000000/sessionTemplates/quick/sessions/{name}")
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", String::from_utf8_lossy(&self.body)))
    }
    pub fn state(&self) -> String {
        assert_eq!(self.status, 200, "body: {}", String::from_utf8_lossy(&self.body));
        self.json()["fulfillmentState"].as_str().expect("fulfillmentState").to_string()
    }
}

pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub fn connect(emu: &Emulator) -> Client {
        let stream = TcpStream::connect(emu.addr()).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        Client { stream, buf: Vec::new() }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    pub fn send(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) {
        let mut out = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n");
        for (n, v) in headers {
            out.push_str(&format!("{n}: {v}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            out.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(body);
        self.send_raw(&bytes);
    }

    fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 4096];
        match self.stream.read(&mut chunk) {
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                n
            }
            Err(_) => 0,
        }
    }

    /// Reads one response; None when the connection closed first.
    pub fn read(&mut self) -> Option<Resp> {
        let head_end = loop {
            if let Some(p) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p;
            }
            if self.fill() == 0 {
                return None;
            }
        };
        let head = String::from_utf8(self.buf[..head_end].to_vec()).expect("ASCII head");
        self.buf.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap();
        let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
        let headers: Vec<(String, String)> = lines
            .map(|l| {
                let (n, v) = l.split_once(':').expect("header line");
                (n.trim().to_string(), v.trim().to_string())
            })
            .collect();
        let len: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.parse().unwrap())
            .expect("Content-Length on every response");
        while self.buf.len() < len {
            if self.fill() == 0 {
                return None;
            }
        }
        let body = self.buf.drain(..len).collect();
        Some(Resp { status, headers, body })
    }

    /// Reads the head of an answer to HEAD (no body follows) and returns its status.
    pub fn read_head_status(&mut self) -> u16 {
        let head = self.read_interim();
        head.split(' ').nth(1).unwrap().parse().unwrap()
    }

    /// Reads an interim head (like `100 Continue`) and returns its status line.
    pub fn read_interim(&mut self) -> String {
        loop {
            if let Some(p) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8(self.buf[..p].to_vec()).unwrap();
                self.buf.drain(..p + 4);
                return head;
            }
            assert!(self.fill() > 0, "connection closed");
        }
    }

    /// Reads until EOF; returns the bytes received.
    pub fn read_to_end(&mut self) -> Vec<u8> {
        let mut all = std::mem::take(&mut self.buf);
        let _ = self.stream.read_to_end(&mut all);
        all
    }
}

/// One request on a fresh connection.
pub fn request(emu: &Emulator, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut c = Client::connect(emu);
    c.send(method, path, headers, body);
    c.read().expect("a response")
}

/// A HEAD request on a fresh connection; its status.
pub fn head(emu: &Emulator, path: &str) -> u16 {
    let mut c = Client::connect(emu);
    c.send("HEAD", path, &[], b"");
    c.read_head_status()
}

/// A well-formed allocation request.
pub fn allocate(emu: &Emulator, title: u32, session_name: &str) -> Resp {
    let body = serde_json::json!({ "sessionId": session(session_name) }).to_string();
    post_json(emu, title, AUTH, &body)
}

pub fn post_json(emu: &Emulator, title: u32, auth: &str, body: &str) -> Resp {
    request(
        emu,
        "POST",
        &format!("/titles/{title}/clusters"),
        &[("x-xbl-contract-version", "1"), ("Authorization", auth), ("Content-Type", "application/json")],
        body.as_bytes(),
    )
}

/// The contract version of each call's path, as the emulator expects it.
pub fn contract_for(path: &str) -> &'static str {
    if path.ends_with("/inlineclusters") {
        "2"
    } else if path.ends_with("/status") {
        "6"
    } else if path.ends_with("/sessionhosts") || path.ends_with("/allocationStatus") {
        "8"
    } else {
        "1"
    }
}

/// A well-formed call: the path's contract version, AUTH, and for a POST a JSON body.
pub fn call(emu: &Emulator, method: &str, path: &str, body: &str) -> Resp {
    let mut headers = vec![("x-xbl-contract-version", contract_for(path)), ("Authorization", AUTH)];
    if method == "POST" {
        headers.push(("Content-Type", "application/json"));
    }
    request(emu, method, path, &headers, body.as_bytes())
}

/// An admin request with a JSON body; its answer.
pub fn admin(emu: &Emulator, method: &str, path: &str, body: &str) -> Resp {
    request(emu, method, path, &[("Content-Type", "application/json")], body.as_bytes())
}

/// `/_emulator/state`.
pub fn state(emu: &Emulator) -> Value {
    let r = request(emu, "GET", "/_emulator/state", &[], b"");
    assert_eq!(r.status, 200);
    r.json()
}

/// An inline-clusters body for a ticket.
pub fn inline_body(ticket: &str, location: &str, abort: bool) -> String {
    let mut v = serde_json::json!({
        "serviceConfigId": "00000000-0000-0000-0000-000000000000",
        "sandboxId": "XDKS.1",
        "ticketId": ticket,
        "gsiSetId": "9c4a1d7e-0000-4000-8000-00000000c001",
        "gameVariantId": "3b0e7f52-0000-4000-8000-00000000b001",
        "location": location,
        "maxAllowedPlayers": 8,
    });
    if abort {
        v["abortIfQueued"] = serde_json::json!(true);
    }
    v.to_string()
}

pub fn inline(emu: &Emulator, title: u32, ticket: &str) -> Resp {
    call(emu, "POST", &format!("/titles/{title}/inlineclusters"), &inline_body(ticket, "EmulatedWest", false))
}

pub fn ticket_status(emu: &Emulator, title: u32, ticket: &str) -> Resp {
    call(emu, "GET", &format!("/titles/{title}/tickets/{ticket}/status"), "")
}

/// A session-hosts body.
pub fn session_host_body(session: &str, locations: &[&str]) -> String {
    serde_json::json!({"sessionId": session, "cloudGameId": "9c4a1d7e-0000-4000-8000-00000000c001", "locations": locations})
        .to_string()
}

pub fn session_host(emu: &Emulator, title: u32, session: &str) -> Resp {
    call(emu, "POST", &format!("/titles/{title}/sessionhosts"), &session_host_body(session, &["EmulatedWest"]))
}

pub fn allocation_status(emu: &Emulator, title: u32, session: &str) -> Resp {
    call(emu, "GET", &format!("/titles/{title}/sessions/{session}/allocationStatus"), "")
}

/// One well-formed request per call: (name, method, path, body).
pub fn every_call(title: u32) -> Vec<(&'static str, &'static str, String, String)> {
    vec![
        (
            "clusters",
            "POST",
            format!("/titles/{title}/clusters"),
            serde_json::json!({"sessionId": session("every")}).to_string(),
        ),
        (
            "inlineClusters",
            "POST",
            format!("/titles/{title}/inlineclusters"),
            inline_body("every", "EmulatedWest", false),
        ),
        ("ticketStatus", "GET", format!("/titles/{title}/tickets/every/status"), String::new()),
        ("variants", "POST", format!("/titles/{title}/variants"), r#"{"locale":"en-us","tags":[]}"#.to_string()),
        ("qosServers", "GET", "/xplatqosservers".to_string(), String::new()),
        (
            "sessionHosts",
            "POST",
            format!("/titles/{title}/sessionhosts"),
            session_host_body("every", &["EmulatedWest"]),
        ),
        ("allocationStatus", "GET", format!("/titles/{title}/sessions/every/allocationStatus"), String::new()),
    ]
}
