//! The per-container monitor (what conmon is to podman): a process of its own
//! that outlives the CLI. It creates the container through the runtime with its
//! stdio on pipes it owns, becomes the container's parent (child subreaper), writes
//! every output line to a JSON log (Docker's json-file format), waits for the exit,
//! records the exit code and whether the kernel OOM-killed it, and deletes the
//! runtime's container.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use strata_oci::Timestamp;

use crate::console::ConsoleSocket;
use crate::error::{Error, Result};
use crate::runc::{runtime_message, Runtime};

mod streams;

#[cfg(test)]
use streams::MAX_LINE;
use streams::{pump, Attach, Input};

/// Everything the monitor needs, written by the host into the container directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MonitorConfig {
    /// The runtime's container ID.
    pub id: String,
    /// The runtime binary.
    pub runtime: PathBuf,
    /// The runtime's state directory.
    pub runtime_root: PathBuf,
    /// The bundle directory.
    pub bundle: PathBuf,
    /// The JSON log.
    pub log: PathBuf,
    /// Where the monitor records the container's state.
    pub state: PathBuf,
    /// The container's cgroup path (as in the spec), for OOM accounting.
    pub cgroups_path: String,
    /// The container has a terminal (`-t`).
    #[serde(default)]
    pub tty: bool,
    /// The container's stdin is open (`-i`).
    #[serde(default)]
    pub stdin: bool,
    /// The unix socket attached clients connect to.
    pub attach: PathBuf,
    /// The unix socket the runtime sends a terminal's pty master to.
    pub console: PathBuf,
}

/// Lifecycle of a container as the monitor records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Created by the runtime, not started.
    Created,
    /// Running.
    Running,
    /// Exited (or failed to start).
    Exited,
}

/// The monitor's record of the container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MonitorState {
    /// Where the container is in its life.
    pub status: Status,
    /// The monitor's PID.
    pub monitor_pid: u32,
    /// The container's init PID (host namespace), once started.
    #[serde(default)]
    pub pid: Option<i32>,
    /// When it started (RFC 3339).
    #[serde(default)]
    pub started_at: Option<String>,
    /// When it exited.
    #[serde(default)]
    pub finished_at: Option<String>,
    /// Exit code (128+signal when killed by a signal).
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// True when the kernel's OOM killer struck inside the container's cgroup.
    #[serde(default)]
    pub oom_killed: bool,
    /// Why it could not start.
    #[serde(default)]
    pub error: Option<String>,
}

impl MonitorState {
    /// Reads a state file.
    pub fn load(path: &Path) -> Result<MonitorState> {
        let bytes = fs::read(path).map_err(Error::io("read", path))?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::io("parse", path)(io::Error::new(io::ErrorKind::InvalidData, e)))
    }

    fn save(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("tmp");
        let bytes =
            serde_json::to_vec(self).map_err(|e| Error::io("encode", path)(io::Error::other(e)))?;
        fs::write(&tmp, bytes).map_err(Error::io("write", &tmp))?;
        fs::rename(&tmp, path).map_err(Error::io("rename", path))
    }
}

/// One line of the JSON log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// The text, with its newline (none for a partial line).
    pub log: String,
    /// `stdout` or `stderr`.
    pub stream: String,
    /// When it was read (RFC 3339 with nanoseconds).
    pub time: String,
}

/// Reads whether the kernel OOM-killed a process in the cgroup (v1 or v2).
fn oom_killed(cgroups_path: &str) -> bool {
    let rel = cgroups_path.trim_start_matches('/');
    let candidates = [
        format!("/sys/fs/cgroup/memory/{rel}/memory.oom_control"),
        format!("/sys/fs/cgroup/{rel}/memory.events"),
    ];
    candidates.iter().any(|p| {
        fs::read_to_string(p).is_ok_and(|s| {
            s.lines().any(|l| {
                l.strip_prefix("oom_kill ")
                    .and_then(|n| n.trim().parse::<u64>().ok())
                    .is_some_and(|n| n > 0)
            })
        })
    })
}

fn wait_status_code(status: rustix::process::WaitStatus) -> i32 {
    match (status.exit_status(), status.terminating_signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        _ => 255,
    }
}

