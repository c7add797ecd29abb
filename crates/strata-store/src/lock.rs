//! Cross-process locking with `flock(2)`.
//!
//! Two locks keep several `strata` processes safe:
//! - `locks/gc`: every command that writes or reads blobs holds it *shared* for its
//!   whole run; garbage collection (rmi, prune, check --repair) holds it *exclusive*.
//!   So GC never deletes a blob that a running import has written but not yet
//!   recorded, and under the exclusive lock every temp file is provably stale.
//! - `locks/records`: held exclusive around each read-modify-write of `images.json`.
//!
//! The kernel drops both when a process dies, so `kill -9` never leaves a lock behind.

use std::fs::{File, OpenOptions};
use std::path::Path;

use rustix::fs::{flock, FlockOperation};

use crate::error::{Error, Result};

/// A held lock; released on drop.
#[derive(Debug)]
pub struct LockGuard {
    _file: File,
}

/// Shared or exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Many holders.
    Shared,
    /// One holder.
    Exclusive,
}

fn open(path: &Path) -> Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(Error::io("open lock", path))
}

/// Blocks until the lock file at `path` is held in `mode`.
pub fn lock(path: &Path, mode: LockMode) -> Result<LockGuard> {
    let file = open(path)?;
    let op = match mode {
        LockMode::Shared => FlockOperation::LockShared,
        LockMode::Exclusive => FlockOperation::LockExclusive,
    };
    loop {
        match flock(&file, op) {
            Ok(()) => return Ok(LockGuard { _file: file }),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(Error::io("lock", path)(e.into())),
        }
    }
}

/// Takes the lock only if nobody holds it in a conflicting mode.
pub fn try_lock(path: &Path, mode: LockMode) -> Result<Option<LockGuard>> {
    let file = open(path)?;
    let op = match mode {
        LockMode::Shared => FlockOperation::NonBlockingLockShared,
        LockMode::Exclusive => FlockOperation::NonBlockingLockExclusive,
    };
    match flock(&file, op) {
        Ok(()) => Ok(Some(LockGuard { _file: file })),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(None),
        Err(e) => Err(Error::io("lock", path)(e.into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_excludes_shared_until_dropped() {
        let dir = strata_testkit::TempDir::new("lock");
        let p = dir.join("gc");
        let a = lock(&p, LockMode::Shared).unwrap();
        let b = lock(&p, LockMode::Shared).unwrap();
        assert!(try_lock(&p, LockMode::Exclusive).unwrap().is_none());
        drop((a, b));
        let x = try_lock(&p, LockMode::Exclusive).unwrap();
        assert!(x.is_some());
        assert!(try_lock(&p, LockMode::Shared).unwrap().is_none());
    }
}
