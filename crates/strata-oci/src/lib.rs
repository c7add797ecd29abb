//! Spec types for OCI and Docker images: the vocabulary every other Strata crate speaks.
//!
//! This crate owns digests and streaming verification, image references with Docker's
//! grammar and normalisation, media types, descriptors, manifests, indexes, image
//! configs, platforms, chain IDs, the OCI layout and docker-archive file formats, and
//! the shared [`ErrorKind`].
//!
//! It must stay pure: no file system, no network, no async runtime. Everything here is
//! a value, a parser, or an adapter over a caller's `Read`/`Write`.

pub mod chain;
pub mod config;
pub mod descriptor;
pub mod digest;
pub mod error;
pub mod layout;
pub mod manifest;
pub mod media_type;
pub mod platform;
pub mod reference;
pub mod time;

pub use chain::chain_ids;
pub use config::{ContainerConfig, History, ImageConfig, RootFs};
pub use descriptor::Descriptor;
pub use digest::{Algorithm, Digest, Digester, Verifier};
pub use error::{Error, ErrorKind, Result};
pub use manifest::{Document, ImageIndex, ImageManifest};
pub use platform::Platform;
pub use reference::Reference;
pub use time::Timestamp;
