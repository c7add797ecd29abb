//! Finding what a `cp` path names inside a root, as `docker cp` reads paths.
//!
//! The parent of an entry is looked up with `RESOLVE_IN_ROOT` (symlinks on the
//! way are followed, but read as if the root were `/`); the final component is
//! then examined with `*at` calls on the parent's descriptor without following
//! it, and followed by hand, one link at a time and again inside the root, only
//! when asked. A path that asks for a directory (`x/`, `x/.`, `/`) is looked up
//! whole.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{FileType, Mode, OFlags};

use crate::apply::fsops::{self, Root};

/// Symlinks followed before giving up (Linux's own limit).
const MAX_LINKS: usize = 40;

/// How a path names its entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Form {
    /// A directory, looked up whole: `/`, `x/`, `x/.`, `x/..`. `contents` when
    /// it ends in `.` or is the root: what is inside, not the directory itself.
    Dir {
        /// The directory's contents are meant.
        contents: bool,
    },
    /// The entry `name` in the directory `parent`.
    Entry {
        /// The path of the directory holding it.
        parent: PathBuf,
        /// Its name there.
        name: OsString,
    },
}

/// Reads a path the way `docker cp` does (relative paths are relative to the root).
pub(crate) fn form(path: &Path) -> Form {
    let bytes = path.as_os_str().as_bytes();
    let trailing_slash = bytes.ends_with(b"/");
    let last = bytes
        .split(|b| *b == b'/')
        .rfind(|c| !c.is_empty())
        .unwrap_or(b".");
    match last {
        b"." => Form::Dir { contents: true },
        b".." => Form::Dir {
            contents: base_name(path).is_none(),
        },
        _ if trailing_slash => Form::Dir { contents: false },
        name => {
            let end = bytes.len() - name.len();
            Form::Entry {
                parent: PathBuf::from(OsStr::from_bytes(&bytes[..end])),
                name: OsStr::from_bytes(name).to_os_string(),
            }
        }
    }
}

/// The name a path gives its entry: its last component once `.` and `..` are
/// resolved lexically (Docker's `filepath.Clean`); `None` for the root.
pub(crate) fn base_name(path: &Path) -> Option<OsString> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for comp in path.as_os_str().as_bytes().split(|b| *b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    parts.last().map(|p| OsStr::from_bytes(p).to_os_string())
}

/// `path` without its trailing slashes, when that names an entry (`x/` is `x`;
/// `/`, `x/.` and `x/..` stay directories: `None`).
pub(crate) fn without_trailing_slashes(path: &Path) -> Option<&Path> {
    let bytes = path.as_os_str().as_bytes();
    let end = bytes.iter().rposition(|b| *b != b'/')? + 1;
    let trimmed = Path::new(OsStr::from_bytes(&bytes[..end]));
    matches!(form(trimmed), Form::Entry { .. }).then_some(trimmed)
}

/// What a path names.
#[derive(Debug)]
pub(crate) enum Found {
    /// A directory (a symlink to one when followed); the descriptor is `O_PATH`.
    Dir(OwnedFd),
    /// A non-directory (a symlink when not followed) named `name` in `parent`.
    Other {
        /// The directory holding it (`O_PATH`).
        parent: OwnedFd,
        /// Its name there.
        name: OsString,
        /// What it is, when looked at.
        kind: FileType,
    },
    /// Nothing named `name` in the existing directory `parent`.
    Missing {
        /// The directory that would hold it (`O_PATH`).
        parent: OwnedFd,
        /// The missing name.
        name: OsString,
    },
}

/// Looks `path` up inside `root`. With `follow`, a symlink in the final position
/// is followed (inside the root); otherwise it is what is found. Errors are the
/// lookup's own: `NotFound` when a directory on the way is missing, `ELOOP`,
/// `ENOTDIR`.
pub(crate) fn locate(root: &Root, path: &Path, follow: bool) -> io::Result<Found> {
    let dir_flags = OFlags::PATH | OFlags::DIRECTORY;
    let mut cur = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        let (parent, name) = match form(&cur) {
            Form::Dir { .. } => return root.open_in(&cur, dir_flags).map(Found::Dir),
            Form::Entry { parent, name } => (parent, name),
        };
        let dir = root.open_in(&parent, dir_flags)?;
        let Some(stat) = fsops::lstat_at(&dir, &name)? else {
            return Ok(Found::Missing { parent: dir, name });
        };
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::Symlink if follow => {
                let target = rustix::fs::readlinkat(&dir, name.as_os_str(), Vec::new())?;
                let target = Path::new(OsStr::from_bytes(target.as_bytes()));
                // An absolute target starts again from the root (open_in reads
                // it so); a relative one from the link's directory.
                cur = parent.join(target);
            }
            FileType::Directory => {
                let fd = rustix::fs::openat(
                    &dir,
                    name.as_os_str(),
                    dir_flags | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )?;
                return Ok(Found::Dir(fd));
            }
            kind => {
                return Ok(Found::Other {
                    parent: dir,
                    name,
                    kind,
                })
            }
        }
    }
    Err(rustix::io::Errno::LOOP.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(parent: &str, name: &str) -> Form {
        Form::Entry {
            parent: parent.into(),
            name: name.into(),
        }
    }

    #[test]
    fn paths_are_read_as_docker_cp_reads_them() {
        let cases: &[(&str, Form)] = &[
            ("/etc/passwd", entry("/etc/", "passwd")),
            ("etc/passwd", entry("etc/", "passwd")),
            ("passwd", entry("", "passwd")),
            ("/etc", entry("/", "etc")),
            ("/etc/", Form::Dir { contents: false }),
            ("/etc/.", Form::Dir { contents: true }),
            ("/etc/./", Form::Dir { contents: true }),
            ("/", Form::Dir { contents: true }),
            ("", Form::Dir { contents: true }),
            ("/etc/ssl/..", Form::Dir { contents: false }),
            ("/etc/..", Form::Dir { contents: true }),
        ];
        for (path, want) in cases {
            assert_eq!(&form(Path::new(path)), want, "form({path:?})");
        }
    }

    #[test]
    fn names_are_the_lexically_cleaned_last_component() {
        let name = |p: &str| base_name(Path::new(p)).map(|n| n.into_string().unwrap());
        assert_eq!(name("/etc/passwd"), Some("passwd".into()));
        assert_eq!(name("etc/ssl/"), Some("ssl".into()));
        assert_eq!(name("/etc/ssl/.."), Some("etc".into()));
        assert_eq!(name("/etc/."), Some("etc".into()));
        assert_eq!(name("/"), None);
        assert_eq!(name("/.."), None);
    }
}
