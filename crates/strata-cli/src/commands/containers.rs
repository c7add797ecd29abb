//! run, create, start, stop, kill, restart, rm, wait, logs, exec, container prune,
//! and the hidden monitor.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use strata_host::containers::{
    Container, CreateRequest, ExecRequest, LogOptions, LogStream, MountRequest, NetworkMode,
    Settings,
};
use strata_host::Host;
use strata_oci::Timestamp;

use super::terminal;
use super::util::{confirm, print};
use crate::cli::{
    ContainerPruneArgs, ExecArgs, KillArgs, LogsArgs, MonitorArgs, RmArgs, RunArgs, StartArgs,
    StopArgs, WaitArgs,
};
use crate::render::parse_size;

/// Docker's exit status when the engine itself fails a `run`.
const RUN_FAILED: u8 = 125;

fn key_value(kv: &str, what: &str) -> Result<(String, String)> {
    match kv.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => bail!("invalid {what} {kv:?}: expected KEY=VALUE"),
    }
}

/// `-e`/`--env-file` as Docker resolves them: `KEY` alone takes this shell's value.
fn environment(args: &RunArgs) -> Result<Vec<String>> {
    let mut lines: Vec<String> = Vec::new();
    for file in &args.env_file {
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("reading env file {}", file.display()))?;
        lines.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned),
        );
    }
    lines.extend(args.env.iter().cloned());
    Ok(lines
        .into_iter()
        .filter_map(|kv| match kv.split_once('=') {
            Some(_) => Some(kv),
            None => std::env::var(&kv).ok().map(|v| format!("{kv}={v}")),
        })
        .collect())
}

fn mounts(args: &RunArgs) -> Result<Vec<MountRequest>> {
    let mut out = Vec::new();
    for v in &args.volumes {
        let parts: Vec<&str> = v.split(':').collect();
        let (src, dst, mode) = match parts.as_slice() {
            [s, d] => (*s, *d, "rw"),
            [s, d, m] => (*s, *d, *m),
            _ => bail!("invalid volume specification {v:?}: expected SRC:DST[:ro]"),
        };
        if !src.starts_with('/') {
            bail!("invalid volume {v:?}: named volumes are not supported yet; give an absolute host path");
        }
        if !dst.starts_with('/') {
            bail!("invalid volume {v:?}: the container path must be absolute");
        }
        if !std::path::Path::new(src).exists() {
            bail!("invalid volume {v:?}: {src} does not exist");
        }
        out.push(MountRequest {
            kind: "bind".into(),
            source: Some(src.to_owned()),
            destination: dst.to_owned(),
            read_only: match mode {
                "ro" => true,
                "rw" => false,
                m => bail!("invalid volume {v:?}: unknown mode {m:?} (ro or rw)"),
            },
        });
    }
    for t in &args.tmpfs {
        let dst = t.split(':').next().unwrap_or_default();
        if !dst.starts_with('/') {
            bail!("invalid tmpfs {t:?}: the container path must be absolute");
        }
        out.push(MountRequest {
            kind: "tmpfs".into(),
            source: None,
            destination: dst.to_owned(),
            read_only: false,
        });
    }
    Ok(out)
}

fn settings(args: &RunArgs) -> Result<Settings> {
    let network = match args.network.as_str() {
        "bridge" | "default" => NetworkMode::Bridge,
        "host" => NetworkMode::Host,
        "none" => NetworkMode::None,
        other => bail!("network {other:?} not found: use bridge, host or none"),
    };
    let mut ports = Vec::new();
    for p in &args.publish {
        if network != NetworkMode::Bridge {
            bail!(
                "published ports need the bridge network (got --network {})",
                args.network
            );
        }
        ports.extend(strata_host::containers::parse_publish(p)?);
    }
    let mut labels = BTreeMap::new();
    for l in &args.labels {
        let (k, v) = key_value(l, "label")?;
        labels.insert(k, v);
    }
    Ok(Settings {
        cmd: (!args.command().is_empty()).then(|| args.command().to_vec()),
        entrypoint: args.entrypoint.as_ref().map(|e| {
            if e.is_empty() {
                Vec::new()
            } else {
                vec![e.clone()]
            }
        }),
        env: environment(args)?,
        workdir: args.workdir.clone(),
        user: args.user.clone(),
        tty: args.tty,
        interactive: args.interactive,
        hostname: args.hostname.clone().unwrap_or_default(),
        labels,
        mounts: mounts(args)?,
        read_only: args.read_only,
        network,
        ports,
        security_opt: args.security_opt.clone(),
        cap_add: args.cap_add.clone(),
        cap_drop: args.cap_drop.clone(),
        memory: args
            .memory
            .as_deref()
            .map(|m| parse_size(m).map(|b| i64::try_from(b).unwrap_or(i64::MAX)))
            .transpose()?,
        cpus: args.cpus,
        pids_limit: args.pids_limit,
        auto_remove: args.rm,
        runtime: args.runtime.clone(),
        stop_signal: args.stop_signal.clone(),
        stop_timeout: args.stop_timeout,
    })
}

