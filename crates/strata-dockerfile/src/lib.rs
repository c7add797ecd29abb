//! The Dockerfile language, pure: text in, typed stages and instructions out.
//!
//! It owns the lexer and parser (directives, escapes, continuations, heredocs),
//! the typed instructions with their line/column spans, ARG/ENV word expansion,
//! and `.dockerignore` / `COPY` path patterns. It does no I/O and knows nothing
//! of images, stores or runtimes: the builder (`strata-build`) gives meaning to
//! what it returns.
//!
//! The rules follow BuildKit's `frontend/dockerfile` parser, instructions and shell
//! lexer: [`parse`] keeps values as written, [`Instruction::expand`] applies a stage's
//! variables the way BuildKit's dispatcher does.

pub mod ignore;
pub mod pattern;

mod ast;
mod directives;
mod error;
mod expand;
mod flags;
mod healthcheck;
mod heredoc;
mod instructions;
mod parse;
mod run;
mod source;
mod words;

pub use ast::{
    ArgDecl, Command, CommandLine, Copy, Directives, Dockerfile, Healthcheck, Heredoc, Instruction,
    KeyValue, MountKind, Run, RunMount, Stage,
};
pub use error::{Error, ErrorKind, Span};
pub use expand::{expand_word, expand_words};
pub use parse::parse;
