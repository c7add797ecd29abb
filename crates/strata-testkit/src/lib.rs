//! Test helpers shared by Strata's crates; a dev-dependency only.
//!
//! Temporary directories that clean up after themselves, tarballs crafted entry by
//! entry (including hostile ones no honest tool would write), golden-file
//! comparison, and helpers to find real peers (docker, skopeo) for interop tests.
//! It depends on `strata-oci` only, so every crate can use it without cycles.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod describe;
mod golden;
mod peers;
mod tarball;
mod tempdir;

pub use describe::describe_tree;
pub use golden::assert_golden;
pub use peers::{require_peer, run_ok, run_with_stdin, Peer};
pub use tarball::TarBuilder;
pub use tempdir::TempDir;
