//! Block encoders and the worker pool that runs them.
//!
//! Jobs go to the workers over one bounded channel (shared behind a mutex, so
//! whichever worker is idle takes the next block). Each job carries its own
//! one-shot reply channel; the caller keeps those receivers in submission
//! order, which is all the ordering the output needs.

use std::io;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use super::gzip::{self, DeflateBlocks};
use super::members::{self, GzipMembers};
use super::zstd::ZstdFrames;
use super::Codec;

/// One block of input: `buf[..dict_len]` is the preceding input used as a
/// deflate dictionary (empty for zstd and the first block), the rest is data.
pub(super) struct Block {
    pub(super) buf: Vec<u8>,
    pub(super) dict_len: usize,
    pub(super) last: bool,
}

/// A finished block: the buffers come back to the caller for reuse.
pub(super) struct Done {
    pub(super) block: Block,
    pub(super) out: Vec<u8>,
    pub(super) result: io::Result<()>,
}

/// A per-thread compression context for either codec.
pub(super) enum Encoder {
    Gzip(DeflateBlocks),
    GzipMembers(GzipMembers),
    Zstd(Box<ZstdFrames>),
}

impl Encoder {
    /// A fresh context for `codec` (gzip levels clamped to `0..=9`, gzip
    /// member levels to `0..=12`).
    pub(super) fn new(codec: Codec) -> io::Result<Self> {
        Ok(match codec {
            Codec::Gzip { level } => Encoder::Gzip(DeflateBlocks::new(level.min(gzip::MAX_LEVEL))),
            Codec::GzipMembers { level } => {
                Encoder::GzipMembers(GzipMembers::new(level.min(members::MAX_LEVEL))?)
            }
            Codec::Zstd { level } => Encoder::Zstd(Box::new(ZstdFrames::new(level)?)),
        })
    }

    /// Compresses `block` into `out`; the result depends only on the block.
    pub(super) fn encode(&mut self, block: &Block, out: &mut Vec<u8>) -> io::Result<()> {
        let (dict, data) = block.buf.split_at(block.dict_len.min(block.buf.len()));
        match self {
            Encoder::Gzip(deflate) => deflate.encode(dict, data, block.last, out),
            Encoder::GzipMembers(members) => members.encode(data, out),
            Encoder::Zstd(frames) => frames.encode(data, out),
        }
    }

    /// Encodes `block` and packs everything into a [`Done`].
    pub(super) fn run(&mut self, block: Block, mut out: Vec<u8>) -> Done {
        let result = self.encode(&block, &mut out);
        Done { block, out, result }
    }
}

/// A block handed to the pool, and where to send its result.
struct Job {
    block: Block,
    out: Vec<u8>,
    reply: SyncSender<Done>,
}

/// A submitted block: already encoded (inline mode) or awaited from a worker.
pub(super) enum Ticket {
    Ready(Box<Done>),
    Waiting(Receiver<Done>),
}

impl Ticket {
    /// Blocks until the result is available.
    pub(super) fn wait(self) -> io::Result<Done> {
        match self {
            Ticket::Ready(done) => Ok(*done),
            Ticket::Waiting(rx) => rx
                .recv()
                .map_err(|_| io::Error::other("compression worker stopped unexpectedly")),
        }
    }
}

/// Worker threads sharing one bounded job queue.
pub(super) struct Pool {
    jobs: Option<SyncSender<Job>>,
    workers: Vec<JoinHandle<()>>,
}

impl Pool {
    /// Starts `threads` workers, each with its own encoder for `codec`.
    ///
    /// The job queue holds at most `threads` waiting blocks.
    pub(super) fn new(codec: Codec, threads: usize) -> io::Result<Self> {
        let (tx, rx) = sync_channel::<Job>(threads);
        let rx = Arc::new(Mutex::new(rx));
        let mut pool = Pool {
            jobs: Some(tx),
            workers: Vec::with_capacity(threads),
        };
        for i in 0..threads {
            let encoder = Encoder::new(codec)?;
            let rx = Arc::clone(&rx);
            let handle = thread::Builder::new()
                .name(format!("strata-compress-{i}"))
                .spawn(move || worker(encoder, &rx))?;
            pool.workers.push(handle);
        }
        Ok(pool)
    }

    /// Queues `block` (blocking while the queue is full).
    pub(super) fn submit(&self, block: Block, out: Vec<u8>) -> io::Result<Ticket> {
        let jobs = self.jobs.as_ref().ok_or_else(closed)?;
        let (reply, rx) = sync_channel(1);
        jobs.send(Job { block, out, reply }).map_err(|_| closed())?;
        Ok(Ticket::Waiting(rx))
    }

    /// Closes the queue and joins every worker; reports a panicked worker.
    pub(super) fn shutdown(&mut self) -> io::Result<()> {
        self.jobs = None;
        let mut outcome = Ok(());
        for handle in self.workers.drain(..) {
            if handle.join().is_err() {
                outcome = Err(io::Error::other("compression worker panicked"));
            }
        }
        outcome
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // Errors were either reported already or have nobody to go to.
        let _ = self.shutdown();
    }
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "compression workers are gone")
}

/// A worker: take jobs until the queue closes, reply to each.
fn worker(mut encoder: Encoder, jobs: &Mutex<Receiver<Job>>) {
    loop {
        let job = match jobs.lock() {
            Ok(queue) => match queue.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
            Err(_) => return,
        };
        let done = encoder.run(job.block, job.out);
        // The caller may have gone away (dropped without finish): fine.
        let _ = job.reply.send(done);
    }
}
