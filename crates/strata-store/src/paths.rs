//! Where everything lives under the store root. The tree is drawn in the crate docs.

use std::path::{Path, PathBuf};

use strata_oci::Digest;

/// Paths under one store root.
#[derive(Debug, Clone)]
pub struct Paths {
    root: PathBuf,
}

impl Paths {
    /// Paths under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Paths { root: root.into() }
    }

    /// The store root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `blobs/`.
    pub fn blobs(&self) -> PathBuf {
        self.root.join("blobs")
    }

    /// `blobs/<alg>/<hex>`.
    pub fn blob(&self, d: &Digest) -> PathBuf {
        self.blobs().join(d.algorithm().as_str()).join(d.hex())
    }

    /// `ingest/`: partial writes.
    pub fn ingest(&self) -> PathBuf {
        self.root.join("ingest")
    }

    /// `layers/`: facts about layer blobs (diff_id, uncompressed size).
    pub fn layers(&self) -> PathBuf {
        self.root.join("layers")
    }

    /// `layers/<alg>/<hex>.json` for the blob `d`.
    pub fn layer_info(&self, d: &Digest) -> PathBuf {
        self.layers()
            .join(d.algorithm().as_str())
            .join(format!("{}.json", d.hex()))
    }

    /// `images.json`: names and image records.
    pub fn images(&self) -> PathBuf {
        self.root.join("images.json")
    }

    /// `snapshots/`: unpacked layers by chain ID (owned by strata-snapshot).
    pub fn snapshots(&self) -> PathBuf {
        self.root.join("snapshots")
    }

    /// `locks/`.
    pub fn locks(&self) -> PathBuf {
        self.root.join("locks")
    }

    /// `trash/`: trees renamed aside before removal.
    pub fn trash(&self) -> PathBuf {
        self.root.join("trash")
    }

    /// `tmp/`: scratch space on the store's file system (staging snapshots, archives).
    pub fn tmp(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// `version`: the store format version.
    pub fn version(&self) -> PathBuf {
        self.root.join("version")
    }
}
