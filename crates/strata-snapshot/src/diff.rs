//! Layers from changes: an overlayfs upper directory, or two trees compared.
//!
//! Both emit the OCI whiteout convention: `.wh.NAME` for a deleted path and
//! `DIR/.wh..wh..opq` for a directory that hides what was below it. Both read
//! their trees through [`Tree`] (no symlink is ever followed).

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use rustix::fs::{FileType, Stat};

use crate::create::{CreateOptions, TarWriter};
use crate::error::Result;
use crate::path::{OPAQUE_MARKER, WHITEOUT_PREFIX};
use crate::tree::{walk, Entry, Tree};

fn whiteout_header(mtime: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o600);
    h.set_size(0);
    h.set_mtime(mtime);
    h
}

fn whiteout_path(rel: &Path) -> PathBuf {
    let name = rel.file_name().unwrap_or_default();
    let mut wh = OsString::from(WHITEOUT_PREFIX);
    wh.push(name);
    rel.with_file_name(wh)
}

fn file_type(st: &Stat) -> FileType {
    FileType::from_raw_mode(st.st_mode)
}

/// Writes the layer an overlayfs upper directory represents: 0/0 character
/// devices become `.wh.` entries, `trusted.overlay.opaque=y` directories get an
/// opaque marker. Only what changed is walked, not the merged root file system.
pub fn write_overlay_upper<W: Write>(upper: &Path, out: W, opts: &CreateOptions) -> Result<W> {
    let tree = Tree::open(upper)?;
    let mut w = TarWriter::new(out, opts.clone());
    let mtime = opts.clamp_mtime.unwrap_or(0);
    walk(&tree, Path::new(""), &mut |e: &Entry| {
        if file_type(&e.stat) == FileType::CharacterDevice && e.stat.st_rdev == 0 {
            return w.append_empty(&mut whiteout_header(mtime), &whiteout_path(&e.rel));
        }
        w.append(&tree, &e.rel, &e.stat)?;
        if file_type(&e.stat) == FileType::Directory && tree.is_opaque(&e.rel)? {
            w.append_empty(&mut whiteout_header(mtime), &e.rel.join(OPAQUE_MARKER))?;
        }
        Ok(())
    })?;
    w.finish()
}

/// Writes the layer that turns tree `lower` into tree `upper`: entries added or
/// changed in `upper` (compared by type, mode, owner, size, mtime, link target,
/// device and xattrs, as Docker's differ does), whiteouts for what `upper` lacks,
/// and the directories holding any change (so their metadata travels with it).
pub fn write_tree_diff<W: Write>(
    lower: &Path,
    upper: &Path,
    out: W,
    opts: &CreateOptions,
) -> Result<W> {
    let (lower, upper) = (Tree::open(lower)?, Tree::open(upper)?);
    let mut changes = Vec::new();
    collect(&lower, &upper, Path::new(""), &mut changes)?;
    let mut w = TarWriter::new(out, opts.clone());
    let mtime = opts.clamp_mtime.unwrap_or(0);
    for change in changes {
        match change {
            Change::Deleted(rel) => {
                w.append_empty(&mut whiteout_header(mtime), &whiteout_path(&rel))?
            }
            Change::Present(rel, st) => w.append(&upper, &rel, &st)?,
        }
    }
    w.finish()
}

enum Change {
    Present(PathBuf, Stat),
    Deleted(PathBuf),
}

fn collect(lower: &Tree, upper: &Tree, rel: &Path, out: &mut Vec<Change>) -> Result<()> {
    let old = lower.list(rel)?;
    let new = upper.list(rel)?;
    let mut names: Vec<&OsString> = old.iter().chain(new.iter()).collect();
    names.sort_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
    names.dedup();
    for name in names {
        let child = rel.join(name);
        let Some(now) = upper.lstat_opt(&child)? else {
            out.push(Change::Deleted(child));
            continue;
        };
        let before = lower.lstat_opt(&child)?;
        let changed = match &before {
            None => true,
            Some(b) => differs(lower, upper, &child, b, &now)?,
        };
        let mark = out.len();
        if changed {
            out.push(Change::Present(child.clone(), now));
        }
        if file_type(&now) == FileType::Directory {
            if before
                .as_ref()
                .is_some_and(|b| file_type(b) == FileType::Directory)
            {
                collect(lower, upper, &child, out)?;
                if !changed && out.len() > mark {
                    out.insert(mark, Change::Present(child.clone(), now));
                }
            } else {
                // New directory (or one replacing a file): everything below is new.
                walk(upper, &child, &mut |e: &Entry| {
                    out.push(Change::Present(e.rel.clone(), e.stat));
                    Ok(())
                })?;
            }
        }
    }
    Ok(())
}

fn differs(lower: &Tree, upper: &Tree, rel: &Path, a: &Stat, b: &Stat) -> Result<bool> {
    if file_type(a) != file_type(b)
        || a.st_mode != b.st_mode
        || a.st_uid != b.st_uid
        || a.st_gid != b.st_gid
        || a.st_rdev != b.st_rdev
    {
        return Ok(true);
    }
    let ft = file_type(a);
    // A directory's own mtime changes whenever its entries do; Docker does not
    // report directories for that alone, only for metadata changes.
    if ft != FileType::Directory
        && (a.st_size != b.st_size
            || a.st_mtime != b.st_mtime
            || a.st_mtime_nsec != b.st_mtime_nsec)
    {
        return Ok(true);
    }
    if ft == FileType::Symlink {
        return Ok(lower.readlink(rel)? != upper.readlink(rel)?);
    }
    Ok(lower.xattrs(rel, a)? != upper.xattrs(rel, b)?)
}
