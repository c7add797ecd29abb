//! The check at the door: every layer entering the store passes through a [`Guard`]
//! entry by entry, as it streams in, before anything is recorded.
//!
//! Refused: paths that climb out of the root (`../`), entries written through a
//! symlink created earlier in the *same* layer (`link -> /etc` then `link/passwd`),
//! hard links whose target climbs out or goes through such a symlink, whiteouts of
//! `.`/`..`, entry types we do not extract, and entries over the size limit.
//!
//! Symlinks from *lower* layers cannot be judged here (the guard sees one layer);
//! extraction resolves every path inside the root for that (see `apply`).

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::ops::Bound;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::path::{self, Whiteout};

/// Default per-entry size limit: 32 GiB. Larger entries are refused as hostile.
pub const DEFAULT_MAX_ENTRY_SIZE: u64 = 32 << 30;

/// What kind of thing an entry creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link to the given target (verbatim).
    Symlink(PathBuf),
    /// A hard link to the given path inside the root (normalised).
    Hardlink(PathBuf),
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// A named pipe.
    Fifo,
    /// A whiteout: remove this path from lower layers.
    Whiteout(PathBuf),
    /// An opaque marker: this directory hides lower layers' content.
    Opaque(PathBuf),
    /// Something to skip silently (AUFS metadata, PAX global headers).
    Skip,
}

/// An entry that passed the door.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Normalised path inside the root (empty for the root itself).
    pub path: PathBuf,
    /// What it creates.
    pub kind: EntryKind,
}

/// Per-layer state of the door check.
#[derive(Debug)]
pub struct Guard {
    symlinks: BTreeSet<PathBuf>,
    max_entry_size: u64,
    whiteouts: bool,
}

impl Default for Guard {
    fn default() -> Self {
        Guard::new(DEFAULT_MAX_ENTRY_SIZE)
    }
}

impl Guard {
    /// A guard for one layer, refusing entries larger than `max_entry_size`.
    pub fn new(max_entry_size: u64) -> Self {
        Guard {
            symlinks: BTreeSet::new(),
            max_entry_size,
            whiteouts: true,
        }
    }

    /// Reads `.wh.*` names as ordinary files, not whiteouts: for archives that
    /// are not layers (`cp`), where such a name is just a file's name.
    pub fn without_whiteouts(mut self) -> Self {
        self.whiteouts = false;
        self
    }

    /// Checks one tar entry.
    pub fn check<R: std::io::Read>(&mut self, entry: &tar::Entry<'_, R>) -> Result<Checked> {
        let raw = entry.path_bytes();
        let kind = entry.header().entry_type();
        let link = entry.link_name_bytes();
        // `Entry::size` honours a PAX `size` record; the header field alone
        // would let a PAX-sized entry past the limit.
        self.check_parts(&raw, kind, link.as_deref(), entry.size())
    }

