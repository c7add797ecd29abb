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

/// Writes the layer's entry (at the given path) in place of the real blob.
type LayerEntry<'a> = dyn Fn(&mut TarBuilder, &str) + 'a;

/// The parts of an OCI archive, to be tampered with before writing.
struct Oci {
    layer: Vec<u8>,
    config: Vec<u8>,
    manifest: serde_json::Value,
    index_descriptor: serde_json::Value,
}

impl Oci {
    fn new(layer: Vec<u8>) -> Oci {
        let config = serde_json::to_vec(&serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [Digest::sha256_of(&layer).to_string()]},
        }))
        .unwrap();
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": Digest::sha256_of(&config).to_string(), "size": config.len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                        "digest": Digest::sha256_of(&layer).to_string(), "size": layer.len()}],
        });
        let index_descriptor = serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "annotations": {"io.containerd.image.name": "docker.io/evil/app:1"},
        });
        Oci {
            layer,
            config,
            manifest,
            index_descriptor,
        }
    }

    /// The archive; `layer_blob` replaces the layer entry (e.g. with a symlink).
    fn archive(&self, layer_blob: Option<&LayerEntry<'_>>) -> Vec<u8> {
        let manifest = serde_json::to_vec(&self.manifest).unwrap();
        let mut d = self.index_descriptor.clone();
        d["digest"] = Digest::sha256_of(&manifest).to_string().into();
        d["size"] = manifest.len().into();
        let index =
            serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "manifests": [d]})).unwrap();
        let mut b = TarBuilder::new();
        b.file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
        let path = |bytes: &[u8]| format!("blobs/sha256/{}", Digest::sha256_of(bytes).hex());
        let layer_path = self.manifest["layers"][0]["digest"]
            .as_str()
            .unwrap()
            .replace("sha256:", "blobs/sha256/");
        match layer_blob {
            Some(f) => f(&mut b, &layer_path),
            None => {
                b.file(&path(&self.layer), &self.layer);
            }
        }
        b.file(&path(&self.config), &self.config)
            .file(&path(&manifest), &manifest)
            .file("index.json", &index);
        b.finish()
    }
}

#[test]
fn load_never_follows_links_for_blobs_and_checks_descriptor_sizes_and_types() {
    let s = Strata::new();
    let other = TarBuilder::new().file("y", b"attacker").finish();
    let real = TarBuilder::new().file("x", b"victim").finish();

    // blobs/sha256/<X> as a symlink to another blob: refused, nothing recorded.
    let oci = Oci::new(real.clone());
    let other_path = format!("blobs/sha256/{}", Digest::sha256_of(&other).hex());
    let archive = oci.archive(Some(&|b: &mut TarBuilder, p: &str| {
        b.file(&other_path, &other)
            .symlink(p, &format!("../../{other_path}"));
    }));
    let err = s.fails(&["load", "-i", &write(&s, "link.tar", &archive)]);
    assert!(err.contains("missing from the archive"), "{err}");

    // A descriptor whose size lies.
    let mut lying = Oci::new(real.clone());
    lying.manifest["layers"][0]["size"] = 1.into();
    let err = s.fails(&["load", "-i", &write(&s, "size.tar", &lying.archive(None))]);
    assert!(err.contains("the descriptor says 1 bytes"), "{err}");

    // A layer whose media type says gzip but whose content is a plain tar.
    let mut mislabelled = Oci::new(real.clone());
    mislabelled.manifest["layers"][0]["mediaType"] =
        "application/vnd.oci.image.layer.v1.tar+gzip".into();
    let err = s.fails(&[
        "load",
        "-i",
        &write(&s, "mt.tar", &mislabelled.archive(None)),
    ]);
    assert!(err.contains("but the content is none"), "{err}");
    assert_eq!(s.ok(&["images", "-q"]), "");
    s.assert_consistent();
}

#[test]
fn an_index_media_type_cannot_hide_an_image_from_garbage_collection() {
    let s = Strata::new();
    let mut oci = Oci::new(TarBuilder::new().file("x", b"keep me").finish());
    oci.index_descriptor["mediaType"] = "application/octet-stream".into();
    assert_eq!(
        s.ok(&["load", "-i", &write(&s, "mt.tar", &oci.archive(None))]),
        "Loaded image: evil/app:1\n"
    );
    s.ok(&["image", "prune", "-f"]);
    s.assert_consistent();
    assert_eq!(
        s.ok(&["inspect", "-f", "{{len .RootFS.Layers}}", "evil/app:1"])
            .trim(),
        "1"
    );
}

#[test]
fn an_archive_copy_of_a_stored_blob_is_still_verified() {
    let s = Strata::new();
    let oci = Oci::new(TarBuilder::new().file("x", b"good").finish());
    s.ok(&["load", "-i", &write(&s, "good.tar", &oci.archive(None))]);
    let archive = oci.archive(Some(&|b: &mut TarBuilder, p: &str| {
        b.file(p, b"JUNK!");
    }));
    let err = s.fails(&["load", "-i", &write(&s, "junk.tar", &archive)]);
    assert!(err.contains("mismatch"), "{err}");
    s.assert_consistent();
}
