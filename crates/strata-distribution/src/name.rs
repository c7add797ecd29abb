//! Repository names and manifest references as the registry API spells them.
//!
//! A [`RepositoryName`] is the `<name>` of `/v2/<name>/…`: no domain, the
//! spec's grammar, at most 255 bytes (distribution's limit). A
//! [`ManifestRef`] is the `<reference>` of `/manifests/<reference>`: a tag or
//! a digest, told apart by the `:` no tag may contain.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use strata_oci::Digest;

use crate::error::{Error, Result};

/// Longest repository name accepted, as distribution's `RepositoryNameTotalLengthMax`.
pub const NAME_MAX: usize = 255;

/// A validated repository name: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` components joined by `/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepositoryName(String);

impl RepositoryName {
    /// Validates `name` against the spec's grammar and the length limit.
    pub fn new(name: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidName {
            name: name.to_owned(),
            reason,
        };
        if name.is_empty() {
            return Err(invalid("empty"));
        }
        if name.len() > NAME_MAX {
            return Err(invalid("longer than 255 characters"));
        }
        if !name.split('/').all(is_component) {
            return Err(invalid(
                "each /-separated component must match [a-z0-9]+((.|_|__|-+)[a-z0-9]+)*",
            ));
        }
        Ok(RepositoryName(name.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `[a-z0-9]+` runs joined by `.`, `_`, `__` or any number of `-`.
fn is_component(c: &str) -> bool {
    let alnum = |ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit();
    c.starts_with(alnum)
        && c.ends_with(alnum)
        && c.split(alnum)
            .all(|sep| matches!(sep, "" | "." | "_" | "__") || sep.bytes().all(|b| b == b'-'))
}

impl fmt::Display for RepositoryName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for RepositoryName {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        RepositoryName::new(s)
    }
}

impl AsRef<str> for RepositoryName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for RepositoryName {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RepositoryName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        RepositoryName::new(&s).map_err(serde::de::Error::custom)
    }
}

/// What `/manifests/<reference>` names: a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ManifestRef {
    /// A tag, `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
    Tag(String),
    /// A digest.
    Digest(Digest),
}

impl ManifestRef {
    /// A validated tag reference.
    pub fn tag(tag: &str) -> Result<Self> {
        validate_tag(tag)?;
        Ok(ManifestRef::Tag(tag.to_owned()))
    }

    /// The tag, if this is one.
    pub fn as_tag(&self) -> Option<&str> {
        match self {
            ManifestRef::Tag(t) => Some(t),
            ManifestRef::Digest(_) => None,
        }
    }

    /// The digest, if this is one.
    pub fn as_digest(&self) -> Option<&Digest> {
        match self {
            ManifestRef::Tag(_) => None,
            ManifestRef::Digest(d) => Some(d),
        }
    }
}

impl fmt::Display for ManifestRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ManifestRef::Tag(t) => f.write_str(t),
            ManifestRef::Digest(d) => write!(f, "{d}"),
        }
    }
}

impl FromStr for ManifestRef {
    type Err = Error;

    /// A `:` makes it a digest (tags cannot hold one); anything else must be a tag.
    fn from_str(s: &str) -> Result<Self> {
        if s.contains(':') {
            parse_digest(s).map(ManifestRef::Digest)
        } else {
            ManifestRef::tag(s)
        }
    }
}

impl From<Digest> for ManifestRef {
    fn from(d: Digest) -> Self {
        ManifestRef::Digest(d)
    }
}

/// Refuses a tag outside `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn validate_tag(tag: &str) -> Result<()> {
    strata_oci::reference::validate_tag(tag).map_err(|_| Error::InvalidTag {
        tag: tag.to_owned(),
    })
}

/// Parses a digest, reporting failures as this crate's `DIGEST_INVALID` error.
pub fn parse_digest(s: &str) -> Result<Digest> {
    s.parse().map_err(|source| Error::InvalidDigest {
        input: s.to_owned(),
        source,
    })
}

/// The referrers tag schema's tag for `digest` (`sha256-<hex>`), where clients
/// keep referrers when a registry has no referrers API.
///
/// The spec truncates the algorithm to 32 and the encoded part to 64 characters
/// and replaces characters a tag cannot hold with `-`.
pub fn referrers_tag(digest: &Digest) -> String {
    let clean = |s: &str, max: usize| -> String {
        s.chars()
            .take(max)
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                    c
                } else {
                    '-'
                }
            })
            .collect()
    };
    format!(
        "{}-{}",
        clean(digest.algorithm().as_str(), 32),
        clean(digest.hex(), 64)
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn names_follow_the_spec_grammar() {
        for good in [
            "a",
            "library/ubuntu",
            "a/b/c/d",
            "my-app",
            "my--app",
            "a.b_c__d",
            "0/1",
        ] {
            assert_eq!(RepositoryName::new(good).unwrap().as_str(), good);
        }
        for bad in [
            "", "A", "a//b", "/a", "a/", "-a", "a-", "a___b", "a..b", "a._b", "a:b", "a b", "é",
        ] {
            assert!(
                matches!(RepositoryName::new(bad), Err(Error::InvalidName { .. })),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn names_longer_than_255_are_refused() {
        let ok = "a".repeat(NAME_MAX);
        assert!(RepositoryName::new(&ok).is_ok());
        let long = "a".repeat(NAME_MAX + 1);
        assert!(RepositoryName::new(&long).is_err());
    }

    #[test]
    fn manifest_refs_tell_tags_from_digests() {
        let d = format!("sha256:{}", "a".repeat(64));
        assert_eq!(
            d.parse::<ManifestRef>().unwrap(),
            ManifestRef::Digest(d.parse().unwrap())
        );
        assert_eq!(
            "v1.0_rc-1".parse::<ManifestRef>().unwrap().as_tag(),
            Some("v1.0_rc-1")
        );
        assert!(matches!(
            ".INVALID_MANIFEST_NAME".parse::<ManifestRef>(),
            Err(Error::InvalidTag { .. })
        ));
        assert!(matches!(
            "sha256:totallywrong".parse::<ManifestRef>(),
            Err(Error::InvalidDigest { .. })
        ));
        assert!("a".repeat(129).parse::<ManifestRef>().is_err());
        assert!("a".repeat(128).parse::<ManifestRef>().is_ok());
    }

    #[test]
    fn referrers_tag_follows_the_schema() {
        let d: Digest = format!("sha256:{}", "a".repeat(64)).parse().unwrap();
        assert_eq!(referrers_tag(&d), format!("sha256-{}", "a".repeat(64)));
        let d: Digest = format!("sha512:{}", "b".repeat(128)).parse().unwrap();
        assert_eq!(referrers_tag(&d), format!("sha512-{}", "b".repeat(64)));
        assert!(validate_tag(&referrers_tag(&d)).is_ok());
    }

    #[test]
    fn names_serialize_as_strings_and_validate_on_the_way_in() {
        let n = RepositoryName::new("a/b").unwrap();
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"a/b\"");
        assert!(serde_json::from_str::<RepositoryName>("\"A/b\"").is_err());
    }

    fn component() -> impl Strategy<Value = String> {
        "[a-z0-9]{1,4}((\\.|_|__|-{1,3})[a-z0-9]{1,4}){0,2}"
    }

    proptest! {
        #[test]
        fn generated_names_round_trip(parts in prop::collection::vec(component(), 1..5)) {
            let name = parts.join("/");
            let parsed = RepositoryName::new(&name).unwrap();
            prop_assert_eq!(parsed.to_string(), name);
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,40}") {
            let _ = RepositoryName::new(&s);
            let _ = s.parse::<ManifestRef>();
        }
    }
}
