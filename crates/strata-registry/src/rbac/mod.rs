//! Role-based access control, as Harbor does it: users and robot accounts,
//! projects with roles, a token service issuing ES256 JWTs for Docker's
//! token flow, an audit log, and rate-limited logins.
//!
//! - [`model`]: roles, permissions and who may do what (pure).
//! - [`accounts`]: the account store's trait; [`sqlite`] is the default.
//! - [`token`]: signing and verifying tokens.
//! - [`limiter`]: failed-login counting.
//! - [`audit`]: the audit log's writer thread.
//! - [`admin`]: the admin operations the CLI and the JSON API share.
//! - [`grant`]: logins, token issue, and request authorization.
//!
//! Every request re-checks the caller against the accounts (through a
//! cache that follows [`Accounts::revision`]), so a disabled user's or a
//! revoked robot's tokens stop working at once, and a token never grants
//! more than the caller's role allows now.

pub mod accounts;
pub mod admin;
pub mod audit;
pub mod grant;
pub mod limiter;
pub mod model;
pub mod sqlite;
pub mod token;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use accounts::{Accounts, AuditEvent, AuditQuery, Member, Project, Robot, User};
pub use model::{Perms, Principal, ProjectView, Role};

use crate::error::Result;
pub(crate) use crate::{now, random_bytes};

/// The token lifetime unless configured.
pub const DEFAULT_TOKEN_TTL: u64 = 300;
/// The default service (token audience) and issuer name.
pub const DEFAULT_SERVICE: &str = "strata-registry";

/// Verified tokens remembered at most (the map is emptied past this).
const TOKEN_CACHE: usize = 16_384;
/// Tokens longer than this are verified every time, never remembered.
const TOKEN_CACHED_MAX: usize = 4096;

/// How often the cache asks the store whether anything changed.
const REVISION_CHECK: Duration = Duration::from_millis(100);

/// Where the account database and the token key are, by default.
pub fn default_dir(storage: &Path) -> PathBuf {
    storage.join("rbac")
}

/// The token service's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The `service` of challenges and the tokens' audience.
    pub service: String,
    /// The tokens' issuer.
    pub issuer: String,
    /// The token endpoint's URL; derived from the request's `Host` when unset.
    pub realm: Option<String>,
    /// Token lifetime in seconds.
    pub token_ttl: u64,
    /// Whether the server speaks TLS (for a derived realm's scheme).
    pub tls: bool,
    /// Failed logins allowed per client address and account per minute
    /// (four times as many per address).
    pub login_failures: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            service: DEFAULT_SERVICE.into(),
            issuer: DEFAULT_SERVICE.into(),
            realm: None,
            token_ttl: DEFAULT_TOKEN_TTL,
            tls: false,
            login_failures: limiter::PER_ACCOUNT,
        }
    }
}

/// The access-control service of a running registry.
pub struct Rbac {
    /// The account store.
    pub accounts: Arc<dyn Accounts>,
    /// The audit log.
    pub audit: audit::AuditLog,
    /// The settings.
    pub settings: Settings,
    signer: token::Signer,
    limiter: limiter::Limiter,
    cache: Mutex<Cache>,
    verified: Mutex<HashSet<strata_oci::Digest>>,
    /// Tokens whose signature was checked, with their claims: an ECDSA
    /// verification costs more than the rest of a manifest GET.
    tokens: Mutex<HashMap<String, Arc<token::Claims>>>,
}

impl std::fmt::Debug for Rbac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rbac")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// An account as tokens see it.
#[derive(Debug, Clone)]
struct Subject {
    principal: Principal,
    /// When a robot stops working.
    expires: Option<u64>,
    /// The account's stamp: tokens carrying another are refused.
    stamp: u64,
}

/// What was read from the store, valid while its revision holds.
#[derive(Default)]
struct Cache {
    revision: Option<u64>,
    checked: Option<Instant>,
    /// Subject → the account as tokens see it (`None`: no such account).
    subjects: HashMap<String, Option<Subject>>,
    projects: HashMap<String, Project>,
    roles: HashMap<String, HashMap<String, Role>>,
}

impl Rbac {
    /// The service on `accounts`, signing with the key at `key_path`
    /// (created if missing).
    pub fn new(accounts: Arc<dyn Accounts>, key_path: &Path, settings: Settings) -> Result<Rbac> {
        Ok(Rbac {
            audit: audit::AuditLog::start(accounts.clone()),
            accounts,
            signer: token::Signer::load_or_create(key_path)?,
            limiter: limiter::Limiter::new(settings.login_failures),
            cache: Mutex::new(Cache::default()),
            verified: Mutex::new(HashSet::new()),
            tokens: Mutex::new(HashMap::new()),
            settings,
        })
    }

    /// Drops everything cached (after a write through this process).
    pub fn invalidate(&self) {
        *self.cache.lock().unwrap_or_else(|p| p.into_inner()) = Cache::default();
    }

    /// Runs `f` on the cache after making sure it is current.
    fn cached<T>(&self, f: impl FnOnce(&mut Cache) -> Result<T>) -> Result<T> {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let stale = cache.checked.is_none_or(|t| t.elapsed() >= REVISION_CHECK);
        if stale {
            let revision = self.accounts.revision()?;
            if cache.revision != Some(revision) {
                *cache = Cache {
                    revision: Some(revision),
                    ..Cache::default()
                };
            }
            cache.checked = Some(Instant::now());
        }
        f(&mut cache)
    }

