//! Logins, token issue and request authorization.
//!
//! A login is `Authorization: Basic` with a user's password or a robot's
//! secret, rate-limited per address. A token grants, per requested scope,
//! what was asked intersected with what the caller's role allows. A request
//! passes when its token grants the actions it needs and the caller's role
//! still allows them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use strata_distribution::{Actions, Scope, TokenResponse};
use strata_oci::{Digest, Timestamp};

use super::model::{self, Perms, Principal};
use super::token::{Access, Claims};
use super::{now, Rbac};
use crate::error::Result;

use crate::auth::DUMMY_HASH;

/// Why a request or a login is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denial {
    /// Credentials are missing, wrong, expired or insufficient: 401 with a
    /// challenge. `error` is the challenge's `error` parameter.
    Unauthorized {
        /// What to tell the client.
        message: String,
        /// `invalid_token` or `insufficient_scope`, when a token was sent.
        error: Option<&'static str>,
    },
    /// Too many failed logins: 429, retry after this long.
    TooMany(Duration),
}

impl Denial {
    fn unauthorized(message: impl Into<String>, error: Option<&'static str>) -> Denial {
        Denial::Unauthorized {
            message: message.into(),
            error,
        }
    }
}

/// A request's need: an action on a repository, the catalog, or only a
/// valid token (`/v2/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    /// Permissions on a repository.
    Repository(String, Perms),
    /// `registry:catalog:*`.
    Catalog,
}

impl Need {
    /// The scope a client must ask for.
    pub fn scope(&self) -> Scope {
        match self {
            Need::Repository(name, perms) => {
                let mut actions = Actions::default();
                for n in perms.names() {
                    // Always accepted: these are the lowercase action names.
                    let _ = actions.insert(n);
                }
                Scope {
                    resource_type: "repository".to_owned(),
                    class: None,
                    name: name.clone(),
                    actions,
                }
            }
            Need::Catalog => Scope::catalog(),
        }
    }
}

/// An authorized caller: who, and what the token grants.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who.
    pub principal: Principal,
    claims: Arc<Claims>,
}

impl Caller {
    fn token_grants(&self, kind: &str, name: &str, perms: Perms) -> bool {
        let granted = self
            .claims
            .access
            .iter()
            .filter(|a| a.kind == kind && a.name == name)
            .fold(Perms::NONE, |acc, a| {
                acc.with(Perms::from_names(a.actions.iter().map(String::as_str)))
            });
        granted.contains(perms)
    }

    /// Whether the caller may do `perms` on `repository`: the token grants
    /// it and the role still allows it (a mount's source is checked so).
    pub fn may(&self, rbac: &Rbac, repository: &str, perms: Perms) -> Result<bool> {
        Ok(self.token_grants("repository", repository, perms)
            && rbac.allowed(&self.principal, repository)?.contains(perms))
    }
}

impl Rbac {
    /// Checks `Authorization: Basic …`; `Ok(Anonymous)` when absent.
    pub fn login(
        &self,
        authorization: Option<&str>,
        remote: &str,
    ) -> Result<Result<Principal, Denial>> {
        let Some(header) = authorization else {
            return Ok(Ok(Principal::Anonymous));
        };
        match crate::auth::basic_credentials(header) {
            Some((login, password)) => self.login_with(&login, &password, remote),
            None => Ok(Err(Denial::unauthorized(
                "malformed Basic credentials",
                None,
            ))),
        }
    }

    /// Checks a login name (a user's, or `robot$project+name`) and its
    /// password or secret, counting failures per client address.
    pub fn login_with(
        &self,
        login: &str,
        password: &str,
        remote: &str,
    ) -> Result<Result<Principal, Denial>> {
        let address = super::limiter::address_of(remote);
        // A name no account can have is checked no further, and never
        // written to the limiter or the audit log as sent.
        let plausible = match model::parse_robot_login(login) {
            Some((project, robot)) => {
                model::check_name("project", project).is_ok()
                    && model::check_name("robot", robot).is_ok()
            }
            None => model::check_name("user", login).is_ok(),
        };
        let account = if plausible { login } else { "<invalid>" };
        // A locked pair is refused before anything, the right password too:
        // otherwise guesses could go on against the verified credentials.
        if let Err(wait) = self.limiter.locked(address, account, Instant::now()) {
            return Ok(Err(Denial::TooMany(wait)));
        }
        let (found, hash) = if plausible {
            self.credentials(login)?
        } else {
            (None, DUMMY_HASH.to_owned())
        };
        // Credentials verified before pass at once: no guess is involved.
        if let Some(principal) = found.clone().filter(|_| self.known(login, password, &hash)) {
            return Ok(Ok(principal));
        }
        let _turn = self.limiter.turn(address, account);
        let started = Instant::now();
        if let Err(wait) = self.limiter.attempt(address, account, started) {
            return Ok(Err(Denial::TooMany(wait)));
        }
        // bcrypt runs for unknown accounts too (on the dummy hash), so
        // timing does not tell which names exist.
        let matches = self.password_matches(login, password, &hash);
        if let (true, Some(principal)) = (matches, found) {
            self.limiter.succeed(address, account, started);
            return Ok(Ok(principal));
        }
        self.audit.record(super::AuditEvent {
            time: now(),
            actor: account.to_owned(),
            action: "login.failed".into(),
            // Failures are the server's business, not a project's.
            project: String::new(),
            target: account.to_owned(),
            detail: String::new(),
            remote: remote.to_owned(),
        });
        Ok(Err(Denial::unauthorized(
            "invalid username or password",
            None,
        )))
    }

