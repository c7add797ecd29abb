//! Manifest media types and `Accept` negotiation (RFC 9110 §12.5.1).
//!
//! A registry serves four manifest types (OCI manifest and index, Docker
//! schema 2 manifest and list); strata-oci owns their names and this module
//! re-exports them. Clients say what they read with `Accept`, often spread over
//! several header lines; [`Accept`] reads them all, orders the media ranges by
//! preference and answers which stored type a client accepts.

use std::fmt;
use std::str::FromStr;

pub use strata_oci::media_type::{DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST};

use crate::error::{Error, Result};
use crate::header::is_tchar;

/// The manifest media types a registry negotiates, OCI first.
pub const MANIFEST_MEDIA_TYPES: [&str; 4] = [
    OCI_MANIFEST,
    OCI_INDEX,
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
];

/// Highest quality value, in thousandths (`q=1`).
const Q_MAX: u16 = 1000;

/// A `Content-Type` without its parameters (`application/json; charset=utf-8` → `application/json`).
pub fn essence(content_type: &str) -> &str {
    content_type
        .split_once(';')
        .map_or(content_type, |(t, _)| t)
        .trim()
}

/// True when `content_type` (parameters ignored, case-insensitive) is a manifest type.
pub fn is_manifest_media_type(content_type: &str) -> bool {
    let t = essence(content_type);
    MANIFEST_MEDIA_TYPES
        .iter()
        .any(|m| m.eq_ignore_ascii_case(t))
}

/// One media range of an `Accept` header: `type/subtype`, `type/*` or `*/*`, with a quality.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MediaRange {
    /// The type, lowercase (`application`, or `*`).
    pub main: String,
    /// The subtype, lowercase (`vnd.oci.image.manifest.v1+json`, or `*`).
    pub sub: String,
    /// The quality in thousandths: 1000 for `q=1`, 0 for "not acceptable".
    pub q: u16,
}

impl MediaRange {
    /// True when `media_type` (parameters ignored) falls within this range.
    pub fn matches(&self, media_type: &str) -> bool {
        let Some((main, sub)) = essence(media_type).split_once('/') else {
            return false;
        };
        (self.main == "*" || self.main.eq_ignore_ascii_case(main))
            && (self.sub == "*" || self.sub.eq_ignore_ascii_case(sub))
    }

    /// 2 for `type/subtype`, 1 for `type/*`, 0 for `*/*`: the most specific match decides.
    pub fn specificity(&self) -> u8 {
        u8::from(self.main != "*") + u8::from(self.sub != "*")
    }
}

impl fmt::Display for MediaRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.main, self.sub)?;
        if self.q != Q_MAX {
            let frac = format!("{:03}", self.q);
            match frac.trim_end_matches('0') {
                "" => f.write_str(";q=0")?,
                digits => write!(f, ";q=0.{digits}")?,
            }
        }
        Ok(())
    }
}

impl FromStr for MediaRange {
    type Err = Error;

    /// `type/subtype *( OWS ";" OWS param )`; only `q` is kept.
    fn from_str(s: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidMediaType {
            input: s.to_owned(),
            reason,
        };
        let mut parts = s.split(';');
        let (main, sub) = parts
            .next()
            .unwrap_or("")
            .trim()
            .split_once('/')
            .ok_or_else(|| invalid("expected type/subtype"))?;
        let token = |t: &str| !t.is_empty() && t.bytes().all(is_tchar);
        if !token(main) || !token(sub) || (main == "*" && sub != "*") {
            return Err(invalid(
                "type and subtype must be tokens, */subtype is not a range",
            ));
        }
        let mut q = Q_MAX;
        for param in parts {
            let (name, value) = param.split_once('=').unwrap_or((param, ""));
            if name.trim().eq_ignore_ascii_case("q") {
                q = parse_q(value.trim()).ok_or_else(|| invalid("q must be 0 to 1, 3 decimals"))?;
            }
        }
        Ok(MediaRange {
            main: main.to_ascii_lowercase(),
            sub: sub.to_ascii_lowercase(),
            q,
        })
    }
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in thousandths.
fn parse_q(v: &str) -> Option<u16> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths: u16 = format!("{frac:0<3}").parse().ok()?;
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(Q_MAX),
        _ => None,
    }
}

/// The media ranges of one or more `Accept` headers, most preferred first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Accept(Vec<MediaRange>);

impl Accept {
    /// Parses one header value; entries that do not parse are skipped, as
    /// servers do, so a sloppy client still gets what it could read.
    pub fn parse(header: &str) -> Accept {
        Accept::parse_all([header])
    }

