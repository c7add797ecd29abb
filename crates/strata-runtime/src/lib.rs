//! Strata's container runtime glue.
//!
//! It owns what it takes to run a container through an OCI runtime: the pure
//! translation of an image config and run options into a runtime spec
//! ([`bundle`], with [`users`], [`caps`], [`seccomp`]), the driver for the OCI
//! runtime binary (`runc`), the per-container monitor that outlives the CLI,
//! and networking. It does not know the image store: the host hands it a mounted
//! root file system and the image config.

pub mod bundle;
pub mod caps;
pub mod console;
mod error;
pub mod monitor;
pub mod network;
pub mod runc;
pub mod seccomp;
pub mod spec;
pub mod users;

pub use error::{Error, Result};
