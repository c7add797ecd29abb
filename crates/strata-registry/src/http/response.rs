//! Responses and how they are written: headers, then bytes, a stream, or a
//! file (written in 32 KiB pieces on plain TCP).

use std::fs::File;
use std::io::{self, Read, Write};

/// A response body.
pub enum Payload {
    /// No body.
    Empty,
    /// Bytes.
    Bytes(Vec<u8>),
    /// `len` bytes of a file from its current position.
    File(File, u64),
    /// `len` bytes of a stream.
    Stream(Box<dyn Read + Send>, u64),
}

/// A response.
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Headers (Content-Length is added when writing).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub payload: Payload,
    /// For `HEAD`: the length to announce without a body.
    pub head_len: Option<u64>,
}

impl Response {
    /// A response with no body.
    pub fn empty(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            payload: Payload::Empty,
            head_len: None,
        }
    }

    /// A JSON response.
    pub fn json(status: u16, body: Vec<u8>) -> Self {
        Response::empty(status)
            .header("Content-Type", "application/json")
            .body(body)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// Sets a byte body.
    pub fn body(mut self, bytes: Vec<u8>) -> Self {
        self.payload = Payload::Bytes(bytes);
        self
    }

    /// The body's length.
    pub fn len(&self) -> u64 {
        if let Some(n) = self.head_len {
            return n;
        }
        match &self.payload {
            Payload::Empty => 0,
            Payload::Bytes(b) => b.len() as u64,
            Payload::File(_, n) | Payload::Stream(_, n) => *n,
        }
    }

    /// True when the body is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        413 => "Payload Too Large",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

/// Writes the status line and headers.
/// `keep_alive` false adds `Connection: close`; `announce` adds
/// `Connection: keep-alive` (an HTTP/1.0 client keeps the connection only then).
pub(crate) fn write_head(
    out: &mut dyn Write,
    resp: &Response,
    keep_alive: bool,
    announce: bool,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", resp.status, reason(resp.status));
    for (k, v) in &resp.headers {
        head.push_str(k);
        head.push_str(": ");
        head.push_str(v);
        head.push_str("\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n", resp.len()));
    if !keep_alive {
        head.push_str("Connection: close\r\n");
    } else if announce {
        head.push_str("Connection: keep-alive\r\n");
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())
}
