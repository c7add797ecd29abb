//! Garbage collection across the store and the snapshots.

use std::collections::{BTreeSet, HashSet};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use strata_oci::{chain_ids, Digest};
use strata_store::{gc, LockGuard};

use crate::error::Result;
use crate::host::Host;

/// What a collection freed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reclaimed {
    /// Blobs deleted.
    pub blobs: usize,
    /// Snapshots deleted, by chain ID.
    pub snapshots: Vec<Digest>,
    /// Bytes freed on disk (blobs plus unpacked content).
    pub bytes: u64,
}

impl Host {
    /// Deletes every blob and snapshot no image needs, and leftovers of
    /// interrupted operations. Requires the exclusive lock.
    pub(crate) fn collect_garbage(&self, lock: &LockGuard) -> Result<Reclaimed> {
        let records = self.store.records()?;
        let mut marked = gc::mark(&self.store, &records)?;
        // The build cache's layers survive image removal (Docker's does too);
        // `builder prune` lets them go.
        for blob in self.build_cache_blobs()? {
            if self.store.content().exists(&blob) {
                marked.live.insert(blob);
            }
        }
        let mut live_chains = BTreeSet::new();
        for target in records.images.keys() {
            match self.image(&records, target) {
                Ok(image) => live_chains.extend(chain_ids(&image.config.rootfs.diff_ids)),
                // An unreadable image keeps every snapshot: `check` reports it.
                Err(e) => {
                    tracing::warn!("image {target} unreadable, keeping all snapshots: {e}");
                    return self.sweep_blobs_only(&marked, lock);
                }
            }
        }
        let mut reclaimed = self.sweep_blobs_only(&marked, lock)?;
        for chain in self.snapshots.list()? {
            if live_chains.contains(&chain) {
                continue;
            }
            reclaimed.bytes += disk_usage(&self.snapshots.path(&chain));
            self.snapshots.remove(&chain)?;
            reclaimed.snapshots.push(chain);
        }
        Ok(reclaimed)
    }

    fn sweep_blobs_only(&self, marked: &gc::Marked, lock: &LockGuard) -> Result<Reclaimed> {
        let swept = gc::sweep(&self.store, marked, lock)?;
        self.store.clean_leftovers(lock)?;
        let content = self.store.content();
        crate::registry::forget_origins(self.store.paths().root(), &|d| content.exists(d));
        Ok(Reclaimed {
            blobs: swept.blobs.len(),
            snapshots: Vec::new(),
            bytes: swept.bytes(),
        })
    }
}

/// Bytes a tree occupies on disk (allocated blocks, hard links counted once).
pub(crate) fn disk_usage(root: &Path) -> u64 {
    // An explicit stack: a cache mount any depth deep cannot overflow ours.
    let mut seen = HashSet::new();
    let mut todo = vec![root.to_path_buf()];
    let mut total = 0;
    while let Some(p) = todo.pop() {
        let Ok(m) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if seen.insert((m.dev(), m.ino())) {
            total += m.blocks() * 512;
        }
        if m.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&p) {
                todo.extend(entries.flatten().map(|e| e.path()));
            }
        }
    }
    total
}
