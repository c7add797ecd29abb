//! Unpacked layers, kept once per chain ID and shared by every image that has them.
//!
//! In overlay mode (the default when running as root on a kernel with overlayfs)
//! `snapshots/<chain-hex>/` holds one layer's content with overlayfs whiteouts, and
//! a root file system is the stack of an image's snapshots as lower directories.
//! In copy mode (the fallback) each snapshot is the whole flattened tree up to that
//! layer. A snapshot is unpacked in `tmp/` and renamed into place when complete,
//! so a crash never leaves a partial one under its real name.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use strata_oci::{chain_ids, Descriptor, Digest};
use strata_store::{fsutil, Store};

use crate::apply::{Applier, ApplyOptions, WhiteoutMode};
use crate::error::{Error, Result};
use crate::ingest::{ingest_raw, Visit};

/// How snapshots are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnapshotMode {
    /// One layer per snapshot, overlayfs whiteouts; stacked with overlay mounts.
    Overlay,
    /// Each snapshot a complete flattened tree.
    Copy,
}

impl SnapshotMode {
    fn as_str(self) -> &'static str {
        match self {
            SnapshotMode::Overlay => "overlay",
            SnapshotMode::Copy => "copy",
        }
    }

    /// Overlay when this process can create overlay whiteouts and mount overlayfs.
    pub fn detect() -> Self {
        let root = rustix::process::geteuid().is_root();
        let overlay = fs::read_to_string("/proc/filesystems")
            .map(|s| s.lines().any(|l| l.trim_end().ends_with("overlay")))
            .unwrap_or(false);
        if root && overlay {
            SnapshotMode::Overlay
        } else {
            SnapshotMode::Copy
        }
    }
}

/// The snapshots of one store.
#[derive(Debug, Clone)]
pub struct Snapshots {
    dir: PathBuf,
    tmp: PathBuf,
    trash: PathBuf,
    mode: SnapshotMode,
}

/// A layer to unpack: its blob and its diff_id.
#[derive(Debug, Clone)]
pub struct LayerRef {
    /// The layer blob.
    pub blob: Descriptor,
    /// The uncompressed digest the config promises.
    pub diff_id: Digest,
}

impl Snapshots {
    /// The snapshots of `store`. The mode is chosen once, when the first snapshot
    /// directory is set up, and kept in `snapshots/mode`.
    pub fn open(store: &Store, preferred: Option<SnapshotMode>) -> Result<Snapshots> {
        let paths = store.paths();
        let dir = paths.snapshots();
        let mode_file = dir.join("mode");
        let mode = match fs::read_to_string(&mode_file) {
            Ok(s) if s.trim() == "overlay" => SnapshotMode::Overlay,
            Ok(s) if s.trim() == "copy" => SnapshotMode::Copy,
            Ok(s) => {
                return Err(Error::Unsupported(format!(
                    "snapshot mode {:?} in {}",
                    s.trim(),
                    mode_file.display()
                )))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let mode = preferred.unwrap_or_else(SnapshotMode::detect);
                fsutil::write_atomic(&mode_file, mode.as_str().as_bytes())?;
                mode
            }
            Err(e) => return Err(Error::io("read", mode_file)(e)),
        };
        Ok(Snapshots {
            dir,
            tmp: paths.tmp(),
            trash: paths.trash(),
            mode,
        })
    }

    /// The layout in use.
    pub fn mode(&self) -> SnapshotMode {
        self.mode
    }

    /// The directory of a committed snapshot.
    pub fn path(&self, chain_id: &Digest) -> PathBuf {
        self.dir.join(chain_id.hex())
    }

    /// True when the snapshot is committed.
    pub fn exists(&self, chain_id: &Digest) -> bool {
        self.path(chain_id).is_dir()
    }

    /// A fresh empty directory on the store's file system to unpack into.
    pub fn staging(&self) -> Result<PathBuf> {
        let p = self.tmp.join(fsutil::unique_name("snapshot-"));
        fs::create_dir(&p).map_err(Error::io("create", &p))?;
        Ok(p)
    }

