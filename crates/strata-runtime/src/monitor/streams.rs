//! The monitor's streams: the JSON log, the pty relay, and the attach socket
//! clients use to send stdin and terminal sizes (and, with a tty, to receive
//! the output).

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use strata_oci::Timestamp;

use super::LogLine;
use crate::console::{read_frame, set_size, Frame};
use crate::error::{Error, Result};

/// Lines longer than this are split, as Docker's json-file driver does.
pub(crate) const MAX_LINE: usize = 16 * 1024;
/// Terminal output kept for clients that attach late.
const HISTORY: usize = 1 << 20;

/// Appends one entry to the JSON log.
fn log_entry(log: &Mutex<File>, stream: &str, bytes: &[u8]) {
    let entry = LogLine {
        log: String::from_utf8_lossy(bytes).into_owned(),
        stream: stream.to_owned(),
        time: Timestamp::now().to_rfc3339(),
    };
    if let (Ok(mut json), Ok(mut f)) = (serde_json::to_vec(&entry), log.lock()) {
        json.push(b'\n');
        // A full disk loses log lines, never the container.
        let _ = f.write_all(&json);
    }
}

/// Copies a stream into the log line by line (long lines split).
pub(crate) fn pump(mut from: impl Read, stream: &'static str, log: &Mutex<File>) {
    let mut buf = vec![0u8; 32 * 1024];
    let mut line: Vec<u8> = Vec::new();
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for &b in &buf[..n] {
            line.push(b);
            if b == b'\n' || line.len() >= MAX_LINE {
                log_entry(log, stream, &line);
                line.clear();
            }
        }
    }
    if !line.is_empty() {
        log_entry(log, stream, &line);
    }
}

/// Where attached clients' stdin goes.
pub(crate) enum Input {
    /// The pty master (tty mode).
    Tty(File),
    /// The write end of the container's stdin pipe (`-i` without `-t`).
    Pipe(Option<io::PipeWriter>),
    /// Nowhere: the container has no stdin.
    None,
}

/// Shared between the relay, the attach server and its clients.
pub(crate) struct Attach {
    input: Mutex<Input>,
    clients: Mutex<Vec<UnixStream>>,
    history: Mutex<Vec<u8>>,
    tty: bool,
    done: AtomicBool,
    path: PathBuf,
}

impl Attach {
    pub(crate) fn new(path: &Path, input: Input) -> Arc<Attach> {
        let tty = matches!(input, Input::Tty(_));
        Arc::new(Attach {
            input: Mutex::new(input),
            clients: Mutex::new(Vec::new()),
            history: Mutex::new(Vec::new()),
            tty,
            done: AtomicBool::new(false),
            path: path.to_path_buf(),
        })
    }

    /// Serves clients until [`Attach::close`]: each gets the terminal history
    /// (tty mode), then live output; its frames feed stdin and the tty size.
    pub(crate) fn serve(self: &Arc<Self>) -> Result<JoinHandle<()>> {
        let _ = std::fs::remove_file(&self.path);
        let listener =
            UnixListener::bind(&self.path).map_err(Error::io("listen on", &self.path))?;
        let me = Arc::clone(self);
        Ok(std::thread::spawn(move || {
            for conn in listener.incoming() {
                if me.done.load(Ordering::SeqCst) {
                    // Clients that connected while the container ended still
                    // get its output, then a clean end of the stream.
                    me.farewell(conn);
                    if listener.set_nonblocking(true).is_ok() {
                        for late in listener.incoming() {
                            match late {
                                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                                late => me.farewell(late),
                            }
                        }
                    }
                    break;
                }
                let Ok(mut conn) = conn else { continue };
                if me.tty {
                    let history = me.history.lock().map(|h| h.clone()).unwrap_or_default();
                    if conn.write_all(&history).is_err() {
                        continue;
                    }
                }
                if let (Ok(clone), Ok(mut clients)) = (conn.try_clone(), me.clients.lock()) {
                    clients.push(clone);
                }
                let client = Arc::clone(&me);
                std::thread::spawn(move || client.read_frames(conn));
            }
        }))
    }

    /// The history (tty mode), the end of the stream, and what the client
    /// still sends read and dropped for a moment: closing a unix socket with
    /// unread data resets the peer, which would lose the output it has not
    /// read yet (a `run -t` whose container exits as it attaches).
    fn farewell(&self, conn: io::Result<UnixStream>) {
        let Ok(mut conn) = conn else { return };
        if self.tty {
            let history = self.history.lock().map(|h| h.clone()).unwrap_or_default();
            let _ = conn.write_all(&history);
        }
        let _ = conn.shutdown(std::net::Shutdown::Write);
        let _ = conn.set_nonblocking(false);
        let _ = conn.set_read_timeout(Some(std::time::Duration::from_millis(100)));
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
        let mut sink = [0u8; 4096];
        while std::time::Instant::now() < deadline {
            match conn.read(&mut sink) {
                Ok(0) => return,
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return,
            }
        }
    }

    fn read_frames(&self, mut conn: UnixStream) {
        while let Ok(Some(frame)) = read_frame(&mut conn) {
            let Ok(mut input) = self.input.lock() else {
                return;
            };
            match (frame, &mut *input) {
                (Frame::Stdin(data), Input::Tty(master)) => {
                    let _ = master.write_all(&data);
                }
                (Frame::Stdin(data), Input::Pipe(Some(w))) => {
                    let _ = w.write_all(&data);
                }
                (Frame::Resize { rows, cols }, Input::Tty(master)) => {
                    let _ = set_size(&*master, rows, cols);
                }
                // End of input on a terminal is its EOF character (^D).
                (Frame::CloseStdin, Input::Tty(master)) => {
                    let _ = master.write_all(&[4]);
                }
                (Frame::CloseStdin, Input::Pipe(w)) => *w = None,
                _ => {}
            }
        }
    }

    /// Relays the pty master's output to the log, the history and the clients,
    /// until the terminal closes (the container is gone).
    pub(crate) fn relay_tty(
        self: &Arc<Self>,
        master: OwnedFd,
        log: Arc<Mutex<File>>,
    ) -> JoinHandle<()> {
        let me = Arc::clone(self);
        std::thread::spawn(move || {
            let mut master = File::from(master);
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                let n = match master.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let chunk = &buf[..n];
                log_entry(&log, "stdout", chunk);
                if let Ok(mut h) = me.history.lock() {
                    h.extend_from_slice(chunk);
                    if h.len() > HISTORY {
                        let cut = h.len() - HISTORY;
                        h.drain(..cut);
                    }
                }
                if let Ok(mut clients) = me.clients.lock() {
                    clients.retain_mut(|c| c.write_all(chunk).is_ok());
                }
            }
        })
    }

    /// Stops serving: clients see the end of the stream, the server thread ends.
    pub(crate) fn close(&self, server: Option<JoinHandle<()>>) {
        self.done.store(true, Ordering::SeqCst);
        if let Ok(mut clients) = self.clients.lock() {
            for c in clients.drain(..) {
                let _ = c.shutdown(std::net::Shutdown::Both);
            }
        }
        if let Ok(mut input) = self.input.lock() {
            *input = Input::None;
        }
        // Wake the blocking accept so the server sees `done`.
        let _ = UnixStream::connect(&self.path);
        if let Some(s) = server {
            let _ = s.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}
