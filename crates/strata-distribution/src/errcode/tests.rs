#![allow(clippy::unwrap_used)]

use super::*;

#[test]
fn every_known_code_has_its_status() {
    let expected: [(&str, u16); 21] = [
        ("BLOB_UNKNOWN", 404),
        ("BLOB_UPLOAD_INVALID", 400),
        ("BLOB_UPLOAD_UNKNOWN", 404),
        ("DIGEST_INVALID", 400),
        ("MANIFEST_BLOB_UNKNOWN", 400),
        ("MANIFEST_INVALID", 400),
        ("MANIFEST_UNKNOWN", 404),
        ("NAME_INVALID", 400),
        ("NAME_UNKNOWN", 404),
        ("SIZE_INVALID", 400),
        ("UNAUTHORIZED", 401),
        ("DENIED", 403),
        ("UNSUPPORTED", 405),
        ("TOOMANYREQUESTS", 429),
        ("TAG_INVALID", 400),
        ("MANIFEST_UNVERIFIED", 400),
        ("RANGE_INVALID", 416),
        ("PAGINATION_NUMBER_INVALID", 400),
        ("QUERY_PARAMETER_INVALID", 400),
        ("UNAVAILABLE", 503),
        ("UNKNOWN", 500),
    ];
    for (code, (s, status)) in KNOWN_CODES.iter().zip(expected) {
        assert_eq!((code.as_str(), code.status()), (s, status));
        assert!(!code.message().is_empty());
        assert_eq!(s.parse::<ErrorCode>().unwrap(), *code);
    }
}

#[test]
fn only_the_fourteen_spec_codes_are_spec_codes() {
    let spec: Vec<_> = KNOWN_CODES.iter().filter(|c| c.is_spec()).collect();
    assert_eq!(spec.len(), 14);
    assert!(ErrorCode::TooManyRequests.is_spec());
    assert!(!ErrorCode::RangeInvalid.is_spec());
    assert!(!ErrorCode::Other("X".into()).is_spec());
}

#[test]
fn unknown_codes_from_a_peer_keep_their_string() {
    let body = br#"{"errors":[{"code":"QUOTA_EXCEEDED","message":"over quota"}]}"#;
    let parsed = ErrorBody::from_slice(body).unwrap();
    assert_eq!(
        parsed.errors[0].code,
        ErrorCode::Other("QUOTA_EXCEEDED".into())
    );
    assert_eq!(parsed.errors[0].to_string(), "quota exceeded: over quota");
    let back = String::from_utf8(parsed.to_vec()).unwrap();
    assert_eq!(
        back,
        r#"{"errors":[{"code":"QUOTA_EXCEEDED","message":"over quota"}]}"#
    );
}

#[test]
fn error_body_round_trips_the_spec_json() {
    let body = ErrorBody::single(
        ErrorEntry::new(ErrorCode::ManifestUnknown)
            .with_detail(serde_json::json!({"Tag": "latest"})),
    );
    let json = String::from_utf8(body.to_vec()).unwrap();
    assert_eq!(
        json,
        r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown to registry","detail":{"Tag":"latest"}}]}"#
    );
    assert_eq!(ErrorBody::from_slice(json.as_bytes()).unwrap(), body);
    assert_eq!(body.status(), 404);
}

#[test]
fn missing_or_null_fields_read_as_empty() {
    let parsed = ErrorBody::from_slice(br#"{"errors":[{"code":"DENIED"}]}"#).unwrap();
    assert_eq!(parsed.errors[0].message, "");
    assert_eq!(parsed.errors[0].detail, None);
    assert_eq!(parsed.errors[0].to_string(), "denied");
    assert!(ErrorBody::from_slice(b"{}").unwrap().errors.is_empty());
    let null = ErrorBody::from_slice(br#"{"errors":null}"#).unwrap();
    assert!(null.errors.is_empty());
    assert_eq!(null.status(), 500);
}

#[test]
fn malformed_bodies_are_errors() {
    for bad in [&b"<html>"[..], b"", br#"{"errors":[{"message":"x"}]}"#] {
        assert!(matches!(
            ErrorBody::from_slice(bad),
            Err(Error::InvalidDocument { .. })
        ));
    }
}

#[test]
fn crate_errors_become_entries_with_their_code() {
    let e = Error::InvalidTag { tag: ".x".into() };
    let entry = ErrorEntry::from_error(&e).unwrap();
    assert_eq!(entry.code, ErrorCode::TagInvalid);
    assert_eq!(entry.message, "invalid tag");
    assert!(ErrorEntry::from_error(&Error::UnknownRoute { path: "/".into() }).is_none());
    assert_eq!(ErrorBody::from(ErrorCode::Denied).status(), 403);
}
