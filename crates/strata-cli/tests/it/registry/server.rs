//! `strata registry serve` as a real server, driven by skopeo, dockerd,
//! curl and strata's own client.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use strata_testkit::{require_peer, run_ok, run_with_stdin, TempDir};

use super::{busybox_as, free_port, image_id, make_certs, wait_for_port, Registry, Setup};
use crate::common::{bin, Strata};

/// A `strata registry serve` process; SIGKILLed on drop.
pub(super) struct Served {
    pub(super) addr: String,
    pub(super) dir: TempDir,
    child: Child,
}

impl Served {
    fn start(extra: &[&str]) -> Served {
        Self::on(TempDir::new("served"), extra)
    }

    /// Serves `dir/storage`.
    pub(super) fn on(dir: TempDir, extra: &[&str]) -> Served {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let mut child = Command::new(bin())
            .args(["registry", "serve", "--addr", &addr, "--storage"])
            .arg(dir.join("storage"))
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(dir.join("log")).unwrap()))
            .spawn()
            .unwrap();
        wait_for_port(port, &mut child, "strata registry serve");
        Served { addr, dir, child }
    }

    fn kill(mut self) -> TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(&mut self.dir, TempDir::new("served-gone"))
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A header's value in `curl -i` output (names in any case).
fn header(response: &str, name: &str) -> String {
    response
        .lines()
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no {name} header in {response}"))
}

fn curl() -> Option<strata_testkit::Peer> {
    require_peer("curl", &["--version"])
}

