//! A blocking HTTP/1.1 client on raw `TcpStream`s, enough for the tests: one request per
//! connection (`Connection: close`), chunked or sized bodies, and server-sent event streams.
//! Raw sockets also let the tests send malformed and truncated requests.

#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A server on 127.0.0.1, port chosen by the system.
pub fn server(limits: backprop_web::Limits) -> backprop_web::RunningServer {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    backprop_web::spawn(listener, limits).unwrap()
}

/// A reply: status, headers (names lower-case) and body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("status {}: not JSON ({e}): {}", self.status, self.text()))
    }

    /// The `error` message of a JSON error reply with this status.
    pub fn error(&self, status: u16) -> String {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(self.header("content-type"), Some("application/json"));
        self.json()["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error field: {}", self.text()))
            .to_owned()
    }
}

fn connect(address: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    stream
}

/// Sends raw bytes and reads the whole reply (the request should ask to close).
pub fn raw(address: SocketAddr, bytes: &[u8]) -> Reply {
    let mut stream = connect(address);
    // The server may answer and close before it read everything (a 413 on the declared
    // length): the reply is what counts, not whether all of the request went out.
    let _ = stream.write_all(bytes);
    let mut reader = BufReader::new(stream);
    let (status, headers) = read_head(&mut reader);
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        let mut body = Vec::new();
        while let Some(chunk) = read_chunk(&mut reader) {
            body.extend(chunk);
        }
        body
    } else {
        let mut body = Vec::new();
        reader.read_to_end(&mut body).unwrap();
        body
    };
    Reply {
        status,
        headers,
        body,
    }
}

/// One request with an optional content type and body.
pub fn request(
    address: SocketAddr,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Reply {
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(content_type) = content_type {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    raw(address, &bytes)
}

pub fn get(address: SocketAddr, path: &str) -> Reply {
    request(address, "GET", path, None, b"")
}

pub fn post(address: SocketAddr, path: &str, json: &str) -> Reply {
    request(
        address,
        "POST",
        path,
        Some("application/json"),
        json.as_bytes(),
    )
}

pub fn delete(address: SocketAddr, path: &str) -> Reply {
    request(address, "DELETE", path, None, b"")
}

/// Creates a session; returns its id and first state.
pub fn create(address: SocketAddr, config: &str) -> (String, Value) {
    let reply = post(address, "/api/sessions", config);
    assert_eq!(reply.status, 201, "{}", reply.text());
    let value = reply.json();
    (
        value["id"].as_str().unwrap().to_owned(),
        value["state"].clone(),
    )
}

fn read_head(reader: &mut impl BufRead) -> (u16, Vec<(String, String)>) {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("no status line: {line:?}"))
        .parse()
        .unwrap();
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        let (name, value) = trimmed.split_once(':').unwrap();
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    (status, headers)
}

/// One chunk of a chunked body; `None` at the last (empty) chunk.
fn read_chunk(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let size = usize::from_str_radix(line.trim(), 16)
        .unwrap_or_else(|_| panic!("bad chunk size line {line:?}"));
    let mut chunk = vec![0; size + 2];
    reader.read_exact(&mut chunk).unwrap();
    chunk.truncate(size);
    (size > 0).then_some(chunk)
}

/// An open server-sent event stream.
pub struct Events {
    reader: BufReader<TcpStream>,
    pending: Vec<u8>,
}

impl Events {
    pub fn open(address: SocketAddr, path: &str) -> Self {
        let mut stream = connect(address);
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\n\r\n"
        )
        .unwrap();
        let mut reader = BufReader::new(stream);
        let (status, headers) = read_head(&mut reader);
        assert_eq!(status, 200);
        let content_type = headers.iter().find(|(n, _)| n == "content-type").unwrap();
        assert_eq!(content_type.1, "text/event-stream");
        Self {
            reader,
            pending: Vec::new(),
        }
    }

    /// The next `state` event's data, parsed.
    pub fn next_state(&mut self) -> Value {
        serde_json::from_str(&self.next_state_text()).unwrap()
    }

    /// The next `state` event's data, as sent.
    pub fn next_state_text(&mut self) -> String {
        loop {
            if let Some(end) = self.pending.windows(2).position(|w| w == b"\n\n") {
                let event: Vec<u8> = self.pending.drain(..end + 2).collect();
                let text = String::from_utf8(event).unwrap();
                if text.lines().any(|l| l == "event: state") {
                    let data = text
                        .lines()
                        .find_map(|l| l.strip_prefix("data: "))
                        .expect("a state event has data");
                    return data.to_owned();
                }
                continue;
            }
            let chunk = read_chunk(&mut self.reader).expect("the stream ended");
            self.pending.extend(chunk);
        }
    }
}
