//! [`Store`]: the content store, layer facts and image records under one root.

use std::fs;
use std::io;

use strata_oci::{Digest, Document, ImageConfig};

use crate::content::ContentStore;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::images::Records;
use crate::layers::LayerInfos;
use crate::lock::{self, LockGuard, LockMode};
use crate::paths::Paths;

/// The store format version this code writes.
pub const STORE_VERSION: u32 = 1;

/// Manifests, indexes and configs larger than this are refused (the distribution
/// spec's registries cap manifests at 4 MiB).
pub const DOCUMENT_LIMIT: u64 = 4 * 1024 * 1024;

/// A Strata store rooted at one directory.
#[derive(Debug, Clone)]
pub struct Store {
    paths: Paths,
    content: ContentStore,
    layers: LayerInfos,
}

impl Store {
    /// Opens (creating if needed) the store at `root`.
    pub fn open(root: impl Into<std::path::PathBuf>) -> Result<Store> {
        let root = root.into();
        fsutil::create_private_dir(&root)?;
        // The kernel (mount table, /proc) and the runtime report resolved,
        // absolute paths; the store's must compare equal to them.
        let root = fs::canonicalize(&root).map_err(Error::io("resolve", &root))?;
        let paths = Paths::new(root);
        for dir in [
            paths.blobs().join("sha256"),
            paths.blobs().join("sha512"),
            paths.ingest(),
            paths.layers().join("sha256"),
            paths.snapshots(),
            paths.locks(),
            paths.trash(),
            paths.tmp(),
        ] {
            fsutil::create_dir_all(&dir)?;
        }
        let vp = paths.version();
        match fs::read_to_string(&vp) {
            Ok(s) => {
                let found: u32 = s.trim().parse().unwrap_or(u32::MAX);
                if found > STORE_VERSION {
                    return Err(Error::Version {
                        path: paths.root().to_path_buf(),
                        found,
                        supported: STORE_VERSION,
                    });
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fsutil::write_atomic(&vp, format!("{STORE_VERSION}\n").as_bytes())?;
            }
            Err(e) => return Err(Error::io("read", vp)(e)),
        }
        Ok(Store {
            content: ContentStore::new(paths.clone()),
            layers: LayerInfos::new(paths.clone()),
            paths,
        })
    }

    /// Where things are.
    pub fn paths(&self) -> &Paths {
        &self.paths
    }

    /// The blobs.
    pub fn content(&self) -> &ContentStore {
        &self.content
    }

    /// Facts about layer blobs.
    pub fn layers(&self) -> &LayerInfos {
        &self.layers
    }

    /// Holds off garbage collection for as long as the guard lives. Every command
    /// that writes or reads blobs takes it.
    pub fn lock_shared(&self) -> Result<LockGuard> {
        lock::lock(&self.paths.locks().join("gc"), LockMode::Shared)
    }

    /// Excludes every other command; for garbage collection and repair.
    pub fn lock_exclusive(&self) -> Result<LockGuard> {
        lock::lock(&self.paths.locks().join("gc"), LockMode::Exclusive)
    }

    /// The image records as they are now.
    pub fn records(&self) -> Result<Records> {
        Records::load(&self.paths)
    }

    /// Read-modify-write of the image records, atomic and serialised across
    /// processes. The closure's changes are saved only if it returns `Ok`.
    pub fn update_records<T, E: From<Error>>(
        &self,
        f: impl FnOnce(&mut Records) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let _guard = lock::lock(&self.paths.locks().join("records"), LockMode::Exclusive)?;
        let mut records = Records::load(&self.paths)?;
        let before = records.clone();
        let out = f(&mut records)?;
        if records != before {
            records.save(&self.paths)?;
        }
        Ok(out)
    }

    /// Reads and parses a manifest or index blob.
    pub fn document(&self, d: &Digest, media_type: Option<&str>) -> Result<Document> {
        let bytes = self.content.read(d, DOCUMENT_LIMIT, "a manifest")?;
        Document::parse(&bytes, media_type).map_err(|source| Error::Corrupt {
            what: "manifest",
            digest: d.clone(),
            source,
        })
    }

    /// Reads and parses an image config blob.
    pub fn config(&self, d: &Digest) -> Result<ImageConfig> {
        let bytes = self.content.read(d, DOCUMENT_LIMIT, "an image config")?;
        ImageConfig::parse(&bytes).map_err(|source| Error::Corrupt {
            what: "image config",
            digest: d.clone(),
            source,
        })
    }

    /// Removes leftovers of interrupted operations: partial blobs in `ingest/`,
    /// scratch in `tmp/`, trees in `trash/`. Only call with the exclusive lock held:
    /// then nothing is in flight and everything there is stale. Returns how many
    /// entries were removed.
    pub fn clean_leftovers(&self, _exclusive: &LockGuard) -> Result<usize> {
        let mut n = 0;
        // A killed build or copy may have left a mount in its scratch: detached
        // first, so emptying never reaches through it.
        fsutil::unmount_below(&self.paths.tmp());
        for dir in [self.paths.ingest(), self.paths.tmp(), self.paths.trash()] {
            n += count_entries(&dir)?;
            fsutil::empty_trash(&dir)?;
        }
        // Temp files of atomic replacements a crash interrupted.
        for dir in [
            self.paths.root().to_path_buf(),
            self.paths.layers().join("sha256"),
            self.paths.layers().join("sha512"),
            self.paths.snapshots(),
        ] {
            for entry in fsutil::dir_entries(&dir)? {
                if entry
                    .file_name()
                    .to_string_lossy()
                    .starts_with(fsutil::ATOMIC_TEMP_PREFIX)
                {
                    fs::remove_file(entry.path()).map_err(Error::io("remove", entry.path()))?;
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    /// How many leftovers of interrupted (or running) operations there are.
    pub fn leftovers(&self) -> Result<usize> {
        let mut n = 0;
        for dir in [self.paths.ingest(), self.paths.tmp(), self.paths.trash()] {
            n += count_entries(&dir)?;
        }
        Ok(n)
    }
}

fn count_entries(dir: &std::path::Path) -> Result<usize> {
    Ok(fsutil::dir_entries(dir)?.len())
}
