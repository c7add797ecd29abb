//! Content management: deleting tags, manifests and blobs; deletes disabled.

use strata_oci::Digest;

use crate::{call, put_image, TestServer};

#[test]
pub(crate) fn tags_manifests_and_blobs_can_be_deleted() {
    let s = TestServer::start();
    let (_, d) = put_image(&s, "del", "v1", &[b"layer"]);
    let a = call(
        &s,
        "PUT",
        "/v2/del/manifests/v2",
        &[("Content-Type", strata_oci::media_type::OCI_MANIFEST)],
        &call(&s, "GET", "/v2/del/manifests/v1", &[], b"").body,
    );
    assert_eq!(a.status, 201);
    // Deleting a tag leaves the manifest and the other tag.
    assert_eq!(
        call(&s, "DELETE", "/v2/del/manifests/v1", &[], b"").status,
        202
    );
    assert_eq!(
        call(&s, "GET", "/v2/del/manifests/v1", &[], b"").status,
        404
    );
    assert_eq!(
        call(&s, "GET", "/v2/del/manifests/v2", &[], b"").status,
        200
    );
    // Deleting the manifest takes its tags along.
    assert_eq!(
        call(&s, "DELETE", &format!("/v2/del/manifests/{d}"), &[], b"").status,
        202
    );
    assert_eq!(
        call(&s, "GET", &format!("/v2/del/manifests/{d}"), &[], b"").status,
        404
    );
    assert_eq!(
        call(&s, "GET", "/v2/del/manifests/v2", &[], b"").status,
        404
    );
    assert_eq!(
        call(&s, "DELETE", &format!("/v2/del/manifests/{d}"), &[], b"").code(),
        "MANIFEST_UNKNOWN"
    );
    let layer = Digest::sha256_of(b"layer");
    assert_eq!(
        call(&s, "DELETE", &format!("/v2/del/blobs/{layer}"), &[], b"").status,
        202
    );
    assert_eq!(
        call(&s, "HEAD", &format!("/v2/del/blobs/{layer}"), &[], b"").status,
        404
    );
    assert_eq!(
        call(&s, "DELETE", &format!("/v2/del/blobs/{layer}"), &[], b"").code(),
        "BLOB_UNKNOWN"
    );
}

#[test]
pub(crate) fn deletes_can_be_disabled() {
    let s = TestServer::with(|c| c.delete_enabled = Some(false));
    let (_, d) = put_image(&s, "keep", "v1", &[b"l"]);
    let a = call(&s, "DELETE", &format!("/v2/keep/manifests/{d}"), &[], b"");
    assert_eq!((a.status, a.code()), (405, "UNSUPPORTED".to_owned()));
    assert_eq!(
        call(&s, "GET", "/v2/keep/manifests/v1", &[], b"").status,
        200
    );
}
