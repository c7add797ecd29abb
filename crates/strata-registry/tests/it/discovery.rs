//! Content discovery: tag lists and the catalog with paging, referrers.

use strata_oci::{media_type, Descriptor, Digest, ImageManifest};

use crate::{call, put_blob, put_image, TestServer};

#[test]
pub(crate) fn tags_and_catalog_page_with_links() {
    let s = TestServer::start();
    for tag in ["c", "a", "e", "b", "d"] {
        put_image(&s, "lib/tags", tag, &[b"x"]);
    }
    put_image(&s, "lib/other", "1", &[b"y"]);
    put_image(&s, "zeta", "1", &[b"z"]);
    let all = call(&s, "GET", "/v2/lib/tags/tags/list", &[], b"").json();
    assert_eq!(all["name"], "lib/tags");
    assert_eq!(all["tags"], serde_json::json!(["a", "b", "c", "d", "e"]));
    let page = call(&s, "GET", "/v2/lib/tags/tags/list?n=2", &[], b"");
    assert_eq!(page.json()["tags"], serde_json::json!(["a", "b"]));
    let link = page.header("link").unwrap().to_owned();
    assert!(
        link.contains("last=b") && link.contains("rel=\"next\""),
        "{link}"
    );
    let page = call(&s, "GET", "/v2/lib/tags/tags/list?n=2&last=b", &[], b"");
    assert_eq!(page.json()["tags"], serde_json::json!(["c", "d"]));
    let page = call(&s, "GET", "/v2/lib/tags/tags/list?n=2&last=d", &[], b"");
    assert_eq!(
        (page.json()["tags"].clone(), page.header("link")),
        (serde_json::json!(["e"]), None)
    );
    let cat = call(&s, "GET", "/v2/_catalog", &[], b"").json();
    assert_eq!(
        cat["repositories"],
        serde_json::json!(["lib/other", "lib/tags", "zeta"])
    );
    let cat = call(&s, "GET", "/v2/_catalog?n=1&last=lib/other", &[], b"").json();
    assert_eq!(cat["repositories"], serde_json::json!(["lib/tags"]));
    assert_eq!(call(&s, "GET", "/v2/_catalog?n=x", &[], b"").status, 400);
}

#[test]
pub(crate) fn referrers_list_subject_manifests_and_filter() {
    let s = TestServer::start();
    let (_, subject) = put_image(&s, "r", "v1", &[b"base"]);
    let push_referrer = |artifact: &str, body: &[u8]| -> Digest {
        let cd = put_blob(&s, "r", b"{}");
        let mut m = ImageManifest::new_oci(
            Descriptor::new(media_type::OCI_EMPTY, cd, 2),
            vec![Descriptor::new(
                "application/octet-stream",
                put_blob(&s, "r", body),
                body.len() as u64,
            )],
        );
        m.artifact_type = Some(artifact.to_owned());
        m.subject = Some(Descriptor::new(
            media_type::OCI_MANIFEST,
            subject.clone(),
            1,
        ));
        let bytes = m.to_bytes();
        let d = Digest::sha256_of(&bytes);
        let a = call(
            &s,
            "PUT",
            &format!("/v2/r/manifests/{d}"),
            &[("Content-Type", media_type::OCI_MANIFEST)],
            &bytes,
        );
        assert_eq!(a.status, 201);
        assert_eq!(a.header("oci-subject"), Some(subject.to_string().as_str()));
        d
    };
    let sig = push_referrer("application/vnd.example.sig", b"signature");
    let sbom = push_referrer("application/spdx+json", b"sbom");
    let a = call(&s, "GET", &format!("/v2/r/referrers/{subject}"), &[], b"");
    assert_eq!(
        (a.status, a.header("content-type")),
        (200, Some(media_type::OCI_INDEX))
    );
    let list = a.json();
    let digests: Vec<&str> = list["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["digest"].as_str().unwrap())
        .collect();
    assert_eq!(digests.len(), 2);
    assert!(
        digests.contains(&sig.to_string().as_str()) && digests.contains(&sbom.to_string().as_str())
    );
    let f = call(
        &s,
        "GET",
        &format!("/v2/r/referrers/{subject}?artifactType=application/spdx%2Bjson"),
        &[],
        b"",
    );
    assert_eq!(f.header("oci-filters-applied"), Some("artifactType"));
    assert_eq!(
        f.json()["manifests"][0]["artifactType"],
        "application/spdx+json"
    );
    assert_eq!(f.json()["manifests"].as_array().unwrap().len(), 1);
    // No referrers: an empty index, not a 404.
    let none = call(
        &s,
        "GET",
        &format!("/v2/r/referrers/{}", Digest::sha256_of(b"no")),
        &[],
        b"",
    );
    assert_eq!(
        (
            none.status,
            none.json()["manifests"].as_array().unwrap().len()
        ),
        (200, 0)
    );
    // A deleted referrer is gone from the list.
    assert_eq!(
        call(&s, "DELETE", &format!("/v2/r/manifests/{sig}"), &[], b"").status,
        202
    );
    let a = call(&s, "GET", &format!("/v2/r/referrers/{subject}"), &[], b"");
    assert_eq!(a.json()["manifests"].as_array().unwrap().len(), 1);
}
