//! `--rbac`: the spec's workflows through the token flow, tokens bound to
//! scope, key and expiry, rate-limited logins, the audit log and accounts
//! changed from another process. Every role × operation is in `matrix.rs`.

use strata_registry::rbac::sqlite::SqliteAccounts;
use strata_registry::rbac::{Accounts, Role};

use crate::tokens::{self, basic, call_as, challenge, fetch_token, Who, ADMIN};
use crate::{discovery, management, pull, push, send, TestServer};

#[test]
fn the_spec_workflows_pass_with_tokens() {
    tokens::under_rbac(|| {
        pull::manifests_and_blobs_come_back_as_pushed();
        pull::unknown_things_get_spec_errors();
        push::monolithic_post_with_digest();
        push::chunked_uploads_in_order_and_their_status();
        push::mounts_link_blobs_from_another_repository();
        push::manifests_are_validated();
        discovery::tags_and_catalog_page_with_links();
        discovery::referrers_list_subject_manifests_and_filter();
        management::tags_manifests_and_blobs_can_be_deleted();
        management::deletes_can_be_disabled();
    });
}

/// The status of a bodiless request as `who`.
fn status_as(s: &TestServer, who: &Who, method: &str, path: &str) -> u16 {
    call_as(s, who, method, path, &[], b"").status
}

fn rbac_server() -> TestServer {
    TestServer::with(tokens::enable_rbac)
}

fn accounts_of(s: &TestServer) -> SqliteAccounts {
    SqliteAccounts::open(&s.dir.join("storage/rbac/accounts.db")).unwrap()
}

fn api(s: &TestServer, method: &str, path: &str, body: &str) -> crate::Answer {
    let auth = basic(ADMIN.0, ADMIN.1);
    send(
        s,
        method,
        path,
        &[("Authorization", &auth)],
        body.as_bytes(),
    )
}

#[test]
fn challenges_name_realm_service_and_scope() {
    let s = rbac_server();
    let a = send(&s, "GET", "/v2/", &[], b"");
    assert_eq!(a.status, 401);
    assert_eq!(
        a.header("www-authenticate"),
        Some(
            format!(
                "Bearer realm=\"{}/token\",service=\"strata-registry\"",
                s.base
            )
            .as_str()
        )
    );
    let a = send(&s, "HEAD", "/v2/team/app/manifests/v1", &[], b"");
    let c = challenge(&a).unwrap();
    assert_eq!(c.param("scope"), Some("repository:team/app:pull"));
    let a = send(&s, "POST", "/v2/team/app/blobs/uploads/", &[], b"");
    assert_eq!(
        challenge(&a).unwrap().param("scope"),
        Some("repository:team/app:pull,push")
    );
    // An anonymous token opens /v2/ (as docker pull expects) and nothing else.
    let anon = call_as(&s, &Who::Anonymous, "GET", "/v2/", &[], b"");
    assert_eq!(anon.status, 200);
    // A junk or foreign token is invalid.
    let a = send(
        &s,
        "GET",
        "/v2/",
        &[("Authorization", "Bearer abc.def.ghi")],
        b"",
    );
    assert_eq!(a.status, 401);
    assert!(a
        .header("www-authenticate")
        .unwrap()
        .contains("error=\"invalid_token\""));
}

