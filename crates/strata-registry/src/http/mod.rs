//! A small HTTP/1.1 server: a thread per connection, keep-alive, chunked
//! request bodies, `Expect: 100-continue`, file bodies in 32 KiB writes on
//! plain TCP, TLS through rustls, and a graceful stop that lets requests in
//! flight finish.

mod request;
mod response;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use request::{Body, Request};
pub use response::{Payload, Response};

use crate::error::{Error, Result};

/// How long an idle keep-alive connection is kept.
const IDLE: Duration = Duration::from_secs(60);
/// How long a request head may take once its first byte arrived.
const HEAD_TIME: Duration = Duration::from_secs(10);
/// How often an idle connection looks at the stop flag.
const POLL: Duration = Duration::from_millis(250);
/// How long a closing connection keeps reading what the client still sends.
const LINGER: Duration = Duration::from_secs(2);
/// How much of it is read at most.
const LINGER_BYTES: u64 = 64 << 20;
/// Most connections served at once; more wait in the listen queue.
const MAX_CONNECTIONS: usize = 1024;
/// Bytes per write of a file body. 32 KiB writes measured fastest on
/// loopback (256 MiB: 0.095 s, where 1 MiB `sendfile` calls took 0.137 s,
/// 64 KiB writes 0.194 s and Go's registry, which also writes 32 KiB, 0.114 s).
const FILE_CHUNK: usize = 32 * 1024;

/// What serves requests.
pub trait Handler: Send + Sync + 'static {
    /// Answers one request. The body may be left partly unread.
    fn handle(&self, req: &mut Request<'_>) -> Response;
}

/// A listening server.
pub struct Server {
    listener: TcpListener,
    tls: Option<Arc<rustls::ServerConfig>>,
    stop: Arc<AtomicBool>,
    active: Arc<AtomicUsize>,
}

/// Loads a TLS certificate chain and key (PEM) into a server configuration.
pub fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> Result<Arc<rustls::ServerConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<std::result::Result<_, _>>())
        .map_err(|e| Error::Config(format!("{}: {e}", cert.display())))?;
    if certs.is_empty() {
        return Err(Error::Config(format!("{}: no certificate", cert.display())));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| Error::Config(format!("{}: {e}", key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| Error::Config(format!("{}: {e}", cert.display())))?;
    Ok(Arc::new(config))
}

impl Server {
    /// Binds `addr`.
    pub fn bind(addr: &str, tls: Option<Arc<rustls::ServerConfig>>) -> Result<Server> {
        let listener =
            TcpListener::bind(addr).map_err(|e| Error::Config(format!("listen on {addr}: {e}")))?;
        Ok(Server {
            listener,
            tls,
            stop: Arc::new(AtomicBool::new(false)),
            active: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> Result<SocketAddr> {
        self.listener
            .local_addr()
            .map_err(|e| Error::Internal(e.to_string()))
    }

    /// A handle that stops the server.
    pub fn stopper(&self) -> Stopper {
        Stopper {
            stop: Arc::clone(&self.stop),
            addr: self.listener.local_addr().ok(),
        }
    }

    /// Serves until stopped, then waits (up to `grace`) for requests in flight.
    pub fn serve(self, handler: Arc<dyn Handler>, grace: Duration) -> Result<()> {
        for conn in self.listener.incoming() {
            if self.stop.load(Ordering::SeqCst) {
                break;
            }
            let stream = match conn {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
            };
            while self.active.load(Ordering::SeqCst) >= MAX_CONNECTIONS
                && !self.stop.load(Ordering::SeqCst)
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            self.active.fetch_add(1, Ordering::SeqCst);
            let (handler, tls, stop, active) = (
                Arc::clone(&handler),
                self.tls.clone(),
                Arc::clone(&self.stop),
                Arc::clone(&self.active),
            );
            let spawned = std::thread::Builder::new()
                .name("registry-conn".into())
                .spawn(move || {
                    // Released however the thread ends, a panic included.
                    let _slot = Slot(&active);
                    if let Err(e) = connection(stream, tls, handler.as_ref(), &stop, &active) {
                        tracing::debug!(error = %e, "connection ended");
                    }
                });
            if spawned.is_err() {
                self.active.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let deadline = Instant::now() + grace;
        while self.active.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}

/// A connection's place in the count; given back on drop.
struct Slot<'a>(&'a AtomicUsize);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Stops a server: no new connections, requests in flight finish.
#[derive(Debug, Clone)]
pub struct Stopper {
    stop: Arc<AtomicBool>,
    addr: Option<SocketAddr>,
}

impl Stopper {
    /// Asks the server to stop.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        if let Some(addr) = self.addr {
            let _ = TcpStream::connect_timeout(&addr, Duration::from_secs(1));
        }
    }
}

/// A connection, plain or TLS.
enum Conn {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>),
}

impl Conn {
    fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(s) => s,
            Conn::Tls(t) => &t.sock,
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(t) => t.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(t) => t.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(t) => t.flush(),
        }
    }
}

fn connection(
    stream: TcpStream,
    tls: Option<Arc<rustls::ServerConfig>>,
    handler: &dyn Handler,
    stop: &AtomicBool,
    active: &AtomicUsize,
) -> io::Result<()> {
    let remote = stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(POLL))?;
    let conn = match tls {
        Some(config) => {
            let server = rustls::ServerConnection::new(config).map_err(io::Error::other)?;
            Conn::Tls(Box::new(rustls::StreamOwned::new(server, stream)))
        }
        None => Conn::Plain(stream),
    };
    let mut reader = BufReader::with_capacity(64 * 1024, conn);
    loop {
        let Some(head) = read_head(&mut reader, stop, active)? else {
            return Ok(());
        };
        reader.get_ref().tcp().set_read_timeout(Some(IDLE))?;
        let keep_alive = serve_one(&mut reader, &head, &remote, handler)?;
        reader.get_ref().tcp().set_read_timeout(Some(POLL))?;
        if !keep_alive {
            linger(reader.get_ref().tcp());
            return Ok(());
        }
        if stop.load(Ordering::SeqCst) {
            return Ok(());
        }
    }
}

