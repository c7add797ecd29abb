//! import, images, inspect, history, tag, rmi, prune, system df.

use std::path::Path;

use crate::common::{sample_rootfs, Strata};

#[test]
fn import_then_list_inspect_history_and_tag() {
    let s = Strata::new();
    let id = s.import_tree("app:1", "a");
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");

    let images = s.ok(&["images"]);
    let mut lines = images.lines();
    assert_eq!(
        lines.next().unwrap().split_whitespace().collect::<Vec<_>>(),
        ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    );
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(&row[..3], ["app", "1", &id[7..19]]);

    assert_eq!(
        s.ok(&["image", "inspect", "--format", "{{.Id}}", "app:1"])
            .trim(),
        id
    );
    assert_eq!(
        s.ok(&[
            "inspect",
            "-f",
            "{{json .RepoTags}} {{.Os}} {{len .RootFS.Layers}}",
            "app:1"
        ])
        .trim(),
        r#"["app:1"] linux 1"#
    );
    let inspect: serde_json::Value =
        serde_json::from_str(&s.ok(&["image", "inspect", "app:1"])).unwrap();
    let keys: Vec<&str> = inspect[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        &keys[..6],
        [
            "Id",
            "RepoTags",
            "RepoDigests",
            "Parent",
            "Comment",
            "Created"
        ],
        "Docker's field order"
    );

    let history = s.ok(&["history", "app:1"]);
    assert!(
        history.lines().nth(1).unwrap().contains("Imported from"),
        "{history}"
    );

    s.ok(&["tag", "app:1", "localhost:5000/team/app:v2"]);
    s.ok(&["tag", &id[7..15], "app"]);
    let names = s.ok(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]);
    let mut names: Vec<&str> = names.lines().collect();
    names.sort();
    let short = &id[7..19];
    assert_eq!(
        names,
        [
            format!("app:1 {short}"),
            format!("app:latest {short}"),
            format!("localhost:5000/team/app:v2 {short}")
        ]
    );
    assert_eq!(s.ok(&["images", "-q"]).trim(), short);
    assert_eq!(
        s.ok(&["images", "app"]).lines().count(),
        3,
        "header + app:1 + app:latest"
    );
    s.assert_consistent();
}

#[test]
fn import_applies_changes_like_docker() {
    let s = Strata::new();
    let tree = s.dir.join("t");
    sample_rootfs(&tree, "c");
    s.ok(&[
        "import",
        "-c",
        r#"CMD ["/bin/sh", "-c", "echo hi"]"#,
        "-c",
        "ENV A=1 B=\"two words\"",
        "--change",
        "WORKDIR /srv",
        "--change",
        "EXPOSE 8080/tcp",
        "--change",
        "LABEL org.opencontainers.image.title=demo",
        "--change",
        "USER 1000:1000",
        "-m",
        "my message",
        tree.to_str().unwrap(),
        "changed",
    ]);
    let cfg = s.ok(&["inspect", "-f", "{{json .Config}}", "changed"]);
    let cfg: serde_json::Value = serde_json::from_str(&cfg).unwrap();
    assert_eq!(cfg["Cmd"], serde_json::json!(["/bin/sh", "-c", "echo hi"]));
    assert_eq!(cfg["Env"], serde_json::json!(["A=1", "B=two words"]));
    assert_eq!(cfg["WorkingDir"], "/srv");
    assert_eq!(cfg["User"], "1000:1000");
    assert_eq!(cfg["ExposedPorts"], serde_json::json!({"8080/tcp": {}}));
    assert_eq!(cfg["Labels"]["org.opencontainers.image.title"], "demo");
    assert_eq!(
        s.ok(&["inspect", "-f", "{{.Comment}}", "changed"]).trim(),
        "my message"
    );

    let err = s.fails(&["import", "-c", "RUN make", tree.to_str().unwrap()]);
    assert!(err.contains("not a valid change command"), "{err}");
}

