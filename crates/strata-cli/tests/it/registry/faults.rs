//! What a registry can do wrong: corrupt blobs, 5xx answers, hostile layers,
//! and layers whose hard links reach into their parents.

use std::io::Write;

use strata_distribution::{ManifestRef, RepositoryName};
use strata_oci::{media_type, Descriptor, Digest, ImageConfig, ImageManifest, Platform, RootFs};
use strata_registry_client::{Client, ClientOptions};
use strata_testkit::TarBuilder;

use super::{busybox_as, Proxy, Registry, Setup};
use crate::common::Strata;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// Pushes an image whose layers are the given tar streams, as `repo:1`.
fn push_crafted(reg: &Registry, repo: &str, tars: &[Vec<u8>]) -> String {
    let client = Client::new(&reg.addr, ClientOptions::default()).unwrap();
    let name = RepositoryName::new(repo).unwrap();
    let upload = |bytes: Vec<u8>| -> Descriptor {
        let digest = Digest::sha256_of(&bytes);
        let size = bytes.len() as u64;
        client
            .push_blob(&name, &digest, size, None, &mut || {
                Ok(Box::new(std::io::Cursor::new(bytes.clone())))
            })
            .unwrap();
        Descriptor::new(media_type::OCI_LAYER_GZIP, digest, size)
    };
    let layers: Vec<Descriptor> = tars.iter().map(|t| upload(gzip(t))).collect();
    let host = Platform::host();
    let config = ImageConfig {
        architecture: host.architecture.clone(),
        os: host.os.clone(),
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: tars.iter().map(|t| Digest::sha256_of(t)).collect(),
        },
        ..ImageConfig::default()
    };
    let mut config_desc = upload(config.to_bytes());
    config_desc.media_type = media_type::OCI_CONFIG.into();
    let manifest = ImageManifest::new_oci(config_desc, layers);
    client
        .put_manifest(
            &name,
            &ManifestRef::tag("1").unwrap(),
            media_type::OCI_MANIFEST,
            &manifest.to_bytes(),
        )
        .unwrap();
    format!("{}/{repo}:1", reg.addr)
}

#[test]
fn corrupt_blobs_are_refused_and_nothing_is_named() {
    let Some(reg) = Registry::start(Setup::Plain) else {
        return;
    };
    let name = format!("{}/c/bb:1", reg.addr);
    let Some(s) = busybox_as(&name) else { return };
    s.ok(&["push", &name]);
    let Some(proxy) = Proxy::start(&reg, &["--corrupt-blobs"]) else {
        return;
    };
    let t = Strata::new();
    let err = t.fails(&["pull", &format!("{}/c/bb:1", proxy.addr)]);
    assert!(err.contains("digest mismatch"), "{err}");
    assert!(t.ok(&["images", "-q"]).trim().is_empty());
    t.assert_consistent();
}

#[test]
fn server_errors_are_retried() {
    let Some(reg) = Registry::start(Setup::Plain) else {
        return;
    };
    let name = format!("{}/r/bb:1", reg.addr);
    let Some(s) = busybox_as(&name) else { return };
    s.ok(&["push", &name]);
    let Some(proxy) = Proxy::start(&reg, &["--fail-first", "2"]) else {
        return;
    };
    let t = Strata::new();
    t.ok(&["pull", &format!("{}/r/bb:1", proxy.addr)]);
    assert_eq!(
        proxy.log().matches("answered 503").count(),
        2,
        "{}",
        proxy.log()
    );
}

#[test]
fn hostile_layers_are_refused_at_the_door() {
    let Some(reg) = Registry::start(Setup::Plain) else {
        return;
    };
    let t = Strata::new();
    let victim = t.dir.join("victim");
    let escape = format!("../../../../../../..{}", victim.display());
    let tar = TarBuilder::new().file(&escape, b"owned").finish();
    let name = push_crafted(&reg, "evil/escape", &[tar]);
    let err = t.fails(&["pull", &name]);
    assert!(
        err.contains(&escape) || err.contains(".."),
        "the entry is named: {err}"
    );
    assert!(!victim.exists(), "nothing was written outside the store");
    assert!(t.ok(&["images", "-q"]).trim().is_empty());
    t.assert_consistent();
}

#[test]
fn hard_links_into_parent_layers_survive_a_parallel_pull() {
    let Some(reg) = Registry::start(Setup::Plain) else {
        return;
    };
    let base = TarBuilder::new()
        .dir("data")
        .file("data/a", b"shared content\n")
        .finish();
    // Big middle layers keep their downloads busy while the last one needs "a".
    let filler: Vec<Vec<u8>> = (0..3)
        .map(|i| {
            TarBuilder::new()
                .file(&format!("fill{i}"), &vec![i as u8; 2 << 20])
                .finish()
        })
        .collect();
    let link = TarBuilder::new().hardlink("data/b", "data/a").finish();
    let mut tars = vec![base];
    tars.extend(filler);
    tars.push(link);
    let name = push_crafted(&reg, "links/img", &tars);
    let t = Strata::new();
    t.ok(&["pull", &name]);
    t.assert_consistent();
    // The top layer's snapshot holds b, copied up from the bottom layer as overlayfs would.
    t.ok(&["create", "--name", "links", &name, "/none"]);
    let out = t.run(&["cp", "links:/data/b", "-"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut archive = tar::Archive::new(&out.stdout[..]);
    let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
    let mut content = String::new();
    std::io::Read::read_to_string(&mut entry, &mut content).unwrap();
    assert_eq!(content, "shared content\n");
    t.ok(&["rm", "links"]);
}
