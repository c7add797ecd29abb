//! Parser directives: `# key=value` lines at the very top of the file.
//!
//! As BuildKit's `DirectiveParser`: the scan stops at the first line that is not a
//! directive (an instruction, a blank line, any other comment, an unknown key); keys
//! are case-insensitive; a key given twice is an error.

use crate::ast::Directives;
use crate::error::{Error, Span};
use crate::source::trim_newline;

/// Reads the directives from the top of `lines`.
pub(crate) fn parse(lines: &[&str]) -> Result<Directives, Error> {
    let mut directives = Directives::default();
    let mut seen: Vec<String> = Vec::new();
    for (index, raw) in lines.iter().enumerate() {
        let line = trim_newline(raw).trim_start();
        let Some((key, value)) = split_directive(line) else {
            break;
        };
        let key = key.to_ascii_lowercase();
        if !matches!(key.as_str(), "syntax" | "escape" | "check") {
            break;
        }
        let span = Span::new(index + 1, 1);
        if seen.contains(&key) {
            return Err(Error::new(
                span,
                format!("only one {key} parser directive can be used"),
                line,
            ));
        }
        match key.as_str() {
            "escape" => {
                directives.escape = match value {
                    "\\" => '\\',
                    "`" => '`',
                    _ => {
                        return Err(Error::new(
                            span,
                            format!("invalid escape token '{value}' does not match ` or \\"),
                            line,
                        ))
                    }
                }
            }
            "syntax" => directives.syntax = Some(value.to_string()),
            _ => directives.check = Some(value.to_string()),
        }
        seen.push(key);
    }
    Ok(directives)
}

/// `# key = value` → (key, value): key `[a-zA-Z][a-zA-Z0-9]*`, value non-empty and
/// trimmed.
fn split_directive(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix('#')?.trim_start();
    let key_len = rest
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())))
        .map_or(rest.len(), |(i, _)| i);
    if key_len == 0 {
        return None;
    }
    let (key, rest) = rest.split_at(key_len);
    let value = rest.trim_start().strip_prefix('=')?.trim();
    if value.is_empty() {
        return None;
    }
    Some((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directives(text: &str) -> Result<Directives, Error> {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        parse(&lines)
    }

    #[test]
    fn keys_are_case_insensitive_and_values_trimmed() {
        let d = directives("# Syntax = docker/dockerfile:1  \n#escape=`\n# check=skip=all\nFROM a")
            .unwrap();
        assert_eq!(d.syntax.as_deref(), Some("docker/dockerfile:1"));
        assert_eq!(d.escape, '`');
        assert_eq!(d.check.as_deref(), Some("skip=all"));
    }

    #[test]
    fn scan_stops_at_first_non_directive() {
        let d = directives("# hello\n# escape=`\nFROM a").unwrap();
        assert_eq!(d.escape, '\\');
        let d = directives("\n# escape=`\nFROM a").unwrap();
        assert_eq!(d.escape, '\\');
        let d = directives("# unknown=1\n# escape=`\n").unwrap();
        assert_eq!(d.escape, '\\');
    }

    #[test]
    fn repeated_directive_is_an_error() {
        let e = directives("# escape=`\n# ESCAPE=`\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 2:1: only one escape parser directive can be used"
        );
    }

    #[test]
    fn escape_must_be_backslash_or_backtick() {
        let e = directives("# escape=x\n").unwrap_err();
        assert_eq!(e.message, "invalid escape token 'x' does not match ` or \\");
    }
}
