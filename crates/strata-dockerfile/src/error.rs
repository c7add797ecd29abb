//! Errors with a position in the Dockerfile.

use std::fmt;

use serde::Serialize;

/// 1-based line and column of the start of an instruction or of an offending token.
/// Columns count characters. `0:0` means "no position" (a word expanded on its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Span {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
}

impl Span {
    /// A span at `line`, `column`.
    pub fn new(line: usize, column: usize) -> Span {
        Span { line, column }
    }
}

/// What went wrong, in terms an edge can act on (the Dockerfile crate depends on no
/// other Strata crate, so it has its own small kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The Dockerfile (or a word in it) is malformed.
    InvalidArgument,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::InvalidArgument => f.write_str("invalid argument"),
        }
    }
}

/// A parse or expansion error, with where it happened.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", render(self))]
#[non_exhaustive]
pub struct Error {
    /// Where the instruction or the offending token starts.
    pub span: Span,
    /// What is wrong, lowercase.
    pub message: String,
    /// The offending source line (or instruction text, continuations joined).
    pub text: String,
}

fn render(e: &Error) -> String {
    if e.span.line == 0 {
        e.message.clone()
    } else {
        format!("line {}:{}: {}", e.span.line, e.span.column, e.message)
    }
}

impl Error {
    /// An error at `span` about `text`.
    pub fn new(span: Span, message: impl Into<String>, text: impl Into<String>) -> Error {
        Error {
            span,
            message: message.into(),
            text: text.into(),
        }
    }

    /// The kind of failure: always [`ErrorKind::InvalidArgument`] today.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_line_and_column() {
        let e = Error::new(Span::new(3, 7), "unknown flag: frm", "COPY --frm=a b c");
        assert_eq!(e.to_string(), "line 3:7: unknown flag: frm");
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    }

    #[test]
    fn display_without_position_is_the_message() {
        let e = Error::new(Span::default(), "failed to process \"${a\"", "${a");
        assert_eq!(e.to_string(), "failed to process \"${a\"");
    }
}
