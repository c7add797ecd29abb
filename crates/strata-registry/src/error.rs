//! This crate's error enum. A request that breaks the protocol is
//! [`Error::Spec`]: a spec error code with a message, which the handlers send
//! as the spec's JSON error body with the code's status. Everything else is
//! the server's own failure (500) or a missing object the handlers name.

use std::path::{Path, PathBuf};

use strata_distribution::ErrorCode;
use strata_oci::ErrorKind;

/// Errors of the registry server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A storage object that does not exist (the handler decides what it means).
    #[error("not found: {0}")]
    NotFound(String),
    /// The request breaks the protocol: answered with this code.
    #[error("{message}")]
    Spec {
        /// The spec error code.
        code: ErrorCode,
        /// What was wrong, for the error body.
        message: String,
    },
    /// A path, header or query that does not parse.
    #[error(transparent)]
    Wire(#[from] strata_distribution::Error),
    /// The upstream of a pull-through cache failed.
    #[error("upstream: {0}")]
    Upstream(#[from] strata_registry_client::Error),
    /// A configuration file or flag that is wrong.
    #[error("{0}")]
    Config(String),
    /// An account, project, member or robot argument that is invalid.
    #[error("{0}")]
    Invalid(String),
    /// An account, project, member or robot that already exists, or a
    /// project that still holds repositories.
    #[error("{0}")]
    Conflict(String),
    /// Reading or writing storage failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// The operation.
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A bug or an inconsistent storage.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::Spec { code, .. } => match code.status() {
                401 => ErrorKind::Unauthenticated,
                403 => ErrorKind::PermissionDenied,
                404 => ErrorKind::NotFound,
                405 => ErrorKind::Unsupported,
                _ => ErrorKind::InvalidArgument,
            },
            Error::Wire(e) => e.kind(),
            Error::Upstream(e) => e.kind(),
            Error::Config(_) | Error::Invalid(_) => ErrorKind::InvalidArgument,
            Error::Conflict(_) => ErrorKind::Conflict,
            Error::Io { source, .. } => ErrorKind::of_io(source),
            Error::Internal(_) => ErrorKind::Internal,
        }
    }

    /// A protocol error with `code`.
    pub fn spec(code: ErrorCode, message: impl Into<String>) -> Error {
        Error::Spec {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn io(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.to_path_buf();
        move |source| Error::Io { op, path, source }
    }
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
