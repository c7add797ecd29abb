//! Token scopes (Docker's `scope.md`):
//!
//! ```text
//! scope          := resourcescope [ ' ' resourcescope ]*
//! resourcescope  := resourcetype ":" resourcename ":" action [ ',' action ]*
//! resourcetype   := /[a-z0-9]+/ [ '(' /[a-z0-9]+/ ')' ]     ; repository(plugin)
//! resourcename   := [ hostname '/' ] component [ '/' component ]*
//! action         := /[a-z]*/ | '*'
//! ```
//!
//! A name may hold a `host:port`, so the type ends at the first `:` and the
//! actions start after the last. Names are only checked for being non-empty
//! and free of spaces: scopes come from peers, and a name no repository has
//! simply matches nothing.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::name::RepositoryName;

/// The wildcard action, as in `registry:catalog:*`.
const ALL: &str = "*";

/// A set of actions (`pull`, `push`, `delete`, `*`), kept sorted.
///
/// In [`Actions::intersection`] and [`Actions::allows`] a `*` stands for every
/// action; in a union it is one more member.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Actions(BTreeSet<String>);

impl Actions {
    /// `pull`.
    pub fn pull() -> Self {
        Actions(BTreeSet::from(["pull".to_owned()]))
    }

    /// `pull,push`.
    pub fn pull_push() -> Self {
        Actions(BTreeSet::from(["pull".to_owned(), "push".to_owned()]))
    }

    /// `delete`.
    pub fn delete() -> Self {
        Actions(BTreeSet::from(["delete".to_owned()]))
    }

    /// `*`.
    pub fn all() -> Self {
        Actions(BTreeSet::from([ALL.to_owned()]))
    }

    /// Adds an action, refusing anything but `[a-z]+` or `*`.
    pub fn insert(&mut self, action: &str) -> Result<()> {
        let valid =
            action == ALL || (!action.is_empty() && action.bytes().all(|b| b.is_ascii_lowercase()));
        if !valid {
            return Err(Error::InvalidScope {
                input: action.to_owned(),
                reason: "an action must be [a-z]+ or *",
            });
        }
        self.0.insert(action.to_owned());
        Ok(())
    }

    /// True when `action` is in the set or the set holds `*`.
    pub fn allows(&self, action: &str) -> bool {
        self.0.contains(action) || self.0.contains(ALL)
    }

    /// Every action of either set.
    pub fn union(&self, other: &Actions) -> Actions {
        Actions(self.0.union(&other.0).cloned().collect())
    }

    /// The actions both sets allow, `*` standing for any action: what a server
    /// grants when a client asks for `self` and a policy allows `other`.
    pub fn intersection(&self, other: &Actions) -> Actions {
        match (self.0.contains(ALL), other.0.contains(ALL)) {
            (true, _) => other.clone(),
            (false, true) => self.clone(),
            (false, false) => Actions(self.0.intersection(&other.0).cloned().collect()),
        }
    }

    /// True for no actions at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The actions, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl fmt::Display for Actions {
    /// `pull,push`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.iter().collect::<Vec<_>>().join(","))
    }
}

impl FromStr for Actions {
    type Err = Error;

    /// A comma-separated list; empty items (`pull,,push`, ``) are skipped.
    fn from_str(s: &str) -> Result<Self> {
        let mut actions = Actions::default();
        for a in s.split(',').filter(|a| !a.is_empty()) {
            actions.insert(a)?;
        }
        Ok(actions)
    }
}

/// One resource scope: `repository:library/ubuntu:pull,push`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    /// The resource type (`repository`, `registry`).
    pub resource_type: String,
    /// The resource class (`plugin` in `repository(plugin)`), if any.
    pub class: Option<String>,
    /// The resource name (`library/ubuntu`, `catalog`).
    pub name: String,
    /// The actions asked for or granted.
    pub actions: Actions,
}

