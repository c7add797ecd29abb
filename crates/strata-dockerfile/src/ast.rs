//! The parsed Dockerfile: stages of typed instructions, each with its span.
//!
//! Values are kept as written (unexpanded, quotes included where Docker keeps
//! them until expansion); [`Instruction::expand`](crate::Instruction::expand)
//! applies a stage's variables the way BuildKit does.

use serde::Serialize;

use crate::error::Span;

/// A whole Dockerfile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dockerfile {
    /// The parser directives at the top of the file.
    pub directives: Directives,
    /// ARG instructions before the first FROM (global args).
    pub global_args: Vec<ArgDecl>,
    /// The build stages, in file order.
    pub stages: Vec<Stage>,
}

/// Parser directives (`# syntax=`, `# escape=`, `# check=`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Directives {
    /// `# syntax=` value, raw.
    pub syntax: Option<String>,
    /// The escape character: `\` (default) or `` ` ``.
    pub escape: char,
    /// `# check=` value, raw.
    pub check: Option<String>,
}

impl Default for Directives {
    fn default() -> Self {
        Directives {
            syntax: None,
            escape: '\\',
            check: None,
        }
    }
}

/// One build stage: a FROM line and the instructions up to the next FROM.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stage {
    /// 0-based position of the stage in the file.
    pub index: usize,
    /// `AS name`, lowercased (Docker lowercases stage names); matches `^[a-z][a-z0-9-_.]*$`.
    pub name: Option<String>,
    /// FROM's image word, unexpanded (global ARGs are expanded by the builder).
    pub base: String,
    /// FROM `--platform` value, unexpanded.
    pub platform: Option<String>,
    /// Where the FROM instruction starts.
    pub span: Span,
    /// The stage's instructions, in order.
    pub instructions: Vec<Instruction>,
}

/// One instruction of a stage.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Instruction {
    /// Where the instruction starts.
    pub span: Span,
    /// The instruction as written, continuations joined (for history `created_by` and error messages).
    pub original: String,
    /// What the instruction says.
    pub command: Command,
}

/// The typed instructions (FROM is a [`Stage`], not a command).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Command {
    /// `RUN`.
    Run(Run),
    /// `CMD`.
    Cmd(CommandLine),
    /// `ENTRYPOINT`.
    Entrypoint(CommandLine),
    /// `SHELL`, always in JSON form.
    Shell(Vec<String>),
    /// `ENV a=b c=d` or the legacy `ENV a b c` (value = the rest of the line).
    Env(Vec<KeyValue>),
    /// `LABEL a=b`.
    Label(Vec<KeyValue>),
    /// `MAINTAINER` (deprecated), the rest of the line.
    Maintainer(String),
    /// `EXPOSE` words, unexpanded (`80`, `53/udp`).
    Expose(Vec<String>),
    /// `ADD`.
    Add(Copy),
    /// `COPY`.
    Copy(Copy),
    /// `VOLUME`, JSON array or whitespace-separated words.
    Volume(Vec<String>),
    /// `USER`, the rest of the line.
    User(String),
    /// `WORKDIR`, the rest of the line.
    Workdir(String),
    /// `ARG a b=c` (several names allowed, as BuildKit does).
    Arg(Vec<ArgDecl>),
    /// `ONBUILD` with its trigger, parsed.
    Onbuild(Box<Instruction>),
    /// `STOPSIGNAL`, the rest of the line.
    StopSignal(String),
    /// `HEALTHCHECK`.
    Healthcheck(Healthcheck),
}

/// A key and value of ENV or LABEL, both raw: quotes and escapes are removed by expansion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyValue {
    /// The key as written.
    pub key: String,
    /// The value as written.
    pub value: String,
}

/// One name of an ARG instruction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArgDecl {
    /// The name as written.
    pub name: String,
    /// The default after `=`, raw and unexpanded.
    pub default: Option<String>,
}

/// The command of RUN, CMD, ENTRYPOINT and HEALTHCHECK CMD.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum CommandLine {
    /// Shell form: the rest of the line, continuations joined (escape and newline removed,
    /// as Docker does). Empty when the instruction has no arguments.
    Shell(String),
    /// Exec form: a JSON array of strings.
    Exec(Vec<String>),
}

/// `RUN` and its flags.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    /// The command.
    pub command: CommandLine,
    /// `--mount=` flags, in order.
    pub mounts: Vec<RunMount>,
    /// `--network=none|default|host`.
    pub network: Option<String>,
    /// `--security=insecure|sandbox`.
    pub security: Option<String>,
    /// Here-documents named on the line, in order.
    pub heredocs: Vec<Heredoc>,
}

