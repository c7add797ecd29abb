#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::*;
use crate::errcode::ErrorCode;

fn br(start: u64, end: u64) -> ByteRange {
    ByteRange::new(start, end).unwrap()
}

#[test]
fn upload_content_ranges_parse_in_every_form() {
    for s in [
        "0-1023",
        " 0-1023 ",
        "bytes 0-1023/*",
        "bytes 0-1023/4096",
        "BYTES=0-1023",
    ] {
        assert_eq!(s.parse::<ByteRange>().unwrap(), br(0, 1023), "{s}");
    }
    assert_eq!(br(3, 24).to_string(), "3-24");
    assert_eq!(br(3, 24).size(), 22);
    assert_eq!(ByteRange::new(2, 1), None);
}

#[test]
fn malformed_upload_ranges_are_errors() {
    for bad in [
        "",
        "-",
        "0-",
        "-5",
        "5-4",
        "a-b",
        "+1-2",
        "0-1-2",
        "bytes",
        "bytes 0-1/x",
        "0 - x",
        "18446744073709551616-18446744073709551617",
    ] {
        assert!(
            matches!(bad.parse::<ByteRange>(), Err(Error::InvalidRange { .. })),
            "{bad:?} should be refused"
        );
    }
}

#[test]
fn chunks_out_of_order_are_416() {
    assert!(br(0, 9).check_continues(0).is_ok());
    assert!(br(10, 19).check_continues(10).is_ok());
    let err = br(3, 9).check_continues(0).unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::RangeInvalid));
    assert_eq!(err.code().map(|c| c.status()), Some(416));
}

#[test]
fn upload_progress_reads_the_last_byte() {
    let p = UploadProgress { received: 1024 };
    assert_eq!(p.to_string(), "0-1023");
    assert_eq!("0-1023".parse::<UploadProgress>().unwrap(), p);
    assert_eq!("bytes=0-1023".parse::<UploadProgress>().unwrap(), p);
    assert_eq!(UploadProgress::default().to_string(), "0-0");
    assert!("1-1023".parse::<UploadProgress>().is_err());
    assert!("0-x".parse::<UploadProgress>().is_err());
}

#[test]
fn download_ranges_parse_and_round_trip() {
    let cases = [
        ("bytes=0-1023", RangeRequest::FromTo(0, 1023)),
        ("bytes=1024-", RangeRequest::From(1024)),
        ("bytes=-512", RangeRequest::Suffix(512)),
    ];
    for (s, r) in cases {
        assert_eq!(s.parse::<RangeRequest>().unwrap(), r);
        assert_eq!(r.to_string(), s);
    }
    assert_eq!(
        " Bytes = 5-9 ".parse::<RangeRequest>().unwrap(),
        RangeRequest::FromTo(5, 9)
    );
}

#[test]
fn several_ranges_or_other_units_are_unsupported() {
    for s in ["bytes=0-1,5-6", "items=0-3", "bytes=0-1, 3-"] {
        assert!(
            matches!(
                s.parse::<RangeRequest>(),
                Err(Error::UnsupportedRange { .. })
            ),
            "{s}"
        );
    }
    for s in [
        "bytes",
        "bytes=",
        "bytes=-",
        "bytes=5-4",
        "bytes=a-",
        "bytes=--1",
        "0-1",
    ] {
        assert!(
            matches!(s.parse::<RangeRequest>(), Err(Error::InvalidRange { .. })),
            "{s}"
        );
    }
}

#[test]
fn download_ranges_resolve_against_the_size() {
    assert_eq!(RangeRequest::FromTo(0, 9).resolve(100).unwrap(), br(0, 9));
    assert_eq!(
        RangeRequest::FromTo(90, 200).resolve(100).unwrap(),
        br(90, 99)
    );
    assert_eq!(RangeRequest::From(50).resolve(100).unwrap(), br(50, 99));
    assert_eq!(RangeRequest::Suffix(10).resolve(100).unwrap(), br(90, 99));
    assert_eq!(RangeRequest::Suffix(500).resolve(100).unwrap(), br(0, 99));
    for (r, size) in [
        (RangeRequest::FromTo(100, 200), 100),
        (RangeRequest::From(100), 100),
        (RangeRequest::Suffix(0), 100),
        (RangeRequest::From(0), 0),
        (RangeRequest::Suffix(5), 0),
    ] {
        let err = r.resolve(size).unwrap_err();
        assert!(
            matches!(err, Error::RangeNotSatisfiable { .. }),
            "{r} of {size}"
        );
        assert_eq!(err.code().map(|c| c.status()), Some(416));
    }
}

#[test]
fn content_ranges_format_and_parse() {
    let full = ContentRange::new(br(0, 1023), 4096);
    assert_eq!(full.to_string(), "bytes 0-1023/4096");
    assert_eq!(ContentRange::unsatisfied(4096).to_string(), "bytes */4096");
    let open = ContentRange {
        range: Some(br(5, 9)),
        total: None,
    };
    assert_eq!(open.to_string(), "bytes 5-9/*");
    for c in [full, open, ContentRange::unsatisfied(7)] {
        assert_eq!(c.to_string().parse::<ContentRange>().unwrap(), c);
    }
    for bad in [
        "bytes */*",
        "0-1/2",
        "bytes 0-1",
        "bytes 0-9/5",
        "bytes 5-1/10",
        "bytes x/10",
        "bytes 0-1/-1",
    ] {
        assert!(
            bad.parse::<ContentRange>().is_err(),
            "{bad:?} should be refused"
        );
    }
}

proptest! {
    #[test]
    fn resolved_ranges_stay_inside_the_content(
        a in 0u64..300, b in 0u64..300, size in 0u64..256, kind in 0u8..3,
    ) {
        let request = match kind {
            0 => RangeRequest::FromTo(a.min(b), a.max(b)),
            1 => RangeRequest::From(a),
            _ => RangeRequest::Suffix(a),
        };
        prop_assert_eq!(request.to_string().parse::<RangeRequest>().unwrap(), request);
        if let Ok(r) = request.resolve(size) {
            prop_assert!(r.start <= r.end && r.end < size);
            let header = ContentRange::new(r, size).to_string();
            prop_assert_eq!(header.parse::<ContentRange>().unwrap().range, Some(r));
        }
    }

    #[test]
    fn arbitrary_headers_never_panic(s in "\\PC{0,30}") {
        let _ = s.parse::<ByteRange>();
        let _ = s.parse::<UploadProgress>();
        let _ = s.parse::<RangeRequest>();
        let _ = s.parse::<ContentRange>();
    }

    #[test]
    fn upload_progress_round_trips_past_zero(received in 1u64..u64::MAX) {
        let p = UploadProgress { received };
        prop_assert_eq!(p.to_string().parse::<UploadProgress>().unwrap(), p);
    }
}
