//! Creating a layer tar from a directory tree.
//!
//! Entries come out sorted by name (bytewise), parents before children, so the same
//! tree always gives the same bytes. Modes, owners, mtimes, xattrs (PAX
//! `SCHILY.xattr.*`), symlinks, hard links (by inode) and device nodes are kept;
//! sockets are skipped, as Docker does. Long names use GNU long-name entries.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Options for [`write_dir`].
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// Clamp every mtime to at most this Unix time (`SOURCE_DATE_EPOCH`).
    pub clamp_mtime: Option<u64>,
}

/// One thing to put in the tar: a path relative to the root and where to read it.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    /// Path inside the layer.
    pub rel: PathBuf,
    /// Path on disk.
    pub disk: PathBuf,
}

/// Writes the tree under `dir` (not `dir` itself) as a tar stream into `out`.
pub fn write_dir<W: Write>(dir: &Path, out: W, opts: &CreateOptions) -> Result<W> {
    let mut w = TarWriter::new(out, opts.clone());
    walk(dir, Path::new(""), &mut |src| w.append(&src))?;
    w.finish()
}

/// Calls `f` for every entry below `dir`, sorted, parents first.
pub(crate) fn walk(dir: &Path, rel: &Path, f: &mut dyn FnMut(Source) -> Result<()>) -> Result<()> {
    let mut names: Vec<OsString> = fs::read_dir(dir)
        .map_err(Error::io("read directory", dir))?
        .map(|e| e.map(|e| e.file_name()))
        .collect::<std::io::Result<_>>()
        .map_err(Error::io("read directory", dir))?;
    names.sort_by(|a, b| a.as_encoded_bytes().cmp(b.as_encoded_bytes()));
    for name in names {
        let disk = dir.join(&name);
        let rel = rel.join(&name);
        let is_dir = fs::symlink_metadata(&disk)
            .map_err(Error::io("stat", &disk))?
            .is_dir();
        f(Source {
            rel: rel.clone(),
            disk: disk.clone(),
        })?;
        if is_dir {
            walk(&disk, &rel, f)?;
        }
    }
    Ok(())
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

    fn header(&self, meta: &fs::Metadata) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_metadata_in_mode(meta, tar::HeaderMode::Complete);
        let mut mtime = u64::try_from(meta.mtime()).unwrap_or(0);
        if let Some(clamp) = self.opts.clamp_mtime {
            mtime = mtime.min(clamp);
        }
        h.set_mtime(mtime);
        h.set_mode(meta.mode() & 0o7777);
        h.set_size(0);
        let ft = meta.file_type();
        if ft.is_char_device() || ft.is_block_device() {
            // Values that fit the octal fields; set_device_* only fails above 2^21.
            let _ = h.set_device_major(rustix::fs::major(meta.rdev()));
            let _ = h.set_device_minor(rustix::fs::minor(meta.rdev()));
        }
        h
    }

    /// Appends one entry as found on disk.
    pub(crate) fn append(&mut self, src: &Source) -> Result<()> {
        let meta = fs::symlink_metadata(&src.disk).map_err(Error::io("stat", &src.disk))?;
        let ft = meta.file_type();
        if ft.is_socket() {
            return Ok(());
        }
        self.append_xattrs(&src.disk, ft.is_symlink())?;
        let mut h = self.header(&meta);
        let werr = |e| Error::Write(e);
        if ft.is_file() && meta.nlink() > 1 {
            let key = (meta.dev(), meta.ino());
            if let Some(first) = self.inodes.get(&key) {
                h.set_entry_type(tar::EntryType::Link);
                let first = first.clone();
                return self
                    .builder
                    .append_link(&mut h, &src.rel, &first)
                    .map_err(werr);
            }
            self.inodes.insert(key, src.rel.clone());
        }
        if ft.is_file() {
            h.set_size(meta.len());
            let file = fs::File::open(&src.disk).map_err(Error::io("open", &src.disk))?;
            // A file that changes size while being read would corrupt the
            // archive; `take` plus the length check turns that into an error.
            let mut reader = std::io::Read::take(file, meta.len());
            self.builder
                .append_data(&mut h, &src.rel, &mut reader)
                .map_err(werr)?;
            if reader.limit() != 0 {
                return Err(Error::io("read", &src.disk)(std::io::Error::other(
                    "file shrank while being archived",
                )));
            }
            Ok(())
        } else if ft.is_symlink() {
            let target = fs::read_link(&src.disk).map_err(Error::io("read link", &src.disk))?;
            self.builder
                .append_link(&mut h, &src.rel, &target)
                .map_err(werr)
        } else {
            // Directories, devices and FIFOs carry no data.
            self.builder
                .append_data(&mut h, &src.rel, std::io::empty())
                .map_err(werr)
        }
    }

    /// Appends an entry built by the caller (whiteouts), with no data.
    pub(crate) fn append_empty(&mut self, h: &mut tar::Header, rel: &Path) -> Result<()> {
        self.builder
            .append_data(h, rel, std::io::empty())
            .map_err(Error::Write)
    }

    fn append_xattrs(&mut self, path: &Path, is_symlink: bool) -> Result<()> {
        let xattrs = read_xattrs(path, is_symlink)?;
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

/// Extended attributes of a path (not following symlinks), without overlayfs' own.
pub(crate) fn read_xattrs(path: &Path, is_symlink: bool) -> Result<Vec<(String, Vec<u8>)>> {
    if is_symlink {
        // Linux allows only trusted.*/security.* on symlinks; images rarely carry
        // them, and reading them needs privileges tar does not assume.
        return Ok(Vec::new());
    }
    let mut names = vec![0u8; 4096];
    let n = loop {
        match rustix::fs::llistxattr(path, &mut names[..]) {
            Ok(n) => break n,
            Err(rustix::io::Errno::RANGE) => names.resize(names.len() * 4, 0),
            Err(rustix::io::Errno::NOTSUP) => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("list xattrs", path)(e.into())),
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
            match rustix::fs::lgetxattr(path, name, &mut value[..]) {
                Ok(len) => break len,
                Err(rustix::io::Errno::RANGE) => value.resize(value.len() * 4, 0),
                Err(e) => return Err(Error::io("read xattr", path)(e.into())),
            }
        };
        value.truncate(len);
        out.push((name.to_owned(), value));
    }
    out.sort();
    Ok(out)
}