/// The type of a `RUN --mount`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MountKind {
    /// `type=bind` (the default).
    Bind,
    /// `type=cache`.
    Cache,
    /// `type=tmpfs`.
    Tmpfs,
    /// `type=secret`.
    Secret,
    /// `type=ssh`.
    Ssh,
}

/// One `RUN --mount=` flag. Values are raw (BuildKit expands them with the stage's
/// variables when it runs the step; the builder may do the same).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunMount {
    /// `type=`.
    pub kind: MountKind,
    /// `target=` (`dst=`, `destination=`); empty when not given (relative targets
    /// and secret/ssh defaults are the builder's business).
    pub target: String,
    /// `source=` (`src=`).
    pub source: Option<String>,
    /// `from=`: a stage or image.
    pub from: Option<String>,
    /// `id=`.
    pub id: Option<String>,
    /// `sharing=shared|private|locked` (cache mounts only).
    pub sharing: Option<String>,
    /// Read-only: `ro`/`readonly`/`rw`/`readwrite` as given, else bind, secret and
    /// ssh mounts are read-only and cache and tmpfs mounts writable.
    pub readonly: bool,
    /// `mode=` (octal), for cache, secret and ssh mounts.
    pub mode: Option<u32>,
    /// `uid=`, for cache, secret and ssh mounts.
    pub uid: Option<u32>,
    /// `gid=`, for cache, secret and ssh mounts.
    pub gid: Option<u32>,
    /// `required` (secret and ssh mounts): fail when the secret or agent is missing.
    pub required: bool,
    /// `size=` of a tmpfs mount, in bytes (`64m` = 64 MiB, as Docker reads it).
    pub size: Option<u64>,
}

/// A here-document attached to RUN, COPY or ADD.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Heredoc {
    /// The delimiter word, quotes removed (`EOF`).
    pub name: String,
    /// The body, each line with its newline; leading tabs already stripped for `<<-`.
    pub content: String,
    /// Written `<<-`: leading tabs of the body and of the delimiter line are stripped.
    pub chomp: bool,
    /// False when the delimiter was quoted (`<<'EOF'`, `<<"EOF"`): the body is not expanded.
    pub expand: bool,
}

/// `COPY` and `ADD` (ADD-only flags stay empty for COPY and the other way round).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Copy {
    /// Sources, raw and unexpanded; a here-document source is its `<<EOF` word and its
    /// body is in `heredocs` (see [`Copy::heredoc_for`]).
    pub sources: Vec<String>,
    /// The destination, raw.
    pub dest: String,
    /// `--from=stage|image|index` (COPY).
    pub from: Option<String>,
    /// `--chown=`.
    pub chown: Option<String>,
    /// `--chmod=`, raw.
    pub chmod: Option<String>,
    /// `--link`.
    pub link: bool,
    /// `--parents` (COPY).
    pub parents: bool,
    /// `--exclude=` patterns (repeatable).
    pub exclude: Vec<String>,
    /// `--keep-git-dir` (ADD).
    pub keep_git_dir: bool,
    /// `--checksum=` (ADD).
    pub checksum: Option<String>,
    /// Here-documents named on the line, in order.
    pub heredocs: Vec<Heredoc>,
}

impl Copy {
    /// The here-document a source word stands for (`<<EOF`, `<<-"EOF"`), if it is one.
    pub fn heredoc_for(&self, source: &str) -> Option<&Heredoc> {
        let word = crate::heredoc::parse_word(source).ok().flatten()?;
        self.heredocs.iter().find(|h| h.name == word.name)
    }
}

/// `HEALTHCHECK`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Healthcheck {
    /// `HEALTHCHECK NONE`: disable the base image's check.
    None,
    /// `HEALTHCHECK [flags] CMD ...`. Durations are in nanoseconds (`Some(0)` when
    /// written as zero, which Docker reads as "inherit").
    Check {
        /// The command.
        test: CommandLine,
        /// `--interval=`.
        interval: Option<u64>,
        /// `--timeout=`.
        timeout: Option<u64>,
        /// `--start-period=`.
        start_period: Option<u64>,
        /// `--start-interval=`.
        start_interval: Option<u64>,
        /// `--retries=`.
        retries: Option<u32>,
    },
}

impl Instruction {
    /// The instruction followed by each here-document body and delimiter, the form
    /// Docker stores for ONBUILD triggers.
    pub fn expression(&self) -> String {
        let heredocs = match &self.command {
            Command::Run(run) => &run.heredocs,
            Command::Add(copy) | Command::Copy(copy) => &copy.heredocs,
            _ => return self.original.clone(),
        };
        let mut out = self.original.clone();
        for h in heredocs {
            out.push('\n');
            out.push_str(&h.content);
            out.push_str(&h.name);
        }
        out
    }
}
