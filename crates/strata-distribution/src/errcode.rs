//! Registry error codes and the JSON error body (distribution spec, "Error Codes").
//!
//! One table, [`ErrorCode::describe`], gives every known code its wire string,
//! default message and HTTP status; handlers build bodies from it and clients
//! read peers' bodies back. The spec asks clients to keep working when a
//! registry invents codes, so an unknown code parses into [`ErrorCode::Other`]
//! with its string kept.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::error::{Error, Result};

/// A registry error code: the 14 of the distribution spec, the extra ones the
/// reference registry (distribution) sends, or any other a peer invents.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `BLOB_UNKNOWN` (spec code-1).
    BlobUnknown,
    /// `BLOB_UPLOAD_INVALID` (spec code-2).
    BlobUploadInvalid,
    /// `BLOB_UPLOAD_UNKNOWN` (spec code-3).
    BlobUploadUnknown,
    /// `DIGEST_INVALID` (spec code-4).
    DigestInvalid,
    /// `MANIFEST_BLOB_UNKNOWN` (spec code-5).
    ManifestBlobUnknown,
    /// `MANIFEST_INVALID` (spec code-6).
    ManifestInvalid,
    /// `MANIFEST_UNKNOWN` (spec code-7).
    ManifestUnknown,
    /// `NAME_INVALID` (spec code-8).
    NameInvalid,
    /// `NAME_UNKNOWN` (spec code-9).
    NameUnknown,
    /// `SIZE_INVALID` (spec code-10).
    SizeInvalid,
    /// `UNAUTHORIZED` (spec code-11).
    Unauthorized,
    /// `DENIED` (spec code-12).
    Denied,
    /// `UNSUPPORTED` (spec code-13).
    Unsupported,
    /// `TOOMANYREQUESTS` (spec code-14).
    TooManyRequests,
    /// `TAG_INVALID`: distribution's, and accepted by the conformance suite.
    TagInvalid,
    /// `MANIFEST_UNVERIFIED`: dropped from the spec, still sent by old registries.
    ManifestUnverified,
    /// `RANGE_INVALID`: distribution's answer (416) to an upload chunk out of order.
    RangeInvalid,
    /// `PAGINATION_NUMBER_INVALID`: distribution's answer to a bad `n`.
    PaginationNumberInvalid,
    /// `QUERY_PARAMETER_INVALID`: distribution's answer to a bad query parameter.
    QueryParameterInvalid,
    /// `UNAVAILABLE`: distribution's 503.
    Unavailable,
    /// `UNKNOWN`: distribution's catch-all 500.
    Unknown,
    /// Any other code a peer sent, kept verbatim.
    Other(String),
}

/// Every code [`ErrorCode::describe`] knows, spec codes first in spec order.
pub const KNOWN_CODES: [ErrorCode; 21] = [
    ErrorCode::BlobUnknown,
    ErrorCode::BlobUploadInvalid,
    ErrorCode::BlobUploadUnknown,
    ErrorCode::DigestInvalid,
    ErrorCode::ManifestBlobUnknown,
    ErrorCode::ManifestInvalid,
    ErrorCode::ManifestUnknown,
    ErrorCode::NameInvalid,
    ErrorCode::NameUnknown,
    ErrorCode::SizeInvalid,
    ErrorCode::Unauthorized,
    ErrorCode::Denied,
    ErrorCode::Unsupported,
    ErrorCode::TooManyRequests,
    ErrorCode::TagInvalid,
    ErrorCode::ManifestUnverified,
    ErrorCode::RangeInvalid,
    ErrorCode::PaginationNumberInvalid,
    ErrorCode::QueryParameterInvalid,
    ErrorCode::Unavailable,
    ErrorCode::Unknown,
];