fn curl_out(args: &[&str]) -> String {
    let out = run_ok(Command::new("curl").args(["-s", "-S"]).args(args));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn skopeo_docker_and_strata_use_our_registry() {
    let r = Served::start(&["--delete-enabled"]);
    let name = format!("{}/team/bb:1", r.addr);
    let Some(s) = busybox_as(&name) else { return };
    s.ok(&["push", &name]);
    let t = Strata::new();
    t.ok(&["pull", &name]);
    assert_eq!(image_id(&s, &name), image_id(&t, &name));
    if let Some(skopeo) = require_peer("skopeo", &["--version"]) {
        let sk =
            |args: &[&str]| String::from_utf8(run_ok(skopeo.command().args(args)).stdout).unwrap();
        let copy = format!("docker://{}/skopeo/bb:2", r.addr);
        sk(&[
            "copy",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            &format!("docker://{name}"),
            &copy,
        ]);
        let inspected: serde_json::Value =
            serde_json::from_str(&sk(&["inspect", "--tls-verify=false", &copy])).unwrap();
        assert_eq!(inspected["RepoTags"], serde_json::json!(["2"]));
        let tags = sk(&[
            "list-tags",
            "--tls-verify=false",
            &format!("docker://{}/skopeo/bb", r.addr),
        ]);
        assert!(tags.contains("\"2\""), "{tags}");
        sk(&["delete", "--tls-verify=false", &copy]);
        let out = skopeo
            .command()
            .args(["inspect", "--tls-verify=false", &copy])
            .output()
            .unwrap();
        assert!(!out.status.success(), "deleted");
    }
    if let Some(docker) = require_peer("docker", &["info"]) {
        let d = |args: &[&str]| docker.command().args(args).output().unwrap();
        // docker pulls what strata pushed, and pushes it back under another name.
        let out = d(&["pull", &name]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let again = format!("{}/docker/bb:3", r.addr);
        assert!(d(&["tag", &name, &again]).status.success());
        let out = d(&["push", &again]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let _ = d(&["rmi", "-f", &name, &again]);
        let u = Strata::new();
        u.ok(&["pull", &again]);
        let _ = d(&["rmi", "-f", &again]);
    }
}

#[test]
fn tls_and_htpasswd_on_our_registry() {
    let certs = TempDir::new("served-certs");
    if require_peer("openssl", &["version"]).is_none() {
        return;
    }
    make_certs(certs.path());
    let htpasswd = certs.join("htpasswd");
    let s0 = Strata::new();
    let args = [
        "registry",
        "htpasswd",
        htpasswd.to_str().unwrap(),
        "alice",
        "--password-stdin",
    ];
    assert!(run_with_stdin(&mut s0.cmd(&args), b"s3cret\n")
        .status
        .success());
    assert!(std::fs::read_to_string(&htpasswd)
        .unwrap()
        .starts_with("alice:$2"));
    let r = Served::start(&[
        "--tls-cert",
        certs.join("server.crt").to_str().unwrap(),
        "--tls-key",
        certs.join("server.key").to_str().unwrap(),
        "--htpasswd",
        htpasswd.to_str().unwrap(),
    ]);
    let name = format!("{}/secure/bb:1", r.addr);
    let Some(s) = busybox_as(&name) else { return };
    let ca = s.dir.join("certs.d").join(&r.addr);
    std::fs::create_dir_all(&ca).unwrap();
    std::fs::copy(certs.join("ca.crt"), ca.join("ca.crt")).unwrap();
    let err = s.fails(&["push", &name]);
    assert!(err.contains("unauthorized"), "{err}");
    let login = |password: &str| super::auth::login(&s, &r.addr, "alice", password);
    assert!(!login("wrong").status.success());
    assert!(login("s3cret").status.success());
    s.ok(&["push", &name]);
    if let Some(skopeo) = require_peer("skopeo", &["--version"]) {
        let out = run_ok(skopeo.command().args([
            "inspect",
            "--cert-dir",
            certs.join("ca").to_str().unwrap(),
            "--creds",
            "alice:s3cret",
            &format!("docker://{name}"),
        ]));
        assert!(String::from_utf8_lossy(&out.stdout).contains("\"Digest\""));
    }
    // Plain HTTP to a TLS port is refused, not served.
    if curl().is_some() {
        let out = Command::new("curl")
            .args([
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                &r.url("/v2/"),
            ])
            .output()
            .unwrap();
        assert_ne!(String::from_utf8_lossy(&out.stdout), "200");
    }
}

#[test]
fn kill_during_an_upload_leaves_no_blob_and_the_session_resumes() {
    if curl().is_none() {
        return;
    }
    let r = Served::start(&[]);
    let data: Vec<u8> = (0..(8u32 << 20))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let digest = strata_oci::Digest::sha256_of(&data);
    let file = r.dir.join("blob");
    std::fs::write(&file, &data).unwrap();
    let head = curl_out(&["-i", "-X", "POST", &r.url("/v2/crash/blobs/uploads/")]);
    let loc = header(&head, "location");
    // A slow upload, killed mid-way with the server.
    let mut upload = Command::new("curl")
        .args([
            "-s",
            "-X",
            "PATCH",
            "--limit-rate",
            "2M",
            "-H",
            "Content-Type: application/octet-stream",
            "--data-binary",
        ])
        .arg(format!("@{}", file.display()))
        .arg(r.url(&loc))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let dir = r.kill();
    let _ = upload.wait();
    let r = Served::on(dir, &[]);
    let blob = r.url(&format!("/v2/crash/blobs/{digest}"));
    let code = curl_out(&["-o", "/dev/null", "-w", "%{http_code}", "-I", &blob]);
    assert_eq!(code, "404", "no partial blob is visible");
    // The session kept what reached the disk; the rest goes on from there.
    let status = curl_out(&["-i", &r.url(&loc)]);
    let range = header(&status, "range");
    let have: usize = range.trim_start_matches("0-").parse::<usize>().unwrap() + 1;
    assert!(have > 0 && have < data.len(), "partial: {range}");
    let rest = r.dir.join("rest");
    std::fs::write(&rest, &data[have..]).unwrap();
    let code = curl_out(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-X",
        "PATCH",
        "-H",
        &format!("Content-Range: {have}-{}", data.len() - 1),
        "--data-binary",
        &format!("@{}", rest.display()),
        &r.url(&loc),
    ]);
    assert_eq!(code, "202");
    let code = curl_out(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-X",
        "PUT",
        &format!("{}?digest={digest}", r.url(&loc)),
    ]);
    assert_eq!(code, "201");
    let got = run_ok(Command::new("curl").args(["-s", &blob])).stdout;
    assert_eq!(strata_oci::Digest::sha256_of(&got), digest);
}

#[test]
fn stop_lets_requests_in_flight_finish() {
    if curl().is_none() {
        return;
    }
    let mut r = Served::start(&[]);
    let data = vec![5u8; 6 << 20];
    let digest = strata_oci::Digest::sha256_of(&data);
    let file = r.dir.join("blob");
    std::fs::write(&file, &data).unwrap();
    let code = curl_out(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-X",
        "POST",
        "--data-binary",
        &format!("@{}", file.display()),
        &r.url(&format!("/v2/g/blobs/uploads/?digest={digest}")),
    ]);
    assert_eq!(code, "201");
    let slow = Command::new("curl")
        .args(["-s", "--limit-rate", "3M", "-o"])
        .arg(r.dir.join("got"))
        .arg(r.url(&format!("/v2/g/blobs/{digest}")))
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    rustix::process::kill_process(
        rustix::process::Pid::from_child(&r.child),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    let out = slow.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        strata_oci::Digest::sha256_of(&std::fs::read(r.dir.join("got")).unwrap()),
        digest
    );
    let status = r.child.wait().unwrap();
    assert!(status.success(), "the server exits cleanly: {status}");
}

#[test]
fn pull_through_cache_serves_after_the_upstream_is_gone() {
    let Some(upstream) = Registry::start(Setup::Plain) else {
        return;
    };
    let name = format!("{}/lib/bb:1", upstream.addr);
    let Some(s) = busybox_as(&name) else { return };
    s.ok(&["push", &name]);
    let cache = Served::start(&["--proxy-remote", &format!("http://{}", upstream.addr)]);
    let via = format!("{}/lib/bb:1", cache.addr);
    let a = Strata::new();
    a.ok(&["pull", &via]);
    assert_eq!(image_id(&s, &name), image_id(&a, &via));
    drop(upstream);
    let b = Strata::new();
    b.ok(&["pull", &via]);
    assert_eq!(image_id(&a, &via), image_id(&b, &via));
}

