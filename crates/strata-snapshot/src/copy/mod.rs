//! Copying one path between two trees as `docker cp` does, through a tar stream.
//!
//! A [`Source`] is a path found inside a [`Root`]; a [`Target`] is where it lands,
//! decided by Docker's rules from what exists at the destination:
//!
//! | source | destination | result |
//! |---|---|---|
//! | file | missing (its parent exists) | created as that file |
//! | file | missing, ends with `/` | error: no such directory |
//! | file | existing file | overwritten |
//! | file or directory | existing directory | copied into it, under the source's name |
//! | directory ending in `/.` | existing directory | its contents copied into it |
//! | directory | missing (ending with `/` or not) | created, with the source's contents |
//! | directory | existing file | error: cannot copy a directory to a file |
//! | anything | existing FIFO, device or socket | error: must be a directory or a regular file |
//!
//! Both ends are resolved with `openat2(RESOLVE_IN_ROOT)`: a container's paths,
//! symlinks included (`/x -> /etc`, `../../..`), never leave the container's root.
//! The host's paths are resolved the same way from `/`, which is ordinary lookup.
//! A symlink named as the source is copied as a link unless `follow` is asked.
//!
//! The source is written as a tar with its top entry named for the target
//! ([`Source::write_tar`]), and read back by the guarded [`Applier`] rooted at the
//! target's directory, with `.wh.*` names taken literally: whatever the archive
//! says, nothing lands outside that directory (a symlink already in it resolves
//! inside it too). An archive from elsewhere
//! ([`Target::extract_archive`], `cp - CONTAINER:DIR`; gzip or zstd compressed
//! or not) is refused on absolute names and on names that climb out.
//!
//! What a copy may carry is [`CopyOptions`]' business: by default no privileges
//! (set-id bits, capabilities, device nodes) cross.

mod locate;
#[cfg(test)]
mod privilege_tests;
#[cfg(test)]
mod tests;