impl ErrorCode {
    /// The table: wire string, default message, HTTP status.
    ///
    /// Messages are the spec's descriptions; statuses follow distribution's
    /// registry except `BLOB_UPLOAD_INVALID`, which distribution answers with
    /// 404 but is a bad request (400) everywhere the spec uses it.
    pub fn describe(&self) -> (&str, &'static str, u16) {
        match self {
            ErrorCode::BlobUnknown => ("BLOB_UNKNOWN", "blob unknown to registry", 404),
            ErrorCode::BlobUploadInvalid => ("BLOB_UPLOAD_INVALID", "blob upload invalid", 400),
            ErrorCode::BlobUploadUnknown => (
                "BLOB_UPLOAD_UNKNOWN",
                "blob upload unknown to registry",
                404,
            ),
            ErrorCode::DigestInvalid => (
                "DIGEST_INVALID",
                "provided digest did not match uploaded content",
                400,
            ),
            ErrorCode::ManifestBlobUnknown => (
                "MANIFEST_BLOB_UNKNOWN",
                "manifest references a manifest or blob unknown to registry",
                400,
            ),
            ErrorCode::ManifestInvalid => ("MANIFEST_INVALID", "manifest invalid", 400),
            ErrorCode::ManifestUnknown => ("MANIFEST_UNKNOWN", "manifest unknown to registry", 404),
            ErrorCode::NameInvalid => ("NAME_INVALID", "invalid repository name", 400),
            ErrorCode::NameUnknown => {
                ("NAME_UNKNOWN", "repository name not known to registry", 404)
            }
            ErrorCode::SizeInvalid => (
                "SIZE_INVALID",
                "provided length did not match content length",
                400,
            ),
            ErrorCode::Unauthorized => ("UNAUTHORIZED", "authentication required", 401),
            ErrorCode::Denied => ("DENIED", "requested access to the resource is denied", 403),
            ErrorCode::Unsupported => ("UNSUPPORTED", "the operation is unsupported", 405),
            ErrorCode::TooManyRequests => ("TOOMANYREQUESTS", "too many requests", 429),
            ErrorCode::TagInvalid => ("TAG_INVALID", "invalid tag", 400),
            ErrorCode::ManifestUnverified => (
                "MANIFEST_UNVERIFIED",
                "manifest failed signature verification",
                400,
            ),
            ErrorCode::RangeInvalid => ("RANGE_INVALID", "invalid content range", 416),
            ErrorCode::PaginationNumberInvalid => (
                "PAGINATION_NUMBER_INVALID",
                "invalid number of results requested",
                400,
            ),
            ErrorCode::QueryParameterInvalid => (
                "QUERY_PARAMETER_INVALID",
                "invalid query parameter value",
                400,
            ),
            ErrorCode::Unavailable => ("UNAVAILABLE", "service unavailable", 503),
            ErrorCode::Unknown => ("UNKNOWN", "unknown error", 500),
            ErrorCode::Other(code) => (code, "unknown error", 500),
        }
    }

    /// The wire string (`BLOB_UNKNOWN`).
    pub fn as_str(&self) -> &str {
        self.describe().0
    }

    /// The default human-readable message.
    pub fn message(&self) -> &'static str {
        self.describe().1
    }

    /// The HTTP status a registry answers with.
    pub fn status(&self) -> u16 {
        self.describe().2
    }

    /// True for the 14 codes of the distribution spec 1.1, the only ones a
    /// conforming registry should send.
    pub fn is_spec(&self) -> bool {
        KNOWN_CODES[..14].contains(self)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ErrorCode {
    type Err = std::convert::Infallible;

    /// Never fails: an unknown code becomes [`ErrorCode::Other`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(KNOWN_CODES
            .iter()
            .find(|c| c.as_str() == s)
            .cloned()
            .unwrap_or_else(|| ErrorCode::Other(s.to_owned())))
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let Ok(code) = s.parse();
        Ok(code)
    }
}

/// One error of an [`ErrorBody`]: `{"code": …, "message": …, "detail": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorEntry {
    /// The error code.
    pub code: ErrorCode,
    /// A human-readable message; optional on the wire, empty when absent.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub message: String,
    /// Arbitrary JSON the client may use to resolve the issue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<Value>,
}

impl ErrorEntry {
    /// An entry with the code's default message and no detail.
    pub fn new(code: ErrorCode) -> Self {
        let message = code.message().to_owned();
        ErrorEntry {
            code,
            message,
            detail: None,
        }
    }

    /// The same entry with another message.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    /// The same entry with a detail value.
    pub fn with_detail(mut self, detail: Value) -> Self {
        self.detail = Some(detail);
        self
    }

    /// The entry a registry sends for one of this crate's errors, with the
    /// error's text as detail; `None` when the error has no code.
    pub fn from_error(error: &Error) -> Option<Self> {
        let code = error.code()?;
        Some(ErrorEntry::new(code).with_detail(Value::String(error.to_string())))
    }
}

impl fmt::Display for ErrorEntry {
    /// `manifest unknown: <message>`, as Docker prints a registry's errors.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let code = self.code.as_str().to_lowercase().replace('_', " ");
        if self.message.is_empty() {
            f.write_str(&code)
        } else {
            write!(f, "{code}: {}", self.message)
        }
    }
}

/// The JSON body of a registry's 4xx answer: `{"errors": [...]}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The errors, most relevant first. Absent or `null` reads as empty.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub errors: Vec<ErrorEntry>,
}

impl ErrorBody {
    /// A body holding one entry.
    pub fn single(entry: ErrorEntry) -> Self {
        ErrorBody {
            errors: vec![entry],
        }
    }

    /// The HTTP status for this body: the first entry's, 500 when empty.
    pub fn status(&self) -> u16 {
        self.errors.first().map_or(500, |e| e.code.status())
    }

    /// Parses a peer's body.
    pub fn from_slice(body: &[u8]) -> Result<Self> {
        serde_json::from_slice(body).map_err(|source| Error::InvalidDocument {
            what: "error body",
            source,
        })
    }

    /// The body as JSON bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        // Serialising these plain types cannot fail; an empty body is the safe fallback.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

impl From<ErrorCode> for ErrorBody {
    fn from(code: ErrorCode) -> Self {
        ErrorBody::single(ErrorEntry::new(code))
    }
}

fn null_as_empty<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests;
