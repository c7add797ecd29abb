//! Snapshots from a real store: overlay stacks equal flattened application, copy
//! mode equals it too, and blobs that lie about their content are refused.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;
use std::path::Path;
use std::process::Command;

use strata_oci::{media_type, Descriptor, Digest};
use strata_snapshot::apply::{apply_layer, ApplyOptions, WhiteoutMode};
use strata_snapshot::compression::{Compression, Compressor};
use strata_snapshot::guard::Guard;
use strata_snapshot::ingest::{ingest_raw, Visit};
use strata_snapshot::snapshots::{LayerRef, SnapshotMode, Snapshots};
use strata_store::{Expected, Store};
use strata_testkit::{describe_tree, TarBuilder, TempDir};

fn layers() -> Vec<Vec<u8>> {
    vec![
        TarBuilder::new()
            .dir("etc")
            .file("etc/passwd", b"root:x:0:0::/root:/bin/sh\n")
            .file("etc/hosts", b"127.0.0.1 localhost\n")
            .dir("usr")
            .dir("usr/lib")
            .file("usr/lib/libx.so", &[7u8; 50_000])
            .dir("var")
            .dir("var/cache")
            .file("var/cache/a", b"a")
            .dir("var/cache/sub")
            .file("var/cache/sub/b", b"b")
            .symlink("lib", "usr/lib")
            .finish(),
        TarBuilder::new()
            .dir("etc")
            .file("etc/.wh.hosts", b"")
            .file("etc/hostname", b"strata\n")
            .dir("var")
            .dir("var/cache")
            .file("var/cache/.wh..wh..opq", b"")
            .file("var/cache/fresh", b"f")
            .finish(),
        TarBuilder::new()
            .dir("usr")
            .dir("usr/lib")
            .hardlink("usr/lib/libx.so.1", "usr/lib/libx.so")
            .file(".wh.lib", b"")
            .finish(),
    ]
}

/// Puts the layers in the store gzip-compressed; returns what to unpack.
fn store_layers(store: &Store, layers: &[Vec<u8>]) -> Vec<LayerRef> {
    layers
        .iter()
        .map(|l| {
            let mut c = Compressor::new(store.content().writer().unwrap(), Compression::Gzip(6), 2);
            c.write_all(l).unwrap();
            let info = c.finish().unwrap().commit(Expected::default()).unwrap();
            LayerRef {
                blob: Descriptor::new(media_type::OCI_LAYER_GZIP, info.digest, info.size),
                diff_id: Digest::sha256_of(l),
            }
        })
        .collect()
}

fn flattened(dir: &Path, layers: &[Vec<u8>]) {
    std::fs::create_dir_all(dir).unwrap();
    for l in layers {
        apply_layer(&l[..], dir, ApplyOptions::new(WhiteoutMode::Apply)).unwrap();
    }
}

#[test]
fn overlay_snapshots_stack_to_the_flattened_tree() {
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipping: overlay snapshots need root");
        return;
    }
    let t = TempDir::new("snap");
    let store = Store::open(t.join("store")).unwrap();
    let snaps = Snapshots::open(&store, Some(SnapshotMode::Overlay)).unwrap();
    let layers = layers();
    let refs = store_layers(&store, &layers);
    let created = snaps.unpack(&store, &refs).unwrap();
    assert_eq!(created.len(), 3);
    assert!(
        snaps.unpack(&store, &refs).unwrap().is_empty(),
        "second unpack reuses them"
    );

    let lower: Vec<String> = snaps
        .lower_dirs(&refs.iter().map(|r| r.diff_id.clone()).collect::<Vec<_>>())
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let merged = t.join("merged");
    std::fs::create_dir_all(&merged).unwrap();
    let status = Command::new("mount")
        .args(["-t", "overlay", "overlay", "-o"])
        .arg(format!("ro,lowerdir={}", lower.join(":")))
        .arg(&merged)
        .status()
        .unwrap();
    assert!(status.success(), "mount overlay");
    let seen = describe_tree(&merged);
    let _ = Command::new("umount").arg(&merged).status();

    let flat = t.join("flat");
    flattened(&flat, &layers);
    assert_eq!(seen, describe_tree(&flat));
    assert!(!flat.join("etc/hosts").exists() && flat.join("var/cache/fresh").exists());
    assert!(!flat.join("var/cache/a").exists() && !flat.join("lib").exists());
}

#[test]
fn copy_snapshots_are_flattened_trees() {
    let t = TempDir::new("snap");
    let store = Store::open(t.join("store")).unwrap();
    let snaps = Snapshots::open(&store, Some(SnapshotMode::Copy)).unwrap();
    let layers = layers();
    let refs = store_layers(&store, &layers);
    snaps.unpack(&store, &refs).unwrap();
    let chains = strata_oci::chain_ids(&refs.iter().map(|r| r.diff_id.clone()).collect::<Vec<_>>());
    let flat = t.join("flat");
    flattened(&flat, &layers);
    assert_eq!(describe_tree(&snaps.path(&chains[2])), describe_tree(&flat));
    assert_eq!(snaps.list().unwrap().len(), 3);
}

