//! Arguments of the registry commands: pull, push, login, logout, search,
//! manifest inspect.

use clap::{Args, Subcommand};

/// `--tls-verify`, shared by the commands that talk to a registry.
#[derive(Debug, Clone, Args)]
pub struct TlsArgs {
    /// Require HTTPS and verify certificates. `--tls-verify=false` allows
    /// plain HTTP and unverified TLS (loopback registries may always use HTTP).
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub tls_verify: Option<bool>,
}

/// `pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// The image: `NAME[:TAG|@DIGEST]`.
    #[arg(value_name = "NAME[:TAG|@DIGEST]")]
    pub reference: String,
    /// Pull the image for this platform (default: this machine's).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// Pull every platform of a multi-platform image.
    #[arg(short = 'a', long)]
    pub all_platforms: bool,
    /// Print only the image name.
    #[arg(short, long)]
    pub quiet: bool,
    /// Layers to download at the same time.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub max_concurrent_downloads: usize,
    #[command(flatten)]
    pub tls: TlsArgs,
}

/// `push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// The image: `NAME[:TAG]`.
    #[arg(value_name = "NAME[:TAG]")]
    pub reference: String,
    /// Push every tag of the repository.
    #[arg(short = 'a', long)]
    pub all_tags: bool,
    /// Print only the digest lines.
    #[arg(short, long)]
    pub quiet: bool,
    /// Blobs to upload at the same time.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub max_concurrent_uploads: usize,
    #[command(flatten)]
    pub tls: TlsArgs,
}

/// `login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The registry (`host[:port]`; Docker Hub when left out).
    pub server: Option<String>,
    /// User name.
    #[arg(short, long)]
    pub username: Option<String>,
    /// Password (insecure: it lands in shell history; prefer --password-stdin).
    #[arg(short, long)]
    pub password: Option<String>,
    /// Read the password from standard input.
    #[arg(long)]
    pub password_stdin: bool,
    #[command(flatten)]
    pub tls: TlsArgs,
}

/// `logout`.
#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The registry (`host[:port]`; Docker Hub when left out).
    pub server: Option<String>,
}

/// `search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// `REGISTRY/TERM`: repositories of REGISTRY's catalog whose name contains TERM.
    #[arg(value_name = "REGISTRY/TERM")]
    pub term: String,
    /// Show at most this many results.
    #[arg(long, default_value_t = 25)]
    pub limit: usize,
    /// Output format: `table`, `json`, or a Go template (`{{.Name}}`).
    #[arg(long)]
    pub format: Option<String>,
    /// List the tags of each result too.
    #[arg(long)]
    pub list_tags: bool,
    #[command(flatten)]
    pub tls: TlsArgs,
}

/// `manifest …` subcommands.
#[derive(Debug, Subcommand)]
pub enum ManifestCommand {
    /// Show an image's manifest or index as the registry serves it.
    Inspect(ManifestInspectArgs),
}

/// `manifest inspect`.
#[derive(Debug, Args)]
pub struct ManifestInspectArgs {
    /// The image: `NAME[:TAG|@DIGEST]`.
    #[arg(value_name = "NAME[:TAG|@DIGEST]")]
    pub reference: String,
    /// Add the digest, size and media type of what was fetched (Docker's --verbose).
    #[arg(short, long)]
    pub verbose: bool,
    #[command(flatten)]
    pub tls: TlsArgs,
}
