//! The registry's data model on a storage driver.
//!
//! ```text
//! <storage root>/
//! ├── blobs/sha256/<hex>                        blob and manifest bytes, verified
//! └── repositories/<name…>/                     one per repository (names hold '/')
//!     ├── _layers/sha256/<hex>                  the blob is linked in the repository
//!     ├── _manifests/revisions/sha256/<hex>     a manifest of the repository: {"mediaType","size"}
//!     ├── _manifests/tags/<tag>                 the digest the tag points at
//!     ├── _referrers/sha256/<subject hex>/<hex> the descriptor of a manifest whose subject is that digest
//!     └── _uploads/<id>/data                    an upload session's bytes so far
//! ```
//!
//! Repository name components never start with `_`, so the `_…` directories
//! cannot collide with a nested repository. A blob exists once in `blobs/`
//! and is visible in a repository only through its link; it is renamed into
//! `blobs/` only after its digest was checked. Tags and links are written
//! atomically; concurrent pushes of one blob or one tag leave one whole value.

mod blobs;
mod manifests;
mod uploads;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use strata_distribution::{ErrorCode, RepositoryName};
use strata_oci::Digest;

pub use manifests::{StoredManifest, MANIFEST_MAX};
pub use uploads::UploadStatus;

use crate::error::{Error, Result};
use crate::storage::Storage;

/// The registry's repositories on one storage driver.
pub struct Registry {
    storage: Arc<dyn Storage>,
    uploads: Mutex<HashMap<String, Arc<Mutex<uploads::Session>>>>,
    delete_enabled: bool,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("delete_enabled", &self.delete_enabled)
            .finish_non_exhaustive()
    }
}

/// `blobs/<algorithm>/<hex>`.
pub(crate) fn blob_key(d: &Digest) -> String {
    format!("blobs/{}/{}", d.algorithm().as_str(), d.hex())
}

pub(crate) fn repo_key(name: &RepositoryName, rest: &str) -> String {
    format!("repositories/{name}/{rest}")
}

impl Registry {
    /// The registry on `storage`; `delete_enabled` allows DELETE requests.
    pub fn new(storage: Arc<dyn Storage>, delete_enabled: bool) -> Self {
        Registry {
            storage,
            uploads: Mutex::new(HashMap::new()),
            delete_enabled,
        }
    }

    /// The storage driver.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    /// Refuses a deletion unless deletes are enabled.
    pub(crate) fn check_delete(&self) -> Result<()> {
        if self.delete_enabled {
            Ok(())
        } else {
            Err(Error::spec(
                ErrorCode::Unsupported,
                "deletes are disabled on this registry (delete_enabled = false)",
            ))
        }
    }

    /// Every repository, sorted.
    pub fn catalog(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        self.walk("repositories", &mut out)?;
        out.sort();
        Ok(out)
    }

    /// Every repository with anything in it (manifests, links, uploads), sorted.
    pub fn all_repositories(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        self.walk_with("repositories", &mut out, &|c| c.starts_with('_'))?;
        out.sort();
        Ok(out)
    }

    /// How many repositories with anything in them have `first` as their
    /// first path component (`first` itself, `first/…`).
    pub fn count_under(&self, first: &str) -> Result<usize> {
        let nested = format!("{first}/");
        Ok(self
            .all_repositories()?
            .iter()
            .filter(|r| *r == first || r.starts_with(&nested))
            .count())
    }

    fn walk(&self, prefix: &str, out: &mut Vec<String>) -> Result<()> {
        self.walk_with(prefix, out, &|c| c == "_manifests")
    }

    fn walk_with(
        &self,
        prefix: &str,
        out: &mut Vec<String>,
        marks: &dyn Fn(&str) -> bool,
    ) -> Result<()> {
        let children = self.storage.list(prefix)?;
        if children.iter().any(|c| marks(c)) {
            if let Some(name) = prefix.strip_prefix("repositories/") {
                out.push(name.to_owned());
            }
        }
        for c in children.iter().filter(|c| !c.starts_with('_')) {
            self.walk_with(&format!("{prefix}/{c}"), out, marks)?;
        }
        Ok(())
    }
}