#[test]
fn a_blob_whose_content_is_not_its_diff_id_is_refused() {
    let t = TempDir::new("snap");
    let store = Store::open(t.join("store")).unwrap();
    let snaps = Snapshots::open(&store, Some(SnapshotMode::Copy)).unwrap();
    let mut refs = store_layers(&store, &layers()[..1]);
    refs[0].diff_id = Digest::sha256_of(b"something else");
    let err = snaps.unpack(&store, &refs).unwrap_err();
    assert!(err.to_string().contains("the image config says"), "{err}");
    assert!(snaps.list().unwrap().is_empty());
    assert_eq!(
        std::fs::read_dir(store.paths().tmp()).unwrap().count(),
        0,
        "staging removed"
    );
}

#[test]
fn ingest_stores_bytes_verbatim_and_reports_the_diff_id() {
    let layer = layers().remove(0);
    let mut gz = Compressor::new(Vec::new(), Compression::Gzip(6), 2);
    gz.write_all(&layer).unwrap();
    let gz = gz.finish().unwrap();
    let mut sink = Vec::new();
    let stats = ingest_raw(&gz[..], &mut sink, Visit::Check(Guard::default())).unwrap();
    assert_eq!(sink, gz);
    assert_eq!(stats.diff_id, Digest::sha256_of(&layer));
    assert_eq!(stats.size, layer.len() as u64);
    assert_eq!(stats.input_compression, media_type::LayerCompression::Gzip);

    // Bytes after the end of the compressed stream are kept too (they are part of
    // the blob's digest), and a hostile entry stops the ingest with its name.
    let evil = TarBuilder::new().file("../x", b"").finish();
    let err = ingest_raw(&evil[..], &mut Vec::new(), Visit::Check(Guard::default())).unwrap_err();
    assert!(err.to_string().contains("../x"));
}

#[test]
fn gzip_layers_decode_with_the_system_gzip() {
    if Command::new("gzip").arg("--version").output().is_err() {
        return;
    }
    let layer = layers().remove(0);
    let mut gz = Compressor::new(Vec::new(), Compression::Gzip(6), 2);
    gz.write_all(&layer).unwrap();
    let gz = gz.finish().unwrap();
    let mut child = Command::new("gzip")
        .arg("-dc")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&gz).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, layer);
}

/// Unpacks `layers` as overlay snapshots; returns the error of the last layer, if any.
fn unpack_overlay(layers: &[Vec<u8>]) -> Result<TempDir, strata_snapshot::Error> {
    let t = TempDir::new("snap");
    let store = Store::open(t.join("store")).unwrap();
    let snaps = Snapshots::open(&store, Some(SnapshotMode::Overlay)).unwrap();
    let refs = store_layers(&store, layers);
    snaps.unpack(&store, &refs).map(|_| t)
}

#[test]
fn copy_up_never_opens_fifos_or_devices_of_a_lower_layer() {
    if !rustix::process::geteuid().is_root() {
        return;
    }
    let lower = TarBuilder::new().fifo("p").char_device("n", 1, 3).finish();
    for target in ["p", "n"] {
        let upper = TarBuilder::new().hardlink("h", target).finish();
        let layers = vec![lower.clone(), upper];
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(unpack_overlay(&layers).map(drop).map_err(|e| e.to_string()));
        });
        let result = rx
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("copy-up must not block on a FIFO");
        let err = result.unwrap_err();
        assert!(err.contains("not a file"), "{target}: {err}");
    }
}

#[test]
fn copy_up_respects_whiteouts_and_copies_symlinks() {
    if !rustix::process::geteuid().is_root() {
        return;
    }
    let base = TarBuilder::new().file("f", b"1").symlink("s", "f").finish();
    let gone = TarBuilder::new().file(".wh.f", b"").finish();
    let link_f = TarBuilder::new().hardlink("h", "f").finish();
    let err = unpack_overlay(&[base.clone(), gone, link_f]).unwrap_err();
    assert!(err.to_string().contains("in no layer"), "{err}");

    let link_s = TarBuilder::new().hardlink("h", "s").finish();
    let t = unpack_overlay(&[base, link_s]).unwrap();
    let snaps = t.join("store/snapshots");
    let top = std::fs::read_dir(&snaps)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("h").symlink_metadata().is_ok())
        .unwrap();
    assert_eq!(std::fs::read_link(top.join("h")).unwrap(), Path::new("f"));
}
