//! The access model, pure: roles, actions, who is asking, and what a caller
//! may do in a project. No I/O here; [`super::Accounts`] supplies the facts.
//!
//! A project is the first path component of a repository (`team/app` is in
//! project `team`). Harbor's roles, strongest first:
//!
//! | role | pull | push | delete | members, robots | catalog |
//! |---|---|---|---|---|---|
//! | admin | ✓ | ✓ | ✓ | ✓ | ✓ |
//! | maintainer | ✓ | ✓ | ✓ | | ✓ |
//! | developer | ✓ | ✓ | | | ✓ |
//! | guest | ✓ | | | | ✓ |
//! | limited-guest | ✓ | | | | |
//!
//! A public project lets anyone pull and list it. A system admin may do
//! everything everywhere. A robot belongs to one project and has exactly
//! the permissions it was created with (`pull`, `push`).

use std::fmt;
use std::str::FromStr;

/// A role in a project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Pull only, and the project is not listed in the catalog for them.
    LimitedGuest,
    /// Pull.
    Guest,
    /// Pull and push.
    Developer,
    /// Pull, push, delete.
    Maintainer,
    /// Everything in the project, members and robots included.
    Admin,
}

impl Role {
    /// Every role, weakest first.
    pub const ALL: [Role; 5] = [
        Role::LimitedGuest,
        Role::Guest,
        Role::Developer,
        Role::Maintainer,
        Role::Admin,
    ];

    /// The name used on the command line, in the API and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::LimitedGuest => "limited-guest",
            Role::Guest => "guest",
            Role::Developer => "developer",
            Role::Maintainer => "maintainer",
            Role::Admin => "admin",
        }
    }

    /// What the role allows on the project's repositories.
    pub fn actions(self) -> Perms {
        match self {
            Role::LimitedGuest | Role::Guest => Perms::PULL,
            Role::Developer => Perms::PULL.with(Perms::PUSH),
            Role::Maintainer | Role::Admin => Perms::ALL,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!("unknown role {s:?}: expected admin, maintainer, developer, guest or limited-guest")
            })
    }
}

/// A set of repository permissions (`pull`, `push`, `delete`), as bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Perms(u8);

impl Perms {
    /// Nothing.
    pub const NONE: Perms = Perms(0);
    /// Read manifests, blobs, tags, referrers.
    pub const PULL: Perms = Perms(1);
    /// Upload blobs and manifests.
    pub const PUSH: Perms = Perms(2);
    /// Delete manifests, tags and blobs.
    pub const DELETE: Perms = Perms(4);
    /// All three.
    pub const ALL: Perms = Perms(7);

    /// Both sets.
    pub fn with(self, other: Perms) -> Perms {
        Perms(self.0 | other.0)
    }

    /// What both sets allow.
    pub fn intersect(self, other: Perms) -> Perms {
        Perms(self.0 & other.0)
    }

    /// Whether every action of `other` is in the set.
    pub fn contains(self, other: Perms) -> bool {
        self.0 & other.0 == other.0
    }

    /// The bits, as stored.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// The set from stored bits (unknown bits dropped).
    pub fn from_bits(bits: u8) -> Perms {
        Perms(bits & Perms::ALL.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The set from scope action names; `*` is all, unknown names grant nothing.
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Perms {
        names.into_iter().fold(Perms::NONE, |acc, n| {
            acc.with(match n {
                "pull" => Perms::PULL,
                "push" => Perms::PUSH,
                "delete" => Perms::DELETE,
                "*" => Perms::ALL,
                _ => Perms::NONE,
            })
        })
    }

    /// The names, in the order clients send them.
    pub fn names(self) -> Vec<&'static str> {
        [
            (Perms::PULL, "pull"),
            (Perms::PUSH, "push"),
            (Perms::DELETE, "delete"),
        ]
        .into_iter()
        .filter(|(a, _)| self.contains(*a))
        .map(|(_, n)| n)
        .collect()
    }
}

/// Who is asking, once their credentials were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// No credentials.
    Anonymous,
    /// A user account.
    User {
        /// The account name.
        name: String,
        /// A system admin.
        admin: bool,
    },
    /// A robot account of one project.
    Robot {
        /// The project.
        project: String,
        /// The robot's own name (without `robot$project+`).
        name: String,
        /// What it may do there.
        perms: Perms,
    },
}

