//! Arguments of the `--rbac` admin commands: `registry user|project|member|
//! robot|audit`. Each works on the account database of the registry that
//! `--storage` or `--config` names.

use clap::{Args, Subcommand};

use super::ServerLocation;

/// `registry user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user.
    Add(UserAddArgs),
    /// List users.
    #[command(alias = "ls")]
    List(ServerLocation),
    /// Change a user's password.
    Passwd(UserPasswdArgs),
    /// Disable a user: no logins, and its tokens stop working.
    Disable(UserNameArgs),
    /// Enable a disabled user again.
    Enable(UserNameArgs),
}

/// `registry user add`.
#[derive(Debug, Args)]
pub struct UserAddArgs {
    #[command(flatten)]
    pub location: ServerLocation,
    /// The login name.
    pub name: String,
    /// A system admin (manages users and projects, may do anything).
    #[arg(long)]
    pub admin: bool,
    /// Read the password from standard input (otherwise it is prompted for).
    #[arg(long)]
    pub password_stdin: bool,
}

/// `registry user passwd`.
#[derive(Debug, Args)]
pub struct UserPasswdArgs {
    #[command(flatten)]
    pub location: ServerLocation,
    /// The login name.
    pub name: String,
    /// Read the password from standard input (otherwise it is prompted for).
    #[arg(long)]
    pub password_stdin: bool,
}

/// A user, by name.
#[derive(Debug, Args)]
pub struct UserNameArgs {
    #[command(flatten)]
    pub location: ServerLocation,
    /// The login name.
    pub name: String,
}

/// `registry project …`.
#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project.
    Create(ProjectCreateArgs),
    /// List projects.
    #[command(alias = "ls")]
    List(ServerLocation),
    /// Delete an empty project, with its members and robots.
    #[command(alias = "rm")]
    Delete(ProjectNameArgs),
}

/// `registry project create`.
#[derive(Debug, Args)]
pub struct ProjectCreateArgs {
    #[command(flatten)]
    pub location: ServerLocation,
    /// The name: the first component of its repositories' names.
    pub name: String,
    /// Anyone, anonymous included, may pull and list it.
    #[arg(long)]
    pub public: bool,
}

/// A project, by name.
#[derive(Debug, Args)]
pub struct ProjectNameArgs {
    #[command(flatten)]
    pub location: ServerLocation,
    /// The project.
    pub name: String,
}

/// `registry member …`.
#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Give a user a role in a project (replacing its role there).
    Add(MemberAddArgs),
    /// Take a user out of a project.
    #[command(alias = "rm")]
    Remove(MemberRemoveArgs),
    /// List a project's members.
    #[command(alias = "ls")]
    List(ProjectNameArgs),
}

/// `registry member add`.
#[derive(Debug, Args)]
pub struct MemberAddArgs {
    #[command(flatten)]
    pub location: ServerLocation,
    /// The project.
    pub project: String,
    /// The user.
    pub user: String,
    /// admin, maintainer, developer, guest or limited-guest.
    pub role: String,
}

/// `registry member remove`.
#[derive(Debug, Args)]
pub struct MemberRemoveArgs {
    #[command(flatten)]
    pub location: ServerLocation,
    /// The project.
    pub project: String,
    /// The user.
    pub user: String,
}

/// `registry robot …`.
#[derive(Debug, Subcommand)]
pub enum RobotCommand {
    /// Create a robot account; prints its login name and secret once.
    Create(RobotCreateArgs),
    /// List a project's robots.
    #[command(alias = "ls")]
    List(ProjectNameArgs),
    /// Revoke a robot: its secret and its tokens stop working.
    #[command(alias = "rm")]
    Revoke(RobotRevokeArgs),
}

/// `registry robot create`.
#[derive(Debug, Args)]
pub struct RobotCreateArgs {
    #[command(flatten)]
    pub location: ServerLocation,
    /// The project.
    pub project: String,
    /// The robot's name in the project (its login is `robot$PROJECT+NAME`).
    pub name: String,
    /// What it may do: pull, push or pull,push.
    #[arg(long, value_name = "PERMS", default_value = "pull")]
    pub perm: String,
    /// Lifetime: 30d, 12h, 15m, or never.
    #[arg(long, value_name = "DURATION", default_value = "never")]
    pub expires: String,
}

/// `registry robot revoke`.
#[derive(Debug, Args)]
pub struct RobotRevokeArgs {
    #[command(flatten)]
    pub location: ServerLocation,
    /// The project.
    pub project: String,
    /// The robot's name (or its login, `robot$PROJECT+NAME`).
    pub name: String,
}

/// `registry audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub location: ServerLocation,
    /// Only this project's events.
    #[arg(long)]
    pub project: Option<String>,
    /// Only events since this: an RFC 3339 time, or an age (30m, 24h, 7d).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// At most this many (the newest).
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
    /// Delete the events older than this (an RFC 3339 time, or an age such
    /// as 90d) instead of showing events.
    #[arg(long, value_name = "TIME", conflicts_with_all = ["project", "since"])]
    pub prune_before: Option<String>,
    /// Print JSON lines instead of a table.
    #[arg(long, value_name = "FORMAT", value_parser = ["table", "json"], default_value = "table")]
    pub format: String,
}
