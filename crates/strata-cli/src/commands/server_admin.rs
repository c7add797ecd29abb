//! `registry user|project|member|robot|audit`: the admin side of
//! `serve --rbac`, working directly on the registry's account database (a
//! running server sees the changes within a tenth of a second).

use std::io::{self, Read};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Result};
use strata_oci::Timestamp;
use strata_registry::rbac::admin::{Admin, RobotInfo};
use strata_registry::rbac::sqlite::SqliteAccounts;
use strata_registry::rbac::{model, Accounts, AuditQuery, Role};

use super::server::base_config;
use super::util::print;
use crate::cli::{
    AuditArgs, MemberCommand, ProjectCommand, RobotCommand, ServerLocation, UserCommand,
};
use crate::render::TabWriter;

fn open(location: &ServerLocation) -> Result<SqliteAccounts> {
    let config = base_config(location)?;
    Ok(SqliteAccounts::open(&config.rbac_database())?)
}

/// Changes from the command line are audited as `cli:<login>`.
fn admin(accounts: &SqliteAccounts) -> Admin<'_> {
    let login = ["SUDO_USER", "USER", "LOGNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| user_name(rustix::process::getuid().as_raw()));
    Admin {
        accounts,
        actor: format!("cli:{login}"),
        remote: String::new(),
    }
}

/// The name `/etc/passwd` gives `uid`, or `uid<N>`.
fn user_name(uid: u32) -> String {
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|line| {
                let mut fields = line.split(':');
                let name = fields.next()?;
                (fields.nth(1)? == uid.to_string()).then(|| name.to_owned())
            })
        })
        .unwrap_or_else(|| format!("uid{uid}"))
}

fn password(from_stdin: bool) -> Result<String> {
    let password = if from_stdin {
        let mut s = String::new();
        io::stdin().read_to_string(&mut s)?;
        s.trim_end_matches(['\n', '\r']).to_owned()
    } else {
        let first = super::registry::prompt("Password: ", false)?;
        let again = super::registry::prompt("Repeat password: ", false)?;
        if first != again {
            bail!("the passwords differ");
        }
        first
    };
    Ok(password)
}

