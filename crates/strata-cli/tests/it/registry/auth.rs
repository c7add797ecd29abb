//! Login, TLS, Basic and token auth, resumed downloads.

use strata_testkit::{require_peer, run_ok, run_with_stdin};

use super::{busybox_as, image_id, Proxy, Registry, Setup};
use crate::common::Strata;

/// `login` with the password on standard input; returns the output.
pub(super) fn login(s: &Strata, server: &str, user: &str, password: &str) -> std::process::Output {
    login_with(s, &[server], user, password)
}

pub(super) fn login_with(
    s: &Strata,
    args: &[&str],
    user: &str,
    password: &str,
) -> std::process::Output {
    let mut cmd_args = vec!["login", "-u", user, "--password-stdin"];
    cmd_args.extend(args);
    run_with_stdin(&mut s.cmd(&cmd_args), format!("{password}\n").as_bytes())
}

#[test]
fn tls_with_htpasswd_needs_the_ca_and_a_login() {
    let Some(reg) = Registry::start(Setup::TlsHtpasswd) else {
        return;
    };
    let name = format!("{}/team/bb:1", reg.addr);
    let Some(s) = busybox_as(&name) else { return };
    // The test CA is not trusted yet: TLS verification fails, naming the registry.
    let err = s.fails(&["push", &name]);
    assert!(err.contains(&reg.addr), "{err}");
    reg.trust(&s);
    let err = s.fails(&["push", &name]);
    assert!(
        err.contains("unauthorized") && err.contains("team/bb"),
        "{err}"
    );
    let out = login(&s, &reg.addr, "alice", "wrong");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("incorrect username or password"));
    assert!(
        !s.dir.join("docker-config/config.json").exists(),
        "a failed login stores nothing"
    );
    let out = login(&s, &reg.addr, "alice", "s3cret");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "Login Succeeded"
    );
    // Docker's format: what docker login would have written.
    let config: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.dir.join("docker-config/config.json")).unwrap())
            .unwrap();
    assert_eq!(config["auths"][&reg.addr]["auth"], "YWxpY2U6czNjcmV0");
    s.ok(&["push", &name]);
    // skopeo, with the same CA and credentials, sees what we pushed.
    if let Some(skopeo) = require_peer("skopeo", &["--version"]) {
        let out = run_ok(skopeo.command().args([
            "inspect",
            "--cert-dir",
            reg.cert_dir().to_str().unwrap(),
            "--creds",
            "alice:s3cret",
            &format!("docker://{name}"),
        ]));
        assert!(String::from_utf8_lossy(&out.stdout).contains("\"Digest\": \"sha256:"));
    }
    // --password works, with Docker's warning.
    let out = s.run(&["login", "-u", "alice", "-p", "s3cret", &reg.addr]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("WARNING! Using --password via the CLI is insecure"));
    assert_eq!(
        s.ok(&["logout", &reg.addr]).trim(),
        format!("Removing login credentials for {}", reg.addr)
    );
    assert_eq!(
        s.ok(&["logout", &reg.addr]).trim(),
        format!("Not logged in to {}", reg.addr)
    );
    let err = s.fails(&["pull", &name]);
    assert!(err.contains("unauthorized"), "{err}");
    // Unverified TLS on request, for this command only.
    let t = Strata::new();
    assert!(!login(&t, &reg.addr, "alice", "s3cret").status.success());
    assert!(
        login_with(&t, &["--tls-verify=false", &reg.addr], "alice", "s3cret")
            .status
            .success()
    );
    t.fails(&["pull", &name]);
    let out = t.ok(&["pull", "--tls-verify=false", &name]);
    assert!(out.contains("Downloaded newer image"), "{out}");
}

#[test]
fn token_auth_and_broken_downloads_resume() {
    let Some(reg) = Registry::start(Setup::Plain) else {
        return;
    };
    let Some(proxy) = Proxy::start(&reg, &["--token-auth", "--break-blobs", "100000"]) else {
        return;
    };
    let name = format!("{}/tok/bb:1", proxy.addr);
    let Some(s) = busybox_as(&name) else { return };
    // Anonymous tokens grant nothing here.
    let err = s.fails(&["push", &name]);
    assert!(
        err.contains("unauthorized") && err.contains("tok/bb"),
        "{err}"
    );
    assert!(!login(&s, &proxy.addr, "alice", "nope").status.success());
    assert!(login(&s, &proxy.addr, "alice", "s3cret").status.success());
    s.ok(&["push", &name]);
    let log = proxy.log();
    assert!(
        log.contains("token for alice: ['repository:tok/bb:pull,push']"),
        "{log}"
    );

    let t = Strata::new();
    std::fs::create_dir_all(t.dir.join("docker-config")).unwrap();
    std::fs::copy(
        s.dir.join("docker-config/config.json"),
        t.dir.join("docker-config/config.json"),
    )
    .unwrap();
    t.ok(&["pull", &name]);
    assert_eq!(image_id(&s, &name), image_id(&t, &name));
    let log = proxy.log();
    assert!(log.contains("cut /v2/tok/bb/blobs/"), "{log}");
    assert!(
        log.contains("range=bytes=100000-"),
        "the download resumed where it broke:\n{log}"
    );
    // One token per scope set, shared by the parallel downloads.
    assert_eq!(
        log.matches("token for alice: ['repository:tok/bb:pull']")
            .count(),
        1,
        "{log}"
    );
    t.assert_consistent();
}

