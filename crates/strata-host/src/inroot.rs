//! Paths looked up inside a directory tree as if it were `/`: symlinks,
//! absolute ones included, never lead out of it (`openat2(RESOLVE_IN_ROOT)`).
//! The host reads image, container and build-context files through these,
//! and opens a file for I/O only once it is pinned and known to be regular
//! (opening a FIFO blocks; opening a device runs its driver on the host).

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{FileType, Mode, OFlags, ResolveFlags};

/// The tree's root directory, pinned `O_PATH`.
pub(crate) fn open_root(root: &Path) -> io::Result<OwnedFd> {
    Ok(rustix::fs::open(
        root,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?)
}

/// `rel` inside the tree `dir` roots, pinned `O_PATH` (`extra`: e.g.
/// `DIRECTORY`, or `NOFOLLOW` for a final symlink itself). An empty `rel` is
/// the root.
pub(crate) fn pin(dir: &OwnedFd, rel: &str, extra: OFlags) -> io::Result<OwnedFd> {
    let rel = rel.trim_start_matches('/');
    Ok(rustix::fs::openat2(
        dir,
        if rel.is_empty() { "." } else { rel },
        OFlags::PATH | OFlags::CLOEXEC | extra,
        Mode::empty(),
        ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
    )?)
}

/// Opens a pinned file for reading, through its descriptor (no new lookup).
pub(crate) fn reopen(pinned: &OwnedFd) -> io::Result<File> {
    File::open(format!("/proc/self/fd/{}", pinned.as_raw_fd()))
}

/// The real path of a pinned entry, as the kernel names it.
pub(crate) fn real_path(pinned: &OwnedFd) -> io::Result<PathBuf> {
    std::fs::read_link(format!("/proc/self/fd/{}", pinned.as_raw_fd()))
}

/// Opens `path` for reading if it is a regular file: pinned first, checked,
/// then opened. Returns it with its size; anything but a regular file is an
/// `InvalidInput` error naming what it is not.
pub(crate) fn open_regular(pinned: &OwnedFd) -> io::Result<(File, u64)> {
    let st = rustix::fs::fstat(pinned)?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok((
        reopen(pinned)?,
        u64::try_from(st.st_size).unwrap_or(u64::MAX),
    ))
}

/// Opens file `rel` of the tree at `root` for reading (see [`open_regular`]);
/// `None` when it does not exist.
pub(crate) fn open_file(root: &Path, rel: &str) -> io::Result<Option<(File, u64)>> {
    let dir = open_root(root)?;
    match pin(&dir, rel, OFlags::empty()) {
        Ok(fd) => open_regular(&fd).map(Some),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}
