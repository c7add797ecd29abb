//! Basic authentication against an htpasswd file of bcrypt hashes (as
//! `htpasswd -B` writes and distribution reads).
//!
//! bcrypt is slow on purpose, so a verified password is remembered (its
//! SHA-256, never the password) until the file changes; a wrong one is not.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use strata_oci::Digest;

use crate::error::{Error, Result};

/// A bcrypt hash (cost 10) of a random string, checked for unknown users.
pub(crate) const DUMMY_HASH: &str = "$2y$10$o3FeKo3SFV8aqsoI/M7KIeXPx8JNAgeCXrS3y67xMEA37f8K5Cn0C";

/// Users and their bcrypt hashes, re-read when the file changes.
#[derive(Debug)]
pub struct Htpasswd {
    path: PathBuf,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    modified: Option<SystemTime>,
    users: HashMap<String, String>,
    verified: HashSet<(String, Digest)>,
}

/// Parses htpasswd lines: `user:$2y$…`. Other hash kinds are refused.
pub fn parse(text: &str, origin: &str) -> Result<HashMap<String, String>> {
    let mut users = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (user, hash) = line
            .split_once(':')
            .ok_or_else(|| Error::Config(format!("{origin}:{}: expected user:hash", i + 1)))?;
        if !(hash.starts_with("$2y$") || hash.starts_with("$2b$") || hash.starts_with("$2a$")) {
            return Err(Error::Config(format!(
                "{origin}:{}: user {user}: only bcrypt hashes are accepted (htpasswd -B)",
                i + 1
            )));
        }
        users.insert(user.to_owned(), hash.to_owned());
    }
    Ok(users)
}

impl Htpasswd {
    /// Reads the file (it must exist and parse).
    pub fn open(path: &Path) -> Result<Self> {
        let h = Htpasswd {
            path: path.to_path_buf(),
            state: Mutex::new(State::default()),
        };
        h.reload()?;
        Ok(h)
    }

    fn reload(&self) -> Result<()> {
        let modified = std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .map_err(Error::io("stat", &self.path))?;
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.modified == Some(modified) {
            return Ok(());
        }
        let text = std::fs::read_to_string(&self.path).map_err(Error::io("read", &self.path))?;
        state.users = parse(&text, &self.path.display().to_string())?;
        state.verified.clear();
        state.modified = Some(modified);
        Ok(())
    }

    fn knows(&self, user: &str) -> bool {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .users
            .contains_key(user)
    }

    /// The user an `Authorization: Basic …` header proves, if it does.
    pub fn check(&self, authorization: Option<&str>) -> Option<String> {
        let (user, password) = basic_credentials(authorization?)?;
        let (user, password) = (user.as_str(), password.as_str());
        if let Err(e) = self.reload() {
            tracing::warn!(error = %e, "htpasswd unreadable; keeping the users read before");
        }
        let key = (user.to_owned(), Digest::sha256_of(password.as_bytes()));
        let hash = {
            let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if state.verified.contains(&key) {
                return Some(user.to_owned());
            }
            // An unknown user costs a bcrypt too, so timing does not tell
            // which user names exist.
            state
                .users
                .get(user)
                .cloned()
                .unwrap_or_else(|| DUMMY_HASH.to_owned())
        };
        if !self.knows(user) {
            let _ = bcrypt::verify(password, &hash);
            return None;
        }
        if bcrypt::verify(password, &hash).unwrap_or(false) {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            state.verified.insert(key);
            Some(user.to_owned())
        } else {
            None
        }
    }
}

/// A bcrypt htpasswd line for `user` (cost 10, as `htpasswd -B`).
pub fn hash_line(user: &str, password: &str) -> Result<String> {
    if user.is_empty() || user.contains(':') {
        return Err(Error::Config(format!("invalid user name {user:?}")));
    }
    let hash = bcrypt::hash(password, 10).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(format!("{user}:{hash}"))
}

/// The user and password of an `Authorization: Basic …` header.
pub fn basic_credentials(authorization: &str) -> Option<(String, String)> {
    let encoded = authorization.strip_prefix("Basic ")?;
    let text = String::from_utf8(decode_base64(encoded.trim())?).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcrypt_users_are_checked_and_remembered() {
        let dir = strata_testkit::TempDir::new("htpasswd");
        let path = dir.join("htpasswd");
        let line = hash_line("alice", "s3cret").expect("hash");
        std::fs::write(&path, format!("# users\n{line}\n")).expect("write");
        let h = Htpasswd::open(&path).expect("open");
        // "alice:s3cret" and "alice:wrong".
        assert_eq!(
            h.check(Some("Basic YWxpY2U6czNjcmV0")).as_deref(),
            Some("alice")
        );
        assert_eq!(
            h.check(Some("Basic YWxpY2U6czNjcmV0")).as_deref(),
            Some("alice")
        );
        assert_eq!(h.check(Some("Basic YWxpY2U6d3Jvbmc=")), None);
        assert_eq!(h.check(Some("Bearer x")), None);
        assert_eq!(h.check(None), None);
        assert_eq!(h.check(Some("Basic !!!")), None);
        // An unknown user: refused, after a real bcrypt (the dummy hash parses).
        assert!(bcrypt::verify("x", DUMMY_HASH).is_ok());
        assert_eq!(h.check(Some("Basic Ym9iOnM=")), None);
    }

    #[test]
    fn only_bcrypt_is_accepted() {
        let err = parse("bob:{SHA}abc\n", "f").expect_err("sha1");
        assert!(err.to_string().contains("only bcrypt"), "{err}");
        assert!(parse("nocolon\n", "f").is_err());
    }
}
