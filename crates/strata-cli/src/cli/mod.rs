//! The command line: Docker's verbs and flags.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod build;
mod containers;
mod registry;
mod server;
mod server_admin;

pub use build::*;
pub use containers::*;
pub use registry::*;
pub use server::*;

/// Strata: build, ship and run container images (image store commands).
#[derive(Debug, Parser)]
#[command(name = "strata", version, about, max_term_width = 100)]
pub struct Cli {
    /// Store root directory.
    #[arg(long, global = true, env = "STRATA_ROOT", default_value = strata_host::DEFAULT_ROOT, value_name = "DIR")]
    pub root: PathBuf,

    /// Enable debug logging.
    #[arg(short = 'D', long, global = true)]
    pub debug: bool,

    /// Log level: error, warn, info, debug, trace.
    #[arg(long, global = true, value_name = "LEVEL", env = "STRATA_LOG")]
    pub log_level: Option<String>,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create and run a new container from an image.
    Run(RunArgs),
    /// Create a new container.
    Create(RunArgs),
    /// Start one or more stopped containers.
    Start(StartArgs),
    /// Stop one or more running containers.
    Stop(StopArgs),
    /// Kill one or more running containers.
    Kill(KillArgs),
    /// Restart one or more containers.
    Restart(StopArgs),
    /// Remove one or more containers.
    Rm(RmArgs),
    /// Block until one or more containers stop, then print their exit codes.
    Wait(WaitArgs),
    /// List containers.
    Ps(PsArgs),
    /// Fetch the logs of a container.
    Logs(LogsArgs),
    /// Run a command in a running container.
    Exec(ExecArgs),
    /// Display the running processes of a container.
    Top(TopArgs),
    /// Copy files/folders between a container and the local filesystem.
    Cp(CpArgs),
    /// Manage containers.
    #[command(subcommand)]
    Container(ContainerCommand),
    /// Runs a container's monitor (internal).
    #[command(hide = true)]
    ContainerMonitor(MonitorArgs),
    /// Build an image from a Dockerfile.
    Build(BuildArgs),
    /// Download an image from a registry.
    Pull(PullArgs),
    /// Upload an image to a registry.
    Push(PushArgs),
    /// Log in to a registry.
    Login(LoginArgs),
    /// Log out from a registry.
    Logout(LogoutArgs),
    /// Search a registry's repositories.
    Search(SearchArgs),
    /// Inspect manifests in registries.
    #[command(subcommand)]
    Manifest(ManifestCommand),
    /// Run and manage a registry server.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Manage builds.
    #[command(subcommand)]
    Builder(BuilderCommand),
    /// Create an image from a root file system (tarball, directory or `-` for stdin).
    Import(ImportArgs),
    /// List images.
    #[command(visible_alias = "image-ls")]
    Images(ImagesArgs),
    /// Manage images.
    #[command(subcommand)]
    Image(ImageCommand),
    /// Show the history of an image.
    History(HistoryArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE.
    Tag(TagArgs),
    /// Remove one or more images.
    Rmi(RmiArgs),
    /// Save one or more images to a tar archive (streamed to stdout by default).
    Save(SaveArgs),
    /// Load images from a tar archive or an OCI layout directory.
    Load(LoadArgs),
    /// Return low-level information on containers and images.
    Inspect(InspectArgs),
    /// Manage Strata.
    #[command(subcommand)]
    System(SystemCommand),
    /// Display system-wide information.
    Info,
    /// Show the Strata version information.
    Version,
}

/// `image …` subcommands.
#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// List images.
    #[command(visible_alias = "list")]
    Ls(ImagesArgs),
    /// Display detailed information on one or more images.
    Inspect(InspectArgs),
    /// Show the history of an image.
    History(HistoryArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE.
    Tag(TagArgs),
    /// Remove one or more images.
    Rm(RmiArgs),
    /// Remove unused images.
    Prune(PruneArgs),
    /// Save one or more images to a tar archive.
    Save(SaveArgs),
    /// Load images from a tar archive or an OCI layout directory.
    Load(LoadArgs),
    /// Create an image from a root file system.
    Import(ImportArgs),
    /// Build an image from a Dockerfile.
    Build(BuildArgs),
    /// Download an image from a registry.
    Pull(PullArgs),
    /// Upload an image to a registry.
    Push(PushArgs),
}

/// `builder …` subcommands.
#[derive(Debug, Subcommand)]
pub enum BuilderCommand {
    /// Remove the build cache.
    Prune(BuilderPruneArgs),
}

/// `builder prune`.
#[derive(Debug, Args)]
pub struct BuilderPruneArgs {
    /// Also remove the `RUN --mount=type=cache` directories.
    #[arg(short, long)]
    pub all: bool,
    /// Do not prompt for confirmation.
    #[arg(short, long)]
    pub force: bool,
}

/// `system …` subcommands.
#[derive(Debug, Subcommand)]
pub enum SystemCommand {
    /// Show disk usage.
    Df(DfArgs),
    /// Verify every blob, record and snapshot of the store.
    Check(CheckArgs),
    /// Display system-wide information.
    Info,
}

/// `import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Tarball (plain, gzip or zstd), directory, or `-` for stdin.
    pub source: String,
    /// Name for the image.
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub reference: Option<String>,
    /// Apply a Dockerfile instruction to the image (CMD, ENTRYPOINT, ENV, EXPOSE,
    /// LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME, WORKDIR).
    #[arg(short = 'c', long = "change", value_name = "INSTRUCTION")]
    pub changes: Vec<String>,
    /// Set the commit message of the imported image.
    #[arg(short, long)]
    pub message: Option<String>,
    /// Set the platform (default: this machine's).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// Layer compression.
    #[arg(long, value_enum, default_value_t = CompressionArg::Gzip)]
    pub compression: CompressionArg,
}

