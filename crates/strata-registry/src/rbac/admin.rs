//! Admin operations, shared by `strata registry user|project|member|robot`
//! and the JSON API: names and passwords are checked, secrets hashed, and
//! every change is written to the audit log. Who may call what is the
//! caller's business (the API checks roles; the CLI is the server's owner).

use base64::Engine;
use serde::Serialize;

use super::accounts::{Accounts, AuditEvent, Robot};
use super::model::{self, Perms, Role};
use super::now;
use crate::error::{Error, Result};

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 8;
/// bcrypt's cost for stored hashes (as `htpasswd -B`).
const BCRYPT_COST: u32 = 10;

/// A robot as listed: its login name, never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RobotInfo {
    /// The login name, `robot$project+name`.
    pub login: String,
    /// The project.
    pub project: String,
    /// Its name in the project.
    pub name: String,
    /// `pull`, `push`.
    pub permissions: Vec<&'static str>,
    /// When it stops working (Unix seconds), if ever.
    pub expires: Option<u64>,
    /// When it was created (Unix seconds).
    pub created: u64,
}

impl From<&Robot> for RobotInfo {
    fn from(r: &Robot) -> Self {
        RobotInfo {
            login: model::robot_login(&r.project, &r.name),
            project: r.project.clone(),
            name: r.name.clone(),
            permissions: r.perms.names(),
            expires: r.expires,
            created: r.created,
        }
    }
}

/// A new robot's login name and its secret (shown once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewRobot {
    /// The login name.
    pub login: String,
    /// The secret: its password.
    pub secret: String,
    /// When it stops working (Unix seconds), if ever.
    pub expires: Option<u64>,
}

/// Admin operations on behalf of `actor`.
pub struct Admin<'a> {
    /// The store.
    pub accounts: &'a dyn Accounts,
    /// Who acts (a user name, or `cli:<login>` from the command line).
    pub actor: String,
    /// The client's address, if over the network.
    pub remote: String,
}

fn hash(secret: &str) -> Result<String> {
    bcrypt::hash(secret, BCRYPT_COST).map_err(|e| Error::Internal(format!("bcrypt: {e}")))
}

fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(Error::Invalid(format!(
            "the password must have at least {MIN_PASSWORD} characters"
        )));
    }
    if password.len() > 72 {
        // bcrypt reads 72 bytes; more would be silently ignored.
        return Err(Error::Invalid(
            "the password must have at most 72 bytes".into(),
        ));
    }
    Ok(())
}

fn name(kind: &str, value: &str) -> Result<()> {
    model::check_name(kind, value).map_err(Error::Invalid)
}

