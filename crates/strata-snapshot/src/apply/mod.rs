//! Applying a layer onto a directory, with whiteout semantics, safely.
//!
//! Two modes for layers. [`WhiteoutMode::Apply`] flattens: whiteouts delete from
//! the tree, opaque markers empty a directory of everything this layer did not
//! create (what `docker export` or a copy-based snapshot needs).
//! [`WhiteoutMode::Overlay`] writes the layer alone into an empty directory,
//! recording whiteouts the way overlayfs reads them (a 0/0 character device;
//! `trusted.overlay.opaque=y`), so snapshots stack as overlay lower directories.
//! A third, [`WhiteoutMode::Literal`], is for archives that are not layers (`cp`):
//! `.wh.*` names are ordinary files there.
//!
//! Every entry first passes the [`Guard`]; then every path is resolved inside the
//! root (see `fsops`), so even a symlink planted by a lower layer cannot redirect
//! a write to the host. A node's metadata is set through a descriptor of that
//! node (see `pinned`): the tree may be live, and a name swapped for a symlink
//! is never followed.

mod entry;
pub use entry::OVERLAY_OPAQUE;
pub(crate) mod fsops;
pub(crate) mod pinned;

use std::collections::HashSet;
use std::io::Read;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::guard::{Guard, DEFAULT_MAX_ENTRY_SIZE};
use fsops::Root;

/// How whiteouts are realised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhiteoutMode {
    /// Delete whited-out paths from the tree being applied onto.
    Apply,
    /// Record whiteouts as overlayfs does, in a directory holding this layer only.
    Overlay,
    /// No whiteouts: `.wh.*` entries are files like any other (not a layer).
    Literal,
}

/// A wait for the lower layers to be complete; an error aborts the application.
#[derive(Clone)]
pub struct LowersGate(pub std::sync::Arc<dyn Fn() -> std::io::Result<()> + Send + Sync>);

impl std::fmt::Debug for LowersGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LowersGate")
    }
}

/// Options of one application.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// How whiteouts are realised.
    pub mode: WhiteoutMode,
    /// Entries larger than this are refused.
    pub max_entry_size: u64,
    /// Overlay mode: the parent snapshots' directories, nearest first, searched when
    /// a hard link targets a file from a lower layer (it is copied up first).
    pub lowers: Vec<PathBuf>,
    /// Overlay mode: called before `lowers` are first read, so a layer unpacked
    /// alongside its parents (a parallel pull) waits until they are complete.
    pub lowers_ready: Option<LowersGate>,
    /// Every entry gets this owner (uid, gid) instead of the archive's.
    pub owner: Option<(u32, u32)>,
    /// Every entry gets these permission bits (`0o777`) instead of the
    /// archive's; set-id and sticky bits stay as the archive has them
    /// (`COPY --chmod`, as BuildKit applies it).
    pub chmod: Option<u32>,
    /// Refuse to replace an existing directory with a non-directory or the
    /// reverse (Docker's `NoOverwriteDirNonDir`), instead of replacing it.
    pub no_overwrite_dir_non_dir: bool,
    /// Clear set-user-ID and set-group-ID bits.
    pub strip_setid: bool,
    /// Drop `security.*` and `trusted.*` extended attributes (file
    /// capabilities, security labels).
    pub drop_privileged_xattrs: bool,
    /// Create no character or block device nodes (nor hard links to them);
    /// they are counted in [`ApplyStats::skipped_devices`]. FIFOs are created.
    pub skip_devices: bool,
}

impl ApplyOptions {
    /// Options for a mode, with the default size limit and no lowers.
    pub fn new(mode: WhiteoutMode) -> Self {
        ApplyOptions {
            mode,
            max_entry_size: DEFAULT_MAX_ENTRY_SIZE,
            lowers: Vec::new(),
            lowers_ready: None,
            owner: None,
            chmod: None,
            no_overwrite_dir_non_dir: false,
            strip_setid: false,
            drop_privileged_xattrs: false,
            skip_devices: false,
        }
    }
}

/// What an application did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyStats {
    /// Entries applied (including whiteouts).
    pub entries: u64,
    /// Bytes of regular file content written.
    pub bytes: u64,
    /// Device nodes (and hard links to them) not created: ruled out by
    /// [`ApplyOptions::skip_devices`], or the process may not create them.
    pub skipped_devices: u64,
}

