//! `cp`: files between a container and the local file system.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{bail, Result};
use strata_host::containers::{Copied, CopyOptions};
use strata_host::Host;

use crate::cli::CpArgs;

/// One end of a copy, as Docker reads the argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End<'a> {
    /// `CONTAINER:PATH`.
    Container(&'a str, &'a str),
    /// A local path.
    Local(&'a str),
    /// `-`: a tar stream on stdin or stdout.
    Stream,
}

/// `CONTAINER:PATH` when a `:` comes before any `/`; a path starting with `/`
/// or `.` is always local (write `./a:b` for a local file named `a:b`).
fn end(arg: &str) -> End<'_> {
    if arg == "-" {
        return End::Stream;
    }
    if arg.starts_with('/') || arg.starts_with('.') {
        return End::Local(arg);
    }
    match arg.split_once(':') {
        Some((container, path)) if !container.contains('/') => End::Container(container, path),
        _ => End::Local(arg),
    }
}

/// `cp`.
pub fn cp(host: &Host, args: &CpArgs) -> Result<ExitCode> {
    let opts = CopyOptions {
        archive: args.archive,
        follow_link: args.follow_link,
    };
    let copied = match (end(&args.source), end(&args.destination)) {
        (End::Container(c, src), End::Local(dest)) => {
            host.copy_from_container(c, Path::new(src), Path::new(dest), opts)?
        }
        // The stream is written as the container has it: whoever extracts it
        // decides what to keep.
        (End::Container(c, src), End::Stream) => {
            let out = BufWriter::new(io::stdout().lock());
            host.copy_from_container_tar(c, Path::new(src), out, opts)?
                .flush()?;
            Copied::default()
        }
        (End::Local(src), End::Container(c, dest)) => {
            host.copy_to_container(c, Path::new(src), Path::new(dest), opts)?
        }
        (End::Stream, End::Container(c, dest)) => {
            if io::stdin().is_terminal() {
                bail!("cp from stdin needs a tar stream piped in");
            }
            host.copy_tar_to_container(c, io::stdin().lock(), Path::new(dest), opts)?
        }
        (End::Container(..), End::Container(..)) => {
            bail!("copying between containers is not supported")
        }
        _ => bail!("must specify at least one container source"),
    };
    if let Some(warning) = skipped_warning(copied, args.archive) {
        eprintln!("{warning}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The one line saying which device nodes were not copied, if any.
fn skipped_warning(copied: Copied, archive: bool) -> Option<String> {
    let n = copied.skipped_devices;
    let nodes = if n == 1 { "node" } else { "nodes" };
    let why = if archive {
        "creating them needs root"
    } else {
        "use -a to copy them"
    };
    (n > 0).then(|| format!("strata cp: skipped {n} device {nodes} ({why})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_split_into_container_and_path_as_docker_does() {
        assert_eq!(end("box:/etc/passwd"), End::Container("box", "/etc/passwd"));
        assert_eq!(end("box:rel/a:b"), End::Container("box", "rel/a:b"));
        assert_eq!(end("box:"), End::Container("box", ""));
        assert_eq!(end("/abs/a:b"), End::Local("/abs/a:b"));
        assert_eq!(end("./a:b"), End::Local("./a:b"));
        assert_eq!(end("dir/a:b"), End::Local("dir/a:b"));
        assert_eq!(end("plain"), End::Local("plain"));
        assert_eq!(end("-"), End::Stream);
    }

    #[test]
    fn skipped_devices_make_one_warning_line() {
        let copied = |n| Copied { skipped_devices: n };
        assert_eq!(skipped_warning(copied(0), false), None);
        assert_eq!(
            skipped_warning(copied(2), false).as_deref(),
            Some("strata cp: skipped 2 device nodes (use -a to copy them)")
        );
        assert_eq!(
            skipped_warning(copied(1), true).as_deref(),
            Some("strata cp: skipped 1 device node (creating them needs root)")
        );
    }
}
