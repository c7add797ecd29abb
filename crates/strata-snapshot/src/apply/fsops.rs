//! File system operations confined to a root directory.
//!
//! Every path is resolved with `openat2(RESOLVE_IN_ROOT)`: symlinks met on the way
//! (absolute ones, `../../..` ones, from any layer) are interpreted as if the root
//! were `/`, so no lookup can leave it. Only the *parent* of an entry is resolved
//! that way; the final component is then handled with `*at` calls on the parent's
//! descriptor and `O_NOFOLLOW`/`AT_SYMLINK_NOFOLLOW`, so a symlink at the final
//! position is replaced, never followed.

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags, Stat};

/// A directory everything is confined to.
#[derive(Debug)]
pub(crate) struct Root {
    fd: OwnedFd,
    path: PathBuf,
}

fn resolve_flags() -> ResolveFlags {
    ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS
}

/// The path's final component and its parent, or `None` for the root itself.
pub(crate) fn split(rel: &Path) -> Option<(&Path, &OsStr)> {
    let name = rel.file_name()?;
    Some((rel.parent().unwrap_or(Path::new("")), name))
}

impl Root {
    pub(crate) fn open(path: &Path) -> io::Result<Root> {
        let fd = rustix::fs::open(
            path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Root {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// A root from a directory descriptor the caller already holds; `path`
    /// only names it in errors.
    pub(crate) fn from_fd(fd: OwnedFd, path: &Path) -> Root {
        Root {
            fd,
            path: path.to_path_buf(),
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Opens `rel` (resolved inside the root) with `flags`.
    pub(crate) fn open_in(&self, rel: &Path, flags: OFlags) -> io::Result<OwnedFd> {
        let rel = if rel.as_os_str().is_empty() {
            Path::new(".")
        } else {
            rel
        };
        Ok(rustix::fs::openat2(
            &self.fd,
            rel,
            flags | OFlags::CLOEXEC,
            Mode::empty(),
            resolve_flags(),
        )?)
    }

    /// An `O_PATH` descriptor of the directory `rel`, creating missing directories
    /// (mode 0755, owned by the caller) along the way. A dangling symlink on the
    /// way is followed the way a chrooted `mkdir -p` would: its target is created
    /// inside the root.
    pub(crate) fn dir_create(&self, rel: &Path) -> io::Result<OwnedFd> {
        self.dir_create_depth(rel, 0)
    }

    fn dir_create_depth(&self, rel: &Path, depth: u32) -> io::Result<OwnedFd> {
        match self.open_in(rel, OFlags::PATH | OFlags::DIRECTORY) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            other => return other,
        }
        if depth > 40 {
            return Err(rustix::io::Errno::LOOP.into());
        }
        let mut prefix = PathBuf::new();
        let mut parent = self.open_in(&prefix, OFlags::PATH | OFlags::DIRECTORY)?;
        for comp in rel.components() {
            let Component::Normal(name) = comp else {
                continue;
            };
            let up = prefix.clone();
            prefix.push(name);
            parent = match self.open_in(&prefix, OFlags::PATH | OFlags::DIRECTORY) {
                Ok(fd) => fd,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    match rustix::fs::mkdirat(&parent, name, Mode::from_raw_mode(0o755)) {
                        Ok(()) => {}
                        Err(rustix::io::Errno::EXIST) => {
                            let link = rustix::fs::readlinkat(&parent, name, Vec::new())?;
                            let target = Path::new(std::ffi::OsStr::from_bytes(link.as_bytes()));
                            let within = if target.is_absolute() {
                                clamp(target)
                            } else {
                                // Relative to where the parent really is (its own
                                // path may have gone through symlinks).
                                clamp(&self.real_path(&parent).unwrap_or(up).join(target))
                            };
                            self.dir_create_depth(&within, depth + 1)?;
                        }
                        Err(e) => return Err(e.into()),
                    }
                    self.open_in(&prefix, OFlags::PATH | OFlags::DIRECTORY)?
                }
                Err(e) => return Err(e),
            };
        }
        Ok(parent)
    }
}

impl Root {
    /// Where an open directory inside the root really is, relative to the root.
    fn real_path(&self, dir: &OwnedFd) -> Option<PathBuf> {
        use std::os::fd::AsRawFd;
        let proc = format!("/proc/self/fd/{}", dir.as_raw_fd());
        let real = std::fs::read_link(proc).ok()?;
        let root = std::fs::read_link(format!("/proc/self/fd/{}", self.fd.as_raw_fd())).ok()?;
        real.strip_prefix(root).ok().map(Path::to_path_buf)
    }
}

/// Lexically normalises a path as if it were looked up from `/`: `..` at the top
/// stays at the top (what `RESOLVE_IN_ROOT` does).
fn clamp(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for comp in p.components() {
        match comp {
            Component::Normal(c) => out.push(c),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

/// `lstat` of `name` in `dir`, or `None` when absent.
pub(crate) fn lstat_at(dir: impl AsFd, name: &OsStr) -> io::Result<Option<Stat>> {
    match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(st)),
        Err(rustix::io::Errno::NOENT) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// True when the stat describes a directory.
pub(crate) fn is_dir(st: &Stat) -> bool {
    FileType::from_raw_mode(st.st_mode) == FileType::Directory
}

/// Removes `name` in `dir`, recursively for directories, never following symlinks.
pub(crate) fn remove_at(dir: impl AsFd, name: &OsStr) -> io::Result<()> {
    let dir = dir.as_fd();
    match lstat_at(dir, name)? {
        None => Ok(()),
        Some(st) if is_dir(&st) => {
            let fd = rustix::fs::openat(
                dir,
                name,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?;
            empty_dir(&fd)?;
            Ok(rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR)?)
        }
        Some(_) => Ok(rustix::fs::unlinkat(dir, name, AtFlags::empty())?),
    }
}

/// Names of the entries of an open directory (without `.` and `..`).
pub(crate) fn list_dir(dir: impl AsFd) -> io::Result<Vec<std::ffi::OsString>> {
    use std::os::unix::ffi::OsStrExt;
    let mut names = Vec::new();
    for entry in rustix::fs::Dir::read_from(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(OsStr::from_bytes(name).to_os_string());
        }
    }
    Ok(names)
}

/// Removes everything inside an open directory.
pub(crate) fn empty_dir(dir: impl AsFd) -> io::Result<()> {
    let dir = dir.as_fd();
    for name in list_dir(dir)? {
        remove_at(dir, &name)?;
    }
    Ok(())
}

/// What one layer directory says about a path, read as overlayfs reads layers.
pub(crate) enum Lookup {
    /// The layer has the path: its parent directory and its `lstat`.
    Found(OwnedFd, Stat),
    /// The layer hides the path from farther layers (whiteout, opaque directory,
    /// or a non-directory where an ancestor should be).
    Hidden,
    /// The layer says nothing about the path.
    Absent,
}

/// Looks `rel` up in one layer directory, component by component, without
/// following symlinks and without opening anything but directories.
pub(crate) fn lookup_in_layer(layer: &Root, rel: &Path) -> io::Result<Lookup> {
    let names: Vec<&OsStr> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n),
            _ => None,
        })
        .collect();
    let mut cur = PathBuf::new();
    let mut opaque = false;
    for (i, name) in names.iter().enumerate() {
        let dir = layer.open_in(&cur, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW)?;
        opaque |= is_opaque(&dir)?;
        let Some(st) = lstat_at(&dir, name)? else {
            return Ok(if opaque {
                Lookup::Hidden
            } else {
                Lookup::Absent
            });
        };
        let ft = FileType::from_raw_mode(st.st_mode);
        if ft == FileType::CharacterDevice && st.st_rdev == 0 {
            return Ok(Lookup::Hidden);
        }
        if i + 1 == names.len() {
            return Ok(Lookup::Found(dir, st));
        }
        if ft != FileType::Directory {
            return Ok(Lookup::Hidden);
        }
        cur.push(name);
    }
    Ok(Lookup::Absent)
}

fn is_opaque(dir: impl AsFd) -> io::Result<bool> {
    let mut v = [0u8; 4];
    match rustix::fs::fgetxattr(dir, super::OVERLAY_OPAQUE, &mut v[..]) {
        Ok(n) => Ok(&v[..n] == b"y"),
        Err(rustix::io::Errno::NODATA | rustix::io::Errno::NOTSUP) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The extended attributes of an open file, without overlayfs' own.
pub(crate) fn fd_xattrs(fd: impl AsFd) -> io::Result<Vec<(String, Vec<u8>)>> {
    let fd = fd.as_fd();
    let mut names = vec![0u8; 4096];
    let n = loop {
        match rustix::fs::flistxattr(fd, &mut names[..]) {
            Ok(n) => break n,
            Err(rustix::io::Errno::RANGE) => names.resize(names.len() * 4, 0),
            Err(rustix::io::Errno::NOTSUP) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        }
    };
    let mut out = Vec::new();
    for name in names[..n].split(|b| *b == 0).filter(|s| !s.is_empty()) {
        let Ok(name) = std::str::from_utf8(name) else {
            continue;
        };
        if crate::path::is_overlay_xattr(name) {
            continue;
        }
        let mut value = vec![0u8; 1024];
        let len = loop {
            match rustix::fs::fgetxattr(fd, name, &mut value[..]) {
                Ok(len) => break len,
                Err(rustix::io::Errno::RANGE) => value.resize(value.len() * 4, 0),
                Err(e) => return Err(e.into()),
            }
        };
        value.truncate(len);
        out.push((name.to_owned(), value));
    }
    Ok(out)
}