    /// The principal a login names if it may log in now, and the hash to
    /// check (the dummy one when it may not).
    fn credentials(&self, login: &str) -> Result<(Option<Principal>, String)> {
        Ok(match self.account(login)? {
            Some((s, hash)) if s.expires.is_none_or(|t| t > now()) => (Some(s.principal), hash),
            _ => (None, DUMMY_HASH.to_owned()),
        })
    }

    /// bcrypt, remembering verified (login, password, hash) triples by
    /// their SHA-256 so a client's repeated logins cost one bcrypt.
    fn password_matches(&self, login: &str, password: &str, hash: &str) -> bool {
        if self.known(login, password, hash) {
            return true;
        }
        let key = verified_key(login, password, hash);
        if !bcrypt::verify(password, hash).unwrap_or(false) {
            return false;
        }
        let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if verified.len() > 10_000 {
            verified.clear();
        }
        verified.insert(key);
        true
    }

    /// Whether these credentials were verified before.
    fn known(&self, login: &str, password: &str, hash: &str) -> bool {
        let key = verified_key(login, password, hash);
        self.verified
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&key)
    }

    /// Issues a token for `who`: each requested scope cut down to what the
    /// role allows; scopes granting nothing are left out.
    pub fn issue(&self, who: &Principal, scopes: &[Scope]) -> Result<TokenResponse> {
        let mut access = Vec::new();
        for scope in Scope::merge(scopes.iter().cloned()) {
            let asked = Perms::from_names(scope.actions.iter());
            let granted = match (scope.resource_type.as_str(), scope.name.as_str()) {
                ("repository", name) if strata_distribution::RepositoryName::new(name).is_ok() => {
                    asked.intersect(self.allowed(who, name)?)
                }
                ("registry", "catalog") if scope.actions.allows("*") => {
                    access.push(Access {
                        kind: "registry".into(),
                        name: "catalog".into(),
                        actions: vec!["*".into()],
                    });
                    continue;
                }
                _ => Perms::NONE,
            };
            if !granted.is_empty() {
                access.push(Access {
                    kind: "repository".into(),
                    name: scope.name.clone(),
                    actions: granted.names().into_iter().map(str::to_owned).collect(),
                });
            }
        }
        let issued = now();
        let jti = strata_oci::digest::to_hex(&super::random_bytes::<16>()?);
        let claims = Claims {
            iss: self.settings.issuer.clone(),
            sub: match who {
                Principal::Anonymous => String::new(),
                other => other.subject(),
            },
            aud: self.settings.service.clone(),
            exp: issued + self.settings.token_ttl,
            nbf: issued.saturating_sub(10),
            iat: issued,
            jti,
            access,
            stamp: self.stamp_of(who)?,
        };
        let token = self.signer.sign(&claims)?;
        Ok(TokenResponse::new(
            &token,
            self.settings.token_ttl,
            Some(Timestamp::from_unix_seconds(issued as i64)),
        ))
    }

    /// Checks a request's `Authorization: Bearer …` against what it needs.
    pub fn authorize(
        &self,
        authorization: Option<&str>,
        needs: &[Need],
    ) -> Result<Result<Caller, Denial>> {
        let Some(token) = authorization.and_then(|h| h.strip_prefix("Bearer ")) else {
            return Ok(Err(Denial::unauthorized("authentication required", None)));
        };
        let Some(claims) = self.verified_claims(token.trim()) else {
            return Ok(Err(Denial::unauthorized(
                "invalid token",
                Some("invalid_token"),
            )));
        };
        let t = now();
        if claims.iss != self.settings.issuer || claims.aud != self.settings.service {
            return Ok(Err(Denial::unauthorized(
                "token is for another service",
                Some("invalid_token"),
            )));
        }
        if claims.exp <= t || claims.nbf > t + 10 {
            return Ok(Err(Denial::unauthorized(
                "token expired",
                Some("invalid_token"),
            )));
        }
        let Some(principal) = self.principal(&claims.sub, claims.stamp)? else {
            return Ok(Err(Denial::unauthorized(
                "the account is disabled, revoked or expired",
                Some("invalid_token"),
            )));
        };
        let caller = Caller { principal, claims };
        for need in needs {
            let ok = match need {
                Need::Repository(name, perms) => caller.may(self, name, *perms)?,
                Need::Catalog => caller
                    .claims
                    .access
                    .iter()
                    .any(|a| a.kind == "registry" && a.name == "catalog"),
            };
            if !ok {
                return Ok(Err(Denial::unauthorized(
                    format!(
                        "insufficient scope: {} needs {}",
                        caller.principal.subject(),
                        need.scope()
                    ),
                    Some("insufficient_scope"),
                )));
            }
        }
        Ok(Ok(caller))
    }
}

/// What the verified-credentials set remembers: a digest, never a password.
fn verified_key(login: &str, password: &str, hash: &str) -> Digest {
    Digest::sha256_of(format!("{login}\0{password}\0{hash}").as_bytes())
}
