//! Push and pull against the plain reference registry, and skopeo both ways.

use strata_testkit::{require_peer, run_ok};

use super::{busybox_as, image_id, Registry, Setup};
use crate::common::Strata;

#[test]
fn push_then_pull_into_a_fresh_store_and_run() {
    let Some(reg) = Registry::start(Setup::Plain) else {
        return;
    };
    let name = format!("{}/team/bb:1", reg.addr);
    let Some(a) = busybox_as(&name) else { return };
    let out = a.ok(&["push", &name]);
    assert!(
        out.contains(&format!(
            "The push refers to repository [{}/team/bb]",
            reg.addr
        )),
        "{out}"
    );
    assert!(out.contains(": Pushed"), "{out}");
    let digest_line = out
        .lines()
        .find(|l| l.starts_with("1: digest: sha256:"))
        .expect(&out)
        .to_owned();
    let digest = digest_line.split_whitespace().nth(2).unwrap().to_owned();
    // A second push moves nothing.
    let again = a.ok(&["push", &name]);
    assert!(
        again.contains("Layer already exists") && !again.contains(": Pushed"),
        "{again}"
    );

    let b = Strata::new();
    let out = b.ok(&["pull", &name]);
    assert!(out.contains("Pull complete"), "{out}");
    assert!(out.contains(&format!("Digest: {digest}")), "{out}");
    assert!(out.contains("Status: Downloaded newer image for"), "{out}");
    assert_eq!(image_id(&a, &name), image_id(&b, &name));
    let out = b.ok(&["pull", &name]);
    assert!(
        out.contains("Already exists") && out.contains("Image is up to date"),
        "{out}"
    );
    assert_eq!(b.ok(&["pull", "-q", &name]).trim(), name);
    b.assert_consistent();
    if require_peer("runc", &[]).is_some() {
        assert_eq!(
            b.ok(&["run", "--rm", "--network", "none", &name, "echo", "pulled"])
                .trim(),
            "pulled"
        );
    }

    // By digest, into a third store; `manifest inspect` shows the same manifest.
    let c = Strata::new();
    let by_digest = format!("{}/team/bb@{digest}", reg.addr);
    c.ok(&["pull", &by_digest]);
    assert_eq!(
        image_id(&a, &name),
        c.ok(&["inspect", "--format", "{{.Id}}", &by_digest]).trim()
    );
    let shown = a.ok(&["manifest", "inspect", "--verbose", &name]);
    let v: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(v["Descriptor"]["digest"], digest.as_str());
    assert_eq!(v["Manifest"]["schemaVersion"], 2);
    c.assert_consistent();
}

#[test]
fn errors_name_the_repository_and_what_was_asked() {
    let Some(reg) = Registry::start(Setup::Plain) else {
        return;
    };
    let s = Strata::new();
    let err = s.fails(&["pull", &format!("{}/nothing/here:v9", reg.addr)]);
    assert!(
        err.contains("nothing/here") && err.contains("manifest unknown"),
        "{err}"
    );
    let err = s.fails(&["push", &format!("{}/a/b:1", reg.addr)]);
    assert!(
        err.contains("No such image") || err.contains("no such image"),
        "{err}"
    );
    // Nobody listens on this port: a connection error, no hang.
    let dead = super::free_port();
    let err = s.fails(&["pull", &format!("127.0.0.1:{dead}/a:1")]);
    assert!(err.contains(&format!("127.0.0.1:{dead}")), "{err}");
    s.assert_consistent();
    assert!(s.ok(&["images", "-q"]).trim().is_empty());
}

#[test]
fn push_mounts_blobs_from_another_repository() {
    let Some(reg) = Registry::start(Setup::Plain) else {
        return;
    };
    let first = format!("{}/one/bb:1", reg.addr);
    let second = format!("{}/two/bb:1", reg.addr);
    let Some(s) = busybox_as(&first) else { return };
    s.ok(&["push", &first]);
    s.ok(&["tag", &first, &second]);
    let out = s.ok(&["push", &second]);
    assert_eq!(out.matches("Mounted from one/bb").count(), 2, "{out}");
    // A pulled image remembers where it came from, too.
    let t = Strata::new();
    t.ok(&["pull", &first]);
    t.ok(&["tag", &first, &format!("{}/three/bb:1", reg.addr)]);
    let out = t.ok(&["push", &format!("{}/three/bb:1", reg.addr)]);
    assert!(
        out.contains("Mounted from one/bb") || out.contains("Mounted from two/bb"),
        "{out}"
    );
    // search lists the catalog.
    let found = s.ok(&["search", &format!("{}/bb", reg.addr)]);
    for repo in ["one/bb", "two/bb", "three/bb"] {
        assert!(found.contains(&format!("{}/{repo}", reg.addr)), "{found}");
    }
    let tags = s.ok(&[
        "search",
        "--list-tags",
        "--format",
        "{{.Name}} {{.Tags}}",
        &format!("{}/two", reg.addr),
    ]);
    assert_eq!(tags.trim(), format!("{}/two/bb 1", reg.addr));
}

