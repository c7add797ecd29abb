//! `/api/v1/…`: the JSON admin API of `--rbac` (users, projects, members,
//! robots, the audit log), described by `api/openapi.yaml`, which is served
//! at `/api/v1/openapi.yaml`. Callers log in with Basic credentials; system
//! admins manage users and projects, project admins their members and robots.

use serde::Deserialize;
use serde_json::json;
use strata_distribution::query::parse_query;

use super::{read_small, App};
use crate::error::{Error, Result};
use crate::http::{Request, Response};
use crate::rbac::admin::{Admin, RobotInfo};
use crate::rbac::grant::Denial;
use crate::rbac::{model, AuditQuery, Perms, Principal, Rbac, Role};

/// The OpenAPI description of this API.
pub const OPENAPI: &str = include_str!("../../api/openapi.yaml");

/// Largest request body accepted.
const BODY_MAX: usize = 64 * 1024;

fn error(status: u16, code: &str, message: impl std::fmt::Display) -> Response {
    let body = json!({ "errors": [{ "code": code, "message": message.to_string() }] });
    Response::json(status, body.to_string().into_bytes())
}

fn ok(status: u16, value: serde_json::Value) -> Response {
    Response::json(status, value.to_string().into_bytes())
}

fn forbidden() -> Response {
    error(403, "DENIED", "you may not do this")
}

fn from_error(e: &Error) -> Response {
    match e {
        Error::NotFound(what) => error(404, "NOT_FOUND", format!("{what} not found")),
        Error::Conflict(m) => error(409, "CONFLICT", m),
        Error::Invalid(m) => error(400, "INVALID", m),
        Error::Spec { message, .. } => error(400, "INVALID", message),
        Error::Wire(w) => error(400, "INVALID", w),
        other => {
            tracing::error!(error = %other, "admin API request failed");
            error(500, "UNKNOWN", "internal error")
        }
    }
}

