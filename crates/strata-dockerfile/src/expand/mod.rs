//! Variable expansion as BuildKit's shell lexer does it, and [`Instruction::expand`].

#[cfg(test)]
mod instruction_tests;
pub(crate) mod lexer;
mod substitute;
#[cfg(test)]
mod tests;

use crate::ast::{ArgDecl, Command, Copy, Instruction, KeyValue};
use crate::error::{Error, Span};
use lexer::{Lookup, Options};

/// Expands one word the way BuildKit's `ProcessWord` does: `$v`, `${v}`, `${v:-d}`,
/// `${v-d}`, `${v:+a}`, `${v+a}`, `${v:?msg}` / `${v?msg}` (an error when unset or
/// empty), `${v#p}`, `${v##p}`, `${v%p}`, `${v%%p}`, `${v/p/r}`, `${v//p/r}`. The
/// escape character escapes the next character, single quotes are literal, double
/// quotes allow expansion, and quotes are removed from the result. `lookup` returns a
/// variable's value; an unset variable expands to nothing.
pub fn expand_word(
    word: &str,
    escape: char,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, Error> {
    lexer::process(word, Options::expand(escape), lookup)
        .map(|(word, _)| word)
        .map_err(|e| word_error(word, &e))
}

/// Like [`expand_word`] but splits the result into words on unquoted whitespace,
/// including whitespace that comes from a variable's value (BuildKit's `ProcessWords`),
/// for EXPOSE-like lists. Empty words are dropped.
pub fn expand_words(
    word: &str,
    escape: char,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<String>, Error> {
    lexer::process(word, Options::expand(escape), lookup)
        .map(|(_, words)| words)
        .map_err(|e| word_error(word, &e))
}

fn word_error(word: &str, reason: &str) -> Error {
    Error::new(
        Span::default(),
        format!("failed to process {word:?}: {reason}"),
        word,
    )
}

/// Expands instruction fields with one escape character and one lookup, reporting
/// errors at the instruction.
struct Expander<'a> {
    escape: char,
    lookup: Lookup<'a>,
    instruction: &'a Instruction,
}

impl Expander<'_> {
    fn word(&self, word: &str) -> Result<String, Error> {
        expand_word(word, self.escape, self.lookup).map_err(|e| self.locate(e))
    }

    fn words(&self, word: &str) -> Result<Vec<String>, Error> {
        expand_words(word, self.escape, self.lookup).map_err(|e| self.locate(e))
    }

    fn option(&self, word: &Option<String>) -> Result<Option<String>, Error> {
        word.as_deref().map(|w| self.word(w)).transpose()
    }

    fn locate(&self, e: Error) -> Error {
        Error::new(
            self.instruction.span,
            e.message,
            self.instruction.original.clone(),
        )
    }

    fn pairs(&self, pairs: &[KeyValue]) -> Result<Vec<KeyValue>, Error> {
        pairs
            .iter()
            .map(|kv| {
                Ok(KeyValue {
                    key: self.word(&kv.key)?,
                    value: self.word(&kv.value)?,
                })
            })
            .collect()
    }

    fn copy(&self, copy: &Copy) -> Result<Copy, Error> {
        let sources = copy
            .sources
            .iter()
            .map(|s| match copy.heredoc_for(s) {
                // A here-document word names the body; it is not a path to expand.
                Some(_) => Ok(s.clone()),
                None => self.word(s),
            })
            .collect::<Result<_, Error>>()?;
        Ok(Copy {
            sources,
            dest: self.word(&copy.dest)?,
            from: self.option(&copy.from)?,
            chown: self.option(&copy.chown)?,
            chmod: self.option(&copy.chmod)?,
            exclude: copy
                .exclude
                .iter()
                .map(|p| self.word(p))
                .collect::<Result<_, _>>()?,
            checksum: self.option(&copy.checksum)?,
            ..copy.clone()
        })
    }
}

impl Instruction {
    /// Returns a copy with every field Docker expands expanded: ADD and COPY (sources
    /// except here-document words, destination, `--from`, `--chown`, `--chmod`,
    /// `--exclude`, `--checksum`), ENV and LABEL keys and values, EXPOSE (split into
    /// words), STOPSIGNAL, USER, VOLUME, WORKDIR, ARG names and defaults. RUN, CMD,
    /// ENTRYPOINT, SHELL, HEALTHCHECK, ONBUILD and MAINTAINER are returned unchanged, and
    /// here-document bodies are not expanded. ENV/LABEL values lose their quotes
    /// (`ENV a="x y"` → `x y`). Errors carry this instruction's span and text.
    pub fn expand(
        &self,
        escape: char,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Instruction, Error> {
        let x = Expander {
            escape,
            lookup,
            instruction: self,
        };
        let command = match &self.command {
            Command::Env(pairs) => Command::Env(x.pairs(pairs)?),
            Command::Label(pairs) => Command::Label(x.pairs(pairs)?),
            Command::Add(copy) => Command::Add(x.copy(copy)?),
            Command::Copy(copy) => Command::Copy(x.copy(copy)?),
            Command::Expose(ports) => {
                let mut out = Vec::new();
                for port in ports {
                    out.extend(x.words(port)?);
                }
                Command::Expose(out)
            }
            Command::Volume(volumes) => Command::Volume(
                volumes
                    .iter()
                    .map(|v| x.word(v))
                    .collect::<Result<_, _>>()?,
            ),
            Command::User(user) => Command::User(x.word(user)?),
            Command::Workdir(dir) => Command::Workdir(x.word(dir)?),
            Command::StopSignal(signal) => Command::StopSignal(x.word(signal)?),
            Command::Arg(args) => Command::Arg(
                args.iter()
                    .map(|a| {
                        Ok(ArgDecl {
                            name: x.word(&a.name)?,
                            default: x.option(&a.default)?,
                        })
                    })
                    .collect::<Result<_, Error>>()?,
            ),
            Command::Run(_)
            | Command::Cmd(_)
            | Command::Entrypoint(_)
            | Command::Shell(_)
            | Command::Healthcheck(_)
            | Command::Onbuild(_)
            | Command::Maintainer(_) => self.command.clone(),
        };
        Ok(Instruction {
            span: self.span,
            original: self.original.clone(),
            command,
        })
    }
}
