//! The registry API's endpoints as values: parse a request path, or build one.
//!
//! A repository name may hold any number of `/`, and its components may be
//! `blobs` or `manifests`, so a path is read from its end: the last one to
//! three segments say which endpoint it is, and everything before them is the
//! name. [`Route::parse`] takes the path only (no query string) and validates
//! every part; [`Route::path`] writes it back exactly.
//!
//! | route | path |
//! |---|---|
//! | `Base` | `/v2/` |
//! | `Catalog` | `/v2/_catalog` |
//! | `Tags` | `/v2/<name>/tags/list` |
//! | `Manifest` | `/v2/<name>/manifests/<tag or digest>` |
//! | `Blob` | `/v2/<name>/blobs/<digest>` |
//! | `UploadStart` | `/v2/<name>/blobs/uploads/` |
//! | `Upload` | `/v2/<name>/blobs/uploads/<id>` |
//! | `Referrers` | `/v2/<name>/referrers/<digest>` |

use std::fmt;
use std::str::FromStr;

use strata_oci::Digest;

use crate::auth::{Actions, Scope};
use crate::error::{Error, Result};
use crate::name::{parse_digest, ManifestRef, RepositoryName};

/// Longest upload session id accepted.
const UPLOAD_ID_MAX: usize = 256;

/// One endpoint of the registry API, with its validated parameters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Route {
    /// `/v2/`: the API version check.
    Base,
    /// `/v2/_catalog`: the repository list.
    Catalog,
    /// `/v2/<name>/tags/list`.
    Tags {
        /// The repository.
        name: RepositoryName,
    },
    /// `/v2/<name>/manifests/<reference>`.
    Manifest {
        /// The repository.
        name: RepositoryName,
        /// The tag or digest.
        reference: ManifestRef,
    },
    /// `/v2/<name>/blobs/<digest>`.
    Blob {
        /// The repository.
        name: RepositoryName,
        /// The blob's digest.
        digest: Digest,
    },
    /// `/v2/<name>/blobs/uploads/`: starts an upload (or mounts, or uploads in one POST).
    UploadStart {
        /// The repository.
        name: RepositoryName,
    },
    /// `/v2/<name>/blobs/uploads/<id>`: one upload session.
    Upload {
        /// The repository.
        name: RepositoryName,
        /// The session id the registry issued.
        id: String,
    },
    /// `/v2/<name>/referrers/<digest>`: manifests whose subject is `digest`.
    Referrers {
        /// The repository.
        name: RepositoryName,
        /// The subject's digest.
        digest: Digest,
    },
}

impl Route {
    /// Parses a request path (without query string) into a route.
    ///
    /// An unknown shape is [`Error::UnknownRoute`]; a known shape with a bad
    /// part gives that part's error (`NAME_INVALID`, `DIGEST_INVALID`,
    /// `TAG_INVALID`, `BLOB_UPLOAD_UNKNOWN`). `/v2` and
    /// `/v2/<name>/blobs/uploads` without their trailing slash are accepted.
    pub fn parse(path: &str) -> Result<Route> {
        let unknown = || Error::UnknownRoute {
            path: path.to_owned(),
        };
        let rest = match path.strip_prefix("/v2") {
            Some("" | "/") => return Ok(Route::Base),
            Some(rest) => rest.strip_prefix('/').ok_or_else(unknown)?,
            None => return Err(unknown()),
        };
        if rest == "_catalog" {
            return Ok(Route::Catalog);
        }
        let segments: Vec<&str> = rest.split('/').collect();
        // Each shape is (segments after the name, how many there are).
        let route = match segments.as_slice() {
            [name @ .., "tags", "list"] => Route::Tags {
                name: name_of(name)?,
            },
            [name @ .., "blobs", "uploads", ""] | [name @ .., "blobs", "uploads"] => {
                Route::UploadStart {
                    name: name_of(name)?,
                }
            }
            [name @ .., "blobs", "uploads", id] => Route::Upload {
                name: name_of(name)?,
                id: upload_id(id)?,
            },
            [name @ .., "manifests", reference] => Route::Manifest {
                name: name_of(name)?,
                reference: reference.parse()?,
            },
            [name @ .., "blobs", digest] => Route::Blob {
                name: name_of(name)?,
                digest: parse_digest(digest)?,
            },
            [name @ .., "referrers", digest] => Route::Referrers {
                name: name_of(name)?,
                digest: parse_digest(digest)?,
            },
            _ => return Err(unknown()),
        };
        Ok(route)
    }

