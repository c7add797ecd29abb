//! Credentials in Docker's `config.json`: `auths`, `credsStore` and
//! `credHelpers`, so what `docker login` wrote works here and the reverse.
//!
//! The file is `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
//! A registry is keyed by its `host[:port]`; Docker Hub by
//! `https://index.docker.io/v1/`, as Docker does. Helpers speak Docker's
//! `docker-credential-*` protocol (`get`, `store`, `erase` on standard input).
//! Writing keeps every other field of the file and replaces it atomically
//! with mode 0600.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// The key Docker uses for Docker Hub.
pub const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// A user name with its password, or an identity token (user `<token>`).
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// The user name.
    pub username: String,
    /// The password or token.
    pub secret: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The credentials file and the helpers it names.
#[derive(Debug, Clone)]
pub struct CredentialStore {
    path: PathBuf,
}

/// The key of `domain` in the file: Docker Hub's URL, or the domain itself.
pub fn server_key(domain: &str) -> String {
    if domain == "docker.io" || domain == "index.docker.io" || domain == "registry-1.docker.io" {
        DOCKER_HUB_KEY.to_owned()
    } else {
        domain.to_owned()
    }
}

/// A key as a bare host: `https://host:5000/v1/` → `host:5000`.
fn hostname_of(key: &str) -> &str {
    let rest = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    rest.split('/').next().unwrap_or(rest)
}

impl CredentialStore {
    /// The file Docker uses: `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`.
    pub fn default_path() -> PathBuf {
        if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
            return PathBuf::from(dir).join("config.json");
        }
        let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
        PathBuf::from(home).join(".docker").join("config.json")
    }

    /// The store at Docker's default path.
    pub fn open_default() -> Self {
        Self::at(Self::default_path())
    }

    /// The store at `path`.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        CredentialStore { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn load(&self) -> Result<Map<String, Value>> {
        let what = || self.path.display().to_string();
        match std::fs::read(&self.path) {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Ok(Map::new()),
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(Value::Object(m)) => Ok(m),
                Ok(_) => Err(Error::config(what(), "not a JSON object")),
                Err(e) => Err(Error::config(what(), e.to_string())),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Map::new()),
            Err(e) => Err(Error::io(what())(e)),
        }
    }

    fn save(&self, doc: &Map<String, Value>) -> Result<()> {
        let what = self.path.display().to_string();
        // A symlinked config.json stays a symlink: its target is replaced.
        let path = match std::fs::symlink_metadata(&self.path) {
            Ok(m) if m.file_type().is_symlink() => {
                std::fs::canonicalize(&self.path).map_err(Error::io(&what))?
            }
            _ => self.path.clone(),
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(Error::io(&what))?;
        let tmp = dir.join(format!(".config.json.{}", std::process::id()));
        let mut bytes =
            serde_json::to_vec_pretty(doc).map_err(|e| Error::config(&what, e.to_string()))?;
        bytes.push(b'\n');
        let write = || -> std::io::Result<()> {
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::io(what)(e)
        })
    }

    /// The helper for `domain`: its `credHelpers` entry, else `credsStore`.
    fn helper(doc: &Map<String, Value>, domain: &str) -> Option<String> {
        let key = server_key(domain);
        doc.get("credHelpers")
            .and_then(|h| h.get(&key).or_else(|| h.get(domain)))
            .or_else(|| doc.get("credsStore"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }

    /// True when `domain`'s credential goes to a helper rather than the file.
    pub fn uses_helper(&self, domain: &str) -> Result<bool> {
        Ok(Self::helper(&self.load()?, domain).is_some())
    }

    /// The credential for `domain`, if any.
    pub fn get(&self, domain: &str) -> Result<Option<Credential>> {
        let doc = self.load()?;
        if let Some(helper) = Self::helper(&doc, domain) {
            return helper_get(&helper, &server_key(domain));
        }
        let Some(auths) = doc.get("auths").and_then(Value::as_object) else {
            return Ok(None);
        };
        let key = server_key(domain);
        let entry = auths.get(&key).or_else(|| {
            auths
                .iter()
                .find(|(k, _)| hostname_of(k) == hostname_of(&key))
                .map(|(_, v)| v)
        });
        entry
            .map(|e| decode_entry(&self.path, domain, e))
            .transpose()
            .map(Option::flatten)
    }

    /// Stores `cred` for `domain`, through its helper if one is configured.
    pub fn store(&self, domain: &str, cred: &Credential) -> Result<()> {
        let mut doc = self.load()?;
        let key = server_key(domain);
        if let Some(helper) = Self::helper(&doc, domain) {
            let input = serde_json::json!({
                "ServerURL": key, "Username": cred.username, "Secret": cred.secret,
            });
            helper_call(&helper, "store", input.to_string().as_bytes())?;
            // Docker leaves an empty entry so `auths` lists the registry.
            with_auths(&mut doc, |a| a.insert(key, Value::Object(Map::new())));
        } else {
            let auth = base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", cred.username, cred.secret));
            let mut entry = Map::new();
            if cred.username == "<token>" {
                entry.insert("identitytoken".into(), cred.secret.clone().into());
            } else {
                entry.insert("auth".into(), auth.into());
            }
            with_auths(&mut doc, |a| a.insert(key, Value::Object(entry)));
        }
        self.save(&doc)
    }

    /// Forgets the credential for `domain`. Returns false when there was none.
    pub fn erase(&self, domain: &str) -> Result<bool> {
        let mut doc = self.load()?;
        let key = server_key(domain);
        let mut found = false;
        if let Some(helper) = Self::helper(&doc, domain) {
            found = helper_call(&helper, "erase", key.as_bytes()).is_ok();
        }
        let keys: Vec<String> = with_auths(&mut doc, |auths| {
            let keys: Vec<String> = auths
                .keys()
                .filter(|k| hostname_of(k) == hostname_of(&key))
                .cloned()
                .collect();
            for k in &keys {
                auths.shift_remove(k);
            }
            keys
        });
        found |= !keys.is_empty();
        if !keys.is_empty() {
            self.save(&doc)?;
        }
        Ok(found)
    }
}

/// Runs `f` on the `auths` object, creating it (or replacing a non-object) first.
fn with_auths<T>(doc: &mut Map<String, Value>, f: impl FnOnce(&mut Map<String, Value>) -> T) -> T {
    let auths = doc
        .entry("auths")
        .or_insert_with(|| Value::Object(Map::new()));
    if !auths.is_object() {
        *auths = Value::Object(Map::new());
    }
    match auths {
        Value::Object(m) => f(m),
        _ => f(&mut Map::new()),
    }
}

fn decode_entry(path: &Path, domain: &str, entry: &Value) -> Result<Option<Credential>> {
    let what = || format!("{}: auths entry for {domain}", path.display());
    if let Some(token) = entry
        .get("identitytoken")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    {
        return Ok(Some(Credential {
            username: "<token>".into(),
            secret: token.into(),
        }));
    }
    if let Some(auth) = entry
        .get("auth")
        .and_then(Value::as_str)
        .filter(|a| !a.is_empty())
    {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|e| Error::config(what(), format!("auth is not base64: {e}")))?;
        let text =
            String::from_utf8(raw).map_err(|_| Error::config(what(), "auth is not UTF-8"))?;
        let (user, pass) = text
            .split_once(':')
            .ok_or_else(|| Error::config(what(), "auth is not user:password"))?;
        return Ok(Some(Credential {
            username: user.into(),
            secret: pass.into(),
        }));
    }
    let user = entry.get("username").and_then(Value::as_str);
    let pass = entry.get("password").and_then(Value::as_str);
    Ok(match (user, pass) {
        (Some(u), Some(p)) if !u.is_empty() => Some(Credential {
            username: u.into(),
            secret: p.into(),
        }),
        _ => None,
    })
}

