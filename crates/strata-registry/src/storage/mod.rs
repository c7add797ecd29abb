//! Where the registry keeps its bytes: a small driver trait, so the
//! filesystem driver ([`FsStorage`]) can be joined by an object-storage one.
//!
//! Keys are `/`-separated relative paths of plain components (no `.`, `..`
//! or empty parts), checked by [`check_key`] before any driver sees them.
//! Every driver must pass [`conformance::run`].
//!
//! The semantics asked of a driver are those of object storage: whole-object
//! `put` that is atomic (a reader sees the old or the new object, never a
//! part), `append` for upload sessions, `rename` that moves an object into
//! place (the commit of an upload), listing of a "directory", and recursive
//! delete.

pub mod conformance;
mod fs;

use std::io::{Read, Write};
use std::time::SystemTime;

pub use fs::FsStorage;

use crate::error::{Error, Result};

/// What is known of a stored object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// Size in bytes.
    pub size: u64,
    /// Last modification.
    pub modified: SystemTime,
}

/// An object opened for reading, positioned at the requested offset.
pub enum Content {
    /// A local file: the server sends it straight from the file.
    File(std::fs::File),
    /// Any other stream.
    Stream(Box<dyn Read + Send>),
}

/// The storage driver trait.
pub trait Storage: Send + Sync {
    /// The whole object (small objects: links, tags, manifests).
    fn get(&self, key: &str) -> Result<Vec<u8>>;
    /// Replaces the object atomically, durably.
    fn put(&self, key: &str, data: &[u8]) -> Result<()>;
    /// Opens the object at `offset`; returns it with its total size.
    fn open(&self, key: &str, offset: u64) -> Result<(Content, u64)>;
    /// The object's metadata, or `None` when it does not exist.
    fn stat(&self, key: &str) -> Result<Option<Meta>>;
    /// The names directly below `prefix` (objects and "directories"), sorted.
    fn list(&self, prefix: &str) -> Result<Vec<String>>;
    /// Appends to the object, creating it; the writer's `flush` makes the
    /// data durable.
    fn append(&self, key: &str) -> Result<Box<dyn Write + Send>>;
    /// Moves `from` to `to` atomically, replacing `to`.
    fn rename(&self, from: &str, to: &str) -> Result<()>;
    /// Deletes the object or everything below the prefix; absent is fine.
    fn delete(&self, key: &str) -> Result<()>;
    /// Sets the object's modification time to now (garbage collection spares
    /// recently touched objects); absent is fine.
    fn touch(&self, key: &str) -> Result<()>;
}

/// Refuses keys that are not plain relative paths.
pub fn check_key(key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.len() <= 4096
        && key
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\0'));
    if ok {
        Ok(())
    } else {
        Err(Error::Internal(format!("bad storage key {key:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_plain_relative_paths() {
        for ok in [
            "a",
            "a/b",
            "blobs/sha256/ab",
            "repositories/x/_uploads/id/data",
        ] {
            assert!(check_key(ok).is_ok(), "{ok}");
        }
        for bad in ["", "/a", "a/", "a//b", "../a", "a/../b", "./a", "a\0b"] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_fs_driver_passes_the_conformance_suite() {
        let dir = strata_testkit::TempDir::new("registry-storage");
        let storage = FsStorage::new(dir.path()).expect("open");
        conformance::run(&storage);
    }
}
