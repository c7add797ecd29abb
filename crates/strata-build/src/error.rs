//! The builder's errors.

use strata_dockerfile::Span;

/// What kind of failure an [`Error`] is, for the edges to map to exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Something named does not exist (a stage, an image, a file).
    NotFound,
    /// The Dockerfile or an option is wrong.
    InvalidArgument,
    /// A step ran and failed.
    StepFailed,
    /// Not supported here.
    Unsupported,
    /// Anything else.
    Internal,
}

/// A build failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The Dockerfile does not parse.
    #[error(transparent)]
    Parse(#[from] strata_dockerfile::Error),
    /// An instruction is wrong in a way only the builder sees.
    #[error("line {}:{}: {message}", span.line, span.column)]
    Instruction {
        /// Where.
        span: Span,
        /// What.
        message: String,
        /// The instruction as written.
        text: String,
        /// Which kind of failure.
        kind: ErrorKind,
    },
    /// A RUN exited non-zero.
    #[error("line {}: {command:?} did not complete successfully: exit code {code}{}", span.line, tail_text(output_tail))]
    RunFailed {
        /// Where.
        span: Span,
        /// The command as written.
        command: String,
        /// Its exit code.
        code: i32,
        /// The last lines it printed.
        output_tail: String,
    },
    /// A build option is wrong (`--target`, `--build-arg`).
    #[error("{0}")]
    InvalidOption(String),
    /// The executor failed.
    #[error("line {}: {message}", span.line)]
    Executor {
        /// Where.
        span: Span,
        /// What was being done.
        message: String,
        /// Why.
        #[source]
        source: crate::executor::ExecError,
    },
    /// The executor failed outside any step (committing, resolving).
    #[error("{message}")]
    Commit {
        /// What was being done.
        message: String,
        /// Why.
        #[source]
        source: crate::executor::ExecError,
    },
}

fn tail_text(tail: &str) -> String {
    if tail.trim().is_empty() {
        String::new()
    } else {
        format!("\noutput (last lines):\n{}", tail.trim_end())
    }
}

impl Error {
    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Parse(_) | Error::InvalidOption(_) => ErrorKind::InvalidArgument,
            Error::Instruction { kind, .. } => *kind,
            Error::RunFailed { .. } => ErrorKind::StepFailed,
            Error::Executor { .. } | Error::Commit { .. } => ErrorKind::Internal,
        }
    }

    /// The source position, when the error has one.
    pub fn span(&self) -> Option<Span> {
        match self {
            Error::Parse(e) => Some(e.span),
            Error::Instruction { span, .. }
            | Error::RunFailed { span, .. }
            | Error::Executor { span, .. } => Some(*span),
            _ => None,
        }
    }

    pub(crate) fn at(span: Span, text: &str, kind: ErrorKind, message: impl Into<String>) -> Self {
        Error::Instruction {
            span,
            message: message.into(),
            text: text.to_owned(),
            kind,
        }
    }
}

/// The builder's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
