//! The composition root: Strata's operations, wired from the engine crates.
//!
//! `strata-host` owns the concrete store and snapshots under one root, and the
//! operations a user runs on them: import, list, inspect, history, tag, remove,
//! prune, disk usage, check, save and load. It returns plain data (serde-ready
//! views) and leaves rendering to the CLI. It does not parse command lines or
//! print anything.

pub mod archive;
pub mod build;
mod change;
mod check;
mod error;
mod gc;
mod host;
mod image;
mod import;
mod inroot;
mod overlay;
pub mod registry;
mod resolve;

pub mod containers;
pub mod images;

pub use check::CheckReport;
pub use error::{Error, Result};
pub use gc::Reclaimed;
pub use host::{Host, HostConfig, DEFAULT_ROOT};
pub use image::{Image, Layer};
pub use import::{created_now, ImportOptions, ImportSource};
pub use resolve::{resolve, Designation, Resolved};
pub use strata_store::STORE_VERSION;