fn create_request(args: &RunArgs) -> Result<CreateRequest> {
    Ok(CreateRequest {
        image: args.image().to_owned(),
        name: args.name.clone(),
        settings: settings(args)?,
    })
}

/// `create`: prints the new container's ID.
pub fn create(host: &Host, args: &RunArgs) -> Result<ExitCode> {
    let c = host.create_container(create_request(args)?)?;
    print(&format!("{}\n", c.record.id))?;
    Ok(ExitCode::SUCCESS)
}

/// `run`: create and start; attached, stream the output and exit with the
/// container's code.
pub fn run(host: &Host, args: &RunArgs) -> Result<ExitCode> {
    let c = match create_request(args).and_then(|r| Ok(host.create_container(r)?)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Error: {e:#}");
            return Ok(ExitCode::from(RUN_FAILED));
        }
    };
    if args.detach {
        if let Err(e) = host.start_container(&c.record.id) {
            eprintln!("Error: {e}");
            if args.rm {
                let _ = host.remove_container(&c.record.id, true);
            }
            return Ok(ExitCode::from(start_failure_code(&e.to_string())));
        }
        print(&format!("{}\n", c.record.id))?;
        return Ok(ExitCode::SUCCESS);
    }
    let attached = host.attach(&c)?;
    if let Err(e) = host.start_container(&c.record.id) {
        eprintln!("Error: {e}");
        drop(attached);
        if args.rm {
            let _ = host.remove_container(&c.record.id, true);
        }
        return Ok(ExitCode::from(start_failure_code(&e.to_string())));
    }
    let code = session(host, &c, args.interactive, args.tty)?;
    drop(attached);
    if args.rm {
        wait_removed(host, &c.record.id);
    }
    Ok(ExitCode::from(u8::try_from(code & 0xff).unwrap_or(1)))
}

/// An attached run to its end: output (from the terminal, or from the log),
/// stdin when interactive; returns the exit code.
fn session(host: &Host, c: &Container, interactive: bool, tty: bool) -> Result<i32> {
    if !interactive && !tty {
        return follow_to_exit(host, &c.record.id);
    }
    // Raw before anything is shown: a terminal's output already has its \r\n.
    let raw = tty.then(terminal::RawMode::enter);
    let Some(stream) = host.attach_stream(c)? else {
        // Gone before we could attach: everything it wrote is in the log.
        return follow_to_exit(host, &c.record.id);
    };
    terminal::attach(stream, interactive, tty)?;
    let code = if tty {
        let done = host.wait_container(&c.record.id, None)?;
        done.state.and_then(|s| s.exit_code).unwrap_or(0)
    } else {
        follow_to_exit(host, &c.record.id)?
    };
    drop(raw);
    Ok(code)
}

