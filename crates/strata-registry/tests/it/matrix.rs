//! Every principal × every operation × a public and a private project,
//! against a `--rbac` server, through the token flow as clients do it. The
//! expected answers are the table below; the test prints every wrong cell.
//!
//! Roles in `pub` (public) and `priv` (private): padmin admin, maint
//! maintainer, dev developer, guest guest, lguest limited-guest; outsider
//! none. Every user is a developer of `dest`, the target of mounts. Robots
//! belong to `priv`. `root` is the system admin.

use std::fmt::Write as _;

use strata_oci::{media_type, Descriptor, Digest, ImageManifest};
use strata_registry::rbac::sqlite::SqliteAccounts;
use strata_registry::rbac::token::Signer;
use strata_registry::rbac::{Accounts, Perms, Robot, Role};

use crate::tokens::{self, basic, call_as, fetch_token, Who, ADMIN};
use crate::{put_blob, send, Answer, TestServer};

/// Operations, in the table's column order.
const OPS: [&str; 11] = [
    "pull",
    "push",
    "del-manifest",
    "del-tag",
    "mount",
    "tags",
    "catalog",
    "referrers",
    "api-members",
    "api-robot",
    "api-user",
];

/// `(principal, project, answers)`. `list`/`hide`: whether the catalog
/// shows the project's repository.
const EXPECTED: &[(&str, &str, &str)] = &[
    (
        "anonymous",
        "pub",
        "200 401 401 401 401 200 list 200 401 401 401",
    ),
    (
        "anonymous",
        "priv",
        "401 401 401 401 401 401 hide 401 401 401 401",
    ),
    (
        "root",
        "pub",
        "200 201 202 202 201 200 list 200 200 201 201",
    ),
    (
        "root",
        "priv",
        "200 201 202 202 201 200 list 200 200 201 201",
    ),
    (
        "padmin",
        "pub",
        "200 201 202 202 201 200 list 200 200 201 403",
    ),
    (
        "padmin",
        "priv",
        "200 201 202 202 201 200 list 200 200 201 403",
    ),
    (
        "maint",
        "pub",
        "200 201 202 202 201 200 list 200 403 403 403",
    ),
    (
        "maint",
        "priv",
        "200 201 202 202 201 200 list 200 403 403 403",
    ),
    ("dev", "pub", "200 201 401 401 201 200 list 200 403 403 403"),
    (
        "dev",
        "priv",
        "200 201 401 401 201 200 list 200 403 403 403",
    ),
    (
        "guest",
        "pub",
        "200 401 401 401 201 200 list 200 403 403 403",
    ),
    (
        "guest",
        "priv",
        "200 401 401 401 201 200 list 200 403 403 403",
    ),
    (
        "lguest",
        "pub",
        "200 401 401 401 201 200 list 200 403 403 403",
    ),
    (
        "lguest",
        "priv",
        "200 401 401 401 201 200 hide 200 403 403 403",
    ),
    // Pushes to dest, but may not read priv: the mount becomes an upload (202).
    (
        "outsider",
        "pub",
        "200 401 401 401 201 200 list 200 403 403 403",
    ),
    (
        "outsider",
        "priv",
        "401 401 401 401 202 401 hide 401 404 404 403",
    ),
    (
        "disabled",
        "pub",
        "401 401 401 401 401 401 401 401 401 401 401",
    ),
    (
        "disabled",
        "priv",
        "401 401 401 401 401 401 401 401 401 401 401",
    ),
    // A developer whose token was issued before they were disabled.
    (
        "disabled-token",
        "pub",
        "401 401 401 401 401 401 401 401 401 401 401",
    ),
    (
        "disabled-token",
        "priv",
        "401 401 401 401 401 401 401 401 401 401 401",
    ),
    (
        "robot-pull",
        "pub",
        "200 401 401 401 401 200 list 200 403 403 403",
    ),
    (
        "robot-pull",
        "priv",
        "200 401 401 401 401 200 list 200 403 403 403",
    ),
    (
        "robot-push",
        "pub",
        "200 401 401 401 401 200 list 200 403 403 403",
    ),
    (
        "robot-push",
        "priv",
        "200 201 401 401 401 200 list 200 403 403 403",
    ),
    (
        "robot-expired",
        "pub",
        "401 401 401 401 401 401 401 401 401 401 401",
    ),
    (
        "robot-expired",
        "priv",
        "401 401 401 401 401 401 401 401 401 401 401",
    ),
    (
        "robot-revoked-token",
        "pub",
        "401 401 401 401 401 401 401 401 401 401 401",
    ),
    (
        "robot-revoked-token",
        "priv",
        "401 401 401 401 401 401 401 401 401 401 401",
    ),
    (
        "expired-token",
        "pub",
        "401 401 401 401 401 401 401 401 401 401 401",
    ),
    (
        "expired-token",
        "priv",
        "401 401 401 401 401 401 401 401 401 401 401",
    ),
];

