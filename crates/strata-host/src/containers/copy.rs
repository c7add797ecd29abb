//! `cp`: one path between a container and the host, either way, with the
//! container running or not.
//!
//! A running container's files are read and written through its init's
//! `/proc/<pid>/root`: the view its processes have, volumes and tmpfs mounts
//! included. A stopped one's through its root file system, mounted for the copy
//! (and unmounted after, if the copy mounted it). Either way the container's
//! lock is held for the whole copy (shared while it runs), as Docker holds it,
//! so a concurrent `start`, exit clean-up or `rm` waits; and every container path is resolved
//! inside that root (see `strata_snapshot::copy`): the container's symlinks
//! cannot reach the host. Without `-a` no privileges cross, either way: set-id
//! bits, `security.*`/`trusted.*` xattrs and device nodes are left out (see
//! [`strata_snapshot::copy::CopyOptions`]).

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};
use rustix::mount::UnmountFlags;
use strata_snapshot::apply::ApplyStats;
use strata_snapshot::copy::{self, Root, Source, Target};
use strata_snapshot::snapshots::SnapshotMode;
use strata_store::lock::{self, LockMode};

use super::record::{Container, Phase};
use crate::error::{Error, Result};
use crate::host::Host;

/// How `cp` copies.
#[derive(Debug, Clone, Copy, Default)]
pub struct CopyOptions {
    /// `-a`: keep the source's owners, set-id bits, `security.*`/`trusted.*`
    /// xattrs and device nodes. Otherwise what is copied in belongs to the
    /// container's root (0:0) and what is copied out to whoever runs `cp`, and
    /// none of those privileges are copied.
    pub archive: bool,
    /// `-L`: follow a symlink named as the source.
    pub follow_link: bool,
}

impl CopyOptions {
    /// The copy's options with `owner` unless `-a` keeps the source's.
    fn copy(&self, owner: (u32, u32)) -> copy::CopyOptions {
        copy::CopyOptions {
            owner: (!self.archive).then_some(owner),
            archive: self.archive,
            chmod: None,
        }
    }
}

/// What a copy left out, for the caller to report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Copied {
    /// Device nodes not created: without `-a`, or without the privilege to.
    pub skipped_devices: u64,
}

impl From<ApplyStats> for Copied {
    fn from(stats: ApplyStats) -> Copied {
        Copied {
            skipped_devices: stats.skipped_devices,
        }
    }
}

/// The container's root directory for a copy, and whether it runs.
struct View<'a> {
    c: &'a Container,
    root: Root,
    running: bool,
}

impl View<'_> {
    /// Finds `path` in the container.
    fn source(&self, path: &Path, follow: bool) -> Result<Source> {
        Source::locate(&self.root, path, follow).map_err(|e| self.error(e, path))
    }

    /// Plans a copy into the container, refusing a read-only root file system.
    fn target(&self, dest: &Path, src: Option<&Source>) -> Result<Target> {
        if !self.running && self.c.record.settings.read_only {
            return Err(self.read_only(dest));
        }
        match src {
            Some(src) => Target::plan(&self.root, dest, src),
            None => Target::directory(&self.root, dest),
        }
        .map_err(|e| self.error(e, dest))
    }

    /// Names the container in what went wrong on its side.
    fn error(&self, e: strata_snapshot::Error, path: &Path) -> Error {
        match e {
            strata_snapshot::Error::NotFound(path) => Error::NoSuchPath {
                path: path.display().to_string(),
                container: self.c.record.name.clone(),
            },
            strata_snapshot::Error::Io { source, .. }
                if source.kind() == std::io::ErrorKind::ReadOnlyFilesystem =>
            {
                self.read_only(path)
            }
            e => Error::Layer(e),
        }
    }

    fn read_only(&self, path: &Path) -> Error {
        Error::Conflict(format!(
            "cannot copy to {} in container {}: its file system is read-only",
            path.display(),
            self.c.record.name
        ))
    }
}

/// Who owns what is copied out without `-a`: whoever runs `cp`.
fn invoking_user() -> (u32, u32) {
    (
        rustix::process::geteuid().as_raw(),
        rustix::process::getegid().as_raw(),
    )
}

/// A host path as given, made absolute (host paths are looked up from `/`).
fn host_path(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(Error::io("resolve", path))
}

fn host_root() -> Result<Root> {
    Ok(Root::open(Path::new("/"))?)
}

impl Host {
    /// `cp CONTAINER:SRC DEST`: copies `src` out of the container to the host.
    pub fn copy_from_container(
        &self,
        key: &str,
        src: &Path,
        dest: &Path,
        opts: CopyOptions,
    ) -> Result<Copied> {
        let dest = host_path(dest)?;
        self.with_container_root(key, |view| {
            let src = view.source(src, opts.follow_link)?;
            let target = Target::plan(&host_root()?, &dest, &src)?;
            Ok(copy::copy(&src, target, &opts.copy(invoking_user()))?.into())
        })
    }

    /// `cp CONTAINER:SRC -`: writes `src` as a tar stream into `out`.
    pub fn copy_from_container_tar<W: Write>(
        &self,
        key: &str,
        src: &Path,
        out: W,
        opts: CopyOptions,
    ) -> Result<W> {
        self.with_container_root(key, |view| {
            let src = view.source(src, opts.follow_link)?;
            Ok(src.write_tar(src.name(), out)?)
        })
    }

