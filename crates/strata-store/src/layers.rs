//! Facts about layer blobs that cost a full decompression to learn: the diff_id
//! (digest of the uncompressed tar) and the uncompressed size. Recorded once, when
//! the layer enters the store, as `layers/<alg>/<hex>.json` beside nothing else;
//! like containerd's `containerd.io/uncompressed` label.

use std::fs;
use std::io;

use serde::{Deserialize, Serialize};
use strata_oci::Digest;

use crate::error::{Error, Result};
use crate::fsutil;
use crate::paths::Paths;

/// What is known about one layer blob.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerInfo {
    /// Digest of the uncompressed tar stream.
    pub diff_id: Digest,
    /// Length of the uncompressed tar stream.
    pub size: u64,
}

/// The layer facts table.
#[derive(Debug, Clone)]
pub struct LayerInfos {
    paths: Paths,
}

impl LayerInfos {
    /// The table under these paths.
    pub fn new(paths: Paths) -> Self {
        LayerInfos { paths }
    }

    /// Records facts for `blob` (atomically).
    pub fn set(&self, blob: &Digest, info: &LayerInfo) -> Result<()> {
        let p = self.paths.layer_info(blob);
        if let Some(dir) = p.parent() {
            fsutil::create_dir_all(dir)?;
        }
        let bytes = serde_json::to_vec(info).map_err(|source| Error::Records {
            path: p.clone(),
            source,
        })?;
        fsutil::write_atomic(&p, &bytes)
    }

    /// The facts for `blob`, if recorded.
    pub fn get(&self, blob: &Digest) -> Result<Option<LayerInfo>> {
        let p = self.paths.layer_info(blob);
        match fs::read(&p) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| Error::Records { path: p, source }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("read", p)(e)),
        }
    }

    /// Forgets `blob`.
    pub fn remove(&self, blob: &Digest) -> Result<()> {
        let p = self.paths.layer_info(blob);
        match fs::remove_file(&p) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove", p)(e)),
        }
    }

    /// Every blob with recorded facts.
    pub fn list(&self) -> Result<Vec<Digest>> {
        let mut out = Vec::new();
        for alg in [strata_oci::Algorithm::Sha256, strata_oci::Algorithm::Sha512] {
            let dir = self.paths.layers().join(alg.as_str());
            for entry in fsutil::dir_entries(&dir)? {
                let name = entry.file_name();
                if let Some(d) = name
                    .to_str()
                    .and_then(|n| n.strip_suffix(".json"))
                    .and_then(|hex| Digest::new(alg, hex).ok())
                {
                    out.push(d);
                }
            }
        }
        Ok(out)
    }
}
