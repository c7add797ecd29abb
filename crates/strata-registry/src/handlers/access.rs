//! Access control on `/v2/` routes when `--rbac` is on: what each request
//! needs, the Bearer challenge when it is refused, catalog filtering and
//! the audit records of pulls, pushes and deletes.

use strata_distribution::{Challenge, ErrorCode, RepositoryName, Route, Scope};

use super::App;
use crate::error::{Error, Result};
use crate::http::{Request, Response};
use crate::rbac::grant::{Caller, Denial, Need};
use crate::rbac::{model, Perms, Rbac};

/// What a request on `route` needs. `/v2/` needs only a valid token.
pub(super) fn needs(route: &Route, method: &str) -> Vec<Need> {
    let repo = |name: &RepositoryName, perms| vec![Need::Repository(name.to_string(), perms)];
    match route {
        Route::Base => Vec::new(),
        Route::Catalog => vec![Need::Catalog],
        Route::Tags { name } | Route::Referrers { name, .. } => repo(name, Perms::PULL),
        Route::Manifest { name, .. } | Route::Blob { name, .. } => match method {
            "PUT" => repo(name, Perms::PUSH),
            "DELETE" => repo(name, Perms::DELETE),
            _ => repo(name, Perms::PULL),
        },
        Route::UploadStart { name } | Route::Upload { name, .. } => repo(name, Perms::PUSH),
    }
}

/// What a challenge asks for: the needs, and for a mount the source's
/// pull too (optional: without it the mount becomes a plain upload), as
/// distribution asks, so clients that follow challenges can mount.
pub(super) fn challenge_needs(route: &Route, req: &Request<'_>, needs: &[Need]) -> Vec<Need> {
    let mut out = needs.to_vec();
    if let Route::UploadStart { .. } = route {
        let from = strata_distribution::query::query_value(&req.query, "from")
            .ok()
            .flatten();
        let mount = strata_distribution::query::query_value(&req.query, "mount")
            .ok()
            .flatten();
        if let (Some(from), Some(_)) = (from, mount) {
            if RepositoryName::new(&from).is_ok() {
                out.push(Need::Repository(from, Perms::PULL));
            }
        }
    }
    out
}

/// The scope to ask for: a push asks for `pull,push`, as clients do.
fn challenge_scope(need: &Need) -> Scope {
    match need {
        Need::Repository(name, perms) if perms.contains(Perms::PUSH) => {
            Need::Repository(name.clone(), perms.with(Perms::PULL)).scope()
        }
        other => other.scope(),
    }
}

/// The token endpoint's URL: configured, or this server's own `/token`.
pub(super) fn realm(rbac: &Rbac, req: &Request<'_>) -> String {
    if let Some(r) = &rbac.settings.realm {
        return r.clone();
    }
    let host = req
        .header("host")
        .filter(|h| {
            !h.is_empty()
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("localhost");
    let scheme = if rbac.settings.tls { "https" } else { "http" };
    format!("{scheme}://{host}/token")
}

/// 429 for a client past the failed-login limit.
pub(super) fn too_many(wait: std::time::Duration) -> Response {
    let e = Error::spec(
        ErrorCode::TooManyRequests,
        "too many failed logins; try again later",
    );
    super::error_response(&e).header("Retry-After", wait.as_secs().to_string())
}

/// The answer to a refused request.
pub(super) fn denied(rbac: &Rbac, req: &Request<'_>, denial: Denial, needs: &[Need]) -> Response {
    match denial {
        Denial::TooMany(wait) => too_many(wait),
        Denial::Unauthorized { message, error } => {
            let scopes: Vec<Scope> = needs.iter().map(challenge_scope).collect();
            let mut challenge =
                Challenge::bearer(&realm(rbac, req), &rbac.settings.service, &scopes);
            if let Some(e) = error {
                challenge = challenge.with_param("error", e);
            }
            super::error_response(&Error::spec(ErrorCode::Unauthorized, message))
                .header("WWW-Authenticate", challenge.to_string())
        }
    }
}

impl App {
    /// The catalog as `caller` may see it.
    pub(super) fn visible_catalog(&self, caller: Option<&Caller>) -> Result<Vec<String>> {
        let all = self.registry.catalog()?;
        let (Some(rbac), Some(caller)) = (&self.rbac, caller) else {
            return Ok(all);
        };
        let who = &caller.principal;
        let mut out = Vec::new();
        for repo in all {
            let project = model::project_of(&repo);
            if let Some(view) = rbac.view(who, project)? {
                if model::listed(who, project, view) {
                    out.push(repo);
                }
            }
        }
        Ok(out)
    }

    /// Writes the audit record of a pull (manifest GET), push (manifest
    /// PUT) or delete that succeeded.
    pub(super) fn audit(
        &self,
        caller: Option<&Caller>,
        route: &Route,
        req: &Request<'_>,
        status: u16,
    ) {
        let (Some(rbac), Some(caller)) = (&self.rbac, caller) else {
            return;
        };
        if !(200..300).contains(&status) {
            return;
        }
        let (name, detail) = match route {
            Route::Manifest { name, reference } => (name, reference.to_string()),
            Route::Blob { name, digest } => (name, digest.to_string()),
            _ => return,
        };
        let action = match (req.method.as_str(), route) {
            ("GET", Route::Manifest { .. }) => "pull",
            ("PUT", Route::Manifest { .. }) => "push",
            ("DELETE", _) => "delete",
            _ => return,
        };
        rbac.record(
            &caller.principal,
            action,
            name.as_ref(),
            &detail,
            &req.remote,
        );
    }
}
