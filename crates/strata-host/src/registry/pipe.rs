//! A download split over two cores: one thread receives the bytes, hashes
//! them and writes the blob; the other decompresses, checks and unpacks the
//! same bytes, handed over in a bounded queue (memory stays flat).

use std::io::{self, Read, Write};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// Buffers in flight between the two threads, and their size.
const DEPTH: usize = 16;
const CHUNK: usize = 256 * 1024;

/// The receiving end: reads what the other thread received.
pub(crate) struct PipeReader {
    rx: Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    pos: usize,
    done: bool,
}

impl Read for PipeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.current.len() {
            if self.done {
                return Ok(0);
            }
            match self.rx.recv() {
                Ok(Ok(chunk)) if chunk.is_empty() => self.done = true,
                Ok(Ok(chunk)) => {
                    self.current = chunk;
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                // The sender stopped without an end marker: it failed and
                // reports why itself.
                Err(_) => return Err(io::Error::other("download stopped")),
            }
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// A queue between the two threads.
pub(crate) fn pipe() -> (SyncSender<io::Result<Vec<u8>>>, PipeReader) {
    let (tx, rx) = sync_channel(DEPTH);
    (
        tx,
        PipeReader {
            rx,
            current: Vec::new(),
            pos: 0,
            done: false,
        },
    )
}

/// Copies `input` into `sink` and into the queue, until the end of `input`.
/// Returns false when it stopped early because the reader went away (it
/// failed and says why).
pub(crate) fn pump(
    mut input: impl Read,
    sink: &mut impl Write,
    tx: &SyncSender<io::Result<Vec<u8>>>,
) -> io::Result<bool> {
    loop {
        let mut chunk = vec![0u8; CHUNK];
        let n = match input.read(&mut chunk) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = tx.send(Err(io::Error::new(e.kind(), e.to_string())));
                return Err(e);
            }
        };
        chunk.truncate(n);
        if n > 0 {
            sink.write_all(&chunk)?;
        }
        let end = n == 0;
        if tx.send(Ok(chunk)).is_err() {
            return Ok(false);
        }
        if end {
            return Ok(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_see_every_byte() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let (tx, mut reader) = pipe();
        let mut copy = Vec::new();
        let got = std::thread::scope(|s| {
            let h = s.spawn(|| {
                let mut out = Vec::new();
                reader.read_to_end(&mut out).map(|_| out)
            });
            assert!(pump(&data[..], &mut copy, &tx).expect("pump"));
            h.join().expect("join")
        })
        .expect("read");
        assert_eq!(got, data);
        assert_eq!(copy, data);
    }

    #[test]
    fn a_read_error_reaches_the_reader() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::ConnectionReset, "reset"))
            }
        }
        let (tx, mut reader) = pipe();
        assert!(pump(Broken, &mut io::sink(), &tx).is_err());
        let err = reader.read(&mut [0u8; 4]).expect_err("error");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
    }
}
