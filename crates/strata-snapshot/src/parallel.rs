//! Streaming compression on every core, for container image layers.
//!
//! [`ParallelCompressor`] is a [`Write`] adapter: bytes written to it are cut
//! into fixed-size blocks, the blocks are compressed by worker threads, and the
//! compressed blocks are written to the sink, in order, on the caller's thread.
//! Memory stays flat: at most `2 × threads` blocks are in flight, so a
//! multi-gigabyte layer needs no more memory than a small one (measured on a
//! 200 MB layer: a 2-thread gzip run adds about 6 MiB to peak RSS, each
//! further thread about 3 MiB).
//!
//! # Gzip: the pigz scheme
//!
//! The output is one ordinary gzip member: a fixed 10-byte header, a single
//! deflate stream, and the CRC-32 / size trailer. The deflate stream is built
//! from independently compressed pieces:
//!
//! * every block is compressed as raw deflate by a fresh compressor whose
//!   dictionary is the last 32 KiB of the previous block's input, so matches
//!   may reach back across the block boundary just as in single-stream gzip
//!   (deflate's window is 32 KiB); only the per-block restart of the match
//!   finder and of the Huffman tables costs a little ratio;
//! * non-final blocks end with a sync flush: an empty stored block that ends
//!   the output on a byte boundary without the "final block" bit, so the next
//!   block's output can simply be appended;
//! * the final block (possibly empty, but always present) ends with a finish.
//!
//! The CRC-32 of the uncompressed data is computed on the caller's thread as
//! data arrives; it is cheap next to deflate.
//!
//! # Gzip members (libdeflate)
//!
//! [`Codec::GzipMembers`] makes every block a complete gzip member (header,
//! raw deflate from libdeflate, CRC-32 and size), with no dictionary: see
//! [`members`](self::members) for the format and its compatibility. There
//! is no stream-wide header, trailer or CRC: each member carries its own,
//! computed on the worker threads.
//!
//! # Zstd
//!
//! Every block becomes an independent zstd frame; a zstd stream may consist of
//! several frames, and decoders output their contents back to back.
//!
//! # Reproducible output
//!
//! The bytes produced depend only on the input, the codec and level, and the
//! block size, never on the thread count or on how the input was split into
//! `write` calls:
//!
//! * block boundaries are fixed offsets in the input (a full block is only
//!   sent once more input arrives, so the last block is known to be last);
//! * each block's compressed form is a pure function of (dictionary, block,
//!   last-flag, level): every gzip block gets a newly initialized deflate
//!   state (a `reset` one is not enough: zlib's reset keeps the old window,
//!   which the match finder peeks into, so output varied with the worker's
//!   history), and every zstd frame starts from a cleanly reset context;
//! * blocks are written in input order, whatever order they finish in;
//! * the gzip header is fixed (mtime 0, no name, OS 255 "unknown").
//!
//! # Errors
//!
//! A compression or sink error is returned from [`Write::write`],
//! [`Write::flush`] or [`ParallelCompressor::finish`], and every later call
//! fails too. Dropping a compressor without `finish` stops and joins its
//! workers; the output is then incomplete.

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Write};
use std::mem;
use std::num::NonZeroUsize;
use std::thread;

use pool::{Block, Encoder, Pool, Ticket};

mod gzip;
mod members;
mod pool;
#[cfg(test)]
mod tests;
mod zstd;

/// Gzip block size used by [`ParallelCompressor::new`].
///
/// Measured on a 200 MB rootfs-like corpus: the ratio is the same within
/// 0.2% from 64 KiB to 1 MiB, larger blocks are at most a few percent faster
/// at level 1 and no faster at level 6, and memory grows with the block, so
/// this is pigz's 128 KiB.
pub const DEFAULT_GZIP_BLOCK_SIZE: usize = 128 * 1024;

/// Block (member) size used by [`ParallelCompressor::new`] for
/// [`Codec::GzipMembers`].
///
/// Measured on a 210 MB rootfs-like corpus (see `examples/bench.rs`): with
/// no dictionary, small members lose ratio (at levels 4 and 6, 128 KiB
/// members are 1.1–1.2% larger than 1 MiB ones, 256 KiB ones 0.5%) at the
/// same speed within noise. Memory grows with the block: a 2-thread run adds
/// about 11 MiB to peak RSS with 1 MiB members (about 2 MiB with 256 KiB),
/// 8 threads about 38 MiB. 1 MiB is also pgzip's default block.
pub const DEFAULT_GZIP_MEMBER_BLOCK_SIZE: usize = 1024 * 1024;

/// Zstd block (frame) size used by [`ParallelCompressor::new`].
///
/// Frames are independent, so larger ones compress better (at level 3,
/// 1 MiB is 0.7% larger than 2 MiB) but are slower and need more memory
/// (2 MiB frames with 8 threads exceed 64 MiB); 1 MiB is the balance.
pub const DEFAULT_ZSTD_BLOCK_SIZE: usize = 1024 * 1024;

