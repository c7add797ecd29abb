//! This crate's error enum: what can go wrong talking to a registry.
//!
//! Every variant answers [`ErrorKind`] through [`Error::kind`]; a refusal by the
//! registry keeps its HTTP status and the spec error code it sent, so the CLI
//! can say "unauthorized" or "manifest unknown" in the registry's own words.

use strata_oci::{Digest, ErrorKind};

/// Errors of the registry client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection failed or broke (refused, reset, TLS handshake, timeout).
    #[error("{what}: {source}")]
    Transport {
        /// What was being done (`GET https://host/v2/…`).
        what: String,
        /// The HTTP library's error.
        #[source]
        source: Box<ureq::Error>,
    },
    /// The registry answered with an error status.
    #[error("{what}: {message}")]
    Status {
        /// What was asked (`pull access to localhost:5000/app`).
        what: String,
        /// The HTTP status.
        status: u16,
        /// The first spec error code of the body, if it had one.
        code: Option<String>,
        /// A readable message: the registry's own, or the status's meaning.
        message: String,
    },
    /// Content that does not hash to the digest it was asked for.
    #[error("{what}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// The blob or manifest.
        what: String,
        /// The digest that was asked for.
        expected: Digest,
        /// The digest of what arrived.
        actual: Digest,
    },
    /// The registry broke the protocol (a missing `Location`, a body too large,
    /// a manifest that does not parse).
    #[error("{what}: {reason}")]
    Protocol {
        /// What was being done.
        what: String,
        /// What was wrong.
        reason: String,
    },
    /// No manifest of an index matches the wanted platform.
    #[error("{reference}: no image for platform {platform} (the index offers {offered})")]
    NoMatchingPlatform {
        /// The image reference.
        reference: String,
        /// The platform asked for.
        platform: String,
        /// What the index offers, comma-separated.
        offered: String,
    },
    /// Reading or writing credentials, certificates or configuration failed.
    #[error("{what}: {source}")]
    Io {
        /// The file or helper involved.
        what: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A credentials file, helper answer or configuration that does not parse.
    #[error("{what}: {reason}")]
    Config {
        /// The file or helper involved.
        what: String,
        /// What was wrong.
        reason: String,
    },
    /// A wire value that does not parse (challenge, digest, name).
    #[error(transparent)]
    Wire(#[from] strata_distribution::Error),
    /// An OCI document or reference that does not parse.
    #[error(transparent)]
    Oci(#[from] strata_oci::Error),
}

impl Error {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Transport { .. } => ErrorKind::Unavailable,
            Error::Status { status, .. } => match status {
                401 => ErrorKind::Unauthenticated,
                403 => ErrorKind::PermissionDenied,
                404 => ErrorKind::NotFound,
                409 => ErrorKind::Conflict,
                405 | 501 => ErrorKind::Unsupported,
                s if *s >= 500 => ErrorKind::Unavailable,
                _ => ErrorKind::InvalidArgument,
            },
            Error::DigestMismatch { .. } | Error::Protocol { .. } => ErrorKind::Unavailable,
            Error::NoMatchingPlatform { .. } => ErrorKind::NotFound,
            Error::Io { source, .. } => ErrorKind::of_io(source),
            Error::Config { .. } => ErrorKind::InvalidArgument,
            Error::Wire(e) => e.kind(),
            Error::Oci(e) => e.kind(),
        }
    }

    /// True when trying again may help: a dropped connection or a 5xx/429.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport { source, .. } => !matches!(
                **source,
                ureq::Error::BadUri(_)
                    | ureq::Error::HostNotFound
                    | ureq::Error::Tls(_)
                    | ureq::Error::Rustls(_)
                    | ureq::Error::Pem(_)
            ),
            Error::Status { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.into();
        move |source| Error::Io { what, source }
    }

    pub(crate) fn config(what: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::Config {
            what: what.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn protocol(what: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::Protocol {
            what: what.into(),
            reason: reason.into(),
        }
    }
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
