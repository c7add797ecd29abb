//! Reading a directory tree that someone else may be changing while we read it.
//!
//! Every lookup is `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)` from the tree's
//! root descriptor, files are pinned `O_PATH | O_NOFOLLOW` and checked with
//! `fstat` before they are opened for reading (see `apply::pinned`), and
//! metadata comes from `statat(AT_SYMLINK_NOFOLLOW)`. So swapping a
//! file or a directory for a symlink mid-walk makes the read fail; it can never
//! make it read `/etc/shadow` into an image.

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags, Stat};

use crate::apply::{fsops, pinned};
use crate::error::{Error, Result};

/// A directory tree read through its root descriptor.
#[derive(Debug)]
pub(crate) struct Tree {
    root: OwnedFd,
    path: PathBuf,
    /// The directory last looked up as a parent, kept pinned: a walk asks for
    /// the same parent once per entry, and one lookup serves them all.
    last_dir: Mutex<Option<(PathBuf, Arc<OwnedFd>)>>,
}

fn resolve_flags() -> ResolveFlags {
    ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS
}

impl Tree {
    /// Opens the tree at `path` (the path itself may be a symlink: the caller named it).
    pub(crate) fn open(path: &Path) -> Result<Tree> {
        let root = rustix::fs::open(
            path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::io("open", path)(e.into()))?;
        Ok(Tree {
            root,
            path: path.to_path_buf(),
            last_dir: Mutex::new(None),
        })
    }

    /// A tree from a descriptor of its root the caller already holds; `path`
    /// only names it in errors.
    pub(crate) fn from_fd(root: OwnedFd, path: &Path) -> Tree {
        Tree {
            root,
            path: path.to_path_buf(),
            last_dir: Mutex::new(None),
        }
    }

    fn err(&self, op: &'static str, rel: &Path) -> impl FnOnce(io::Error) -> Error {
        Error::io(op, self.path.join(rel))
    }

    fn resolve(&self, rel: &Path, flags: OFlags) -> io::Result<OwnedFd> {
        let rel = if rel.as_os_str().is_empty() {
            Path::new(".")
        } else {
            rel
        };
        Ok(rustix::fs::openat2(
            &self.root,
            rel,
            flags | OFlags::CLOEXEC,
            Mode::empty(),
            resolve_flags(),
        )?)
    }

    /// The directory `parent`, pinned `O_PATH`: the one looked up last when it
    /// is the same (a descriptor keeps naming the directory it was opened on).
    fn parent_dir(&self, parent: &Path) -> io::Result<Arc<OwnedFd>> {
        let mut last = self.last_dir.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((p, fd)) = last.as_ref() {
            if p == parent {
                return Ok(fd.clone());
            }
        }
        let fd = Arc::new(self.resolve(parent, OFlags::PATH | OFlags::DIRECTORY)?);
        *last = Some((parent.to_path_buf(), fd.clone()));
        Ok(fd)
    }

    /// `lstat` of an entry (the root itself for the empty path).
    pub(crate) fn lstat(&self, rel: &Path) -> Result<Stat> {
        let Some((parent, name)) = fsops::split(rel) else {
            return rustix::fs::fstat(&self.root).map_err(|e| self.err("stat", rel)(e.into()));
        };
        let dir = self.parent_dir(parent).map_err(self.err("open", parent))?;
        rustix::fs::statat(&*dir, name, AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| self.err("stat", rel)(e.into()))
    }

