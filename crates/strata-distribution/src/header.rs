//! Shared lexing for structured HTTP header values (RFC 9110 §5.6): tokens,
//! quoted strings, optional whitespace and comma lists. Only ASCII delimiters
//! are consumed byte by byte, so every position kept is a char boundary.

use std::fmt;

/// `tchar` of RFC 9110: the characters of a token.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A read position in a header value.
pub(crate) struct Cursor<'a> {
    s: &'a str,
    /// Byte offset of the next character.
    pub(crate) pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `s`.
    pub(crate) fn new(s: &'a str) -> Self {
        Cursor { s, pos: 0 }
    }

    /// The next byte, if any.
    pub(crate) fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    /// Consumes `b` when it is next.
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        if hit {
            self.pos += 1;
        }
        hit
    }

    /// Skips spaces and tabs; true when there were some.
    pub(crate) fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Skips whitespace and empty list elements.
    pub(crate) fn skip_ws_and_commas(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.pos += 1;
        }
    }

    /// Consumes the longest run of ASCII bytes matching `pred`.
    pub(crate) fn run(&mut self, pred: fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii() && pred(b)) {
            self.pos += 1;
        }
        self.s.get(start..self.pos).unwrap_or("")
    }

    /// Consumes everything up to (not including) the next `b`; `None` when there is none.
    pub(crate) fn until(&mut self, b: u8) -> Option<&'a str> {
        let rest = self.s.get(self.pos..)?;
        let len = rest.bytes().position(|x| x == b)?;
        self.pos += len;
        rest.get(..len)
    }

    /// Consumes a quoted string at the cursor, unescaping `\x`; `None` when unterminated.
    pub(crate) fn quoted(&mut self) -> Option<String> {
        if !self.eat(b'"') {
            return None;
        }
        let mut out = String::new();
        let mut chars = self.s.get(self.pos..)?.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Some(out);
                }
                '\\' => out.push(chars.next()?.1),
                c => out.push(c),
            }
        }
        None
    }
}

/// Writes `value` as a quoted string, escaping `"` and `\`.
pub(crate) fn write_quoted(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in value.chars() {
        if matches!(c, '"' | '\\') {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_strings_unescape_and_stop_at_the_closing_quote() {
        let mut c = Cursor::new(r#""a\"b\\c" rest"#);
        assert_eq!(c.quoted().as_deref(), Some(r#"a"b\c"#));
        assert!(c.skip_ws());
        assert_eq!(c.run(is_tchar), "rest");
        assert_eq!(c.peek(), None);
    }

    #[test]
    fn unterminated_quotes_give_none() {
        assert_eq!(Cursor::new("\"abc").quoted(), None);
        assert_eq!(Cursor::new("\"abc\\").quoted(), None);
        assert_eq!(Cursor::new("abc").quoted(), None);
    }

    #[test]
    fn runs_stop_at_non_ascii_and_until_finds_delimiters() {
        let mut c = Cursor::new("abé>x");
        assert_eq!(c.run(is_tchar), "ab");
        assert_eq!(c.until(b'>'), Some("é"));
        assert!(c.eat(b'>'));
        assert_eq!(c.until(b'>'), None);
    }
}