/// Thread counts above this are lowered to it.
pub const MAX_THREADS: usize = 256;

/// Smallest block size accepted; smaller requests are raised to it. It is the
/// deflate dictionary size, so every dictionary is a full 32 KiB window.
pub const MIN_BLOCK_SIZE: usize = 32 * 1024;

/// Blocks in flight (queued, compressing or waiting to be written) per thread.
const IN_FLIGHT_PER_THREAD: usize = 2;

/// Which codec and level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// One gzip member; `level` 0–9 as for gzip (larger values act as 9).
    Gzip {
        /// Deflate level, 0 (store) to 9 (best).
        level: u32,
    },
    /// A sequence of gzip members, one per block, compressed by libdeflate;
    /// `level` 0–12 as for libdeflate (larger values act as 12).
    ///
    /// On the rootfs corpus, level 4 with 1 MiB members is 1% smaller than
    /// [`Codec::Gzip`] level 6 and about 1.85× as fast; level 6 is 3.5%
    /// smaller and about 1.4× as fast.
    GzipMembers {
        /// libdeflate level, 0 (store) to 12 (best).
        level: u32,
    },
    /// A sequence of zstd frames, one per block.
    Zstd {
        /// Zstd level (e.g. 1–19; 0 means zstd's default, 3).
        level: i32,
    },
}

impl Codec {
    /// The block size [`ParallelCompressor::new`] uses for this codec.
    pub fn default_block_size(self) -> usize {
        match self {
            Codec::Gzip { .. } => DEFAULT_GZIP_BLOCK_SIZE,
            Codec::GzipMembers { .. } => DEFAULT_GZIP_MEMBER_BLOCK_SIZE,
            Codec::Zstd { .. } => DEFAULT_ZSTD_BLOCK_SIZE,
        }
    }
}

/// Compresses in the caller's thread, or dispatches to worker threads.
enum Engine {
    Inline(Encoder),
    Pool(Pool),
}

/// Writes compressed output to `sink` using `threads` worker threads.
///
/// See the [module documentation](self) for the format and guarantees.
/// With one thread the blocks are compressed on the caller's thread (same
/// output, no worker). Call [`finish`](Self::finish) to complete the stream.
pub struct ParallelCompressor<W: Write> {
    sink: Option<W>,
    codec: Codec,
    engine: Option<Engine>,
    block_size: usize,
    max_in_flight: usize,
    /// The block being filled: `buf[..dict_len]` is the dictionary.
    buf: Vec<u8>,
    dict_len: usize,
    pending: VecDeque<Ticket>,
    spare_bufs: Vec<Vec<u8>>,
    spare_outs: Vec<Vec<u8>>,
    crc: crc32fast::Hasher,
    bytes_in: u64,
    header_written: bool,
    failed: Option<(io::ErrorKind, String)>,
}

impl<W: Write> ParallelCompressor<W> {
    /// Writes compressed output to `sink` using `threads` worker threads
    /// (`0` means one per available core, at most [`MAX_THREADS`]), with the
    /// codec's default block size.
    pub fn new(sink: W, codec: Codec, threads: usize) -> Self {
        Self::with_block_size(sink, codec, threads, codec.default_block_size())
    }

    /// Like [`new`](Self::new) with an explicit block size (at least
    /// [`MIN_BLOCK_SIZE`]). The output depends on the block size.
    pub fn with_block_size(sink: W, codec: Codec, threads: usize, block_size: usize) -> Self {
        let threads = match threads {
            0 => thread::available_parallelism().map_or(1, NonZeroUsize::get),
            n => n,
        }
        .min(MAX_THREADS);
        let engine = if threads == 1 {
            Encoder::new(codec).map(Engine::Inline)
        } else {
            Pool::new(codec, threads).map(Engine::Pool)
        };
        let (engine, failed) = match engine {
            Ok(engine) => (Some(engine), None),
            Err(e) => (None, Some((e.kind(), e.to_string()))),
        };
        let block_size = block_size.max(MIN_BLOCK_SIZE);
        ParallelCompressor {
            sink: Some(sink),
            codec,
            engine,
            block_size,
            max_in_flight: if threads == 1 {
                0
            } else {
                threads * IN_FLIGHT_PER_THREAD
            },
            buf: Vec::with_capacity(match codec {
                Codec::Gzip { .. } => gzip::DICT_SIZE + block_size,
                Codec::GzipMembers { .. } | Codec::Zstd { .. } => block_size,
            }),
            dict_len: 0,
            pending: VecDeque::new(),
            spare_bufs: Vec::new(),
            spare_outs: Vec::new(),
            crc: crc32fast::Hasher::new(),
            bytes_in: 0,
            header_written: false,
            failed,
        }
    }