/// Layer compression choices.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CompressionArg {
    /// gzip (what every registry and Docker accept).
    Gzip,
    /// Zstandard (smaller and faster; Docker 23+, containerd 1.5+).
    Zstd,
    /// No compression.
    None,
}

/// `images`.
#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Only images of this repository (`NAME[:TAG]`, `*` wildcards allowed).
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub reference: Option<String>,
    /// Show all images (by default intermediate images are hidden).
    #[arg(short, long)]
    pub all: bool,
    /// Only show image IDs.
    #[arg(short, long)]
    pub quiet: bool,
    /// Show digests.
    #[arg(long)]
    pub digests: bool,
    /// Don't truncate output.
    #[arg(long)]
    pub no_trunc: bool,
    /// Filter output (`dangling=true|false`, `reference=PATTERN`).
    #[arg(short, long = "filter", value_name = "FILTER")]
    pub filters: Vec<String>,
    /// Pretty-print with a Go template, `table …`, or `json`.
    #[arg(long)]
    pub format: Option<String>,
}

/// `inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Containers or images to inspect.
    #[arg(required = true, value_name = "NAME|ID")]
    pub names: Vec<String>,
    /// Format the output using the given Go template.
    #[arg(short, long)]
    pub format: Option<String>,
    /// Only `container` or `image`.
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
}

/// `history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// The image.
    pub image: String,
    /// Print sizes and dates in human readable format.
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set)]
    pub human: bool,
    /// Don't truncate output.
    #[arg(long)]
    pub no_trunc: bool,
    /// Only show image IDs.
    #[arg(short, long)]
    pub quiet: bool,
    /// Pretty-print with a Go template, `table …`, or `json`.
    #[arg(long)]
    pub format: Option<String>,
}

/// `tag`.
#[derive(Debug, Args)]
pub struct TagArgs {
    /// The image to tag.
    #[arg(value_name = "SOURCE_IMAGE[:TAG]")]
    pub source: String,
    /// The new name.
    #[arg(value_name = "TARGET_IMAGE[:TAG]")]
    pub target: String,
}

/// `rmi`.
#[derive(Debug, Args)]
pub struct RmiArgs {
    /// Images to remove.
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
    /// Force removal of an image referenced by several repositories.
    #[arg(short, long)]
    pub force: bool,
    /// Accepted for Docker compatibility (untagged parents are never kept).
    #[arg(long)]
    pub no_prune: bool,
}

/// `image prune`.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Remove all unused images, not just dangling ones.
    #[arg(short, long)]
    pub all: bool,
    /// Do not prompt for confirmation.
    #[arg(short, long)]
    pub force: bool,
}

/// Archive formats of `save`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SaveFormat {
    /// `docker save`'s format (`docker load` reads it).
    DockerArchive,
    /// An OCI image layout in a tar.
    OciArchive,
}

/// `save`.
#[derive(Debug, Args)]
pub struct SaveArgs {
    /// Images (names or IDs).
    #[arg(required = true, value_name = "IMAGE")]
    pub images: Vec<String>,
    /// Write to a file, instead of STDOUT.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Archive format.
    #[arg(long, value_enum, default_value_t = SaveFormat::DockerArchive)]
    pub format: SaveFormat,
}

/// `load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Read from a tar archive file or an OCI layout directory, instead of STDIN.
    #[arg(short, long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Suppress the load output.
    #[arg(short, long)]
    pub quiet: bool,
}

/// `system df`.
#[derive(Debug, Args)]
pub struct DfArgs {
    /// Show detailed information on space usage.
    #[arg(short, long)]
    pub verbose: bool,
    /// Pretty-print with a Go template, `table …`, or `json`.
    #[arg(long)]
    pub format: Option<String>,
}

/// `system check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Remove what is broken (and the images that need it), re-create missing
    /// snapshots, and clear leftovers of interrupted operations.
    #[arg(long)]
    pub repair: bool,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
