//! The push workflow: monolithic and chunked uploads, mounts, manifests.

use strata_oci::{media_type, Descriptor, Digest, ImageManifest};

use crate::{call, put_blob, put_image, TestServer};

#[test]
pub(crate) fn monolithic_post_with_digest() {
    let s = TestServer::start();
    let data = b"one request";
    let d = Digest::sha256_of(data);
    let a = call(
        &s,
        "POST",
        &format!("/v2/m/blobs/uploads/?digest={d}"),
        &[("Content-Type", "application/octet-stream")],
        data,
    );
    assert_eq!(a.status, 201);
    assert_eq!(
        a.header("location"),
        Some(format!("/v2/m/blobs/{d}").as_str())
    );
    assert_eq!(
        call(&s, "GET", &format!("/v2/m/blobs/{d}"), &[], b"").body,
        data
    );
    // A wrong digest is refused and nothing is stored.
    let wrong = Digest::sha256_of(b"other");
    let a = call(
        &s,
        "POST",
        &format!("/v2/m/blobs/uploads/?digest={wrong}"),
        &[],
        data,
    );
    assert_eq!((a.status, a.code()), (400, "DIGEST_INVALID".to_owned()));
    assert_eq!(
        call(&s, "HEAD", &format!("/v2/m/blobs/{wrong}"), &[], b"").status,
        404
    );
}

#[test]
pub(crate) fn chunked_uploads_in_order_and_their_status() {
    let s = TestServer::start();
    let a = call(&s, "POST", "/v2/c/blobs/uploads/", &[], b"");
    assert_eq!((a.status, a.header("range")), (202, Some("0-0")));
    let loc = a.header("location").unwrap().to_owned();
    let a = call(
        &s,
        "PATCH",
        &loc,
        &[
            ("Content-Range", "0-4"),
            ("Content-Type", "application/octet-stream"),
        ],
        b"hello",
    );
    assert_eq!((a.status, a.header("range")), (202, Some("0-4")));
    // Out of order: 416, and the session is unchanged.
    let bad = call(&s, "PATCH", &loc, &[("Content-Range", "9-10")], b"xx");
    assert_eq!((bad.status, bad.code()), (416, "RANGE_INVALID".to_owned()));
    let st = call(&s, "GET", &loc, &[], b"");
    assert_eq!((st.status, st.header("range")), (204, Some("0-4")));
    assert!(st.header("docker-upload-uuid").is_some());
    // Without Content-Range: a streamed chunk.
    let a = call(&s, "PATCH", &loc, &[], b" world");
    assert_eq!(a.header("range"), Some("0-10"));
    let d = Digest::sha256_of(b"hello world!");
    let a = call(&s, "PUT", &format!("{loc}?digest={d}"), &[], b"!");
    assert_eq!(a.status, 201);
    assert_eq!(
        call(&s, "GET", &format!("/v2/c/blobs/{d}"), &[], b"").body,
        b"hello world!"
    );
    // The session is gone.
    assert_eq!(call(&s, "GET", &loc, &[], b"").status, 404);
    // Cancelling a session.
    let a = call(&s, "POST", "/v2/c/blobs/uploads/", &[], b"");
    let loc = a.header("location").unwrap().to_owned();
    assert_eq!(call(&s, "DELETE", &loc, &[], b"").status, 204);
    assert_eq!(
        call(&s, "GET", &loc, &[], b"").code(),
        "BLOB_UPLOAD_UNKNOWN"
    );
}

#[test]
pub(crate) fn chunked_transfer_encoding_bodies() {
    let s = TestServer::start();
    let a = call(&s, "POST", "/v2/te/blobs/uploads/", &[], b"");
    let loc = a.header("location").unwrap().to_owned();
    // ureq sends a reader body of unknown length chunked.
    let data = vec![7u8; 300_000];
    let d = Digest::sha256_of(&data);
    let url = format!("{}{loc}", s.base);
    let mut reader = std::io::Cursor::new(data.clone());
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let resp = agent
        .run(
            ureq::http::Request::builder()
                .method("PATCH")
                .uri(&url)
                .body(ureq::SendBody::from_reader(&mut reader))
                .unwrap(),
        )
        .unwrap();
    assert_eq!(resp.status().as_u16(), 202);
    assert_eq!(
        call(&s, "PUT", &format!("{loc}?digest={d}"), &[], b"").status,
        201
    );
    assert_eq!(
        call(&s, "GET", &format!("/v2/te/blobs/{d}"), &[], b"").body,
        data
    );
}

#[test]
pub(crate) fn mounts_link_blobs_from_another_repository() {
    let s = TestServer::start();
    let d = put_blob(&s, "src/repo", b"shared");
    let a = call(
        &s,
        "POST",
        &format!("/v2/dst/blobs/uploads/?mount={d}&from=src/repo"),
        &[],
        b"",
    );
    assert_eq!(
        (a.status, a.header("location")),
        (201, Some(format!("/v2/dst/blobs/{d}").as_str()))
    );
    assert_eq!(
        call(&s, "GET", &format!("/v2/dst/blobs/{d}"), &[], b"").body,
        b"shared"
    );
    // Not in the source: an ordinary upload session starts.
    let other = Digest::sha256_of(b"absent");
    let a = call(
        &s,
        "POST",
        &format!("/v2/dst/blobs/uploads/?mount={other}&from=src/repo"),
        &[],
        b"",
    );
    assert_eq!(a.status, 202);
}

#[test]
pub(crate) fn manifests_are_validated() {
    let s = TestServer::start();
    let missing = Descriptor::new(
        media_type::OCI_LAYER_GZIP,
        Digest::sha256_of(b"never pushed"),
        3,
    );
    let config = put_blob(&s, "v", b"{}");
    let m = ImageManifest::new_oci(
        Descriptor::new(media_type::OCI_CONFIG, config, 2),
        vec![missing],
    );
    let put = |body: &[u8], ct: &str, reference: &str| {
        call(
            &s,
            "PUT",
            &format!("/v2/v/manifests/{reference}"),
            &[("Content-Type", ct)],
            body,
        )
    };
    let a = put(&m.to_bytes(), media_type::OCI_MANIFEST, "t");
    assert_eq!(
        (a.status, a.code()),
        (400, "MANIFEST_BLOB_UNKNOWN".to_owned())
    );
    assert_eq!(
        put(b"not json", media_type::OCI_MANIFEST, "t").code(),
        "MANIFEST_INVALID"
    );
    assert_eq!(
        put(b"{\"schemaVersion\":1}", media_type::OCI_MANIFEST, "t").code(),
        "MANIFEST_INVALID"
    );
    // The declared type and the header must agree.
    let (bytes, _) = put_image(&s, "v", "ok", &[b"l"]);
    assert_eq!(
        put(&bytes, media_type::DOCKER_MANIFEST, "t2").code(),
        "MANIFEST_INVALID"
    );
    // Pushed by digest, the bytes must hash to it.
    let wrong = Digest::sha256_of(b"x");
    assert_eq!(
        put(&bytes, media_type::OCI_MANIFEST, &wrong.to_string()).code(),
        "DIGEST_INVALID"
    );
    let right = Digest::sha256_of(&bytes);
    assert_eq!(
        put(&bytes, media_type::OCI_MANIFEST, &right.to_string()).status,
        201
    );
    // Too big.
    let huge = vec![b' '; (4 << 20) + 10];
    assert_eq!(put(&huge, media_type::OCI_MANIFEST, "big").status, 400);
}