    /// `cp SRC CONTAINER:DEST`: copies `src` from the host into the container.
    pub fn copy_to_container(
        &self,
        key: &str,
        src: &Path,
        dest: &Path,
        opts: CopyOptions,
    ) -> Result<Copied> {
        let src = Source::locate(&host_root()?, &host_path(src)?, opts.follow_link)?;
        self.with_container_root(key, |view| {
            let target = view.target(dest, Some(&src))?;
            let stats =
                copy::copy(&src, target, &opts.copy((0, 0))).map_err(|e| view.error(e, dest))?;
            Ok(stats.into())
        })
    }

    /// `cp - CONTAINER:DEST`: extracts a tar stream, plain or gzip or zstd
    /// compressed, into the existing directory `dest` of the container.
    /// Absolute names and names climbing out of `dest` are refused; nothing is
    /// written outside it.
    pub fn copy_tar_to_container<R: Read>(
        &self,
        key: &str,
        tar: R,
        dest: &Path,
        opts: CopyOptions,
    ) -> Result<Copied> {
        self.with_container_root(key, |view| {
            let target = view.target(dest, None)?;
            let stats = target
                .extract_archive(tar, &opts.copy((0, 0)))
                .map_err(|e| view.error(e, dest))?;
            Ok(stats.into())
        })
    }

    /// Runs `f` on the container's root: its init's root while it runs, else
    /// its root file system, mounted for the time of `f`. The store's shared
    /// lock and the container's lock are held throughout: shared while it runs
    /// (so `cp C:/a - | cp - C:/b` works), exclusive while it is mounted for
    /// the copy.
    fn with_container_root<T>(&self, key: &str, f: impl FnOnce(&View) -> Result<T>) -> Result<T> {
        let c = self.container(key)?;
        // The order `start` takes them in.
        let _gc = self.store.lock_shared()?;
        let mut _lock = lock::lock(&c.path("lock"), LockMode::Shared)?;
        let mut c = self.container(&c.record.id)?;
        if c.phase() != Phase::Running {
            drop(_lock);
            _lock = self.lock_container(&c)?;
            c = self.container(&c.record.id)?;
        }
        if c.phase() == Phase::Running {
            let root = Root::from_fd(init_root(&c)?);
            return f(&View {
                c: &c,
                root,
                running: true,
            });
        }
        let records = self.store.records()?;
        let image = self.image(&records, &c.record.image_target)?;
        let rootfs = c.path("rootfs");
        let mount = self.mount_for_copy(&c.dir, &rootfs, &image)?;
        let value = f(&View {
            c: &c,
            root: Root::open(&rootfs)?,
            running: false,
        })?;
        if let Some(mount) = mount {
            mount.unmount()?;
        }
        Ok(value)
    }

    /// Mounts a stopped container's root file system unless it already is;
    /// the guard unmounts it again exactly when this call mounted it.
    fn mount_for_copy(
        &self,
        dir: &Path,
        rootfs: &Path,
        image: &crate::image::Image,
    ) -> Result<Option<Mounted>> {
        if self.snapshots.mode() == SnapshotMode::Copy {
            return Ok(None);
        }
        // Whether a mount happened is read off the directory itself: a new
        // overlay shows a new device there.
        let dev = |p: &Path| {
            rustix::fs::stat(p)
                .map(|st| st.st_dev)
                .map_err(|e| Error::io("stat", p)(e.into()))
        };
        let before = dev(rootfs)?;
        self.mount_rootfs(dir, image)?;
        let after = dev(rootfs)?;
        Ok((after != before).then(|| Mounted(Some(rootfs.to_path_buf()))))
    }
}

/// A root file system `cp` mounted: unmounted when dropped (on every error
/// path), or by [`Mounted::unmount`], which reports a failure.
struct Mounted(Option<PathBuf>);

impl Mounted {
    fn unmount(mut self) -> Result<()> {
        match self.0.take() {
            Some(target) => rustix::mount::unmount(&target, UnmountFlags::DETACH)
                .map_err(|e| Error::io("unmount", &target)(e.into())),
            None => Ok(()),
        }
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Some(target) = self.0.take() {
            if let Err(e) = rustix::mount::unmount(&target, UnmountFlags::DETACH) {
                tracing::warn!(path = %target.display(), error = %e, "cannot unmount after cp");
            }
        }
    }
}

/// `/proc/<pid>/root` of a running container's init, checked to still be the
/// container's: the PID could have been reused since the monitor recorded it,
/// so the process's cgroup must name the container, read through the same
/// `/proc/<pid>` descriptor the root is then opened from.
fn init_root(c: &Container) -> Result<OwnedFd> {
    let not_running = || Error::Conflict(format!("container {} is not running", c.record.id));
    let pid = c
        .state
        .as_ref()
        .and_then(|s| s.pid)
        .ok_or_else(not_running)?;
    let proc_path = PathBuf::from(format!("/proc/{pid}"));
    let dir = rustix::fs::open(
        &proc_path,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|_| not_running())?;
    let open_in = |name: &str, flags: OFlags| {
        rustix::fs::openat(&dir, name, flags | OFlags::CLOEXEC, Mode::empty())
            .map_err(|_| not_running())
    };
    let mut cgroup = String::new();
    std::fs::File::from(open_in("cgroup", OFlags::RDONLY)?)
        .read_to_string(&mut cgroup)
        .map_err(Error::io("read", proc_path.join("cgroup")))?;
    if !cgroup.contains(&c.record.id) {
        return Err(not_running());
    }
    open_in("root", OFlags::PATH | OFlags::DIRECTORY)
}