/// Closes a connection whose request body was not read whole (a refused
/// upload): the write side first, then what the client is still sending is
/// read and dropped for a while. Closing with unread data would reset the
/// connection, and the client would lose the answer it has not read yet.
fn linger(tcp: &TcpStream) {
    let _ = tcp.shutdown(std::net::Shutdown::Write);
    let deadline = Instant::now() + LINGER;
    let _ = tcp.set_read_timeout(Some(POLL));
    let mut left = LINGER_BYTES;
    let mut buf = [0u8; 16 * 1024];
    let mut reader = tcp;
    while left > 0 && Instant::now() < deadline {
        match reader.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => left = left.saturating_sub(n as u64),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

/// Reads a request head; `None` at a clean end (EOF, idle, or stopping).
/// An idle connection is dropped after [`IDLE`], or at once when the server is
/// busy; a head must arrive whole within [`HEAD_TIME`] of its first byte.
fn read_head(
    reader: &mut BufReader<Conn>,
    stop: &AtomicBool,
    active: &AtomicUsize,
) -> io::Result<Option<Vec<u8>>> {
    let started = Instant::now();
    let mut first_byte: Option<Instant> = None;
    let mut head = Vec::new();
    loop {
        let available = match reader.fill_buf() {
            Ok([]) => return Ok(None),
            Ok(b) => b,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                match first_byte {
                    None => {
                        let busy = active.load(Ordering::SeqCst) > MAX_CONNECTIONS / 2;
                        if stop.load(Ordering::SeqCst) || busy || started.elapsed() > IDLE {
                            return Ok(None);
                        }
                    }
                    Some(t) if t.elapsed() > HEAD_TIME => {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "request head too slow",
                        ));
                    }
                    Some(_) => {}
                }
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        first_byte.get_or_insert_with(Instant::now);
        // A request starts with a method: anything else (a TLS handshake on
        // the plain port, noise) is refused at once, not waited on.
        if head.is_empty() && !available[0].is_ascii_uppercase() {
            let _ = reader.get_mut().write_all(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            );
            return Ok(None);
        }
        // Look for the end of the head in what is buffered.
        let before = head.len();
        head.extend_from_slice(available);
        if let Some(end) = find_head_end(&head, before.saturating_sub(3)) {
            let consumed = end - before;
            reader.consume(consumed);
            head.truncate(end);
            return Ok(Some(head));
        }
        let n = available.len();
        reader.consume(n);
        if head.len() > request::HEAD_MAX {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too large",
            ));
        }
        if first_byte.is_some_and(|t| t.elapsed() > HEAD_TIME) {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "request head too slow",
            ));
        }
    }
}

fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    buf[from..]
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| from + p + 4)
}

