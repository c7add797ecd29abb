//! The local terminal side of `run -it`, `start -ai` and `exec -it`: raw mode,
//! stdin forwarding, window-size tracking, output relay.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use rustix::termios::{tcgetattr, tcgetwinsize, tcsetattr, OptionalActions, Termios};
use strata_host::containers::console::{set_size, write_frame, Frame};

/// Puts stdin's terminal in raw mode for as long as it lives.
pub struct RawMode {
    saved: Option<Termios>,
}

impl RawMode {
    /// Raw mode when stdin is a terminal; a no-op otherwise.
    pub fn enter() -> RawMode {
        let stdin = io::stdin();
        if !stdin.is_terminal() {
            return RawMode { saved: None };
        }
        let Ok(saved) = tcgetattr(stdin.as_fd()) else {
            return RawMode { saved: None };
        };
        let mut raw = saved.clone();
        raw.make_raw();
        let _ = tcsetattr(stdin.as_fd(), OptionalActions::Now, &raw);
        RawMode { saved: Some(saved) }
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if let Some(t) = &self.saved {
            let _ = tcsetattr(io::stdin().as_fd(), OptionalActions::Now, t);
        }
    }
}

/// The local terminal's size, when stdout is one.
fn local_size() -> Option<(u16, u16)> {
    let out = io::stdout();
    if !out.is_terminal() {
        return None;
    }
    tcgetwinsize(out.as_fd()).ok().map(|w| (w.ws_row, w.ws_col))
}

/// Calls `send` with the local size now and whenever it changes, until `done`.
/// (Polling keeps signal handling out of a tool without a SIGWINCH handler.)
fn track_size(done: Arc<AtomicBool>, mut send: impl FnMut(u16, u16) + Send + 'static) {
    std::thread::spawn(move || {
        let mut last = None;
        while !done.load(Ordering::SeqCst) {
            let now = local_size();
            if now.is_some() && now != last {
                if let Some((rows, cols)) = now {
                    send(rows, cols);
                }
                last = now;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    });
}

fn copy_out(mut from: impl Read) -> io::Result<()> {
    let mut buf = vec![0u8; 32 * 1024];
    let mut out = io::stdout().lock();
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            // A pty master reports EIO once the other side is gone.
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::IO.raw_os_error()) => {
                return Ok(())
            }
            // The monitor went away with the container; the exit code comes
            // from its state, and the output is in the log.
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return Ok(()),
            Err(e) => return Err(e),
        };
        out.write_all(&buf[..n])?;
        out.flush()?;
    }
}

/// Attached to a monitor's socket: stdin (when `interactive`) and sizes go in
/// as frames; with `tty`, the terminal's output comes back on the socket.
pub fn attach(stream: UnixStream, interactive: bool, tty: bool) -> Result<Arc<AtomicBool>> {
    let done = Arc::new(AtomicBool::new(false));
    if interactive {
        let mut w = stream.try_clone()?;
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 8192];
            let mut stdin = io::stdin().lock();
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) | Err(_) => {
                        let _ = write_frame(&mut w, &Frame::CloseStdin);
                        return;
                    }
                    Ok(n) => {
                        if write_frame(&mut w, &Frame::Stdin(buf[..n].to_vec())).is_err() {
                            return;
                        }
                    }
                }
            }
        });
    }
    if tty {
        let mut w = stream.try_clone()?;
        track_size(Arc::clone(&done), move |rows, cols| {
            let _ = write_frame(&mut w, &Frame::Resize { rows, cols });
        });
        copy_out(&stream)?;
        done.store(true, Ordering::SeqCst);
    }
    Ok(done)
}

/// Relays a pty master (`exec -t`): stdin in (when `interactive`), output out,
/// sizes tracked, until the process's terminal closes.
pub fn relay(master: OwnedFd, interactive: bool) -> Result<()> {
    let master = File::from(master);
    let done = Arc::new(AtomicBool::new(false));
    if interactive {
        let mut w = master.try_clone()?;
        std::thread::spawn(move || {
            let _ = io::copy(&mut io::stdin().lock(), &mut w);
        });
    }
    let sizer = master.try_clone()?;
    track_size(Arc::clone(&done), move |rows, cols| {
        let _ = set_size(&sizer, rows, cols);
    });
    let result = copy_out(&master);
    done.store(true, Ordering::SeqCst);
    Ok(result?)
}
