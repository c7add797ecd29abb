//! Arguments of `strata registry …`: the registry server and its tools.

use std::path::PathBuf;

use clap::{Args, Subcommand};

pub use super::server_admin::*;

/// `registry …` subcommands.
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Run a registry server (OCI distribution spec 1.1).
    Serve(ServeArgs),
    /// Delete blobs no manifest needs.
    Gc(GcArgs),
    /// Add or replace a user in an htpasswd file (bcrypt).
    Htpasswd(HtpasswdArgs),
    /// Manage the accounts of `serve --rbac`.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage projects (the first component of repository names).
    #[command(subcommand)]
    Project(ProjectCommand),
    /// Manage project members and their roles.
    #[command(subcommand)]
    Member(MemberCommand),
    /// Manage robot accounts (for CI).
    #[command(subcommand)]
    Robot(RobotCommand),
    /// Show who pulled, pushed, deleted or changed what.
    Audit(AuditArgs),
}

/// Where the configuration and storage are.
#[derive(Debug, Clone, Args)]
pub struct ServerLocation {
    /// Configuration file (TOML); flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Storage directory (default /var/lib/strata-registry).
    #[arg(long, value_name = "DIR")]
    pub storage: Option<PathBuf>,
}

/// `registry serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub location: ServerLocation,
    /// Listen address (default 0.0.0.0:5000).
    #[arg(long, value_name = "HOST:PORT")]
    pub addr: Option<String>,
    /// TLS certificate chain (PEM); with --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM); with --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// htpasswd file of bcrypt users: Basic authentication for every request.
    #[arg(long, value_name = "FILE")]
    pub htpasswd: Option<PathBuf>,
    /// Be a pull-through cache of this registry (`https://host[:port]`).
    #[arg(long, value_name = "URL")]
    pub proxy_remote: Option<String>,
    /// Allow DELETE of manifests, tags and blobs.
    #[arg(long)]
    pub delete_enabled: bool,
    /// Role-based access control: accounts, projects and the token service
    /// (see `registry user|project|member|robot`).
    #[arg(long, conflicts_with = "htpasswd")]
    pub rbac: bool,
}

/// `registry gc`.
#[derive(Debug, Args)]
pub struct GcArgs {
    #[command(flatten)]
    pub location: ServerLocation,
    /// Only report what would be deleted.
    #[arg(long)]
    pub dry_run: bool,
    /// Spare unreferenced blobs younger than this (`30s`, `10m`, `1h`), so
    /// pushes in flight keep theirs.
    #[arg(long, default_value = "1h", value_name = "DURATION")]
    pub grace: String,
}

/// `registry htpasswd`.
#[derive(Debug, Args)]
pub struct HtpasswdArgs {
    /// The htpasswd file (created if missing).
    pub file: PathBuf,
    /// The user.
    pub user: String,
    /// Read the password from standard input (otherwise it is prompted for).
    #[arg(long)]
    pub password_stdin: bool,
}
