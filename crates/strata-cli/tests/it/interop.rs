//! Real peers as oracles: dockerd (Debian's docker.io) and skopeo.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use strata_testkit::{require_peer, run_ok, Peer};

use crate::common::{busybox_rootfs, Strata};

static N: AtomicU32 = AtomicU32::new(0);

/// A docker image name no other test run uses; removed from dockerd on drop.
struct DockerName {
    docker: Peer,
    name: String,
}

impl DockerName {
    fn new(docker: &Peer, base: &str) -> Self {
        let n = N.fetch_add(1, Ordering::Relaxed);
        DockerName {
            docker: docker.clone(),
            name: format!("strata-it/{base}-{}-{n}:v1", std::process::id()),
        }
    }
}

impl Drop for DockerName {
    fn drop(&mut self) {
        let docker = |args: &[&str]| self.docker.command().args(args).output();
        let _ = docker(&["rm", "-f", &self.container()]);
        let _ = docker(&["rmi", "-f", &self.name]);
    }
}

impl DockerName {
    /// A container name tied to this image name (removed with it).
    fn container(&self) -> String {
        self.name.replace(['/', ':'], "-")
    }
}

fn docker() -> Option<Peer> {
    require_peer("docker", &["info"])
}

fn stdout(cmd: &mut Command) -> String {
    String::from_utf8(run_ok(cmd).stdout).unwrap()
}

#[test]
fn strata_save_loads_and_runs_in_docker() {
    let Some(docker) = docker() else { return };
    let s = Strata::new();
    let Some(rootfs) = busybox_rootfs(s.dir.path()) else {
        return;
    };
    let name = DockerName::new(&docker, "run");
    let id = s
        .ok(&[
            "import",
            "-c",
            r#"CMD ["/bin/echo", "hello from strata"]"#,
            rootfs.to_str().unwrap(),
            &name.name,
        ])
        .trim()
        .to_owned();
    let tar = s.dir.join("img.tar");
    s.ok(&["save", "-o", tar.to_str().unwrap(), &name.name]);

    let loaded = stdout(docker.command().args(["load", "-i", tar.to_str().unwrap()]));
    assert!(loaded.contains(&name.name), "{loaded}");
    let docker_id = stdout(
        docker
            .command()
            .args(["image", "inspect", "-f", "{{.Id}}", &name.name]),
    );
    assert_eq!(docker_id.trim(), id, "docker computes the same image ID");
    let out = stdout(
        docker
            .command()
            .args(["run", "--rm", "--network", "none", &name.name]),
    );
    assert_eq!(out, "hello from strata\n");
    let out = stdout(docker.command().args([
        "run",
        "--rm",
        "--network",
        "none",
        &name.name,
        "cat",
        "/etc/passwd",
    ]));
    assert!(out.starts_with("root:x:0:0"), "{out}");
}

#[test]
fn docker_save_loads_in_strata_with_the_same_ids() {
    let Some(docker) = docker() else { return };
    let s = Strata::new();
    let Some(rootfs) = busybox_rootfs(s.dir.path()) else {
        return;
    };
    let name = DockerName::new(&docker, "save");
    // An image docker made itself: import (one layer) then a second layer from a
    // container commit, so the archive has docker's own two-layer layout.
    let tarball = s.dir.join("rootfs.tar");
    run_ok(Command::new("tar").args([
        "-C",
        rootfs.to_str().unwrap(),
        "-cf",
        tarball.to_str().unwrap(),
        ".",
    ]));
    run_ok(
        docker
            .command()
            .args(["import", tarball.to_str().unwrap(), &name.name]),
    );
    let cname = name.container();
    run_ok(docker.command().args([
        "run",
        "--name",
        &cname,
        "--network",
        "none",
        &name.name,
        "sh",
        "-c",
        "echo layer2 > /added; rm /bin/cat",
    ]));
    run_ok(
        docker
            .command()
            .args(["commit", "-c", "CMD [\"sh\"]", &cname, &name.name]),
    );
    run_ok(docker.command().args(["rm", &cname]));
    let docker_id = stdout(
        docker
            .command()
            .args(["image", "inspect", "-f", "{{.Id}}", &name.name]),
    );
    let archive = s.dir.join("docker-save.tar");
    run_ok(
        docker
            .command()
            .args(["save", "-o", archive.to_str().unwrap(), &name.name]),
    );

    let out = s.ok(&["load", "-i", archive.to_str().unwrap()]);
    assert_eq!(out, format!("Loaded image: {}\n", name.name));
    assert_eq!(s.ok(&["inspect", "-f", "{{.Id}}", &name.name]), docker_id);
    let docker_layers = stdout(docker.command().args([
        "image",
        "inspect",
        "-f",
        "{{json .RootFS.Layers}}",
        &name.name,
    ]));
    assert_eq!(
        s.ok(&["inspect", "-f", "{{json .RootFS.Layers}}", &name.name]),
        docker_layers
    );
    assert_eq!(s.ok(&["history", "-q", &name.name]).lines().count(), 2);
    s.assert_consistent();

    // The whiteout of /bin/cat is applied: the snapshot of the top layer has it
    // as an overlay whiteout (or, in copy mode, the file is gone).
    // And back: strata's save of docker's image loads in docker under the same ID.
    run_ok(docker.command().args(["rmi", &name.name]));
    let back = s.dir.join("back.tar");
    s.ok(&["save", "-o", back.to_str().unwrap(), &name.name]);
    run_ok(
        docker
            .command()
            .args(["load", "-i", back.to_str().unwrap()]),
    );
    let again = stdout(
        docker
            .command()
            .args(["image", "inspect", "-f", "{{.Id}}", &name.name]),
    );
    assert_eq!(again, docker_id);
    let out = stdout(docker.command().args([
        "run",
        "--rm",
        "--network",
        "none",
        &name.name,
        "sh",
        "-c",
        "cat /added 2>&1; ls /bin/cat 2>&1 || true",
    ]));
    assert!(
        out.contains("No such file") || out.contains("not found"),
        "cat was deleted in layer 2: {out}"
    );
}

