//! Resolving `USER[:GROUP]` against an image's `/etc/passwd` and `/etc/group`, as
//! runc's `GetExecUser` (and so Docker) does. Pure: the caller reads the files.

use crate::error::{Error, Result};

/// One `/etc/passwd` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswdEntry {
    /// Login name.
    pub name: String,
    /// User ID.
    pub uid: u32,
    /// Primary group ID.
    pub gid: u32,
    /// Home directory.
    pub home: String,
}

/// One `/etc/group` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupEntry {
    /// Group name.
    pub name: String,
    /// Group ID.
    pub gid: u32,
    /// Members by login name.
    pub members: Vec<String>,
}

/// Parses `/etc/passwd`; malformed lines are skipped, as libc does.
pub fn parse_passwd(text: &str) -> Vec<PasswdEntry> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 7 {
                return None;
            }
            Some(PasswdEntry {
                name: f[0].to_owned(),
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                home: f[5].to_owned(),
            })
        })
        .collect()
}

/// Parses `/etc/group`; malformed lines are skipped.
pub fn parse_group(text: &str) -> Vec<GroupEntry> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            if f.len() < 4 {
                return None;
            }
            Some(GroupEntry {
                name: f[0].to_owned(),
                gid: f[2].parse().ok()?,
                members: f[3]
                    .split(',')
                    .filter(|m| !m.is_empty())
                    .map(str::to_owned)
                    .collect(),
            })
        })
        .collect()
}

/// The identity a process runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecUser {
    /// User ID.
    pub uid: u32,
    /// Group ID.
    pub gid: u32,
    /// Supplementary groups (those listing the user by name).
    pub additional_gids: Vec<u32>,
    /// Home directory (for `HOME`).
    pub home: String,
}

/// Resolves `spec` (`""`, `name`, `uid`, `name:group`, `uid:gid`…). An empty spec
/// is root. A numeric user absent from passwd is used as given (group 0, home
/// `/`); a name absent from passwd is an error, as are unknown group names.
pub fn resolve(spec: &str, passwd: &[PasswdEntry], groups: &[GroupEntry]) -> Result<ExecUser> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let mut out = ExecUser {
        uid: 0,
        gid: 0,
        additional_gids: Vec::new(),
        home: "/".to_owned(),
    };
    let found = if user.is_empty() {
        passwd.iter().find(|p| p.uid == 0)
    } else if let Ok(uid) = user.parse::<u32>() {
        out.uid = uid;
        passwd.iter().find(|p| p.uid == uid)
    } else {
        Some(passwd.iter().find(|p| p.name == user).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "unable to find user {user}: no matching entries in passwd file"
            ))
        })?)
    };
    if let Some(p) = found {
        out.uid = p.uid;
        out.gid = p.gid;
        out.home = p.home.clone();
        out.additional_gids = groups
            .iter()
            .filter(|g| g.members.iter().any(|m| m == &p.name) && g.gid != p.gid)
            .map(|g| g.gid)
            .collect();
    }
    if let Some(g) = group.filter(|g| !g.is_empty()) {
        out.gid = match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => {
                groups
                    .iter()
                    .find(|e| e.name == g)
                    .ok_or_else(|| {
                        Error::InvalidArgument(format!(
                            "unable to find group {g}: no matching entries in group file"
                        ))
                    })?
                    .gid
            }
        };
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\n# comment\nbroken\nwww:x:33:33:www:/var/www:/bin/false\napp:x:1000:1000::/home/app:/bin/sh\n";
    const GROUP: &str = "root:x:0:\nwww:x:33:\napp:x:1000:\nstaff:x:50:app,www\naudio:x:29:app\n";

    fn r(spec: &str) -> Result<ExecUser> {
        resolve(spec, &parse_passwd(PASSWD), &parse_group(GROUP))
    }

    #[test]
    fn empty_user_is_root_with_roots_home() {
        let u = r("").unwrap();
        assert_eq!((u.uid, u.gid, u.home.as_str()), (0, 0, "/root"));
    }

    #[test]
    fn names_resolve_with_primary_and_supplementary_groups() {
        let u = r("app").unwrap();
        assert_eq!((u.uid, u.gid), (1000, 1000));
        assert_eq!(u.additional_gids, [50, 29]);
        assert_eq!(u.home, "/home/app");
        let u = r("www:staff").unwrap();
        assert_eq!((u.uid, u.gid), (33, 50));
    }

    #[test]
    fn numeric_users_need_no_passwd_entry() {
        let u = r("4242").unwrap();
        assert_eq!((u.uid, u.gid, u.home.as_str()), (4242, 0, "/"));
        let u = r("1000:5").unwrap();
        assert_eq!((u.uid, u.gid), (1000, 5));
        assert_eq!(u.home, "/home/app");
    }

    #[test]
    fn unknown_names_are_errors() {
        assert!(r("nobody")
            .unwrap_err()
            .to_string()
            .contains("unable to find user nobody"));
        assert!(r("app:wheel")
            .unwrap_err()
            .to_string()
            .contains("unable to find group wheel"));
    }
}