    /// Moves a complete staging directory into place as `chain_id`. If another
    /// process got there first, the staging copy is discarded.
    pub fn commit(&self, staging: &Path, chain_id: &Digest) -> Result<()> {
        let target = self.path(chain_id);
        // Everything unpacked reaches the disk before the snapshot gets its name,
        // so a power loss cannot leave a named snapshot with missing content.
        let dir = std::fs::File::open(staging).map_err(Error::io("open", staging))?;
        rustix::fs::syncfs(&dir).map_err(|e| Error::io("sync", staging)(e.into()))?;
        match fs::rename(staging, &target) {
            Ok(()) => fsutil::sync_dir(&self.dir).map_err(Error::from),
            Err(e) if target.is_dir() => {
                tracing::debug!("snapshot {chain_id} appeared concurrently: {e}");
                self.discard(staging)
            }
            Err(e) => Err(Error::io("rename", target)(e)),
        }
    }

    /// Removes a staging directory that will not be committed.
    pub fn discard(&self, staging: &Path) -> Result<()> {
        fsutil::remove_tree_atomically(staging, &self.trash).map_err(Error::from)
    }

    /// Removes a committed snapshot.
    pub fn remove(&self, chain_id: &Digest) -> Result<()> {
        fsutil::remove_tree_atomically(&self.path(chain_id), &self.trash).map_err(Error::from)
    }

    /// Chain IDs of every committed snapshot.
    pub fn list(&self) -> Result<Vec<Digest>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(Error::io("read directory", &self.dir))? {
            let entry = entry.map_err(Error::io("read directory", &self.dir))?;
            if let Some(d) = entry
                .file_name()
                .to_str()
                .and_then(|n| Digest::new(strata_oci::Algorithm::Sha256, n).ok())
            {
                out.push(d);
            }
        }
        out.sort();
        Ok(out)
    }

    /// The directories overlayfs stacks for an image (topmost first), in overlay mode.
    pub fn lower_dirs(&self, diff_ids: &[Digest]) -> Vec<PathBuf> {
        chain_ids(diff_ids)
            .iter()
            .rev()
            .map(|c| self.path(c))
            .collect()
    }

    /// Makes sure every prefix of `layers` is unpacked, reading blobs from `store`.
    /// Each blob is verified (digest, diff_id) and checked entry by entry while it
    /// is applied. Returns the chain IDs that were created.
    pub fn unpack(&self, store: &Store, layers: &[LayerRef]) -> Result<Vec<Digest>> {
        let diff_ids: Vec<Digest> = layers.iter().map(|l| l.diff_id.clone()).collect();
        let chains = chain_ids(&diff_ids);
        let mut created = Vec::new();
        for (i, chain) in chains.iter().enumerate() {
            if self.exists(chain) {
                continue;
            }
            let staging = self.staging()?;
            let result = match self.mode {
                SnapshotMode::Overlay => {
                    let mut opts = ApplyOptions::new(WhiteoutMode::Overlay);
                    opts.lowers = chains[..i].iter().rev().map(|c| self.path(c)).collect();
                    apply_blob(store, &layers[i], &staging, opts)
                }
                SnapshotMode::Copy => layers[..=i].iter().try_for_each(|l| {
                    apply_blob(store, l, &staging, ApplyOptions::new(WhiteoutMode::Apply))
                }),
            };
            match result {
                Ok(()) => self.commit(&staging, chain)?,
                Err(e) => {
                    let _ = self.discard(&staging);
                    return Err(e);
                }
            }
            created.push(chain.clone());
        }
        Ok(created)
    }
}

fn apply_blob(store: &Store, layer: &LayerRef, root: &Path, opts: ApplyOptions) -> Result<()> {
    let blob = store.content().open(&layer.blob.digest)?;
    let mut applier = Applier::new(root, opts)?;
    let stats = ingest_raw(blob, &mut io::sink(), Visit::Apply(&mut applier))?;
    if stats.diff_id != layer.diff_id {
        return Err(Error::DiffIdMismatch {
            blob: layer.blob.digest.clone(),
            expected: layer.diff_id.clone(),
            actual: stats.diff_id,
        });
    }
    applier.finish()?;
    Ok(())
}