/// Applies one layer's entries, in order, onto a root directory.
#[derive(Debug)]
pub struct Applier {
    root: Root,
    opts: ApplyOptions,
    guard: Guard,
    created: HashSet<PathBuf>,
    /// Entries not created (device nodes), so hard links to them are not either.
    withheld: HashSet<PathBuf>,
    dir_times: Vec<(PathBuf, u64)>,
    opaque: Vec<PathBuf>,
    privileged: bool,
    buf: Vec<u8>,
    stats: ApplyStats,
    /// Called right after a node is made (tests: a hostile tree's swap).
    #[cfg(test)]
    after_mknod: Option<fn(&OwnedFd, &std::ffi::OsStr)>,
}

impl Applier {
    /// Prepares to apply onto `root`, which must exist.
    pub fn new(root: &Path, opts: ApplyOptions) -> Result<Applier> {
        let root = Root::open(root).map_err(Error::io("open", root))?;
        Ok(Applier::with_root(root, opts))
    }

    /// Prepares to apply onto a directory the caller already opened (`O_PATH`
    /// is enough), so its path is not looked up again; `path` only names it in
    /// errors.
    pub fn from_fd(dir: OwnedFd, path: &Path, opts: ApplyOptions) -> Applier {
        Applier::with_root(Root::from_fd(dir, path), opts)
    }

    fn with_root(root: Root, opts: ApplyOptions) -> Applier {
        let mut guard = Guard::new(opts.max_entry_size);
        if opts.mode == WhiteoutMode::Literal {
            guard = guard.without_whiteouts();
        }
        Applier {
            root,
            guard,
            opts,
            created: HashSet::new(),
            withheld: HashSet::new(),
            dir_times: Vec::new(),
            opaque: Vec::new(),
            privileged: rustix::process::geteuid().is_root(),
            buf: vec![0; 256 * 1024],
            stats: ApplyStats::default(),
            #[cfg(test)]
            after_mknod: None,
        }
    }

    /// Applies one entry (checked by the guard first).
    pub fn apply<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<()> {
        let checked = self.guard.check(entry)?;
        self.apply_checked(entry, checked)
    }

    /// Finishes: realises opaque markers (apply mode) and restores directory times.
    pub fn finish(mut self) -> Result<ApplyStats> {
        for dir in std::mem::take(&mut self.opaque) {
            self.empty_lower_content(&dir)?;
        }
        for (dir, mtime) in std::mem::take(&mut self.dir_times).into_iter().rev() {
            entry::set_dir_mtime(&self.root, &dir, mtime)?;
        }
        Ok(self.stats)
    }

    /// Deletes everything below `dir` that this layer did not create.
    fn empty_lower_content(&self, dir: &Path) -> Result<()> {
        let fd = match self.root.open_in(
            dir,
            rustix::fs::OFlags::RDONLY
                | rustix::fs::OFlags::DIRECTORY
                | rustix::fs::OFlags::NOFOLLOW,
        ) {
            Ok(fd) => fd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io("open", self.root.path().join(dir))(e)),
        };
        let names = fsops::list_dir(&fd)
            .map_err(Error::io("read directory", self.root.path().join(dir)))?;
        for name in names {
            let child = dir.join(&name);
            if !self.created.contains(&child) {
                fsops::remove_at(&fd, &name)
                    .map_err(Error::io("remove", self.root.path().join(&child)))?;
                continue;
            }
            let st = fsops::lstat_at(&fd, &name)
                .map_err(Error::io("stat", self.root.path().join(&child)))?;
            if st.as_ref().is_some_and(fsops::is_dir) {
                self.empty_lower_content(&child)?;
            }
        }
        Ok(())
    }
}

/// Reads a whole (uncompressed) tar stream and applies it onto `root`.
pub fn apply_layer<R: Read>(tar_stream: R, root: &Path, opts: ApplyOptions) -> Result<ApplyStats> {
    let mut applier = Applier::new(root, opts)?;
    let mut archive = tar::Archive::new(tar_stream);
    for entry in archive.entries().map_err(Error::Malformed)? {
        let mut entry = entry.map_err(Error::Malformed)?;
        applier.apply(&mut entry)?;
    }
    applier.finish()
}

#[cfg(test)]
mod tests;
