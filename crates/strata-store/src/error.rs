//! Errors of the store.

use std::io;
use std::path::PathBuf;

use strata_oci::{Digest, ErrorKind};

/// A store failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file system operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// On what.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A blob is not in the store.
    #[error("blob {0} not found")]
    BlobNotFound(Digest),
    /// Content did not match what it was supposed to be.
    #[error("blob {digest}: {source}")]
    Verify {
        /// The blob.
        digest: String,
        /// The mismatch.
        #[source]
        source: strata_oci::Error,
    },
    /// A spec document in the store does not parse.
    #[error("{what} {digest}: {source}")]
    Corrupt {
        /// What the blob should be.
        what: &'static str,
        /// Which blob.
        digest: Digest,
        /// Why it is unreadable.
        #[source]
        source: strata_oci::Error,
    },
    /// A blob is larger than a reader accepts (manifests and configs are small).
    #[error("blob {digest} is {size} bytes, over the {limit}-byte limit for {what}")]
    TooLarge {
        /// Which blob.
        digest: Digest,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
        /// What it was read as.
        what: &'static str,
    },
    /// The image records file is unreadable.
    #[error("image records {path}: {source}")]
    Records {
        /// The file.
        path: PathBuf,
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// The store was written by a newer Strata.
    #[error("store {path} has format version {found}, this strata reads up to {supported}")]
    Version {
        /// The store root.
        path: PathBuf,
        /// The version found.
        found: u32,
        /// The newest version understood.
        supported: u32,
    },
}

impl Error {
    /// The kind of failure, for the edges.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::BlobNotFound(_) => ErrorKind::NotFound,
            Error::Verify { .. } | Error::Corrupt { .. } | Error::Records { .. } => {
                ErrorKind::Internal
            }
            Error::TooLarge { .. } => ErrorKind::InvalidArgument,
            Error::Version { .. } => ErrorKind::Unsupported,
            Error::Io { source, .. } => ErrorKind::of_io(source),
        }
    }

    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { op, path, source }
    }
}

/// Result with the store's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
