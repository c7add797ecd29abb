//! Creating a layer tar from a directory tree.
//!
//! Entries come out sorted by name (bytewise), parents before children, so the same
//! tree always gives the same bytes. Modes, owners, mtimes, xattrs (PAX
//! `SCHILY.xattr.*`), symlinks, hard links (by inode) and device nodes are kept;
//! sockets are skipped, as Docker does. Long names use GNU long-name entries. The
//! tree is read through [`Tree`], so a concurrent swap to a symlink fails the
//! read instead of redirecting it.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rustix::fs::{FileType, Stat};

use crate::error::{Error, Result};
use crate::tree::{walk, Entry, Tree};

/// Options for [`write_dir`].
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// Clamp every mtime to at most this Unix time (`SOURCE_DATE_EPOCH`).
    pub clamp_mtime: Option<u64>,
}

/// Writes the tree under `dir` (not `dir` itself) as a tar stream into `out`.
pub fn write_dir<W: Write>(dir: &Path, out: W, opts: &CreateOptions) -> Result<W> {
    let tree = Tree::open(dir)?;
    let mut w = TarWriter::new(out, opts.clone());
    walk(&tree, Path::new(""), &mut |e: &Entry| {
        w.append(&tree, &e.rel, &e.stat)
    })?;
    w.finish()
}

/// A tar writer that knows file system metadata.
pub(crate) struct TarWriter<W: Write> {
    builder: tar::Builder<W>,
    opts: CreateOptions,
    inodes: HashMap<(u64, u64), PathBuf>,
}

impl<W: Write> TarWriter<W> {
    pub(crate) fn new(out: W, opts: CreateOptions) -> Self {
        let mut builder = tar::Builder::new(out);
        builder.mode(tar::HeaderMode::Complete);
        builder.follow_symlinks(false);
        TarWriter {
            builder,
            opts,
            inodes: HashMap::new(),
        }
    }

    fn header(&self, st: &Stat, kind: tar::EntryType) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(st.st_mode & 0o7777);
        h.set_uid(u64::from(st.st_uid));
        h.set_gid(u64::from(st.st_gid));
        let mut mtime = u64::try_from(st.st_mtime).unwrap_or(0);
        if let Some(clamp) = self.opts.clamp_mtime {
            mtime = mtime.min(clamp);
        }
        h.set_mtime(mtime);
        h.set_size(0);
        if matches!(kind, tar::EntryType::Char | tar::EntryType::Block) {
            // Values that fit the octal fields; set_device_* only fails above 2^21.
            let _ = h.set_device_major(rustix::fs::major(st.st_rdev));
            let _ = h.set_device_minor(rustix::fs::minor(st.st_rdev));
        }
        h
    }

    /// Appends one entry of `tree` as found there.
    pub(crate) fn append(&mut self, tree: &Tree, rel: &Path, st: &Stat) -> Result<()> {
        self.append_as(tree, rel, rel, st)
    }

    /// Appends the entry `rel` of `tree` under another name in the archive.
    pub(crate) fn append_as(
        &mut self,
        tree: &Tree,
        rel: &Path,
        name: &Path,
        st: &Stat,
    ) -> Result<()> {
        let kind = match FileType::from_raw_mode(st.st_mode) {
            FileType::RegularFile => tar::EntryType::Regular,
            FileType::Directory => tar::EntryType::Directory,
            FileType::Symlink => tar::EntryType::Symlink,
            FileType::CharacterDevice => tar::EntryType::Char,
            FileType::BlockDevice => tar::EntryType::Block,
            FileType::Fifo => tar::EntryType::Fifo,
            // Sockets (and anything unknown) do not belong in images.
            _ => return Ok(()),
        };
        // A regular file is opened once, for its attributes and its data.
        let file = match kind {
            tar::EntryType::Regular => Some(tree.open_file(rel, st)?),
            _ => None,
        };
        let xattrs = match &file {
            Some(f) => tree.file_xattrs(rel, f)?,
            None => tree.xattrs(rel, st)?,
        };
        self.append_xattrs(xattrs)?;
        let mut h = self.header(st, kind);
        if kind == tar::EntryType::Regular && st.st_nlink > 1 {
            let key = (st.st_dev, st.st_ino);
            if let Some(first) = self.inodes.get(&key).cloned() {
                h.set_entry_type(tar::EntryType::Link);
                return self
                    .builder
                    .append_link(&mut h, name, &first)
                    .map_err(Error::Write);
            }
            self.inodes.insert(key, name.to_path_buf());
        }
        match kind {
            tar::EntryType::Regular => {
                let size = u64::try_from(st.st_size).unwrap_or(0);
                h.set_size(size);
                let file = match file {
                    Some(f) => f,
                    None => tree.open_file(rel, st)?,
                };
                // A file that grows or shrinks while being read would corrupt the
                // archive; `take` plus the length check turns that into an error.
                let mut reader = file.take(size);
                self.builder
                    .append_data(&mut h, name, &mut reader)
                    .map_err(Error::Write)?;
                if reader.limit() != 0 {
                    return Err(Error::Io {
                        op: "read",
                        path: rel.to_path_buf(),
                        source: std::io::Error::other("file shrank while being archived"),
                    });
                }
                Ok(())
            }
            tar::EntryType::Symlink => {
                let target = tree.readlink(rel)?;
                self.builder
                    .append_link(&mut h, name, &target)
                    .map_err(Error::Write)
            }
            // Directories, devices and FIFOs carry no data.
            _ => self
                .builder
                .append_data(&mut h, name, std::io::empty())
                .map_err(Error::Write),
        }
    }

    /// Appends an entry built by the caller (whiteouts), with no data.
    pub(crate) fn append_empty(&mut self, h: &mut tar::Header, rel: &Path) -> Result<()> {
        self.builder
            .append_data(h, rel, std::io::empty())
            .map_err(Error::Write)
    }

    fn append_xattrs(&mut self, xattrs: Vec<(String, Vec<u8>)>) -> Result<()> {
        if xattrs.is_empty() {
            return Ok(());
        }
        let records: Vec<(String, Vec<u8>)> = xattrs
            .into_iter()
            .map(|(k, v)| (format!("SCHILY.xattr.{k}"), v))
            .collect();
        self.builder
            .append_pax_extensions(records.iter().map(|(k, v)| (k.as_str(), v.as_slice())))
            .map_err(Error::Write)
    }

    pub(crate) fn finish(self) -> Result<W> {
        self.builder.into_inner().map_err(Error::Write)
    }
}
