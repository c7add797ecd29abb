//! Reading and changing one inode through a descriptor pinned to it.
//!
//! A tree may be live and hostile (a running container's root): any name in it
//! can be swapped for a symlink or a device node between two system calls. So a
//! name is looked up once, `O_PATH | O_NOFOLLOW` (which follows nothing and opens
//! nothing for I/O: no FIFO blocks, no driver's `open` runs), the descriptor is
//! checked with `fstat`, and everything after goes through it. What has no
//! descriptor form on an `O_PATH` descriptor (`chmod` before Linux 6.6's
//! `fchmodat2`, times, reopening for reading) goes through `/proc/self/fd/N`,
//! which names exactly that inode, as glibc's `fchmodat(AT_SYMLINK_NOFOLLOW)`
//! emulation does.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::OnceLock;

use rustix::fs::{AtFlags, FileType, Gid, Mode, OFlags, Stat, Timestamps, Uid};

/// procfs' `f_type`.
pub(crate) const PROC_SUPER_MAGIC: i64 = 0x9fa0;

/// `/proc/self/fd`, checked to be procfs: a directory mounted over it would
/// otherwise redirect every operation made through it.
fn proc_self_fd() -> io::Result<BorrowedFd<'static>> {
    static DIR: OnceLock<OwnedFd> = OnceLock::new();
    if let Some(fd) = DIR.get() {
        return Ok(fd.as_fd());
    }
    let fd = rustix::fs::open(
        "/proc/self/fd",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    #[allow(clippy::useless_conversion)] // f_type's width differs by architecture
    let kind = i64::from(rustix::fs::fstatfs(&fd)?.f_type);
    if kind != PROC_SUPER_MAGIC {
        return Err(io::Error::other("/proc/self/fd is not procfs"));
    }
    Ok(DIR.get_or_init(|| fd).as_fd())
}

/// The name of `fd` in `/proc/self/fd`.
fn fd_name(fd: &OwnedFd) -> String {
    fd.as_raw_fd().to_string()
}

fn changed() -> io::Error {
    io::Error::other("changed while in use (replaced by something else)")
}

/// `name` in `dir`, never followed, as an `O_PATH` descriptor, with its `fstat`;
/// refused unless it is a `ft` (a symlink swapped in is refused, not followed).
pub(crate) fn open_as(dir: impl AsFd, name: &OsStr, ft: FileType) -> io::Result<(OwnedFd, Stat)> {
    let fd = rustix::fs::openat(
        dir,
        name,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let st = rustix::fs::fstat(&fd)?;
    if FileType::from_raw_mode(st.st_mode) != ft {
        return Err(changed());
    }
    Ok((fd, st))
}

/// Opens `name` in `dir` for reading, only if it still is the regular file
/// `expected` describes (same device, inode and size): nothing else, a FIFO or a
/// device node swapped in after `expected` was taken, is ever opened for I/O.
pub(crate) fn open_regular(dir: impl AsFd, name: &OsStr, expected: &Stat) -> io::Result<File> {
    let (fd, st) = open_as(dir, name, FileType::RegularFile)?;
    if (st.st_dev, st.st_ino, st.st_size) != (expected.st_dev, expected.st_ino, expected.st_size) {
        return Err(changed());
    }
    let file = rustix::fs::openat(
        proc_self_fd()?,
        fd_name(&fd),
        OFlags::RDONLY | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    Ok(File::from(file))
}

/// Gives the node (FIFO or device, never a symlink) just made as `name` in
/// `parent` its owner (when `owner` is given), mode and times, through a
/// descriptor of that very node: refused if the name no longer is a `ft`, so a
/// symlink swapped in can never redirect the change to another file.
pub(crate) fn set_node_meta(
    parent: impl AsFd,
    name: &OsStr,
    ft: FileType,
    owner: Option<(u32, u32)>,
    mode: u32,
    times: &Timestamps,
) -> io::Result<()> {
    if ft == FileType::Symlink {
        // A magic link to a symlink is no place to chmod through.
        return Err(io::Error::from(io::ErrorKind::Unsupported));
    }
    let (fd, _) = open_as(parent, name, ft)?;
    if let Some((uid, gid)) = owner {
        rustix::fs::chownat(
            &fd,
            "",
            Some(Uid::from_raw(uid)),
            Some(Gid::from_raw(gid)),
            AtFlags::EMPTY_PATH,
        )?;
    }
    let proc = proc_self_fd()?;
    let name = fd_name(&fd);
    // After chown, which clears set-id bits.
    rustix::fs::chmodat(proc, &name, Mode::from_raw_mode(mode), AtFlags::empty())?;
    rustix::fs::utimensat(proc, &name, times, AtFlags::empty())?;
    Ok(())
}
