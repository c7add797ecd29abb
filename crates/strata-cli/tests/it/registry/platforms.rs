//! Platform selection from a multi-platform index built in the test.

use strata_distribution::{ManifestRef, RepositoryName};
use strata_oci::{media_type, Descriptor, ImageIndex, Platform};
use strata_registry_client::{Client, ClientOptions};

use super::{Registry, Setup};
use crate::common::{sample_rootfs, Strata};

/// Pushes one image per platform, then an OCI index of them as `multi:1`.
fn push_index(reg: &Registry, s: &Strata, platforms: &[&str]) -> String {
    let client = Client::new(&reg.addr, ClientOptions::default()).unwrap();
    let repo = RepositoryName::new("multi").unwrap();
    let mut manifests = Vec::new();
    for p in platforms {
        let tree = s.dir.join(format!("tree-{}", p.replace('/', "-")));
        sample_rootfs(&tree, p);
        std::fs::write(tree.join("platform"), p).unwrap();
        let name = format!("{}/multi:{}", reg.addr, p.replace('/', "-"));
        s.ok(&["import", "--platform", p, tree.to_str().unwrap(), &name]);
        s.ok(&["push", &name]);
        let m = client
            .get_manifest(&repo, &ManifestRef::tag(&p.replace('/', "-")).unwrap())
            .unwrap();
        let mut d = Descriptor::new(
            media_type::OCI_MANIFEST,
            m.digest.clone(),
            m.bytes.len() as u64,
        );
        d.platform = Some(p.parse::<Platform>().unwrap());
        manifests.push(d);
    }
    let index = ImageIndex::new_oci(manifests);
    client
        .put_manifest(
            &repo,
            &ManifestRef::tag("1").unwrap(),
            media_type::OCI_INDEX,
            &index.to_bytes(),
        )
        .unwrap();
    format!("{}/multi:1", reg.addr)
}

fn inspect(s: &Strata, name: &str, template: &str) -> String {
    s.ok(&["image", "inspect", "--format", template, name])
        .trim()
        .to_owned()
}

#[test]
fn pull_picks_the_platform_of_an_index() {
    let Some(reg) = Registry::start(Setup::Plain) else {
        return;
    };
    let s = Strata::new();
    let host = Platform::host().to_string();
    let name = push_index(
        &reg,
        &s,
        &[&host, "linux/arm64/v8", "linux/arm/v6", "linux/arm/v7"],
    );

    let a = Strata::new();
    a.ok(&["pull", &name]);
    assert_eq!(inspect(&a, &name, "{{.Os}}/{{.Architecture}}"), host);

    for (wanted, expected) in [
        // Strata's import normalises arm64/v8 to arm64, as containerd does.
        ("linux/arm64", "arm64 <no value>"),
        ("linux/arm/v7", "arm v7"),
        ("linux/arm", "arm v7"),
        ("linux/arm/v6", "arm v6"),
    ] {
        let b = Strata::new();
        b.ok(&["pull", "--platform", wanted, &name]);
        assert_eq!(
            inspect(&b, &name, "{{.Architecture}} {{.Variant}}"),
            expected,
            "{wanted}"
        );
    }
    let c = Strata::new();
    let err = c.fails(&["pull", "--platform", "linux/s390x", &name]);
    assert!(err.contains("no image for platform linux/s390x"), "{err}");
    assert!(
        err.contains("linux/arm/v7"),
        "the error lists what is offered: {err}"
    );
    assert!(c.ok(&["images", "-q"]).trim().is_empty());

    // Every platform, then pushed on as the same index.
    let d = Strata::new();
    let out = d.ok(&["pull", "--all-platforms", &name]);
    let index_digest = out
        .lines()
        .find_map(|l| l.strip_prefix("Digest: "))
        .unwrap()
        .to_owned();
    let copy = format!("{}/copy:1", reg.addr);
    d.ok(&["tag", &name, &copy]);
    let pushed = d.ok(&["push", &copy]);
    assert!(
        pushed.contains(&format!("1: digest: {index_digest}")),
        "{pushed}"
    );
    let shown: serde_json::Value =
        serde_json::from_str(&d.ok(&["manifest", "inspect", &copy])).unwrap();
    assert_eq!(shown["manifests"].as_array().unwrap().len(), 4);
    d.assert_consistent();
}

#[test]
fn referrers_fall_back_to_the_tag_schema() {
    let Some(reg) = Registry::start(Setup::Plain) else {
        return;
    };
    let s = Strata::new();
    let tree = s.dir.join("tree");
    sample_rootfs(&tree, "referrers");
    let name = format!("{}/art:1", reg.addr);
    s.ok(&["import", tree.to_str().unwrap(), &name]);
    s.ok(&["push", &name]);
    let client = Client::new(&reg.addr, ClientOptions::default()).unwrap();
    let repo = RepositoryName::new("art").unwrap();
    let subject = client
        .get_manifest(&repo, &ManifestRef::tag("1").unwrap())
        .unwrap();
    assert!(client
        .referrers(&repo, &subject.digest, None)
        .unwrap()
        .is_empty());
    // docker-registry 2.8 has no referrers API: clients keep an index under
    // the `sha256-<hex>` tag, as the distribution spec's fallback says.
    let mut sig = Descriptor::new(media_type::OCI_MANIFEST, subject.digest.clone(), 1);
    sig.artifact_type = Some("application/vnd.example.signature".into());
    let mut sbom = sig.clone();
    sbom.artifact_type = Some("application/spdx+json".into());
    let index = ImageIndex::new_oci(vec![sig, sbom]);
    let tag = strata_distribution::name::referrers_tag(&subject.digest);
    client
        .put_manifest(
            &repo,
            &ManifestRef::tag(&tag).unwrap(),
            media_type::OCI_INDEX,
            &index.to_bytes(),
        )
        .unwrap();
    assert_eq!(
        client
            .referrers(&repo, &subject.digest, None)
            .unwrap()
            .len(),
        2
    );
    let sboms = client
        .referrers(&repo, &subject.digest, Some("application/spdx+json"))
        .unwrap();
    assert_eq!(sboms.len(), 1);
    assert_eq!(
        sboms[0].artifact_type.as_deref(),
        Some("application/spdx+json")
    );
}
