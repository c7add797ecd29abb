//! Building images from Dockerfiles.
//!
//! `strata-build` turns a parsed Dockerfile (`strata-dockerfile`) into an image:
//! it plans the stages as a graph and skips those the target does not need
//! ([`plan`]), keeps each stage's image config as instructions change it
//! ([`stage`]), derives a content-addressed cache key for every step
//! ([`cache`]), and runs the stages, independent ones in parallel ([`build`]).
//!
//! It does no file system or process work itself. Everything with a side effect
//! (resolving a base image, hashing build context files, running a command,
//! copying files into a layer, reading and writing the cache, committing the
//! image) goes through the [`Executor`] trait, which the caller implements
//! (`strata-host` wires it to the store, the snapshots and runc). So the
//! builder is tested with a recording executor, without root.

pub mod build;
pub mod cache;
mod error;
pub mod executor;
pub mod plan;
pub mod progress;
pub mod stage;

pub use build::{build, BuildOptions, BuildResult};
pub use error::{Error, ErrorKind, Result};
pub use executor::{
    Base, CacheEntry, CopyRequest, CopySource, ExecError, Executor, Layer, MountSource, RunMount,
    RunNetwork, RunOutcome, RunRequest,
};
pub use progress::{Event, Progress};
