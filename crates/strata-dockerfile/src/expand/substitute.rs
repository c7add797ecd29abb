//! `${var#pattern}`, `${var%pattern}` (and the `##`, `%%` greedy forms) and
//! `${var/pattern/replacement}`, `${var//pattern/replacement}`.
//!
//! Patterns are shell wildcards without bracket expressions, as BuildKit's
//! `convertShellPatternToRegex`: `*` any string, `?` one character, `\*`, `\?`, `\\`
//! literal, `\}` and `\/` the character itself; any other escape is an error.
//! Shortest and longest matches are searched directly instead of through a regex.

#[derive(Debug, Clone, Copy, PartialEq)]
enum Token {
    Star,
    Any,
    Literal(char),
}

fn compile(pattern: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        tokens.push(match c {
            '*' => Token::Star,
            '?' => Token::Any,
            '\\' => {
                if matches!(chars.peek(), Some('}' | '/')) {
                    continue;
                }
                match chars.next() {
                    Some(e @ ('*' | '?' | '\\')) => Token::Literal(e),
                    other => {
                        let shown = other.unwrap_or('\u{fffd}');
                        return Err(format!(
                            "invalid pattern ({pattern}) in substitution: invalid escape '\\{shown}'"
                        ));
                    }
                }
            }
            c => Token::Literal(c),
        });
    }
    Ok(tokens)
}

/// Whether `tokens` match all of `text` (wildcard matching with backtracking to the
/// last star).
fn matches(tokens: &[Token], text: &[char]) -> bool {
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match tokens.get(p) {
            Some(Token::Star) => {
                star = Some((p, t));
                p += 1;
            }
            Some(Token::Any) => {
                t += 1;
                p += 1;
            }
            Some(Token::Literal(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    star = Some((sp, st + 1));
                    p = sp + 1;
                    t = st + 1;
                }
                None => return false,
            },
        }
    }
    tokens[p.min(tokens.len())..]
        .iter()
        .all(|t| *t == Token::Star)
}

/// `${var#pattern}` (shortest) and `${var##pattern}` (longest): `value` without the
/// matching prefix.
pub(crate) fn trim_prefix(pattern: &str, value: &str, greedy: bool) -> Result<String, String> {
    let tokens = compile(pattern)?;
    let chars: Vec<char> = value.chars().collect();
    let mut lengths: Box<dyn Iterator<Item = usize>> = if greedy {
        Box::new((0..=chars.len()).rev())
    } else {
        Box::new(0..=chars.len())
    };
    Ok(match lengths.find(|&n| matches(&tokens, &chars[..n])) {
        Some(n) => chars[n..].iter().collect(),
        None => value.to_string(),
    })
}

/// `${var%pattern}` (shortest) and `${var%%pattern}` (longest): `value` without the
/// matching suffix.
pub(crate) fn trim_suffix(pattern: &str, value: &str, greedy: bool) -> Result<String, String> {
    let tokens = compile(pattern)?;
    let chars: Vec<char> = value.chars().collect();
    let mut starts: Box<dyn Iterator<Item = usize>> = if greedy {
        Box::new(0..=chars.len())
    } else {
        Box::new((0..=chars.len()).rev())
    };
    Ok(match starts.find(|&s| matches(&tokens, &chars[s..])) {
        Some(s) => chars[..s].iter().collect(),
        None => value.to_string(),
    })
}

/// The leftmost, then longest, match at or after `from`.
fn find(tokens: &[Token], chars: &[char], from: usize) -> Option<(usize, usize)> {
    (from..=chars.len()).find_map(|start| {
        (start..=chars.len())
            .rev()
            .find(|&end| matches(tokens, &chars[start..end]))
            .map(|end| (start, end))
    })
}

/// `${var/pattern/replacement}` (first match) and `${var//pattern/replacement}` (all,
/// with Go's `ReplaceAllString` rules for empty matches).
pub(crate) fn replace(
    pattern: &str,
    value: &str,
    replacement: &str,
    all: bool,
) -> Result<String, String> {
    let tokens = compile(pattern)?;
    let chars: Vec<char> = value.chars().collect();
    if !all {
        return Ok(match find(&tokens, &chars, 0) {
            Some((start, end)) => {
                let mut out: String = chars[..start].iter().collect();
                out.push_str(replacement);
                out.extend(&chars[end..]);
                out
            }
            None => value.to_string(),
        });
    }
    let mut out = String::new();
    let (mut search, mut last_end) = (0, 0);
    while search <= chars.len() {
        let Some((start, end)) = find(&tokens, &chars, search) else {
            break;
        };
        out.extend(&chars[last_end..start]);
        // An empty match right after another match is not replaced again.
        if end > last_end || start == 0 {
            out.push_str(replacement);
        }
        last_end = end;
        search = if search + 1 > end { search + 1 } else { end };
    }
    out.extend(&chars[last_end.min(chars.len())..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_whole_text() {
        let t = compile("a*c?").unwrap();
        assert!(matches(&t, &['a', 'b', 'b', 'c', 'd']));
        assert!(!matches(&t, &['a', 'c']));
        assert!(matches(&compile("*").unwrap(), &[]));
    }

    #[test]
    fn escapes_in_patterns() {
        assert_eq!(compile("\\*").unwrap(), [Token::Literal('*')]);
        assert_eq!(compile("\\}").unwrap(), [Token::Literal('}')]);
        for bad in ["\\", "\\x", "\\\\\\"] {
            assert!(compile(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn replace_all_with_empty_pattern_keeps_value() {
        assert_eq!(replace("", "xxyy", "", true).unwrap(), "xxyy");
        assert_eq!(replace("", "xxyy", "ww", false).unwrap(), "wwxxyy");
        assert_eq!(replace("", "ab", "-", true).unwrap(), "-a-b-");
    }
}