    /// The principal a token subject names now, for a token carrying
    /// `stamp`: `None` when the user is gone or disabled, the robot revoked
    /// or expired, or the stamp is not the account's (the password changed,
    /// the user was disabled, the robot made again since the token).
    pub fn principal(&self, subject: &str, stamp: Option<u64>) -> Result<Option<Principal>> {
        if subject.is_empty() {
            return Ok(Some(Principal::Anonymous));
        }
        Ok(self
            .subject(subject)?
            .filter(|s| s.expires.is_none_or(|t| t > now()) && Some(s.stamp) == stamp)
            .map(|s| s.principal))
    }

    /// The stamp tokens for `who` carry now.
    pub(crate) fn stamp_of(&self, who: &Principal) -> Result<Option<u64>> {
        Ok(match who {
            Principal::Anonymous => None,
            other => self.subject(&other.subject())?.map(|s| s.stamp),
        })
    }

    fn subject(&self, subject: &str) -> Result<Option<Subject>> {
        self.cached(|cache| {
            if let Some(hit) = cache.subjects.get(subject) {
                return Ok(hit.clone());
            }
            let found = self.lookup(subject)?;
            cache.subjects.insert(subject.to_owned(), found.clone());
            Ok(found)
        })
    }

    fn lookup(&self, subject: &str) -> Result<Option<Subject>> {
        Ok(self.account(subject)?.map(|(s, _)| s))
    }

    /// The account a login name (or token subject) names, with its password
    /// or secret hash: a user unless disabled, or a robot (expired or not).
    fn account(&self, login: &str) -> Result<Option<(Subject, String)>> {
        if let Some((project, name)) = model::parse_robot_login(login) {
            return Ok(self.accounts.robot(project, name)?.map(|(r, hash)| {
                let subject = Subject {
                    stamp: r.stamp,
                    expires: r.expires,
                    principal: Principal::Robot {
                        project: r.project,
                        name: r.name,
                        perms: r.perms,
                    },
                };
                (subject, hash)
            }));
        }
        Ok(self
            .accounts
            .user(login)?
            .filter(|(u, _)| !u.disabled)
            .map(|(u, hash)| {
                let subject = Subject {
                    stamp: u.stamp,
                    expires: None,
                    principal: Principal::User {
                        name: u.name,
                        admin: u.admin,
                    },
                };
                (subject, hash)
            }))
    }

    /// A project as `who` sees it, or `None` if it does not exist.
    pub fn view(&self, who: &Principal, project: &str) -> Result<Option<ProjectView>> {
        self.cached(|cache| {
            let found = match cache.projects.get(project) {
                Some(p) => p.clone(),
                None => {
                    // Only projects that exist are remembered: names asked
                    // for by anyone must not grow the cache.
                    let Some(p) = self.accounts.project(project)? else {
                        return Ok(None);
                    };
                    cache.projects.insert(project.to_owned(), p.clone());
                    p
                }
            };
            let role = match who {
                Principal::User { name, .. } => {
                    if !cache.roles.contains_key(name) {
                        let roles = self.accounts.roles(name)?.into_iter().collect();
                        cache.roles.insert(name.clone(), roles);
                    }
                    cache.roles.get(name).and_then(|r| r.get(project)).copied()
                }
                _ => None,
            };
            Ok(Some(ProjectView {
                public: found.public,
                role,
            }))
        })
    }

    /// What `who` may do on `repository` now.
    pub fn allowed(&self, who: &Principal, repository: &str) -> Result<Perms> {
        let project = model::project_of(repository);
        Ok(model::allowed(who, project, self.view(who, project)?))
    }

    /// The claims of a token signed by this server's key (its expiry is the
    /// caller's to check).
    pub fn verified_claims(&self, token: &str) -> Option<Arc<token::Claims>> {
        if let Some(hit) = self
            .tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(token)
        {
            return Some(hit.clone());
        }
        let claims = Arc::new(self.signer.verify(token)?);
        if token.len() > TOKEN_CACHED_MAX {
            // Claims are about as large as the token: 16k of these would
            // hold gigabytes. Tokens of real clients are far smaller.
            return Some(claims);
        }
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        if tokens.len() >= TOKEN_CACHE {
            tokens.clear();
        }
        tokens.insert(token.to_owned(), claims.clone());
        Some(claims)
    }

    /// Queues an audit event at the current time.
    pub fn record(&self, who: &Principal, action: &str, target: &str, detail: &str, remote: &str) {
        self.audit.record(AuditEvent {
            time: now(),
            actor: who.subject(),
            action: action.to_owned(),
            project: model::project_of(target).to_owned(),
            target: target.to_owned(),
            detail: detail.to_owned(),
            remote: remote.to_owned(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_small_tokens_are_remembered() {
        let dir = strata_testkit::TempDir::new("rbac-cache");
        let accounts = Arc::new(sqlite::SqliteAccounts::open(&dir.join("a.db")).expect("db"));
        let rbac = Rbac::new(accounts, &dir.join("k"), Settings::default()).expect("rbac");
        let claims = |name: &str| token::Claims {
            iss: "i".into(),
            sub: String::new(),
            aud: "a".into(),
            exp: 1,
            nbf: 0,
            iat: 0,
            jti: "j".into(),
            access: vec![token::Access {
                kind: "repository".into(),
                name: name.into(),
                actions: vec!["pull".into()],
            }],
            stamp: None,
        };
        let small = rbac.signer.sign(&claims("p/app")).expect("sign");
        let big = rbac.signer.sign(&claims(&"x".repeat(8000))).expect("sign");
        assert!(rbac.verified_claims(&small).is_some());
        assert!(rbac.verified_claims(&big).is_some());
        let cached = rbac.tokens.lock().expect("lock");
        assert!(cached.contains_key(&small) && !cached.contains_key(&big));
    }
}