#[test]
fn skopeo_and_strata_read_each_others_pushes() {
    let Some(reg) = Registry::start(Setup::Plain) else {
        return;
    };
    let Some(skopeo) = require_peer("skopeo", &["--version"]) else {
        return;
    };
    let ours = format!("{}/ours/bb:1", reg.addr);
    let Some(s) = busybox_as(&ours) else { return };
    let pushed = s.ok(&["push", &ours]);
    let digest = pushed
        .lines()
        .find_map(|l| l.strip_prefix("1: digest: "))
        .unwrap();
    let digest = digest.split_whitespace().next().unwrap().to_owned();
    // What we push, skopeo reads with the same digest, and copies into an OCI layout.
    let inspected = run_ok(skopeo.command().args([
        "inspect",
        "--tls-verify=false",
        &format!("docker://{ours}"),
    ]));
    let v: serde_json::Value = serde_json::from_slice(&inspected.stdout).unwrap();
    assert_eq!(v["Digest"], digest.as_str());
    let layout = s.dir.join("layout");
    run_ok(skopeo.command().args([
        "copy",
        "--src-tls-verify=false",
        &format!("docker://{ours}"),
        &format!("oci:{}:x", layout.display()),
    ]));
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"][0]["digest"], digest.as_str());
    // What skopeo pushes (here in Docker's schema 2 format), we pull.
    let theirs = format!("{}/theirs/bb:2", reg.addr);
    run_ok(skopeo.command().args([
        "copy",
        "--dest-tls-verify=false",
        "--format",
        "v2s2",
        &format!("oci:{}:x", layout.display()),
        &format!("docker://{theirs}"),
    ]));
    let t = Strata::new();
    let out = t.ok(&["pull", &theirs]);
    let their_digest = run_ok(skopeo.command().args([
        "inspect",
        "--tls-verify=false",
        "--format",
        "{{.Digest}}",
        &format!("docker://{theirs}"),
    ]));
    let their_digest = String::from_utf8(their_digest.stdout).unwrap();
    assert!(
        out.contains(&format!("Digest: {}", their_digest.trim())),
        "{out}"
    );
    assert_ne!(
        their_digest.trim(),
        digest,
        "skopeo converted to schema 2, so the digest differs"
    );
    assert_eq!(
        image_id(&s, &ours),
        image_id(&t, &theirs),
        "same config either way"
    );
    // And we push the schema 2 image on unchanged: same digest.
    let again = format!("{}/again/bb:3", reg.addr);
    t.ok(&["tag", &theirs, &again]);
    let out = t.ok(&["push", &again]);
    assert!(
        out.contains(&format!("3: digest: {}", their_digest.trim())),
        "{out}"
    );
    t.assert_consistent();
}

#[test]
fn mirrors_are_tried_first_and_fall_back_to_the_registry() {
    let Some(reg) = Registry::start(Setup::Plain) else {
        return;
    };
    let name = format!("{}/lib/bb:1", reg.addr);
    let Some(s) = busybox_as(&name) else { return };
    s.ok(&["push", &name]);
    let dead = format!("127.0.0.1:{}", super::free_port());

    // The registry is down; its mirror has the image.
    let a = Strata::new();
    std::fs::write(
        a.dir.join("registries.conf"),
        format!(
            "[[registry]]\nlocation = \"{dead}\"\n[[registry.mirror]]\nlocation = \"{}\"\n",
            reg.addr
        ),
    )
    .unwrap();
    let out = a.ok(&["pull", &format!("{dead}/lib/bb:1")]);
    assert!(
        out.contains(&format!("Pulled through mirror {}", reg.addr)),
        "{out}"
    );
    let info = a.ok(&["info"]);
    assert!(info.contains(&format!("{dead}: {}", reg.addr)), "{info}");

    // The mirror is down; the registry answers.
    let b = Strata::new();
    std::fs::write(
        b.dir.join("registries.conf"),
        format!(
            "[[registry]]\nlocation = \"{}\"\n[[registry.mirror]]\nlocation = \"{dead}\"\n",
            reg.addr
        ),
    )
    .unwrap();
    let out = b.ok(&["pull", &name]);
    assert!(
        !out.contains("Pulled through mirror") && out.contains("Downloaded newer image"),
        "{out}"
    );
    assert_eq!(
        image_id(&a, &format!("{dead}/lib/bb:1")),
        image_id(&b, &name)
    );

    // A malformed file is named.
    std::fs::write(
        b.dir.join("registries.conf"),
        "[[registry]]\nlocation = \"https://x/y\"\n",
    )
    .unwrap();
    let err = b.fails(&["pull", &name]);
    assert!(
        err.contains("registries.conf") && err.contains("host[:port]"),
        "{err}"
    );
}

#[test]
fn all_tags_push_and_live_progress_on_a_terminal() {
    let Some(reg) = Registry::start(Setup::Plain) else {
        return;
    };
    let Some(s) = busybox_as(&format!("{}/tags/bb:1", reg.addr)) else {
        return;
    };
    s.ok(&["tag", "busybox:latest", &format!("{}/tags/bb:2", reg.addr)]);
    let out = s.ok(&["push", "--all-tags", &format!("{}/tags/bb", reg.addr)]);
    assert!(
        out.contains("1: digest: sha256:") && out.contains("2: digest: sha256:"),
        "{out}"
    );
    if require_peer("script", &["--version"]).is_none() {
        return;
    }
    let t = Strata::new();
    let (rc, shown) = crate::terminal::on_terminal(&t, &format!("pull {}/tags/bb:2", reg.addr), "");
    assert_eq!(rc, 0, "{shown}");
    // Lines redrawn in place: cursor-up and erase-line sequences, then the final state.
    assert!(
        shown.contains("\x1b[2K") && shown.contains("Pull complete"),
        "{shown:?}"
    );
    assert!(shown.contains("Status: Downloaded newer image"), "{shown}");
}