const MEMBERS: [(&str, Role); 5] = [
    ("padmin", Role::Admin),
    ("maint", Role::Maintainer),
    ("dev", Role::Developer),
    ("guest", Role::Guest),
    ("lguest", Role::LimitedGuest),
];

fn password(user: &str) -> String {
    format!("{user}-password")
}

/// The accounts, projects and robots of the table; returns the robots' secrets.
fn populate(db: &SqliteAccounts) -> Vec<(String, String)> {
    let admin = tokens::admin(db);
    admin.create_project("pub", true).unwrap();
    admin.create_project("priv", false).unwrap();
    admin.create_project("dest", false).unwrap();
    let users = [
        "padmin", "maint", "dev", "guest", "lguest", "outsider", "disabled", "former",
    ];
    for user in users {
        admin.add_user(user, &password(user), false).unwrap();
        admin.set_member("dest", user, Role::Developer).unwrap();
    }
    for project in ["pub", "priv"] {
        for (user, role) in MEMBERS {
            admin.set_member(project, user, role).unwrap();
        }
        admin
            .set_member(project, "former", Role::Developer)
            .unwrap();
    }
    admin.set_disabled("disabled", true).unwrap();
    let pull_push = Perms::PULL.with(Perms::PUSH);
    let mut secrets = Vec::new();
    for (name, perms) in [
        ("puller", Perms::PULL),
        ("pusher", pull_push),
        ("revoked", pull_push),
    ] {
        let r = admin.create_robot("priv", name, perms, None).unwrap();
        secrets.push((r.login, r.secret));
    }
    // Expired an hour ago.
    let expired = Robot {
        project: "priv".into(),
        name: "expired".into(),
        perms: pull_push,
        expires: Some(1),
        created: 0,
        stamp: 0,
    };
    db.add_robot(&expired, &bcrypt::hash("expired-secret", 4).unwrap())
        .unwrap();
    secrets.push(("robot$priv+expired".into(), "expired-secret".into()));
    secrets
}

/// A token for every repository of the table and the catalog, as `who`.
fn broad_token(s: &TestServer, who: &Who) -> String {
    let c = format!(
        "Bearer realm=\"{}/token\",service=\"strata-registry\",scope=\"{}\"",
        s.base,
        "repository:pub/app:pull,push,delete repository:priv/app:pull,push,delete \
         repository:dest/app:pull,push registry:catalog:*"
    )
    .parse()
    .unwrap();
    fetch_token(s, who, &c).unwrap()
}

/// An image with a config unique to `seed`, pushed by root under `tag`.
fn push_unique(s: &TestServer, project: &str, tag: &str, seed: &str) -> Digest {
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","seed":"{seed}","rootfs":{{"type":"layers","diff_ids":[]}}}}"#
    );
    let repo = format!("{project}/app");
    let cd = put_blob(s, &repo, config.as_bytes());
    let m = ImageManifest::new_oci(
        Descriptor::new(media_type::OCI_CONFIG, cd, config.len() as u64),
        vec![],
    );
    let a = crate::call(
        s,
        "PUT",
        &format!("/v2/{repo}/manifests/{tag}"),
        &[("Content-Type", media_type::OCI_MANIFEST)],
        &m.to_bytes(),
    );
    assert_eq!(a.status, 201);
    Digest::sha256_of(&m.to_bytes())
}

