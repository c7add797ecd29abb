//! The step cache: one small JSON file per cache key under `build-cache/`.
//! An entry is usable only while its layer blob is still in the store (the
//! snapshot is re-made from the blob when it was removed).

use std::fs;
use std::path::PathBuf;

use strata_build::CacheEntry;
use strata_oci::Digest;
use strata_store::fsutil;

use crate::error::{Error, Result};
use crate::gc::Reclaimed;
use crate::host::Host;

/// What the build cache holds.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BuildCacheUsage {
    /// Step results remembered.
    pub entries: usize,
    /// Bytes of layer blobs only the cache keeps (no image has them), plus the
    /// `RUN --mount=type=cache` directories.
    pub size: u64,
}

impl Host {
    fn build_cache_dir(&self) -> PathBuf {
        self.store.paths().root().join("build-cache")
    }

    /// The step cache's entries (unreadable ones are skipped: they are misses).
    fn build_cache_entries(&self) -> Result<Vec<(PathBuf, CacheEntry)>> {
        let dir = self.build_cache_dir();
        let mut out = Vec::new();
        for e in fsutil::dir_entries(&dir)? {
            let path = e.path();
            if !path.is_file() {
                continue;
            }
            if let Ok(entry) = fs::read(&path)
                .map_err(|_| ())
                .and_then(|b| serde_json::from_slice::<CacheEntry>(&b).map_err(|_| ()))
            {
                out.push((path, entry));
            }
        }
        Ok(out)
    }

    /// The layer blobs the step cache refers to: kept by garbage collection
    /// (their snapshots are not: they are unpacked again when needed).
    pub(crate) fn build_cache_blobs(&self) -> Result<Vec<Digest>> {
        Ok(self
            .build_cache_entries()?
            .into_iter()
            .filter_map(|(_, e)| e.layer.map(|l| l.blob.digest))
            .collect())
    }

    /// The cache's size, with `image_blobs` the blobs images keep anyway.
    pub(crate) fn build_cache_usage(
        &self,
        image_blobs: &std::collections::BTreeSet<Digest>,
    ) -> Result<BuildCacheUsage> {
        let entries = self.build_cache_entries()?;
        let mut blobs = std::collections::BTreeSet::new();
        for (_, e) in &entries {
            if let Some(l) = &e.layer {
                if !image_blobs.contains(&l.blob.digest)
                    && self.store.content().exists(&l.blob.digest)
                {
                    blobs.insert((l.blob.digest.clone(), l.blob.size));
                }
            }
        }
        let mounts = crate::gc::disk_usage(&self.build_cache_dir().join("mounts"));
        Ok(BuildCacheUsage {
            entries: entries.len(),
            size: blobs.iter().map(|(_, s)| s).sum::<u64>() + mounts,
        })
    }

    /// `builder prune`: forgets every cached step (with `all`, the
    /// `RUN --mount=type=cache` directories too) and collects what no image
    /// needs any more.
    pub fn prune_build_cache(&self, all: bool) -> Result<Reclaimed> {
        let lock = self.store.lock_exclusive()?;
        let mut freed = 0;
        for (path, _) in self.build_cache_entries()? {
            freed += fs::metadata(&path).map_or(0, |m| m.len());
            fs::remove_file(&path).map_err(Error::io("remove", &path))?;
        }
        if all {
            let mounts = self.build_cache_dir().join("mounts");
            freed += crate::gc::disk_usage(&mounts);
            fsutil::empty_trash(&mounts)?;
        }
        let mut reclaimed = self.collect_garbage(&lock)?;
        reclaimed.bytes += freed;
        Ok(reclaimed)
    }

    /// The cached step under `key`, if its layer is still stored.
    pub(crate) fn build_cache_get(&self, key: &Digest) -> Result<Option<CacheEntry>> {
        let path = self.build_cache_dir().join(key.hex());
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("read", &path)(e)),
        };
        let Ok(entry) = serde_json::from_slice::<CacheEntry>(&bytes) else {
            // A damaged entry is a miss; the step runs and rewrites it.
            return Ok(None);
        };
        match &entry.layer {
            Some(l) if !self.store.content().exists(&l.blob.digest) => Ok(None),
            _ => Ok(Some(entry)),
        }
    }

    /// Remembers a step.
    pub(crate) fn build_cache_put(&self, key: &Digest, entry: &CacheEntry) -> Result<()> {
        let dir = self.build_cache_dir();
        fs::create_dir_all(&dir).map_err(Error::io("create", &dir))?;
        let bytes = serde_json::to_vec(entry)
            .map_err(|e| Error::Archive(format!("encoding a cache entry: {e}")))?;
        // No fsync: a lost entry only costs a rerun of its step.
        fsutil::replace_file(&dir.join(key.hex()), &bytes)?;
        Ok(())
    }
}
