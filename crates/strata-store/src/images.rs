//! Image records: which images the store holds and which names point at them.
//!
//! One JSON file, `images.json`, replaced atomically under the records lock. An
//! image is keyed by its target descriptor's digest (the manifest); its ID, as
//! Docker shows it, is the config digest. Names (`docker.io/library/busybox:latest`)
//! map to targets. An image with no name is "dangling".

use std::collections::BTreeMap;
use std::fs;
use std::io;

use serde::{Deserialize, Serialize};
use strata_oci::{Descriptor, Digest, Reference};

use crate::error::{Error, Result};
use crate::fsutil;
use crate::paths::Paths;

/// The records file format version this code writes.
pub const RECORDS_VERSION: u32 = 1;

/// One image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageRecord {
    /// The manifest (or index) the image is.
    pub target: Descriptor,
    /// The image ID: the config digest (Docker's `Id`).
    pub id: Digest,
    /// When the image entered the store (RFC 3339).
    pub added: String,
    /// When a name was last pointed at it (Docker's `Metadata.LastTagTime`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_tagged: Option<String>,
}

/// The whole records file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Records {
    /// Format version.
    pub version: u32,
    /// Images by target digest.
    #[serde(default)]
    pub images: BTreeMap<Digest, ImageRecord>,
    /// Names (full references with a tag) → target digest.
    #[serde(default)]
    pub tags: BTreeMap<Reference, Digest>,
}

impl Default for Records {
    fn default() -> Self {
        Records {
            version: RECORDS_VERSION,
            images: BTreeMap::new(),
            tags: BTreeMap::new(),
        }
    }
}

impl Records {
    /// Reads the records (an absent file is an empty store).
    pub fn load(paths: &Paths) -> Result<Records> {
        let p = paths.images();
        let bytes = match fs::read(&p) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Records::default()),
            Err(e) => return Err(Error::io("read", p)(e)),
        };
        let records: Records = serde_json::from_slice(&bytes).map_err(|source| Error::Records {
            path: p.clone(),
            source,
        })?;
        if records.version > RECORDS_VERSION {
            return Err(Error::Version {
                path: p,
                found: records.version,
                supported: RECORDS_VERSION,
            });
        }
        Ok(records)
    }

    /// Writes the records atomically.
    pub fn save(&self, paths: &Paths) -> Result<()> {
        let p = paths.images();
        let bytes = serde_json::to_vec_pretty(self).map_err(|source| Error::Records {
            path: p.clone(),
            source,
        })?;
        fsutil::write_atomic(&p, &bytes)
    }

    /// The names pointing at `target`, sorted.
    pub fn names_of(&self, target: &Digest) -> Vec<Reference> {
        self.tags
            .iter()
            .filter(|(_, t)| *t == target)
            .map(|(r, _)| r.clone())
            .collect()
    }

    /// Adds (or refreshes) an image and points `names` at it. Returns the targets
    /// that names were taken from (they may now be dangling).
    pub fn put(&mut self, record: ImageRecord, names: &[Reference]) -> Vec<Digest> {
        let target = record.target.digest.clone();
        let now = record.added.clone();
        let entry = self.images.entry(target.clone()).or_insert(record);
        let mut displaced = Vec::new();
        for name in names {
            entry.last_tagged = Some(now.clone());
            if let Some(old) = self.tags.insert(name.clone(), target.clone()) {
                if old != target {
                    displaced.push(old);
                }
            }
        }
        displaced
    }

    /// Removes an image and every name pointing at it; returns the names removed.
    pub fn remove_image(&mut self, target: &Digest) -> Vec<Reference> {
        self.images.remove(target);
        let names = self.names_of(target);
        for n in &names {
            self.tags.remove(n);
        }
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: u8) -> ImageRecord {
        let d = Digest::sha256_of(&[n]);
        ImageRecord {
            target: Descriptor::new(strata_oci::media_type::OCI_MANIFEST, d.clone(), 10),
            id: Digest::sha256_of(&[n, n]),
            added: "2026-01-01T00:00:00Z".into(),
            last_tagged: None,
        }
    }

    #[test]
    fn moving_a_tag_reports_the_displaced_image() {
        let mut r = Records::default();
        let name: Reference = "busybox:latest".parse().unwrap();
        assert!(r.put(record(1), std::slice::from_ref(&name)).is_empty());
        let displaced = r.put(record(2), std::slice::from_ref(&name));
        assert_eq!(displaced, vec![record(1).target.digest]);
        assert!(r.names_of(&record(1).target.digest).is_empty());
        assert_eq!(r.names_of(&record(2).target.digest), vec![name]);
    }

    #[test]
    fn records_round_trip_through_disk() {
        let dir = strata_testkit::TempDir::new("records");
        let paths = Paths::new(dir.path());
        let mut r = Records::default();
        r.put(record(1), &["a:1".parse().unwrap(), "b".parse().unwrap()]);
        r.save(&paths).unwrap();
        assert_eq!(Records::load(&paths).unwrap(), r);
        let removed = r.remove_image(&record(1).target.digest);
        assert_eq!(removed.len(), 2);
        assert!(r.tags.is_empty());
    }

    #[test]
    fn a_newer_format_is_refused() {
        let dir = strata_testkit::TempDir::new("records");
        let paths = Paths::new(dir.path());
        fs::write(paths.images(), br#"{"version":99}"#).unwrap();
        assert!(matches!(Records::load(&paths), Err(Error::Version { .. })));
    }
}
