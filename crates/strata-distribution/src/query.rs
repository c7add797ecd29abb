//! Query strings as the registry API uses them (`?n=10&last=b`, `?digest=…`,
//! `?mount=…&from=…`): `application/x-www-form-urlencoded` pairs, decoded and
//! encoded the way Go's `net/url` does, so our peers read what we write.

use crate::error::{Error, Result};

/// Splits a query string (without the `?`) into decoded `(key, value)` pairs, in order.
///
/// Empty pieces (`a=1&&b=2`) are skipped; a piece without `=` has an empty value.
pub fn parse_query(query: &str) -> Result<Vec<(String, String)>> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
            Ok((decode(k)?, decode(v)?))
        })
        .collect()
}

/// The first value of `key` in a query string, decoded.
pub fn query_value(query: &str, key: &str) -> Result<Option<String>> {
    Ok(parse_query(query)?
        .into_iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v))
}

/// Builds a query string from pairs, encoding keys and values.
pub fn format_query<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k.as_ref()), encode(v.as_ref())))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-decodes one query component; `+` is a space, as in form encoding.
pub fn decode(s: &str) -> Result<String> {
    let invalid = |reason| Error::InvalidQuery {
        input: s.to_owned(),
        reason,
    };
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .ok_or_else(|| invalid("truncated percent-escape"))?;
                let value = std::str::from_utf8(hex)
                    .ok()
                    .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| invalid("bad percent-escape"))?;
                out.push(value);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| invalid("not UTF-8 once decoded"))
}

/// Percent-encodes one query component, leaving Go's unreserved set (`A-Za-z0-9-_.~`) as is.
pub fn encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else if b == b' ' {
            out.push('+');
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn pairs_are_split_and_decoded_in_order() {
        let pairs = parse_query("n=10&last=a%2Fb&&flag&x=1+2").unwrap();
        assert_eq!(
            pairs,
            vec![
                ("n".into(), "10".into()),
                ("last".into(), "a/b".into()),
                ("flag".into(), String::new()),
                ("x".into(), "1 2".into()),
            ]
        );
        assert_eq!(query_value("a=1&a=2", "a").unwrap().as_deref(), Some("1"));
        assert_eq!(query_value("a=1", "b").unwrap(), None);
    }

    #[test]
    fn digests_and_names_encode_like_go() {
        let d = format!("sha256:{}", "a".repeat(64));
        let q = format_query(&[("mount", d.as_str()), ("from", "lib/x")]);
        assert_eq!(q, format!("mount=sha256%3A{}&from=lib%2Fx", "a".repeat(64)));
        assert_eq!(query_value(&q, "mount").unwrap(), Some(d));
    }

    #[test]
    fn bad_escapes_are_errors() {
        for bad in ["%", "%4", "%zz", "%ff", "a=%C3%28"] {
            assert!(
                matches!(parse_query(bad), Err(Error::InvalidQuery { .. })),
                "{bad:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn encode_then_decode_is_identity(s in "\\PC{0,30}") {
            prop_assert_eq!(decode(&encode(&s)).unwrap(), s);
        }
    }
}