impl Scope {
    /// `repository:<name>:<actions>`.
    pub fn repository(name: &RepositoryName, actions: Actions) -> Self {
        Scope {
            resource_type: "repository".to_owned(),
            class: None,
            name: name.to_string(),
            actions,
        }
    }

    /// `registry:catalog:*`, the scope of `/v2/_catalog`.
    pub fn catalog() -> Self {
        Scope {
            resource_type: "registry".to_owned(),
            class: None,
            name: "catalog".to_owned(),
            actions: Actions::all(),
        }
    }

    /// Parses a space-separated list of scopes (one `scope` parameter).
    pub fn parse_list(s: &str) -> Result<Vec<Scope>> {
        s.split_ascii_whitespace().map(str::parse).collect()
    }

    /// True when both scopes name the same resource (type and name; the class is ignored).
    pub fn same_resource(&self, other: &Scope) -> bool {
        self.resource_type == other.resource_type && self.name == other.name
    }

    /// This requested scope cut down to what `allowed` grants on the same resource.
    pub fn restrict(&self, allowed: &[Scope]) -> Scope {
        let granted = allowed
            .iter()
            .filter(|a| self.same_resource(a))
            .fold(Actions::default(), |acc, a| acc.union(&a.actions));
        Scope {
            actions: self.actions.intersection(&granted),
            ..self.clone()
        }
    }

    /// Merges scopes on the same resource into one with the union of their
    /// actions, keeping first-seen order (a client's scope set for one token).
    pub fn merge(scopes: impl IntoIterator<Item = Scope>) -> Vec<Scope> {
        let mut out: Vec<Scope> = Vec::new();
        for s in scopes {
            match out.iter_mut().find(|o| o.same_resource(&s)) {
                Some(o) => o.actions = o.actions.union(&s.actions),
                None => out.push(s),
            }
        }
        out
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.resource_type)?;
        if let Some(class) = &self.class {
            write!(f, "({class})")?;
        }
        write!(f, ":{}:{}", self.name, self.actions)
    }
}

impl FromStr for Scope {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidScope {
            input: s.to_owned(),
            reason,
        };
        let (kind, rest) = s.split_once(':').ok_or_else(|| invalid("missing ':'"))?;
        let (name, actions) = rest
            .rsplit_once(':')
            .ok_or_else(|| invalid("expected type:name:actions"))?;
        let (resource_type, class) = match kind.split_once('(') {
            Some((t, c)) => {
                let c = c
                    .strip_suffix(')')
                    .ok_or_else(|| invalid("unclosed resource class"))?;
                (t, Some(c))
            }
            None => (kind, None),
        };
        let lower_alnum = |t: &str| {
            !t.is_empty()
                && t.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        };
        if !lower_alnum(resource_type) || !class.is_none_or(lower_alnum) {
            return Err(invalid("resource type and class must be [a-z0-9]+"));
        }
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid("resource name must be non-empty without spaces"));
        }
        Ok(Scope {
            resource_type: resource_type.to_owned(),
            class: class.map(str::to_owned),
            name: name.to_owned(),
            actions: actions.parse().map_err(|_| invalid("bad action"))?,
        })
    }
}