#[test]
fn docker_and_strata_share_logins() {
    let Some(docker) = require_peer("docker", &["info"]) else {
        return;
    };
    let Some(reg) = Registry::start(Setup::TlsHtpasswd) else {
        return;
    };
    let name = format!("{}/shared/bb:1", reg.addr);
    let Some(s) = busybox_as(&name) else { return };
    reg.trust(&s);
    let config = s.dir.join("docker-config");
    std::fs::create_dir_all(&config).unwrap();
    // dockerd treats 127.0.0.0/8 as an insecure registry: no CA needed on its side.
    let docker_login = |password: &str| {
        run_with_stdin(
            docker.command().args([
                "--config",
                config.to_str().unwrap(),
                "login",
                "-u",
                "alice",
                "--password-stdin",
                &reg.addr,
            ]),
            password.as_bytes(),
        )
    };
    let out = docker_login("s3cret");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // What docker login wrote, strata uses.
    s.ok(&["push", &name]);
    // What strata login writes, docker uses: docker pulls what strata pushed.
    s.ok(&["logout", &reg.addr]);
    let out = login(&s, &reg.addr, "alice", "s3cret");
    assert!(out.status.success());
    let pulled = docker
        .command()
        .args(["--config", config.to_str().unwrap(), "pull", &name])
        .output()
        .unwrap();
    let _ = docker.command().args(["rmi", "-f", &name]).output();
    assert!(
        pulled.status.success(),
        "docker pull: {}",
        String::from_utf8_lossy(&pulled.stderr)
    );
}

#[test]
fn client_certificates_come_from_certs_d() {
    let Some(reg) = Registry::start(Setup::MutualTls) else {
        return;
    };
    let name = format!("{}/mtls/bb:1", reg.addr);
    let Some(s) = busybox_as(&name) else {
        return;
    };
    reg.trust(&s);
    let err = s.fails(&["push", &name]);
    assert!(err.contains(&reg.addr), "{err}");
    // A v1 certificate is refused with a message, before any connection.
    reg.client_cert(&s, "client-v1.crt");
    let err = s.fails(&["push", &name]);
    assert!(
        err.contains("unusable client certificate") && err.contains("client.cert"),
        "{err}"
    );
    reg.client_cert(&s, "client.crt");
    s.ok(&["push", &name]);
    let t = Strata::new();
    reg.trust(&t);
    reg.client_cert(&t, "client.crt");
    t.ok(&["pull", &name]);
    assert_eq!(image_id(&s, &name), image_id(&t, &name));
}

#[test]
fn credentials_never_follow_a_redirect_to_another_host() {
    let Some(reg) = Registry::start(Setup::Plain) else {
        return;
    };
    // "evil" answers 401 with its own token realm; "front" redirects blobs there.
    let Some(evil) = Proxy::start(&reg, &["--token-auth"]) else {
        return;
    };
    let evil_port = evil.addr.rsplit(':').next().unwrap().to_owned();
    let Some(front) = Proxy::start(&reg, &["--redirect-blobs", &evil_port]) else {
        return;
    };
    let name = format!("{}/r/bb:1", reg.addr);
    let Some(s) = busybox_as(&name) else {
        return;
    };
    s.ok(&["push", &name]);
    let t = Strata::new();
    assert!(login(&t, &front.addr, "alice", "s3cret").status.success());
    let err = t.fails(&["pull", &format!("{}/r/bb:1", front.addr)]);
    assert!(err.contains("401") || err.contains("unauthorized"), "{err}");
    let log = evil.log();
    assert!(
        log.contains("GET /v2/r/bb/blobs/"),
        "the redirect was followed:\n{log}"
    );
    assert!(
        !log.contains("/token"),
        "no token was asked of the other host:\n{log}"
    );
}
