//! Small file system helpers every writer in the store uses: atomic replace and
//! unique temporary names. Other crates writing under the store root use them too.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A name no other process or thread will pick: `<prefix><pid>-<nanos>-<n>`.
pub fn unique_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}{}-{nanos}-{n}", std::process::id())
}

/// Flushes a directory entry change (create, rename, unlink) to disk.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(Error::io("sync directory", dir))
}

/// Prefix of the temp files [`write_atomic`] renames into place.
pub const ATOMIC_TEMP_PREFIX: &str = ".tmp-";

/// Writes `bytes` to `path` so that readers see either the old file or the whole
/// new one, never a mix, even across a crash: temp file, fsync, rename, fsync dir.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(unique_name(ATOMIC_TEMP_PREFIX));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(Error::io("create", &tmp))?;
        f.write_all(bytes).map_err(Error::io("write", &tmp))?;
        f.sync_all().map_err(Error::io("sync", &tmp))?;
        fs::rename(&tmp, path).map_err(Error::io("rename", path))?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Replaces `path` with `bytes` atomically (readers see the old or the new
/// file, never a part) but without waiting for the disk: for files re-created
/// on every use (a container's generated `/etc` files and runtime spec), where
/// a crash may lose the new version but never leaves a torn one.
pub fn replace_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(unique_name(ATOMIC_TEMP_PREFIX));
    let result = fs::write(&tmp, bytes)
        .map_err(Error::io("write", &tmp))
        .and_then(|()| fs::rename(&tmp, path).map_err(Error::io("rename", path)));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Creates a directory (and its parents) that only its owner may enter, and
/// tightens an existing one. The store holds image content with setuid files and
/// device nodes; other users must not reach them.
pub fn create_private_dir(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    create_dir_all(path)?;
    let meta = fs::metadata(path).map_err(Error::io("stat", path))?;
    if meta.permissions().mode() & 0o077 != 0 {
        fs::set_permissions(path, fs::Permissions::from_mode(0o700))
            .map_err(Error::io("chmod", path))?;
    }
    Ok(())
}

/// Creates a directory and its parents.
pub fn create_dir_all(path: &Path) -> Result<()> {
    fs::create_dir_all(path).map_err(Error::io("create directory", path))
}

/// Removes a directory tree by first renaming it aside (atomic), so a crash in the
/// middle never leaves a half-deleted tree under its real name. `trash` must be on
/// the same file system.
pub fn remove_tree_atomically(path: &Path, trash: &Path) -> Result<()> {
    create_dir_all(trash)?;
    let aside: PathBuf = trash.join(unique_name(""));
    match fs::rename(path, &aside) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("rename", path)(e)),
    }
    if let Some(parent) = path.parent() {
        sync_dir(parent)?;
    }
    fs::remove_dir_all(&aside).map_err(Error::io("remove", &aside))
}

/// The entries of a directory; none when it does not exist.
pub fn dir_entries(dir: &Path) -> Result<Vec<fs::DirEntry>> {
    match fs::read_dir(dir) {
        Ok(entries) => entries
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(Error::io("read directory", dir)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::io("read directory", dir)(e)),
    }
}

/// Empties a trash directory left by interrupted removals.
pub fn empty_trash(trash: &Path) -> Result<()> {
    for entry in dir_entries(trash)? {
        let p = entry.path();
        let r = if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            fs::remove_dir_all(&p)
        } else {
            fs::remove_file(&p)
        };
        r.map_err(Error::io("remove", &p))?;
    }
    Ok(())
}

/// The mount points the kernel lists for this process (`/proc/self/mountinfo`),
/// unescaped; empty when it cannot be read.
pub fn mount_points() -> Vec<String> {
    let Ok(info) = fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    info.lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| {
            p.replace("\\040", " ")
                .replace("\\011", "\t")
                .replace("\\012", "\n")
                .replace("\\134", "\\")
        })
        .collect()
}

/// Detaches every mount at or below `dir` (deepest first). Best effort: what
/// cannot be unmounted stays.
pub fn unmount_below(dir: &Path) {
    let prefix = dir.display().to_string();
    let below = format!("{prefix}/");
    let mut points: Vec<String> = mount_points()
        .into_iter()
        .filter(|p| *p == prefix || p.starts_with(&below))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in points {
        let _ = rustix::mount::unmount(p.as_str(), rustix::mount::UnmountFlags::DETACH);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_whole_files() {
        let dir = strata_testkit::TempDir::new("fsutil");
        let p = dir.path().join("f.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temp files remain");
    }

    #[test]
    fn unique_names_differ() {
        assert_ne!(unique_name("x"), unique_name("x"));
    }

    #[test]
    fn remove_tree_atomically_leaves_nothing_behind() {
        let dir = strata_testkit::TempDir::new("fsutil");
        let tree = dir.path().join("tree");
        fs::create_dir_all(tree.join("a/b")).unwrap();
        fs::write(tree.join("a/b/c"), b"x").unwrap();
        let trash = dir.path().join("trash");
        remove_tree_atomically(&tree, &trash).unwrap();
        assert!(!tree.exists());
        assert_eq!(fs::read_dir(&trash).unwrap().count(), 0);
        remove_tree_atomically(&tree, &trash).unwrap();
    }
}
