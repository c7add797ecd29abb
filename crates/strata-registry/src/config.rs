//! `registry.toml`: the server's settings. Every key is optional; flags of
//! `strata registry serve` override the file.
//!
//! ```toml
//! addr = "0.0.0.0:5000"            # listen address
//! storage = "/var/lib/strata-registry"
//! delete_enabled = false           # allow DELETE of manifests, tags and blobs
//! htpasswd = "/etc/strata/htpasswd"  # bcrypt users (htpasswd -B); Basic auth when set
//! proxy_remote = "https://registry.example"  # pull-through cache of that registry
//! log_level = "info"
//!
//! [tls]
//! cert = "/etc/strata/registry.crt"
//! key = "/etc/strata/registry.key"
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// The default listen address (distribution's port, every interface).
pub const DEFAULT_ADDR: &str = "0.0.0.0:5000";
/// The default storage directory.
pub const DEFAULT_STORAGE: &str = "/var/lib/strata-registry";

/// TLS files.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tls {
    /// Certificate chain (PEM).
    pub cert: PathBuf,
    /// Private key (PEM).
    pub key: PathBuf,
}

/// The settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Listen address.
    pub addr: Option<String>,
    /// Storage root.
    pub storage: Option<PathBuf>,
    /// Allow deletes.
    pub delete_enabled: Option<bool>,
    /// htpasswd file for Basic auth.
    pub htpasswd: Option<PathBuf>,
    /// Upstream registry URL for pull-through cache mode.
    pub proxy_remote: Option<String>,
    /// Log level.
    pub log_level: Option<String>,
    /// TLS.
    pub tls: Option<Tls>,
}

impl Config {
    /// Reads a file.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(Error::io("read", path))?;
        Config::parse(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
    }

    /// Parses the text of a file.
    pub fn parse(text: &str) -> std::result::Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        if let Some(remote) = &config.proxy_remote {
            if !(remote.starts_with("https://") || remote.starts_with("http://")) {
                return Err(format!("proxy_remote {remote:?}: must be an http(s) URL"));
            }
        }
        Ok(config)
    }

    /// The listen address.
    pub fn addr(&self) -> &str {
        self.addr.as_deref().unwrap_or(DEFAULT_ADDR)
    }

    /// The storage root.
    pub fn storage(&self) -> PathBuf {
        self.storage
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_STORAGE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_parse_and_default() {
        let c = Config::parse(
            "addr = \"127.0.0.1:5001\"\nstorage = \"/srv/reg\"\ndelete_enabled = true\n[tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n",
        )
        .expect("parse");
        assert_eq!(c.addr(), "127.0.0.1:5001");
        assert_eq!(c.storage(), PathBuf::from("/srv/reg"));
        assert_eq!(c.tls.expect("tls").key, PathBuf::from("k.pem"));
        let d = Config::parse("").expect("empty");
        assert_eq!((d.addr(), d.delete_enabled), (DEFAULT_ADDR, None));
    }

    #[test]
    fn mistakes_are_named() {
        assert!(Config::parse("adr = \"x\"")
            .expect_err("typo")
            .contains("adr"));
        assert!(Config::parse("proxy_remote = \"reg:5000\"").is_err());
    }
}
