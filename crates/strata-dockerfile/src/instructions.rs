//! One logical line to one typed instruction (or a FROM), with BuildKit's argument
//! rules and error messages (`line_parsers.go` and `instructions/parse.go`).

use crate::ast::{ArgDecl, Command, CommandLine, Copy, Instruction, KeyValue};
use crate::error::{Error, Span};
use crate::flags::{self, Flags, Kind};
use crate::source::Logical;
use crate::words::{self, is_blank, parse_json, parse_words, split_blanks, Json, Split, Word};
use crate::{healthcheck, heredoc, run};

/// What one line turned out to be.
pub(crate) enum Parsed {
    /// A FROM line: the start of a stage.
    From(From),
    /// Any other instruction. `heredocs` says whether it may name here-documents (RUN,
    /// COPY, ADD in shell form, also as an ONBUILD trigger).
    Instruction {
        /// The instruction.
        instruction: Instruction,
        /// Whether the line may name here-documents.
        heredocs: bool,
    },
}

/// A FROM line.
pub(crate) struct From {
    pub(crate) base: String,
    pub(crate) platform: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) span: Span,
}

/// The instruction being parsed: its line, parts and escape character.
pub(crate) struct Ctx<'a> {
    pub(crate) line: &'a Logical,
    pub(crate) split: Split<'a>,
    pub(crate) escape: char,
}

impl Ctx<'_> {
    /// An error at byte `offset` of the line.
    pub(crate) fn error_at(&self, offset: usize, message: impl Into<String>) -> Error {
        Error::new(self.line.span_at(offset), message, self.line.text.trim())
    }

    /// An error at the instruction's keyword.
    pub(crate) fn error(&self, message: impl Into<String>) -> Error {
        self.error_at(self.split.keyword_offset, message)
    }

    /// The keyword in capitals, for messages.
    pub(crate) fn name(&self) -> String {
        self.split.keyword.to_ascii_uppercase()
    }

    /// The flags, checked against `spec`.
    pub(crate) fn flags(&self, spec: &[(&'static str, Kind)]) -> Result<Flags, Error> {
        flags::parse(&self.split.flags, spec)
            .map_err(|(offset, message)| self.error_at(offset, message))
    }

    /// The arguments as a command line: a JSON array is the exec form, anything else
    /// the shell form. The flag says whether it was JSON.
    pub(crate) fn command_line(&self, rest: &str) -> Result<(CommandLine, bool), Error> {
        match parse_json(rest) {
            Json::Strings(args) => Ok((CommandLine::Exec(args), true)),
            Json::NotStrings => Err(self.error_at(self.split.rest_offset, words::NOT_STRING_ARRAY)),
            Json::No => Ok((CommandLine::Shell(rest.to_string()), false)),
        }
    }
}

/// Parses the instruction starting at byte `start` of `line` (0, or an ONBUILD trigger).
pub(crate) fn parse(line: &Logical, start: usize, escape: char) -> Result<Parsed, Error> {
    let split = words::split_command(&line.text, start);
    let span = line.span_at(split.keyword_offset);
    let ctx = Ctx {
        line,
        split,
        escape,
    };
    let keyword = ctx.split.keyword.to_ascii_lowercase();
    let mut heredocs = false;
    let command = match keyword.as_str() {
        "from" => return from(&ctx, span).map(Parsed::From),
        "run" => {
            let (run, json) = run::parse(&ctx)?;
            heredocs = !json;
            Command::Run(run)
        }
        "cmd" => Command::Cmd(no_flags(&ctx)?.command_line(ctx.split.rest)?.0),
        "entrypoint" => Command::Entrypoint(no_flags(&ctx)?.command_line(ctx.split.rest)?.0),
        "shell" => Command::Shell(shell(no_flags(&ctx)?)?),
        "env" => Command::Env(name_values(no_flags(&ctx)?)?),
        "label" => Command::Label(name_values(no_flags(&ctx)?)?),
        "maintainer" => Command::Maintainer(one_argument(no_flags(&ctx)?)?),
        "user" => Command::User(one_argument(no_flags(&ctx)?)?),
        "workdir" => Command::Workdir(one_argument(no_flags(&ctx)?)?),
        "stopsignal" => Command::StopSignal(one_argument(no_flags(&ctx)?)?),
        "expose" => Command::Expose(expose(no_flags(&ctx)?)?),
        "volume" => Command::Volume(volume(no_flags(&ctx)?)?),
        "arg" => Command::Arg(arg(no_flags(&ctx)?)?),
        "add" | "copy" => {
            let (copy, json) = copy(&ctx, keyword == "add")?;
            heredocs = !json;
            if keyword == "add" {
                Command::Add(copy)
            } else {
                Command::Copy(copy)
            }
        }
        "healthcheck" => Command::Healthcheck(healthcheck::parse(&ctx)?),
        "onbuild" => {
            let (trigger, trigger_heredocs) = onbuild(no_flags(&ctx)?)?;
            heredocs = trigger_heredocs;
            Command::Onbuild(Box::new(trigger))
        }
        _ => return Err(ctx.error(format!("unknown instruction: {}", ctx.split.keyword))),
    };
    let instruction = Instruction {
        span,
        original: line.text[start..].trim().to_string(),
        command,
    };
    Ok(Parsed::Instruction {
        instruction,
        heredocs,
    })
}

fn no_flags<'c, 'a>(ctx: &'c Ctx<'a>) -> Result<&'c Ctx<'a>, Error> {
    ctx.flags(&[])?;
    Ok(ctx)
}

fn from(ctx: &Ctx<'_>, span: Span) -> Result<From, Error> {
    let args = split_blanks(ctx.split.rest, ctx.split.rest_offset);
    let name = match args.as_slice() {
        [_] => None,
        [_, as_, name] if as_.text.eq_ignore_ascii_case("as") => {
            let lower = name.text.to_lowercase();
            let mut chars = lower.chars();
            let valid = chars.next().is_some_and(|c| c.is_ascii_lowercase())
                && chars.all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')
                });
            if !valid {
                return Err(ctx.error_at(
                    name.offset,
                    format!(
                        "invalid name for build stage: {:?}, name can't start with a number or contain symbols",
                        name.text
                    ),
                ));
            }
            Some(lower)
        }
        _ => return Err(ctx.error("FROM requires either one or three arguments")),
    };
    let flags = ctx.flags(&[("platform", Kind::String)])?;
    Ok(From {
        base: args.first().map(|w| w.text.clone()).unwrap_or_default(),
        platform: flags.string("platform"),
        name,
        span,
    })
}