impl Admin<'_> {
    fn audit(&self, action: &str, project: &str, target: &str, detail: &str) -> Result<()> {
        self.accounts.record(&[AuditEvent {
            time: now(),
            actor: self.actor.clone(),
            action: action.to_owned(),
            project: project.to_owned(),
            target: target.to_owned(),
            detail: detail.to_owned(),
            remote: self.remote.clone(),
        }])
    }

    /// Adds a user.
    pub fn add_user(&self, user: &str, password: &str, admin: bool) -> Result<()> {
        name("user", user)?;
        check_password(password)?;
        self.accounts.add_user(user, &hash(password)?, admin)?;
        self.audit("user.add", "", user, if admin { "admin" } else { "" })
    }

    /// Replaces a user's password.
    pub fn set_password(&self, user: &str, password: &str) -> Result<()> {
        check_password(password)?;
        self.accounts.set_password(user, &hash(password)?)?;
        self.audit("user.passwd", "", user, "")
    }

    /// Disables (or enables again) a user.
    pub fn set_disabled(&self, user: &str, disabled: bool) -> Result<()> {
        self.accounts.set_disabled(user, disabled)?;
        let action = if disabled {
            "user.disable"
        } else {
            "user.enable"
        };
        self.audit(action, "", user, "")
    }

    /// Creates a project.
    pub fn create_project(&self, project: &str, public: bool) -> Result<()> {
        name("project", project)?;
        self.accounts.create_project(project, public)?;
        self.audit(
            "project.create",
            project,
            project,
            if public { "public" } else { "private" },
        )
    }

    /// Deletes a project; refused while it holds repositories.
    pub fn delete_project(&self, project: &str, repositories: usize) -> Result<()> {
        if repositories > 0 {
            return Err(Error::Conflict(format!(
                "project {project} still holds {repositories} repositories; delete them first"
            )));
        }
        self.accounts.delete_project(project)?;
        self.audit("project.delete", project, project, "")
    }

    /// Makes `user` a member of `project` with `role`.
    pub fn set_member(&self, project: &str, user: &str, role: Role) -> Result<()> {
        self.accounts.set_member(project, user, role)?;
        self.audit("member.add", project, user, role.as_str())
    }

    /// Removes a member.
    pub fn remove_member(&self, project: &str, user: &str) -> Result<()> {
        self.accounts.remove_member(project, user)?;
        self.audit("member.remove", project, user, "")
    }

    /// Creates a robot with `perms` (pull and/or push), living `lifetime`
    /// seconds (forever if `None`). The secret is returned once.
    pub fn create_robot(
        &self,
        project: &str,
        robot: &str,
        perms: Perms,
        lifetime: Option<u64>,
    ) -> Result<NewRobot> {
        name("robot", robot)?;
        if perms.is_empty() || perms.contains(Perms::DELETE) {
            return Err(Error::Invalid(
                "a robot's permissions are pull, push or pull,push".into(),
            ));
        }
        let secret =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(super::random_bytes::<32>()?);
        let created = now();
        let expires = lifetime.map(|l| created.saturating_add(l));
        let record = Robot {
            project: project.to_owned(),
            name: robot.to_owned(),
            perms,
            expires,
            created,
            stamp: 0,
        };
        self.accounts.add_robot(&record, &hash(&secret)?)?;
        let login = model::robot_login(project, robot);
        self.audit("robot.create", project, &login, &perms.names().join(","))?;
        Ok(NewRobot {
            login,
            secret,
            expires,
        })
    }

    /// Revokes a robot.
    pub fn revoke_robot(&self, project: &str, robot: &str) -> Result<()> {
        self.accounts.revoke_robot(project, robot)?;
        self.audit(
            "robot.revoke",
            project,
            &model::robot_login(project, robot),
            "",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::sqlite::SqliteAccounts;
    use crate::rbac::AuditQuery;

    #[test]
    fn operations_validate_hash_and_audit() {
        let dir = strata_testkit::TempDir::new("admin");
        let db = SqliteAccounts::open(&dir.join("a.db")).expect("open");
        let admin = Admin {
            accounts: &db,
            actor: "cli:root".into(),
            remote: String::new(),
        };
        assert!(matches!(
            admin.add_user("alice", "short", false),
            Err(Error::Invalid(_))
        ));
        assert!(matches!(
            admin.add_user("Alice", "long enough", false),
            Err(Error::Invalid(_))
        ));
        admin.add_user("alice", "long enough", false).expect("add");
        let (_, stored) = db.user("alice").expect("get").expect("alice");
        assert!(stored.starts_with("$2") && !stored.contains("long enough"));
        admin.create_project("team", false).expect("project");
        assert!(admin
            .create_robot("team", "ci", Perms::DELETE, None)
            .is_err());
        let robot = admin
            .create_robot("team", "ci", Perms::PULL.with(Perms::PUSH), Some(60))
            .expect("robot");
        assert_eq!(robot.login, "robot$team+ci");
        assert!(robot.secret.len() >= 43);
        let (_, robot_hash) = db.robot("team", "ci").expect("get").expect("ci");
        assert!(bcrypt::verify(&robot.secret, &robot_hash).expect("verify"));
        assert!(matches!(
            admin.delete_project("team", 2),
            Err(Error::Conflict(_))
        ));
        let log = db.audit(&AuditQuery::default()).expect("audit");
        let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["user.add", "project.create", "robot.create"]);
        assert!(log.iter().all(|e| e.actor == "cli:root"));
    }
}
