//! One module per group of commands; `dispatch` routes the parsed command line.

mod archive;
mod build;
mod containers;
mod cp;
mod images;
mod inspect;
mod registry;
mod server;
mod server_admin;
mod system;
mod terminal;
mod top;
mod util;

pub use server::configured_log_level;

use std::process::ExitCode;

use anyhow::Result;
use strata_host::{Host, HostConfig};

use crate::cli::{
    BuilderCommand, Cli, Command, ContainerCommand, ImageCommand, ManifestCommand, RegistryCommand,
    SystemCommand,
};

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
        Command::Build(a) | Command::Image(ImageCommand::Build(a)) => build::build(&open()?, &a),
        Command::Pull(a) | Command::Image(ImageCommand::Pull(a)) => registry::pull(&open()?, &a),
        Command::Push(a) | Command::Image(ImageCommand::Push(a)) => registry::push(&open()?, &a),
        Command::Login(a) => registry::login(&a),
        Command::Logout(a) => registry::logout(&a),
        Command::Search(a) => registry::search(&a),
        Command::Manifest(ManifestCommand::Inspect(a)) => registry::manifest_inspect(&a),
        Command::Registry(RegistryCommand::Serve(a)) => server::serve(&a),
        Command::Registry(RegistryCommand::Gc(a)) => server::gc(&a),
        Command::Registry(RegistryCommand::Htpasswd(a)) => server::htpasswd(&a),
        Command::Registry(RegistryCommand::User(c)) => server_admin::user(&c),
        Command::Registry(RegistryCommand::Project(c)) => server_admin::project(&c),
        Command::Registry(RegistryCommand::Member(c)) => server_admin::member(&c),
        Command::Registry(RegistryCommand::Robot(c)) => server_admin::robot(&c),
        Command::Registry(RegistryCommand::Audit(a)) => server_admin::audit(&a),
        Command::Builder(BuilderCommand::Prune(a)) => build::prune(&open()?, &a),
        Command::Images(a) | Command::Image(ImageCommand::Ls(a)) => images::list(&open()?, &a),
        Command::Inspect(a) => inspect::run(&open()?, &a, inspect::Kind::Any),
        Command::Image(ImageCommand::Inspect(a)) => {
            inspect::run(&open()?, &a, inspect::Kind::Image)
        }
        Command::Container(ContainerCommand::Inspect(a)) => {
            inspect::run(&open()?, &a, inspect::Kind::Container)
        }
        Command::Run(a) | Command::Container(ContainerCommand::Run(a)) => {
            containers::run(&open()?, &a)
        }
        Command::Create(a) | Command::Container(ContainerCommand::Create(a)) => {
            containers::create(&open()?, &a)
        }
        Command::Start(a) | Command::Container(ContainerCommand::Start(a)) => {
            containers::start(&open()?, &a)
        }
        Command::Stop(a) | Command::Container(ContainerCommand::Stop(a)) => {
            containers::stop(&open()?, &a)
        }
        Command::Restart(a) | Command::Container(ContainerCommand::Restart(a)) => {
            containers::restart(&open()?, &a)
        }
        Command::Kill(a) | Command::Container(ContainerCommand::Kill(a)) => {
            containers::kill(&open()?, &a)
        }
        Command::Rm(a) | Command::Container(ContainerCommand::Rm(a)) => {
            containers::rm(&open()?, &a)
        }
        Command::Wait(a) | Command::Container(ContainerCommand::Wait(a)) => {
            containers::wait(&open()?, &a)
        }
        Command::Ps(a) | Command::Container(ContainerCommand::Ls(a)) => top::ps(&open()?, &a),
        Command::Logs(a) | Command::Container(ContainerCommand::Logs(a)) => {
            containers::logs(&open()?, &a)
        }
        Command::Exec(a) | Command::Container(ContainerCommand::Exec(a)) => {
            containers::exec(&open()?, &a)
        }
        Command::Top(a) | Command::Container(ContainerCommand::Top(a)) => top::top(&open()?, &a),
        Command::Cp(a) | Command::Container(ContainerCommand::Cp(a)) => cp::cp(&open()?, &a),
        Command::Container(ContainerCommand::Prune(a)) => containers::prune(&open()?, &a),
        Command::ContainerMonitor(a) => containers::monitor(&open()?, &a),
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