    /// `lstat`, or `None` when the entry does not exist.
    pub(crate) fn lstat_opt(&self, rel: &Path) -> Result<Option<Stat>> {
        match self.lstat(rel) {
            Ok(st) => Ok(Some(st)),
            Err(Error::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The names in a directory, sorted bytewise; none when it does not exist.
    pub(crate) fn list(&self, rel: &Path) -> Result<Vec<OsString>> {
        let dir = match self.resolve(rel, OFlags::RDONLY | OFlags::DIRECTORY) {
            Ok(fd) => fd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.err("open", rel)(e)),
        };
        let mut names = fsops::list_dir(&dir).map_err(self.err("read directory", rel))?;
        names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        Ok(names)
    }

    /// Opens a regular file, refusing anything else (a FIFO would block, a device
    /// would run its driver) and anything that changed since `expected` was taken:
    /// the entry is pinned `O_PATH` and checked before it is opened for reading.
    pub(crate) fn open_file(&self, rel: &Path, expected: &Stat) -> Result<File> {
        let (parent, name) = fsops::split(rel)
            .ok_or_else(|| self.err("open", rel)(io::Error::other("the root is a directory")))?;
        let dir = self.parent_dir(parent).map_err(self.err("open", parent))?;
        pinned::open_regular(&*dir, name, expected).map_err(self.err("open", rel))
    }

    /// A symlink's target.
    pub(crate) fn readlink(&self, rel: &Path) -> Result<PathBuf> {
        let (parent, name) = fsops::split(rel).ok_or_else(|| {
            self.err("read link", rel)(io::Error::other("the root is not a link"))
        })?;
        let dir = self.parent_dir(parent).map_err(self.err("open", parent))?;
        let target = rustix::fs::readlinkat(&*dir, name, Vec::new())
            .map_err(|e| self.err("read link", rel)(e.into()))?;
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(
            target.as_bytes(),
        )))
    }

    /// Extended attributes of a regular file or directory, without overlayfs'
    /// own. Other kinds carry none we read: reading them would mean opening a
    /// FIFO or a device, and nothing is opened for I/O unless checked to be the
    /// regular file or directory `st` describes.
    pub(crate) fn xattrs(&self, rel: &Path, st: &Stat) -> Result<Vec<(String, Vec<u8>)>> {
        if FileType::from_raw_mode(st.st_mode) == FileType::RegularFile {
            return self.file_xattrs(rel, &self.open_file(rel, st)?);
        }
        let fd: OwnedFd = match FileType::from_raw_mode(st.st_mode) {
            FileType::RegularFile => self.open_file(rel, st)?.into(),
            FileType::Directory => {
                // O_DIRECTORY fails before opening anything else.
                let fd = self
                    .resolve(rel, OFlags::RDONLY | OFlags::DIRECTORY)
                    .map_err(self.err("open", rel))?;
                let now = rustix::fs::fstat(&fd).map_err(|e| self.err("stat", rel)(e.into()))?;
                if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino) {
                    return Err(self.err("open", rel)(io::Error::other(
                        "changed while in use (replaced by something else)",
                    )));
                }
                fd
            }
            _ => return Ok(Vec::new()),
        };
        let mut out = fsops::fd_xattrs(&fd).map_err(self.err("read xattrs", rel))?;
        out.sort();
        Ok(out)
    }

    /// Extended attributes of regular file `rel`, opened by
    /// [`open_file`](Self::open_file), without overlayfs' own.
    pub(crate) fn file_xattrs(&self, rel: &Path, file: &File) -> Result<Vec<(String, Vec<u8>)>> {
        let mut out = fsops::fd_xattrs(file).map_err(self.err("read xattrs", rel))?;
        out.sort();
        Ok(out)
    }

    /// True when a directory is the kernel's view of itself (procfs, sysfs,
    /// cgroupfs): files whose sizes lie and whose contents are no one's data.
    pub(crate) fn is_kernel_fs(&self, rel: &Path) -> Result<bool> {
        const PROC: i64 = pinned::PROC_SUPER_MAGIC;
        const SYSFS: i64 = 0x6265_6572;
        const CGROUP: i64 = 0x0027_e0eb;
        const CGROUP2: i64 = 0x6367_7270;
        let fd = self
            .resolve(rel, OFlags::PATH | OFlags::DIRECTORY)
            .map_err(self.err("open", rel))?;
        let fs = rustix::fs::fstatfs(&fd).map_err(|e| self.err("stat", rel)(e.into()))?;
        #[allow(clippy::useless_conversion)] // f_type's width differs by architecture
        let kind = i64::from(fs.f_type);
        Ok(matches!(kind, PROC | SYSFS | CGROUP | CGROUP2))
    }

    /// True when a directory carries overlayfs' opaque marker.
    pub(crate) fn is_opaque(&self, rel: &Path) -> Result<bool> {
        let fd = self
            .resolve(rel, OFlags::RDONLY | OFlags::DIRECTORY)
            .map_err(self.err("open", rel))?;
        let mut v = [0u8; 4];
        match rustix::fs::fgetxattr(&fd, crate::apply::OVERLAY_OPAQUE, &mut v[..]) {
            Ok(n) => Ok(&v[..n] == b"y"),
            Err(rustix::io::Errno::NODATA | rustix::io::Errno::NOTSUP) => Ok(false),
            Err(e) => Err(self.err("read xattr", rel)(e.into())),
        }
    }
}

