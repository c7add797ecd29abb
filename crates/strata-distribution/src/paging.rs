//! Listing tags and repositories a page at a time: `?n=<count>&last=<entry>`,
//! the JSON bodies, and the `Link: <…>; rel="next"` header ([`Link`]).
//!
//! The spec's rules live in [`Pagination::page`]: entries are sorted, a page
//! starts strictly after `last`, holds at most `n` entries, `n=0` gives an
//! empty page and no link, and a link is offered only when more entries remain.

mod link;

pub use link::Link;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Error, Result};
use crate::query::{format_query, parse_query};

/// The `n` and `last` parameters of a tag or catalog listing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pagination {
    /// At most this many entries; `None` for all.
    pub n: Option<usize>,
    /// Start strictly after this entry.
    pub last: Option<String>,
}

impl Pagination {
    /// Reads `n` and `last` from a query string (without `?`); other keys are ignored.
    ///
    /// An empty `n=` counts as absent; a non-integer or negative one is
    /// `PAGINATION_NUMBER_INVALID`. `last` is percent-decoded.
    pub fn from_query(query: &str) -> Result<Self> {
        let mut p = Pagination::default();
        for (key, value) in parse_query(query)? {
            match key.as_str() {
                "n" if p.n.is_none() && !value.is_empty() => {
                    let n = value
                        .parse()
                        .map_err(|_| Error::InvalidPagination { input: value })?;
                    p.n = Some(n);
                }
                "last" if p.last.is_none() && !value.is_empty() => p.last = Some(value),
                _ => {}
            }
        }
        Ok(p)
    }

    /// Reads the pagination of a link target (`/v2/_catalog?n=2&last=b`, absolute or not).
    pub fn from_target(target: &str) -> Result<Self> {
        let query = target.split_once('?').map_or("", |(_, q)| q);
        let query = query.split_once('#').map_or(query, |(q, _)| q);
        Pagination::from_query(query)
    }

    /// The query string (`n=2&last=b`), empty when neither is set.
    pub fn to_query(&self) -> String {
        let n = self.n.map(|n| n.to_string());
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        if let Some(n) = &n {
            pairs.push(("n", n));
        }
        if let Some(last) = &self.last {
            pairs.push(("last", last));
        }
        format_query(&pairs)
    }

    /// The page of `sorted` (ascending) these parameters select, and the
    /// pagination of the next page when entries remain after it.
    pub fn page<'a, T: AsRef<str>>(&self, sorted: &'a [T]) -> (&'a [T], Option<Pagination>) {
        let start = match &self.last {
            Some(last) => sorted.partition_point(|e| e.as_ref() <= last.as_str()),
            None => 0,
        };
        let rest = sorted.get(start..).unwrap_or_default();
        let Some(n) = self.n else {
            return (rest, None);
        };
        let page = rest.get(..n).unwrap_or(rest);
        let next = match page.last() {
            Some(last) if page.len() < rest.len() => Some(Pagination {
                n: Some(n),
                last: Some(last.as_ref().to_owned()),
            }),
            _ => None,
        };
        (page, next)
    }

    /// The `Link` header pointing at this page of `path` (`/v2/<name>/tags/list`).
    pub fn link(&self, path: &str) -> Link {
        Link::next(format!("{path}?{}", self.to_query()))
    }
}

/// The body of `/v2/<name>/tags/list`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TagList {
    /// The repository.
    pub name: String,
    /// Its tags, sorted; `null` from a peer reads as empty.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub tags: Vec<String>,
}

