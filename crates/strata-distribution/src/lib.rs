//! The registry wire vocabulary that Strata's registry client and registry server share.
//!
//! This crate owns the words of the OCI distribution spec 1.1 and Docker's token
//! auth: the API's endpoints ([`Route`]) with the repository name, tag and digest
//! grammar; the error codes with their statuses and the JSON error body
//! ([`ErrorCode`], [`ErrorBody`]); `WWW-Authenticate` challenges, token scopes
//! and token responses ([`auth`]); `n`/`last` pagination and `Link` headers
//! ([`paging`]); upload and download byte ranges ([`range`]); and manifest
//! media-type negotiation ([`media`]). Each is a plain type with a parser and a
//! formatter that round-trip.
//!
//! It must not know HTTP libraries, sockets, async runtimes, storage or
//! credentials: no I/O at all. Callers hand it header values, paths, query
//! strings and bodies as `&str`/`&[u8]` and get values back; what to do with a
//! request (which status, which handler, retry or not) is theirs to decide.
//!
//! ```
//! use strata_distribution::{ErrorBody, ErrorCode, Route};
//!
//! let route = Route::parse("/v2/library/ubuntu/manifests/latest")?;
//! assert_eq!(route.path(), "/v2/library/ubuntu/manifests/latest");
//!
//! let err = Route::parse("/v2/Library/tags/list").unwrap_err();
//! let code = err.code().unwrap_or(ErrorCode::Unknown);
//! assert_eq!((code.as_str(), code.status()), ("NAME_INVALID", 400));
//! assert_eq!(ErrorBody::from(code).status(), 400);
//! # Ok::<(), strata_distribution::Error>(())
//! ```

pub mod auth;
pub mod errcode;
pub mod error;
mod header;
pub mod media;
pub mod name;
pub mod paging;
pub mod query;
pub mod range;
pub mod route;

pub use auth::{Actions, AuthScheme, Challenge, Scope, TokenResponse};
pub use errcode::{ErrorBody, ErrorCode, ErrorEntry};
pub use error::{Error, Result};
pub use media::{Accept, MediaRange};
pub use name::{ManifestRef, RepositoryName};
pub use paging::{Catalog, Link, Pagination, TagList};
pub use range::{ByteRange, ContentRange, RangeRequest, UploadProgress};
pub use route::Route;