fn skopeo() -> Option<Peer> {
    require_peer("skopeo", &["--version"])
}

#[test]
fn skopeo_oci_archives_and_layouts_load_in_strata_with_their_digests() {
    let Some(skopeo) = skopeo() else { return };
    let s = Strata::new();
    s.import_tree("src:1", "sk");
    let docker_archive = s.dir.join("src.tar");
    s.ok(&["save", "-o", docker_archive.to_str().unwrap(), "src:1"]);
    let oci_tar = s.dir.join("sk-oci.tar");
    let layout = s.dir.join("sk-layout");
    let src = format!("docker-archive:{}", docker_archive.display());
    run_ok(skopeo.command().args([
        "copy",
        "--quiet",
        &src,
        &format!("oci-archive:{}:example.com/sk/img:v1", oci_tar.display()),
    ]));
    run_ok(skopeo.command().args([
        "copy",
        "--quiet",
        &src,
        &format!("oci:{}:latest", layout.display()),
    ]));
    let skopeo_digest = |reference: &str| {
        let out = stdout(
            skopeo
                .command()
                .args(["inspect", "--format", "{{.Digest}}", reference]),
        );
        out.trim().to_owned()
    };
    let archive_digest = skopeo_digest(&format!("oci-archive:{}", oci_tar.display()));

    let t = Strata::new();
    assert_eq!(
        t.ok(&["load", "-i", oci_tar.to_str().unwrap()]),
        "Loaded image: example.com/sk/img:v1\n"
    );
    let ours = t.ok(&[
        "images",
        "--no-trunc",
        "--format",
        "{{.Digest}}",
        "example.com/sk/img:v1",
    ]);
    assert_eq!(ours.trim(), archive_digest);

    // A layout whose ref.name is a bare tag names nothing; the image is kept by ID.
    let out = t.ok(&["load", "-i", layout.to_str().unwrap()]);
    assert!(out.starts_with("Loaded image ID: sha256:"), "{out}");
    t.assert_consistent();
}

#[test]
fn strata_oci_archives_are_read_by_skopeo() {
    let Some(skopeo) = skopeo() else { return };
    let s = Strata::new();
    s.import_tree("app:1", "ours");
    let tar = s.dir.join("ours.tar");
    s.ok(&[
        "save",
        "--format",
        "oci-archive",
        "-o",
        tar.to_str().unwrap(),
        "app:1",
    ]);
    let ours = s.ok(&["images", "--no-trunc", "--format", "{{.Digest}}", "app:1"]);
    let reference = format!("oci-archive:{}:1", tar.display());
    let theirs = stdout(
        skopeo
            .command()
            .args(["inspect", "--format", "{{.Digest}}", &reference]),
    );
    assert_eq!(theirs.trim(), ours.trim());
    // skopeo verifies every blob while copying.
    let layout = s.dir.join("copied");
    run_ok(skopeo.command().args([
        "copy",
        "--quiet",
        &reference,
        &format!("oci:{}:x", layout.display()),
    ]));
    let docker_archive = s.dir.join("ours-docker.tar");
    s.ok(&["save", "-o", docker_archive.to_str().unwrap(), "app:1"]);
    run_ok(skopeo.command().args([
        "inspect",
        &format!("docker-archive:{}", docker_archive.display()),
    ]));
}

#[test]
fn go_readers_decompress_strata_gzip_layers() {
    // Strata's gzip layers are multi-member (one member per block): check that
    // the Go side of the ecosystem (skopeo, dockerd) reads them to the end.
    let (Some(docker), Some(skopeo)) = (docker(), skopeo()) else {
        return;
    };
    let s = Strata::new();
    let Some(rootfs) = busybox_rootfs(s.dir.path()) else {
        return;
    };
    // Enough content for several 1 MiB members.
    std::fs::write(
        rootfs.join("big"),
        "strata multi-member gzip\n".repeat(200_000),
    )
    .unwrap();
    let name = DockerName::new(&docker, "gzip");
    s.ok(&["import", rootfs.to_str().unwrap(), &name.name]);
    let oci = s.dir.join("oci.tar");
    s.ok(&[
        "save",
        "--format",
        "oci-archive",
        "-o",
        oci.to_str().unwrap(),
        &name.name,
    ]);
    let archive = s.dir.join("via-skopeo.tar");
    run_ok(skopeo.command().args([
        "copy",
        "--quiet",
        &format!("oci-archive:{}", oci.display()),
        &format!("docker-archive:{}:{}", archive.display(), name.name),
    ]));
    run_ok(
        docker
            .command()
            .args(["load", "-i", archive.to_str().unwrap()]),
    );
    let out = stdout(docker.command().args([
        "run",
        "--rm",
        "--network",
        "none",
        &name.name,
        "sh",
        "-c",
        "wc -l < /big",
    ]));
    assert_eq!(out.trim(), "200000");
}
