//! Strata's layer codec (WIP).
pub mod apply;
pub mod compression;
pub mod create;
pub mod diff;
mod error;
pub mod guard;
pub mod ingest;
pub mod parallel;
pub mod path;
pub mod snapshots;
pub use error::{Error, Result};
