//! This crate's error enum: what can be wrong with a path, a header or a body.
//!
//! Every variant answers [`ErrorKind`] through [`Error::kind`], and, when the
//! failure comes from a request a registry would refuse, the spec error code to
//! answer with through [`Error::code`]. Mapping codes to HTTP statuses stays at
//! the edge, through [`ErrorCode::status`].

use strata_oci::ErrorKind;

use crate::errcode::ErrorCode;

/// Errors of the registry wire vocabulary.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A repository name outside the spec's grammar or length limit.
    #[error("invalid repository name {name:?}: {reason}")]
    InvalidName {
        /// The text that was given.
        name: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A tag outside `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
    #[error("invalid tag {tag:?}: must match [A-Za-z0-9_][A-Za-z0-9._-]{{0,127}}")]
    InvalidTag {
        /// The text that was given.
        tag: String,
    },
    /// A digest that does not parse.
    #[error("invalid digest {input:?}")]
    InvalidDigest {
        /// The text that was given.
        input: String,
        /// The digest parser's complaint.
        #[source]
        source: strata_oci::Error,
    },
    /// An upload session id that no registry of ours could have issued.
    #[error("invalid upload id {id:?}")]
    InvalidUploadId {
        /// The text that was given.
        id: String,
    },
    /// A path that is not one of the registry API's endpoints.
    #[error("no registry endpoint at {path:?}")]
    UnknownRoute {
        /// The path that was given.
        path: String,
    },
    /// A `WWW-Authenticate` header that does not follow RFC 7235.
    #[error("invalid authentication challenge {input:?}: {reason}")]
    InvalidChallenge {
        /// The header value.
        input: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A token scope outside `type[(class)]:name:action[,action…]`.
    #[error("invalid scope {input:?}: {reason}")]
    InvalidScope {
        /// The text that was given.
        input: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A `Link` header that does not follow RFC 8288.
    #[error("invalid link header {input:?}: {reason}")]
    InvalidLink {
        /// The header value.
        input: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A query string with bad percent-encoding.
    #[error("invalid query {input:?}: {reason}")]
    InvalidQuery {
        /// The query string or component.
        input: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// An `n` that is not a non-negative integer.
    #[error("invalid number of results {input:?}: must be a non-negative integer")]
    InvalidPagination {
        /// The value of `n`.
        input: String,
    },
    /// A `Range`, `Content-Range` or upload `Range` header that does not parse.
    #[error("invalid range {input:?}: {reason}")]
    InvalidRange {
        /// The header value.
        input: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A well-formed range request this crate does not serve (several ranges, another unit).
    #[error("unsupported range {input:?}: {reason}")]
    UnsupportedRange {
        /// The header value.
        input: String,
        /// What is not supported.
        reason: &'static str,
    },
    /// A range that lies outside the content (HTTP 416), or an upload chunk out of order.
    #[error("range {input:?} not satisfiable: {reason}")]
    RangeNotSatisfiable {
        /// The range asked for.
        input: String,
        /// Why it cannot be served or accepted.
        reason: String,
    },
    /// A media type or media range that is not `type/subtype[;params]`.
    #[error("invalid media type {input:?}: {reason}")]
    InvalidMediaType {
        /// The text that was given.
        input: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A JSON body (error body, token response, tag list) that does not parse.
    #[error("invalid {what}: {source}")]
    InvalidDocument {
        /// What the body should have been.
        what: &'static str,
        /// The parser's complaint.
        #[source]
        source: serde_json::Error,
    },
}

impl Error {
    /// The kind of failure, for the edges to map.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidUploadId { .. } | Error::UnknownRoute { .. } => ErrorKind::NotFound,
            Error::UnsupportedRange { .. } => ErrorKind::Unsupported,
            _ => ErrorKind::InvalidArgument,
        }
    }

    /// The error code a registry answers with when a request fails this way.
    ///
    /// `None` for failures that have no code: an unknown endpoint (a bare 404),
    /// and the parsers of things registries send (challenges, links, tokens),
    /// whose errors a client reports rather than forwards. A handler for
    /// `GET`/`HEAD` of a manifest answers an [`Error::InvalidTag`] with
    /// `MANIFEST_UNKNOWN` (404) instead: no manifest can have that tag, and the
    /// conformance suite asks exactly that of `/manifests/.INVALID_MANIFEST_NAME`.
    pub fn code(&self) -> Option<ErrorCode> {
        Some(match self {
            Error::InvalidName { .. } => ErrorCode::NameInvalid,
            Error::InvalidTag { .. } => ErrorCode::TagInvalid,
            Error::InvalidDigest { .. } => ErrorCode::DigestInvalid,
            Error::InvalidUploadId { .. } => ErrorCode::BlobUploadUnknown,
            Error::InvalidQuery { .. } => ErrorCode::QueryParameterInvalid,
            Error::InvalidPagination { .. } => ErrorCode::PaginationNumberInvalid,
            Error::InvalidRange { .. } | Error::RangeNotSatisfiable { .. } => {
                ErrorCode::RangeInvalid
            }
            _ => return None,
        })
    }
}

/// Result with this crate's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn request_errors_carry_their_spec_code() {
        let name = Error::InvalidName {
            name: "A".into(),
            reason: "uppercase",
        };
        assert_eq!(name.code(), Some(ErrorCode::NameInvalid));
        assert_eq!(name.kind(), ErrorKind::InvalidArgument);
        assert_eq!(name.to_string(), "invalid repository name \"A\": uppercase");

        let digest = Error::InvalidDigest {
            input: "sha256:x".into(),
            source: "sha256:x".parse::<strata_oci::Digest>().unwrap_err(),
        };
        assert_eq!(digest.code(), Some(ErrorCode::DigestInvalid));
        assert!(std::error::Error::source(&digest).is_some());
    }

    #[test]
    fn unknown_routes_are_not_found_without_a_code() {
        let e = Error::UnknownRoute {
            path: "/v3/".into(),
        };
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.code(), None);
    }

    #[test]
    fn unsatisfiable_ranges_answer_416() {
        let e = Error::RangeNotSatisfiable {
            input: "bytes=10-".into(),
            reason: "starts at or past the end of 10 bytes".into(),
        };
        assert_eq!(e.code().map(|c| c.status()), Some(416));
        let unsupported = Error::UnsupportedRange {
            input: "bytes=0-1,3-4".into(),
            reason: "several ranges",
        };
        assert_eq!(unsupported.kind(), ErrorKind::Unsupported);
        assert_eq!(unsupported.code(), None);
    }
}
