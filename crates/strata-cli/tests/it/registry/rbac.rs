//! `strata registry serve --rbac` with accounts made by the admin commands,
//! driven by strata, skopeo, dockerd and podman through Docker's token flow,
//! with users and robot accounts.

use std::process::{Command, Output};

use strata_testkit::{require_peer, run_with_stdin, TempDir};

use super::auth::login;
use super::busybox_as;
use super::server::Served;
use crate::common::{bin, Strata};

/// `strata registry ARGS --storage DIR/storage`, with `stdin` fed in.
fn registry(dir: &TempDir, args: &[&str], stdin: &str) -> Output {
    let mut cmd = Command::new(bin());
    cmd.arg("registry")
        .args(args)
        .arg("--storage")
        .arg(dir.join("storage"))
        .env("USER", "tester");
    run_with_stdin(&mut cmd, stdin.as_bytes())
}

fn registry_ok(dir: &TempDir, args: &[&str], stdin: &str) -> String {
    let out = registry(dir, args, stdin);
    assert!(
        out.status.success(),
        "registry {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn registry_fails(dir: &TempDir, args: &[&str]) -> String {
    let out = registry(dir, args, "");
    assert!(!out.status.success(), "registry {args:?} succeeded");
    String::from_utf8(out.stderr).unwrap()
}

/// Users, the private project `team` and a robot; returns the robot's login
/// and secret.
fn accounts(dir: &TempDir) -> (String, String) {
    registry_ok(
        dir,
        &["user", "add", "admin", "--admin", "--password-stdin"],
        "admin-password\n",
    );
    for user in ["dev", "viewer"] {
        registry_ok(
            dir,
            &["user", "add", user, "--password-stdin"],
            &format!("{user}-password\n"),
        );
    }
    registry_ok(dir, &["project", "create", "team"], "");
    registry_ok(dir, &["member", "add", "team", "dev", "developer"], "");
    registry_ok(dir, &["member", "add", "team", "viewer", "guest"], "");
    let out = registry_ok(
        dir,
        &[
            "robot",
            "create",
            "team",
            "ci",
            "--perm",
            "pull,push",
            "--expires",
            "30d",
        ],
        "",
    );
    let mut lines = out.lines();
    let (login, secret) = (lines.next().unwrap(), lines.next().unwrap());
    assert_eq!(login, "robot$team+ci");
    (login.to_owned(), secret.to_owned())
}

#[test]
fn admin_commands_users_and_robots_with_strata() {
    let dir = TempDir::new("rbac-cli");
    let (robot, secret) = accounts(&dir);
    // Mistakes are named and change nothing.
    let err = registry_fails(&dir, &["member", "add", "team", "nobody", "developer"]);
    assert!(err.contains("not found: user nobody"), "{err}");
    let err = registry_fails(&dir, &["member", "add", "team", "dev", "owner"]);
    assert!(err.contains("unknown role"), "{err}");
    let err = registry_fails(
        &dir,
        &["robot", "create", "team", "bad", "--perm", "delete"],
    );
    assert!(err.contains("unknown permission"), "{err}");
    let err = registry_fails(&dir, &["project", "create", "Team"]);
    assert!(err.contains("invalid project name"), "{err}");
    let users = registry_ok(&dir, &["user", "list"], "");
    assert!(
        users.contains("admin") && users.contains("viewer"),
        "{users}"
    );
    let members = registry_ok(&dir, &["member", "list", "team"], "");
    assert!(
        members.contains("dev") && members.contains("developer"),
        "{members}"
    );
    assert!(registry_ok(&dir, &["robot", "list", "team"], "").contains("pull,push"));

    let r = Served::on(dir, &["--rbac"]);
    let name = format!("{}/team/bb:1", r.addr);
    let Some(s) = busybox_as(&name) else { return };
    let err = s.fails(&["push", &name]);
    assert!(err.contains("unauthorized"), "{err}");
    let out = login(&s, &r.addr, &robot, &secret);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    s.ok(&["push", &name]);
    // A guest pulls but cannot push; a developer pulls.
    let viewer = Strata::new();
    assert!(login(&viewer, &r.addr, "viewer", "viewer-password")
        .status
        .success());
    viewer.ok(&["pull", &name]);
    viewer.ok(&["tag", &name, &format!("{}/team/bb:2", r.addr)]);
    let err = viewer.fails(&["push", &format!("{}/team/bb:2", r.addr)]);
    assert!(
        err.contains("unauthorized") || err.contains("denied"),
        "{err}"
    );
    // A wrong password does not log in.
    let out = login(&Strata::new(), &r.addr, "dev", "wrong-password");
    assert!(!out.status.success());
    // A read-only command first: closing its connection must not take the
    // database from under the server (it did when the server itself had
    // closed a descriptor of the file and so lost its SQLite locks).
    assert!(registry_ok(&r.dir, &["user", "list"], "").contains("viewer"));
    // Revoked from the command line while the server runs: the robot is out.
    registry_ok(&r.dir, &["robot", "revoke", "team", "robot$team+ci"], "");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let bb3 = format!("{}/team/bb:3", r.addr);
    s.ok(&["tag", &name, &bb3]);
    let err = s.fails(&["push", &bb3]);
    assert!(err.contains("unauthorized"), "{err}");
    registry_ok(&r.dir, &["user", "disable", "viewer"], "");
    std::thread::sleep(std::time::Duration::from_millis(300));
    viewer.fails(&["pull", &name]);
    // The audit log has it all, in order.
    let log = registry_ok(
        &r.dir,
        &["audit", "--project", "team", "--format", "json"],
        "",
    );
    let events: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let find = |actor: &str, action: &str| {
        events
            .iter()
            .any(|e| e["actor"] == actor && e["action"] == action)
    };
    assert!(find("cli:tester", "robot.create"), "{log}");
    assert!(find("robot$team+ci", "push"), "{log}");
    assert!(find("viewer", "pull"), "{log}");
    assert!(find("cli:tester", "robot.revoke"), "{log}");
    let table = registry_ok(&r.dir, &["audit", "--since", "1h"], "");
    assert!(
        table.starts_with("TIME") && table.contains("login.failed"),
        "{table}"
    );
    registry_ok(
        &r.dir,
        &["audit", "--prune-before", "2100-01-01T00:00:00Z"],
        "",
    );
    let table = registry_ok(&r.dir, &["audit"], "");
    assert_eq!(table.lines().count(), 1, "only the header is left: {table}");
}

#[test]
fn docker_podman_and_skopeo_log_in_with_robots_and_users() {
    let dir = TempDir::new("rbac-peers");
    let (robot, secret) = accounts(&dir);
    let r = Served::on(dir, &["--rbac"]);
    let name = format!("{}/team/bb:1", r.addr);
    let Some(s) = busybox_as(&name) else { return };
    assert!(login(&s, &r.addr, &robot, &secret).status.success());
    s.ok(&["push", &name]);
    let creds = format!("{robot}:{secret}");
    let pulled_by_dev = |image: &str| {
        let t = Strata::new();
        assert!(login(&t, &r.addr, "dev", "dev-password").status.success());
        t.ok(&["pull", image]);
    };
    if let Some(skopeo) = require_peer("skopeo", &["--version"]) {
        let sk = |args: &[&str]| skopeo.command().args(args).output().unwrap();
        let image = format!("docker://{name}");
        let out = sk(&["inspect", "--tls-verify=false", &image]);
        assert!(
            !out.status.success(),
            "anonymous inspect of a private project"
        );
        let out = sk(&["inspect", "--tls-verify=false", "--creds", &creds, &image]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let copy = format!("{}/team/skopeo:2", r.addr);
        let out = sk(&[
            "copy",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            "--src-creds",
            &creds,
            "--dest-creds",
            &creds,
            &image,
            &format!("docker://{copy}"),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        pulled_by_dev(&copy);
    }
    if let Some(docker) = require_peer("docker", &["info"]) {
        let config = TempDir::new("rbac-docker-config");
        let d = |args: &[&str], stdin: &str| {
            let mut cmd = docker.command();
            cmd.env("DOCKER_CONFIG", config.path()).args(args);
            let out = run_with_stdin(&mut cmd, stdin.as_bytes());
            assert!(
                out.status.success(),
                "docker {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let wrong = docker
            .command()
            .env("DOCKER_CONFIG", config.path())
            .args(["login", "-u", &robot, "-p", "not-the-secret", &r.addr])
            .output()
            .unwrap();
        assert!(!wrong.status.success(), "a wrong secret logs in");
        let out = d(
            &["login", "-u", &robot, "--password-stdin", &r.addr],
            &format!("{secret}\n"),
        );
        assert!(out.contains("Login Succeeded"), "{out}");
        d(&["pull", &name], "");
        let again = format!("{}/team/docker:3", r.addr);
        d(&["tag", &name, &again], "");
        d(&["push", &again], "");
        d(&["logout", &r.addr], "");
        // A user too: a guest pulls, and its push is denied.
        d(
            &["login", "-u", "viewer", "--password-stdin", &r.addr],
            "viewer-password\n",
        );
        d(&["pull", &again], "");
        let mine = format!("{}/team/viewer:5", r.addr);
        d(&["tag", &again, &mine], "");
        let push = docker
            .command()
            .env("DOCKER_CONFIG", config.path())
            .args(["push", &mine])
            .output()
            .unwrap();
        assert!(!push.status.success(), "a guest pushed");
        d(&["logout", &r.addr], "");
        let _ = docker
            .command()
            .args(["rmi", "-f", &name, &again, &mine])
            .output();
        pulled_by_dev(&again);
    }
    if let Some(podman) = require_peer("podman", &["--version"]) {
        let auth = s.dir.join("podman-auth.json");
        let pm = |args: &[&str]| {
            let out = podman
                .command()
                .arg("--root")
                .arg(s.dir.join("podman"))
                .arg("--runroot")
                .arg(s.dir.join("podman-run"))
                .args(["--storage-driver", "vfs"])
                .args(args)
                .env("REGISTRY_AUTH_FILE", &auth)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "podman {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        pm(&[
            "login",
            "--tls-verify=false",
            "-u",
            &robot,
            "-p",
            &secret,
            &r.addr,
        ]);
        pm(&["pull", "-q", "--tls-verify=false", &name]);
        let again = format!("{}/team/podman:4", r.addr);
        pm(&["tag", &name, &again]);
        pm(&["push", "-q", "--tls-verify=false", &again]);
        pulled_by_dev(&again);
    }
}

#[test]
fn the_reference_registry_trusts_our_tokens() {
    let dir = TempDir::new("rbac-token-server");
    let (robot, secret) = accounts(&dir);
    let tokens = Served::on(dir, &["--rbac"]);
    let Some(openssl) = require_peer("openssl", &["version"]) else {
        return;
    };
    // The token key's certificate: docker-registry trusts tokens whose
    // `kid` is the libtrust fingerprint of a key in its bundle.
    let cert = tokens.dir.join("token.crt");
    strata_testkit::run_ok(
        openssl
            .command()
            .args([
                "req",
                "-new",
                "-x509",
                "-days",
                "1",
                "-subj",
                "/CN=strata-token",
                "-key",
            ])
            .arg(tokens.dir.join("storage/rbac/token.key"))
            .arg("-out")
            .arg(&cert),
    );
    let setup = super::Setup::Token {
        realm: tokens.url("/token"),
        cert,
    };
    let Some(reg) = super::Registry::start(setup) else {
        return;
    };
    let name = format!("{}/team/bb:1", reg.addr);
    let Some(s) = busybox_as(&name) else { return };
    let err = s.fails(&["push", &name]);
    assert!(err.contains("unauthorized"), "{err}");
    assert!(login(&s, &reg.addr, &robot, &secret).status.success());
    s.ok(&["push", &name]);
    // Outside the robot's project the token grants nothing.
    let other = format!("{}/other/bb:1", reg.addr);
    s.ok(&["tag", &name, &other]);
    let err = s.fails(&["push", &other]);
    assert!(
        err.contains("unauthorized") || err.contains("denied"),
        "{err}"
    );
    let t = Strata::new();
    assert!(login(&t, &reg.addr, "viewer", "viewer-password")
        .status
        .success());
    t.ok(&["pull", &name]);
}

#[test]
fn tokens_over_tls_with_skopeo_and_strata() {
    if require_peer("openssl", &["version"]).is_none() {
        return;
    }
    let dir = TempDir::new("rbac-tls");
    let (robot, secret) = accounts(&dir);
    super::make_certs(dir.path());
    let (cert, key) = (dir.join("server.crt"), dir.join("server.key"));
    let ca_dir = dir.join("ca");
    let ca = dir.join("ca.crt");
    let r = Served::on(
        dir,
        &[
            "--rbac",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    let name = format!("{}/team/bb:1", r.addr);
    let Some(s) = busybox_as(&name) else { return };
    let trusted = s.dir.join("certs.d").join(&r.addr);
    std::fs::create_dir_all(&trusted).unwrap();
    std::fs::copy(&ca, trusted.join("ca.crt")).unwrap();
    // The realm is https, on the server's own address.
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-D",
            "-",
            "--cacert",
            ca.to_str().unwrap(),
        ])
        .arg(format!("https://{}/v2/", r.addr))
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(
        head.contains(&format!("realm=\"https://{}/token\"", r.addr)),
        "{head}"
    );
    assert!(login(&s, &r.addr, &robot, &secret).status.success());
    s.ok(&["push", &name]);
    if let Some(skopeo) = require_peer("skopeo", &["--version"]) {
        let out = skopeo
            .command()
            .args(["inspect", "--cert-dir", ca_dir.to_str().unwrap(), "--creds"])
            .arg(format!("{robot}:{secret}"))
            .arg(format!("docker://{name}"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
