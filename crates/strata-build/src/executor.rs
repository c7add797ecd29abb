//! The side effects a build needs, as a trait the caller implements.
//!
//! The builder decides *what* happens (which step, on which layers, with which
//! config); an [`Executor`] does it: finds base images, hashes and copies files,
//! runs commands, keeps the step cache and commits the image. `strata-host`
//! implements it with the content store, the snapshots and runc.

use serde::{Deserialize, Serialize};
use strata_oci::{Descriptor, Digest, ImageConfig, Platform};

/// An executor's failure, carried with its cause chain.
pub type ExecError = Box<dyn std::error::Error + Send + Sync>;

/// One layer of a build state: its blob in the store and its diff_id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layer {
    /// The uncompressed digest (the config's `rootfs.diff_ids` entry).
    pub diff_id: Digest,
    /// The compressed blob.
    pub blob: Descriptor,
}

/// A base image, as `FROM` finds it.
#[derive(Debug, Clone)]
pub struct Base {
    /// The image ID (config digest), part of every cache key built on it.
    pub id: Digest,
    /// Its config.
    pub config: ImageConfig,
    /// Its layers, base first.
    pub layers: Vec<Layer>,
}

/// Where `COPY`/`ADD` sources, or a `RUN --mount=type=bind`, come from.
#[derive(Debug, Clone, PartialEq)]
pub enum CopySource {
    /// The build context directory (with `.dockerignore` applied).
    Context,
    /// The root file system made of these layers (a stage or an image).
    Layers(Vec<Layer>),
    /// A here-document: one file with this content.
    Inline {
        /// The file's name (used when the destination is a directory).
        name: String,
        /// Its content.
        content: Vec<u8>,
    },
}

/// A `COPY` or `ADD`, resolved by the builder.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyRequest {
    /// Where the sources are.
    pub source: CopySource,
    /// Source paths (with Go glob patterns), relative to the source's root.
    pub paths: Vec<String>,
    /// The destination: absolute, with a trailing `/` when it must be a directory.
    pub dest: String,
    /// `--chown` as written (`user[:group]`, names or IDs), resolved in the
    /// destination's `/etc/passwd` and `/etc/group`.
    pub chown: Option<String>,
    /// `--chmod`, parsed.
    pub chmod: Option<u32>,
    /// `ADD`: local tar archives are extracted.
    pub extract_archives: bool,
    /// `--exclude` patterns.
    pub exclude: Vec<String>,
}

/// What a `RUN --mount` attaches.
#[derive(Debug, Clone, PartialEq)]
pub enum MountSource {
    /// A path of the build context or of a stage (`type=bind`), read-only unless `rw`.
    Bind {
        /// The tree the path is in.
        source: CopySource,
        /// The path in it.
        path: String,
    },
    /// A persistent cache directory (`type=cache`), shared between builds by `id`.
    Cache {
        /// The cache's ID (its target when not given).
        id: String,
    },
    /// An empty tmpfs.
    Tmpfs,
}

/// One `RUN --mount`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunMount {
    /// Where it appears in the container.
    pub target: String,
    /// What it is.
    pub source: MountSource,
    /// Read-only.
    pub readonly: bool,
}

/// The network of a `RUN` (`RUN --network=…`, `build --network`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RunNetwork {
    /// `default`: a namespace of its own on the containers' bridge, with
    /// outbound NAT (BuildKit's sandboxed default).
    #[default]
    Default,
    /// `host`: the host's network namespace.
    Host,
    /// `none`: a namespace with only loopback.
    None,
}

impl RunNetwork {
    /// Reads `default`, `host` or `none`.
    pub fn parse(s: &str) -> Option<RunNetwork> {
        match s {
            "default" => Some(RunNetwork::Default),
            "host" => Some(RunNetwork::Host),
            "none" => Some(RunNetwork::None),
            _ => None,
        }
    }
}

/// A `RUN`, resolved by the builder.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRequest {
    /// The argv.
    pub args: Vec<String>,
    /// `KEY=value`, the stage's ENV then the build args in scope.
    pub env: Vec<String>,
    /// The working directory (absolute).
    pub cwd: String,
    /// The user, as the config has it (empty: root).
    pub user: String,
    /// The network the command gets.
    pub network: RunNetwork,
    /// `--mount`s.
    pub mounts: Vec<RunMount>,
}

/// How a `RUN` ended.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutcome {
    /// The exit code (128+signal when killed).
    pub code: i32,
    /// The layer of its changes (`None`: nothing changed, or it failed).
    pub layer: Option<Layer>,
}

/// A finished step, remembered under its cache key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheEntry {
    /// The layer it made, if any.
    pub layer: Option<Layer>,
    /// When it first ran (its history entry's `created`).
    pub created: String,
}

/// The side effects of a build. Implementations are shared by the threads that
/// run independent stages, hence `Sync`.
pub trait Executor: Sync {
    /// Finds the image `name` (already expanded) for `platform`.
    fn base(&self, name: &str, platform: &Platform) -> Result<Base, ExecError>;

    /// A digest of everything `req` would copy (paths, modes, contents), for its
    /// cache key. Fails as [`copy`](Self::copy) would when a source is missing.
    fn copy_digest(&self, req: &CopyRequest) -> Result<Digest, ExecError>;

    /// Does the copies of one `COPY` or `ADD` (its sources, then its
    /// here-documents), in order, onto the root file system made of
    /// `parent`; returns the one new layer.
    fn copy(&self, parent: &[Layer], reqs: &[CopyRequest]) -> Result<Option<Layer>, ExecError>;

    /// Creates directory `path` (and its parents) on the root file system made
    /// of `parent`, owned by `user` (as the config has it; empty: root), as
    /// `WORKDIR` does; `None` when it already exists.
    fn mkdir(&self, parent: &[Layer], path: &str, user: &str) -> Result<Option<Layer>, ExecError>;

    /// Runs a command on the root file system made of `parent`, passing what it
    /// prints to `output` as it comes.
    fn run(
        &self,
        parent: &[Layer],
        req: &RunRequest,
        output: &mut dyn FnMut(&[u8]),
    ) -> Result<RunOutcome, ExecError>;

    /// The cached result of the step with this key, if there is a usable one.
    fn cache_get(&self, key: &Digest) -> Result<Option<CacheEntry>, ExecError>;

    /// Remembers a step's result.
    fn cache_put(&self, key: &Digest, entry: &CacheEntry) -> Result<(), ExecError>;

    /// Stores the image (config and manifest over `layers`) and names it
    /// `tags`; returns its ID.
    fn commit(
        &self,
        config: &ImageConfig,
        layers: &[Layer],
        tags: &[String],
    ) -> Result<Digest, ExecError>;
}
