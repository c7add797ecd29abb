//! Creating one entry: files, directories, links, devices, whiteouts.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Timespec, Timestamps, XattrFlags};

use super::fsops::{self, Root};
use super::pinned;
use super::{Applier, WhiteoutMode};
use crate::error::{Error, Result};
use crate::guard::{Checked, EntryKind};

/// Owner, mode, time and xattrs of an entry, read from its header.
struct Meta {
    uid: u32,
    gid: u32,
    mode: u32,
    mtime: u64,
    xattrs: Vec<(String, Vec<u8>)>,
}

/// The overlayfs opaque-directory xattr (`y` marks a directory opaque).
pub const OVERLAY_OPAQUE: &str = "trusted.overlay.opaque";

fn read_meta<R: Read>(entry: &mut tar::Entry<'_, R>) -> Result<Meta> {
    let h = entry.header();
    let bad = |e: std::io::Error| Error::Malformed(e);
    let mut meta = Meta {
        uid: u32::try_from(h.uid().map_err(bad)?).unwrap_or(u32::MAX),
        gid: u32::try_from(h.gid().map_err(bad)?).unwrap_or(u32::MAX),
        mode: h.mode().map_err(bad)? & 0o7777,
        mtime: h.mtime().map_err(bad)?,
        xattrs: Vec::new(),
    };
    if let Some(exts) = entry.pax_extensions().map_err(bad)? {
        for ext in exts {
            let ext = ext.map_err(bad)?;
            let Ok(key) = ext.key() else { continue };
            if let Some(name) = key.strip_prefix("SCHILY.xattr.") {
                if !crate::path::is_overlay_xattr(name) {
                    meta.xattrs
                        .push((name.to_owned(), ext.value_bytes().to_vec()));
                }
            }
        }
    }
    Ok(meta)
}

fn timestamps(mtime: u64) -> Timestamps {
    let t = Timespec {
        tv_sec: i64::try_from(mtime).unwrap_or(i64::MAX),
        tv_nsec: 0,
    };
    Timestamps {
        last_access: t,
        last_modification: t,
    }
}