impl Principal {
    /// The name tokens and the audit log carry: a user's name,
    /// `robot$project+name`, or `anonymous`.
    pub fn subject(&self) -> String {
        match self {
            Principal::Anonymous => "anonymous".to_owned(),
            Principal::User { name, .. } => name.clone(),
            Principal::Robot { project, name, .. } => robot_login(project, name),
        }
    }

    /// Whether this is a system admin.
    pub fn is_admin(&self) -> bool {
        matches!(self, Principal::User { admin: true, .. })
    }
}

/// What is known of a project for one caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProjectView {
    /// Anonymous pull and listing.
    pub public: bool,
    /// The caller's role there, if a member.
    pub role: Option<Role>,
}

/// What `who` may do on repositories of a project. `view` is `None` when the
/// project does not exist: nothing, for anyone (projects are created
/// explicitly, never by a push).
pub fn allowed(who: &Principal, project: &str, view: Option<ProjectView>) -> Perms {
    let Some(view) = view else {
        return Perms::NONE;
    };
    let public = if view.public {
        Perms::PULL
    } else {
        Perms::NONE
    };
    match who {
        Principal::Anonymous => public,
        Principal::User { admin: true, .. } => Perms::ALL,
        Principal::User { .. } => public.with(view.role.map_or(Perms::NONE, Role::actions)),
        Principal::Robot {
            project: own,
            perms,
            ..
        } => {
            if own == project {
                public.with(*perms)
            } else {
                public
            }
        }
    }
}

/// Whether the project's repositories appear in `who`'s catalog.
pub fn listed(who: &Principal, project: &str, view: ProjectView) -> bool {
    match who {
        _ if view.public => true,
        Principal::Anonymous => false,
        Principal::User { admin: true, .. } => true,
        Principal::User { .. } => view.role.is_some_and(|r| r != Role::LimitedGuest),
        Principal::Robot { project: own, .. } => own == project,
    }
}

/// Whether `who` manages members and robots of the project.
pub fn manages(who: &Principal, view: Option<ProjectView>) -> bool {
    who.is_admin()
        || (matches!(who, Principal::User { .. })
            && view.is_some_and(|v| v.role == Some(Role::Admin)))
}

/// The project of a repository: its first path component.
pub fn project_of(repository: &str) -> &str {
    repository.split('/').next().unwrap_or(repository)
}

/// A robot's login name: `robot$project+name`.
pub fn robot_login(project: &str, name: &str) -> String {
    format!("robot${project}+{name}")
}

/// The project and name of a robot login name.
pub fn parse_robot_login(login: &str) -> Option<(&str, &str)> {
    login.strip_prefix("robot$")?.split_once('+')
}

/// Checks a user, project or robot name: lowercase letters, digits and
/// `.`, `_`, `-` inside, 1 to 64 characters. Project names must also be a
/// valid first component of a repository name.
pub fn check_name(kind: &str, name: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
    let ends_ok = name
        .chars()
        .next()
        .zip(name.chars().last())
        .is_some_and(|(a, b)| a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric());
    if name.is_empty() || name.len() > 64 || !name.chars().all(ok_char) || !ends_ok {
        return Err(format!(
            "invalid {kind} name {name:?}: use 1-64 lowercase letters, digits, '.', '_' or '-', starting and ending with a letter or digit"
        ));
    }
    if kind == "user" && name == "anonymous" {
        return Err("the user name \"anonymous\" is reserved".into());
    }
    if kind == "project" && strata_distribution::RepositoryName::new(&format!("{name}/x")).is_err()
    {
        return Err(format!(
            "invalid project name {name:?}: it must be a repository path component"
        ));
    }
    Ok(())
}

