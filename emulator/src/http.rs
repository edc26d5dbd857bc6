//! A small HTTP/1.1 server connection: request parsing (with `httparse`), body framing
//! (Content-Length or chunked), keep-alive, and single-write responses.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Largest request head accepted (request line plus headers).
pub(crate) const MAX_HEAD: usize = 64 * 1024;
/// Largest request body accepted; bigger bodies are answered 413.
pub(crate) const MAX_BODY: usize = 64 * 1024;
const MAX_HEADERS: usize = 100;

/// A parsed request.
#[derive(Debug)]
pub(crate) struct Request {
    pub method: String,
    /// The request target as sent (path and query).
    pub target: String,
    /// The target without its query string.
    pub path: String,
    /// The query string without the `?` (empty when none).
    pub query: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body was over [`MAX_BODY`] and was not read: answer, then close.
    pub body_too_large: bool,
}

impl Request {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// Whether the client wants the connection kept open after this request.
    pub fn wants_keep_alive(&self) -> bool {
        let conn = self.header("connection").map(|v| v.to_ascii_lowercase());
        match conn {
            Some(v) if v.split(',').any(|t| t.trim() == "close") => false,
            Some(v) if v.split(',').any(|t| t.trim() == "keep-alive") => true,
            _ => self.minor_version >= 1,
        }
    }
}

/// A response ready to be written.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// What reading the next request produced.
pub(crate) enum ReadOutcome {
    Request(Box<Request>),
    /// The peer closed (or went idle past the timeout, or the server is shutting down).
    Closed,
    /// The bytes are not a request we can frame: answer this status, then close.
    Bad(u16, &'static str),
}

/// A byte stream the server can speak HTTP over (plain TCP or TLS).
pub(crate) trait Transport: Read + Write {
    /// Orderly close (TLS sends close_notify); not called for injected drops.
    fn close_gracefully(&mut self) {}
}

impl Transport for TcpStream {}

impl Transport for rustls::StreamOwned<rustls::ServerConnection, TcpStream> {
    fn close_gracefully(&mut self) {
        self.conn.send_close_notify();
        let _ = self.flush();
    }
}

/// One server-side connection with its read buffer (requests may be pipelined).
pub(crate) struct Conn<S: Transport> {
    pub stream: S,
    buf: Vec<u8>,
}

impl<S: Transport> Conn<S> {
    pub fn new(stream: S) -> Self {
        Conn { stream, buf: Vec::with_capacity(4096) }
    }

    /// Reads more bytes into the buffer; Ok(0) on EOF.
    fn fill(&mut self) -> io::Result<usize> {
        let mut chunk = [0u8; 8192];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(n) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads one full request (head and body).
    pub fn read_request(&mut self) -> ReadOutcome {
        // Head.
        let (head_len, mut req) = loop {
            if !self.buf.is_empty() {
                let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                let mut parsed = httparse::Request::new(&mut headers);
                match parsed.parse(&self.buf) {
                    Ok(httparse::Status::Complete(len)) => {
                        let target = parsed.path.unwrap_or("/").to_string();
                        let (path, query) = match target.split_once('?') {
                            Some((p, q)) => (p.to_string(), q.to_string()),
                            None => (target.clone(), String::new()),
                        };
                        let req = Request {
                            method: parsed.method.unwrap_or("").to_string(),
                            path,
                            query,
                            target,
                            minor_version: parsed.version.unwrap_or(1),
                            headers: parsed
                                .headers
                                .iter()
                                .map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).trim().to_string()))
                                .collect(),
                            body: Vec::new(),
                            body_too_large: false,
                        };
                        break (len, req);
                    }
                    Ok(httparse::Status::Partial) => {}
                    Err(httparse::Error::TooManyHeaders) => return ReadOutcome::Bad(431, "too many request headers"),
                    Err(_) => return ReadOutcome::Bad(400, "malformed HTTP request head"),
                }
                if self.buf.len() > MAX_HEAD {
                    return ReadOutcome::Bad(431, "request head too large");
                }
            }
            match self.fill() {
                Ok(0) | Err(_) => return ReadOutcome::Closed,
                Ok(_) => {}
            }
        };
        self.buf.drain(..head_len);

