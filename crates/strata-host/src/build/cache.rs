//! The step cache: one small JSON file per cache key under `build-cache/`.
//! An entry is usable only while its layer blob is still in the store (the
//! snapshot is re-made from the blob when it was removed).

use std::fs;
use std::path::PathBuf;

use strata_build::CacheEntry;
use strata_oci::Digest;
use strata_store::fsutil;

use crate::error::{Error, Result};
use crate::host::Host;

impl Host {
    fn build_cache_dir(&self) -> PathBuf {
        self.store.paths().root().join("build-cache")
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