/// Parses a lifetime: `30s`, `15m`, `12h`, `30d`, or `never`.
pub fn parse_lifetime(s: &str) -> Result<Option<u64>, String> {
    if s == "never" {
        return Ok(None);
    }
    if s.ends_with(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "invalid lifetime {s:?}: expected e.g. 30d, 12h, 15m or never"
        ));
    }
    match crate::config::parse_seconds(s) {
        Ok(0) => Err(format!("invalid lifetime {s:?}")),
        Ok(n) => Ok(Some(n)),
        Err(e) => Err(format!("invalid lifetime {s:?}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(admin: bool) -> Principal {
        Principal::User {
            name: "u".into(),
            admin,
        }
    }

    #[test]
    fn roles_grant_what_the_table_says() {
        let private = |role| {
            Some(ProjectView {
                public: false,
                role,
            })
        };
        let names = |a: Perms| a.names().join(",");
        assert_eq!(names(allowed(&user(false), "p", private(None))), "");
        assert_eq!(
            names(allowed(
                &user(false),
                "p",
                private(Some(Role::LimitedGuest))
            )),
            "pull"
        );
        assert_eq!(
            names(allowed(&user(false), "p", private(Some(Role::Developer)))),
            "pull,push"
        );
        assert_eq!(
            names(allowed(&user(false), "p", private(Some(Role::Maintainer)))),
            "pull,push,delete"
        );
        assert_eq!(
            names(allowed(&user(true), "p", private(None))),
            "pull,push,delete"
        );
        assert_eq!(names(allowed(&user(true), "p", None)), "");
        let public = Some(ProjectView {
            public: true,
            role: None,
        });
        assert_eq!(names(allowed(&Principal::Anonymous, "p", public)), "pull");
        let robot = Principal::Robot {
            project: "p".into(),
            name: "ci".into(),
            perms: Perms::PUSH,
        };
        assert_eq!(names(allowed(&robot, "p", private(None))), "push");
        assert_eq!(names(allowed(&robot, "q", private(None))), "");
        assert_eq!(robot.subject(), "robot$p+ci");
    }

    #[test]
    fn catalog_listing_and_management() {
        let v = |public, role| ProjectView { public, role };
        assert!(!listed(
            &user(false),
            "p",
            v(false, Some(Role::LimitedGuest))
        ));
        assert!(listed(&user(false), "p", v(false, Some(Role::Guest))));
        assert!(listed(&Principal::Anonymous, "p", v(true, None)));
        assert!(!listed(&Principal::Anonymous, "p", v(false, None)));
        assert!(manages(&user(false), Some(v(false, Some(Role::Admin)))));
        assert!(!manages(
            &user(false),
            Some(v(false, Some(Role::Maintainer)))
        ));
        assert!(manages(&user(true), None));
    }

    #[test]
    fn names_lifetimes_and_scopes_parse() {
        assert_eq!(parse_robot_login("robot$team+ci"), Some(("team", "ci")));
        assert_eq!(parse_robot_login("team+ci"), None);
        assert_eq!(project_of("team/app/x"), "team");
        assert!(check_name("user", "alice").is_ok());
        for bad in [
            "",
            "Alice",
            "a:b",
            "-a",
            "robot$x",
            "anonymous",
            &"a".repeat(65),
        ] {
            assert!(check_name("user", bad).is_err(), "{bad}");
        }
        assert_eq!(parse_lifetime("30d"), Ok(Some(30 * 86_400)));
        assert_eq!(parse_lifetime("never"), Ok(None));
        assert!(parse_lifetime("0d").is_err());
        assert!(parse_lifetime("5y").is_err());
        assert_eq!("limited-guest".parse(), Ok(Role::LimitedGuest));
        assert!("owner".parse::<Role>().is_err());
        assert_eq!(
            Perms::from_names(["pull", "bogus", "push"]),
            Perms::PULL.with(Perms::PUSH)
        );
        assert_eq!(Perms::from_names(["*"]), Perms::ALL);
    }
}