/// A field for the table, control characters escaped (the audit log holds
/// what clients sent; a terminal must not interpret it).
fn clean(field: &str) -> String {
    field
        .chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

fn time(secs: u64) -> String {
    Timestamp::from_unix_seconds(secs as i64).to_rfc3339()
}

fn table(header: &str, rows: impl IntoIterator<Item = String>) -> Result<()> {
    let mut tw = TabWriter::new();
    tw.write_str(header);
    tw.write_str("\n");
    for row in rows {
        tw.write_str(&row);
        tw.write_str("\n");
    }
    print(&tw.finish())
}

/// `registry user …`.
pub fn user(cmd: &UserCommand) -> Result<ExitCode> {
    match cmd {
        UserCommand::Add(a) => {
            let db = open(&a.location)?;
            admin(&db).add_user(&a.name, &password(a.password_stdin)?, a.admin)?;
            eprintln!(
                "Added user {}{}",
                a.name,
                if a.admin { " (system admin)" } else { "" }
            );
        }
        UserCommand::Passwd(a) => {
            let db = open(&a.location)?;
            admin(&db).set_password(&a.name, &password(a.password_stdin)?)?;
            eprintln!("Changed the password of {}", a.name);
        }
        UserCommand::Disable(a) | UserCommand::Enable(a) => {
            let disable = matches!(cmd, UserCommand::Disable(_));
            let db = open(&a.location)?;
            admin(&db).set_disabled(&a.name, disable)?;
            eprintln!(
                "{} user {}",
                if disable { "Disabled" } else { "Enabled" },
                a.name
            );
        }
        UserCommand::List(location) => {
            let db = open(location)?;
            table(
                "NAME\tADMIN\tDISABLED\tCREATED",
                db.users()?.into_iter().map(|u| {
                    format!(
                        "{}\t{}\t{}\t{}",
                        u.name,
                        u.admin,
                        u.disabled,
                        time(u.created)
                    )
                }),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `registry project …`.
pub fn project(cmd: &ProjectCommand) -> Result<ExitCode> {
    match cmd {
        ProjectCommand::Create(a) => {
            let db = open(&a.location)?;
            admin(&db).create_project(&a.name, a.public)?;
            eprintln!(
                "Created {} project {}",
                if a.public { "public" } else { "private" },
                a.name
            );
        }
        ProjectCommand::Delete(a) => {
            let config = base_config(&a.location)?;
            let db = SqliteAccounts::open(&config.rbac_database())?;
            let storage =
                std::sync::Arc::new(strata_registry::storage::FsStorage::new(&config.storage())?);
            let registry = strata_registry::repo::Registry::new(storage, false);
            let repos = registry.count_under(&a.name)?;
            admin(&db).delete_project(&a.name, repos)?;
            eprintln!("Deleted project {}", a.name);
        }
        ProjectCommand::List(location) => {
            let db = open(location)?;
            table(
                "NAME\tPUBLIC\tMEMBERS\tROBOTS\tCREATED",
                db.projects()?
                    .into_iter()
                    .map(|p| {
                        Ok(format!(
                            "{}\t{}\t{}\t{}\t{}",
                            p.name,
                            p.public,
                            db.members(&p.name)?.len(),
                            db.robots(&p.name)?.len(),
                            time(p.created)
                        ))
                    })
                    .collect::<Result<Vec<_>>>()?,
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `registry member …`.
pub fn member(cmd: &MemberCommand) -> Result<ExitCode> {
    match cmd {
        MemberCommand::Add(a) => {
            let role: Role = a.role.parse().map_err(|e: String| anyhow!(e))?;
            let db = open(&a.location)?;
            admin(&db).set_member(&a.project, &a.user, role)?;
            eprintln!("{} is {role} of {}", a.user, a.project);
        }
        MemberCommand::Remove(a) => {
            let db = open(&a.location)?;
            admin(&db).remove_member(&a.project, &a.user)?;
            eprintln!("Removed {} from {}", a.user, a.project);
        }
        MemberCommand::List(a) => {
            let db = open(&a.location)?;
            if db.project(&a.name)?.is_none() {
                bail!("project {} not found", a.name);
            }
            table(
                "USER\tROLE",
                db.members(&a.name)?
                    .into_iter()
                    .map(|m| format!("{}\t{}", m.user, m.role)),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `registry robot …`.
pub fn robot(cmd: &RobotCommand) -> Result<ExitCode> {
    match cmd {
        RobotCommand::Create(a) => {
            let names: Vec<&str> = a.perm.split(',').map(str::trim).collect();
            let perms = strata_registry::handlers::api::parse_perms(&names)?;
            let lifetime = model::parse_lifetime(&a.expires).map_err(|e| anyhow!(e))?;
            let db = open(&a.location)?;
            let robot = admin(&db).create_robot(&a.project, &a.name, perms, lifetime)?;
            // The login and secret on stdout (for scripts), the rest on stderr.
            print(&format!("{}\n{}\n", robot.login, robot.secret))?;
            eprintln!(
                "Created robot {} ({}{}). The secret is shown only this once.",
                robot.login,
                perms.names().join(","),
                robot
                    .expires
                    .map(|t| format!(", expires {}", time(t)))
                    .unwrap_or_default()
            );
        }
        RobotCommand::Revoke(a) => {
            let name = model::parse_robot_login(&a.name)
                .filter(|(p, _)| *p == a.project)
                .map_or(a.name.as_str(), |(_, n)| n);
            let db = open(&a.location)?;
            admin(&db).revoke_robot(&a.project, name)?;
            eprintln!("Revoked {}", model::robot_login(&a.project, name));
        }
        RobotCommand::List(a) => {
            let db = open(&a.location)?;
            if db.project(&a.name)?.is_none() {
                bail!("project {} not found", a.name);
            }
            table(
                "LOGIN\tPERMISSIONS\tEXPIRES\tCREATED",
                db.robots(&a.name)?.iter().map(RobotInfo::from).map(|r| {
                    format!(
                        "{}\t{}\t{}\t{}",
                        r.login,
                        r.permissions.join(","),
                        r.expires.map_or("never".into(), time),
                        time(r.created)
                    )
                }),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--since` and `--prune-before`: RFC 3339, or an age such as `30m`.
fn since(s: &str) -> Result<u64> {
    if let Some(t) = Timestamp::parse_rfc3339(s) {
        return Ok(t.unix_seconds().max(0) as u64);
    }
    let age = model::parse_lifetime(s).ok().flatten().ok_or_else(|| {
        anyhow!("invalid --since {s:?}: use an RFC 3339 time or an age (30m, 24h, 7d)")
    })?;
    Ok((Timestamp::now().unix_seconds().max(0) as u64).saturating_sub(age))
}

/// `registry audit`.
pub fn audit(args: &AuditArgs) -> Result<ExitCode> {
    let db = open(&args.location)?;
    if let Some(before) = &args.prune_before {
        let pruned = db.prune_audit(since(before)?)?;
        eprintln!("Deleted {pruned} audit events older than {before}");
        return Ok(ExitCode::SUCCESS);
    }
    let query = AuditQuery {
        project: args.project.clone(),
        since: args.since.as_deref().map(since).transpose()?,
        limit: args.limit,
    };
    let events = db.audit(&query)?;
    if args.format == "json" {
        let mut out = String::new();
        for e in &events {
            out.push_str(&serde_json::to_string(e)?);
            out.push('\n');
        }
        return print(&out).map(|()| ExitCode::SUCCESS);
    }
    table(
        "TIME\tACTOR\tACTION\tTARGET\tDETAIL\tREMOTE",
        events.iter().map(|e| {
            format!(
                "{}\t{}\t{}\t{}\t{}\t{}",
                time(e.time),
                clean(&e.actor),
                clean(&e.action),
                clean(&e.target),
                clean(&e.detail),
                clean(&e.remote)
            )
        }),
    )?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_fields_cannot_drive_the_terminal() {
        assert_eq!(clean("alice"), "alice");
        assert_eq!(clean("a\u{1b}[8m\tb\nc"), "a\\u{1b}[8m\\tb\\nc");
    }

    #[test]
    fn uid_0_is_root() {
        assert_eq!(user_name(0), "root");
        assert_eq!(user_name(4_000_000_000), "uid4000000000");
    }

    #[test]
    fn since_takes_times_and_ages() {
        assert_eq!(since("2026-01-01T00:00:00Z").unwrap(), 1_767_225_600);
        let now = Timestamp::now().unix_seconds() as u64;
        assert!(now - since("1h").unwrap() >= 3600);
        assert!(since("yesterday").is_err());
    }
}