/// One entry met by [`walk`].
pub(crate) struct Entry {
    /// Path inside the tree.
    pub rel: PathBuf,
    /// Its `lstat`.
    pub stat: Stat,
}

/// Calls `f` for every entry below `rel`, sorted bytewise, parents before children.
pub(crate) fn walk(tree: &Tree, rel: &Path, f: &mut dyn FnMut(&Entry) -> Result<()>) -> Result<()> {
    walk_into(tree, rel, &|_| Ok(true), f)
}

/// [`walk`], descending only into the directories `descend` accepts (the
/// directory's own entry is still given to `f`).
pub(crate) fn walk_into(
    tree: &Tree,
    rel: &Path,
    descend: &dyn Fn(&Path) -> Result<bool>,
    f: &mut dyn FnMut(&Entry) -> Result<()>,
) -> Result<()> {
    // Depth first, each directory's entries before its next sibling, with an
    // explicit stack: a tree any depth deep (a hostile layer's) cannot
    // overflow the thread's stack.
    let mut stack: Vec<(PathBuf, std::vec::IntoIter<OsString>)> =
        vec![(rel.to_path_buf(), tree.list(rel)?.into_iter())];
    while let Some((dir, names)) = stack.last_mut() {
        let Some(name) = names.next() else {
            stack.pop();
            continue;
        };
        let child = dir.join(&name);
        let stat = tree.lstat(&child)?;
        let is_dir = FileType::from_raw_mode(stat.st_mode) == FileType::Directory;
        f(&Entry {
            rel: child.clone(),
            stat,
        })?;
        if is_dir && descend(&child)? {
            let names = tree.list(&child)?.into_iter();
            stack.push((child, names));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_read_through_a_symlink() {
        let t = strata_testkit::TempDir::new("tree");
        let root = t.join("root");
        std::fs::create_dir_all(root.join("real")).unwrap();
        std::fs::write(root.join("real/f"), b"inside").unwrap();
        std::os::unix::fs::symlink("/etc", root.join("d")).unwrap();
        std::os::unix::fs::symlink("real/f", root.join("l")).unwrap();
        let tree = Tree::open(&root).unwrap();
        let st = tree.lstat(Path::new("real/f")).unwrap();
        assert!(tree.open_file(Path::new("real/f"), &st).is_ok());
        // A symlinked directory on the way, or a symlink at the end: refused.
        assert!(tree.lstat(Path::new("d/hostname")).is_err());
        assert!(tree.list(Path::new("d")).is_err());
        assert!(tree.open_file(Path::new("l"), &st).is_err());
        assert!(tree.open_file(Path::new("d/../real/f"), &st).is_err());
        // A different file under the same name (a swap) is refused too.
        let other = tree.lstat(Path::new("real")).unwrap();
        assert!(tree.open_file(Path::new("real/f"), &other).is_err());
    }

    #[test]
    fn a_fifo_swapped_in_for_a_file_is_never_opened() {
        use std::sync::mpsc;
        use std::time::Duration;
        let t = strata_testkit::TempDir::new("tree");
        let root = t.join("root");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("f"), b"data").unwrap();
        let tree = Tree::open(&root).unwrap();
        let st = tree.lstat(Path::new("f")).unwrap();
        // The swap: a FIFO where the file was. A writer's open blocks until
        // someone opens the FIFO for reading, so it tells whether we did.
        std::fs::remove_file(root.join("f")).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            root.join("f"),
            FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let (opened, told) = mpsc::channel();
        let fifo = root.join("f");
        let writer = std::thread::spawn(move || {
            let w = std::fs::OpenOptions::new().write(true).open(&fifo);
            opened.send(()).unwrap();
            w
        });
        assert!(tree.open_file(Path::new("f"), &st).is_err());
        assert!(tree.xattrs(Path::new("f"), &st).is_err());
        let was_opened = told.recv_timeout(Duration::from_millis(300)).is_ok();
        // Let the writer go, whatever happened.
        let _reader = rustix::fs::open(
            root.join("f"),
            OFlags::RDONLY | OFlags::NONBLOCK,
            Mode::empty(),
        )
        .unwrap();
        writer.join().unwrap().unwrap();
        assert!(!was_opened, "the FIFO was opened");
    }
}
