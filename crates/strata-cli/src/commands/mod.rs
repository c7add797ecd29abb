//! One module per group of commands; `dispatch` routes the parsed command line.

mod archive;
mod images;
mod system;
mod util;

use std::process::ExitCode;

use anyhow::Result;
use strata_host::{Host, HostConfig};

use crate::cli::{Cli, Command, ImageCommand, SystemCommand};

/// Runs the parsed command.
pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    let config = HostConfig::new(&cli.root);
    let open = || -> Result<Host> {
        Host::open(config.clone())
            .map_err(|e| anyhow::anyhow!("opening store {}: {e}", cli.root.display()))
    };
    match cli.command {
        Command::Version => system::version(),
        Command::Info | Command::System(SystemCommand::Info) => system::info(&open()?),
        Command::Import(a) | Command::Image(ImageCommand::Import(a)) => archive::import(open()?, a),
        Command::Images(a) | Command::Image(ImageCommand::Ls(a)) => images::list(&open()?, &a),
        Command::Inspect(a) | Command::Image(ImageCommand::Inspect(a)) => {
            images::inspect(&open()?, &a)
        }
        Command::History(a) | Command::Image(ImageCommand::History(a)) => {
            images::history(&open()?, &a)
        }
        Command::Tag(a) | Command::Image(ImageCommand::Tag(a)) => images::tag(&open()?, &a),
        Command::Rmi(a) | Command::Image(ImageCommand::Rm(a)) => images::rmi(&open()?, &a),
        Command::Image(ImageCommand::Prune(a)) => images::prune(&open()?, &a),
        Command::Save(a) | Command::Image(ImageCommand::Save(a)) => archive::save(&open()?, &a),
        Command::Load(a) | Command::Image(ImageCommand::Load(a)) => archive::load(&open()?, &a),
        Command::System(SystemCommand::Df(a)) => system::df(&open()?, &a),
        Command::System(SystemCommand::Check(a)) => system::check(&open()?, &a),
    }
}
