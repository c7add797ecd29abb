//! save and load between Strata stores: formats, digests, sharing, failures.

use crate::common::Strata;
use crate::images::blob_count;

fn digest_and_id(s: &Strata, name: &str) -> (String, String) {
    let out = s.ok(&[
        "images",
        "--no-trunc",
        "--format",
        "{{.Digest}} {{.ID}}",
        name,
    ]);
    let (d, i) = out.trim().split_once(' ').unwrap();
    (d.to_owned(), i.to_owned())
}

#[test]
fn docker_archive_round_trip_keeps_ids_and_layers() {
    let a = Strata::new();
    let id = a.import_tree("app:1", "x");
    let tar = a.dir.join("app.tar");
    a.ok(&["save", "-o", tar.to_str().unwrap(), "app:1"]);

    let b = Strata::new();
    assert_eq!(
        b.ok(&["load", "-i", tar.to_str().unwrap()]),
        "Loaded image: app:1\n"
    );
    assert_eq!(b.ok(&["inspect", "-f", "{{.Id}}", "app:1"]).trim(), id);
    let layers = |s: &Strata| s.ok(&["inspect", "-f", "{{json .RootFS.Layers}}", "app:1"]);
    assert_eq!(layers(&a), layers(&b));
    b.assert_consistent();

    // Loading the same archive again changes nothing.
    let before = blob_count(&b.root());
    b.ok(&["load", "-q", "-i", tar.to_str().unwrap()]);
    assert_eq!(blob_count(&b.root()), before);
}

#[test]
fn oci_archive_round_trip_keeps_the_manifest_digest() {
    let a = Strata::new();
    a.import_tree("app:1", "oci");
    let tar = a.dir.join("app-oci.tar");
    a.ok(&[
        "save",
        "--format",
        "oci-archive",
        "-o",
        tar.to_str().unwrap(),
        "app:1",
    ]);
    let b = Strata::new();
    assert_eq!(
        b.ok(&["load", "-i", tar.to_str().unwrap()]),
        "Loaded image: app:1\n"
    );
    assert_eq!(digest_and_id(&a, "app:1"), digest_and_id(&b, "app:1"));
}

#[test]
fn saving_several_images_writes_shared_layers_once() {
    let a = Strata::new();
    let tree = a.dir.join("t");
    crate::common::sample_rootfs(&tree, "share");
    a.ok(&["import", "-c", "CMD [\"a\"]", tree.to_str().unwrap(), "a:1"]);
    a.ok(&["import", "-c", "CMD [\"b\"]", tree.to_str().unwrap(), "b:1"]);
    let tar = a.dir.join("both.tar");
    a.ok(&["save", "-o", tar.to_str().unwrap(), "a:1", "b:1"]);
    let list = std::process::Command::new("tar")
        .args(["tf", tar.to_str().unwrap()])
        .output()
        .unwrap();
    let names = String::from_utf8(list.stdout).unwrap();
    assert_eq!(
        names.lines().count(),
        4,
        "2 configs, 1 layer, manifest.json: {names}"
    );

    let b = Strata::new();
    let out = b.ok(&["load", "-i", tar.to_str().unwrap()]);
    assert_eq!(out, "Loaded image: a:1\nLoaded image: b:1\n");
}

#[test]
fn load_reads_stdin_and_compressed_archives() {
    let a = Strata::new();
    let id = a.import_tree("app:1", "gz");
    let tar = a.dir.join("app.tar");
    a.ok(&["save", "-o", tar.to_str().unwrap(), "app:1"]);
    strata_testkit::run_ok(std::process::Command::new("gzip").arg(tar.to_str().unwrap()));
    let b = Strata::new();
    let out = b
        .cmd(&["load"])
        .stdin(std::fs::File::open(a.dir.join("app.tar.gz")).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(b.ok(&["inspect", "-f", "{{.Id}}", "app:1"]).trim(), id);
}

#[test]
fn saving_by_id_saves_without_names_and_a_repository_saves_all_its_tags() {
    let a = Strata::new();
    let id = a.import_tree("app:1", "id");
    a.ok(&["tag", "app:1", "app:2"]);
    let by_id = a.dir.join("id.tar");
    a.ok(&["save", "-o", by_id.to_str().unwrap(), &id[7..19]]);
    let b = Strata::new();
    assert_eq!(
        b.ok(&["load", "-i", by_id.to_str().unwrap()]),
        format!("Loaded image ID: {id}\n")
    );

    let repo = a.dir.join("repo.tar");
    a.ok(&["save", "-o", repo.to_str().unwrap(), "app"]);
    let c = Strata::new();
    assert_eq!(
        c.ok(&["load", "-i", repo.to_str().unwrap()]),
        "Loaded image: app:1\nLoaded image: app:2\n"
    );
}

#[test]
fn a_failed_save_leaves_no_file_and_a_bad_archive_records_nothing() {
    let a = Strata::new();
    a.import_tree("app:1", "f");
    let out = a.dir.join("out.tar");
    a.fails(&["save", "-o", out.to_str().unwrap(), "app:1", "missing:1"]);
    assert!(!out.exists());
    assert_eq!(
        std::fs::read_dir(a.dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains("partial")
            })
            .count(),
        0
    );

    let garbage = a.dir.join("garbage.tar");
    std::fs::write(&garbage, b"this is not a tar archive at all").unwrap();
    let b = Strata::new();
    let err = b.fails(&["load", "-i", garbage.to_str().unwrap()]);
    assert!(
        err.contains("invalid archive") || err.contains("manifest.json"),
        "{err}"
    );
    assert_eq!(b.ok(&["images", "-q"]), "");
}