    /// Uncompressed bytes accepted so far.
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in
    }

    /// Flushes everything, writes trailers, joins workers, returns the sink.
    pub fn finish(mut self) -> io::Result<W> {
        self.check()?;
        self.dispatch(true)?;
        self.drain()?;
        let mut sink = self.sink.take().ok_or_else(gone)?;
        if let Codec::Gzip { .. } = self.codec {
            let crc = mem::take(&mut self.crc).finalize();
            sink.write_all(&gzip::trailer(crc, self.bytes_in))?;
        }
        if let Some(Engine::Pool(mut pool)) = self.engine.take() {
            pool.shutdown()?;
        }
        sink.flush()?;
        Ok(sink)
    }

    /// Returns the recorded failure, if any, as a fresh error.
    fn check(&self) -> io::Result<()> {
        match &self.failed {
            Some((kind, msg)) => Err(io::Error::new(*kind, msg.clone())),
            None => Ok(()),
        }
    }

    /// Records `e` so later calls fail too, and hands it back.
    fn fail(&mut self, e: io::Error) -> io::Error {
        self.failed = Some((e.kind(), e.to_string()));
        e
    }

    /// Uncompressed bytes in the block being filled.
    fn filled(&self) -> usize {
        self.buf.len() - self.dict_len
    }

    /// Sends the current block off (`last` marks the end of the input), starts
    /// the next one, and writes finished blocks beyond the in-flight limit.
    fn dispatch(&mut self, last: bool) -> io::Result<()> {
        let mut next = self.spare_bufs.pop().unwrap_or_default();
        next.clear();
        next.reserve(self.buf.capacity());
        if let (Codec::Gzip { .. }, false) = (self.codec, last) {
            let data = &self.buf[self.dict_len..];
            next.extend_from_slice(&data[data.len().saturating_sub(gzip::DICT_SIZE)..]);
        }
        let block = Block {
            dict_len: mem::replace(&mut self.dict_len, next.len()),
            buf: mem::replace(&mut self.buf, next),
            last,
        };
        let out = self.spare_outs.pop().unwrap_or_default();
        let ticket = match self.engine.as_mut().ok_or_else(gone)? {
            Engine::Inline(encoder) => Ticket::Ready(Box::new(encoder.run(block, out))),
            Engine::Pool(pool) => pool.submit(block, out)?,
        };
        self.pending.push_back(ticket);
        while self.pending.len() > self.max_in_flight {
            self.write_oldest()?;
        }
        Ok(())
    }

    /// Writes every block in flight to the sink, in order.
    fn drain(&mut self) -> io::Result<()> {
        while !self.pending.is_empty() {
            self.write_oldest()?;
        }
        Ok(())
    }

    /// Waits for the oldest block in flight and writes it to the sink.
    fn write_oldest(&mut self) -> io::Result<()> {
        let Some(ticket) = self.pending.pop_front() else {
            return Ok(());
        };
        let done = ticket.wait()?;
        done.result?;
        let sink = self.sink.as_mut().ok_or_else(gone)?;
        if !self.header_written {
            if let Codec::Gzip { level } = self.codec {
                sink.write_all(&gzip::header(level.min(gzip::MAX_LEVEL)))?;
            }
            self.header_written = true;
        }
        sink.write_all(&done.out)?;
        self.spare_bufs.push(done.block.buf);
        self.spare_outs.push(done.out);
        Ok(())
    }
}

impl<W: Write> fmt::Debug for ParallelCompressor<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParallelCompressor")
            .field("codec", &self.codec)
            .field("block_size", &self.block_size)
            .field("bytes_in", &self.bytes_in)
            .field("blocks_in_flight", &self.pending.len())
            .finish_non_exhaustive()
    }
}

fn gone() -> io::Error {
    io::Error::other("compressor already finished")
}

impl<W: Write> Write for ParallelCompressor<W> {
    /// Accepts all of `data` (buffering it), compressing each full block.
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.check()?;
        let mut rest = data;
        while !rest.is_empty() {
            if self.filled() == self.block_size {
                self.dispatch(false).map_err(|e| self.fail(e))?;
            }
            let room = self.block_size - self.filled();
            let (now, later) = rest.split_at(room.min(rest.len()));
            if let Codec::Gzip { .. } = self.codec {
                self.crc.update(now);
            }
            self.buf.extend_from_slice(now);
            self.bytes_in += now.len() as u64;
            rest = later;
        }
        Ok(data.len())
    }

    /// Writes every completed block to the sink and flushes the sink.
    ///
    /// The partly filled block stays buffered: emitting it early would make
    /// the output depend on when `flush` was called.
    fn flush(&mut self) -> io::Result<()> {
        self.check()?;
        self.drain().map_err(|e| self.fail(e))?;
        match self.sink.as_mut() {
            Some(sink) => sink.flush().map_err(|e| self.fail(e)),
            None => Err(gone()),
        }
    }
}

impl<W: Write> Drop for ParallelCompressor<W> {
    fn drop(&mut self) {
        // Dropping the reply receivers, then the pool, closes the job queue;
        // workers finish their current block and exit, and are joined.
        self.pending.clear();
        self.engine = None;
    }
}
