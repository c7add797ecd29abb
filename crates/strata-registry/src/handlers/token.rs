//! `/token`: Docker's token endpoint (`GET` with Basic credentials, as
//! docker, podman and skopeo do) and its OAuth2 form (`POST` with
//! `grant_type=password`).

use strata_distribution::query::parse_query;
use strata_distribution::{ErrorCode, Scope};

use super::{read_small, App};
use crate::error::{Error, Result};
use crate::http::{Request, Response};
use crate::rbac::grant::Denial;
use crate::rbac::{Principal, Rbac};

/// Largest form body accepted.
const FORM_MAX: usize = 64 * 1024;

/// Scopes one token may be asked for at most.
const SCOPES_MAX: usize = 100;

/// The requested scopes, or the answer refusing them (checked before the
/// login, so a malformed request costs no bcrypt).
fn scopes(pairs: &[(String, String)]) -> std::result::Result<Vec<Scope>, Response> {
    let mut out = Vec::new();
    for (_, value) in pairs.iter().filter(|(k, _)| k == "scope") {
        let parsed = Scope::parse_list(value)
            .map_err(|e| oauth_error(400, "invalid_scope", &e.to_string()))?;
        out.extend(parsed);
    }
    if out.len() > SCOPES_MAX {
        return Err(oauth_error(
            400,
            "invalid_scope",
            &format!("at most {SCOPES_MAX} scopes per token"),
        ));
    }
    Ok(out)
}

fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    let body = serde_json::json!({ "error": error, "error_description": description });
    Response::json(status, body.to_string().into_bytes())
}

impl App {
    pub(super) fn token(&self, rbac: &Rbac, req: &mut Request<'_>) -> Result<Response> {
        let (who, pairs) = match req.method.as_str() {
            "GET" => {
                let pairs = parse_query(&req.query)?;
                if let Err(refused) = scopes(&pairs) {
                    return Ok(refused);
                }
                (rbac.login(req.header("authorization"), &req.remote)?, pairs)
            }
            "POST" => {
                let body = read_small(req, FORM_MAX)?;
                let text = String::from_utf8_lossy(&body).replace('+', "%20");
                let pairs = parse_query(&text)?;
                let field = |k: &str| {
                    pairs
                        .iter()
                        .find(|(key, _)| key == k)
                        .map(|(_, v)| v.as_str())
                };
                if field("grant_type") != Some("password") {
                    return Ok(oauth_error(
                        400,
                        "unsupported_grant_type",
                        "only grant_type=password is supported",
                    ));
                }
                if let Err(refused) = scopes(&pairs) {
                    return Ok(refused);
                }
                let (Some(user), Some(password)) = (field("username"), field("password")) else {
                    return Ok(oauth_error(
                        400,
                        "invalid_request",
                        "username and password are required",
                    ));
                };
                (rbac.login_with(user, password, &req.remote)?, pairs)
            }
            other => {
                return Err(Error::spec(
                    ErrorCode::Unsupported,
                    format!("{other} is not allowed on /token"),
                ))
            }
        };
        let who: Principal = match who {
            Ok(p) => p,
            Err(Denial::TooMany(wait)) => return Ok(super::access::too_many(wait)),
            Err(Denial::Unauthorized { message, .. }) => {
                let e = Error::spec(ErrorCode::Unauthorized, message);
                return Ok(super::error_response(&e));
            }
        };
        let scopes = match scopes(&pairs) {
            Ok(s) => s,
            Err(refused) => return Ok(refused),
        };
        let token = rbac.issue(&who, &scopes)?;
        let body = serde_json::to_vec(&token).map_err(|e| Error::Internal(e.to_string()))?;
        Ok(Response::json(200, body).header("Cache-Control", "no-store"))
    }
}