struct Fixture {
    server: TestServer,
    manifest: Vec<u8>,
    digest: Digest,
    layer: Digest,
}

/// Runs one cell: `who` does `op` on project `p`; `id` makes names unique.
fn cell(f: &Fixture, who: &Who, api_auth: Option<&str>, op: &str, p: &str, id: &str) -> String {
    let s = &f.server;
    let status = |a: Answer| a.status.to_string();
    let api = |method: &str, path: &str, body: &str| {
        let headers: Vec<(&str, &str)> = api_auth.iter().map(|a| ("Authorization", *a)).collect();
        status(send(s, method, path, &headers, body.as_bytes()))
    };
    let repo = format!("{p}/app");
    match op {
        "pull" => status(call_as(
            s,
            who,
            "GET",
            &format!("/v2/{repo}/manifests/v1"),
            &[],
            b"",
        )),
        "push" => {
            let a = call_as(
                s,
                who,
                "POST",
                &format!("/v2/{repo}/blobs/uploads/"),
                &[],
                b"",
            );
            if a.status != 202 {
                return status(a);
            }
            let headers = [("Content-Type", media_type::OCI_MANIFEST)];
            let path = format!("/v2/{repo}/manifests/pushed-{id}");
            status(call_as(s, who, "PUT", &path, &headers, &f.manifest))
        }
        "del-manifest" => {
            let d = push_unique(s, p, &format!("dm-{id}"), id);
            status(call_as(
                s,
                who,
                "DELETE",
                &format!("/v2/{repo}/manifests/{d}"),
                &[],
                b"",
            ))
        }
        "del-tag" => {
            let tag = format!("dt-{id}");
            let headers = [("Content-Type", media_type::OCI_MANIFEST)];
            let put = crate::call(
                s,
                "PUT",
                &format!("/v2/{repo}/manifests/{tag}"),
                &headers,
                &f.manifest,
            );
            assert_eq!(put.status, 201);
            status(call_as(
                s,
                who,
                "DELETE",
                &format!("/v2/{repo}/manifests/{tag}"),
                &[],
                b"",
            ))
        }
        "mount" => {
            let path = format!("/v2/dest/app/blobs/uploads/?mount={}&from={repo}", f.layer);
            status(call_as(s, who, "POST", &path, &[], b""))
        }
        "tags" => status(call_as(
            s,
            who,
            "GET",
            &format!("/v2/{repo}/tags/list"),
            &[],
            b"",
        )),
        "catalog" => {
            let a = call_as(s, who, "GET", "/v2/_catalog?n=1000", &[], b"");
            if a.status != 200 {
                return status(a);
            }
            let listed = a.json()["repositories"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r == repo.as_str());
            if listed { "list" } else { "hide" }.to_owned()
        }
        "referrers" => status(call_as(
            s,
            who,
            "GET",
            &format!("/v2/{repo}/referrers/{}", f.digest),
            &[],
            b"",
        )),
        "api-members" => api("GET", &format!("/api/v1/projects/{p}/members"), ""),
        "api-robot" => api(
            "POST",
            &format!("/api/v1/projects/{p}/robots"),
            &format!(r#"{{"name":"r{id}","permissions":["pull"]}}"#),
        ),
        "api-user" => api(
            "POST",
            "/api/v1/users",
            &format!(r#"{{"name":"u{id}","password":"a-long-password"}}"#),
        ),
        other => panic!("unknown op {other}"),
    }
}

#[test]
fn every_role_and_operation_gets_the_expected_answer() {
    // The failing logins of the table must not lock out the others.
    let server = TestServer::with(|c| {
        tokens::enable_rbac(c);
        c.rbac.as_mut().unwrap().login_failures = Some(10_000);
    });
    let db = SqliteAccounts::open(&server.dir.join("storage/rbac/accounts.db")).unwrap();
    let secrets = populate(&db);
    let secret = |login: &str| secrets.iter().find(|(l, _)| l == login).unwrap().1.clone();
    let (manifest, digest) = crate::put_image(&server, "pub/app", "v1", &[b"shared layer"]);
    crate::put_image(&server, "priv/app", "v1", &[b"shared layer"]);
    let layer = Digest::sha256_of(b"shared layer");

    // Tokens issued before the account was disabled or the robot revoked.
    let former = broad_token(&server, &Who::Basic("former".into(), password("former")));
    let revoked = broad_token(
        &server,
        &Who::Basic("robot$priv+revoked".into(), secret("robot$priv+revoked")),
    );
    let root_auth = basic(ADMIN.0, ADMIN.1);
    let a = send(
        &server,
        "PUT",
        "/api/v1/users/former/disabled",
        &[("Authorization", &root_auth)],
        br#"{"disabled":true}"#,
    );
    assert_eq!(a.status, 204);
    let a = send(
        &server,
        "DELETE",
        "/api/v1/projects/priv/robots/revoked",
        &[("Authorization", &root_auth)],
        b"",
    );
    assert_eq!(a.status, 204);
    // A token past its expiry, signed with the server's own key.
    let signer = Signer::load_or_create(&server.dir.join("storage/rbac/token.key")).unwrap();
    let mut claims = signer
        .verify(&broad_token(
            &server,
            &Who::Basic(ADMIN.0.into(), ADMIN.1.into()),
        ))
        .unwrap();
    claims.exp = claims.iat - 1;
    claims.nbf = claims.iat - 100;
    let expired = signer.sign(&claims).unwrap();

    let user = |u: &str| Who::Basic(u.into(), password(u));
    let principals: Vec<(&str, Who)> = vec![
        ("anonymous", Who::Anonymous),
        ("root", Who::Basic(ADMIN.0.into(), ADMIN.1.into())),
        ("padmin", user("padmin")),
        ("maint", user("maint")),
        ("dev", user("dev")),
        ("guest", user("guest")),
        ("lguest", user("lguest")),
        ("outsider", user("outsider")),
        ("disabled", user("disabled")),
        ("disabled-token", Who::Token(former)),
        (
            "robot-pull",
            Who::Basic("robot$priv+puller".into(), secret("robot$priv+puller")),
        ),
        (
            "robot-push",
            Who::Basic("robot$priv+pusher".into(), secret("robot$priv+pusher")),
        ),
        (
            "robot-expired",
            Who::Basic("robot$priv+expired".into(), "expired-secret".into()),
        ),
        ("robot-revoked-token", Who::Token(revoked)),
        ("expired-token", Who::Token(expired)),
    ];
    let fixture = Fixture {
        server,
        manifest,
        digest,
        layer,
    };
    let mut wrong = String::new();
    let mut cells = 0;
    for (name, project, expected) in EXPECTED {
        let who = &principals.iter().find(|(n, _)| n == name).unwrap().1;
        let api_auth = match who {
            Who::Basic(u, p) => Some(basic(u, p)),
            _ => None,
        };
        let expected: Vec<&str> = expected.split_whitespace().collect();
        assert_eq!(expected.len(), OPS.len(), "{name} {project}");
        for (i, (op, want)) in OPS.iter().zip(expected).enumerate() {
            let id = format!("{}{project}{i}", name.replace('-', ""));
            let got = cell(&fixture, who, api_auth.as_deref(), op, project, &id);
            cells += 1;
            if got != want {
                writeln!(
                    wrong,
                    "{name:>20} {project:>4} {op:<13} expected {want}, got {got}"
                )
                .unwrap();
            }
        }
    }
    assert_eq!(cells, EXPECTED.len() * OPS.len());
    assert!(wrong.is_empty(), "wrong cells:\n{wrong}");
    // Refused pushes left no tag; allowed ones did.
    let tags = crate::call(&fixture.server, "GET", "/v2/priv/app/tags/list", &[], b"").json();
    let mut pushed: Vec<&str> = tags["tags"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t.as_str()?.strip_prefix("pushed-"))
        .collect();
    pushed.sort_unstable();
    assert_eq!(
        pushed,
        [
            "devpriv1",
            "maintpriv1",
            "padminpriv1",
            "robotpushpriv1",
            "rootpriv1"
        ]
    );
}
