//! Blobs as a repository sees them: linked, stat'ed, opened, unlinked.

use strata_distribution::{ErrorCode, RepositoryName};
use strata_oci::Digest;

use super::{blob_key, repo_key, Registry};
use crate::error::{Error, Result};
use crate::storage::Content;

fn layer_link(name: &RepositoryName, d: &Digest) -> String {
    repo_key(
        name,
        &format!("_layers/{}/{}", d.algorithm().as_str(), d.hex()),
    )
}

fn unknown(d: &Digest) -> Error {
    Error::spec(
        ErrorCode::BlobUnknown,
        format!("blob {d} is unknown to this repository"),
    )
}

impl Registry {
    /// The size of a blob linked in `name`, or `None`.
    pub fn blob_size(&self, name: &RepositoryName, d: &Digest) -> Result<Option<u64>> {
        if self.storage.stat(&layer_link(name, d))?.is_none() {
            return Ok(None);
        }
        Ok(self.storage.stat(&blob_key(d))?.map(|m| m.size))
    }

    /// True when the blob is stored at all (in any repository).
    pub fn blob_stored(&self, d: &Digest) -> Result<bool> {
        Ok(self.storage.stat(&blob_key(d))?.is_some())
    }

    /// Opens a blob linked in `name` at `offset`, with its size.
    pub fn open_blob(
        &self,
        name: &RepositoryName,
        d: &Digest,
        offset: u64,
    ) -> Result<(Content, u64)> {
        // The link only: a missing blob file is the open's "not found".
        if self.storage.stat(&layer_link(name, d))?.is_none() {
            return Err(unknown(d));
        }
        self.storage
            .open(&blob_key(d), offset)
            .map_err(|e| match e {
                Error::NotFound(_) => unknown(d),
                e => e,
            })
    }

    /// Links a stored blob into `name`.
    pub(crate) fn link_blob(&self, name: &RepositoryName, d: &Digest) -> Result<()> {
        self.storage.put(&layer_link(name, d), b"")
    }

    /// Links a blob of repository `from` into `name` (a cross-repository mount).
    /// False when `from` does not have it.
    pub fn mount_blob(
        &self,
        name: &RepositoryName,
        from: &RepositoryName,
        d: &Digest,
    ) -> Result<bool> {
        if self.blob_size(from, d)?.is_none() {
            return Ok(false);
        }
        // Referenced again: garbage collection spares it for a while.
        self.storage.touch(&blob_key(d))?;
        self.link_blob(name, d)?;
        Ok(true)
    }

    /// Unlinks a blob from `name` (the bytes stay until garbage collection).
    pub fn delete_blob(&self, name: &RepositoryName, d: &Digest) -> Result<()> {
        self.check_delete()?;
        if self.blob_size(name, d)?.is_none() {
            return Err(unknown(d));
        }
        self.storage.delete(&layer_link(name, d))
    }
}
