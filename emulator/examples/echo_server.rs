//! A stand-in dedicated game server for `gsms-emulator`'s command servers: it echoes every UDP
//! datagram on its port back to the sender (as the samples' "UDP echo" expects) and says
//! `echo server listening on HOST:PORT` once it is bound, until it is stopped.
//!
//! ```text
//! cargo build -p gsms-emulator --example echo_server
//! target/debug/examples/echo_server --port 7777 [--host 127.0.0.1]
//! ```
//!
//! `emulator/gsms-emulator.example.toml` starts one per allocation with `--port {port}`.

use std::io::Write;
use std::net::UdpSocket;

fn main() {
    let mut host = "127.0.0.1".to_string();
    let mut port: Option<u16> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next().and_then(|p| p.parse().ok()),
            "--host" => host = args.next().unwrap_or(host),
            _ => {
                eprintln!("usage: echo_server --port PORT [--host HOST]");
                std::process::exit(2);
            }
        }
    }
    let Some(port) = port else {
        eprintln!("echo_server: --port PORT is required");
        std::process::exit(2);
    };
    let socket = match UdpSocket::bind((host.as_str(), port)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("echo_server: cannot bind UDP {host}:{port}: {e}");
            std::process::exit(1);
        }
    };
    println!("echo server listening on {host}:{port}");
    let _ = std::io::stdout().flush();
    let mut buf = [0u8; 2048];
    loop {
        if let Ok((n, from)) = socket.recv_from(&mut buf) {
            let _ = socket.send_to(&buf[..n], from);
        }
    }
}