#[test]
fn tokens_are_bound_to_their_scope_service_and_key() {
    let s = rbac_server();
    assert_eq!(
        api(&s, "POST", "/api/v1/projects", r#"{"name":"team"}"#).status,
        201
    );
    crate::put_image(&s, "team/app", "v1", &[b"layer"]);
    crate::put_image(&s, "team/other", "v1", &[b"layer"]);
    let put = call_as(
        &s,
        &Who::Basic(ADMIN.0.into(), ADMIN.1.into()),
        "POST",
        "/v2/team/app/blobs/uploads/",
        &[],
        b"",
    );
    assert_eq!(put.status, 202);
    // A token for team/app:pull does not open team/other, nor push.
    let c: strata_distribution::Challenge =
        "Bearer realm=\"REALM\",service=\"strata-registry\",scope=\"repository:team/app:pull\""
            .replace("REALM", &format!("{}/token", s.base))
            .parse()
            .unwrap();
    let token = fetch_token(&s, &Who::Basic(ADMIN.0.into(), ADMIN.1.into()), &c).unwrap();
    let who = Who::Token(token.clone());
    assert_eq!(status_as(&s, &who, "GET", "/v2/team/app/tags/list"), 200);
    assert_eq!(status_as(&s, &who, "GET", "/v2/team/other/tags/list"), 401);
    let a = call_as(&s, &who, "POST", "/v2/team/app/blobs/uploads/", &[], b"");
    assert_eq!(a.status, 401);
    assert!(a
        .header("www-authenticate")
        .unwrap()
        .contains("insufficient_scope"));
    // The same claims signed by another key, or re-signed with alg none.
    let dir = strata_testkit::TempDir::new("foreign-key");
    let foreign = strata_registry::rbac::token::Signer::load_or_create(&dir.join("k")).unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: strata_registry::rbac::token::Claims = {
        use base64::Engine;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1])
            .unwrap();
        serde_json::from_slice(&raw).unwrap()
    };
    let forged = foreign.sign(&claims).unwrap();
    assert_eq!(
        status_as(&s, &Who::Token(forged), "GET", "/v2/team/app/tags/list"),
        401
    );
    // Signed by the server's own key but for another audience.
    let own =
        strata_registry::rbac::token::Signer::load_or_create(&s.dir.join("storage/rbac/token.key"))
            .unwrap();
    claims.aud = "another-registry".into();
    let other_service = own.sign(&claims).unwrap();
    assert_eq!(
        status_as(
            &s,
            &Who::Token(other_service),
            "GET",
            "/v2/team/app/tags/list"
        ),
        401
    );
}

#[test]
fn failed_logins_are_rate_limited() {
    let s = rbac_server();
    let db = accounts_of(&s);
    let admin = tokens::admin(&db);
    admin.add_user("alice", "alice-password", false).unwrap();
    let token = |password: &str| {
        send(
            &s,
            "GET",
            "/token?service=strata-registry",
            &[("Authorization", &basic("alice", password))],
            b"",
        )
    };
    // A right login first: the server remembers these credentials as verified.
    assert_eq!(token("alice-password").status, 200);
    for _ in 0..strata_registry::rbac::limiter::PER_ACCOUNT {
        assert_eq!(token("wrong").status, 401);
    }
    // Now even the right (and remembered) password is refused for a while,
    // or guesses could go on against the remembered one.
    let a = token("alice-password");
    assert_eq!(a.status, 429);
    assert!(a.header("retry-after").unwrap().parse::<u64>().unwrap() > 0);
    // Another account from the same address is not locked yet.
    assert_eq!(api(&s, "GET", "/api/v1/users", "").status, 200);
    // Failures are audited.
    let log = api(&s, "GET", "/api/v1/audit?limit=100", "").json();
    let failed = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "login.failed")
        .count();
    assert_eq!(failed, strata_registry::rbac::limiter::PER_ACCOUNT);
}

