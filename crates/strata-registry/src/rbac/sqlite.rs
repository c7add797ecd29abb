//! The embedded account store: one SQLite file in WAL mode with full
//! syncs, so a crash loses no committed change. The schema is versioned with
//! `PRAGMA user_version`; each migration runs in its own transaction.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};

use super::accounts::{Accounts, AuditEvent, AuditQuery, Member, Project, Robot, User};
use super::model::{Perms, Role};
use super::now;
use crate::error::{Error, Result};

/// The migrations, in order; `user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    "
    CREATE TABLE users (
        name TEXT PRIMARY KEY,
        hash TEXT NOT NULL,
        admin INTEGER NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0,
        created INTEGER NOT NULL
    );
    CREATE TABLE projects (
        name TEXT PRIMARY KEY,
        public INTEGER NOT NULL,
        created INTEGER NOT NULL
    );
    CREATE TABLE members (
        project TEXT NOT NULL REFERENCES projects(name) ON DELETE CASCADE,
        user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
        role TEXT NOT NULL,
        PRIMARY KEY (project, user)
    );
    CREATE TABLE robots (
        project TEXT NOT NULL REFERENCES projects(name) ON DELETE CASCADE,
        name TEXT NOT NULL,
        hash TEXT NOT NULL,
        actions INTEGER NOT NULL,
        expires INTEGER,
        created INTEGER NOT NULL,
        PRIMARY KEY (project, name)
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        time INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        project TEXT NOT NULL,
        target TEXT NOT NULL,
        detail TEXT NOT NULL,
        remote TEXT NOT NULL
    );
    CREATE INDEX audit_by_time ON audit (time);
    CREATE INDEX audit_by_project ON audit (project, time);
    CREATE TABLE revision (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
    INSERT INTO revision VALUES (1, 0);
",
    "
    ALTER TABLE users ADD COLUMN stamp INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE robots ADD COLUMN stamp INTEGER NOT NULL DEFAULT 0;
",
];

/// Accounts in a SQLite database file.
#[derive(Debug)]
pub struct SqliteAccounts {
    conn: Mutex<Connection>,
}

fn db_err(e: rusqlite::Error) -> Error {
    Error::Internal(format!("account database: {e}"))
}

impl SqliteAccounts {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<SqliteAccounts> {
        create_private(path)?;
        let mut conn = Connection::open(path)
            .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db_err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;",
        )
        .map_err(db_err)?;
        migrate(&mut conn)?;
        Ok(SqliteAccounts {
            conn: Mutex::new(conn),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> Result<T> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn).map_err(db_err)
    }

    /// Runs a write in a transaction that also bumps the revision.
    fn write(&self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<usize>) -> Result<usize> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction().map_err(db_err)?;
        let changed = f(&tx)?;
        tx.execute("UPDATE revision SET value = value + 1 WHERE id = 1", [])
            .map_err(db_err)?;
        tx.commit().map_err(db_err)?;
        Ok(changed)
    }
}

/// Makes the database file (and a new directory for it) private before
/// SQLite opens it: password hashes are in there, and SQLite gives its
/// `-wal` and `-shm` files the database file's mode.
fn create_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(Error::io("create", dir))?;
        }
    }
    // Created only when missing, and never opened here otherwise: closing
    // any descriptor of the file drops every POSIX lock this process holds
    // on it, SQLite's own included, and another process would then believe
    // the database unused (and checkpoint and delete its WAL under us).
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(Error::io("create", path)(e)),
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(Error::io("chmod", path))?;
    for suffix in ["-wal", "-shm"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        let side = std::path::PathBuf::from(side);
        if side.exists() {
            std::fs::set_permissions(&side, std::fs::Permissions::from_mode(0o600))
                .map_err(Error::io("chmod", &side))?;
        }
    }
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let version: usize = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(db_err)?;
    if version > MIGRATIONS.len() {
        return Err(Error::Config(format!(
            "the account database has schema version {version}; this strata knows up to {}",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction().map_err(db_err)?;
        tx.execute_batch(sql).map_err(db_err)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
            .map_err(db_err)?;
        tx.commit().map_err(db_err)?;
    }
    Ok(())
}

/// A fresh random stamp (53 bits: exact in any JSON reader, never 0).
fn new_stamp() -> Result<u64> {
    Ok((u64::from_le_bytes(super::random_bytes()?) & ((1 << 53) - 1)).max(1))
}

/// A unique-constraint failure as a conflict naming `what`.
fn conflict(what: String) -> impl FnOnce(rusqlite::Error) -> Error {
    move |e| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) => Error::Conflict(what),
        _ => db_err(e),
    }
}

