//! Docker image references: parsing, normalisation and familiar forms.
//!
//! The grammar is Docker's (`github.com/distribution/reference`), written out
//! by hand instead of as regular expressions:
//!
//! ```text
//! reference        := name [ ":" tag ] [ "@" digest ]
//! name             := [ domain "/" ] path
//! domain           := host [ ":" port ]          ; port := [0-9]+
//! host             := domain-name | "[" [a-fA-F0-9:]+ "]"
//! domain-name      := domain-component [ "." domain-component ]*
//! domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
//! path             := path-component [ "/" path-component ]*   ; at most 255 bytes
//! path-component   := [a-z0-9]+ [ separator [a-z0-9]+ ]*
//! separator        := "." | "_" | "__" | "-"+
//! tag              := [\w][\w.-]{0,127}
//! digest           := algorithm ":" [0-9a-fA-F]{32,}   ; then sha256 or sha512 only
//! ```
//!
//! [`Reference::parse_normalized`] follows Docker's `ParseNormalizedNamed`: the
//! first path element is a domain only when it contains `.` or `:`, is
//! `localhost`, or has uppercase letters; otherwise the domain is `docker.io`
//! and single-element names get the `library/` prefix of official images.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::digest::Digest;
use crate::error::{Error, Result};

/// The registry of images named without a domain.
const DEFAULT_DOMAIN: &str = "docker.io";
/// The historical name of Docker Hub, normalised to [`DEFAULT_DOMAIN`].
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
/// The namespace of Docker Hub's official images.
const OFFICIAL_REPO_PREFIX: &str = "library/";
/// The tag added by [`Reference::with_default_tag`].
const DEFAULT_TAG: &str = "latest";
/// The only single-label name always taken as a domain.
const LOCALHOST: &str = "localhost";
/// Docker's `RepositoryNameTotalLengthMax`, applied to the path.
const PATH_MAX: usize = 255;
/// Longest tag Docker accepts.
const TAG_MAX: usize = 128;

const INVALID_FORMAT: &str = "invalid reference format";
const NOT_LOWERCASE: &str = "repository name must be lowercase";
const TOO_LONG: &str = "repository name must not be more than 255 characters";
const IDENTIFIER: &str = "cannot specify 64-byte hexadecimal strings";

/// A fully-qualified, normalised image reference: domain, path, optional tag, optional digest.
///
/// Every value satisfies Docker's grammar and is canonical: its [`Display`](fmt::Display)
/// form parses back, with [`Reference::parse`], to the same value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parses what a user types (`nginx`, `nginx:1.25`, `host:5000/a/b:tag@sha256:…`) and normalises
    /// it like Docker's ParseNormalizedNamed: default domain docker.io, `library/` for official
    /// images, `index.docker.io` → `docker.io`. Does NOT add a default tag.
    pub fn parse_normalized(s: &str) -> Result<Reference> {
        if is_identifier(s) {
            return Err(invalid(s, IDENTIFIER));
        }
        let (domain, remainder) = split_docker_domain(s);
        let remote = remainder
            .split_once(':')
            .map_or(remainder.as_str(), |(r, _)| r);
        if remote.to_lowercase() != remote {
            return Err(invalid(s, NOT_LOWERCASE));
        }
        let full = format!("{domain}/{remainder}");
        let parts = parse_parts(&full).map_err(|reason| invalid(s, reason))?;
        // Docker would return a reference without a domain when the first element
        // looks like a domain (`a_b.com/x`) but is not one; Strata refuses it.
        if parts.domain != Some(domain) {
            return Err(invalid(s, INVALID_FORMAT));
        }
        Ok(Reference {
            domain: domain.to_owned(),
            path: parts.path.to_owned(),
            tag: parts.tag.map(str::to_owned),
            digest: parts.digest,
        })
    }

    /// Parses an already fully-qualified reference (like Docker's ParseNamed / reference.Parse);
    /// refuses a non-canonical input such as `nginx` (error says it is not canonical).
    pub fn parse(s: &str) -> Result<Reference> {
        let reference = Reference::parse_normalized(s)?;
        let canonical = reference.to_string();
        if canonical != s {
            return Err(invalid(
                s,
                format!("repository name must be canonical: not canonical, use {canonical:?}"),
            ));
        }
        Ok(reference)
    }

    /// Adds `:latest` when there is neither tag nor digest (Docker's TagNameOnly).
    pub fn with_default_tag(mut self) -> Reference {
        if self.tag.is_none() && self.digest.is_none() {
            self.tag = Some(DEFAULT_TAG.to_owned());
        }
        self
    }

    /// The registry domain, with its port: `docker.io`, `localhost:5000`, `[::1]:5000`.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The repository path within the registry: `library/nginx`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The tag, if any.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if any.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// domain/path, e.g. "docker.io/library/nginx".
    pub fn repository(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// Docker's FamiliarName of the repository: "nginx", "user/app", "localhost:5000/app".
    pub fn familiar_repository(&self) -> String {
        if self.domain != DEFAULT_DOMAIN {
            return self.repository();
        }
        match self.path.strip_prefix(OFFICIAL_REPO_PREFIX) {
            Some(official) if !official.contains('/') => official.to_owned(),
            _ => self.path.clone(),
        }
    }

    /// Docker's FamiliarString: familiar repository plus :tag and @digest.
    pub fn familiar(&self) -> String {
        let mut s = self.familiar_repository();
        self.push_suffix(&mut s);
        s
    }

    /// The same repository with `tag` instead of any tag or digest; refuses an invalid tag.
    pub fn with_tag(&self, tag: &str) -> Result<Reference> {
        validate_tag(tag)?;
        Ok(Reference {
            tag: Some(tag.to_owned()),
            ..self.without_tag_or_digest()
        })
    }

    /// The same repository with `digest` instead of any tag or digest.
    pub fn with_digest(&self, digest: Digest) -> Reference {
        Reference {
            digest: Some(digest),
            ..self.without_tag_or_digest()
        }
    }

    /// The bare repository, without tag or digest.
    pub fn without_tag_or_digest(&self) -> Reference {
        Reference {
            domain: self.domain.clone(),
            path: self.path.clone(),
            tag: None,
            digest: None,
        }
    }

    fn push_suffix(&self, s: &mut String) {
        if let Some(tag) = &self.tag {
            s.push(':');
            s.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            s.push('@');
            s.push_str(&digest.to_string());
        }
    }
}

