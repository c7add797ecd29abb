//! Fetching an image's layers: in parallel, each streamed once from the
//! registry through digest verification, decompression and the door check
//! into both the content store and its snapshot.
//!
//! Layers unpack side by side: each into its own overlay snapshot, which
//! needs nothing of its parents, except a hard link to a file of a lower
//! layer; that one waits (a [`LowersGate`]) until the parents are committed.
//! Nothing is visible before it is verified: the blob is committed only if
//! its digest and size match, the snapshot only if the diff_id does too.

use std::io::{self, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use strata_distribution::RepositoryName;
use strata_oci::{chain_ids, Descriptor, Digest};
use strata_registry_client::Client;
use strata_snapshot::apply::{Applier, ApplyOptions, LowersGate, WhiteoutMode};
use strata_snapshot::guard::Guard;
use strata_snapshot::ingest::{ingest_raw, Visit};
use strata_snapshot::snapshots::SnapshotMode;
use strata_store::{Expected, LayerInfo};

use super::{pipe, LayerEvent, TransferProgress};
use crate::error::{Error, Result};
use crate::host::Host;

/// Progress is reported at most every this many bytes.
const REPORT_EVERY: u64 = 512 * 1024;

/// Which layers are complete, and whether the fetch failed.
#[derive(Default)]
struct Board {
    done: Mutex<(Vec<bool>, bool)>,
    changed: Condvar,
}

impl Board {
    fn wait_for_lowers(&self, below: usize) -> io::Result<()> {
        let mut state = self.done.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if state.1 {
                return Err(io::Error::other("another layer of the image failed"));
            }
            if state.0[..below].iter().all(|d| *d) {
                return Ok(());
            }
            state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn finish(&self, i: usize, ok: bool) {
        let mut state = self.done.lock().unwrap_or_else(|p| p.into_inner());
        if ok {
            state.0[i] = true;
        } else {
            state.1 = true;
        }
        self.changed.notify_all();
    }

    fn failed(&self) -> bool {
        self.done.lock().unwrap_or_else(|p| p.into_inner()).1
    }
}

/// Reports a layer finished (or failed) when dropped, panics included.
struct FinishGuard<'b> {
    board: &'b Board,
    i: usize,
    ok: bool,
}

impl Drop for FinishGuard<'_> {
    fn drop(&mut self) {
        self.board.finish(self.i, self.ok);
    }
}

/// A registry and repository to fetch from.
pub(crate) struct Source<'a> {
    pub client: &'a Client,
    pub repo: &'a RepositoryName,
}