#[test]
fn changes_from_another_process_apply_to_live_tokens() {
    let s = rbac_server();
    let db = accounts_of(&s);
    let admin = tokens::admin(&db);
    admin.add_user("bob", "bob-password", false).unwrap();
    admin.create_project("team", false).unwrap();
    admin.set_member("team", "bob", Role::Developer).unwrap();
    let bob = Who::Basic("bob".into(), "bob-password".into());
    let a = call_as(&s, &bob, "POST", "/v2/team/app/blobs/uploads/", &[], b"");
    assert_eq!(a.status, 202);
    let c = challenge(&send(&s, "POST", "/v2/team/app/blobs/uploads/", &[], b"")).unwrap();
    let token = Who::Token(fetch_token(&s, &bob, &c).unwrap());
    assert_eq!(
        status_as(&s, &token, "POST", "/v2/team/app/blobs/uploads/"),
        202
    );
    // Demoted to guest: the token's push no longer works (after the cache's
    // revision check, a tenth of a second).
    db.set_member("team", "bob", Role::Guest).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(250));
    assert_eq!(
        status_as(&s, &token, "POST", "/v2/team/app/blobs/uploads/"),
        401
    );
    assert_eq!(status_as(&s, &token, "GET", "/v2/team/app/tags/list"), 404);
    // Disabled: nothing works, not even the pull the token grants.
    db.set_disabled("bob", true).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(250));
    assert_eq!(status_as(&s, &token, "GET", "/v2/team/app/tags/list"), 401);
    assert_eq!(status_as(&s, &bob, "GET", "/v2/team/app/tags/list"), 401);
}

#[test]
fn pulls_pushes_and_deletes_are_audited() {
    let s = rbac_server();
    crate::put_image(&s, "team/app", "v1", &[b"layer"]);
    let who = Who::Basic(ADMIN.0.into(), ADMIN.1.into());
    assert_eq!(status_as(&s, &who, "GET", "/v2/team/app/manifests/v1"), 200);
    assert_eq!(
        status_as(&s, &who, "DELETE", "/v2/team/app/manifests/v1"),
        202
    );
    let log = api(&s, "GET", "/api/v1/audit?project=team", "").json();
    let seen: Vec<(String, String, String)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let f = |k: &str| e[k].as_str().unwrap().to_owned();
            (
                f("actor"),
                f("action"),
                format!("{} {}", f("target"), f("detail")),
            )
        })
        .collect();
    let row = |action: &str, what: &str| (ADMIN.0.to_owned(), action.to_owned(), what.to_owned());
    assert_eq!(
        seen,
        vec![
            row("project.create", "team private"),
            row("push", "team/app v1"),
            row("pull", "team/app v1"),
            row("delete", "team/app v1"),
        ]
    );
    // Stored passwords are bcrypt hashes, never the password.
    let db = accounts_of(&s);
    let (_, hash) = db.user(ADMIN.0).unwrap().unwrap();
    assert!(hash.starts_with("$2") && !hash.contains(ADMIN.1));
}

