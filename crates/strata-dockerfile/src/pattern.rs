//! Path patterns as Go's `filepath.Match` reads them (COPY sources, `.dockerignore`).
//!
//! Docker resolves `COPY`/`ADD` source wildcards with Go's `path/filepath.Match`
//! on `/`-separated paths, so [`Pattern`] reproduces that function, quirks
//! included, rather than a generic glob:
//!
//! - `*` matches any run of characters other than `/`, `?` exactly one such
//!   character;
//! - `[...]` is a class of characters and `lo-hi` ranges, negated by a leading
//!   `^` (a `!` is an ordinary member); a class may match `/`;
//! - `\` makes the next character literal, inside a class or out;
//! - a malformed pattern (unclosed class, empty class, unescaped `-` or `]` in
//!   the wrong place, trailing `\`) is an error, as Go's `ErrBadPattern`.
//!
//! The match is whole-path and uses Go's chunk-at-a-time algorithm: after a
//! `*`, the run of pattern up to the next `*` is matched at the leftmost place
//! it fits and never retried. That is not always what a backtracking glob would
//! answer (`*[^x]*` does not match `a/b` in Go), and Docker users get Go's
//! answer, so this module gives it too.
//!
//! ```
//! use strata_dockerfile::pattern::Pattern;
//!
//! let pattern = Pattern::new("src/*.rs")?;
//! assert!(pattern.matches("src/lib.rs"));
//! assert!(!pattern.matches("src/bin/main.rs"));
//! assert!(pattern.has_meta());
//! # Ok::<(), strata_dockerfile::pattern::PatternError>(())
//! ```

use std::fmt;
use std::str::{Chars, FromStr};

/// A compiled pattern in Go `filepath.Match` syntax.
///
/// `*` matches any run of non-separator characters, `?` one non-separator
/// character, `[...]` a character class with ranges and `^` negation, and `\`
/// escapes the next character. Malformed patterns are refused by
/// [`Pattern::new`] (Go's `ErrBadPattern`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    chunks: Vec<Chunk>,
}

/// A run of single-character tokens, optionally preceded by a `*`
/// (Go's `scanChunk` unit).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Chunk {
    star: bool,
    tokens: Vec<Token>,
}

/// One pattern element that consumes exactly one character.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    AnyButSlash,
    Class(Class),
}

impl Pattern {
    /// Compiles `pattern`, refusing it when Go's `filepath.Match` would return
    /// `ErrBadPattern`.
    pub fn new(pattern: &str) -> Result<Pattern, PatternError> {
        let error = |reason| PatternError::new(pattern, reason);
        let mut chunks = Vec::new();
        let mut current = Chunk {
            star: false,
            tokens: Vec::new(),
        };
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            let token = match c {
                '*' => {
                    if !current.tokens.is_empty() {
                        chunks.push(current);
                        current = Chunk {
                            star: false,
                            tokens: Vec::new(),
                        };
                    }
                    current.star = true;
                    continue;
                }
                '?' => Token::AnyButSlash,
                '[' => Token::Class(Class::parse(&mut chars).map_err(error)?),
                '\\' => Token::Literal(chars.next().ok_or_else(|| error(TRAILING_BACKSLASH))?),
                c => Token::Literal(c),
            };
            current.tokens.push(token);
        }
        if current.star || !current.tokens.is_empty() {
            chunks.push(current);
        }
        Ok(Pattern {
            text: pattern.to_owned(),
            chunks,
        })
    }

    /// Whole-path match, as Go's `filepath.Match(pattern, path)` on a
    /// `/`-separated path.
    pub fn matches(&self, path: &str) -> bool {
        let mut name = path;
        'chunks: for (index, chunk) in self.chunks.iter().enumerate() {
            let last = index + 1 == self.chunks.len();
            if chunk.star && chunk.tokens.is_empty() {
                // Only a trailing `*` leaves an empty chunk: it takes the rest
                // of the name unless that crosses a separator.
                return !name.contains('/');
            }
            if let Some(rest) = match_chunk(&chunk.tokens, name) {
                if rest.is_empty() || !last {
                    name = rest;
                    continue;
                }
            }
            if chunk.star {
                for (at, c) in name.char_indices() {
                    if c == '/' {
                        break;
                    }
                    let Some(rest) = match_chunk(&chunk.tokens, &name[at + c.len_utf8()..]) else {
                        continue;
                    };
                    if last && !rest.is_empty() {
                        continue;
                    }
                    name = rest;
                    continue 'chunks;
                }
            }
            return false;
        }
        name.is_empty()
    }

    /// True when the pattern has any of `*?[\` (Docker `COPY` treats sources
    /// without them as literal paths).
    pub fn has_meta(&self) -> bool {
        has_meta(&self.text)
    }

    /// The pattern's text, as given to [`Pattern::new`].
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl FromStr for Pattern {
    type Err = PatternError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Pattern::new(s)
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// True when `s` has any of `*?[\`, the characters Go's `filepath.Glob` treats
/// as magic on Unix.
pub fn has_meta(s: &str) -> bool {
    s.contains(['*', '?', '[', '\\'])
}

/// Matches `tokens` (one character each) at the start of `s`, returning what
/// is left of `s`.
fn match_chunk<'a>(tokens: &[Token], s: &'a str) -> Option<&'a str> {
    let mut rest = s.chars();
    for token in tokens {
        let c = rest.next()?;
        let ok = match token {
            Token::Literal(literal) => c == *literal,
            Token::AnyButSlash => c != '/',
            Token::Class(class) => class.contains(c),
        };
        if !ok {
            return None;
        }
    }
    Some(rest.as_str())
}

