//! `Link` headers (RFC 8288 §3), as registries use them to point at the next page.
//!
//! ```text
//! Link       = #link-value
//! link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param )
//! link-param = token BWS [ "=" BWS ( token / quoted-string ) ]
//! ```
//!
//! The target may hold `,` and `;` (query strings do), so it is read up to its
//! closing `>` before anything else.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::header::{is_tchar, write_quoted, Cursor};

/// One link of a `Link` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The target URI reference, as written (relative or absolute).
    pub target: String,
    /// Parameters in order, names lowercase, values unquoted (empty when absent).
    pub params: Vec<(String, String)>,
}

impl Link {
    /// `<target>; rel="next"`.
    pub fn next(target: impl Into<String>) -> Self {
        Link {
            target: target.into(),
            params: vec![("rel".to_owned(), "next".to_owned())],
        }
    }

    /// The first value of a parameter, by case-insensitive name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// True when the `rel` parameter (a space-separated list) holds `rel`, case-insensitively.
    pub fn has_rel(&self, rel: &str) -> bool {
        self.param("rel").is_some_and(|v| {
            v.split_ascii_whitespace()
                .any(|r| r.eq_ignore_ascii_case(rel))
        })
    }

    /// Parses every link of one header value.
    pub fn parse_all(header: &str) -> Result<Vec<Link>> {
        let fail = |reason| Error::InvalidLink {
            input: header.to_owned(),
            reason,
        };
        let mut c = Cursor::new(header);
        let mut out = Vec::new();
        loop {
            c.skip_ws_and_commas();
            if c.peek().is_none() {
                break;
            }
            if !c.eat(b'<') {
                return Err(fail("expected '<'"));
            }
            let target = c.until(b'>').ok_or_else(|| fail("missing '>'"))?.to_owned();
            c.eat(b'>');
            let mut params = Vec::new();
            loop {
                c.skip_ws();
                if !c.eat(b';') {
                    break;
                }
                c.skip_ws();
                let name = c.run(is_tchar).to_ascii_lowercase();
                if name.is_empty() {
                    return Err(fail("expected a parameter name"));
                }
                c.skip_ws();
                let value = if c.eat(b'=') {
                    c.skip_ws();
                    match c.peek() {
                        Some(b'"') => c
                            .quoted()
                            .ok_or_else(|| fail("unterminated quoted string"))?,
                        _ => {
                            let v = c.run(is_tchar);
                            if v.is_empty() {
                                return Err(fail("expected a parameter value"));
                            }
                            v.to_owned()
                        }
                    }
                } else {
                    String::new()
                };
                params.push((name, value));
            }
            if !matches!(c.peek(), None | Some(b',')) {
                return Err(fail("expected ',' or ';'"));
            }
            out.push(Link { target, params });
        }
        Ok(out)
    }

    /// The target of the first `rel="next"` link in a header, if any.
    pub fn next_target(header: &str) -> Result<Option<String>> {
        Ok(Link::parse_all(header)?
            .into_iter()
            .find(|l| l.has_rel("next"))
            .map(|l| l.target))
    }
}

impl fmt::Display for Link {
    /// `</v2/_catalog?last=b&n=2>; rel="next"`, values always quoted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}>", self.target)?;
        for (name, value) in &self.params {
            write!(f, "; {name}=")?;
            write_quoted(f, value)?;
        }
        Ok(())
    }
}

impl FromStr for Link {
    type Err = Error;

    /// Parses a header holding exactly one link.
    fn from_str(s: &str) -> Result<Self> {
        let mut all = Link::parse_all(s)?;
        match (all.pop(), all.is_empty()) {
            (Some(l), true) => Ok(l),
            _ => Err(Error::InvalidLink {
                input: s.to_owned(),
                reason: "expected exactly one link",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn distribution_next_links_parse_and_round_trip() {
        let h = r#"</v2/_catalog?last=b&n=2>; rel="next""#;
        let l: Link = h.parse().unwrap();
        assert_eq!(l, Link::next("/v2/_catalog?last=b&n=2"));
        assert!(l.has_rel("next"));
        assert_eq!(l.to_string(), h);
    }

    #[test]
    fn several_links_with_commas_in_targets() {
        let h = r#"<https://r/v2/a/tags/list?n=2&last=x,y>; rel=prev, <https://r/v2/a/tags/list?last=z;w>;REL="next last";title="a, b""#;
        let all = Link::parse_all(h).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].target, "https://r/v2/a/tags/list?n=2&last=x,y");
        assert_eq!(all[0].param("rel"), Some("prev"));
        assert!(all[1].has_rel("NEXT") && all[1].has_rel("last"));
        assert_eq!(all[1].param("title"), Some("a, b"));
        assert_eq!(
            Link::next_target(h).unwrap().as_deref(),
            Some("https://r/v2/a/tags/list?last=z;w")
        );
    }

    #[test]
    fn parameters_without_values_are_kept_empty() {
        let l: Link = "</x>; crossorigin".parse().unwrap();
        assert_eq!(l.params, vec![("crossorigin".to_owned(), String::new())]);
        assert_eq!(l.to_string().parse::<Link>().unwrap(), l);
        assert_eq!(Link::next_target("</x>; rel=prev").unwrap(), None);
        assert!(Link::parse_all("").unwrap().is_empty());
    }

    #[test]
    fn malformed_links_are_errors() {
        for bad in [
            "/v2/x; rel=next",
            "</v2/x; rel=next",
            "</x> rel=next",
            "</x>; =next",
            "</x>; rel=",
            "</x>; rel=\"next",
            "</x>; rel=next </y>",
        ] {
            assert!(
                matches!(Link::parse_all(bad), Err(Error::InvalidLink { .. })),
                "{bad:?} should be refused"
            );
        }
        assert!("</a>, </b>".parse::<Link>().is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_headers_never_panic(s in "\\PC{0,60}") {
            let _ = Link::parse_all(&s);
        }

        #[test]
        fn formatted_links_parse_back(target in "[!-=?-~]{0,30}", title in "\\PC{0,12}") {
            let mut l = Link::next(target);
            l.params.push(("title".to_owned(), title));
            prop_assert_eq!(l.to_string().parse::<Link>().unwrap(), l);
        }
    }
}