#[test]
fn gc_from_the_command_line() {
    if curl().is_none() {
        return;
    }
    let r = Served::start(&["--delete-enabled"]);
    let name = format!("{}/gc/bb:1", r.addr);
    let Some(s) = busybox_as(&name) else { return };
    let pushed = s.ok(&["push", &name]);
    let digest = pushed
        .lines()
        .find_map(|l| l.strip_prefix("1: digest: "))
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .to_owned();
    let code = curl_out(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "-X",
        "DELETE",
        &r.url(&format!("/v2/gc/bb/manifests/{digest}")),
    ]);
    assert_eq!(code, "202");
    let storage = r.dir.join("storage");
    let gc = |extra: &[&str]| {
        let mut args = vec!["registry", "gc", "--storage", storage.to_str().unwrap()];
        args.extend(extra);
        s.ok(&args)
    };
    let spared = gc(&["--dry-run"]);
    assert!(
        spared.contains("0 blobs to delete") && spared.contains("spared"),
        "{spared}"
    );
    let dry = gc(&["--dry-run", "--grace", "0s"]);
    assert!(dry.contains(&format!("would delete {digest}")), "{dry}");
    let done = gc(&["--grace", "0s"]);
    assert!(done.contains(&format!("deleted {digest}")), "{done}");
    assert!(gc(&["--grace", "0s"]).contains("0 blobs deleted"));
}

#[test]
fn podman_pushes_to_and_pulls_from_our_registry() {
    let Some(podman) = require_peer("podman", &["--version"]) else {
        return;
    };
    let r = Served::start(&[]);
    let Some(s) = busybox_as("busybox:latest") else {
        return;
    };
    let archive = s.dir.join("bb.tar");
    s.ok(&["save", "-o", archive.to_str().unwrap(), "busybox:latest"]);
    // podman's own storage in the test's directory (vfs: no mounts left behind).
    let pm = |args: &[&str]| {
        let mut c = podman.command();
        c.arg("--root")
            .arg(s.dir.join("podman"))
            .arg("--runroot")
            .arg(s.dir.join("podman-run"))
            .args(["--storage-driver", "vfs"])
            .args(args);
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "podman {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    pm(&["load", "-q", "-i", archive.to_str().unwrap()]);
    let name = format!("{}/pod/bb:1", r.addr);
    pm(&["tag", "busybox:latest", &name]);
    pm(&["push", "-q", "--tls-verify=false", &name]);
    pm(&["rmi", "-f", &name]);
    pm(&["pull", "-q", "--tls-verify=false", &name]);
    let t = Strata::new();
    t.ok(&["pull", &name]);
    assert_eq!(t.ok(&["images", "-q", &name]).trim().len(), 12);
}

#[test]
fn sha512_images_push_and_pull() {
    use strata_distribution::{ManifestRef, RepositoryName};
    use strata_oci::{
        media_type, Algorithm, Descriptor, ImageConfig, ImageManifest, Platform, RootFs,
    };
    use strata_registry_client::{Client, ClientOptions};
    let r = Served::start(&[]);
    let client = Client::new(&r.addr, ClientOptions::default()).unwrap();
    let repo = RepositoryName::new("sha512/img").unwrap();
    let sha512 = |b: &[u8]| strata_oci::Digest::of(Algorithm::Sha512, b);
    let upload = |bytes: Vec<u8>, media: &str| {
        let d = sha512(&bytes);
        let size = bytes.len() as u64;
        client
            .push_blob(&repo, &d, size, None, &mut || {
                Ok(Box::new(std::io::Cursor::new(bytes.clone())))
            })
            .unwrap();
        Descriptor::new(media, d, size)
    };
    let tar = strata_testkit::TarBuilder::new()
        .file("hello", b"sha512 world")
        .finish();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &tar).unwrap();
    let layer = upload(gz.finish().unwrap(), media_type::OCI_LAYER_GZIP);
    let host = Platform::host();
    let config = ImageConfig {
        architecture: host.architecture.clone(),
        os: host.os.clone(),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: vec![strata_oci::Digest::sha256_of(&tar)],
        },
        ..ImageConfig::default()
    };
    let config = upload(config.to_bytes(), media_type::OCI_CONFIG);
    let manifest = ImageManifest::new_oci(config, vec![layer]);
    client
        .put_manifest(
            &repo,
            &ManifestRef::tag("1").unwrap(),
            media_type::OCI_MANIFEST,
            &manifest.to_bytes(),
        )
        .unwrap();
    let t = Strata::new();
    let name = format!("{}/sha512/img:1", r.addr);
    t.ok(&["pull", &name]);
    t.assert_consistent();
    // And on, to another repository: the sha512 blobs go up as they came.
    let again = format!("{}/sha512/again:1", r.addr);
    t.ok(&["tag", &name, &again]);
    t.ok(&["push", &again]);
}