/// A malformed pattern (Go's `filepath.ErrBadPattern`), naming the pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("syntax error in pattern {pattern:?}: {reason}")]
pub struct PatternError {
    pattern: String,
    reason: &'static str,
}

impl PatternError {
    pub(crate) fn new(pattern: &str, reason: &'static str) -> PatternError {
        PatternError {
            pattern: pattern.to_owned(),
            reason,
        }
    }

    /// The pattern that was refused.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// What is wrong with it, in a few words.
    pub fn reason(&self) -> &str {
        self.reason
    }
}

pub(crate) const TRAILING_BACKSLASH: &str = "trailing '\\' escapes nothing";
const UNCLOSED_CLASS: &str = "character class has no closing ']'";
const UNESCAPED_IN_CLASS: &str = "'-' or ']' must be escaped with '\\' here";

/// A `[...]` character class: ranges (`lo == hi` for single characters) and
/// whether it is negated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Class {
    negated: bool,
    ranges: Vec<(char, char)>,
}

impl Class {
    /// Parses a class whose opening `[` has been consumed, with Go's rules:
    /// a non-empty list of characters or `lo-hi` ranges, `\` escaping one
    /// character, `-` and `]` only escaped, and a closing `]`.
    pub(crate) fn parse(chars: &mut Chars<'_>) -> Result<Class, &'static str> {
        let negated = chars.clone().next() == Some('^');
        if negated {
            chars.next();
        }
        let mut ranges = Vec::new();
        loop {
            if !ranges.is_empty() && chars.clone().next() == Some(']') {
                chars.next();
                return Ok(Class { negated, ranges });
            }
            let lo = class_char(chars)?;
            let mut hi = lo;
            if chars.clone().next() == Some('-') {
                chars.next();
                hi = class_char(chars)?;
            }
            ranges.push((lo, hi));
        }
    }

    /// Whether `c` is in the class (a class may hold `/`).
    pub(crate) fn contains(&self, c: char) -> bool {
        let listed = self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
        listed != self.negated
    }

    /// Whether some range runs backwards (`z-a`): Go's `filepath.Match`
    /// accepts it (it matches nothing), Go's regexp does not.
    pub(crate) fn has_reversed_range(&self) -> bool {
        self.ranges.iter().any(|&(lo, hi)| lo > hi)
    }
}

/// One class member or range end (Go's `getEsc`): it must not be a bare `-`
/// or `]`, and the class must go on after it.
fn class_char(chars: &mut Chars<'_>) -> Result<char, &'static str> {
    let c = match chars.next() {
        None => return Err(UNCLOSED_CLASS),
        Some('-' | ']') => return Err(UNESCAPED_IN_CLASS),
        Some('\\') => chars.next().ok_or(UNCLOSED_CLASS)?,
        Some(c) => c,
    };
    if chars.as_str().is_empty() {
        return Err(UNCLOSED_CLASS);
    }
    Ok(c)
}

#[cfg(test)]
mod tests;