impl fmt::Display for Reference {
    /// The full string: `docker.io/library/nginx:latest`, `host:5000/a/b:t@sha256:…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.repository();
        self.push_suffix(&mut s);
        f.write_str(&s)
    }
}

impl FromStr for Reference {
    type Err = Error;

    /// Same as [`Reference::parse_normalized`].
    fn from_str(s: &str) -> Result<Self> {
        Reference::parse_normalized(s)
    }
}

impl Serialize for Reference {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Reference {
    /// Accepts only the full, canonical string that serialisation writes.
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Reference::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Validates a tag on its own (`[\w][\w.-]{0,127}`).
pub fn validate_tag(tag: &str) -> Result<()> {
    if is_tag(tag) {
        Ok(())
    } else {
        Err(invalid(tag, "invalid tag format"))
    }
}

fn invalid(input: &str, reason: impl Into<String>) -> Error {
    Error::InvalidReference {
        input: input.to_owned(),
        reason: reason.into(),
    }
}

/// Docker's splitDockerDomain: the domain, and the rest with `library/` added
/// for official images. `name` may still carry its tag and digest.
fn split_docker_domain(name: &str) -> (&str, String) {
    let Some((first, rest)) = name.split_once('/') else {
        return (DEFAULT_DOMAIN, format!("{OFFICIAL_REPO_PREFIX}{name}"));
    };
    let (domain, remote) = if first == LOCALHOST {
        (first, rest)
    } else if first == LEGACY_DEFAULT_DOMAIN {
        (DEFAULT_DOMAIN, rest)
    } else if first.contains(['.', ':']) || first.to_lowercase() != first {
        (first, rest)
    } else {
        (DEFAULT_DOMAIN, name)
    };
    if domain == DEFAULT_DOMAIN && !remote.contains('/') {
        return (domain, format!("{OFFICIAL_REPO_PREFIX}{remote}"));
    }
    (domain, remote.to_owned())
}

/// The pieces of a reference that passed Docker's `Parse`.
struct Parts<'a> {
    domain: Option<&'a str>,
    path: &'a str,
    tag: Option<&'a str>,
    digest: Option<Digest>,
}

/// Docker's `Parse`: the grammar, then the path length, then the digest.
fn parse_parts(s: &str) -> std::result::Result<Parts<'_>, &'static str> {
    let Some((domain, path, tag, digest)) = match_reference(s) else {
        let lower = s.to_lowercase();
        if lower != s && match_reference(&lower).is_some() {
            return Err(NOT_LOWERCASE);
        }
        return Err(INVALID_FORMAT);
    };
    if path.len() > PATH_MAX {
        return Err(TOO_LONG);
    }
    let digest = digest.map(parse_digest).transpose()?;
    Ok(Parts {
        domain,
        path,
        tag,
        digest,
    })
}

/// One match of Docker's anchored reference grammar: domain, path, tag, digest.
type Match<'a> = (Option<&'a str>, &'a str, Option<&'a str>, Option<&'a str>);

/// Docker's anchored `ReferenceRegexp`, capturing like its regular expressions.
///
/// `@` appears only before the digest; a tag holds neither `/` nor `:`, and a
/// name holds `:` only in its domain, so the last `:` starts the tag unless a
/// `/` follows it.
fn match_reference(s: &str) -> Option<Match<'_>> {
    let (rest, digest) = match s.split_once('@') {
        Some((rest, digest)) if is_digest_syntax(digest) => (rest, Some(digest)),
        Some(_) => return None,
        None => (s, None),
    };
    let (name, tag) = match rest.rsplit_once(':') {
        Some((_, tag)) if !tag.contains('/') && !is_tag(tag) => return None,
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (rest, None),
    };
    // The optional domain group is tried first, as Go's leftmost-first matching does.
    if let Some((domain, path)) = name.split_once('/') {
        if is_domain_and_port(domain) && is_path(path) {
            return Some((Some(domain), path, tag, digest));
        }
    }
    is_path(name).then_some((None, name, tag, digest))
}

