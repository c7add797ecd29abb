//! The filesystem driver: one file per object under a root directory.
//! `put` writes a temp file, fsyncs it and renames it into place; `rename`
//! fsyncs the directory it lands in.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::{check_key, Content, Meta, Storage};
use crate::error::{Error, Result};

/// Objects as files below a root.
#[derive(Debug, Clone)]
pub struct FsStorage {
    root: PathBuf,
}

/// Temp files of `put` start with this; they never collide with keys'
/// components, which the layout never starts with a dot.
const TEMP_PREFIX: &str = ".tmp-";

impl FsStorage {
    /// The driver over `root` (created if missing).
    pub fn new(root: &Path) -> Result<Self> {
        fs::create_dir_all(root).map_err(Error::io("create", root))?;
        Ok(FsStorage {
            root: root.to_path_buf(),
        })
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        check_key(key)?;
        Ok(self.root.join(key))
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

fn parent_of(p: &Path) -> &Path {
    p.parent().unwrap_or(Path::new("."))
}

fn not_found(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound
}

impl Storage for FsStorage {
    fn get(&self, key: &str) -> Result<Vec<u8>> {
        let p = self.path(key)?;
        fs::read(&p).map_err(|e| {
            if not_found(&e) {
                Error::NotFound(key.to_owned())
            } else {
                Error::io("read", &p)(e)
            }
        })
    }

    fn put(&self, key: &str, data: &[u8]) -> Result<()> {
        let p = self.path(key)?;
        let dir = parent_of(&p);
        fs::create_dir_all(dir).map_err(Error::io("create", dir))?;
        // Unique across threads, processes and hosts sharing the volume.
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let tmp = dir.join(format!(
            "{TEMP_PREFIX}{}-{nanos}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        let write = || -> io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(data)?;
            f.sync_all()?;
            fs::rename(&tmp, &p)?;
            sync_dir(dir)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            Error::io("write", &p)(e)
        })
    }

    fn open(&self, key: &str, offset: u64) -> Result<(Content, u64)> {
        let p = self.path(key)?;
        let mut f = File::open(&p).map_err(|e| {
            if not_found(&e) {
                Error::NotFound(key.to_owned())
            } else {
                Error::io("open", &p)(e)
            }
        })?;
        let size = f.metadata().map_err(Error::io("stat", &p))?.len();
        f.seek(SeekFrom::Start(offset.min(size)))
            .map_err(Error::io("seek", &p))?;
        Ok((Content::File(f), size))
    }

    fn stat(&self, key: &str) -> Result<Option<Meta>> {
        let p = self.path(key)?;
        match fs::metadata(&p) {
            Ok(m) => Ok(Some(Meta {
                size: m.len(),
                modified: m.modified().map_err(Error::io("stat", &p))?,
            })),
            Err(e) if not_found(&e) => Ok(None),
            Err(e) => Err(Error::io("stat", &p)(e)),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>> {
        let p = self.path(prefix)?;
        let entries = match fs::read_dir(&p) {
            Ok(e) => e,
            Err(e) if not_found(&e) || e.raw_os_error() == Some(20) => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("list", &p)(e)),
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| !n.starts_with(TEMP_PREFIX))
            .collect();
        names.sort();
        Ok(names)
    }

    fn append(&self, key: &str) -> Result<Box<dyn Write + Send>> {
        let p = self.path(key)?;
        let dir = parent_of(&p);
        fs::create_dir_all(dir).map_err(Error::io("create", dir))?;
        let f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&p)
            .map_err(Error::io("open", &p))?;
        Ok(Box::new(Appender(io::BufWriter::with_capacity(1 << 20, f))))
    }

    fn rename(&self, from: &str, to: &str) -> Result<()> {
        let (src, dst) = (self.path(from)?, self.path(to)?);
        let dir = parent_of(&dst);
        fs::create_dir_all(dir).map_err(Error::io("create", dir))?;
        fs::rename(&src, &dst)
            .and_then(|()| sync_dir(dir))
            .map_err(|e| {
                if not_found(&e) && !src.exists() {
                    Error::NotFound(from.to_owned())
                } else {
                    Error::io("rename", &src)(e)
                }
            })
    }

    fn touch(&self, key: &str) -> Result<()> {
        self.touch_path(key)
    }

    fn delete(&self, key: &str) -> Result<()> {
        let p = self.path(key)?;
        let result = match fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => fs::remove_dir_all(&p),
            Ok(_) => fs::remove_file(&p),
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => Ok(()),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(Error::io("delete", &p)(e)),
        }
    }
}

impl FsStorage {
    fn touch_path(&self, key: &str) -> Result<()> {
        let p = self.path(key)?;
        match OpenOptions::new().write(true).open(&p) {
            Ok(f) => f
                .set_modified(std::time::SystemTime::now())
                .map_err(Error::io("touch", &p)),
            Err(e) if not_found(&e) => Ok(()),
            Err(e) => Err(Error::io("touch", &p)(e)),
        }
    }
}

/// An append writer whose flush reaches the disk.
struct Appender(io::BufWriter<File>);

impl Write for Appender {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()?;
        self.0.get_ref().sync_data()
    }
}