#[test]
fn the_admin_api_manages_accounts_and_is_described() {
    let s = rbac_server();
    let spec = send(&s, "GET", "/api/v1/openapi.yaml", &[], b"");
    let spec = String::from_utf8(spec.body).unwrap();
    for path in [
        "/users:",
        "/users/{user}/password:",
        "/users/{user}/disabled:",
        "/projects:",
        "/projects/{project}:",
        "/projects/{project}/members:",
        "/projects/{project}/members/{user}:",
        "/projects/{project}/robots:",
        "/projects/{project}/robots/{robot}:",
        "/audit:",
    ] {
        assert!(spec.contains(&format!("\n  {path}")), "{path} undocumented");
    }
    let new_user = r#"{"name":"carol","password":"carol-password"}"#;
    assert_eq!(api(&s, "POST", "/api/v1/users", new_user).status, 201);
    assert_eq!(api(&s, "POST", "/api/v1/users", new_user).status, 409);
    let a = api(
        &s,
        "POST",
        "/api/v1/users",
        r#"{"name":"dave","password":"x"}"#,
    );
    assert_eq!((a.status, a.code()), (400, "INVALID".to_owned()));
    let a = api(
        &s,
        "POST",
        "/api/v1/users",
        r#"{"name":"eve","pasword":"x"}"#,
    );
    assert_eq!(a.status, 400, "unknown fields are refused");
    assert_eq!(
        api(
            &s,
            "POST",
            "/api/v1/projects",
            r#"{"name":"team","public":true}"#
        )
        .status,
        201
    );
    assert_eq!(
        api(
            &s,
            "PUT",
            "/api/v1/projects/team/members/carol",
            r#"{"role":"admin"}"#
        )
        .status,
        204
    );
    assert_eq!(
        api(
            &s,
            "PUT",
            "/api/v1/projects/team/members/carol",
            r#"{"role":"owner"}"#
        )
        .status,
        400
    );
    // carol, project admin, makes a robot and changes her own password.
    let carol = basic("carol", "carol-password");
    let as_carol = |method: &str, path: &str, body: &str| {
        send(
            &s,
            method,
            path,
            &[("Authorization", &carol)],
            body.as_bytes(),
        )
    };
    let robot = as_carol(
        "POST",
        "/api/v1/projects/team/robots",
        r#"{"name":"ci","permissions":["pull","push"],"expires":"30d"}"#,
    );
    assert_eq!(robot.status, 201);
    let robot = robot.json();
    assert_eq!(robot["login"], "robot$team+ci");
    let secret = robot["secret"].as_str().unwrap().to_owned();
    let listed = as_carol("GET", "/api/v1/projects/team/robots", "");
    assert_eq!(listed.status, 200);
    assert!(
        !String::from_utf8_lossy(&listed.body).contains(&secret),
        "secrets are shown once"
    );
    assert_eq!(
        listed.json()[0]["permissions"],
        serde_json::json!(["pull", "push"])
    );
    // The robot logs in to the registry with its secret.
    let who = Who::Basic("robot$team+ci".into(), secret);
    assert_eq!(
        status_as(&s, &who, "POST", "/v2/team/app/blobs/uploads/"),
        202
    );
    assert_eq!(as_carol("POST", "/api/v1/users", new_user).status, 403);
    assert_eq!(
        as_carol(
            "PUT",
            "/api/v1/users/carol/password",
            r#"{"password":"new-password"}"#
        )
        .status,
        204
    );
    assert_eq!(
        as_carol("GET", "/api/v1/users", "").status,
        401,
        "the old password is gone"
    );
    // Project admins read their project's audit log, not the whole log.
    let carol = basic("carol", "new-password");
    let audit = send(
        &s,
        "GET",
        "/api/v1/audit?project=team",
        &[("Authorization", &carol)],
        b"",
    );
    assert_eq!(audit.status, 200);
    let actions: Vec<String> = audit
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["project.create", "member.add", "robot.create"]);
    let all = send(
        &s,
        "GET",
        "/api/v1/audit",
        &[("Authorization", &carol)],
        b"",
    );
    assert_eq!(all.status, 403);
    // A project with repositories cannot be deleted.
    crate::put_image(&s, "team/app", "v1", &[b"layer"]);
    assert_eq!(api(&s, "DELETE", "/api/v1/projects/team", "").status, 409);
    assert_eq!(
        api(
            &s,
            "PUT",
            "/api/v1/users/root/disabled",
            r#"{"disabled":true}"#
        )
        .status,
        409
    );
    assert_eq!(api(&s, "GET", "/api/v1/nothing", "").status, 404);
}

#[test]
fn old_tokens_die_with_a_new_password_or_a_remade_robot() {
    let s = rbac_server();
    assert_eq!(
        api(&s, "POST", "/api/v1/projects", r#"{"name":"team"}"#).status,
        201
    );
    crate::put_image(&s, "team/app", "v1", &[b"layer"]);
    let db = accounts_of(&s);
    let admin = tokens::admin(&db);
    admin.add_user("dan", "dan-password", false).unwrap();
    admin.set_member("team", "dan", Role::Guest).unwrap();
    let robot = admin
        .create_robot("team", "ci", strata_registry::rbac::Perms::PULL, None)
        .unwrap();
    let c: strata_distribution::Challenge = format!(
        "Bearer realm=\"{}/token\",service=\"strata-registry\",scope=\"repository:team/app:pull\"",
        s.base
    )
    .parse()
    .unwrap();
    let dan = Who::Basic("dan".into(), "dan-password".into());
    let dan_token = Who::Token(fetch_token(&s, &dan, &c).unwrap());
    let robot_token =
        Who::Token(fetch_token(&s, &Who::Basic(robot.login.clone(), robot.secret), &c).unwrap());
    let tags = "/v2/team/app/tags/list";
    assert_eq!(status_as(&s, &dan_token, "GET", tags), 200);
    assert_eq!(status_as(&s, &robot_token, "GET", tags), 200);
    // The same second, even: what counts is the account's stamp.
    admin.set_password("dan", "dan-password-2").unwrap();
    admin.revoke_robot("team", "ci").unwrap();
    let again = admin
        .create_robot("team", "ci", strata_registry::rbac::Perms::PULL, None)
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(250));
    assert_eq!(status_as(&s, &dan_token, "GET", tags), 401);
    assert_eq!(status_as(&s, &robot_token, "GET", tags), 401);
    let new_robot = Who::Basic(again.login, again.secret);
    assert_eq!(status_as(&s, &new_robot, "GET", tags), 200);
    let dan = Who::Basic("dan".into(), "dan-password-2".into());
    assert_eq!(status_as(&s, &dan, "GET", tags), 200);
}