    /// The path of this route, which [`Route::parse`] reads back to the same value.
    pub fn path(&self) -> String {
        match self {
            Route::Base => "/v2/".to_owned(),
            Route::Catalog => "/v2/_catalog".to_owned(),
            Route::Tags { name } => format!("/v2/{name}/tags/list"),
            Route::Manifest { name, reference } => format!("/v2/{name}/manifests/{reference}"),
            Route::Blob { name, digest } => format!("/v2/{name}/blobs/{digest}"),
            Route::UploadStart { name } => format!("/v2/{name}/blobs/uploads/"),
            Route::Upload { name, id } => format!("/v2/{name}/blobs/uploads/{id}"),
            Route::Referrers { name, digest } => format!("/v2/{name}/referrers/{digest}"),
        }
    }

    /// The HTTP methods the endpoint answers, for a 405's `Allow` header.
    pub fn methods(&self) -> &'static [&'static str] {
        match self {
            Route::Base | Route::Catalog | Route::Tags { .. } | Route::Referrers { .. } => {
                &["GET", "HEAD"]
            }
            Route::Manifest { .. } => &["GET", "HEAD", "PUT", "DELETE"],
            Route::Blob { .. } => &["GET", "HEAD", "DELETE"],
            Route::UploadStart { .. } => &["POST"],
            Route::Upload { .. } => &["GET", "PATCH", "PUT", "DELETE"],
        }
    }

    /// The token scope a request with `method` needs, as distribution asks for
    /// it: `pull` to read, `pull,push` to write, `delete` to delete, and
    /// `registry:catalog:*` for the catalog. `None` for `/v2/` (any valid
    /// credentials) and for methods the endpoint does not answer. A mount also
    /// needs `pull` on its `from` repository, which the query names.
    pub fn required_scope(&self, method: &str) -> Option<Scope> {
        if !self
            .methods()
            .iter()
            .any(|m| m.eq_ignore_ascii_case(method))
        {
            return None;
        }
        let name = match self {
            Route::Base => return None,
            Route::Catalog => return Some(Scope::catalog()),
            _ => self.name()?,
        };
        let actions = match method.to_ascii_uppercase().as_str() {
            "GET" | "HEAD" => Actions::pull(),
            "DELETE" => Actions::delete(),
            _ => Actions::pull_push(),
        };
        Some(Scope::repository(name, actions))
    }

    /// The repository the route is about; `None` for `Base` and `Catalog`.
    pub fn name(&self) -> Option<&RepositoryName> {
        match self {
            Route::Base | Route::Catalog => None,
            Route::Tags { name }
            | Route::Manifest { name, .. }
            | Route::Blob { name, .. }
            | Route::UploadStart { name }
            | Route::Upload { name, .. }
            | Route::Referrers { name, .. } => Some(name),
        }
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path())
    }
}

impl FromStr for Route {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Route::parse(s)
    }
}

fn name_of(segments: &[&str]) -> Result<RepositoryName> {
    RepositoryName::new(&segments.join("/"))
}

/// An upload id is opaque but one path segment of URL-safe characters, so it
/// can never be an encoded path or carry a query.
fn upload_id(id: &str) -> Result<String> {
    let ok = !id.is_empty()
        && id.len() <= UPLOAD_ID_MAX
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'=' | b'~'));
    if ok {
        Ok(id.to_owned())
    } else {
        Err(Error::InvalidUploadId { id: id.to_owned() })
    }
}

#[cfg(test)]
mod tests;