fn shell(ctx: &Ctx<'_>) -> Result<Vec<String>, Error> {
    match parse_json(ctx.split.rest) {
        Json::Strings(args) if !args.is_empty() => Ok(args),
        Json::NotStrings => Err(ctx.error_at(ctx.split.rest_offset, words::NOT_STRING_ARRAY)),
        Json::No if !ctx.split.rest.is_empty() => {
            Err(ctx.error("SHELL requires the arguments to be in JSON form"))
        }
        _ => Err(ctx.error("SHELL requires at least one argument")),
    }
}

/// ENV and LABEL: `name=value ...`, or the legacy `name value` (the value is the rest
/// of the line). Keys and values stay raw.
fn name_values(ctx: &Ctx<'_>) -> Result<Vec<KeyValue>, Error> {
    let name = ctx.name();
    let rest = ctx.split.rest;
    let words = parse_words(rest, ctx.split.rest_offset, ctx.escape);
    let Some(first) = words.first() else {
        return Err(ctx.error(format!("{name} requires at least one argument")));
    };
    if !first.text.contains('=') {
        let Some(key_end) = rest.find(is_blank) else {
            return Err(ctx.error(format!("{name} must have two arguments")));
        };
        return Ok(vec![KeyValue {
            key: rest[..key_end].to_string(),
            value: rest[key_end..].trim_start_matches(is_blank).to_string(),
        }]);
    }
    words
        .iter()
        .map(|word| match word.text.split_once('=') {
            None => Err(ctx.error_at(
                word.offset,
                format!(
                    "syntax error - can't find = in {:?}. Must be of the form: name=value",
                    word.text
                ),
            )),
            Some(("", _)) => {
                Err(ctx.error_at(word.offset, format!("{name} names can not be blank")))
            }
            Some((key, value)) => Ok(KeyValue {
                key: key.to_string(),
                value: value.to_string(),
            }),
        })
        .collect()
}

fn one_argument(ctx: &Ctx<'_>) -> Result<String, Error> {
    if ctx.split.rest.is_empty() {
        return Err(ctx.error(format!("{} requires exactly one argument", ctx.name())));
    }
    Ok(ctx.split.rest.to_string())
}

fn expose(ctx: &Ctx<'_>) -> Result<Vec<String>, Error> {
    let ports = split_blanks(ctx.split.rest, ctx.split.rest_offset);
    if ports.is_empty() {
        return Err(ctx.error("EXPOSE requires at least one argument"));
    }
    Ok(ports.into_iter().map(|w| w.text).collect())
}

