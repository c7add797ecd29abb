//! `build`: reads the Dockerfile and context, runs the build on the host, and
//! renders its progress the way BuildKit does (plain lines, or a live view on
//! a terminal).

mod progress;

use std::collections::BTreeMap;
use std::io::{self, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use strata_build::BuildOptions;
use strata_host::archive::ArchiveFormat;
use strata_host::Host;
use strata_oci::Platform;

use super::archive::save_to_file;
use crate::cli::{BuildArgs, BuilderPruneArgs, ProgressArg};
use progress::{PlainProgress, TtyProgress};

/// `build`.
pub fn build(host: &Host, args: &BuildArgs) -> Result<ExitCode> {
    let inputs = read_inputs(args)?;
    let (text, name, context) = (&inputs.text, &inputs.name, &inputs.context);
    let dockerfile = inputs.dockerfile.as_deref();
    let df = match strata_dockerfile::parse(text) {
        Ok(df) => df,
        Err(e) => bail!("{}", located(name, e.span, &e.message, &e.text)),
    };
    let platform = match &args.platform {
        Some(p) => {
            let p: Platform = p.parse()?;
            let host_platform = Platform::host();
            if !host_platform.matches(&p) {
                bail!("building for {p} is not supported on this {host_platform} machine");
            }
            p
        }
        None => Platform::host(),
    };
    let output = args.output.as_deref().map(parse_output).transpose()?;
    if args.pull {
        bail!("--pull: pulling base images is not available yet; build from images in the local store (strata images)");
    }
    let Some(network) = strata_build::RunNetwork::parse(&args.network) else {
        bail!(
            "--network {:?}: expected default, host or none",
            args.network
        );
    };
    let opts = BuildOptions {
        target: args.target.clone(),
        build_args: build_args(&args.build_args),
        labels: labels(&args.labels)?,
        tags: args.tags.clone(),
        no_cache: args.no_cache,
        platform,
        created: strata_host::created_now(),
        source_date_epoch: std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .and_then(|s| s.trim().parse().ok()),
        network,
    };
    let started = Instant::now();
    let plain = PlainProgress::new(args.quiet);
    let live = !args.quiet
        && match args.progress {
            ProgressArg::Tty => true,
            ProgressArg::Plain => false,
            ProgressArg::Auto => io::stderr().is_terminal(),
        };
    let outcome = if live {
        let view = TtyProgress::new();
        let done = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    view.draw(false);
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
            });
            let outcome = host.build(&df, context, dockerfile, &opts, &view);
            done.store(true, Ordering::Relaxed);
            outcome
        })
        .inspect(|_| view.draw(true))
        .inspect_err(|_| view.draw(true))
    } else {
        host.build(&df, context, dockerfile, &opts, &plain)
    };
    let result = match outcome {
        Ok(r) => r,
        Err(strata_host::Error::Build(e)) => bail!("{}", render_build_error(name, &e)),
        Err(e) => return Err(e.into()),
    };
    let id = result.image_id.to_string();
    if !result.unused_args.is_empty() {
        plain.line(&format!(
            "[Warning] One or more build-args [{}] were not consumed",
            result.unused_args.join(" ")
        ));
    }
    plain.line(&format!("writing image {id} done"));
    for t in &args.tags {
        plain.line(&format!("naming to {t} done"));
    }
    if let Some((format, dest)) = output {
        save_to_file(host, std::slice::from_ref(&id), format, &dest)?;
        plain.line(&format!("exporting to {} done", dest.display()));
    }
    if let Some(f) = &args.iidfile {
        std::fs::write(f, &id).with_context(|| format!("writing {}", f.display()))?;
    }
    if args.quiet {
        println!("{id}");
    } else {
        plain.line(&format!(
            "build finished in {:.1}s",
            started.elapsed().as_secs_f64()
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// `builder prune`.
pub fn prune(host: &Host, args: &BuilderPruneArgs) -> Result<ExitCode> {
    if !args.force {
        eprintln!("WARNING! This will remove all build cache.");
        if !super::util::confirm("Are you sure you want to continue?")
            .context("reading the answer")?
        {
            return Ok(ExitCode::SUCCESS);
        }
    }
    let reclaimed = host.prune_build_cache(args.all)?;
    super::util::print(&format!(
        "Total reclaimed space: {}\n",
        crate::render::human_size(reclaimed.bytes)
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// What a build reads: the Dockerfile (text, name for messages, path when
/// read from a file) and the context directory.
struct Inputs {
    text: String,
    name: String,
    dockerfile: Option<PathBuf>,
    context: PathBuf,
    /// For `build -`: the empty directory standing in for a context.
    _empty: Option<EmptyDir>,
}

fn read_inputs(args: &BuildArgs) -> Result<Inputs> {
    let read_stdin = || -> Result<String> {
        if io::stdin().is_terminal() {
            bail!("reading the Dockerfile from stdin, but stdin is a terminal: pipe it in");
        }
        let mut s = String::new();
        io::stdin()
            .read_to_string(&mut s)
            .context("reading the Dockerfile from stdin")?;
        Ok(s)
    };
    if args.context == "-" {
        let empty = EmptyDir::new()?;
        return Ok(Inputs {
            text: read_stdin()?,
            name: "Dockerfile".into(),
            dockerfile: None,
            context: empty.0.clone(),
            _empty: Some(empty),
        });
    }
    let context = PathBuf::from(&args.context);
    if !context.is_dir() {
        bail!(
            "unable to prepare context: path {:?} not found or not a directory",
            args.context
        );
    }
    let (file, text) = match &args.file {
        Some(f) if f == Path::new("-") => {
            return Ok(Inputs {
                text: read_stdin()?,
                name: "Dockerfile".into(),
                dockerfile: None,
                context,
                _empty: None,
            })
        }
        // A file the user named is read as named.
        Some(f) => (
            f.clone(),
            std::fs::read_to_string(f)
                .with_context(|| format!("reading the Dockerfile {}", f.display()))?,
        ),
        // The context's own Dockerfile is read inside the context: a symlink
        // there cannot make the build print a host file.
        None => {
            let text = strata_host::build::read_context_file(&context, "Dockerfile", 16 << 20)?
                .with_context(|| format!("no Dockerfile in {}", context.display()))?;
            (context.join("Dockerfile"), text)
        }
    };
    let name = file
        .file_name()
        .map_or_else(|| "Dockerfile".into(), |n| n.to_string_lossy().into_owned());
    Ok(Inputs {
        text,
        name,
        dockerfile: Some(file),
        context,
        _empty: None,
    })
}

/// An empty temporary directory (the context of `build -`).
struct EmptyDir(PathBuf);

impl EmptyDir {
    fn new() -> Result<EmptyDir> {
        let p = std::env::temp_dir().join(format!("strata-build-{}", std::process::id()));
        std::fs::create_dir_all(&p).with_context(|| format!("creating {}", p.display()))?;
        Ok(EmptyDir(p))
    }
}

impl Drop for EmptyDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn build_args(given: &[String]) -> BTreeMap<String, String> {
    given
        .iter()
        .filter_map(|a| match a.split_once('=') {
            Some((k, v)) => Some((k.to_owned(), v.to_owned())),
            // `--build-arg KEY` takes the value from the environment, if set.
            None => std::env::var(a).ok().map(|v| (a.clone(), v)),
        })
        .collect()
}

fn labels(given: &[String]) -> Result<BTreeMap<String, String>> {
    given
        .iter()
        .map(|l| match l.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
            _ => Ok((l.clone(), String::new())),
        })
        .collect()
}

fn parse_output(spec: &str) -> Result<(ArchiveFormat, PathBuf)> {
    let mut kind = None;
    let mut dest = None;
    for part in spec.split(',') {
        match part.split_once('=') {
            Some(("type", v)) => kind = Some(v.to_owned()),
            Some(("dest", v)) => dest = Some(PathBuf::from(v)),
            _ => bail!("invalid --output {spec:?}: expected type=oci|docker,dest=FILE"),
        }
    }
    let format = match kind.as_deref() {
        Some("oci") => ArchiveFormat::Oci,
        Some("docker") => ArchiveFormat::Docker,
        Some(other) => bail!("--output type {other:?} is not supported (oci or docker)"),
        None => bail!("--output needs type=oci or type=docker"),
    };
    let dest = dest.ok_or_else(|| anyhow::anyhow!("--output needs dest=FILE"))?;
    Ok((format, dest))
}

/// `FILE:LINE:COL: message` and the offending text under it.
fn located(file: &str, span: strata_dockerfile::Span, message: &str, text: &str) -> String {
    let mut s = format!("{file}:{}:{}: {message}", span.line, span.column);
    let text = text.lines().next().unwrap_or("").trim_end();
    if !text.is_empty() {
        s.push_str(&format!("\n{:>5} | {text}", span.line));
    }
    s
}

fn render_build_error(file: &str, e: &strata_build::Error) -> String {
    match e {
        strata_build::Error::Parse(p) => located(file, p.span, &p.message, &p.text),
        strata_build::Error::Instruction {
            span,
            message,
            text,
            ..
        } => located(file, *span, message, text),
        other => {
            let mut msg = match other.span() {
                Some(span) => format!("{file}:{}: {}", span.line, strip_line(&other.to_string())),
                None => other.to_string(),
            };
            let mut cause = std::error::Error::source(other);
            while let Some(c) = cause {
                msg.push_str(&format!(": {c}"));
                cause = c.source();
            }
            msg
        }
    }
}

/// Drops the `line N: ` prefix the builder's messages start with.
fn strip_line(s: &str) -> String {
    match s.strip_prefix("line ").and_then(|r| r.split_once(": ")) {
        Some((_, rest)) => rest.to_owned(),
        None => s.to_owned(),
    }
}