/// `run --rm` returns once the container is gone, as Docker's does.
fn wait_removed(host: &Host, id: &str) {
    for _ in 0..3000 {
        if host.container(id).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Docker's `run` exit statuses when the container cannot start: 127 when the
/// command does not exist, 126 when it cannot be invoked, 125 otherwise.
fn start_failure_code(message: &str) -> u8 {
    if message.contains("executable file not found")
        || message.contains("no such file or directory")
    {
        127
    } else if message.contains("permission denied") {
        126
    } else {
        RUN_FAILED
    }
}

/// Prints the container's output until it exits; returns its exit code.
fn follow_to_exit(host: &Host, id: &str) -> Result<i32> {
    let opts = LogOptions {
        follow: true,
        ..LogOptions::default()
    };
    host.logs(id, &opts, &mut |stream, text, _| write_stream(stream, text))?;
    let c = host.wait_container(id, None)?;
    Ok(c.state.and_then(|s| s.exit_code).unwrap_or(0))
}

fn write_stream(stream: LogStream, text: &str) -> std::io::Result<()> {
    match stream {
        LogStream::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()
        }
        LogStream::Stderr => {
            let mut err = std::io::stderr().lock();
            err.write_all(text.as_bytes())?;
            err.flush()
        }
    }
}

/// Runs `f` for each container named, printing the name on success and the
/// error otherwise, as Docker's multi-container verbs do.
fn each(names: &[String], mut f: impl FnMut(&str) -> Result<()>) -> Result<ExitCode> {
    let mut failed = false;
    for n in names {
        match f(n) {
            Ok(()) => print(&format!("{n}\n"))?,
            Err(e) => {
                eprintln!("Error: {e:#}");
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `start [-a]`.
pub fn start(host: &Host, args: &StartArgs) -> Result<ExitCode> {
    if args.attach {
        let [name] = args.containers.as_slice() else {
            bail!("you cannot start and attach multiple containers at once");
        };
        let c = host.container(name)?;
        let attached = host.attach(&c)?;
        host.start_container(name)?;
        let s = &c.record.settings;
        let code = session(host, &c, s.interactive, s.tty)?;
        drop(attached);
        if c.record.settings.auto_remove {
            wait_removed(host, &c.record.id);
        }
        return Ok(ExitCode::from(u8::try_from(code & 0xff).unwrap_or(1)));
    }
    each(&args.containers, |n| {
        Ok(host.start_container(n).map(drop)?)
    })
}

/// `stop`.
pub fn stop(host: &Host, args: &StopArgs) -> Result<ExitCode> {
    each(&args.containers, |n| {
        Ok(host.stop_container(n, args.time).map(drop)?)
    })
}

/// `restart`.
pub fn restart(host: &Host, args: &StopArgs) -> Result<ExitCode> {
    each(&args.containers, |n| {
        Ok(host.restart_container(n, args.time).map(drop)?)
    })
}

/// `kill`.
pub fn kill(host: &Host, args: &KillArgs) -> Result<ExitCode> {
    each(&args.containers, |n| {
        Ok(host.kill_container(n, &args.signal).map(drop)?)
    })
}

/// `rm`.
pub fn rm(host: &Host, args: &RmArgs) -> Result<ExitCode> {
    each(&args.containers, |n| {
        Ok(host.remove_container(n, args.force).map(drop)?)
    })
}

/// `wait`: prints each exit code.
pub fn wait(host: &Host, args: &WaitArgs) -> Result<ExitCode> {
    let mut failed = false;
    for n in &args.containers {
        match host.wait_container(n, None) {
            Ok(c) => print(&format!(
                "{}\n",
                c.state.and_then(|s| s.exit_code).unwrap_or(0)
            ))?,
            Err(e) => {
                eprintln!("Error: {e}");
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Docker's `--since`: RFC 3339, Unix seconds, or a duration before now (`10m`).
fn parse_since(s: &str) -> Result<Timestamp> {
    if let Some(t) = Timestamp::parse_rfc3339(s) {
        return Ok(t);
    }
    if let Ok(secs) = s.parse::<i64>() {
        return Ok(Timestamp::from_unix_seconds(secs));
    }
    let mut total = 0u64;
    let mut num = String::new();
    for ch in s.chars() {
        if ch.is_ascii_digit() {
            num.push(ch);
            continue;
        }
        let n: u64 = num
            .parse()
            .with_context(|| format!("invalid --since {s:?}"))?;
        num.clear();
        total += n * match ch {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => bail!("invalid --since {s:?}: use a time or a duration like 10m"),
        };
    }
    if !num.is_empty() || total == 0 {
        bail!("invalid --since {s:?}: use a time or a duration like 10m");
    }
    let now = Timestamp::now();
    Ok(Timestamp(now.0 - i128::from(total) * 1_000_000_000))
}

/// `logs`.
pub fn logs(host: &Host, args: &LogsArgs) -> Result<ExitCode> {
    let opts = LogOptions {
        follow: args.follow,
        tail: match args.tail.as_str() {
            "all" => None,
            n => Some(n.parse().with_context(|| format!("invalid --tail {n:?}"))?),
        },
        since: args.since.as_deref().map(parse_since).transpose()?,
    };
    let timestamps = args.timestamps;
    host.logs(&args.container, &opts, &mut |stream, text, time| {
        if timestamps {
            write_stream(stream, &format!("{time} {text}"))
        } else {
            write_stream(stream, text)
        }
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `exec`: exits with the command's code.
pub fn exec(host: &Host, args: &ExecArgs) -> Result<ExitCode> {
    let req = ExecRequest {
        cmd: args.command.clone(),
        env: args.env.clone(),
        user: args.user.clone(),
        workdir: args.workdir.clone(),
        detach: args.detach,
        tty: args.tty,
    };
    let code = if args.tty && !args.detach {
        let t = host.exec_container_tty(&args.container, &req)?;
        let raw = terminal::RawMode::enter();
        terminal::relay(t.master.try_clone()?, args.interactive)?;
        drop(raw);
        t.wait()?
    } else {
        host.exec_container(&args.container, &req)?
    };
    Ok(ExitCode::from(u8::try_from(code & 0xff).unwrap_or(1)))
}

/// `container prune`.
pub fn prune(host: &Host, args: &ContainerPruneArgs) -> Result<ExitCode> {
    if !args.force {
        eprintln!("WARNING! This will remove all stopped containers.");
        if !confirm("Are you sure you want to continue?")? {
            return Ok(ExitCode::SUCCESS);
        }
    }
    let removed = host.prune_containers()?;
    let mut out = String::new();
    if !removed.is_empty() {
        out.push_str("Deleted Containers:\n");
        for id in &removed {
            out.push_str(id);
            out.push('\n');
        }
        out.push('\n');
    }
    out.push_str("Total reclaimed space: 0B\n");
    print(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// The hidden `container-monitor`: detaches from the terminal and runs the
/// container to its end.
pub fn monitor(host: &Host, args: &MonitorArgs) -> Result<ExitCode> {
    let _ = rustix::process::setsid();
    host.monitor_container(&args.id)?;
    Ok(ExitCode::SUCCESS)
}