use std::io::{self, BufReader, Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{Access, AtFlags, FileType};

use crate::apply::fsops;
use crate::apply::{Applier, ApplyOptions, ApplyStats, WhiteoutMode};
use crate::create::{CreateOptions, TarWriter};
use crate::error::{Error, Result};
use crate::tree::{walk_into, Entry, Tree};
use locate::{form, Form, Found};

/// A directory that paths are resolved in, as if it were `/`.
#[derive(Debug)]
pub struct Root(fsops::Root);

impl Root {
    /// The directory at `path` (followed if a symlink: the caller named it).
    pub fn open(path: &Path) -> Result<Root> {
        fsops::Root::open(path)
            .map(Root)
            .map_err(Error::io("open", path))
    }

    /// A directory the caller already opened (`O_PATH` is enough), such as a
    /// process's `/proc/<pid>/root`.
    pub fn from_fd(fd: OwnedFd) -> Root {
        Root(fsops::Root::from_fd(fd, Path::new("/")))
    }
}

/// Options of a copy.
///
/// Strata's policy: a copy is not a way to hand out privileges. Unless
/// [`archive`](Self::archive) is set, a copy, either way, from a tree or from
/// an archive, strips set-user-ID and set-group-ID bits, drops `security.*` and
/// `trusted.*` extended attributes (file capabilities, security labels) and
/// creates no character or block device nodes; FIFOs are created, and the
/// devices left out are counted in [`ApplyStats::skipped_devices`] for the
/// caller to report. So copying out of a container puts no setuid-root shell
/// nor a `/dev/mem` on the host, and an archive copied into a container plants
/// none in a volume the host mounts. With `archive` (`cp -a`), modes, xattrs
/// and device nodes are kept as the source has them; owners are kept unless
/// [`owner`](Self::owner) says otherwise.
#[derive(Debug, Clone, Default)]
pub struct CopyOptions {
    /// Every copied entry gets this owner (uid, gid); `None` keeps the source's.
    pub owner: Option<(u32, u32)>,
    /// Keep set-id bits, privileged xattrs and device nodes (`cp -a`).
    pub archive: bool,
    /// Every copied entry gets these permission bits (`COPY --chmod`).
    pub chmod: Option<u32>,
}

impl CopyOptions {
    fn apply_options(&self) -> ApplyOptions {
        ApplyOptions {
            owner: self.owner,
            chmod: self.chmod,
            no_overwrite_dir_non_dir: true,
            strip_setid: !self.archive,
            drop_privileged_xattrs: !self.archive,
            skip_devices: !self.archive,
            ..ApplyOptions::new(WhiteoutMode::Literal)
        }
    }
}

/// A path to copy, found inside a root.
#[derive(Debug)]
pub struct Source {
    /// The source directory itself, or (for anything else) its parent.
    tree: Tree,
    /// Empty for a directory, else its name in `tree`.
    rel: PathBuf,
    /// The name it is copied under by default; `.` for a directory's contents.
    name: PathBuf,
}

impl Source {
    /// Finds `path` inside `root`; with `follow`, a symlink in the final position
    /// is followed (inside the root) and copied as what it points to, under its
    /// own name. A path ending in `/` or `/.` must be a directory.
    pub fn locate(root: &Root, path: &Path, follow: bool) -> Result<Source> {
        let (name, wants_dir) = match form(path) {
            Form::Dir { contents: true } => (PathBuf::from("."), true),
            Form::Dir { contents: false } => (
                locate::base_name(path).unwrap_or_else(|| ".".into()).into(),
                true,
            ),
            Form::Entry { name, .. } => (PathBuf::from(name), false),
        };
        let found = locate::locate(&root.0, path, follow).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => Error::NotFound(path.to_path_buf()),
            _ => lookup_error(path, e),
        })?;
        let (tree, rel) = match found {
            Found::Dir(fd) => (Tree::from_fd(fd, path), PathBuf::new()),
            Found::Missing { .. } => return Err(Error::NotFound(path.to_path_buf())),
            Found::Other { .. } if wants_dir => return Err(not_a_directory(path)),
            Found::Other { parent, name, .. } => {
                (Tree::from_fd(parent, parent_of(path)), PathBuf::from(name))
            }
        };
        Ok(Source { tree, rel, name })
    }

    /// True when a directory is copied.
    pub fn is_dir(&self) -> bool {
        self.rel.as_os_str().is_empty()
    }

    /// True when the path named a directory's contents (`x/.`, `/`).
    pub fn is_contents(&self) -> bool {
        self.name == Path::new(".")
    }

    /// The name the source is copied under by default (`.` for contents).
    pub fn name(&self) -> &Path {
        &self.name
    }

    /// Writes the source as a tar stream, its top entry named `name` (`.` or
    /// empty: a directory's entries at the top). Modes, owners, times, xattrs,
    /// symlinks and hard links are kept; procfs, sysfs and cgroupfs directories
    /// are written empty.
    pub fn write_tar<W: Write>(&self, name: &Path, out: W) -> Result<W> {
        self.write_tar_filtered(name, out, &|_| true)
    }

    /// [`write_tar`](Self::write_tar), leaving out every entry (and everything
    /// below a directory) for which `keep` says no. `keep` sees paths relative
    /// to the source directory (empty for a file source: it is always kept).
    pub fn write_tar_filtered<W: Write>(
        &self,
        name: &Path,
        out: W,
        keep: &dyn Fn(&Path) -> bool,
    ) -> Result<W> {
        let name = if name.as_os_str().is_empty() {
            Path::new(".")
        } else {
            name
        };
        let mut w = TarWriter::new(out, CreateOptions::default());
        let st = self.tree.lstat(&self.rel)?;
        w.append_as(&self.tree, &self.rel, name, &st)?;
        // A running container's /proc and /sys are mounts too: copied as empty
        // directories, as Docker (which never sees them) would.
        let descend = |rel: &Path| Ok(keep(rel) && !self.tree.is_kernel_fs(rel)?);
        if self.is_dir() && descend(Path::new(""))? {
            let top = (name != Path::new(".")).then_some(name);
            walk_into(&self.tree, Path::new(""), &descend, &mut |e: &Entry| {
                if !keep(&e.rel) {
                    return Ok(());
                }
                let entry_name = top.map_or_else(|| e.rel.clone(), |top| top.join(&e.rel));
                w.append_as(&self.tree, &e.rel, &entry_name, &e.stat)
            })?;
        }
        w.finish()
    }
}