    /// The check itself, on the parts of an entry.
    pub fn check_parts(
        &mut self,
        raw: &[u8],
        kind: tar::EntryType,
        link: Option<&[u8]>,
        size: u64,
    ) -> Result<Checked> {
        use tar::EntryType as T;
        if matches!(
            kind,
            T::XGlobalHeader | T::XHeader | T::GNULongName | T::GNULongLink
        ) {
            return Ok(Checked {
                path: PathBuf::new(),
                kind: EntryKind::Skip,
            });
        }
        let path = path::normalize(raw)
            .ok_or_else(|| Error::hostile(raw, "path climbs out of the root"))?;
        if size > self.max_entry_size {
            return Err(Error::TooLarge {
                entry: String::from_utf8_lossy(raw).into_owned(),
                size,
                limit: self.max_entry_size,
            });
        }
        self.refuse_through_symlink(raw, &path)?;
        let whiteout = if self.whiteouts {
            path::whiteout(&path).map_err(|why| Error::hostile(raw, why))?
        } else {
            Whiteout::None
        };
        let kind = match whiteout {
            Whiteout::Meta => EntryKind::Skip,
            Whiteout::Remove(target) => {
                self.forget_below(&target);
                EntryKind::Whiteout(target)
            }
            Whiteout::Opaque(dir) => EntryKind::Opaque(dir),
            Whiteout::None if path.as_os_str().is_empty() && kind != T::Directory => {
                return Err(Error::hostile(
                    raw,
                    "only a directory may describe the root",
                ))
            }
            Whiteout::None => match kind {
                T::Regular | T::Continuous => EntryKind::File,
                T::Directory => EntryKind::Dir,
                T::Symlink => {
                    let target =
                        link.ok_or_else(|| Error::hostile(raw, "symlink without target"))?;
                    if path.as_os_str().is_empty() {
                        return Err(Error::hostile(raw, "a symlink cannot replace the root"));
                    }
                    // Byte-exact: targets need not be UTF-8.
                    EntryKind::Symlink(PathBuf::from(OsStr::from_bytes(target)))
                }
                T::Link => {
                    let target =
                        link.ok_or_else(|| Error::hostile(raw, "hard link without target"))?;
                    let target = path::normalize(target).ok_or_else(|| {
                        Error::hostile(raw, "hard link target climbs out of the root")
                    })?;
                    if target.as_os_str().is_empty() || target == path {
                        return Err(Error::hostile(raw, "hard link to itself or to the root"));
                    }
                    self.refuse_through_symlink(raw, &target)?;
                    if self.symlinks.contains(&target) {
                        // Linking the symlink itself is fine (no_follow), but it
                        // must keep being tracked as a symlink at the new path.
                        self.symlinks.insert(path.clone());
                    }
                    EntryKind::Hardlink(target)
                }
                T::Char => EntryKind::CharDevice,
                T::Block => EntryKind::BlockDevice,
                T::Fifo => EntryKind::Fifo,
                other => {
                    return Err(Error::Unsupported(format!(
                        "entry {:?} has tar type {:?}",
                        String::from_utf8_lossy(raw),
                        other
                    )))
                }
            },
        };
        match &kind {
            EntryKind::Symlink(_) => {
                self.forget_below(&path);
                self.symlinks.insert(path.clone());
            }
            EntryKind::Skip | EntryKind::Whiteout(_) | EntryKind::Opaque(_) => {}
            EntryKind::Hardlink(_) => {}
            _ => {
                self.symlinks.remove(&path);
            }
        }
        Ok(Checked { path, kind })
    }

    fn refuse_through_symlink(&self, raw: &[u8], path: &Path) -> Result<()> {
        if self.symlinks.is_empty() {
            return Ok(());
        }
        let mut ancestor = path.parent();
        while let Some(a) = ancestor {
            if a.as_os_str().is_empty() {
                break;
            }
            if self.symlinks.contains(a) {
                return Err(Error::hostile(
                    raw,
                    format!(
                        "written through symlink {:?} created earlier in this layer",
                        a
                    ),
                ));
            }
            ancestor = a.parent();
        }
        Ok(())
    }

