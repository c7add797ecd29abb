//! The `strata` command: Docker's verbs and output shapes over Strata's store.
//!
//! Parsing (clap), dispatch, and the one rendering module all user output goes
//! through. Errors become `Error: …` on stderr and exit status 1 (2 for usage).
//! Operations live in `strata-host`; nothing here touches the store directly.

mod cli;
mod commands;
pub mod render;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

pub use cli::Cli;

/// Runs the command line, returning the exit status.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    raise_open_file_limit();
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            let mut msg = e.to_string();
            for cause in e.chain().skip(1) {
                let c = cause.to_string();
                if !msg.contains(&c) {
                    msg.push_str(": ");
                    msg.push_str(&c);
                }
            }
            let _ = writeln!(std::io::stderr(), "Error: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// Deep layer trees are removed recursively with one descriptor per level; the
/// usual soft limit of 1024 would make GC fail on an image with a very deep tree.
fn raise_open_file_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        limit.current = limit.maximum;
        let _ = setrlimit(Resource::Nofile, limit);
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn init_logging(cli: &Cli) {
    // A server logs its requests (info) unless told otherwise.
    let default = match &cli.command {
        cli::Command::Registry(cli::RegistryCommand::Serve(a)) => {
            commands::configured_log_level(a).unwrap_or_else(|| "info".to_owned())
        }
        _ => "warn".to_owned(),
    };
    let level = if cli.debug {
        "debug".to_owned()
    } else {
        cli.log_level.clone().unwrap_or(default)
    };
    let level = level.parse().unwrap_or(tracing::Level::WARN);
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}