/// Where a copy lands: a directory, and the name the top entry takes in it
/// (empty when a directory's contents are merged into it).
#[derive(Debug)]
pub struct Target {
    dir: OwnedFd,
    name: PathBuf,
    path: PathBuf,
}

impl Target {
    /// Where `src` lands when copied to `dest` inside `root`, by Docker's rules
    /// (see the module docs). A symlink at `dest` is followed, inside the root.
    pub fn plan(root: &Root, dest: &Path, src: &Source) -> Result<Target> {
        let wants_dir = matches!(form(dest), Form::Dir { .. });
        let found = match locate::locate(&root.0, dest, true) {
            // A directory is created at `x/` as at `x` (Docker's
            // PrepareArchiveCopy looks at the source before the trailing slash).
            Err(e) if e.kind() == io::ErrorKind::NotFound && wants_dir && src.is_dir() => {
                match locate::without_trailing_slashes(dest) {
                    Some(entry) => locate::locate(&root.0, entry, true),
                    None => Err(e),
                }
            }
            found => found,
        };
        let found = found.map_err(|e| match e.kind() {
            io::ErrorKind::NotFound if wants_dir => no_such_directory(dest),
            io::ErrorKind::NotFound => Error::NotFound(parent_of(dest).to_path_buf()),
            _ => lookup_error(dest, e),
        })?;
        let (dir, name, path) = match found {
            Found::Dir(fd) => {
                let name = if src.is_contents() {
                    PathBuf::new()
                } else {
                    src.name.clone()
                };
                (fd, name, dest.to_path_buf())
            }
            Found::Missing { .. } if wants_dir && !src.is_dir() => {
                return Err(no_such_directory(dest))
            }
            Found::Missing { parent, name } => {
                let dir = locate::without_trailing_slashes(dest).unwrap_or(dest);
                (parent, name.into(), parent_of(dir).into())
            }
            Found::Other { .. } if wants_dir => return Err(not_a_directory(dest)),
            Found::Other { kind, .. } if kind != FileType::RegularFile => {
                return Err(refused(
                    "copy to",
                    dest,
                    io::ErrorKind::InvalidInput,
                    "destination must be a directory or a regular file",
                ))
            }
            Found::Other { .. } if src.is_dir() => {
                return Err(refused(
                    "copy to",
                    dest,
                    io::ErrorKind::AlreadyExists,
                    "cannot copy a directory to a file",
                ))
            }
            Found::Other { parent, name, .. } => (parent, name.into(), parent_of(dest).into()),
        };
        Ok(Target { dir, name, path })
    }

