//! Reading one request: the head (with `httparse`) and a body reader that
//! stops at `Content-Length` or decodes `Transfer-Encoding: chunked`.

use std::io::{self, BufRead, Read};

/// Largest request head accepted.
pub(crate) const HEAD_MAX: usize = 64 * 1024;

/// A parsed request.
pub struct Request<'a> {
    /// `GET`, `PUT`, …
    pub method: String,
    /// The path, percent-decoded.
    pub path: String,
    /// The raw query string (without `?`).
    pub query: String,
    /// Headers, names lowercase, in order.
    pub headers: Vec<(String, String)>,
    /// The peer's address.
    pub remote: String,
    /// The body.
    pub body: Body<'a>,
}

impl Request<'_> {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How the body is delimited.
enum Framing {
    Length(u64),
    Chunked { left: u64, done: bool },
}

/// The request body, read from the connection.
pub struct Body<'a> {
    conn: &'a mut dyn BufRead,
    framing: Framing,
    /// Bytes read so far.
    pub read: u64,
}

impl<'a> Body<'a> {
    pub(crate) fn new(conn: &'a mut dyn BufRead, length: Option<u64>, chunked: bool) -> Self {
        let framing = if chunked {
            Framing::Chunked {
                left: 0,
                done: false,
            }
        } else {
            Framing::Length(length.unwrap_or(0))
        };
        Body {
            conn,
            framing,
            read: 0,
        }
    }

    /// True when the body was read to its end.
    pub fn finished(&self) -> bool {
        matches!(
            self.framing,
            Framing::Length(0) | Framing::Chunked { done: true, .. }
        )
    }

    /// Declared length, when not chunked.
    pub fn declared_len(&self) -> Option<u64> {
        match self.framing {
            Framing::Length(n) => Some(n + self.read),
            Framing::Chunked { .. } => None,
        }
    }

    fn chunk_size(&mut self) -> io::Result<u64> {
        let mut line = String::new();
        self.conn.take(1024).read_line(&mut line)?;
        let line = line.strip_suffix("\r\n").ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "chunk size line not ended by CRLF",
            )
        })?;
        let hex = line.split(';').next().unwrap_or("").trim_end();
        if hex.is_empty() || hex.len() > 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad chunk size {hex:?}"),
            ));
        }
        u64::from_str_radix(hex, 16).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad chunk size {hex:?}"),
            )
        })
    }

    fn crlf(&mut self) -> io::Result<()> {
        let mut two = [0u8; 2];
        self.conn.read_exact(&mut two)?;
        if &two != b"\r\n" {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "chunk not followed by CRLF",
            ));
        }
        Ok(())
    }
}

impl Read for Body<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let n = match &mut self.framing {
            Framing::Length(0) => return Ok(0),
            Framing::Length(left) => {
                let want = buf.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                let n = self.conn.read(&mut buf[..want])?;
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "body shorter than Content-Length",
                    ));
                }
                *left -= n as u64;
                n
            }
            Framing::Chunked { done: true, .. } => return Ok(0),
            Framing::Chunked { left, .. } if *left > 0 => {
                let want = buf.len().min(usize::try_from(*left).unwrap_or(usize::MAX));
                let n = self.conn.read(&mut buf[..want])?;
                if n == 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "chunk cut short",
                    ));
                }
                *left -= n as u64;
                if *left == 0 {
                    self.crlf()?;
                }
                n
            }
            Framing::Chunked { .. } => {
                let size = self.chunk_size()?;
                if size == 0 {
                    // Trailers, up to the empty line.
                    loop {
                        let mut line = String::new();
                        self.conn.take(8192).read_line(&mut line)?;
                        if line.trim().is_empty() {
                            break;
                        }
                    }
                    self.framing = Framing::Chunked {
                        left: 0,
                        done: true,
                    };
                    return Ok(0);
                }
                self.framing = Framing::Chunked {
                    left: size,
                    done: false,
                };
                return self.read(buf);
            }
        };
        self.read += n as u64;
        Ok(n)
    }
}

/// Percent-decodes a path; `None` when it is malformed or not UTF-8.
pub(crate) fn decode_path(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(wire: &[u8], length: Option<u64>, chunked: bool) -> (io::Result<Vec<u8>>, Vec<u8>) {
        let mut conn = io::BufReader::new(wire);
        let mut body = Body::new(&mut conn, length, chunked);
        let mut out = Vec::new();
        let r = body.read_to_end(&mut out).map(|_| out);
        let mut rest = Vec::new();
        conn.read_to_end(&mut rest).expect("rest");
        (r, rest)
    }

    #[test]
    fn content_length_bodies_stop_at_their_length() {
        let (body, rest) = body_of(b"helloGET /next", Some(5), false);
        assert_eq!(body.expect("body"), b"hello");
        assert_eq!(rest, b"GET /next");
        assert!(body_of(b"hel", Some(5), false).0.is_err());
    }

    #[test]
    fn chunked_bodies_decode_and_leave_the_next_request() {
        let wire = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\nGET /";
        let (body, rest) = body_of(wire, None, true);
        assert_eq!(body.expect("body"), b"hello world");
        assert_eq!(rest, b"GET /");
        assert!(body_of(b"zz\r\n", None, true).0.is_err());
        assert!(body_of(b"+5\r\nhello\r\n0\r\n\r\n", None, true).0.is_err());
        assert!(body_of(b"5\nhello\r\n0\r\n\r\n", None, true).0.is_err());
        assert!(body_of(b"5\r\nhelloXX", None, true).0.is_err());
    }

    #[test]
    fn paths_are_percent_decoded() {
        assert_eq!(
            decode_path("/v2/a/blobs/sha256%3Aab").as_deref(),
            Some("/v2/a/blobs/sha256:ab")
        );
        assert_eq!(decode_path("/bad%zz"), None);
        assert_eq!(decode_path("/cut%4"), None);
    }
}
