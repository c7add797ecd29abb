//! Registry mirrors and per-registry settings, in podman's `registries.conf`
//! format (the `[[registry]]` tables; other keys are ignored).
//!
//! The file is `$STRATA_REGISTRIES_CONF`, else `/etc/strata/registries.conf`:
//!
//! ```toml
//! [[registry]]
//! location = "docker.io"
//!
//! [[registry.mirror]]
//! location = "mirror.internal:5000"
//!
//! [[registry.mirror]]
//! location = "127.0.0.1:5001"
//! insecure = true
//!
//! [[registry]]
//! location = "registry.internal:5000"
//! insecure = true
//! ```
//!
//! A pull from `docker.io` tries each mirror in order and falls back to
//! `docker.io` itself; pushes always go to the registry itself. `insecure`
//! allows plain HTTP and unverified certificates for that host.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// The default location of the file.
pub const DEFAULT_PATH: &str = "/etc/strata/registries.conf";

/// One place to pull from: a mirror or the registry itself.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Endpoint {
    /// `host[:port]`.
    pub location: String,
    /// Plain HTTP and unverified TLS allowed.
    #[serde(default)]
    pub insecure: bool,
}

/// The settings of one registry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RegistryEntry {
    /// The registry's `host[:port]`.
    pub location: String,
    /// Plain HTTP and unverified TLS allowed for the registry itself.
    #[serde(default)]
    pub insecure: bool,
    /// Mirrors, tried in order before the registry.
    #[serde(default, rename = "mirror")]
    pub mirrors: Vec<Endpoint>,
}

/// Everything the file says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RegistriesConf {
    /// The `[[registry]]` tables.
    #[serde(default, rename = "registry")]
    pub registries: Vec<RegistryEntry>,
}

impl RegistriesConf {
    /// The file's path: `$STRATA_REGISTRIES_CONF` or [`DEFAULT_PATH`].
    pub fn default_path() -> PathBuf {
        std::env::var_os("STRATA_REGISTRIES_CONF")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_PATH))
    }

    /// Reads the file at `path`; a missing file is an empty configuration.
    pub fn load(path: &Path) -> Result<Self> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(Error::io(path.display().to_string())(e)),
        };
        Self::parse(&text).map_err(|reason| Error::config(path.display().to_string(), reason))
    }

    /// Parses the file's text.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let conf: RegistriesConf = toml::from_str(text).map_err(|e| e.to_string())?;
        for r in &conf.registries {
            for loc in std::iter::once(&r.location).chain(r.mirrors.iter().map(|m| &m.location)) {
                if loc.is_empty() || loc.contains('/') || loc.contains("://") {
                    return Err(format!("location {loc:?}: must be host[:port]"));
                }
            }
        }
        Ok(conf)
    }

    fn entry(&self, domain: &str) -> Option<&RegistryEntry> {
        self.registries.iter().find(|r| r.location == domain)
    }

    /// Where to pull `domain`'s content from, in order: its mirrors, then itself.
    pub fn pull_endpoints(&self, domain: &str) -> Vec<Endpoint> {
        let mut out: Vec<Endpoint> = self
            .entry(domain)
            .map(|r| r.mirrors.clone())
            .unwrap_or_default();
        out.push(Endpoint {
            location: domain.to_owned(),
            insecure: self.is_insecure(domain),
        });
        out
    }

    /// True when the file marks `domain` insecure.
    pub fn is_insecure(&self, domain: &str) -> bool {
        self.entry(domain).is_some_and(|r| r.insecure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirrors_come_first_then_the_registry() {
        let conf = RegistriesConf::parse(
            r#"
unqualified-search-registries = ["docker.io"]
[[registry]]
location = "docker.io"
[[registry.mirror]]
location = "m1:5000"
[[registry.mirror]]
location = "127.0.0.1:5001"
insecure = true
[[registry]]
location = "plain:5000"
insecure = true
"#,
        )
        .expect("parse");
        let e = conf.pull_endpoints("docker.io");
        let locs: Vec<&str> = e.iter().map(|e| e.location.as_str()).collect();
        assert_eq!(locs, ["m1:5000", "127.0.0.1:5001", "docker.io"]);
        assert!(!e[0].insecure && e[1].insecure && !e[2].insecure);
        assert_eq!(conf.pull_endpoints("other:1").len(), 1);
        assert!(conf.is_insecure("plain:5000"));
        assert!(!conf.is_insecure("docker.io"));
    }

    #[test]
    fn bad_files_say_why() {
        let err =
            RegistriesConf::parse("[[registry]]\nlocation = \"https://x\"\n").expect_err("url");
        assert!(err.contains("host[:port]"), "{err}");
        assert!(RegistriesConf::parse("[[registry]\n").is_err());
        let missing =
            RegistriesConf::load(Path::new("/nonexistent/registries.conf")).expect("missing ok");
        assert!(missing.registries.is_empty());
    }
}
