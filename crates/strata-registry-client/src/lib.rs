//! Strata's OCI registry client: resolve, pull and push blobs and manifests,
//! list tags and repositories, find referrers.
//!
//! A [`Client`] speaks to one registry over HTTPS (or plain HTTP where Docker
//! allows it: loopback registries, or `--tls-verify=false`), with TLS roots
//! and client certificates from `certs.d` ([`tls`]), credentials from
//! Docker's `config.json` and its helpers ([`credentials`]), and Docker's
//! token flow ([`auth`]). Blobs stream: [`Client::blob_reader`] resumes a
//! broken download with `Range`, [`Client::push_blob`] skips what the
//! registry has, mounts across repositories and uploads in one stream.
//! [`platform`] picks an index's manifest for a platform and [`mirrors`]
//! lists where to pull a registry's content from first.
//!
//! It knows nothing of Strata's local store: callers hand it readers and take
//! readers back. It must not unpack, decompress or recompress layers.

mod auth;
mod blob;
mod client;
pub mod credentials;
mod error;
mod manifest;
pub mod mirrors;
pub mod platform;
pub mod tls;

pub use blob::{BlobReader, PushedBlob};
pub use client::{Client, ClientOptions};
pub use credentials::{Credential, CredentialStore};
pub use error::{Error, Result};
pub use manifest::{Manifest, MANIFEST_ACCEPT};
pub use tls::TlsOptions;
