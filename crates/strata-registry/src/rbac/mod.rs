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

/// The token lifetime unless configured.
pub const DEFAULT_TOKEN_TTL: u64 = 300;
/// The default service (token audience) and issuer name.
pub const DEFAULT_SERVICE: &str = "strata-registry";

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
}

impl std::fmt::Debug for Rbac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rbac")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// What was read from the store, valid while its revision holds.
#[derive(Default)]
struct Cache {
    revision: Option<u64>,
    checked: Option<Instant>,
    /// Subject → the principal now, and when it expires (robots).
    subjects: HashMap<String, Option<(Principal, Option<u64>)>>,
    projects: HashMap<String, Option<Project>>,
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

    /// The principal a token subject names now: `None` when the user is
    /// gone or disabled, or the robot revoked or expired.
    pub fn principal(&self, subject: &str) -> Result<Option<Principal>> {
        if subject.is_empty() || subject == "anonymous" {
            return Ok(Some(Principal::Anonymous));
        }
        let entry = self.cached(|cache| {
            if let Some(hit) = cache.subjects.get(subject) {
                return Ok(hit.clone());
            }
            let found = self.lookup(subject)?;
            cache.subjects.insert(subject.to_owned(), found.clone());
            Ok(found)
        })?;
        Ok(entry.and_then(|(p, expires)| match expires {
            Some(t) if t <= now() => None,
            _ => Some(p),
        }))
    }

    fn lookup(&self, subject: &str) -> Result<Option<(Principal, Option<u64>)>> {
        if let Some((project, name)) = model::parse_robot_login(subject) {
            return Ok(self.accounts.robot(project, name)?.map(|(r, _)| {
                let p = Principal::Robot {
                    project: r.project,
                    name: r.name,
                    perms: r.perms,
                };
                (p, r.expires)
            }));
        }
        Ok(self
            .accounts
            .user(subject)?
            .filter(|(u, _)| !u.disabled)
            .map(|(u, _)| {
                let p = Principal::User {
                    name: u.name,
                    admin: u.admin,
                };
                (p, None)
            }))
    }

    /// A project as `who` sees it, or `None` if it does not exist.
    pub fn view(&self, who: &Principal, project: &str) -> Result<Option<ProjectView>> {
        self.cached(|cache| {
            let found = match cache.projects.get(project) {
                Some(p) => p.clone(),
                None => {
                    let p = self.accounts.project(project)?;
                    cache.projects.insert(project.to_owned(), p.clone());
                    p
                }
            };
            let Some(found) = found else {
                return Ok(None);
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

/// The current time in Unix seconds.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
