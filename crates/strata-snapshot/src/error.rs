//! Errors of the layer codec.

use std::io;
use std::path::PathBuf;

use strata_oci::ErrorKind;

/// A layer codec failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A layer entry that would reach outside the root or abuse links; nothing of
    /// the layer is recorded.
    #[error("refusing layer entry {entry:?}: {reason}")]
    Hostile {
        /// The entry's path as written in the tar.
        entry: String,
        /// Why it was refused.
        reason: String,
    },
    /// An entry larger than the configured limit.
    #[error("refusing layer entry {entry:?}: {size} bytes exceeds the {limit}-byte entry limit")]
    TooLarge {
        /// The entry's path.
        entry: String,
        /// Its declared size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A layer whose uncompressed content is not what the image config says.
    #[error("layer {blob}: uncompressed digest is {actual}, the image config says {expected}")]
    DiffIdMismatch {
        /// The layer blob.
        blob: strata_oci::Digest,
        /// The diff_id the config lists.
        expected: strata_oci::Digest,
        /// The digest of the content.
        actual: strata_oci::Digest,
    },
    /// The stream is not a valid tar archive (or its compression is broken).
    #[error("malformed layer: {0}")]
    Malformed(#[source] io::Error),
    /// An archive that is not a layer (`cp`'s) is malformed or holds an entry
    /// that was refused.
    #[error("invalid archive: {0}")]
    Archive(String),
    /// A path to copy from (or into) does not exist.
    #[error("{0}: no such file or directory")]
    NotFound(PathBuf),
    /// Something the codec does not handle.
    #[error("unsupported layer content: {0}")]
    Unsupported(String),
    /// A file system operation failed while creating or applying a layer.
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
    /// Writing the compressed output failed.
    #[error("writing layer: {0}")]
    Write(#[source] io::Error),
    /// The store refused something.
    #[error(transparent)]
    Store(#[from] strata_store::Error),
}

impl Error {
    /// The kind of failure, for the edges.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Hostile { .. }
            | Error::TooLarge { .. }
            | Error::Malformed(_)
            | Error::Archive(_)
            | Error::DiffIdMismatch { .. } => ErrorKind::InvalidArgument,
            Error::Unsupported(_) => ErrorKind::Unsupported,
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::Io { source, .. } | Error::Write(source) => ErrorKind::of_io(source),
            Error::Store(e) => e.kind(),
        }
    }

    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { op, path, source }
    }

    /// The same failure, worded for an archive that is not a layer.
    pub(crate) fn in_archive(self) -> Error {
        match self {
            Error::Hostile { entry, reason } => {
                Error::Archive(format!("refusing entry {entry:?}: {reason}"))
            }
            Error::TooLarge { entry, size, limit } => Error::Archive(format!(
                "refusing entry {entry:?}: {size} bytes exceeds the {limit}-byte entry limit"
            )),
            Error::Malformed(e) => Error::Archive(e.to_string()),
            Error::Unsupported(what) => Error::Archive(format!("unsupported content: {what}")),
            e => e,
        }
    }

    pub(crate) fn hostile(entry: &[u8], reason: impl Into<String>) -> Error {
        Error::Hostile {
            entry: String::from_utf8_lossy(entry).into_owned(),
            reason: reason.into(),
        }
    }
}

/// Result with the codec's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
