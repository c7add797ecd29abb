//! Errors of host operations.

use std::io;
use std::path::PathBuf;

use strata_oci::ErrorKind;

/// A failed operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No image matches what the user typed.
    #[error("no such image: {0}")]
    NoSuchImage(String),
    /// No container matches what the user typed.
    #[error("no such container: {0}")]
    NoSuchContainer(String),
    /// A path `cp` was given does not exist in the container.
    #[error("Could not find the file {path} in container {container}")]
    NoSuchPath {
        /// The path, as given.
        path: String,
        /// The container, as named.
        container: String,
    },
    /// The user typed a short ID matching several images.
    #[error("image ID prefix {0:?} matches several images; give more characters")]
    Ambiguous(String),
    /// The request conflicts with the state of the store (Docker's 409s).
    #[error("{0}")]
    Conflict(String),
    /// The request is malformed.
    #[error("{0}")]
    InvalidArgument(String),
    /// Something named does not exist (a build source, a user).
    #[error("{0}")]
    NotFound(String),
    /// A build failed.
    #[error(transparent)]
    Build(#[from] strata_build::Error),
    /// Something Strata does not do.
    #[error("{0}")]
    Unsupported(String),
    /// A spec-level error (reference, digest, document).
    #[error(transparent)]
    Oci(#[from] strata_oci::Error),
    /// A store error.
    #[error(transparent)]
    Store(#[from] strata_store::Error),
    /// A layer codec error.
    #[error(transparent)]
    Layer(#[from] strata_snapshot::Error),
    /// A runtime error.
    #[error(transparent)]
    Runtime(#[from] strata_runtime::Error),
    /// A networking error.
    #[error(transparent)]
    Network(#[from] strata_runtime::network::Error),
    /// A file operation outside the store failed (inputs, outputs).
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
    /// An archive being loaded is not what it claims.
    #[error("invalid archive: {0}")]
    Archive(String),
    /// A registry refused, or could not be reached.
    #[error(transparent)]
    Registry(#[from] strata_registry_client::Error),
}

impl Error {
    /// The kind of failure, for the edges.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NoSuchImage(_) | Error::NoSuchContainer(_) | Error::NoSuchPath { .. } => {
                ErrorKind::NotFound
            }
            Error::Ambiguous(_) | Error::InvalidArgument(_) | Error::Archive(_) => {
                ErrorKind::InvalidArgument
            }
            Error::Conflict(_) => ErrorKind::Conflict,
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::Build(e) => match e.kind() {
                strata_build::ErrorKind::NotFound => ErrorKind::NotFound,
                strata_build::ErrorKind::InvalidArgument => ErrorKind::InvalidArgument,
                strata_build::ErrorKind::Unsupported => ErrorKind::Unsupported,
                _ => ErrorKind::Internal,
            },
            Error::Unsupported(_) => ErrorKind::Unsupported,
            Error::Oci(e) => e.kind(),
            Error::Store(e) => e.kind(),
            Error::Layer(e) => e.kind(),
            Error::Runtime(e) => e.kind(),
            Error::Network(strata_runtime::network::Error::InvalidPortSpec { .. }) => {
                ErrorKind::InvalidArgument
            }
            Error::Network(_) => ErrorKind::Unavailable,
            Error::Io { source, .. } => ErrorKind::of_io(source),
            Error::Registry(e) => e.kind(),
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

/// Result with the host's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