    /// The existing directory `dest` inside `root`, to extract an archive into.
    pub fn directory(root: &Root, dest: &Path) -> Result<Target> {
        match locate::locate(&root.0, dest, true) {
            Ok(Found::Dir(dir)) => Ok(Target {
                dir,
                name: PathBuf::new(),
                path: dest.to_path_buf(),
            }),
            Ok(Found::Missing { .. }) => Err(no_such_directory(dest)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(no_such_directory(dest)),
            Ok(Found::Other { .. }) => Err(not_a_directory(dest)),
            Err(e) => Err(lookup_error(dest, e)),
        }
    }

    /// Extracts an archive from elsewhere (`cp - CONTAINER:DIR`), plain or
    /// compressed with gzip or zstd (told apart by their magic bytes, as Docker
    /// does), as [`extract`](Self::extract) does.
    pub fn extract_archive<R: Read>(self, input: R, opts: &CopyOptions) -> Result<ApplyStats> {
        let (tar, _) = crate::compression::decompressed(BufReader::new(input))
            .map_err(|e| Error::Malformed(e).in_archive())?;
        self.extract(tar, opts)
    }

    /// Extracts a tar stream into the target's directory: whiteout names are
    /// literal, a directory is never replaced by a non-directory nor the reverse,
    /// the directory's own entry (`./`) is skipped, and absolute names are
    /// refused (as `..` is, by the guard). What [`CopyOptions`] rules out is
    /// not created. Failures of the archive itself are worded as such, not as
    /// a layer's.
    pub fn extract<R: Read>(self, tar: R, opts: &CopyOptions) -> Result<ApplyStats> {
        self.extract_tar(tar, opts).map_err(Error::in_archive)
    }

    fn extract_tar<R: Read>(self, tar: R, opts: &CopyOptions) -> Result<ApplyStats> {
        // Fail before writing anything when the directory cannot take it (a
        // read-only file system, most often).
        rustix::fs::accessat(
            &self.dir,
            ".",
            Access::WRITE_OK | Access::EXEC_OK,
            AtFlags::EACCESS,
        )
        .map_err(|e| Error::io("write into", &self.path)(e.into()))?;
        let mut applier = Applier::from_fd(self.dir, &self.path, opts.apply_options());
        let mut archive = tar::Archive::new(tar);
        for entry in archive.entries().map_err(Error::Malformed)? {
            let mut entry = entry.map_err(Error::Malformed)?;
            let raw = entry.path_bytes().into_owned();
            let kind = entry.header().entry_type();
            let link_abs = kind == tar::EntryType::Link
                && entry.link_name_bytes().is_some_and(|l| l.starts_with(b"/"));
            if raw.starts_with(b"/") || link_abs {
                return Err(Error::hostile(&raw, "absolute name in a copied archive"));
            }
            let is_top = crate::path::normalize(&raw).is_some_and(|p| p.as_os_str().is_empty());
            if is_top && kind == tar::EntryType::Directory {
                continue;
            }
            applier.apply(&mut entry)?;
        }
        applier.finish()
    }
}

/// Copies `src` to `target`: written as a tar on one thread, extracted on this one.
pub fn copy(src: &Source, target: Target, opts: &CopyOptions) -> Result<ApplyStats> {
    copy_filtered(src, target, opts, &|_| true)
}

/// [`copy`], leaving out what `keep` says no to (see
/// [`Source::write_tar_filtered`]).
pub fn copy_filtered(
    src: &Source,
    target: Target,
    opts: &CopyOptions,
    keep: &(dyn Fn(&Path) -> bool + Sync),
) -> Result<ApplyStats> {
    let name = target.name.clone();
    let (reader, writer) = io::pipe().map_err(Error::io("pipe", &target.path))?;
    std::thread::scope(|s| {
        let producer = s.spawn(move || src.write_tar_filtered(&name, writer, keep).map(drop));
        let applied = target.extract(reader, opts);
        let produced = producer
            .join()
            .map_err(|_| Error::Unsupported("writing the copy panicked".into()))?;
        match (produced, applied) {
            // The extractor stopped reading: its error is the one that matters.
            (Err(Error::Write(e)), Err(a)) if e.kind() == io::ErrorKind::BrokenPipe => Err(a),
            (Err(e), _) => Err(e),
            (Ok(()), applied) => applied,
        }
    })
}

/// The directory a path's entry is in, for messages (the path itself when it
/// names a directory whole).
fn parent_of(path: &Path) -> &Path {
    match form(path) {
        Form::Entry { .. } => path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("/")),
        Form::Dir { .. } => path,
    }
}

fn lookup_error(path: &Path, e: io::Error) -> Error {
    match e.kind() {
        io::ErrorKind::NotADirectory => not_a_directory(path),
        _ => Error::io("find", path)(e),
    }
}

fn refused(op: &'static str, path: &Path, kind: io::ErrorKind, why: &str) -> Error {
    Error::io(op, path)(io::Error::new(kind, why))
}

fn not_a_directory(path: &Path) -> Error {
    refused(
        "copy",
        path,
        io::ErrorKind::NotADirectory,
        "not a directory",
    )
}

fn no_such_directory(path: &Path) -> Error {
    refused(
        "copy to",
        path,
        io::ErrorKind::NotFound,
        "no such directory",
    )
}
