//! Errors of the runtime crate.

use std::io;
use std::path::PathBuf;

use strata_oci::ErrorKind;

/// A runtime failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request is malformed (unknown user, bad capability, no command…).
    #[error("{0}")]
    InvalidArgument(String),
    /// The OCI runtime binary is missing.
    #[error("container runtime {binary} not found: install it (Debian package `{package}`) or pass --runtime PATH")]
    RuntimeMissing {
        /// What was looked for.
        binary: PathBuf,
        /// The Debian package that provides it.
        package: &'static str,
    },
    /// The OCI runtime refused or failed.
    #[error("{runtime} {op} {id}: {message}")]
    Runtime {
        /// The runtime binary.
        runtime: String,
        /// The subcommand (`create`, `start`…).
        op: &'static str,
        /// The container.
        id: String,
        /// What it printed.
        message: String,
    },
    /// A file or process operation failed.
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
}

impl Error {
    /// The kind of failure, for the edges.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidArgument(_) => ErrorKind::InvalidArgument,
            Error::RuntimeMissing { .. } => ErrorKind::Unavailable,
            Error::Runtime { .. } => ErrorKind::Internal,
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

/// Result with the runtime's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
