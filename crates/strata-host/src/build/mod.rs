//! `build`: the builder's [`Executor`](strata_build::Executor) wired to this
//! host's store, snapshots and runtime.
//!
//! Each step runs on an overlay mount of its parent's snapshots with a fresh
//! upper directory; the upper directory becomes the step's layer (one
//! streaming pass: tar, hash, compress, store) and is then renamed into place
//! as the new snapshot. Step results are remembered under their cache keys in
//! `build-cache/` of the store root.

mod cache;
mod context;
mod copy;
mod executor;
mod run;
mod stubs;
mod worktree;

use std::path::Path;

use strata_build::{BuildOptions, BuildResult, Progress};
use strata_dockerfile::Dockerfile;

pub use cache::BuildCacheUsage;
pub use context::{read_context_file, Context};
pub use executor::BuildExecutor;

use crate::error::Result;
use crate::host::Host;

impl Host {
    /// Builds `df` with `context` as the build context; `dockerfile` is where
    /// the Dockerfile was read from, if from a file (a `NAME.dockerignore`
    /// beside it replaces the context's `.dockerignore`).
    pub fn build(
        &self,
        df: &Dockerfile,
        context: &Path,
        dockerfile: Option<&Path>,
        opts: &BuildOptions,
        progress: &dyn Progress,
    ) -> Result<BuildResult> {
        // Garbage collection waits for the build: its layers are not in any
        // image until the end.
        let _gc = self.store.lock_shared()?;
        let exec = BuildExecutor::new(
            self,
            Context::open(context, dockerfile)?,
            opts.source_date_epoch,
        );
        Ok(strata_build::build(df, opts, &exec, progress)?)
    }
}