/// go-digest's checks, in its order and with its messages, for a digest that
/// already matched the reference grammar.
fn parse_digest(s: &str) -> std::result::Result<Digest, &'static str> {
    const FORMAT: &str = "invalid checksum digest format";
    let (algorithm, hex) = s.split_once(':').ok_or(FORMAT)?;
    let expected_len = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        _ if algorithm.bytes().any(|b| b.is_ascii_uppercase()) => return Err(FORMAT),
        _ => return Err("unsupported digest algorithm"),
    };
    if hex.len() != expected_len {
        return Err("invalid checksum digest length");
    }
    s.parse().map_err(|_| FORMAT)
}

/// `[a-f0-9]{64}`: an image ID, which Docker refuses as a repository name.
fn is_identifier(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_tag(tag: &str) -> bool {
    let mut bytes = tag.bytes();
    tag.len() <= TAG_MAX
        && bytes.next().is_some_and(is_word)
        && bytes.all(|b| is_word(b) || b == b'.' || b == b'-')
}

/// `algorithm ":" hex{32,}` with algorithm components `[A-Za-z][A-Za-z0-9]*`
/// joined by one of `-_+.`.
fn is_digest_syntax(s: &str) -> bool {
    let Some((algorithm, hex)) = s.split_once(':') else {
        return false;
    };
    let components_ok = algorithm.split(['-', '_', '+', '.']).all(|c| {
        let mut bytes = c.bytes();
        bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
            && bytes.all(|b| b.is_ascii_alphanumeric())
    });
    components_ok && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A domain-name or bracketed IPv6 host, then an optional `:port`.
fn is_domain_and_port(s: &str) -> bool {
    let (host_ok, port) = match s.strip_prefix('[') {
        Some(bracketed) => match bracketed.split_once(']') {
            Some((ipv6, port)) => (
                !ipv6.is_empty() && ipv6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':'),
                port,
            ),
            None => return false,
        },
        None => match s.find(':') {
            Some(i) => (is_domain_name(&s[..i]), &s[i..]),
            None => (is_domain_name(s), ""),
        },
    };
    host_ok
        && (port.is_empty()
            || port
                .strip_prefix(':')
                .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())))
}

fn is_domain_name(s: &str) -> bool {
    s.split('.').all(|c| {
        !c.is_empty()
            && !c.starts_with('-')
            && !c.ends_with('-')
            && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    })
}

fn is_path(s: &str) -> bool {
    s.split('/').all(is_path_component)
}

/// `[a-z0-9]+` runs joined by `.`, `_`, `__` or any number of `-`.
fn is_path_component(c: &str) -> bool {
    let alnum = |ch: char| ch.is_ascii_lowercase() || ch.is_ascii_digit();
    c.starts_with(alnum)
        && c.ends_with(alnum)
        && c.split(alnum)
            .all(|sep| matches!(sep, "." | "_" | "__") || sep.bytes().all(|b| b == b'-'))
}

#[cfg(test)]
mod tests;