    /// Forgets the symlinks at or below `path`. Paths order component-wise, so
    /// they are one contiguous run starting at `path`: no full scan.
    fn forget_below(&mut self, path: &Path) {
        let below: Vec<PathBuf> = self
            .symlinks
            .range::<Path, _>((Bound::Included(path), Bound::Unbounded))
            .take_while(|s| s.starts_with(path))
            .cloned()
            .collect();
        for s in below {
            self.symlinks.remove(&s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tar::EntryType as T;

    fn check(g: &mut Guard, path: &str, kind: T, link: Option<&str>) -> Result<Checked> {
        g.check_parts(path.as_bytes(), kind, link.map(str::as_bytes), 0)
    }

    #[test]
    fn guard_refuses_parent_escapes() {
        let mut g = Guard::default();
        let err = check(&mut g, "../../etc/passwd", T::Regular, None).unwrap_err();
        assert!(err.to_string().contains("../../etc/passwd"), "{err}");
        assert!(check(&mut g, "a/../../x", T::Directory, None).is_err());
    }

    #[test]
    fn guard_refuses_writes_through_a_symlink_from_the_same_layer() {
        let mut g = Guard::default();
        check(&mut g, "etc", T::Symlink, Some("/etc")).unwrap();
        let err = check(&mut g, "etc/passwd", T::Regular, None).unwrap_err();
        assert!(err.to_string().contains("written through symlink"), "{err}");
        check(&mut g, "up", T::Symlink, Some("../../..")).unwrap();
        assert!(check(&mut g, "up/x/y", T::Directory, None).is_err());
        assert!(check(&mut g, "h", T::Link, Some("up/shadow")).is_err());
    }

    #[test]
    fn a_symlink_replaced_by_a_directory_is_no_longer_a_hazard() {
        let mut g = Guard::default();
        check(&mut g, "d", T::Symlink, Some("/tmp")).unwrap();
        check(&mut g, "d", T::Directory, None).unwrap();
        check(&mut g, "d/file", T::Regular, None).unwrap();
        check(&mut g, "e", T::Symlink, Some("/tmp")).unwrap();
        check(&mut g, ".wh.e", T::Regular, None).unwrap();
        check(&mut g, "e/file", T::Regular, None).unwrap();
    }

    #[test]
    fn guard_refuses_hard_links_out_of_the_root() {
        let mut g = Guard::default();
        assert!(check(&mut g, "x", T::Link, Some("../../etc/shadow")).is_err());
        assert!(check(&mut g, "x", T::Link, Some("x")).is_err());
        let ok = check(&mut g, "y", T::Link, Some("/bin/sh")).unwrap();
        assert_eq!(ok.kind, EntryKind::Hardlink("bin/sh".into()));
    }

    #[test]
    fn guard_refuses_oversized_entries() {
        let mut g = Guard::new(10);
        let err = g.check_parts(b"big", T::Regular, None, 11).unwrap_err();
        assert!(matches!(
            err,
            Error::TooLarge {
                size: 11,
                limit: 10,
                ..
            }
        ));
    }

    #[test]
    fn a_pax_size_record_cannot_smuggle_an_entry_past_the_limit() {
        let tar = strata_testkit::TarBuilder::new()
            .pax(&[("size", b"100")])
            .file_header_only("big", 0)
            .finish_with_data(&[b'x'; 100]);
        let mut g = Guard::new(10);
        let mut archive = tar::Archive::new(&tar[..]);
        let mut entries = archive.entries().unwrap();
        let entry = entries.next().unwrap().unwrap();
        assert!(matches!(
            g.check(&entry),
            Err(Error::TooLarge { size: 100, .. })
        ));
    }

    #[test]
    fn only_a_directory_may_describe_the_root() {
        let mut g = Guard::default();
        check(&mut g, "./", T::Directory, None).unwrap();
        for kind in [T::Regular, T::Char, T::Fifo] {
            assert!(check(&mut g, "./", kind, None).is_err(), "{kind:?}");
        }
        assert!(check(&mut g, ".", T::Symlink, Some("/")).is_err());
        assert!(check(&mut g, "/", T::Link, Some("etc/passwd")).is_err());
    }

    #[test]
    fn forgetting_a_symlink_keeps_its_siblings_with_longer_names() {
        let mut g = Guard::default();
        check(&mut g, "e", T::Symlink, Some("/")).unwrap();
        check(&mut g, "e2", T::Symlink, Some("/")).unwrap();
        check(&mut g, ".wh.e", T::Regular, None).unwrap();
        assert!(check(&mut g, "e/x", T::Regular, None).is_ok());
        assert!(check(&mut g, "e2/x", T::Regular, None).is_err());
    }

    #[test]
    fn without_whiteouts_every_name_is_literal() {
        let mut g = Guard::default().without_whiteouts();
        for name in ["a/.wh.b", "a/.wh..wh..opq", ".wh..wh.plnk", "a/.wh."] {
            let c = check(&mut g, name, T::Regular, None).unwrap();
            assert_eq!((c.path, c.kind), (PathBuf::from(name), EntryKind::File));
        }
        assert!(check(&mut g, "../.wh.x", T::Regular, None).is_err());
    }

    #[test]
    fn whiteouts_and_opaque_markers_are_recognised() {
        let mut g = Guard::default();
        let w = check(&mut g, "a/.wh.b", T::Regular, None).unwrap();
        assert_eq!(w.kind, EntryKind::Whiteout("a/b".into()));
        let o = check(&mut g, "a/.wh..wh..opq", T::Regular, None).unwrap();
        assert_eq!(o.kind, EntryKind::Opaque("a".into()));
        assert!(check(&mut g, "a/.wh..", T::Regular, None).is_err());
    }
}
