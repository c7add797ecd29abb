//! A build step's root file system: overlayfs over the parent state's
//! snapshots, with a fresh upper directory that becomes the step's layer and,
//! renamed, its snapshot (no second unpack of what the step wrote).

use std::fs;
use std::path::{Path, PathBuf};

use rustix::mount::UnmountFlags;
use strata_build::Layer;
use strata_oci::{chain_ids, digest::DigestWriter, Algorithm, Descriptor};
use strata_snapshot::compression::Compressor;
use strata_snapshot::create::CreateOptions;
use strata_snapshot::diff::write_overlay_upper;
use strata_snapshot::snapshots::{LayerRef, SnapshotMode};
use strata_store::{fsutil, Expected, LayerInfo};

use crate::error::{Error, Result};
use crate::host::Host;

/// A mounted root file system for one step.
#[derive(Debug)]
pub(crate) struct WorkTree<'h> {
    host: &'h Host,
    parent: Vec<Layer>,
    /// Holds `merged/` and `work/`.
    dir: PathBuf,
    /// The upper directory: a snapshot staging directory.
    upper: PathBuf,
    mounted: bool,
}

impl<'h> WorkTree<'h> {
    /// Unpacks what `parent` needs and mounts it with a fresh upper directory.
    pub fn mount(host: &'h Host, parent: &[Layer]) -> Result<WorkTree<'h>> {
        if host.snapshots.mode() != SnapshotMode::Overlay {
            return Err(Error::Unsupported(
                "building needs overlay snapshots (run as root on a kernel with overlayfs)".into(),
            ));
        }
        ensure_unpacked(host, parent)?;
        let dir = host.store.paths().tmp().join(fsutil::unique_name("build-"));
        for d in ["merged", "work", "empty"] {
            fs::create_dir_all(dir.join(d)).map_err(Error::io("create", dir.join(d)))?;
        }
        let upper = host.snapshots.staging()?;
        let mut tree = WorkTree {
            host,
            parent: parent.to_vec(),
            dir,
            upper,
            mounted: false,
        };
        let mut lower = lower_dirs(host, parent);
        if lower.is_empty() {
            lower.push(tree.dir.join("empty"));
        }
        let work = tree.dir.join("work");
        crate::overlay::mount(&tree.merged(), &lower, Some((&tree.upper, &work)))?;
        tree.mounted = true;
        Ok(tree)
    }

    /// The merged root file system.
    pub fn merged(&self) -> PathBuf {
        self.dir.join("merged")
    }

    /// A scratch directory beside the mount (for bundles and such).
    pub fn scratch(&self, name: &str) -> Result<PathBuf> {
        let p = self.dir.join(name);
        fs::create_dir_all(&p).map_err(Error::io("create", &p))?;
        Ok(p)
    }

    /// Unmounts and turns the upper directory into a layer in the store and a
    /// snapshot; `None` when nothing changed.
    pub fn commit(mut self, clamp_mtime: Option<u64>) -> Result<Option<Layer>> {
        self.unmount()?;
        let empty = fs::read_dir(&self.upper)
            .map_err(Error::io("read", &self.upper))?
            .next()
            .is_none();
        if empty {
            return Ok(None);
        }
        let host = self.host;
        let blob = host.store.content().writer()?;
        let compressor = Compressor::new(blob, host.config.compression, host.config.threads);
        let hashing = DigestWriter::new(compressor, Algorithm::Sha256);
        let opts = CreateOptions { clamp_mtime };
        let hashing = write_overlay_upper(&self.upper, hashing, &opts)?;
        let (compressor, diff_id, size) = hashing.finish();
        let blob = compressor
            .finish()
            .map_err(|e| Error::Layer(strata_snapshot::Error::Write(e)))?;
        let info = blob.commit(Expected::default())?;
        let media = host.config.compression.kind().oci_media_type();
        host.note_layer(
            &info.digest,
            media,
            LayerInfo {
                diff_id: diff_id.clone(),
                size,
            },
        )?;
        let mut diff_ids: Vec<_> = self.parent.iter().map(|l| l.diff_id.clone()).collect();
        diff_ids.push(diff_id.clone());
        let chain = chain_ids(&diff_ids)
            .pop()
            .unwrap_or_else(|| diff_id.clone());
        if host.snapshots.exists(&chain) {
            host.snapshots.discard(&self.upper)?;
        } else {
            host.snapshots.commit(&self.upper, &chain)?;
        }
        Ok(Some(Layer {
            diff_id,
            blob: Descriptor::new(media.to_owned(), info.digest, info.size),
        }))
    }

    fn unmount(&mut self) -> Result<()> {
        if self.mounted {
            let merged = self.merged();
            rustix::mount::unmount(&merged, UnmountFlags::DETACH)
                .map_err(|e| Error::io("unmount", &merged)(e.into()))?;
            self.mounted = false;
        }
        Ok(())
    }
}

impl Drop for WorkTree<'_> {
    fn drop(&mut self) {
        let _ = self.unmount();
        // Source views and bind-mount helpers a failed step left mounted in
        // the scratch: detached before anything is removed.
        strata_store::fsutil::unmount_below(&self.dir);
        if self.upper.exists() {
            let _ = self.host.snapshots.discard(&self.upper);
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Makes sure every snapshot `layers` stack needs exists (the build cache may
/// hold layers whose snapshots were removed since).
pub(crate) fn ensure_unpacked(host: &Host, layers: &[Layer]) -> Result<()> {
    let refs: Vec<LayerRef> = layers
        .iter()
        .map(|l| LayerRef {
            blob: l.blob.clone(),
            diff_id: l.diff_id.clone(),
        })
        .collect();
    host.snapshots.unpack(&host.store, &refs)?;
    Ok(())
}

/// The snapshot directories of `layers`, topmost first (overlay's order).
fn lower_dirs(host: &Host, layers: &[Layer]) -> Vec<PathBuf> {
    let diff_ids: Vec<_> = layers.iter().map(|l| l.diff_id.clone()).collect();
    host.snapshots.lower_dirs(&diff_ids)
}

/// Mounts a read-only view of `layers` at `target` (sources of other stages),
/// with `empty` (an empty directory) as the bottom layer; returns false (and
/// mounts nothing) when there are no layers.
pub(crate) fn mount_layers_ro(
    host: &Host,
    layers: &[Layer],
    target: &Path,
    empty: &Path,
) -> Result<bool> {
    ensure_unpacked(host, layers)?;
    let mut lower = lower_dirs(host, layers);
    fs::create_dir_all(target).map_err(Error::io("create", target))?;
    if lower.is_empty() {
        return Ok(false);
    }
    // Overlay without an upper directory needs two lowers; the mount is read-only.
    fs::create_dir_all(empty).map_err(Error::io("create", empty))?;
    lower.push(empty.to_path_buf());
    crate::overlay::mount(target, &lower, None)?;
    Ok(true)
}

/// Unmounts what [`mount_layers_ro`] mounted.
pub(crate) fn unmount(target: &Path) {
    let _ = rustix::mount::unmount(target, UnmountFlags::DETACH);
}
