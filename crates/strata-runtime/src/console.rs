//! Terminals: the console socket runc hands a container's pty master over, and
//! the small framed protocol attached clients speak to the monitor.
//!
//! With `terminal: true`, runc (`create --console-socket` or `exec -t
//! --console-socket`) connects to a unix socket and sends the pty master as
//! `SCM_RIGHTS`. Whoever holds the master relays the container's terminal.

use std::io::{self, IoSliceMut, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use rustix::net::{recvmsg, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};
use rustix::termios::Winsize;

use crate::error::{Error, Result};

/// A unix socket runc connects to with the pty master.
#[derive(Debug)]
pub struct ConsoleSocket {
    listener: UnixListener,
    path: PathBuf,
}

impl ConsoleSocket {
    /// Listens at `path` (replacing a stale socket file).
    pub fn bind(path: &Path) -> Result<ConsoleSocket> {
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path).map_err(Error::io("listen on", path))?;
        Ok(ConsoleSocket {
            listener,
            path: path.to_path_buf(),
        })
    }

    /// The socket's path, for `--console-socket`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Waits for the runtime to connect and returns the pty master it sends.
    pub fn receive_master(&self) -> Result<OwnedFd> {
        self.receive_master_while(|| true)
    }

    /// Like [`receive_master`](Self::receive_master), but gives up (with an
    /// error) as soon as `alive` says the runtime exited without connecting.
    pub fn receive_master_while(&self, mut alive: impl FnMut() -> bool) -> Result<OwnedFd> {
        self.listener
            .set_nonblocking(true)
            .map_err(Error::io("listen on", &self.path))?;
        let stream = loop {
            match self.listener.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if !alive() {
                        return Err(Error::io("receive the pty from", &self.path)(
                            io::Error::other("the runtime exited without sending a terminal"),
                        ));
                    }
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                Err(e) => return Err(Error::io("accept on", &self.path)(e)),
            }
        };
        stream
            .set_nonblocking(false)
            .map_err(Error::io("accept on", &self.path))?;
        let mut name = [0u8; 4096];
        let mut iov = [IoSliceMut::new(&mut name)];
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        recvmsg(&stream, &mut iov, &mut control, RecvFlags::CMSG_CLOEXEC)
            .map_err(|e| Error::io("receive the pty from", &self.path)(e.into()))?;
        for msg in control.drain() {
            if let RecvAncillaryMessage::ScmRights(mut fds) = msg {
                if let Some(fd) = fds.next() {
                    return Ok(fd);
                }
            }
        }
        Err(Error::io("receive the pty from", &self.path)(
            io::Error::other("the runtime sent no file descriptor"),
        ))
    }
}

impl Drop for ConsoleSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Sets a terminal's size.
pub fn set_size(tty: impl AsFd, rows: u16, cols: u16) -> io::Result<()> {
    rustix::termios::tcsetwinsize(
        tty,
        Winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        },
    )
    .map_err(io::Error::from)
}

/// What an attached client sends to the monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// Bytes for the container's stdin.
    Stdin(Vec<u8>),
    /// The client's terminal size changed.
    Resize {
        /// Rows.
        rows: u16,
        /// Columns.
        cols: u16,
    },
    /// The client's stdin ended.
    CloseStdin,
}

/// Writes one frame: a type byte, a 4-byte big-endian length, the payload.
pub fn write_frame(w: &mut impl Write, frame: &Frame) -> io::Result<()> {
    let (kind, payload): (u8, Vec<u8>) = match frame {
        Frame::Stdin(data) => (0, data.clone()),
        Frame::Resize { rows, cols } => {
            let mut p = rows.to_be_bytes().to_vec();
            p.extend(cols.to_be_bytes());
            (1, p)
        }
        Frame::CloseStdin => (2, Vec::new()),
    };
    let len = u32::try_from(payload.len()).map_err(|_| io::Error::other("frame too large"))?;
    let mut buf = Vec::with_capacity(5 + payload.len());
    buf.push(kind);
    buf.extend(len.to_be_bytes());
    buf.extend(payload);
    w.write_all(&buf)?;
    w.flush()
}

/// Reads one frame; `None` at a clean end of stream.
pub fn read_frame(r: &mut impl Read) -> io::Result<Option<Frame>> {
    let mut head = [0u8; 5];
    match r.read_exact(&mut head) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    if len > 1 << 20 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "frame too large",
        ));
    }
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload)?;
    Ok(Some(match head[0] {
        0 => Frame::Stdin(payload),
        1 if len == 4 => Frame::Resize {
            rows: u16::from_be_bytes([payload[0], payload[1]]),
            cols: u16::from_be_bytes([payload[2], payload[3]]),
        },
        2 => Frame::CloseStdin,
        _ => return Err(io::Error::new(io::ErrorKind::InvalidData, "unknown frame")),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let frames = [
            Frame::Stdin(b"ls -l\n".to_vec()),
            Frame::Resize {
                rows: 40,
                cols: 120,
            },
            Frame::CloseStdin,
            Frame::Stdin(Vec::new()),
        ];
        let mut buf = Vec::new();
        for f in &frames {
            write_frame(&mut buf, f).unwrap();
        }
        let mut r = &buf[..];
        for f in &frames {
            assert_eq!(read_frame(&mut r).unwrap().as_ref(), Some(f));
        }
        assert_eq!(read_frame(&mut r).unwrap(), None);
    }

    #[test]
    fn malformed_frames_are_errors() {
        let mut r = &[9u8, 0, 0, 0, 0][..];
        assert!(read_frame(&mut r).is_err());
        let mut r = &[0u8, 0xff, 0xff, 0xff, 0xff][..];
        assert!(read_frame(&mut r).is_err());
    }
}