/// The body of `/v2/_catalog`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Catalog {
    /// Repository names, sorted; `null` from a peer reads as empty.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub repositories: Vec<String>,
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;
    use crate::errcode::ErrorCode;

    fn p(n: Option<usize>, last: Option<&str>) -> Pagination {
        Pagination {
            n,
            last: last.map(str::to_owned),
        }
    }

    #[test]
    fn query_strings_round_trip_with_percent_encoding() {
        let q = p(Some(2), Some("a/b c"));
        assert_eq!(q.to_query(), "n=2&last=a%2Fb+c");
        assert_eq!(Pagination::from_query(&q.to_query()).unwrap(), q);
        assert_eq!(
            Pagination::from_query("last=v1%2E0").unwrap(),
            p(None, Some("v1.0"))
        );
        assert_eq!(Pagination::from_query("").unwrap(), Pagination::default());
        assert_eq!(Pagination::default().to_query(), "");
        assert_eq!(
            Pagination::from_query("ns=x&n=&last=&n=3").unwrap(),
            p(Some(3), None)
        );
    }

    #[test]
    fn bad_numbers_are_pagination_errors() {
        for bad in ["n=-1", "n=ten", "n=1.5", "n=99999999999999999999999"] {
            let err = Pagination::from_query(bad).unwrap_err();
            assert_eq!(
                err.code(),
                Some(ErrorCode::PaginationNumberInvalid),
                "{bad}"
            );
        }
        assert_eq!(
            Pagination::from_query("last=%zz").unwrap_err().code(),
            Some(ErrorCode::QueryParameterInvalid)
        );
    }

    #[test]
    fn link_targets_carry_the_next_page() {
        let link = p(Some(2), Some("b")).link("/v2/_catalog");
        assert_eq!(link.to_string(), r#"</v2/_catalog?n=2&last=b>; rel="next""#);
        let back = Pagination::from_target(&link.target).unwrap();
        assert_eq!(back, p(Some(2), Some("b")));
        assert_eq!(
            Pagination::from_target("https://r/v2/_catalog?last=x&n=1#frag").unwrap(),
            p(Some(1), Some("x"))
        );
        assert_eq!(
            Pagination::from_target("/v2/_catalog").unwrap(),
            Pagination::default()
        );
    }

    #[test]
    fn pages_follow_the_spec_rules() {
        let tags = ["a", "b", "c", "d"];
        assert_eq!(p(None, None).page(&tags), (&tags[..], None));
        assert_eq!(
            p(Some(2), None).page(&tags),
            (&tags[..2], Some(p(Some(2), Some("b"))))
        );
        assert_eq!(p(Some(2), Some("b")).page(&tags), (&tags[2..], None));
        assert_eq!(p(None, Some("b")).page(&tags), (&tags[2..], None));
        assert_eq!(p(Some(0), None).page(&tags), (&tags[..0], None));
        assert_eq!(p(Some(10), None).page(&tags), (&tags[..], None));
        // `last` need not exist: the page starts after where it would sort.
        assert_eq!(
            p(Some(1), Some("bb")).page(&tags),
            (&tags[2..3], Some(p(Some(1), Some("c"))))
        );
        assert_eq!(p(Some(1), Some("z")).page(&tags), (&tags[..0], None));
    }

    #[test]
    fn list_bodies_tolerate_null() {
        let t: TagList = serde_json::from_str(r#"{"name":"a/b","tags":null}"#).unwrap();
        assert_eq!(
            t,
            TagList {
                name: "a/b".into(),
                tags: vec![]
            }
        );
        let c: Catalog = serde_json::from_str("{}").unwrap();
        assert!(c.repositories.is_empty());
        let t = TagList {
            name: "x".into(),
            tags: vec!["1".into(), "2".into()],
        };
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#"{"name":"x","tags":["1","2"]}"#);
        assert_eq!(serde_json::from_str::<TagList>(&json).unwrap(), t);
        assert!(serde_json::from_str::<Catalog>(r#"{"repositories":"a"}"#).is_err());
    }

    proptest! {
        #[test]
        fn walking_pages_visits_every_entry_once(
            mut entries in prop::collection::btree_set("[a-z0-9]{1,5}", 0..30),
            n in 1usize..7,
        ) {
            let sorted: Vec<String> = std::mem::take(&mut entries).into_iter().collect();
            let mut seen = Vec::new();
            let mut next = Some(p(Some(n), None));
            while let Some(page) = next {
                let (items, more) = page.page(&sorted);
                prop_assert!(items.len() <= n);
                seen.extend(items.iter().cloned());
                next = more.map(|m| Pagination::from_target(&m.link("/v2/_catalog").target).unwrap());
            }
            prop_assert_eq!(seen, sorted);
        }
    }
}