/// Formats scopes as one space-separated `scope` value.
pub fn format_scopes(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(Scope::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;

    fn actions(s: &str) -> Actions {
        s.parse().unwrap()
    }

    #[test]
    fn repository_scopes_parse_and_round_trip() {
        let s: Scope = "repository:library/ubuntu:pull,push".parse().unwrap();
        assert_eq!(s.resource_type, "repository");
        assert_eq!(s.class, None);
        assert_eq!(s.name, "library/ubuntu");
        assert!(s.actions.allows("push") && !s.actions.allows("delete"));
        assert_eq!(s.to_string(), "repository:library/ubuntu:pull,push");
    }

    #[test]
    fn class_form_and_host_ports_parse() {
        let s: Scope = "repository(plugin):localhost:5000/x/y:pull"
            .parse()
            .unwrap();
        assert_eq!(s.class.as_deref(), Some("plugin"));
        assert_eq!(s.name, "localhost:5000/x/y");
        assert_eq!(s.to_string(), "repository(plugin):localhost:5000/x/y:pull");
    }

    #[test]
    fn catalog_scope_is_a_wildcard() {
        let s: Scope = "registry:catalog:*".parse().unwrap();
        assert_eq!(s, Scope::catalog());
        assert!(s.actions.allows("anything"));
    }

    #[test]
    fn scope_lists_split_on_spaces() {
        let list = Scope::parse_list(" repository:a:pull  repository:b:push ").unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(format_scopes(&list), "repository:a:pull repository:b:push");
        assert!(Scope::parse_list("").unwrap().is_empty());
    }

    #[test]
    fn actions_are_a_sorted_set() {
        assert_eq!(actions("push,pull,push").to_string(), "pull,push");
        assert_eq!(actions(""), Actions::default());
        assert_eq!(actions("pull,,push"), Actions::pull_push());
        let empty: Scope = "repository:a:".parse().unwrap();
        assert!(empty.actions.is_empty());
        assert_eq!(empty.to_string(), "repository:a:");
    }

    #[test]
    fn intersection_treats_star_as_every_action() {
        let pp = Actions::pull_push();
        assert_eq!(pp.intersection(&Actions::pull()), Actions::pull());
        assert_eq!(Actions::all().intersection(&pp), pp);
        assert_eq!(pp.intersection(&Actions::all()), pp);
        assert_eq!(Actions::all().intersection(&Actions::all()), Actions::all());
        assert!(Actions::pull().intersection(&actions("delete")).is_empty());
        assert_eq!(
            Actions::pull().union(&actions("delete")).to_string(),
            "delete,pull"
        );
    }

    #[test]
    fn restrict_grants_only_what_policy_allows() {
        let asked: Scope = "repository:a/b:pull,push".parse().unwrap();
        let policy = Scope::parse_list("repository:a/b:pull repository:c:*").unwrap();
        assert_eq!(asked.restrict(&policy).to_string(), "repository:a/b:pull");
        let other: Scope = "repository:c:delete".parse().unwrap();
        assert_eq!(other.restrict(&policy).to_string(), "repository:c:delete");
        let none: Scope = "repository:d:pull".parse().unwrap();
        assert!(none.restrict(&policy).actions.is_empty());
    }

    #[test]
    fn merge_unions_actions_per_resource() {
        let merged = Scope::merge(
            Scope::parse_list("repository:a:pull repository:b:pull repository:a:push").unwrap(),
        );
        assert_eq!(
            format_scopes(&merged),
            "repository:a:pull,push repository:b:pull"
        );
    }

    #[test]
    fn malformed_scopes_are_errors() {
        for bad in [
            "",
            "repository",
            "repository:a",
            "Repository:a:pull",
            "repository(:a:pull",
            "repository(x:a:pull",
            "repository():a:pull",
            ":a:pull",
            "repository::pull",
            "repository:a:PULL",
            "repository:a:pull;push",
        ] {
            assert!(
                matches!(bad.parse::<Scope>(), Err(Error::InvalidScope { .. })),
                "{bad:?} should be refused"
            );
        }
    }

    proptest! {
        #[test]
        fn generated_scopes_round_trip(
            kind in "[a-z0-9]{1,10}",
            class in proptest::option::of("[a-z]{1,6}"),
            name in "[a-z0-9._/:-]{1,30}",
            acts in prop::collection::btree_set("[a-z]{1,6}|\\*", 0..4),
        ) {
            let text = format!(
                "{kind}{}:{name}:{}",
                class.as_ref().map(|c| format!("({c})")).unwrap_or_default(),
                acts.iter().cloned().collect::<Vec<_>>().join(","),
            );
            let scope: Scope = text.parse().unwrap();
            prop_assert_eq!(scope.to_string(), text);
        }

        #[test]
        fn arbitrary_scopes_never_panic(s in "\\PC{0,40}") {
            let _ = Scope::parse_list(&s);
        }
    }
}
