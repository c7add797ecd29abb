//! Hostile layers, crafted entry by entry: refused at the door with the entry
//! named and nothing recorded, or (for cross-layer symlinks) kept inside the root.

use std::path::Path;

use strata_oci::Digest;
use strata_testkit::TarBuilder;

use crate::common::Strata;
use crate::images::blob_count;

/// A docker-archive with the given uncompressed layers.
fn docker_archive(layers: &[Vec<u8>], tag: &str) -> Vec<u8> {
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| Digest::sha256_of(l).to_string())
        .collect();
    docker_archive_claiming(layers, &diff_ids, tag)
}

/// A docker-archive whose config claims `diff_ids`, whatever the layers hold.
fn docker_archive_claiming(layers: &[Vec<u8>], diff_ids: &[String], tag: &str) -> Vec<u8> {
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    });
    let config = serde_json::to_vec(&config).unwrap();
    let config_name = format!("{}.json", Digest::sha256_of(&config).hex());
    let mut b = TarBuilder::new();
    let mut paths = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let p = format!("layer{i}/layer.tar");
        b.file(&p, l);
        paths.push(p);
    }
    b.file(&config_name, &config);
    let manifest = serde_json::json!([{"Config": config_name, "RepoTags": [tag], "Layers": paths}]);
    b.file("manifest.json", &serde_json::to_vec(&manifest).unwrap());
    b.finish()
}

fn assert_nothing_recorded(s: &Strata) {
    assert_eq!(s.ok(&["images", "-q"]), "");
    if s.root().join("blobs/sha256").exists() {
        assert_eq!(blob_count(&s.root()), 0, "no blob kept");
    }
}

fn write(s: &Strata, name: &str, bytes: &[u8]) -> String {
    let p = s.dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_owned()
}

#[test]
fn import_refuses_escapes_and_names_the_entry() {
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "dotdot",
            TarBuilder::new()
                .file("ok", b"1")
                .file("../../etc/evil", b"x")
                .finish(),
            "../../etc/evil",
        ),
        (
            "through-symlink",
            TarBuilder::new()
                .symlink("etc", "/etc")
                .file("etc/passwd", b"x")
                .finish(),
            "etc/passwd",
        ),
        (
            "hardlink-out",
            TarBuilder::new()
                .hardlink("shadow", "../../../etc/shadow")
                .finish(),
            "shadow",
        ),
        (
            "whiteout-dotdot",
            TarBuilder::new().file("a/.wh..", b"").finish(),
            "a/.wh..",
        ),
    ];
    for (name, tar, entry) in cases {
        let s = Strata::new();
        let path = write(&s, &format!("{name}.tar"), &tar);
        let err = s.fails(&["import", &path, "evil"]);
        assert!(
            err.contains("refusing layer entry") && err.contains(entry),
            "{name}: {err}"
        );
        assert_nothing_recorded(&s);
        s.assert_consistent();
    }
}

#[test]
fn load_refuses_a_hostile_layer_before_recording_anything() {
    let s = Strata::new();
    let evil = TarBuilder::new()
        .dir("bin")
        .file("bin/../../../tmp/evil", b"x")
        .finish();
    let archive = docker_archive(
        &[TarBuilder::new().file("ok", b"1").finish(), evil],
        "evil:1",
    );
    let path = write(&s, "evil.tar", &archive);
    let err = s.fails(&["load", "-i", &path]);
    assert!(
        err.contains("layer1/layer.tar") && err.contains("bin/../../../tmp/evil"),
        "{err}"
    );
    assert_eq!(s.ok(&["images", "-q"]), "");
    s.assert_consistent();
}

#[test]
fn a_lower_layer_symlink_cannot_redirect_an_upper_layer_to_the_host() {
    let s = Strata::new();
    let canary = s.dir.join("canary");
    std::fs::create_dir_all(&canary).unwrap();
    let lower = TarBuilder::new()
        .symlink("escape", canary.to_str().unwrap())
        .symlink("up", "../../../../../../..")
        .finish();
    let upper = TarBuilder::new()
        .file("escape/pwned", b"x")
        .file("up/pwned-too", b"y")
        .finish();
    let path = write(&s, "two.tar", &docker_archive(&[lower, upper], "two:1"));
    assert_eq!(s.ok(&["load", "-i", &path]), "Loaded image: two:1\n");
    assert_eq!(
        std::fs::read_dir(&canary).unwrap().count(),
        0,
        "host canary untouched"
    );
    assert!(!Path::new("/pwned-too").exists());
    s.assert_consistent();
}

#[test]
fn load_refuses_layers_that_do_not_match_the_config() {
    let s = Strata::new();
    let real = TarBuilder::new().file("a", b"1").finish();
    let claimed = Digest::sha256_of(&TarBuilder::new().file("a", b"2").finish()).to_string();
    let archive = docker_archive_claiming(&[real], &[claimed], "x:1");
    let path = write(&s, "bad.tar", &archive);
    let err = s.fails(&["load", "-i", &path]);
    assert!(err.contains("the image config says"), "{err}");
    assert_eq!(s.ok(&["images", "-q"]), "");
}

#[test]
fn import_refuses_oversized_and_malformed_input() {
    let s = Strata::new();
    let path = write(&s, "notatar.tar", &[7u8; 4000]);
    let err = s.fails(&["import", &path, "x"]);
    assert!(
        err.contains("malformed layer") || err.contains("refusing"),
        "{err}"
    );
    assert_nothing_recorded(&s);
}
