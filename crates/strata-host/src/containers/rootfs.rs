//! A container's root file system: overlayfs over the image's shared snapshots
//! with the container's own upper directory, or (copy mode) a private copy.

use std::fs;
use std::io::Read;
use std::path::Path;

use rustix::mount::UnmountFlags;
use strata_snapshot::apply::{apply_layer, ApplyOptions, WhiteoutMode};
use strata_snapshot::create::{write_dir, CreateOptions};
use strata_snapshot::snapshots::SnapshotMode;

use crate::error::{Error, Result};
use crate::host::Host;
use crate::image::Image;

impl Host {
    /// Prepares the writable layer at create time (copy mode copies the image now).
    pub(crate) fn prepare_rootfs(&self, dir: &Path, image: &Image) -> Result<()> {
        for d in ["rootfs", "upper", "work"] {
            fs::create_dir_all(dir.join(d)).map_err(Error::io("create", dir.join(d)))?;
        }
        if self.snapshots.mode() == SnapshotMode::Copy {
            let layers = self.layers(image)?;
            if let Some(top) = layers.last() {
                let tree = self.snapshots.path(&top.chain_id);
                let target = dir.join("rootfs");
                // Through the layer codec: tar out of the snapshot, apply in; every
                // path is resolved inside the new root.
                let (reader, writer) = std::io::pipe().map_err(Error::io("pipe", &tree))?;
                std::thread::scope(|s| {
                    let producer = s.spawn(move || {
                        write_dir(&tree, writer, &CreateOptions::default()).map(drop)
                    });
                    let applied =
                        apply_layer(reader, &target, ApplyOptions::new(WhiteoutMode::Apply));
                    let produced = producer.join().map_err(|_| {
                        Error::Unsupported("copying the image tree panicked".into())
                    })?;
                    produced?;
                    applied.map(drop).map_err(Error::from)
                })?;
            }
        }
        Ok(())
    }

    /// Mounts the root file system (overlay mode); a no-op when already mounted
    /// or in copy mode.
    pub(crate) fn mount_rootfs(&self, dir: &Path, image: &Image) -> Result<()> {
        if self.snapshots.mode() == SnapshotMode::Copy || is_mountpoint(&dir.join("rootfs")) {
            return Ok(());
        }
        let mut lower = self.snapshots.lower_dirs(&image.config.rootfs.diff_ids);
        if lower.is_empty() {
            // An image with no layers: an empty lower directory.
            let empty = dir.join("empty");
            fs::create_dir_all(&empty).map_err(Error::io("create", &empty))?;
            lower.push(empty);
        }
        let (upper, work) = (dir.join("upper"), dir.join("work"));
        crate::overlay::mount(&dir.join("rootfs"), &lower, Some((&upper, &work)))
    }

    /// Unmounts the root file system if mounted.
    pub(crate) fn unmount_rootfs(&self, dir: &Path) -> Result<()> {
        let target = dir.join("rootfs");
        if self.snapshots.mode() == SnapshotMode::Copy || !is_mountpoint(&target) {
            return Ok(());
        }
        rustix::mount::unmount(&target, UnmountFlags::DETACH)
            .map_err(|e| Error::io("unmount", &target)(e.into()))
    }
}

/// True when `path` is a mount point (the kernel's mount table lists it).
pub(crate) fn is_mountpoint(path: &Path) -> bool {
    let want = path.display().to_string();
    strata_store::fsutil::mount_points().contains(&want)
}

/// Reads a small file of the container's root file system, resolving the path
/// inside it (the image's `/etc/passwd` may be a symlink to anywhere).
pub(crate) fn read_in_root(root: &Path, rel: &str, limit: u64) -> Option<String> {
    // Only a regular file is opened: a device node would run its driver on
    // the host, a FIFO would block.
    let (file, _) = crate::inroot::open_file(root, rel).ok()??;
    let mut s = String::new();
    file.take(limit).read_to_string(&mut s).ok()?;
    Some(s)
}