    /// Parses several header lines as one list.
    pub fn parse_all<'a>(headers: impl IntoIterator<Item = &'a str>) -> Accept {
        let mut ranges: Vec<MediaRange> = headers
            .into_iter()
            .flat_map(|h| h.split(','))
            .filter(|e| !e.trim().is_empty())
            .filter_map(|e| e.parse().ok())
            .collect();
        // Stable: equal qualities keep the client's order.
        ranges.sort_by_key(|r| std::cmp::Reverse(r.q));
        Accept(ranges)
    }

    /// Every range read, most preferred first (including `q=0` refusals).
    pub fn ranges(&self) -> &[MediaRange] {
        &self.0
    }

    /// The acceptable ranges (`q > 0`), most preferred first.
    pub fn preferred(&self) -> impl Iterator<Item = &MediaRange> {
        self.0.iter().filter(|r| r.q > 0)
    }

    /// The quality the client gives `media_type`: that of the most specific
    /// matching range, 0 when none matches, 1000 when there is no `Accept` at all.
    pub fn quality(&self, media_type: &str) -> u16 {
        if self.0.is_empty() {
            return Q_MAX;
        }
        self.0
            .iter()
            .filter(|r| r.matches(media_type))
            .max_by_key(|r| r.specificity())
            .map_or(0, |r| r.q)
    }

    /// True when the client accepts `media_type`.
    pub fn accepts(&self, media_type: &str) -> bool {
        self.quality(media_type) > 0
    }

    /// The offered type the client likes best, earlier offers winning ties; `None` if it accepts none.
    pub fn negotiate<'a>(&self, offered: &[&'a str]) -> Option<&'a str> {
        let mut best: Option<(&'a str, u16)> = None;
        for &t in offered {
            let q = self.quality(t);
            if q > 0 && best.is_none_or(|(_, bq)| q > bq) {
                best = Some((t, q));
            }
        }
        best.map(|(t, _)| t)
    }
}

impl fmt::Display for Accept {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(MediaRange::to_string).collect();
        f.write_str(&parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn manifest_types_come_from_strata_oci() {
        assert_eq!(OCI_MANIFEST, "application/vnd.oci.image.manifest.v1+json");
        assert!(is_manifest_media_type(
            "application/vnd.docker.distribution.manifest.list.v2+json; charset=utf-8"
        ));
        assert!(is_manifest_media_type(
            "Application/VND.OCI.IMAGE.INDEX.V1+JSON"
        ));
        assert!(!is_manifest_media_type("application/json"));
        assert_eq!(essence(" text/plain ; q=1"), "text/plain");
    }

    #[test]
    fn ranges_are_ordered_by_quality_then_client_order() {
        let a = Accept::parse_all([
            "application/vnd.docker.distribution.manifest.v2+json;q=0.5",
            "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json",
            "*/*;q=0.1",
        ]);
        let order: Vec<String> = a.preferred().map(|r| r.to_string()).collect();
        assert_eq!(
            order,
            [
                "application/vnd.oci.image.manifest.v1+json",
                "application/vnd.oci.image.index.v1+json",
                "application/vnd.docker.distribution.manifest.v2+json;q=0.5",
                "*/*;q=0.1",
            ]
        );
        assert_eq!(a.quality(DOCKER_MANIFEST_LIST), 100);
        assert_eq!(Accept::parse(&a.to_string()), a);
    }

    #[test]
    fn negotiation_picks_the_best_stored_type() {
        let docker_only = Accept::parse(DOCKER_MANIFEST);
        assert_eq!(
            docker_only.negotiate(&[OCI_MANIFEST, DOCKER_MANIFEST]),
            Some(DOCKER_MANIFEST)
        );
        assert_eq!(docker_only.negotiate(&[OCI_INDEX]), None);
        let wildcard =
            Accept::parse("application/*;q=0.8, application/vnd.oci.image.index.v1+json");
        assert_eq!(
            wildcard.negotiate(&[OCI_MANIFEST, OCI_INDEX]),
            Some(OCI_INDEX)
        );
        assert_eq!(
            Accept::parse("").negotiate(&[OCI_MANIFEST]),
            Some(OCI_MANIFEST)
        );
        assert!(Accept::default().accepts(DOCKER_MANIFEST));
    }

    #[test]
    fn q_zero_refuses_even_under_a_wildcard() {
        let a = Accept::parse("*/*, application/vnd.oci.image.index.v1+json;q=0");
        assert!(!a.accepts(OCI_INDEX));
        assert!(a.accepts(OCI_MANIFEST));
        assert_eq!(a.preferred().count(), 1);
        assert_eq!(
            a.to_string(),
            "*/*, application/vnd.oci.image.index.v1+json;q=0"
        );
        assert_eq!(a.ranges().len(), 2);
    }

    #[test]
    fn q_values_follow_the_grammar() {
        for (q, v) in [
            ("1", 1000),
            ("1.000", 1000),
            ("0", 0),
            ("0.5", 500),
            ("0.25", 250),
            ("0.001", 1),
        ] {
            assert_eq!(parse_q(q), Some(v), "{q}");
        }
        for bad in ["", "2", "1.5", "0.0001", "-0", "0.x", ".5"] {
            assert_eq!(parse_q(bad), None, "{bad:?}");
        }
        let r: MediaRange = "text/html; level=1; Q=0.7".parse().unwrap();
        assert_eq!((r.q, r.to_string().as_str()), (700, "text/html;q=0.7"));
    }

    #[test]
    fn malformed_entries_are_errors_alone_and_skipped_in_lists() {
        for bad in ["", "text", "*/html", "text/", "/x", "te xt/html", "a/b;q=2"] {
            assert!(
                matches!(
                    bad.parse::<MediaRange>(),
                    Err(Error::InvalidMediaType { .. })
                ),
                "{bad:?} should be refused"
            );
        }
        let a = Accept::parse("garbage, ,application/json;q=oops, text/plain");
        assert_eq!(a.ranges().len(), 1);
        assert!(a.accepts("text/plain") && !a.accepts("application/json"));
    }

    proptest! {
        #[test]
        fn arbitrary_headers_never_panic(s in "\\PC{0,60}") {
            let a = Accept::parse(&s);
            let _ = a.negotiate(&MANIFEST_MEDIA_TYPES);
            prop_assert_eq!(Accept::parse(&a.to_string()), a);
        }
    }
}
