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
//!
//! [rbac]                           # accounts, projects, roles, token service
//! enabled = true                   # or `serve --rbac`
//! database = "/var/lib/strata-registry/rbac/accounts.db"  # the default: <storage>/rbac/
//! token_key = "/var/lib/strata-registry/rbac/token.key"   # ES256 key, made if missing
//! service = "strata-registry"      # the tokens' audience and the challenge's service
//! issuer = "strata-registry"
//! realm = "https://registry.example/token"  # default: this server's /token
//! token_ttl = "5m"
//! login_failures = 5               # per address and account per minute; 4x per address
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

/// Access control (`[rbac]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RbacConfig {
    /// Turn it on.
    pub enabled: Option<bool>,
    /// The account database (SQLite).
    pub database: Option<PathBuf>,
    /// The token signing key (PKCS#8 PEM, ECDSA P-256).
    pub token_key: Option<PathBuf>,
    /// The service name (token audience).
    pub service: Option<String>,
    /// The token issuer.
    pub issuer: Option<String>,
    /// The token endpoint URL sent in challenges.
    pub realm: Option<String>,
    /// Token lifetime (`300s`, `5m`, `1h`).
    pub token_ttl: Option<String>,
    /// Failed logins allowed per client address and account per minute
    /// (four times as many per address); raise it behind a proxy.
    pub login_failures: Option<usize>,
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
    /// Access control.
    pub rbac: Option<RbacConfig>,
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
        config.validate()?;
        Ok(config)
    }

    /// Checks the settings as a whole (again after flags override the file).
    pub fn validate(&self) -> std::result::Result<(), String> {
        let config = self;
        if let Some(remote) = &config.proxy_remote {
            if !(remote.starts_with("https://") || remote.starts_with("http://")) {
                return Err(format!("proxy_remote {remote:?}: must be an http(s) URL"));
            }
        }
        if config.rbac_enabled() && config.htpasswd.is_some() {
            return Err("htpasswd and rbac exclude each other: rbac has its own accounts".into());
        }
        if let Some(ttl) = config.rbac.as_ref().and_then(|r| r.token_ttl.as_deref()) {
            crate::rbac::model::parse_lifetime(ttl)?
                .ok_or_else(|| format!("token_ttl {ttl:?}: tokens must expire"))?;
        }
        Ok(())
    }

    /// Whether access control is on.
    pub fn rbac_enabled(&self) -> bool {
        self.rbac.as_ref().and_then(|r| r.enabled).unwrap_or(false)
    }

    /// The account database.
    pub fn rbac_database(&self) -> PathBuf {
        self.rbac
            .as_ref()
            .and_then(|r| r.database.clone())
            .unwrap_or_else(|| crate::rbac::default_dir(&self.storage()).join("accounts.db"))
    }

    /// The token service's settings and key file.
    pub fn rbac_settings(&self) -> (crate::rbac::Settings, PathBuf) {
        let r = self.rbac.clone().unwrap_or_default();
        let defaults = crate::rbac::Settings::default();
        let settings = crate::rbac::Settings {
            service: r.service.unwrap_or(defaults.service),
            issuer: r.issuer.unwrap_or(defaults.issuer),
            realm: r.realm,
            token_ttl: r
                .token_ttl
                .and_then(|t| crate::rbac::model::parse_lifetime(&t).ok().flatten())
                .unwrap_or(defaults.token_ttl),
            tls: self.tls.is_some(),
            login_failures: r.login_failures.unwrap_or(defaults.login_failures),
        };
        let key = r
            .token_key
            .unwrap_or_else(|| crate::rbac::default_dir(&self.storage()).join("token.key"));
        (settings, key)
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

/// A number of seconds, with an optional unit: `90`, `30s`, `15m`, `12h`, `30d`.
pub fn parse_seconds(s: &str) -> std::result::Result<u64, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| "expected a number and a unit: s, m, h or d".to_owned())?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err("the unit is s, m, h or d".to_owned()),
    };
    n.checked_mul(scale).ok_or_else(|| "too long".to_owned())
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
        let both = Config::parse("htpasswd = \"h\"\n[rbac]\nenabled = true\n").expect_err("both");
        assert!(both.contains("exclude"), "{both}");
        assert!(Config::parse("[rbac]\ntoken_ttl = \"never\"\n").is_err());
        let c = Config::parse("storage = \"/s\"\n[rbac]\nenabled = true\ntoken_ttl = \"1m\"\n")
            .expect("rbac");
        assert_eq!(c.rbac_database(), PathBuf::from("/s/rbac/accounts.db"));
        assert_eq!(c.rbac_settings().0.token_ttl, 60);
    }
}