fn body<T: for<'de> Deserialize<'de>>(req: &mut Request<'_>) -> Result<T> {
    let bytes = read_small(req, BODY_MAX)?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Invalid(format!("request body: {e}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    name: String,
    password: String,
    #[serde(default)]
    admin: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Password {
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Disabled {
    disabled: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewProject {
    name: String,
    #[serde(default)]
    public: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberRole {
    role: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRobot {
    name: String,
    permissions: Vec<String>,
    #[serde(default)]
    expires: Option<String>,
}

impl App {
    pub(super) fn api(&self, rbac: &Rbac, req: &mut Request<'_>) -> Response {
        let path = req.path.trim_end_matches('/').to_owned();
        let Some(rest) = path.strip_prefix("/api/v1") else {
            return error(404, "NOT_FOUND", "no such endpoint");
        };
        if rest == "/openapi.yaml" && req.method == "GET" {
            return Response::empty(200)
                .header("Content-Type", "application/yaml")
                .body(OPENAPI.as_bytes().to_vec());
        }
        let who = match rbac.login(req.header("authorization"), &req.remote) {
            Ok(Ok(Principal::Anonymous)) | Ok(Err(Denial::Unauthorized { .. })) => {
                return error(
                    401,
                    "UNAUTHORIZED",
                    "log in with a user's name and password",
                )
                .header("WWW-Authenticate", super::basic_challenge());
            }
            Ok(Err(Denial::TooMany(wait))) => {
                return error(429, "TOOMANYREQUESTS", "too many failed logins")
                    .header("Retry-After", wait.as_secs().to_string())
            }
            Ok(Ok(p)) => p,
            Err(e) => return from_error(&e),
        };
        let parts: Vec<&str> = rest.split('/').skip(1).collect();
        let result = self.api_route(rbac, req, &who, &parts);
        if !matches!(req.method.as_str(), "GET" | "HEAD") {
            rbac.invalidate();
        }
        result.unwrap_or_else(|e| from_error(&e))
    }

    fn api_route(
        &self,
        rbac: &Rbac,
        req: &mut Request<'_>,
        who: &Principal,
        parts: &[&str],
    ) -> Result<Response> {
        let admin = Admin {
            accounts: &*rbac.accounts,
            actor: who.subject(),
            remote: req.remote.clone(),
        };
        let method = req.method.clone();
        match (method.as_str(), parts) {
            ("GET", ["users"]) if who.is_admin() => Ok(ok(200, json!(rbac.accounts.users()?))),
            ("POST", ["users"]) if who.is_admin() => {
                let u: NewUser = body(req)?;
                admin.add_user(&u.name, &u.password, u.admin)?;
                Ok(ok(201, json!({ "name": u.name })))
            }
            ("PUT", ["users", user, "password"])
                if who.is_admin()
                    || matches!(who, Principal::User { name, .. } if name == user) =>
            {
                let p: Password = body(req)?;
                admin.set_password(user, &p.password)?;
                Ok(Response::empty(204))
            }
            ("PUT", ["users", user, "disabled"]) if who.is_admin() => {
                let d: Disabled = body(req)?;
                if d.disabled && who.subject() == *user {
                    return Ok(error(409, "CONFLICT", "you cannot disable yourself"));
                }
                admin.set_disabled(user, d.disabled)?;
                Ok(Response::empty(204))
            }
            ("GET", ["projects"]) => {
                let mut visible = Vec::new();
                for p in rbac.accounts.projects()? {
                    if let Some(view) = rbac.view(who, &p.name)? {
                        if model::listed(who, &p.name, view) {
                            visible.push(p);
                        }
                    }
                }
                Ok(ok(200, json!(visible)))
            }
            ("POST", ["projects"]) if who.is_admin() => {
                let p: NewProject = body(req)?;
                admin.create_project(&p.name, p.public)?;
                Ok(ok(201, json!({ "name": p.name })))
            }
            (_, ["projects", project, rest @ ..]) => {
                self.api_project(rbac, req, who, &admin, project, rest)
            }
            ("GET", ["audit"]) => {
                let pairs = parse_query(&req.query)?;
                let field = |k: &str| {
                    pairs
                        .iter()
                        .find(|(key, _)| key == k)
                        .map(|(_, v)| v.clone())
                };
                let query = AuditQuery {
                    project: field("project"),
                    since: field("since")
                        .map(|s| parse_number("since", &s))
                        .transpose()?,
                    limit: field("limit")
                        .map(|s| parse_number("limit", &s))
                        .transpose()?
                        .unwrap_or(1000) as usize,
                };
                let allowed = who.is_admin()
                    || query
                        .project
                        .as_deref()
                        .map(|p| rbac.view(who, p).map(|v| model::manages(who, v)))
                        .transpose()?
                        .unwrap_or(false);
                if !allowed {
                    return Ok(forbidden());
                }
                rbac.audit.flush();
                Ok(ok(200, json!(rbac.accounts.audit(&query)?)))
            }
            ("GET" | "POST", ["users"]) | ("PUT", ["users", _, "password" | "disabled"]) => {
                Ok(forbidden())
            }
            _ => Ok(error(404, "NOT_FOUND", "no such endpoint")),
        }
    }

    fn api_project(
        &self,
        rbac: &Rbac,
        req: &mut Request<'_>,
        who: &Principal,
        admin: &Admin<'_>,
        project: &str,
        rest: &[&str],
    ) -> Result<Response> {
        let view = rbac.view(who, project)?;
        // A project the caller cannot see does not exist for them.
        let Some(seen) =
            view.filter(|v| who.is_admin() || model::listed(who, project, *v) || v.role.is_some())
        else {
            return Ok(error(
                404,
                "NOT_FOUND",
                format!("project {project} not found"),
            ));
        };
        let manages = model::manages(who, Some(seen));
        let method = req.method.clone();
        match (method.as_str(), rest) {
            ("GET", []) => match rbac.accounts.project(project)? {
                Some(p) => Ok(ok(200, json!(p))),
                None => Ok(error(
                    404,
                    "NOT_FOUND",
                    format!("project {project} not found"),
                )),
            },
            ("DELETE", []) if who.is_admin() => {
                let repos = self.registry.count_under(project)?;
                admin.delete_project(project, repos)?;
                Ok(Response::empty(204))
            }
            ("GET", ["members"]) if manages => Ok(ok(200, json!(rbac.accounts.members(project)?))),
            ("PUT", ["members", user]) if manages => {
                let m: MemberRole = body(req)?;
                let role: Role = m.role.parse().map_err(Error::Invalid)?;
                admin.set_member(project, user, role)?;
                Ok(Response::empty(204))
            }
            ("DELETE", ["members", user]) if manages => {
                admin.remove_member(project, user)?;
                Ok(Response::empty(204))
            }
            ("GET", ["robots"]) if manages => {
                let robots: Vec<RobotInfo> = rbac
                    .accounts
                    .robots(project)?
                    .iter()
                    .map(RobotInfo::from)
                    .collect();
                Ok(ok(200, json!(robots)))
            }
            ("POST", ["robots"]) if manages => {
                let r: NewRobot = body(req)?;
                let perms = parse_perms(&r.permissions)?;
                let lifetime = match r.expires.as_deref() {
                    Some(l) => model::parse_lifetime(l).map_err(Error::Invalid)?,
                    None => None,
                };
                let created = admin.create_robot(project, &r.name, perms, lifetime)?;
                Ok(ok(201, json!(created)))
            }
            ("DELETE", ["robots", name]) if manages => {
                admin.revoke_robot(project, name)?;
                Ok(Response::empty(204))
            }
            ("DELETE", [])
            | ("GET", ["members" | "robots"])
            | ("PUT" | "DELETE", ["members", _])
            | ("POST", ["robots"])
            | ("DELETE", ["robots", _]) => Ok(forbidden()),
            _ => Ok(error(404, "NOT_FOUND", "no such endpoint")),
        }
    }
}

fn parse_number(what: &str, s: &str) -> Result<u64> {
    s.parse()
        .map_err(|_| Error::Invalid(format!("{what}: expected a number, got {s:?}")))
}

/// `["pull", "push"]` as permissions; anything else is refused.
pub fn parse_perms<S: AsRef<str>>(names: &[S]) -> Result<Perms> {
    let mut perms = Perms::NONE;
    for n in names {
        perms = perms.with(match n.as_ref() {
            "pull" => Perms::PULL,
            "push" => Perms::PUSH,
            other => {
                return Err(Error::Invalid(format!(
                    "unknown permission {other:?}: expected pull or push"
                )))
            }
        });
    }
    Ok(perms)
}