impl Applier {
    pub(super) fn apply_checked<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        checked: Checked,
    ) -> Result<()> {
        let path = checked.path;
        let full = self.root.path().join(&path);
        let at = |op| Error::io(op, full.clone());
        match checked.kind {
            EntryKind::Skip => return Ok(()),
            EntryKind::Whiteout(target) => return self.whiteout(&target),
            EntryKind::Opaque(dir) => return self.opaque_marker(dir),
            _ => {}
        }
        self.stats.entries += 1;
        let mut meta = read_meta(entry)?;
        if let Some((uid, gid)) = self.opts.owner {
            (meta.uid, meta.gid) = (uid, gid);
        }
        if let Some(mode) = self.opts.chmod {
            // BuildKit's rule: the permission bits come from --chmod, the
            // set-id and sticky bits stay the source's.
            meta.mode = (meta.mode & 0o7000) | (mode & 0o777);
        }
        self.confine(&mut meta);
        if self.withholds(&checked.kind) {
            // Decided before anything at the path is replaced.
            self.stats.skipped_devices += 1;
            self.withheld.insert(path);
            return Ok(());
        }
        let Some((parent_rel, name)) = fsops::split(&path) else {
            // The root itself: only a directory entry reaches here (the guard
            // refuses anything else); give the root its metadata.
            let fd = self
                .root
                .open_in(Path::new(""), OFlags::RDONLY | OFlags::DIRECTORY)
                .map_err(at("open"))?;
            self.set_meta(&fd, &meta).map_err(at("set metadata of"))?;
            self.dir_times.push((path, meta.mtime));
            return Ok(());
        };
        let parent = self
            .parent_dir(parent_rel)
            .map_err(at("create parent of"))?;
        let existing = fsops::lstat_at(&parent, name).map_err(at("stat"))?;
        let is_dir = matches!(checked.kind, EntryKind::Dir);
        let keep_dir = is_dir && existing.as_ref().is_some_and(fsops::is_dir);
        if self.opts.no_overwrite_dir_non_dir {
            if let Some(st) = &existing {
                if fsops::is_dir(st) != is_dir {
                    let what = if is_dir {
                        "cannot overwrite a non-directory with a directory"
                    } else {
                        "cannot overwrite a directory with a non-directory"
                    };
                    return Err(at("overwrite")(std::io::Error::new(
                        std::io::ErrorKind::AlreadyExists,
                        what,
                    )));
                }
            }
        }
        if existing.is_some() && !keep_dir {
            fsops::remove_at(&parent, name).map_err(at("replace"))?;
        }
        match checked.kind {
            EntryKind::File => {
                let fd = rustix::fs::openat(
                    &parent,
                    name,
                    OFlags::WRONLY
                        | OFlags::CREATE
                        | OFlags::EXCL
                        | OFlags::NOFOLLOW
                        | OFlags::CLOEXEC,
                    Mode::from_raw_mode(0o600),
                )
                .map_err(|e| at("create")(e.into()))?;
                let mut file = File::from(fd);
                let n = copy(entry, &mut file, &mut self.buf).map_err(at("write"))?;
                self.stats.bytes += n;
                self.set_meta(&file, &meta).map_err(at("set metadata of"))?;
                rustix::fs::futimens(&file, &timestamps(meta.mtime))
                    .map_err(|e| at("set times of")(e.into()))?;
            }
            EntryKind::Dir => {
                if !keep_dir {
                    rustix::fs::mkdirat(&parent, name, Mode::from_raw_mode(0o700))
                        .map_err(|e| at("create directory")(e.into()))?;
                }
                let fd = rustix::fs::openat(
                    &parent,
                    name,
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| at("open")(e.into()))?;
                self.set_meta(&fd, &meta).map_err(at("set metadata of"))?;
                self.dir_times.push((path.clone(), meta.mtime));
            }
            EntryKind::Symlink(target) => {
                rustix::fs::symlinkat(&target, &parent, name)
                    .map_err(|e| at("create symlink")(e.into()))?;
                self.set_link_meta(&parent, name, &meta)
                    .map_err(at("set metadata of"))?;
            }
            EntryKind::Hardlink(target) => {
                self.hardlink(&parent, name, &target).map_err(at("link"))?
            }
            EntryKind::CharDevice | EntryKind::BlockDevice | EntryKind::Fifo => {
                let h = entry.header();
                let major = h.device_major().ok().flatten().unwrap_or(0);
                let minor = h.device_minor().ok().flatten().unwrap_or(0);
                let ft = match checked.kind {
                    EntryKind::CharDevice => FileType::CharacterDevice,
                    EntryKind::BlockDevice => FileType::BlockDevice,
                    _ => FileType::Fifo,
                };
                rustix::fs::mknodat(
                    &parent,
                    name,
                    ft,
                    Mode::from_raw_mode(meta.mode),
                    rustix::fs::makedev(major, minor),
                )
                .map_err(|e| at("create node")(e.into()))?;
                #[cfg(test)]
                if let Some(hook) = self.after_mknod {
                    hook(&parent, name);
                }
                // mknod applied the umask; give the node its real mode. The tree
                // may be live: through the node itself, never by its name.
                let owner = self.privileged.then_some((meta.uid, meta.gid));
                let times = timestamps(meta.mtime);
                pinned::set_node_meta(&parent, name, ft, owner, meta.mode, &times)
                    .map_err(at("set metadata of"))?;
            }
            EntryKind::Skip | EntryKind::Whiteout(_) | EntryKind::Opaque(_) => {}
        }
        self.withheld.remove(&path);
        self.created.insert(path);
        Ok(())
    }

    /// Applies the options that keep privileges from being copied: set-id bits
    /// and `security.*`/`trusted.*` xattrs (file capabilities among them).
    fn confine(&self, meta: &mut Meta) {
        if self.opts.strip_setid {
            meta.mode &= !0o6000;
        }
        if self.opts.drop_privileged_xattrs {
            meta.xattrs
                .retain(|(name, _)| !crate::path::is_privileged_xattr(name));
        }
    }

    /// True when the entry is not created: a device node the options (or the
    /// process's privileges) rule out, or a hard link to one.
    fn withholds(&self, kind: &EntryKind) -> bool {
        match kind {
            EntryKind::CharDevice | EntryKind::BlockDevice => {
                self.opts.skip_devices || !self.privileged
            }
            EntryKind::Hardlink(target) => self.withheld.contains(target),
            _ => false,
        }
    }

    fn set_meta(&self, fd: &impl AsFd, meta: &Meta) -> std::io::Result<()> {
        if self.privileged {
            rustix::fs::fchown(
                fd,
                Some(rustix::fs::Uid::from_raw(meta.uid)),
                Some(rustix::fs::Gid::from_raw(meta.gid)),
            )?;
        }
        // After chown, which clears set-id bits.
        rustix::fs::fchmod(fd, Mode::from_raw_mode(meta.mode))?;
        for (name, value) in &meta.xattrs {
            match rustix::fs::fsetxattr(fd, name.as_str(), value, XattrFlags::empty()) {
                Ok(()) => {}
                // Unprivileged processes cannot set trusted.*/security.* names,
                // and some file systems take no xattrs: keep going, as tar does.
                Err(rustix::io::Errno::PERM | rustix::io::Errno::NOTSUP) => {
                    tracing::debug!(xattr = name.as_str(), "xattr not set");
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Owner and times of a symlink, without following it (symlinks have no
    /// mode of their own).
    fn set_link_meta(&self, parent: &OwnedFd, name: &OsStr, meta: &Meta) -> std::io::Result<()> {
        if self.privileged {
            rustix::fs::chownat(
                parent,
                name,
                Some(rustix::fs::Uid::from_raw(meta.uid)),
                Some(rustix::fs::Gid::from_raw(meta.gid)),
                AtFlags::SYMLINK_NOFOLLOW,
            )?;
        }
        rustix::fs::utimensat(
            parent,
            name,
            &timestamps(meta.mtime),
            AtFlags::SYMLINK_NOFOLLOW,
        )?;
        Ok(())
    }

    fn hardlink(&mut self, parent: &OwnedFd, name: &OsStr, target: &Path) -> std::io::Result<()> {
        let (tparent_rel, tname) =
            fsops::split(target).ok_or_else(|| std::io::Error::other("hard link to the root"))?;
        let tparent = match self
            .root
            .open_in(tparent_rel, OFlags::PATH | OFlags::DIRECTORY)
        {
            Ok(fd) => Some(fd),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        let present = match &tparent {
            Some(fd) => match fsops::lstat_at(fd, tname)? {
                // A whiteout made earlier in this layer: the target was deleted.
                Some(st)
                    if FileType::from_raw_mode(st.st_mode) == FileType::CharacterDevice
                        && st.st_rdev == 0
                        && self.opts.mode == WhiteoutMode::Overlay =>
                {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("hard link target {} was deleted", target.display()),
                    ))
                }
                found => found.is_some(),
            },
            None => false,
        };
        if !present {
            if self.opts.mode != WhiteoutMode::Overlay {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("hard link target {} does not exist", target.display()),
                ));
            }
            self.copy_up(target)?;
        }
        let tparent = self
            .root
            .open_in(tparent_rel, OFlags::PATH | OFlags::DIRECTORY)?;
        Ok(rustix::fs::linkat(
            &tparent,
            tname,
            parent,
            name,
            AtFlags::empty(),
        )?)
    }

    /// Overlay mode: copies a file (or symlink) from the nearest lower layer that
    /// shows it into this layer, so a hard link to it can be made here, as
    /// overlayfs copies up. Lower layers are searched as overlayfs would: a
    /// whiteout or an opaque directory in a nearer layer hides the farther ones.
    fn copy_up(&mut self, target: &Path) -> std::io::Result<()> {
        let not_found = || {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("hard link target {} is in no layer", target.display()),
            )
        };
        let (parent_rel, name) = fsops::split(target).ok_or_else(not_found)?;
        if let Some(gate) = self.opts.lowers_ready.take() {
            (gate.0)()?;
        }
        self.copy_up_file(target, parent_rel, name, not_found)
    }

    /// Overlay mode: the directory `rel` of this layer, made if missing. Like
    /// overlayfs, a directory made here takes the owner, mode, times and
    /// xattrs of the nearest lower layer's directory at that path; otherwise
    /// an entry whose parents the layer does not list would show them as
    /// 0755 root-owned directories over the lower ones.
    pub(super) fn parent_dir(&mut self, rel: &Path) -> std::io::Result<OwnedFd> {
        if self.opts.mode != WhiteoutMode::Overlay || self.opts.lowers.is_empty() {
            return self.root.dir_create(rel);
        }
        let missing: Vec<PathBuf> = rel
            .ancestors()
            .filter(|p| !p.as_os_str().is_empty())
            // Nearest first: once one exists, so do all its parents.
            .take_while(|p| {
                matches!(
                    self.root.open_in(p, OFlags::PATH | OFlags::DIRECTORY),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound
                )
            })
            .map(Path::to_path_buf)
            .collect();
        let fd = self.root.dir_create(rel)?;
        if !missing.is_empty() {
            if let Some(gate) = self.opts.lowers_ready.take() {
                (gate.0)()?;
            }
            for dir in &missing {
                self.copy_dir_meta(dir)?;
            }
        }
        Ok(fd)
    }

    /// Gives `rel`, a directory this layer just made, the metadata of the
    /// nearest lower layer's directory at that path (overlay xattrs excepted).
    fn copy_dir_meta(&mut self, rel: &Path) -> std::io::Result<()> {
        for lower in self.opts.lowers.clone() {
            let lower_root = Root::open(&lower)?;
            let src = match lower_root.open_in(rel, OFlags::RDONLY | OFlags::DIRECTORY) {
                Ok(fd) => fd,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let st = rustix::fs::fstat(&src)?;
            let mut meta = Meta {
                uid: st.st_uid,
                gid: st.st_gid,
                mode: st.st_mode & 0o7777,
                mtime: u64::try_from(st.st_mtime).unwrap_or(0),
                xattrs: fsops::fd_xattrs(&src)?
                    .into_iter()
                    .filter(|(n, _)| !n.starts_with("trusted.overlay."))
                    .collect(),
            };
            self.confine(&mut meta);
            let dst = self.root.open_in(rel, OFlags::RDONLY | OFlags::DIRECTORY)?;
            self.set_meta(&dst, &meta)?;
            // Entries made inside later change its time: set again at the end.
            self.dir_times.push((rel.to_path_buf(), meta.mtime));
            return Ok(());
        }
        Ok(())
    }

    fn copy_up_file(
        &mut self,
        target: &Path,
        parent_rel: &Path,
        name: &std::ffi::OsStr,
        not_found: impl Fn() -> std::io::Error,
    ) -> std::io::Result<()> {
        for lower in self.opts.lowers.clone() {
            let lower_root = Root::open(&lower)?;
            let (src_parent, st) = match fsops::lookup_in_layer(&lower_root, target)? {
                fsops::Lookup::Found(parent, st) => (parent, st),
                fsops::Lookup::Absent => continue,
                fsops::Lookup::Hidden => return Err(not_found()),
            };
            let parent = self.parent_dir(parent_rel)?;
            match FileType::from_raw_mode(st.st_mode) {
                FileType::RegularFile => {
                    // Never open what is not a regular file: a FIFO would block and a
                    // device node would run its driver's open.
                    let mut src = pinned::open_regular(&src_parent, name, &st)?;
                    let fd = rustix::fs::openat(
                        &parent,
                        name,
                        OFlags::WRONLY
                            | OFlags::CREATE
                            | OFlags::EXCL
                            | OFlags::NOFOLLOW
                            | OFlags::CLOEXEC,
                        Mode::from_raw_mode(0o600),
                    )?;
                    let mut dst = File::from(fd);
                    copy(&mut src, &mut dst, &mut self.buf)?;
                    let mut meta = Meta {
                        uid: st.st_uid,
                        gid: st.st_gid,
                        mode: st.st_mode & 0o7777,
                        mtime: u64::try_from(st.st_mtime).unwrap_or(0),
                        xattrs: fsops::fd_xattrs(&src)?,
                    };
                    self.confine(&mut meta);
                    self.set_meta(&dst, &meta)?;
                    rustix::fs::futimens(&dst, &timestamps(meta.mtime))?;
                }
                FileType::Symlink => {
                    let link = rustix::fs::readlinkat(&src_parent, name, Vec::new())?;
                    rustix::fs::symlinkat(link.as_c_str(), &parent, name)?;
                    let meta = Meta {
                        uid: st.st_uid,
                        gid: st.st_gid,
                        mode: 0o777,
                        mtime: u64::try_from(st.st_mtime).unwrap_or(0),
                        xattrs: Vec::new(),
                    };
                    self.set_link_meta(&parent, name, &meta)?;
                }
                _ => {
                    return Err(std::io::Error::other(format!(
                        "hard link target {} is not a file",
                        target.display()
                    )))
                }
            }
            return Ok(());
        }
        Err(not_found())
    }

    fn whiteout(&mut self, target: &Path) -> Result<()> {
        self.stats.entries += 1;
        let full = self.root.path().join(target);
        let at = |op| Error::io(op, full.clone());
        let Some((parent_rel, name)) = fsops::split(target) else {
            return Ok(());
        };
        match self.opts.mode {
            WhiteoutMode::Apply => {
                let parent = match self
                    .root
                    .open_in(parent_rel, OFlags::PATH | OFlags::DIRECTORY)
                {
                    Ok(fd) => fd,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                    Err(e) => return Err(at("open parent of")(e)),
                };
                fsops::remove_at(&parent, name).map_err(at("remove"))?;
                self.created.remove(target);
            }
            // The guard reads no whiteouts in this mode.
            WhiteoutMode::Literal => {}
            WhiteoutMode::Overlay => {
                let parent = self
                    .parent_dir(parent_rel)
                    .map_err(at("create parent of"))?;
                fsops::remove_at(&parent, name).map_err(at("replace"))?;
                rustix::fs::mknodat(
                    &parent,
                    name,
                    FileType::CharacterDevice,
                    Mode::empty(),
                    rustix::fs::makedev(0, 0),
                )
                .map_err(|e| at("create whiteout")(e.into()))?;
            }
        }
        Ok(())
    }

    fn opaque_marker(&mut self, dir: PathBuf) -> Result<()> {
        self.stats.entries += 1;
        match self.opts.mode {
            WhiteoutMode::Apply => self.opaque.push(dir),
            // The guard reads no opaque markers in this mode.
            WhiteoutMode::Literal => {}
            WhiteoutMode::Overlay => {
                let at = |op| Error::io(op, self.root.path().join(&dir));
                self.root.dir_create(&dir).map_err(at("create"))?;
                let fd = self
                    .root
                    .open_in(&dir, OFlags::RDONLY | OFlags::DIRECTORY)
                    .map_err(at("open"))?;
                rustix::fs::fsetxattr(&fd, OVERLAY_OPAQUE, b"y", XattrFlags::empty())
                    .map_err(|e| at("mark opaque")(e.into()))?;
                self.created.insert(dir);
            }
        }
        Ok(())
    }
}

/// Sets a directory's times once everything inside it exists.
pub(super) fn set_dir_mtime(root: &Root, dir: &Path, mtime: u64) -> Result<()> {
    match root.open_in(dir, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW) {
        Ok(fd) => rustix::fs::futimens(&fd, &timestamps(mtime))
            .map_err(|e| Error::io("set times of", root.path().join(dir))(e.into())),
        // Removed or replaced by a later entry of the same layer.
        Err(_) => Ok(()),
    }
}

fn copy(src: &mut impl Read, dst: &mut File, buf: &mut [u8]) -> std::io::Result<u64> {
    let mut n = 0u64;
    loop {
        let k = match src.read(buf) {
            Ok(0) => return Ok(n),
            Ok(k) => k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        dst.write_all(&buf[..k])?;
        n += k as u64;
    }
}