#[test]
fn import_reads_tarballs_from_files_and_stdin_compressed_or_not() {
    let s = Strata::new();
    let tree = s.dir.join("t");
    sample_rootfs(&tree, "tar");
    let tar = s.dir.join("rootfs.tar");
    strata_testkit::run_ok(std::process::Command::new("tar").args([
        "-C",
        tree.to_str().unwrap(),
        "-cf",
        tar.to_str().unwrap(),
        ".",
    ]));
    let plain = s.ok(&["import", tar.to_str().unwrap(), "from-file"]);
    strata_testkit::run_ok(std::process::Command::new("gzip").args(["-k", tar.to_str().unwrap()]));
    let gz = s.dir.join("rootfs.tar.gz");
    let zipped = s.ok(&["import", gz.to_str().unwrap(), "from-gzip"]);
    let layer = |name: &str| s.ok(&["inspect", "-f", "{{index .RootFS.Layers 0}}", name]);
    assert_eq!(
        layer("from-file"),
        layer("from-gzip"),
        "same diff_id whatever the input compression"
    );
    assert_ne!(plain, zipped, "the history comment names the source");

    let out = s
        .cmd(&["import", "-", "from-stdin"])
        .stdin(std::fs::File::open(&tar).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(layer("from-stdin"), layer("from-file"));
    assert!(s
        .ok(&["inspect", "-f", "{{.Comment}}", "from-stdin"])
        .contains("Imported from -"));
}

#[test]
fn zstd_and_uncompressed_layers_work_too() {
    let s = Strata::new();
    let tree = s.dir.join("t");
    sample_rootfs(&tree, "z");
    for c in ["zstd", "none", "gzip"] {
        s.ok(&[
            "import",
            "--compression",
            c,
            tree.to_str().unwrap(),
            &format!("c:{c}"),
        ]);
    }
    let diff = |t: &str| {
        s.ok(&[
            "inspect",
            "-f",
            "{{index .RootFS.Layers 0}}",
            &format!("c:{t}"),
        ])
    };
    assert_eq!(diff("zstd"), diff("gzip"));
    assert_eq!(diff("none"), diff("gzip"));
    s.assert_consistent();
}

#[test]
fn same_inputs_with_source_date_epoch_give_the_same_image_id() {
    let a = Strata::new();
    let b = Strata::new();
    let tree = a.dir.join("t");
    sample_rootfs(&tree, "repro");
    let id = |s: &Strata| {
        let out = s
            .cmd(&["import", tree.to_str().unwrap(), "repro"])
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(id(&a), id(&b));
}

#[test]
fn rmi_untags_first_and_deletes_with_the_last_name() {
    let s = Strata::new();
    let id = s.import_tree("one:1", "r");
    s.ok(&["tag", "one:1", "two:1"]);
    let out = s.ok(&["rmi", "one:1"]);
    assert_eq!(out, "Untagged: one:1\n");
    assert_eq!(s.ok(&["images", "-q"]).trim(), &id[7..19]);

    let out = s.ok(&["rmi", "two:1"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "Untagged: two:1");
    assert_eq!(lines[1], format!("Deleted: {id}"));
    assert!(
        lines[2].starts_with("Deleted: sha256:"),
        "the unpacked layer goes too: {out}"
    );
    assert_eq!(s.ok(&["images", "-q"]), "");
    assert_eq!(blob_count(&s.root()), 0, "every blob collected");
    s.assert_consistent();
}

#[test]
fn rmi_by_id_needs_force_when_several_repositories_name_it() {
    let s = Strata::new();
    let id = s.import_tree("one:1", "f");
    s.ok(&["tag", "one:1", "other:1"]);
    let err = s.fails(&["rmi", &id[7..19]]);
    assert!(err.contains("must be forced"), "{err}");
    let out = s.ok(&["rmi", "-f", &id[7..19]]);
    assert!(out.contains("Untagged: one:1") && out.contains("Untagged: other:1"));
    assert!(out.contains(&format!("Deleted: {id}")));
    let err = s.fails(&["rmi", "one:1"]);
    assert!(err.contains("no such image: one:1"), "{err}");
}

#[test]
fn rmi_goes_on_after_a_missing_image_and_fails_at_the_end() {
    let s = Strata::new();
    s.import_tree("keep:1", "k");
    s.import_tree("drop:1", "d");
    let out = s.run(&["rmi", "nosuch", "drop:1"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Untagged: drop:1"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no such image: nosuch:latest"));
}

#[test]
fn moving_a_tag_leaves_a_dangling_image_that_prune_removes() {
    let s = Strata::new();
    let old = s.import_tree("app:1", "old");
    let new = s.import_tree("app:1", "new");
    let rows = s.ok(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"]);
    assert!(
        rows.contains(&format!("<none>:<none> {}", &old[7..19])),
        "{rows}"
    );
    assert_eq!(
        s.ok(&["images", "-q", "--filter", "dangling=true"]).trim(),
        &old[7..19]
    );

    let out = s.ok(&["image", "prune", "-f"]);
    assert!(out.starts_with("Deleted Images:\n"), "{out}");
    assert!(out.contains(&format!("deleted: {old}")), "{out}");
    let reclaimed = out.lines().last().unwrap();
    assert!(
        reclaimed.starts_with("Total reclaimed space: ") && !reclaimed.ends_with(" 0B"),
        "{out}"
    );
    assert_eq!(s.ok(&["images", "-q"]).trim(), &new[7..19]);

    let out = s.ok(&["image", "prune", "-f"]);
    assert_eq!(out, "Total reclaimed space: 0B\n");
    let out = s.ok(&["image", "prune", "-a", "-f"]);
    assert!(out.contains("untagged: app:1"), "{out}");
    assert_eq!(s.ok(&["images", "-q"]), "");
    assert_eq!(blob_count(&s.root()), 0);
    s.assert_consistent();
}

#[test]
fn prune_without_force_asks_first() {
    let s = Strata::new();
    s.import_tree("a:1", "1");
    s.import_tree("a:1", "2");
    let out = s
        .cmd(&["image", "prune"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    let mut out = out;
    out.stdin.take().unwrap().write_all(b"n\n").unwrap();
    let out = out.wait_with_output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("WARNING! This will remove all dangling images."));
    assert_eq!(
        s.ok(&["images", "-q"]).lines().count(),
        2,
        "nothing removed on no"
    );
}

#[test]
fn shared_layers_are_stored_once_and_counted_once() {
    let s = Strata::new();
    let tree = s.dir.join("t");
    sample_rootfs(&tree, "shared");
    s.ok(&["import", "-c", "CMD [\"a\"]", tree.to_str().unwrap(), "a:1"]);
    s.ok(&["import", "-c", "CMD [\"b\"]", tree.to_str().unwrap(), "b:1"]);
    let snapshots = std::fs::read_dir(s.root().join("snapshots"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_type().unwrap().is_dir())
        .count();
    assert_eq!(snapshots, 1, "one unpacked layer for both images");
    let one_size = s.ok(&["images", "--format", "{{.Size}}", "a:1"]);
    let df = s.ok(&["system", "df", "--format", "{{.TotalCount}} {{.Size}}"]);
    let (count, total) = df.lines().next().unwrap().split_once(' ').unwrap();
    assert_eq!(count, "2");
    assert!(
        one_size.trim().starts_with(&total[..3]),
        "df {total} vs image {one_size}"
    );
    let verbose = s.ok(&["system", "df", "-v"]);
    assert!(verbose.contains("SHARED SIZE"), "{verbose}");
}

#[test]
fn bad_input_gets_clear_errors() {
    let s = Strata::new();
    let tree = s.dir.join("t");
    sample_rootfs(&tree, "e");
    let err = s.fails(&["import", tree.to_str().unwrap(), "Upper/Case"]);
    assert!(err.contains("must be lowercase"), "{err}");
    let err = s.fails(&["inspect", "nope"]);
    assert!(err.contains("no such object: nope"), "{err}");
    let err = s.fails(&["image", "inspect", "nope"]);
    assert!(err.contains("no such image: nope:latest"), "{err}");
    let err = s.fails(&["import", "/does/not/exist", "x"]);
    assert!(err.contains("/does/not/exist"), "{err}");
    let err = s.fails(&["import", "https://example.com/rootfs.tar", "x"]);
    assert!(err.contains("URL"), "{err}");
    let err = s.fails(&["tag", "nope", "x"]);
    assert!(err.contains("no such image"), "{err}");
    let err = s.fails(&["images", "--format", "{{.Nope"]);
    assert!(err.contains("template"), "{err}");
}

pub fn blob_count(root: &Path) -> usize {
    std::fs::read_dir(root.join("blobs/sha256"))
        .unwrap()
        .count()
}

#[test]
fn the_base_images_script_makes_busybox() {
    if strata_testkit::require_peer("busybox", &[]).is_none() {
        return;
    }
    let s = Strata::new();
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/base-images.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .arg("--busybox-only")
        .env("STRATA", crate::common::bin())
        .env("STRATA_ROOT", s.root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "busybox:latest\n");
    let cfg = s.ok(&[
        "inspect",
        "-f",
        "{{json .Config.Cmd}} {{.Comment}}",
        "busybox",
    ]);
    assert!(cfg.starts_with(r#"["sh"] busybox-static "#), "{cfg}");
    let files = s.ok(&["history", "-q", "busybox"]);
    assert_eq!(files.lines().count(), 1);
}
