//! `build`'s flags, as `docker build` has them.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

/// `build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The build context: a directory, or `-` to read a Dockerfile (no context) from stdin.
    #[arg(value_name = "PATH|-")]
    pub context: String,
    /// Name and optionally a tag (`name:tag`); repeatable.
    #[arg(short = 't', long = "tag", value_name = "NAME[:TAG]")]
    pub tags: Vec<String>,
    /// The Dockerfile (default: `PATH/Dockerfile`; `-` reads it from stdin).
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// A build-time variable (`KEY=value`, or `KEY` to take it from the environment).
    #[arg(long = "build-arg", value_name = "KEY[=VALUE]")]
    pub build_args: Vec<String>,
    /// The stage to build.
    #[arg(long, value_name = "STAGE")]
    pub target: Option<String>,
    /// Do not use the cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Metadata for the image (`KEY=value`).
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Write the image ID to this file.
    #[arg(long, value_name = "FILE")]
    pub iidfile: Option<PathBuf>,
    /// Print only the image ID.
    #[arg(short, long)]
    pub quiet: bool,
    /// Progress output.
    #[arg(long, value_enum, default_value_t = ProgressArg::Auto)]
    pub progress: ProgressArg,
    /// The platform to build for (only this machine's is supported).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// The network of `RUN` steps: `default` (a namespace of their own on the
    /// containers' bridge, with outbound NAT), `host` (this machine's), or
    /// `none` (loopback only). A step's own `RUN --network` wins.
    #[arg(long, value_name = "MODE", default_value = "default")]
    pub network: String,
    /// Remove intermediate containers (always: there are none to keep).
    #[arg(long, hide = true, num_args = 0..=1, default_missing_value = "true")]
    pub rm: Option<bool>,
    /// Remove intermediate containers even after a failure (always).
    #[arg(long, hide = true)]
    pub force_rm: bool,
    /// Always pull base images (needs a registry client: not available yet).
    #[arg(long)]
    pub pull: bool,
    /// Also export the image: `type=oci,dest=F.tar` or `type=docker,dest=F.tar`.
    #[arg(short = 'o', long, value_name = "type=oci|docker,dest=FILE")]
    pub output: Option<String>,
}

/// `--progress` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressArg {
    /// `tty` on a terminal, `plain` otherwise.
    Auto,
    /// One line per event.
    Plain,
    /// A live view of the running steps.
    Tty,
}