fn must_change(changed: usize, what: String) -> Result<usize> {
    if changed == 0 {
        Err(Error::NotFound(what))
    } else {
        Ok(changed)
    }
}

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        name: r.get(0)?,
        admin: r.get(1)?,
        disabled: r.get(2)?,
        created: r.get(3)?,
        stamp: r.get(4)?,
    })
}

fn project_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Project> {
    Ok(Project {
        name: r.get(0)?,
        public: r.get(1)?,
        created: r.get(2)?,
    })
}

fn robot_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Robot> {
    Ok(Robot {
        project: r.get(0)?,
        name: r.get(1)?,
        perms: Perms::from_bits(r.get(2)?),
        expires: r.get(3)?,
        created: r.get(4)?,
        stamp: r.get(5)?,
    })
}

fn role_of(text: String) -> rusqlite::Result<Role> {
    text.parse().map_err(|e: String| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
    })
}

impl Accounts for SqliteAccounts {
    fn add_user(&self, name: &str, hash: &str, admin: bool) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO users (name, hash, admin, created, stamp) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![name, hash, admin, now(), new_stamp()?],
            )
            .map_err(conflict(format!("user {name} exists")))
        })?;
        Ok(())
    }

    fn user(&self, name: &str) -> Result<Option<(User, String)>> {
        self.with(|c| {
            c.prepare_cached(
                "SELECT name, admin, disabled, created, stamp, hash FROM users WHERE name = ?1",
            )?
            .query_row([name], |r| Ok((user_row(r)?, r.get(5)?)))
            .optional()
        })
    }

    fn users(&self) -> Result<Vec<User>> {
        self.with(|c| {
            c.prepare("SELECT name, admin, disabled, created, stamp FROM users ORDER BY name")?
                .query_map([], user_row)?
                .collect()
        })
    }

    fn set_password(&self, name: &str, hash: &str) -> Result<()> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE users SET hash = ?2, stamp = ?3 WHERE name = ?1",
                    params![name, hash, new_stamp()?],
                )
                .map_err(db_err)?;
            must_change(n, format!("user {name}"))
        })?;
        Ok(())
    }

    fn set_disabled(&self, name: &str, disabled: bool) -> Result<()> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE users SET disabled = ?2, stamp = ?3 WHERE name = ?1",
                    params![name, disabled, new_stamp()?],
                )
                .map_err(db_err)?;
            must_change(n, format!("user {name}"))
        })?;
        Ok(())
    }

    fn create_project(&self, name: &str, public: bool) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO projects (name, public, created) VALUES (?1, ?2, ?3)",
                params![name, public, now()],
            )
            .map_err(conflict(format!("project {name} exists")))
        })?;
        Ok(())
    }

    fn project(&self, name: &str) -> Result<Option<Project>> {
        self.with(|c| {
            c.prepare_cached("SELECT name, public, created FROM projects WHERE name = ?1")?
                .query_row([name], project_row)
                .optional()
        })
    }

    fn projects(&self) -> Result<Vec<Project>> {
        self.with(|c| {
            c.prepare("SELECT name, public, created FROM projects ORDER BY name")?
                .query_map([], project_row)?
                .collect()
        })
    }

    fn delete_project(&self, name: &str) -> Result<()> {
        self.write(|tx| {
            let n = tx
                .execute("DELETE FROM projects WHERE name = ?1", [name])
                .map_err(db_err)?;
            must_change(n, format!("project {name}"))
        })?;
        Ok(())
    }

    fn set_member(&self, project: &str, user: &str, role: Role) -> Result<()> {
        if self.project(project)?.is_none() {
            return Err(Error::NotFound(format!("project {project}")));
        }
        if self.user(user)?.is_none() {
            return Err(Error::NotFound(format!("user {user}")));
        }
        self.write(|tx| {
            tx.execute(
                "INSERT INTO members (project, user, role) VALUES (?1, ?2, ?3)
                 ON CONFLICT (project, user) DO UPDATE SET role = excluded.role",
                params![project, user, role.as_str()],
            )
            .map_err(db_err)
        })?;
        Ok(())
    }

    fn remove_member(&self, project: &str, user: &str) -> Result<()> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "DELETE FROM members WHERE project = ?1 AND user = ?2",
                    [project, user],
                )
                .map_err(db_err)?;
            must_change(n, format!("member {user} of project {project}"))
        })?;
        Ok(())
    }

    fn members(&self, project: &str) -> Result<Vec<Member>> {
        self.with(|c| {
            c.prepare("SELECT user, role FROM members WHERE project = ?1 ORDER BY user")?
                .query_map([project], |r| {
                    Ok(Member {
                        user: r.get(0)?,
                        role: role_of(r.get(1)?)?,
                    })
                })?
                .collect()
        })
    }

    fn roles(&self, user: &str) -> Result<Vec<(String, Role)>> {
        self.with(|c| {
            c.prepare_cached("SELECT project, role FROM members WHERE user = ?1")?
                .query_map([user], |r| Ok((r.get(0)?, role_of(r.get(1)?)?)))?
                .collect()
        })
    }

    fn add_robot(&self, robot: &Robot, hash: &str) -> Result<()> {
        if self.project(&robot.project)?.is_none() {
            return Err(Error::NotFound(format!("project {}", robot.project)));
        }
        self.write(|tx| {
            tx.execute(
                "INSERT INTO robots (project, name, hash, actions, expires, created, stamp)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    robot.project,
                    robot.name,
                    hash,
                    robot.perms.bits(),
                    robot.expires,
                    robot.created,
                    new_stamp()?
                ],
            )
            .map_err(conflict(format!(
                "robot {} exists in project {}",
                robot.name, robot.project
            )))
        })?;
        Ok(())
    }

    fn robot(&self, project: &str, name: &str) -> Result<Option<(Robot, String)>> {
        self.with(|c| {
            c.prepare_cached(
                "SELECT project, name, actions, expires, created, stamp, hash FROM robots
                 WHERE project = ?1 AND name = ?2",
            )?
            .query_row([project, name], |r| Ok((robot_row(r)?, r.get(6)?)))
            .optional()
        })
    }

    fn robots(&self, project: &str) -> Result<Vec<Robot>> {
        self.with(|c| {
            c.prepare(
                "SELECT project, name, actions, expires, created, stamp FROM robots
                 WHERE project = ?1 ORDER BY name",
            )?
            .query_map([project], robot_row)?
            .collect()
        })
    }

    fn revoke_robot(&self, project: &str, name: &str) -> Result<()> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "DELETE FROM robots WHERE project = ?1 AND name = ?2",
                    [project, name],
                )
                .map_err(db_err)?;
            must_change(n, format!("robot {name} of project {project}"))
        })?;
        Ok(())
    }

    fn record(&self, events: &[AuditEvent]) -> Result<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO audit (time, actor, action, project, target, detail, remote)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?;
                for e in events {
                    insert.execute(params![
                        e.time, e.actor, e.action, e.project, e.target, e.detail, e.remote
                    ])?;
                }
            }
            tx.commit()
        })
    }

    fn audit(&self, query: &AuditQuery) -> Result<Vec<AuditEvent>> {
        let limit = if query.limit == 0 {
            i64::MAX
        } else {
            query.limit as i64
        };
        self.with(|c| {
            let mut rows: Vec<AuditEvent> = c
                .prepare(
                    "SELECT time, actor, action, project, target, detail, remote FROM audit
                     WHERE (?1 IS NULL OR project = ?1) AND time >= ?2
                     ORDER BY id DESC LIMIT ?3",
                )?
                .query_map(
                    params![query.project, query.since.unwrap_or(0), limit],
                    |r| {
                        Ok(AuditEvent {
                            time: r.get(0)?,
                            actor: r.get(1)?,
                            action: r.get(2)?,
                            project: r.get(3)?,
                            target: r.get(4)?,
                            detail: r.get(5)?,
                            remote: r.get(6)?,
                        })
                    },
                )?
                .collect::<rusqlite::Result<_>>()?;
            rows.reverse();
            Ok(rows)
        })
    }

    fn prune_audit(&self, before: u64) -> Result<usize> {
        self.with(|c| c.execute("DELETE FROM audit WHERE time < ?1", [before]))
    }

    fn revision(&self) -> Result<u64> {
        self.with(|c| {
            c.prepare_cached("SELECT value FROM revision WHERE id = 1")?
                .query_row([], |r| r.get(0))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> (strata_testkit::TempDir, SqliteAccounts) {
        let dir = strata_testkit::TempDir::new("accounts");
        let db = SqliteAccounts::open(&dir.join("rbac/accounts.db")).expect("open");
        (dir, db)
    }

    #[test]
    fn accounts_round_trip_and_bump_the_revision() {
        let (dir, db) = open();
        let r0 = db.revision().expect("rev");
        db.add_user("alice", "h1", false).expect("add");
        assert!(matches!(
            db.add_user("alice", "h", true),
            Err(Error::Conflict(_))
        ));
        db.create_project("team", false).expect("project");
        db.set_member("team", "alice", Role::Developer)
            .expect("member");
        db.set_member("team", "alice", Role::Maintainer)
            .expect("role change");
        assert!(matches!(
            db.set_member("team", "bob", Role::Guest),
            Err(Error::NotFound(_))
        ));
        assert_eq!(
            db.roles("alice").expect("roles"),
            vec![("team".into(), Role::Maintainer)]
        );
        let robot = Robot {
            project: "team".into(),
            name: "ci".into(),
            perms: Perms::PULL.with(Perms::PUSH),
            expires: Some(99),
            created: 1,
            stamp: 0,
        };
        db.add_robot(&robot, "rh").expect("robot");
        let (stored, hash) = db.robot("team", "ci").expect("get").expect("ci");
        assert_eq!(
            (stored.name.as_str(), stored.expires, hash.as_str()),
            ("ci", Some(99), "rh")
        );
        assert_ne!(stored.stamp, 0, "the store stamps it");
        let stamp = db.user("alice").expect("get").expect("alice").0.stamp;
        db.set_password("alice", "h2").expect("passwd");
        assert_ne!(
            db.user("alice").expect("get").expect("alice").0.stamp,
            stamp
        );
        db.set_disabled("alice", true).expect("disable");
        let (alice, hash) = db.user("alice").expect("get").expect("alice");
        assert!(alice.disabled);
        assert_eq!(hash, "h2");
        assert!(db.revision().expect("rev") > r0);
        // Deleting the project takes its members and robots.
        db.delete_project("team").expect("delete");
        assert!(db.roles("alice").expect("roles").is_empty());
        assert!(db.robots("team").expect("robots").is_empty());
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &str| {
            std::fs::metadata(dir.join(p))
                .expect("stat")
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode("rbac"), 0o700);
        assert_eq!(mode("rbac/accounts.db"), 0o600);
        assert_eq!(mode("rbac/accounts.db-wal"), 0o600);
        drop(db);
        // Reopening migrates nothing and keeps the data.
        let db = SqliteAccounts::open(&dir.join("rbac/accounts.db")).expect("reopen");
        assert_eq!(db.users().expect("users").len(), 1);
    }

    #[test]
    fn audit_is_filtered_by_project_and_time() {
        let (_dir, db) = open();
        let event = |time, project: &str| AuditEvent {
            time,
            actor: "alice".into(),
            action: "push".into(),
            project: project.into(),
            target: format!("{project}/app"),
            detail: "v1".into(),
            remote: "127.0.0.1:1".into(),
        };
        db.record(&[event(10, "a"), event(20, "b"), event(30, "a")])
            .expect("record");
        let q = |project: Option<&str>, since| AuditQuery {
            project: project.map(str::to_owned),
            since,
            limit: 0,
        };
        assert_eq!(db.audit(&q(None, None)).expect("all").len(), 3);
        let a = db.audit(&q(Some("a"), Some(15))).expect("a");
        assert_eq!(a, vec![event(30, "a")]);
        let last = db
            .audit(&AuditQuery {
                limit: 1,
                ..AuditQuery::default()
            })
            .expect("last");
        assert_eq!(last, vec![event(30, "a")]);
        assert_eq!(db.prune_audit(20).expect("prune"), 1);
        assert_eq!(db.audit(&q(None, None)).expect("left").len(), 2);
    }

    #[test]
    fn a_first_version_database_is_migrated() {
        let dir = strata_testkit::TempDir::new("accounts-v1");
        let path = dir.join("accounts.db");
        let conn = Connection::open(&path).expect("conn");
        conn.execute_batch(MIGRATIONS[0]).expect("v1");
        conn.execute_batch("PRAGMA user_version = 1; INSERT INTO users (name, hash, admin, created) VALUES ('old', 'h', 1, 5);")
            .expect("data");
        drop(conn);
        let db = SqliteAccounts::open(&path).expect("migrate");
        let (old, _) = db.user("old").expect("get").expect("old");
        assert_eq!((old.admin, old.created, old.stamp), (true, 5, 0));
        let version: usize = db
            .with(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
            .expect("version");
        assert_eq!(version, MIGRATIONS.len());
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let (dir, db) = open();
        drop(db);
        let conn = Connection::open(dir.join("rbac/accounts.db")).expect("conn");
        conn.execute_batch("PRAGMA user_version = 99")
            .expect("bump");
        drop(conn);
        let err = SqliteAccounts::open(&dir.join("rbac/accounts.db")).expect_err("newer");
        assert!(err.to_string().contains("schema version 99"), "{err}");
    }
}