/// The arguments of VOLUME, COPY and ADD: a JSON array or whitespace-separated words.
fn list(ctx: &Ctx<'_>) -> Result<(Vec<Word>, bool), Error> {
    let offset = ctx.split.rest_offset;
    match parse_json(ctx.split.rest) {
        Json::Strings(args) => {
            let words = args.into_iter().map(|text| Word { text, offset }).collect();
            Ok((words, true))
        }
        Json::NotStrings => Err(ctx.error_at(offset, words::NOT_STRING_ARRAY)),
        Json::No => Ok((split_blanks(ctx.split.rest, offset), false)),
    }
}

fn volume(ctx: &Ctx<'_>) -> Result<Vec<String>, Error> {
    let (volumes, _) = list(ctx)?;
    if volumes.is_empty() {
        return Err(ctx.error("VOLUME requires at least one argument"));
    }
    volumes
        .into_iter()
        .map(|v| match v.text.trim() {
            "" => Err(ctx.error_at(v.offset, "VOLUME specified can not be an empty string")),
            text => Ok(text.to_string()),
        })
        .collect()
}

fn arg(ctx: &Ctx<'_>) -> Result<Vec<ArgDecl>, Error> {
    let words = parse_words(ctx.split.rest, ctx.split.rest_offset, ctx.escape);
    if words.is_empty() {
        return Err(ctx.error("ARG requires at least one argument"));
    }
    words
        .into_iter()
        .map(|word| match word.text.split_once('=') {
            Some(("", _)) => Err(ctx.error_at(word.offset, "ARG names can not be blank")),
            Some((name, default)) => Ok(ArgDecl {
                name: name.to_string(),
                default: Some(default.to_string()),
            }),
            None => Ok(ArgDecl {
                name: word.text,
                default: None,
            }),
        })
        .collect()
}

fn copy(ctx: &Ctx<'_>, add: bool) -> Result<(Copy, bool), Error> {
    let name = ctx.name();
    let (mut args, json) = list(ctx)?;
    if args.len() < 2 {
        return Err(ctx.error(format!(
            "{name} requires at least two arguments, but only one was provided. Destination could not be determined"
        )));
    }
    let flags = if add {
        ctx.flags(&[
            ("chown", Kind::String),
            ("chmod", Kind::String),
            ("link", Kind::Bool),
            ("keep-git-dir", Kind::Bool),
            ("checksum", Kind::String),
            ("exclude", Kind::Strings),
        ])?
    } else {
        ctx.flags(&[
            ("from", Kind::String),
            ("chown", Kind::String),
            ("chmod", Kind::String),
            ("link", Kind::Bool),
            ("parents", Kind::Bool),
            ("exclude", Kind::Strings),
        ])?
    };
    let dest = args.pop().map(|w| (w.text, w.offset)).unwrap_or_default();
    if matches!(heredoc::parse_word(&dest.0), Ok(Some(_))) {
        return Err(ctx.error_at(
            dest.1,
            format!("{name} cannot accept a heredoc as a destination"),
        ));
    }
    let copy = Copy {
        sources: args.into_iter().map(|w| w.text).collect(),
        dest: dest.0,
        from: flags.string("from"),
        chown: flags.string("chown"),
        chmod: flags.string("chmod"),
        link: flags.bool("link"),
        parents: flags.bool("parents"),
        exclude: flags.strings("exclude"),
        keep_git_dir: flags.bool("keep-git-dir"),
        checksum: flags.string("checksum"),
        heredocs: Vec::new(),
    };
    Ok((copy, json))
}

/// The ONBUILD trigger, parsed as an instruction of its own.
fn onbuild(ctx: &Ctx<'_>) -> Result<(Instruction, bool), Error> {
    let rest = ctx.split.rest;
    let trigger = rest
        .split(is_blank)
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    match trigger.as_str() {
        "" => return Err(ctx.error("ONBUILD requires at least one argument")),
        "ONBUILD" => return Err(ctx.error("chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")),
        "MAINTAINER" | "FROM" => {
            return Err(ctx.error_at(
                ctx.split.rest_offset,
                format!("{trigger} isn't allowed as an ONBUILD trigger"),
            ))
        }
        _ => {}
    }
    match parse(ctx.line, ctx.split.rest_offset, ctx.escape)? {
        Parsed::Instruction {
            instruction,
            heredocs,
        } => Ok((instruction, heredocs)),
        Parsed::From(_) => Err(ctx.error("FROM isn't allowed as an ONBUILD trigger")),
    }
}
