//! A client for `--rbac` servers that does what Docker does: a request,
//! its `Bearer` challenge, a token from the realm with Basic credentials,
//! the request again. Also runs the workflow tests with access control on.

use std::cell::Cell;

use base64::Engine;
use strata_distribution::query::format_query;
use strata_distribution::Challenge;
use strata_registry::config::{Config, RbacConfig};
use strata_registry::rbac::admin::Admin;
use strata_registry::rbac::sqlite::SqliteAccounts;

use crate::{send, Answer, TestServer};

/// The system admin every `--rbac` test server starts with.
pub const ADMIN: (&str, &str) = ("root", "root-password");

thread_local! {
    static UNDER_RBAC: Cell<bool> = const { Cell::new(false) };
}

/// Whether servers started on this thread get `--rbac`.
pub fn workflows_under_rbac() -> bool {
    UNDER_RBAC.with(Cell::get)
}

/// Runs `f` with every server it starts under `--rbac`, its requests made
/// as the system admin through the token flow.
pub fn under_rbac(f: impl FnOnce()) {
    UNDER_RBAC.with(|c| c.set(true));
    f();
    UNDER_RBAC.with(|c| c.set(false));
}

pub fn enable_rbac(config: &mut Config) {
    config.rbac = Some(RbacConfig {
        enabled: Some(true),
        ..RbacConfig::default()
    });
}

/// Admin operations on `db`, audited as `test`.
pub fn admin(db: &SqliteAccounts) -> Admin<'_> {
    Admin {
        accounts: db,
        actor: "test".into(),
        remote: String::new(),
    }
}

/// Adds the system admin (once per storage).
pub fn bootstrap_admin(config: &Config) {
    let db = SqliteAccounts::open(&config.rbac_database()).unwrap();
    match admin(&db).add_user(ADMIN.0, ADMIN.1, true) {
        Ok(()) | Err(strata_registry::Error::Conflict(_)) => {}
        Err(e) => panic!("{e}"),
    }
}

/// Who makes a request.
#[derive(Debug, Clone)]
pub enum Who {
    /// No credentials: an anonymous token.
    Anonymous,
    /// A login name and password (or robot secret).
    Basic(String, String),
    /// A token obtained before, used as it is.
    Token(String),
}

pub fn basic(user: &str, password: &str) -> String {
    let raw = format!("{user}:{password}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// A token for the challenge's scopes, or the token endpoint's refusal.
pub fn fetch_token(
    server: &TestServer,
    who: &Who,
    challenge: &Challenge,
) -> Result<String, Answer> {
    let realm = challenge.realm().expect("realm").to_owned();
    let mut pairs = vec![(
        "service".to_owned(),
        challenge.service().unwrap_or("").to_owned(),
    )];
    for scope in challenge.scopes().unwrap() {
        pairs.push(("scope".to_owned(), scope.to_string()));
    }
    let url = format!("{realm}?{}", format_query(&pairs));
    let auth = match who {
        Who::Basic(u, p) => Some(basic(u, p)),
        _ => None,
    };
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    let a = send(server, "GET", &url, &headers, b"");
    if a.status != 200 {
        return Err(a);
    }
    Ok(a.json()["token"].as_str().expect("token").to_owned())
}

/// The Bearer challenge of a 401.
pub fn challenge(a: &Answer) -> Option<Challenge> {
    let header = a.header("www-authenticate")?;
    header
        .starts_with("Bearer")
        .then(|| header.parse().unwrap())
}

/// Sends a request as `who`, through the token flow.
pub fn call_as(
    server: &TestServer,
    who: &Who,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let with_token = |token: &str| {
        let bearer = format!("Bearer {token}");
        let mut h = headers.to_vec();
        h.push(("Authorization", bearer.as_str()));
        send(server, method, target, &h, body)
    };
    if let Who::Token(t) = who {
        return with_token(t);
    }
    let first = send(server, method, target, headers, body);
    let Some(c) = challenge(&first).filter(|_| first.status == 401) else {
        return first;
    };
    match fetch_token(server, who, &c) {
        Ok(token) => with_token(&token),
        Err(refused) => refused,
    }
}

/// The workflow tests' requests under `--rbac`: as the system admin, with
/// the projects their repositories need created through the admin API.
pub fn call_as_admin(
    server: &TestServer,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let who = Who::Basic(ADMIN.0.into(), ADMIN.1.into());
    let a = call_as(server, &who, method, target, headers, body);
    let Some(c) = challenge(&a).filter(|_| a.status == 401) else {
        return a;
    };
    for scope in c.scopes().unwrap() {
        if scope.resource_type == "repository" {
            let project = scope.name.split('/').next().unwrap();
            let body = format!(r#"{{"name":"{project}"}}"#);
            let created = send(
                server,
                "POST",
                "/api/v1/projects",
                &[("Authorization", &basic(ADMIN.0, ADMIN.1))],
                body.as_bytes(),
            );
            assert!(matches!(created.status, 201 | 409), "{}", created.status);
        }
    }
    call_as(server, &who, method, target, headers, body)
}