/// Runs the container to completion. Call from a process of its own (see the
/// CLI's hidden `container-monitor`), detached from any terminal.
pub fn run(cfg: &MonitorConfig) -> Result<MonitorState> {
    let runtime = Runtime::new(&cfg.runtime, &cfg.runtime_root)?;
    let mut state = MonitorState {
        status: Status::Created,
        monitor_pid: std::process::id(),
        pid: None,
        started_at: None,
        finished_at: None,
        exit_code: None,
        oom_killed: false,
        error: None,
    };
    let fail = |mut state: MonitorState, message: String| -> Result<MonitorState> {
        state.status = Status::Exited;
        state.exit_code = Some(127);
        state.finished_at = Some(Timestamp::now().to_rfc3339());
        state.error = Some(message);
        state.save(&cfg.state)?;
        Ok(state)
    };
    // The container's init is re-parented to us when the runtime exits, so we
    // can wait for it like a child.
    rustix::process::set_child_subreaper(Some(rustix::process::getpid()))
        .map_err(|e| Error::io("become subreaper", &cfg.bundle)(e.into()))?;
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&cfg.log)
        .map_err(Error::io("open", &cfg.log))?;
    let log = Arc::new(Mutex::new(log));
    let (out_r, out_w) = io::pipe().map_err(Error::io("pipe", &cfg.bundle))?;
    let (err_r, err_w) = io::pipe().map_err(Error::io("pipe", &cfg.bundle))?;
    let (stdin_r, stdin_w) = match cfg.stdin && !cfg.tty {
        true => {
            let (r, w) = io::pipe().map_err(Error::io("pipe", &cfg.bundle))?;
            (Some(r), Some(w))
        }
        false => (None, None),
    };
    let console = match cfg.tty {
        true => Some(ConsoleSocket::bind(&cfg.console)?),
        false => None,
    };
    let pid_file = cfg.bundle.join("init.pid");
    let runtime_log = cfg.bundle.join("runtime.log");
    let mut create = runtime.command();
    create
        .arg("--log")
        .arg(&runtime_log)
        // One runtime call creates and starts it (`create` + `start` cost a
        // second runtime start-up); as subreaper we reap it however fast it exits.
        .args(["run", "--detach", "--bundle"])
        .arg(&cfg.bundle)
        .arg("--pid-file")
        .arg(&pid_file);
    if let Some(c) = &console {
        create.arg("--console-socket").arg(c.path());
    }
    let mut child = create
        .arg(&cfg.id)
        .stdin(stdin_r.map_or_else(Stdio::null, Stdio::from))
        .stdout(Stdio::from(out_w))
        .stderr(Stdio::from(err_w))
        .spawn()
        .map_err(Error::io("run", runtime.binary()))?;
    // The command holds our copies of the pipes' write ends: without dropping
    // it, the pumps would never see the end of the container's output.
    drop(create);
    let master = match &console {
        Some(c) => match c.receive_master_while(|| matches!(child.try_wait(), Ok(None))) {
            Ok(m) => Some(m),
            Err(e) => {
                let _ = child.wait();
                let message = fs::read_to_string(&runtime_log).unwrap_or_default();
                let _ = runtime.delete(&cfg.id);
                let why = if message.trim().is_empty() {
                    e.to_string()
                } else {
                    runtime_message(&message)
                };
                return fail(state, why);
            }
        },
        None => None,
    };
    tracing::debug!("runtime started");
    let created = child.wait().map_err(Error::io("run", runtime.binary()))?;
    tracing::debug!("runtime returned {created}");
    let pumps = [
        std::thread::spawn({
            let log = Arc::clone(&log);
            move || pump(out_r, "stdout", &log)
        }),
        std::thread::spawn({
            let log = Arc::clone(&log);
            move || pump(err_r, "stderr", &log)
        }),
    ];
    let input = match (&master, stdin_w) {
        (Some(m), _) => match m.try_clone() {
            Ok(fd) => Input::Tty(File::from(fd)),
            Err(_) => Input::None,
        },
        (None, Some(w)) => Input::Pipe(Some(w)),
        (None, None) => Input::None,
    };
    let attach = Attach::new(&cfg.attach, input);
    let server = attach.serve().ok();
    let relay = master.map(|m| attach.relay_tty(m, Arc::clone(&log)));
    if !created.success() {
        attach.close(server);
        let message = fs::read_to_string(&runtime_log).unwrap_or_default();
        let _ = runtime.delete(&cfg.id);
        return fail(state, runtime_message(&message));
    }
    let pid: i32 = match fs::read_to_string(&pid_file)
        .ok()
        .and_then(|s| s.trim().parse().ok())
    {
        Some(p) => p,
        None => {
            attach.close(server);
            let _ = runtime.delete(&cfg.id);
            return fail(state, "the runtime wrote no init PID".to_owned());
        }
    };
    state.pid = Some(pid);
    state.started_at = Some(Timestamp::now().to_rfc3339());
    state.status = Status::Running;
    state.save(&cfg.state)?;
    tracing::debug!("running as pid {pid}");

    let init = rustix::process::Pid::from_raw(pid);
    let code = loop {
        match rustix::process::waitpid(init, rustix::process::WaitOptions::empty()) {
            Ok(Some((_, status))) => break wait_status_code(status),
            Ok(None) | Err(rustix::io::Errno::INTR) => continue,
            // Not our child after all (reparenting failed): nothing to wait on.
            Err(_) => break 255,
        }
    };
    for p in pumps.into_iter().chain(relay) {
        let _ = p.join();
    }
    attach.close(server);
    tracing::debug!("exited with {code}");
    state.oom_killed = oom_killed(&cfg.cgroups_path);
    state.exit_code = Some(code);
    state.finished_at = Some(Timestamp::now().to_rfc3339());
    state.status = Status::Exited;
    if let Err(e) = runtime.delete(&cfg.id) {
        tracing::warn!("deleting {}: {e}", cfg.id);
    }
    tracing::debug!("runtime state deleted");
    state.save(&cfg.state)?;
    Ok(state)
}

/// Reads the JSON log.
pub fn read_log(path: &Path) -> Result<Vec<LogLine>> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("read", path)(e)),
    };
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pump_writes_json_lines_and_splits_long_ones() {
        let dir = strata_testkit::TempDir::new("monitor");
        let path = dir.join("log.json");
        let log = Arc::new(Mutex::new(File::create(&path).unwrap()));
        let mut input = b"one\ntwo\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_LINE + 10));
        pump(&input[..], "stdout", &log);
        drop(log);
        let lines = read_log(&path).unwrap();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0].log, "one\n");
        assert_eq!(lines[1].stream, "stdout");
        assert_eq!(lines[2].log.len(), MAX_LINE);
        assert_eq!(lines[3].log, "x".repeat(10));
        assert!(Timestamp::parse_rfc3339(&lines[0].time).is_some());
    }
}
