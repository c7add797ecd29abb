//! The pull workflow: manifests by tag and digest, blobs whole and by range.

use strata_oci::{media_type, Digest};

use crate::{call, put_image, TestServer};

#[test]
pub(crate) fn manifests_and_blobs_come_back_as_pushed() {
    let s = TestServer::start();
    let (bytes, digest) = put_image(&s, "team/app", "v1", &[b"layer one"]);
    assert_eq!(call(&s, "GET", "/v2/", &[], b"").status, 200);
    let base = call(&s, "GET", "/v2/", &[], b"");
    assert_eq!(
        base.header("docker-distribution-api-version"),
        Some("registry/2.0")
    );
    for reference in ["v1".to_owned(), digest.to_string()] {
        let a = call(
            &s,
            "GET",
            &format!("/v2/team/app/manifests/{reference}"),
            &[],
            b"",
        );
        assert_eq!(a.status, 200);
        assert_eq!(a.body, bytes);
        assert_eq!(a.header("content-type"), Some(media_type::OCI_MANIFEST));
        assert_eq!(
            a.header("docker-content-digest"),
            Some(digest.to_string().as_str())
        );
        let h = call(
            &s,
            "HEAD",
            &format!("/v2/team/app/manifests/{reference}"),
            &[],
            b"",
        );
        assert_eq!(h.status, 200);
        assert_eq!(
            h.header("content-length"),
            Some(bytes.len().to_string().as_str())
        );
    }
    let layer = Digest::sha256_of(b"layer one");
    let a = call(&s, "GET", &format!("/v2/team/app/blobs/{layer}"), &[], b"");
    assert_eq!((a.status, a.body.as_slice()), (200, &b"layer one"[..]));
    let h = call(&s, "HEAD", &format!("/v2/team/app/blobs/{layer}"), &[], b"");
    assert_eq!((h.status, h.header("content-length")), (200, Some("9")));
    // Ranges: a slice, an open end, a suffix, and one past the end (416).
    let ranged = |range: &str| {
        call(
            &s,
            "GET",
            &format!("/v2/team/app/blobs/{layer}"),
            &[("Range", range)],
            b"",
        )
    };
    let r = ranged("bytes=2-4");
    assert_eq!((r.status, r.body.as_slice()), (206, &b"yer"[..]));
    assert_eq!(r.header("content-range"), Some("bytes 2-4/9"));
    assert_eq!(ranged("bytes=6-").body, b"one");
    assert_eq!(ranged("bytes=-3").body, b"one");
    let r = ranged("bytes=9-");
    assert_eq!(
        (r.status, r.header("content-range")),
        (416, Some("bytes */9"))
    );
}

#[test]
pub(crate) fn unknown_things_get_spec_errors() {
    let s = TestServer::start();
    put_image(&s, "a", "v1", &[b"x"]);
    let missing = Digest::sha256_of(b"nothing");
    let cases = [
        (
            "GET",
            "/v2/a/manifests/v2".to_owned(),
            404,
            "MANIFEST_UNKNOWN",
        ),
        (
            "GET",
            format!("/v2/a/manifests/{missing}"),
            404,
            "MANIFEST_UNKNOWN",
        ),
        (
            "GET",
            "/v2/a/manifests/.INVALID_MANIFEST_NAME".to_owned(),
            404,
            "MANIFEST_UNKNOWN",
        ),
        ("GET", format!("/v2/a/blobs/{missing}"), 404, "BLOB_UNKNOWN"),
        (
            "GET",
            "/v2/a/blobs/sha256:xyz".to_owned(),
            400,
            "DIGEST_INVALID",
        ),
        ("GET", "/v2/UPPER/tags/list".to_owned(), 400, "NAME_INVALID"),
        (
            "GET",
            "/v2/nobody/tags/list".to_owned(),
            404,
            "NAME_UNKNOWN",
        ),
        (
            "GET",
            "/v2/a/blobs/uploads/doesnotexist".to_owned(),
            404,
            "BLOB_UPLOAD_UNKNOWN",
        ),
        ("POST", "/v2/a/manifests/v1".to_owned(), 405, "UNSUPPORTED"),
    ];
    for (method, path, status, code) in cases {
        let a = call(&s, method, &path, &[], b"");
        assert_eq!(
            (a.status, a.code()),
            (status, code.to_owned()),
            "{method} {path}"
        );
    }
    // A blob of another repository is not visible here.
    put_image(&s, "b", "v1", &[b"only in b"]);
    let only_b = Digest::sha256_of(b"only in b");
    assert_eq!(
        call(&s, "GET", &format!("/v2/a/blobs/{only_b}"), &[], b"").status,
        404
    );
    assert_eq!(call(&s, "GET", "/nothing/here", &[], b"").status, 404);
    assert_eq!(call(&s, "GET", "/healthz", &[], b"").status, 200);
}
