//! Layers from changes: an overlayfs upper directory, or two trees compared.
//!
//! Both emit the OCI whiteout convention: `.wh.NAME` for a deleted path and
//! `DIR/.wh..wh..opq` for a directory that hides what was below it.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::create::{read_xattrs, walk, CreateOptions, Source, TarWriter};
use crate::error::{Error, Result};
use crate::path::{OPAQUE_MARKER, WHITEOUT_PREFIX};

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

/// Writes the layer an overlayfs upper directory represents: 0/0 character
/// devices become `.wh.` entries, `trusted.overlay.opaque=y` directories get an
/// opaque marker. Only what changed is walked, not the merged root file system.
pub fn write_overlay_upper<W: Write>(upper: &Path, out: W, opts: &CreateOptions) -> Result<W> {
    let mut w = TarWriter::new(out, opts.clone());
    let mtime = opts.clamp_mtime.unwrap_or(0);
    walk(upper, Path::new(""), &mut |src: Source| {
        let meta = fs::symlink_metadata(&src.disk).map_err(Error::io("stat", &src.disk))?;
        if meta.file_type().is_char_device() && meta.rdev() == 0 {
            return w.append_empty(&mut whiteout_header(mtime), &whiteout_path(&src.rel));
        }
        w.append(&src)?;
        if meta.is_dir() && is_opaque(&src.disk)? {
            w.append_empty(&mut whiteout_header(mtime), &src.rel.join(OPAQUE_MARKER))?;
        }
        Ok(())
    })?;
    w.finish()
}

fn is_opaque(dir: &Path) -> Result<bool> {
    let mut v = [0u8; 8];
    match rustix::fs::lgetxattr(dir, crate::apply::OVERLAY_OPAQUE, &mut v[..]) {
        Ok(n) => Ok(&v[..n] == b"y"),
        Err(rustix::io::Errno::NODATA | rustix::io::Errno::NOTSUP) => Ok(false),
        Err(e) => Err(Error::io("read xattr", dir)(e.into())),
    }
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
    let mut changes = Vec::new();
    collect(lower, upper, Path::new(""), &mut changes)?;
    let mut w = TarWriter::new(out, opts.clone());
    let mtime = opts.clamp_mtime.unwrap_or(0);
    for change in changes {
        match change {
            Change::Deleted(rel) => {
                w.append_empty(&mut whiteout_header(mtime), &whiteout_path(&rel))?
            }
            Change::Present(rel) => w.append(&Source {
                disk: upper.join(&rel),
                rel,
            })?,
        }
    }
    w.finish()
}

enum Change {
    Present(PathBuf),
    Deleted(PathBuf),
}

fn children(dir: &Path) -> Result<BTreeMap<Vec<u8>, OsString>> {
    match fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| {
                e.map(|e| (e.file_name().as_encoded_bytes().to_vec(), e.file_name()))
                    .map_err(Error::io("read directory", dir))
            })
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(Error::io("read directory", dir)(e)),
    }
}

fn collect(lower: &Path, upper: &Path, rel: &Path, out: &mut Vec<Change>) -> Result<()> {
    let old = children(&lower.join(rel))?;
    let new = children(&upper.join(rel))?;
    let mut keys: Vec<&Vec<u8>> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let Some(name) = new.get(key) else {
            out.push(Change::Deleted(rel.join(&old[key])));
            continue;
        };
        let child = rel.join(name);
        let disk = upper.join(&child);
        let now = fs::symlink_metadata(&disk).map_err(Error::io("stat", &disk))?;
        let before = match old.get(key) {
            Some(_) => Some(
                fs::symlink_metadata(lower.join(&child))
                    .map_err(Error::io("stat", lower.join(&child)))?,
            ),
            None => None,
        };
        let changed = match &before {
            None => true,
            Some(b) => differs(b, &now, &lower.join(&child), &disk)?,
        };
        let mark = out.len();
        if changed {
            out.push(Change::Present(child.clone()));
        }
        if now.is_dir() {
            if before.as_ref().is_some_and(fs::Metadata::is_dir) {
                collect(lower, upper, &child, out)?;
                if !changed && out.len() > mark {
                    out.insert(mark, Change::Present(child.clone()));
                }
            } else {
                walk(&disk, &child, &mut |src| {
                    out.push(Change::Present(src.rel));
                    Ok(())
                })?;
            }
        }
    }
    Ok(())
}

fn differs(a: &fs::Metadata, b: &fs::Metadata, pa: &Path, pb: &Path) -> Result<bool> {
    let fa = a.file_type();
    let fb = b.file_type();
    let type_differs = fa.is_dir() != fb.is_dir()
        || fa.is_file() != fb.is_file()
        || fa.is_symlink() != fb.is_symlink()
        || fa.is_char_device() != fb.is_char_device()
        || fa.is_block_device() != fb.is_block_device()
        || fa.is_fifo() != fb.is_fifo();
    if type_differs
        || a.mode() != b.mode()
        || a.uid() != b.uid()
        || a.gid() != b.gid()
        || a.rdev() != b.rdev()
    {
        return Ok(true);
    }
    if fa.is_dir() {
        // A directory's own mtime changes whenever its entries do; Docker does
        // not report directories for that alone, only for metadata changes.
        return Ok(read_xattrs(pa, false)? != read_xattrs(pb, false)?);
    }
    if a.len() != b.len() || a.mtime() != b.mtime() || a.mtime_nsec() != b.mtime_nsec() {
        return Ok(true);
    }
    if fa.is_symlink() {
        return Ok(fs::read_link(pa).map_err(Error::io("read link", pa))?
            != fs::read_link(pb).map_err(Error::io("read link", pb))?);
    }
    Ok(read_xattrs(pa, false)? != read_xattrs(pb, false)?)
}