#[test]
fn parallel_guesses_cannot_outrun_the_login_limit() {
    let s = rbac_server();
    let db = accounts_of(&s);
    tokens::admin(&db)
        .add_user("erin", "erin-password", false)
        .unwrap();
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..40)
            .map(|i| {
                let s = &s;
                scope.spawn(move || {
                    let auth = basic("erin", &format!("guess-{i}"));
                    send(
                        s,
                        "GET",
                        "/token?service=strata-registry",
                        &[("Authorization", &auth)],
                        b"",
                    )
                    .status
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert_eq!(
        checked,
        strata_registry::rbac::limiter::PER_ACCOUNT,
        "{statuses:?}"
    );
    assert!(statuses.iter().all(|s| matches!(s, 401 | 429)));
    // Right logins in parallel (CI jobs sharing a robot) all pass: they
    // wait for the first check, then find it verified.
    tokens::admin(&db)
        .add_user("frank", "frank-password", false)
        .unwrap();
    let auth = basic("frank", "frank-password");
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..20)
            .map(|_| {
                let (s, auth) = (&s, &auth);
                scope.spawn(move || {
                    let headers = [("Authorization", auth.as_str())];
                    send(s, "GET", "/token?service=strata-registry", &headers, b"").status
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), 200);
        }
    });
    // Names no account can have are refused without a trace of them.
    let long = "x".repeat(5000);
    let a = send(
        &s,
        "GET",
        "/token",
        &[("Authorization", &basic(&long, "p"))],
        b"",
    );
    assert!(matches!(a.status, 401 | 429));
    let log = api(&s, "GET", "/api/v1/audit", "");
    assert!(!String::from_utf8_lossy(&log.body).contains(&long));
    // Malformed or too many scopes: 400, before any password check.
    let a = send(&s, "GET", "/token?scope=repository:a", &[], b"");
    assert_eq!(a.status, 400);
    let many: String = (0..101)
        .map(|i| format!("&scope=repository:p/r{i}:pull"))
        .collect();
    let a = send(
        &s,
        "GET",
        &format!("/token?service=strata-registry{many}"),
        &[],
        b"",
    );
    assert_eq!(a.status, 400);
}

#[test]
fn a_project_with_any_repository_is_not_deleted() {
    let s = rbac_server();
    // A repository named as the project itself, and one with only a blob.
    crate::put_image(&s, "solo", "v1", &[b"layer"]);
    crate::put_blob(&s, "blobonly/x", b"secret");
    assert_eq!(api(&s, "DELETE", "/api/v1/projects/solo", "").status, 409);
    assert_eq!(
        api(&s, "DELETE", "/api/v1/projects/blobonly", "").status,
        409
    );
    assert_eq!(
        api(&s, "POST", "/api/v1/projects", r#"{"name":"empty"}"#).status,
        201
    );
    assert_eq!(api(&s, "DELETE", "/api/v1/projects/empty", "").status, 204);
}
