//! The account store: users, projects, members, robots and the audit log,
//! behind a trait so a shared database (PostgreSQL) can serve several
//! replicas later. [`super::sqlite`] is the embedded default.

use serde::Serialize;

use super::model::{Perms, Role};
use crate::error::Result;

/// A user account (without its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// The login name.
    pub name: String,
    /// A system admin: manages users and projects, may do anything.
    pub admin: bool,
    /// A disabled user cannot log in, and tokens issued before stop working.
    pub disabled: bool,
    /// When it was created (Unix seconds).
    pub created: u64,
    /// A random number the store changes with the password and on disable
    /// and enable; tokens carry it, and one carrying another is refused.
    #[serde(skip)]
    pub stamp: u64,
}

/// A project: the first path component of its repositories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Project {
    /// The name.
    pub name: String,
    /// Anyone may pull and list it.
    pub public: bool,
    /// When it was created (Unix seconds).
    pub created: u64,
}

/// A user's role in a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    /// The user.
    pub user: String,
    /// The role.
    #[serde(serialize_with = "role_name")]
    pub role: Role,
}

fn role_name<S: serde::Serializer>(role: &Role, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(role.as_str())
}

/// A robot account of a project (without its secret's hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Robot {
    /// The project.
    pub project: String,
    /// Its name within the project.
    pub name: String,
    /// What it may do in the project (pull, push).
    pub perms: Perms,
    /// When it stops working (Unix seconds), if ever.
    pub expires: Option<u64>,
    /// When it was created (Unix seconds).
    pub created: u64,
    /// A random number the store sets when it adds the robot (what is passed
    /// in is ignored); tokens carry it, so a robot revoked and made again
    /// under the same name does not revive the old one's tokens.
    pub stamp: u64,
}

/// One audited operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    /// When (Unix seconds).
    pub time: u64,
    /// Who: a user, `robot$project+name` or `anonymous`.
    pub actor: String,
    /// What: `pull`, `push`, `delete`, `login.failed`, `user.add`, …
    pub action: String,
    /// The project concerned (empty for users).
    pub project: String,
    /// The object: a repository, user, member or robot name.
    pub target: String,
    /// The reference (tag or digest), role or other detail.
    pub detail: String,
    /// The client's address (empty from the command line).
    pub remote: String,
}

/// Which audit events to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only this project's.
    pub project: Option<String>,
    /// Only events at or after this time (Unix seconds).
    pub since: Option<u64>,
    /// At most this many, newest last (0: no limit).
    pub limit: usize,
}

/// Storage of accounts and the audit log. Every write bumps
/// [`Accounts::revision`], so servers that cache what they read notice
/// changes made by another process (the command line).
pub trait Accounts: Send + Sync {
    /// Adds a user; [`crate::Error::Conflict`] if the name is taken.
    fn add_user(&self, name: &str, hash: &str, admin: bool) -> Result<()>;
    /// A user and its password hash.
    fn user(&self, name: &str) -> Result<Option<(User, String)>>;
    /// Every user, by name.
    fn users(&self) -> Result<Vec<User>>;
    /// Replaces a user's password hash.
    fn set_password(&self, name: &str, hash: &str) -> Result<()>;
    /// Disables or enables a user.
    fn set_disabled(&self, name: &str, disabled: bool) -> Result<()>;

    /// Creates a project; [`crate::Error::Conflict`] if it exists.
    fn create_project(&self, name: &str, public: bool) -> Result<()>;
    /// A project.
    fn project(&self, name: &str) -> Result<Option<Project>>;
    /// Every project, by name.
    fn projects(&self) -> Result<Vec<Project>>;
    /// Deletes a project with its members and robots.
    fn delete_project(&self, name: &str) -> Result<()>;

    /// Makes `user` a member of `project` with `role` (replacing its role).
    fn set_member(&self, project: &str, user: &str, role: Role) -> Result<()>;
    /// Removes a member.
    fn remove_member(&self, project: &str, user: &str) -> Result<()>;
    /// A project's members, by name.
    fn members(&self, project: &str) -> Result<Vec<Member>>;
    /// Every project `user` is a member of, with the role.
    fn roles(&self, user: &str) -> Result<Vec<(String, Role)>>;

    /// Adds a robot with its secret's hash.
    fn add_robot(&self, robot: &Robot, hash: &str) -> Result<()>;
    /// A robot and its secret's hash.
    fn robot(&self, project: &str, name: &str) -> Result<Option<(Robot, String)>>;
    /// A project's robots, by name.
    fn robots(&self, project: &str) -> Result<Vec<Robot>>;
    /// Deletes a robot: its secret and its tokens stop working.
    fn revoke_robot(&self, project: &str, name: &str) -> Result<()>;

    /// Appends audit events.
    fn record(&self, events: &[AuditEvent]) -> Result<()>;
    /// Reads audit events, oldest first.
    fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>>;
    /// Deletes audit events older than `before` (Unix seconds); returns how many.
    fn prune_audit(&self, before: u64) -> Result<usize>;

    /// A number that changes whenever users, projects, members or robots do.
    fn revision(&self) -> Result<u64>;
}
