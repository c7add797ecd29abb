//! The error vocabulary shared by every Strata crate.
//!
//! Each library crate has its own `thiserror` enum; every one of them answers
//! [`ErrorKind`] through a `kind()` method, so the edges (CLI exit codes, HTTP
//! status codes) can map failures without knowing every crate's variants.

use std::fmt;

/// What went wrong, in terms an edge (CLI, HTTP handler) can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The named object does not exist.
    NotFound,
    /// The object exists already and may not be replaced.
    AlreadyExists,
    /// The request itself is malformed (bad reference, bad digest, hostile layer).
    InvalidArgument,
    /// The operation conflicts with the current state (an image in use, a tag
    /// held by several repositories). Kept apart from `InvalidArgument`
    /// because Docker answers these with 409 and "must be forced" messages.
    Conflict,
    /// Credentials are missing or wrong.
    Unauthenticated,
    /// Credentials are fine but do not allow this.
    PermissionDenied,
    /// A dependency (disk, peer, lock) is not available right now.
    Unavailable,
    /// The input is valid but uses something Strata does not implement.
    Unsupported,
    /// A bug or an inconsistent store.
    Internal,
}

impl ErrorKind {
    /// The kind an I/O failure amounts to.
    pub fn of_io(e: &std::io::Error) -> ErrorKind {
        match e.kind() {
            std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            std::io::ErrorKind::PermissionDenied => ErrorKind::PermissionDenied,
            std::io::ErrorKind::AlreadyExists => ErrorKind::AlreadyExists,
            _ => ErrorKind::Unavailable,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            ErrorKind::NotFound => "not found",
            ErrorKind::AlreadyExists => "already exists",
            ErrorKind::InvalidArgument => "invalid argument",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Unauthenticated => "unauthenticated",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Internal => "internal error",
        };
        f.write_str(s)
    }
}

/// Errors of the spec types: parsing digests, references, platforms and JSON documents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A digest string that is not `algorithm:hex` with a known algorithm and the right length.
    #[error("invalid digest {input:?}: {reason}")]
    InvalidDigest {
        /// The text that was given.
        input: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// Content whose digest is not the one expected.
    #[error("digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// The digest that was asked for.
        expected: String,
        /// The digest of the bytes seen.
        actual: String,
    },
    /// Content whose length is not the one expected.
    #[error("size mismatch for {digest}: expected {expected} bytes, got {actual}")]
    SizeMismatch {
        /// The digest of the content.
        digest: String,
        /// The size that was declared.
        expected: u64,
        /// The size seen.
        actual: u64,
    },
    /// A reference that does not follow Docker's grammar.
    #[error("invalid reference format {input:?}: {reason}")]
    InvalidReference {
        /// The text that was given.
        input: String,
        /// Why it was refused.
        reason: String,
    },
    /// A platform string that is not `os/arch[/variant]`.
    #[error("invalid platform {input:?}: {reason}")]
    InvalidPlatform {
        /// The text that was given.
        input: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A JSON document (manifest, index, config) that does not parse.
    #[error("invalid {what}: {source}")]
    InvalidDocument {
        /// What kind of document it should have been.
        what: &'static str,
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
    /// A media type Strata does not know how to read here.
    #[error("unsupported media type {0:?}")]
    UnsupportedMediaType(String),
}

impl Error {
    /// The kind of failure, for the edges to map.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::UnsupportedMediaType(_) => ErrorKind::Unsupported,
            _ => ErrorKind::InvalidArgument,
        }
    }
}

/// Result with this crate's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