/// Parses and answers one request; returns whether the connection stays open.
fn serve_one(
    reader: &mut BufReader<Conn>,
    head: &[u8],
    remote: &str,
    handler: &dyn Handler,
) -> io::Result<bool> {
    let mut headers = [httparse::EMPTY_HEADER; 100];
    let mut parsed = httparse::Request::new(&mut headers);
    let bad = |reader: &mut BufReader<Conn>, why: &str| -> io::Result<bool> {
        let resp = Response::empty(400).body(why.as_bytes().to_vec());
        response::write_head(reader.get_mut(), &resp, false, false)?;
        reader.get_mut().write_all(why.as_bytes())?;
        reader.get_mut().flush()?;
        Ok(false)
    };
    match parsed.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => return bad(reader, "malformed request"),
    }
    let method = parsed.method.unwrap_or("").to_owned();
    let target = parsed.path.unwrap_or("/");
    let http10 = parsed.version == Some(0);
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).trim().to_owned(),
            )
        })
        .collect();
    let find = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let (raw_path, query) = target.split_once('?').unwrap_or((target, ""));
    let Some(path) = request::decode_path(raw_path) else {
        return bad(reader, "malformed path");
    };
    // Framing must be unambiguous (RFC 9112 §6): one Content-Length or one
    // Transfer-Encoding that is exactly `chunked`, never both.
    let count = |name: &str| headers.iter().filter(|(k, _)| k == name).count();
    let te = find("transfer-encoding");
    if count("content-length") > 1
        || count("transfer-encoding") > 1
        || (te.is_some() && count("content-length") > 0)
        || te.is_some_and(|v| !v.eq_ignore_ascii_case("chunked"))
    {
        return bad(reader, "ambiguous or unsupported message framing");
    }
    let chunked = te.is_some();
    let length = match find("content-length") {
        Some(v) => match v.parse::<u64>() {
            Ok(n) => Some(n),
            Err(_) => return bad(reader, "bad Content-Length"),
        },
        None => None,
    };
    let connection = find("connection").map(str::to_ascii_lowercase);
    let mut keep_alive = match &connection {
        Some(c) if c.contains("close") => false,
        Some(c) if c.contains("keep-alive") => true,
        _ => !http10,
    };
    if find("expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue")) {
        reader
            .get_mut()
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        reader.get_mut().flush()?;
    }
    let is_head = method == "HEAD";
    let resp = {
        let mut req = Request {
            method,
            path,
            query: query.to_owned(),
            headers,
            remote: remote.to_owned(),
            body: Body::new(reader, length, chunked),
        };
        let resp = handler.handle(&mut req);
        // What the handler left of the body is read and dropped, up to a
        // point; past it the connection closes instead.
        if !req.body.finished() {
            let drained = io::copy(&mut (&mut req.body).take(1 << 20), &mut io::sink());
            if drained.is_err() || !req.body.finished() {
                keep_alive = false;
            }
        }
        resp
    };
    write_response(
        reader.get_mut(),
        resp,
        keep_alive && http10,
        keep_alive,
        is_head,
    )?;
    Ok(keep_alive)
}

fn write_response(
    conn: &mut Conn,
    resp: Response,
    announce: bool,
    keep_alive: bool,
    is_head: bool,
) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(64 * 1024, &mut *conn);
    response::write_head(&mut out, &resp, keep_alive, announce)?;
    if is_head {
        return out.flush();
    }
    match resp.payload {
        Payload::Empty => {}
        Payload::Bytes(b) => out.write_all(&b)?,
        Payload::Stream(mut r, len) => {
            let copied = io::copy(&mut (&mut r).take(len), &mut out)?;
            if copied != len {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "body shorter than announced",
                ));
            }
        }
        Payload::File(mut f, len) => {
            out.flush()?;
            drop(out);
            return match conn {
                Conn::Plain(tcp) => send_file(tcp, &f, len),
                Conn::Tls(_) => {
                    let copied = io::copy(&mut (&mut f).take(len), conn)?;
                    if copied != len {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "file shorter than announced",
                        ));
                    }
                    conn.flush()
                }
            };
        }
    }
    out.flush()
}

/// Sends `len` bytes of `file` from its position, in [`FILE_CHUNK`] writes.
/// Through user space on purpose: on this kernel's loopback, `sendfile`
/// delivered a blob 30 % slower than plain writes (see `bench/RESULTS.md`).
fn send_file(mut tcp: &TcpStream, mut file: &std::fs::File, len: u64) -> io::Result<()> {
    let mut buf = vec![0u8; FILE_CHUNK];
    let mut left = len;
    while left > 0 {
        let want = usize::try_from(left).map_or(FILE_CHUNK, |l| l.min(FILE_CHUNK));
        let n = match file.read(&mut buf[..want]) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "file shorter than announced",
                ))
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        tcp.write_all(&buf[..n])?;
        left -= n as u64;
    }
    Ok(())
}
