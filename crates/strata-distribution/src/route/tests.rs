#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::*;
use crate::errcode::ErrorCode;

fn digest() -> String {
    format!("sha256:{}", "0123456789abcdef".repeat(4))
}

fn name(s: &str) -> RepositoryName {
    RepositoryName::new(s).unwrap()
}

#[test]
fn every_endpoint_parses_and_round_trips() {
    let d = digest();
    let cases = [
        ("/v2/", Route::Base),
        ("/v2/_catalog", Route::Catalog),
        ("/v2/a/b/tags/list", Route::Tags { name: name("a/b") }),
        (
            "/v2/library/ubuntu/manifests/latest",
            Route::Manifest {
                name: name("library/ubuntu"),
                reference: ManifestRef::Tag("latest".into()),
            },
        ),
        (
            &format!("/v2/a/manifests/{d}"),
            Route::Manifest {
                name: name("a"),
                reference: ManifestRef::Digest(d.parse().unwrap()),
            },
        ),
        (
            &format!("/v2/a/b/c/blobs/{d}"),
            Route::Blob {
                name: name("a/b/c"),
                digest: d.parse().unwrap(),
            },
        ),
        (
            "/v2/a/blobs/uploads/",
            Route::UploadStart { name: name("a") },
        ),
        (
            "/v2/a/blobs/uploads/0f4c-9a_b.c=",
            Route::Upload {
                name: name("a"),
                id: "0f4c-9a_b.c=".into(),
            },
        ),
        (
            &format!("/v2/a/referrers/{d}"),
            Route::Referrers {
                name: name("a"),
                digest: d.parse().unwrap(),
            },
        ),
    ];
    for (path, route) in cases {
        assert_eq!(Route::parse(path).unwrap(), route, "{path}");
        assert_eq!(route.path(), path);
        assert_eq!(route.to_string().parse::<Route>().unwrap(), route);
    }
}

#[test]
fn names_may_contain_endpoint_words() {
    let route = Route::parse("/v2/blobs/manifests/tags/manifests/list").unwrap();
    assert_eq!(
        route,
        Route::Manifest {
            name: name("blobs/manifests/tags"),
            reference: ManifestRef::Tag("list".into()),
        }
    );
    let route = Route::parse("/v2/x/blobs/uploads/tags/list").unwrap();
    assert_eq!(
        route,
        Route::Tags {
            name: name("x/blobs/uploads")
        }
    );
    assert_eq!(route.name(), Some(&name("x/blobs/uploads")));
}

#[test]
fn missing_trailing_slashes_are_accepted() {
    assert_eq!(Route::parse("/v2").unwrap(), Route::Base);
    assert_eq!(
        Route::parse("/v2/a/blobs/uploads").unwrap(),
        Route::UploadStart { name: name("a") }
    );
}

#[test]
fn bad_parts_give_their_spec_codes() {
    let code = |p: &str| Route::parse(p).unwrap_err().code();
    assert_eq!(code("/v2/A/tags/list"), Some(ErrorCode::NameInvalid));
    assert_eq!(code("/v2/a//b/tags/list"), Some(ErrorCode::NameInvalid));
    assert_eq!(code("/v2/tags/list"), Some(ErrorCode::NameInvalid));
    assert_eq!(
        code("/v2/a/manifests/sha256:totallywrong"),
        Some(ErrorCode::DigestInvalid)
    );
    assert_eq!(
        code("/v2/a/manifests/.INVALID_MANIFEST_NAME"),
        Some(ErrorCode::TagInvalid)
    );
    assert_eq!(code("/v2/a/blobs/latest"), Some(ErrorCode::DigestInvalid));
    assert_eq!(
        code("/v2/a/referrers/sha256:abc"),
        Some(ErrorCode::DigestInvalid)
    );
    assert_eq!(
        code("/v2/a/blobs/uploads/..%2f"),
        Some(ErrorCode::BlobUploadUnknown)
    );
    let long = format!("/v2/{}/tags/list", "a".repeat(256));
    assert_eq!(code(&long), Some(ErrorCode::NameInvalid));
}

#[test]
fn other_paths_are_unknown_routes() {
    for bad in [
        "",
        "/",
        "/v1/",
        "/v2x",
        "/v2/a",
        "/v2/a/tags",
        "/v2/a/tags/list/",
        "/v2/a/tags/list?n=1",
        "/v2/a/manifests/",
        "/v2/_catalog/",
        "v2/",
    ] {
        let err = Route::parse(bad).unwrap_err();
        assert!(
            matches!(err, Error::UnknownRoute { .. } | Error::InvalidTag { .. }),
            "{bad:?} gave {err:?}"
        );
    }
}

#[test]
fn required_scopes_follow_the_method() {
    let d = digest();
    let scope = |path: &str, method: &str| {
        Route::parse(path)
            .unwrap()
            .required_scope(method)
            .map(|s| s.to_string())
    };
    assert_eq!(
        scope("/v2/a/b/tags/list", "GET").as_deref(),
        Some("repository:a/b:pull")
    );
    assert_eq!(
        scope("/v2/a/manifests/latest", "put").as_deref(),
        Some("repository:a:pull,push")
    );
    assert_eq!(
        scope(&format!("/v2/a/blobs/{d}"), "DELETE").as_deref(),
        Some("repository:a:delete")
    );
    assert_eq!(
        scope("/v2/a/blobs/uploads/", "POST").as_deref(),
        Some("repository:a:pull,push")
    );
    assert_eq!(
        scope("/v2/a/blobs/uploads/x", "GET").as_deref(),
        Some("repository:a:pull")
    );
    assert_eq!(
        scope("/v2/_catalog", "GET").as_deref(),
        Some("registry:catalog:*")
    );
    assert_eq!(scope("/v2/", "GET"), None);
    assert_eq!(scope("/v2/a/tags/list", "DELETE"), None);
    assert_eq!(scope("/v2/a/blobs/uploads/", "GET"), None);
}

#[test]
fn methods_list_what_each_endpoint_answers() {
    assert_eq!(Route::Base.methods(), ["GET", "HEAD"]);
    let upload = Route::parse("/v2/a/blobs/uploads/x").unwrap();
    assert_eq!(upload.methods(), ["GET", "PATCH", "PUT", "DELETE"]);
}

proptest! {
    #[test]
    fn arbitrary_paths_never_panic(s in "(/v2)?(/[a-z_:.0-9A-Z-]{0,8}){0,6}/?") {
        if let Ok(route) = Route::parse(&s) {
            // Anything that parses writes back to something that parses the same.
            prop_assert_eq!(Route::parse(&route.path()).unwrap(), route);
        }
    }
}
