//! Physical lines to logical lines: comments dropped, continuations joined, and a map
//! from every byte of a joined line back to its line and column in the file.
//!
//! Follows BuildKit's `parser.Parse`: the first line of an instruction is trimmed on the
//! left; a line ending in the escape character (trailing blanks allowed, an escaped
//! escape excluded) continues on the next; comment lines and blank lines inside a
//! continuation are skipped; the escape character and the newline are removed and the
//! pieces are joined without a separator.

use crate::error::Span;

/// The file as physical lines (newlines kept, for here-document bodies).
pub(crate) struct Lines<'a> {
    lines: Vec<&'a str>,
    next: usize,
}

impl<'a> Lines<'a> {
    /// Splits `text` into lines, dropping a UTF-8 byte-order mark.
    pub(crate) fn new(text: &'a str) -> Lines<'a> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        Lines {
            lines: text.split_inclusive('\n').collect(),
            next: 0,
        }
    }

    /// All lines, for the directive scan.
    pub(crate) fn all(&self) -> &[&'a str] {
        &self.lines
    }

    /// The next physical line and its 1-based number.
    pub(crate) fn next_line(&mut self) -> Option<(usize, &'a str)> {
        let line = self.lines.get(self.next)?;
        self.next += 1;
        Some((self.next, line))
    }

    /// The number of the last line read (0 before any).
    pub(crate) fn current(&self) -> usize {
        self.next
    }

    /// The next instruction's logical line, or `None` at the end of the file.
    pub(crate) fn next_logical(&mut self, escape: char) -> Option<Logical> {
        while let Some((number, raw)) = self.next_line() {
            let untrimmed = trim_newline(raw);
            let text = untrimmed.trim_start();
            let lead = &untrimmed[..untrimmed.len() - text.len()];
            let text = if is_comment(text) { "" } else { text };
            let (first, mut end) = trim_continuation(text, escape);
            if end && first.is_empty() {
                continue;
            }
            let mut logical = Logical {
                text: first.to_string(),
                segments: vec![Segment {
                    offset: 0,
                    line: number,
                    column: lead.chars().count() + 1,
                }],
            };
            while !end {
                let Some((number, raw)) = self.next_line() else {
                    break;
                };
                let text = trim_newline(raw);
                if is_comment(text) || text.trim_start().is_empty() {
                    continue;
                }
                let (piece, piece_end) = trim_continuation(text, escape);
                end = piece_end;
                logical.segments.push(Segment {
                    offset: logical.text.len(),
                    line: number,
                    column: 1,
                });
                logical.text.push_str(piece);
            }
            return Some(logical);
        }
        None
    }
}

/// One instruction's text with its continuation lines joined.
#[derive(Debug, Clone)]
pub(crate) struct Logical {
    /// The joined text (first line trimmed on the left).
    pub(crate) text: String,
    segments: Vec<Segment>,
}

/// Where a piece of a joined line came from.
#[derive(Debug, Clone, Copy)]
struct Segment {
    /// Byte offset of the piece in the joined text.
    offset: usize,
    /// Its physical line.
    line: usize,
    /// The column of its first character in that line.
    column: usize,
}

impl Logical {
    /// The line and column of the byte at `offset` of the joined text.
    pub(crate) fn span_at(&self, offset: usize) -> Span {
        let offset = offset.min(self.text.len());
        let segment = self
            .segments
            .iter()
            .rev()
            .find(|s| s.offset <= offset)
            .or(self.segments.first());
        match segment {
            Some(s) => {
                let before = self.text.get(s.offset..offset).unwrap_or("");
                Span::new(s.line, s.column + before.chars().count())
            }
            None => Span::default(),
        }
    }
}

/// The line without its `\r`/`\n` ending.
pub(crate) fn trim_newline(line: &str) -> &str {
    line.trim_end_matches(['\r', '\n'])
}

/// A comment line: `#` as its first non-blank character.
pub(crate) fn is_comment(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// Removes a trailing continuation escape; the flag says whether the line ends the
/// instruction. An escape preceded by another escape is not a continuation.
fn trim_continuation(line: &str, escape: char) -> (&str, bool) {
    let trimmed = line.trim_end_matches([' ', '\t']);
    if let Some(before) = trimmed.strip_suffix(escape) {
        if before.is_empty() || !before.ends_with(escape) {
            return (before, false);
        }
    }
    (line, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logicals(text: &str) -> Vec<String> {
        let mut lines = Lines::new(text);
        let mut out = Vec::new();
        while let Some(l) = lines.next_logical('\\') {
            out.push(l.text);
        }
        out
    }

    #[test]
    fn continuations_join_without_separator() {
        assert_eq!(
            logicals("RUN a \\\n  b \\  \n  c\nRUN d\n"),
            ["RUN a   b   c", "RUN d"]
        );
    }

    #[test]
    fn comments_and_blank_lines_inside_a_continuation_are_skipped() {
        assert_eq!(logicals("RUN a \\\n# note\n\n   \n  b\n"), ["RUN a   b"]);
    }

    #[test]
    fn escaped_escape_at_end_is_not_a_continuation() {
        assert_eq!(logicals("RUN a\\\\\nRUN b"), ["RUN a\\\\", "RUN b"]);
    }

    #[test]
    fn lone_escape_line_continues() {
        assert_eq!(logicals("\\\nRUN b"), ["RUN b"]);
    }

    #[test]
    fn spans_follow_continuation_lines() {
        let mut lines = Lines::new("  RUN a \\\n  b\n");
        let l = lines.next_logical('\\').unwrap();
        assert_eq!(l.span_at(0), Span::new(1, 3));
        let b = l.text.find('b').unwrap();
        assert_eq!(l.span_at(b), Span::new(2, 3));
    }

    #[test]
    fn byte_order_mark_is_dropped() {
        assert_eq!(logicals("\u{feff}FROM a"), ["FROM a"]);
    }
}