fn helper_call(helper: &str, verb: &str, input: &[u8]) -> Result<Vec<u8>> {
    let program = format!("docker-credential-{helper}");
    let what = format!("{program} {verb}");
    let mut child = Command::new(&program)
        .arg(verb)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(Error::io(&what))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input).map_err(Error::io(&what))?;
    }
    let out = child.wait_with_output().map_err(Error::io(&what))?;
    if !out.status.success() {
        let msg = String::from_utf8_lossy(if out.stdout.is_empty() {
            &out.stderr
        } else {
            &out.stdout
        });
        return Err(Error::config(what, msg.trim().to_owned()));
    }
    Ok(out.stdout)
}

fn helper_get(helper: &str, key: &str) -> Result<Option<Credential>> {
    let out = match helper_call(helper, "get", key.as_bytes()) {
        Ok(out) => out,
        Err(Error::Config { reason, .. }) if reason.contains("credentials not found") => {
            return Ok(None)
        }
        Err(e) => return Err(e),
    };
    let what = format!("docker-credential-{helper} get");
    let v: Value = serde_json::from_slice(&out).map_err(|e| Error::config(&what, e.to_string()))?;
    let user = v
        .get("Username")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let secret = v.get("Secret").and_then(Value::as_str).unwrap_or_default();
    if secret.is_empty() {
        return Ok(None);
    }
    Ok(Some(Credential {
        username: user.into(),
        secret: secret.into(),
    }))
}

#[cfg(test)]
#[path = "credentials/tests.rs"]
mod tests;
