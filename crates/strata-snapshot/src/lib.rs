//! Strata's layer codec: layers in and out of the store, and the unpacked trees
//! (snapshots) they become.
//!
//! It owns the layer tar format and everything that touches it: creating a layer
//! from a directory or from changes ([`create`], [`diff`]), compressing it on every
//! core in one pass ([`compression`], [`parallel`]), checking a layer at the door
//! ([`guard`]), taking a layer in while storing and hashing it ([`ingest`]),
//! applying it onto a directory without ever leaving it ([`apply`]), keeping
//! unpacked layers once per chain ID ([`snapshots`]), and copying one path
//! between two trees as `docker cp` does ([`copy`]).
//!
//! It knows the content store (to read blobs and stage under its root) but not
//! image records, names, registries or containers: callers decide *which* layers.

pub mod apply;
pub mod compression;
pub mod copy;
pub mod create;
pub mod diff;
mod error;
pub mod guard;
pub mod ingest;
pub mod parallel;
pub mod path;
pub mod snapshots;
mod tree;

pub use error::{Error, Result};
