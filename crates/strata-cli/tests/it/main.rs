//! End-to-end tests of the `strata` binary: real stores in temp dirs, real peers
//! (dockerd, skopeo) as oracles where the machine has them.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod archive;
mod build;
mod build_diff;
mod common;
mod containers;
mod cp;
mod crash;
mod golden;
mod hostile;
mod images;
mod interop;
mod registry;
mod terminal;