impl Host {
    /// Makes sure every layer's blob is in the store and (overlay mode) every
    /// snapshot of the chain exists, fetching `parallel` layers at a time.
    pub(crate) fn fetch_layers(
        &self,
        source: &Source<'_>,
        layers: &[(Descriptor, Digest)],
        parallel: usize,
        progress: &dyn TransferProgress,
    ) -> Result<()> {
        let diff_ids: Vec<Digest> = layers.iter().map(|(_, d)| d.clone()).collect();
        let chains = chain_ids(&diff_ids);
        let inline = self.snapshots().mode() == SnapshotMode::Overlay;
        let board = Arc::new(Board::default());
        let mut jobs = Vec::new();
        {
            let mut state = board.done.lock().unwrap_or_else(|p| p.into_inner());
            for (i, (blob, _)) in layers.iter().enumerate() {
                let complete = self.store().content().exists(&blob.digest)
                    && (!inline || self.snapshots().exists(&chains[i]));
                state.0.push(complete);
                if complete {
                    progress.layer(&blob.digest, blob.size, LayerEvent::Exists);
                } else {
                    progress.layer(&blob.digest, blob.size, LayerEvent::Waiting);
                    jobs.push(i);
                }
            }
        }
        let next = AtomicUsize::new(0);
        let first_error: Mutex<Option<Error>> = Mutex::new(None);
        std::thread::scope(|scope| {
            for _ in 0..parallel.clamp(1, jobs.len().max(1)) {
                scope.spawn(|| loop {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    if k >= jobs.len() || board.failed() {
                        break;
                    }
                    let i = jobs[k];
                    // Even a panic marks the layer failed, so nobody waits on it forever.
                    let mut guard = FinishGuard {
                        board: &board,
                        i,
                        ok: false,
                    };
                    let result =
                        self.fetch_layer(source, layers, &chains, i, inline, &board, progress);
                    guard.ok = result.is_ok();
                    if let Err(e) = result {
                        first_error
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .get_or_insert(e);
                    }
                    drop(guard);
                });
            }
        });
        match first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn fetch_layer(
        &self,
        source: &Source<'_>,
        layers: &[(Descriptor, Digest)],
        chains: &[Digest],
        i: usize,
        inline: bool,
        board: &Arc<Board>,
        progress: &dyn TransferProgress,
    ) -> Result<()> {
        let (blob, diff_id) = &layers[i];
        let content = self.store().content();
        let have_blob = content.exists(&blob.digest);
        let staging = match inline && !self.snapshots().exists(&chains[i]) {
            true => Some(self.snapshots().staging()?),
            false => None,
        };
        let result = (|| -> Result<()> {
            let mut applier = match &staging {
                Some(dir) => {
                    let mut opts = ApplyOptions::new(WhiteoutMode::Overlay);
                    opts.lowers = chains[..i]
                        .iter()
                        .rev()
                        .map(|c| self.snapshots().path(c))
                        .collect();
                    let board = Arc::clone(board);
                    opts.lowers_ready =
                        Some(LowersGate(Arc::new(move || board.wait_for_lowers(i))));
                    Some(Applier::new(dir, opts)?)
                }
                None => None,
            };
            let visit = match &mut applier {
                Some(a) => Visit::Apply(a),
                None => Visit::Check(Guard::default()),
            };
            let stats = if have_blob {
                ingest_raw(content.open(&blob.digest)?, &mut io::sink(), visit)?
            } else {
                self.download(source, blob, visit, progress)?
            };
            if &stats.diff_id != diff_id {
                return Err(Error::Layer(strata_snapshot::Error::DiffIdMismatch {
                    blob: blob.digest.clone(),
                    expected: diff_id.clone(),
                    actual: stats.diff_id,
                }));
            }
            self.note_layer(
                &blob.digest,
                &blob.media_type,
                LayerInfo {
                    diff_id: stats.diff_id,
                    size: stats.size,
                },
            )?;
            if let (Some(a), Some(dir)) = (applier, &staging) {
                a.finish()?;
                self.snapshots().commit(dir, &chains[i])?;
            }
            Ok(())
        })();
        if result.is_err() {
            if let Some(dir) = &staging {
                let _ = self.snapshots().discard(dir);
            }
        } else {
            progress.layer(&blob.digest, blob.size, LayerEvent::Done);
        }
        result
    }
}

impl Host {
    /// Downloads `blob` into the store while `visit` checks (and unpacks) it:
    /// receiving, hashing and storing on one thread, decompressing and
    /// unpacking on this one.
    fn download(
        &self,
        source: &Source<'_>,
        blob: &Descriptor,
        visit: Visit<'_>,
        progress: &dyn TransferProgress,
    ) -> Result<strata_snapshot::ingest::LayerStats> {
        let reader = source
            .client
            .blob_reader(source.repo, &blob.digest, Some(blob.size), 0)?;
        let input = Counting {
            inner: reader.take(blob.size),
            count: 0,
            reported: 0,
            digest: &blob.digest,
            size: blob.size,
            progress,
        };
        let mut writer = self.store().content().writer_for(blob.digest.algorithm())?;
        let (tx, rx) = pipe::pipe();
        let (stored, stats) = std::thread::scope(|scope| {
            let receiving = scope.spawn(move || {
                let pumped = pipe::pump(input, &mut writer, &tx);
                drop(tx);
                pumped.map(|complete| (writer, complete))
            });
            let mut rx = rx;
            let stats = ingest_raw(&mut rx, &mut io::sink(), visit);
            if stats.is_err() {
                // Finish the download anyway: if the bytes are not the blob the
                // manifest names, that is the error to report.
                let _ = io::copy(&mut rx, &mut io::sink());
            }
            drop(rx);
            (receiving.join(), stats)
        });
        let (writer, complete) = match stored {
            Ok(Ok(w)) => w,
            Ok(Err(e)) => {
                return Err(Error::Archive(format!(
                    "layer {}: download: {e}",
                    blob.digest
                )))
            }
            Err(_) => {
                return Err(Error::Archive(format!(
                    "layer {}: download thread panicked",
                    blob.digest
                )))
            }
        };
        let stats = stats.map_err(|e| layer_error(&blob.digest, e));
        if !complete {
            // The unpack gave up first; its error says why.
            return stats;
        }
        // A short or corrupt download fails here, before the unpack's verdict.
        writer.commit(Expected::exactly(blob.digest.clone(), blob.size))?;
        stats
    }
}

/// A download error names the layer.
fn layer_error(digest: &Digest, e: strata_snapshot::Error) -> Error {
    Error::Archive(format!("layer {digest}: {e}"))
}

/// Counts bytes read and reports them.
pub(super) struct Counting<'a, R> {
    pub(super) inner: R,
    pub(super) count: u64,
    pub(super) reported: u64,
    pub(super) digest: &'a Digest,
    pub(super) size: u64,
    pub(super) progress: &'a dyn TransferProgress,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        if self.count - self.reported >= REPORT_EVERY || (n == 0 && self.count > self.reported) {
            self.reported = self.count;
            self.progress
                .layer(self.digest, self.size, LayerEvent::Progress(self.count));
        }
        Ok(n)
    }
}