        // Body framing.
        let chunked = match req.header("transfer-encoding") {
            None => false,
            Some(te) if te.eq_ignore_ascii_case("chunked") => true,
            Some(_) => return ReadOutcome::Bad(501, "unsupported Transfer-Encoding"),
        };
        let mut lengths =
            req.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("content-length")).map(|(_, v)| v.as_str());
        let content_length = match lengths.next() {
            None => None,
            Some(v) => {
                if chunked || lengths.any(|w| w != v) {
                    return ReadOutcome::Bad(400, "conflicting message length headers");
                }
                if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                    return ReadOutcome::Bad(400, "invalid Content-Length");
                }
                match v.parse::<u64>() {
                    Ok(n) => Some(n),
                    Err(_) => return ReadOutcome::Bad(400, "invalid Content-Length"),
                }
            }
        };
        let has_body = chunked || content_length.unwrap_or(0) > 0;
        if let Some(n) = content_length {
            if n > MAX_BODY as u64 {
                req.body_too_large = true;
                return ReadOutcome::Request(Box::new(req));
            }
        }
        if has_body
            && req.header("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
            && self.buf.is_empty()
        {
            let _ = self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
            let _ = self.stream.flush();
        }
        if chunked {
            match self.read_chunked() {
                Ok(Some(body)) => req.body = body,
                Ok(None) => {
                    req.body_too_large = true;
                }
                Err(outcome) => return outcome,
            }
        } else if let Some(n) = content_length {
            let n = n as usize;
            while self.buf.len() < n {
                match self.fill() {
                    Ok(0) | Err(_) => return ReadOutcome::Closed,
                    Ok(_) => {}
                }
            }
            req.body = self.buf.drain(..n).collect();
        }
        ReadOutcome::Request(Box::new(req))
    }

    /// Reads a line (without CRLF) from the buffer, filling as needed.
    fn read_line(&mut self, limit: usize) -> Result<Vec<u8>, ReadOutcome> {
        loop {
            if let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line = self.buf[..pos].to_vec();
                self.buf.drain(..pos + 2);
                return Ok(line);
            }
            if self.buf.len() > limit {
                return Err(ReadOutcome::Bad(400, "malformed chunked body"));
            }
            match self.fill() {
                Ok(0) | Err(_) => return Err(ReadOutcome::Closed),
                Ok(_) => {}
            }
        }
    }

    /// Decodes a chunked body; Ok(None) when it grows over [`MAX_BODY`].
    fn read_chunked(&mut self) -> Result<Option<Vec<u8>>, ReadOutcome> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line(1024)?;
            let line = String::from_utf8_lossy(&line);
            let size_text = line.split(';').next().unwrap_or("").trim();
            let size =
                usize::from_str_radix(size_text, 16).map_err(|_| ReadOutcome::Bad(400, "malformed chunk size"))?;
            if size == 0 {
                // Trailers, up to the empty line.
                loop {
                    if self.read_line(MAX_HEAD)?.is_empty() {
                        return Ok(Some(body));
                    }
                }
            }
            if body.len() + size > MAX_BODY {
                return Ok(None);
            }
            while self.buf.len() < size + 2 {
                match self.fill() {
                    Ok(0) | Err(_) => return Err(ReadOutcome::Closed),
                    Ok(_) => {}
                }
            }
            body.extend_from_slice(&self.buf[..size]);
            if &self.buf[size..size + 2] != b"\r\n" {
                return Err(ReadOutcome::Bad(400, "malformed chunked body"));
            }
            self.buf.drain(..size + 2);
        }
    }

    /// Writes a response in one write. `head_only` leaves the body out (HEAD requests).
    pub fn write_response(
        &mut self,
        resp: &Response,
        keep_alive: bool,
        minor_version: u8,
        head_only: bool,
    ) -> io::Result<()> {
        let mut out = Vec::with_capacity(256 + resp.body.len());
        out.extend_from_slice(format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status)).as_bytes());
        for (name, value) in &resp.headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("Content-Length: {}\r\n", resp.body.len()).as_bytes());
        if !keep_alive {
            out.extend_from_slice(b"Connection: close\r\n");
        } else if minor_version == 0 {
            out.extend_from_slice(b"Connection: keep-alive\r\n");
        }
        out.extend_from_slice(b"\r\n");
        if !head_only {
            out.extend_from_slice(&resp.body);
        }
        self.stream.write_all(&out)?;
        self.stream.flush()
    }
}

/// After answering a request whose body was not read: stop writing, then read and discard
/// what the client is still sending for a short while, so that closing does not reset the
/// connection before the client has read the answer.
pub(crate) fn linger(raw: &TcpStream) {
    let _ = raw.shutdown(std::net::Shutdown::Write);
    let _ = raw.set_read_timeout(Some(Duration::from_millis(200)));
    let mut sink = [0u8; 8192];
    let mut total = 0usize;
    let mut r = raw;
    while total < 4 * 1024 * 1024 {
        match r.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n,
        }
    }
}

/// The reason phrase for a status code.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "Status",
    }
}
