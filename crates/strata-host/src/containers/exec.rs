//! `exec`: another process in a running container, with the container's
//! capabilities, seccomp filter and environment (plus `-e`), as Docker does.

use std::fs;
use std::process::Stdio;

use strata_runtime::runc::Runtime;
use strata_runtime::spec::Spec;
use strata_runtime::users;

use super::record::Phase;
use super::rootfs::read_in_root;
use crate::error::{Error, Result};
use crate::host::Host;

/// What `exec` asked for.
#[derive(Debug, Clone, Default)]
pub struct ExecRequest {
    /// The command.
    pub cmd: Vec<String>,
    /// `-e KEY=value`.
    pub env: Vec<String>,
    /// `-u USER[:GROUP]`.
    pub user: Option<String>,
    /// `-w DIR`.
    pub workdir: Option<String>,
    /// `-d`: do not wait.
    pub detach: bool,
    /// `-t`: a terminal (use [`Host::exec_container_tty`]).
    pub tty: bool,
}

/// A process running in a container on its own terminal: the caller relays
/// `master`, then [`TtyExec::wait`]s.
#[derive(Debug)]
pub struct TtyExec {
    /// The pty master of the process's terminal.
    pub master: std::os::fd::OwnedFd,
    pid: rustix::process::Pid,
}

impl TtyExec {
    /// Waits for the process (this process became its subreaper); returns its
    /// exit code.
    pub fn wait(self) -> Result<i32> {
        loop {
            match rustix::process::waitpid(Some(self.pid), rustix::process::WaitOptions::empty()) {
                Ok(Some((_, st))) => {
                    return Ok(match (st.exit_status(), st.terminating_signal()) {
                        (Some(code), _) => code,
                        (None, Some(sig)) => 128 + sig,
                        _ => 255,
                    })
                }
                Ok(None) | Err(rustix::io::Errno::INTR) => continue,
                Err(e) => return Err(Error::io("wait for", "exec process")(e.into())),
            }
        }
    }
}

fn exit_code(status: std::process::ExitStatus) -> i32 {
    match (
        status.code(),
        std::os::unix::process::ExitStatusExt::signal(&status),
    ) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        _ => 255,
    }
}

impl Host {
    /// Writes the exec'd process's spec (the container's, with the request's
    /// changes) to a file in the bundle.
    fn exec_process(
        &self,
        key: &str,
        req: &ExecRequest,
    ) -> Result<(super::Container, std::path::PathBuf)> {
        let c = self.container(key)?;
        if c.phase() != Phase::Running {
            return Err(Error::Conflict(format!(
                "container {} is not running",
                c.record.id
            )));
        }
        if req.cmd.is_empty() {
            return Err(Error::InvalidArgument("exec needs a command".into()));
        }
        let spec_path = c.path("bundle").join("config.json");
        let bytes = fs::read(&spec_path).map_err(Error::io("read", &spec_path))?;
        let spec: Spec = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Archive(format!("{}: {e}", spec_path.display())))?;
        let mut process = spec.process;
        process.args = req.cmd.clone();
        process.terminal = req.tty;
        for kv in &req.env {
            let key = kv.split_once('=').map_or(kv.as_str(), |(k, _)| k);
            process
                .env
                .retain(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) != key);
            process.env.push(kv.clone());
        }
        if req.tty && !process.env.iter().any(|e| e.starts_with("TERM=")) {
            process.env.push("TERM=xterm".to_owned());
        }
        if let Some(w) = &req.workdir {
            process.cwd = w.clone();
        }
        if let Some(u) = &req.user {
            let rootfs = c.path("rootfs");
            let passwd = read_in_root(&rootfs, "/etc/passwd", 1 << 20).unwrap_or_default();
            let group = read_in_root(&rootfs, "/etc/group", 1 << 20).unwrap_or_default();
            let who = users::resolve(
                u,
                &users::parse_passwd(&passwd),
                &users::parse_group(&group),
            )?;
            process.user.uid = who.uid;
            process.user.gid = who.gid;
            process.user.additional_gids = who.additional_gids;
        }
        let file = c
            .path("bundle")
            .join(format!("exec-{}.json", std::process::id()));
        let bytes = serde_json::to_vec(&process)
            .map_err(|e| Error::Archive(format!("encoding the exec process: {e}")))?;
        fs::write(&file, bytes).map_err(Error::io("write", &file))?;
        Ok((c, file))
    }

    /// Runs a process in the container with this process's stdio; returns its
    /// exit code (0 when detached).
    pub fn exec_container(&self, key: &str, req: &ExecRequest) -> Result<i32> {
        let (c, file) = self.exec_process(key, req)?;
        let rt = Runtime::new(&c.record.settings.runtime, &self.runtime_root())?;
        let mut cmd = rt.command();
        cmd.arg("exec").arg("--process").arg(&file);
        if req.detach {
            cmd.arg("--detach");
        }
        cmd.arg(&c.record.id);
        if req.detach {
            cmd.stdin(Stdio::null()).stdout(Stdio::null());
        }
        let status = cmd.status().map_err(Error::io("run", rt.binary()));
        let _ = fs::remove_file(&file);
        Ok(exit_code(status?))
    }

    /// Starts a process in the container on a new terminal. runc hands a
    /// terminal over only when it detaches, so the process is waited for
    /// directly: this process becomes a child subreaper.
    pub fn exec_container_tty(&self, key: &str, req: &ExecRequest) -> Result<TtyExec> {
        let req = ExecRequest {
            tty: true,
            ..req.clone()
        };
        let (c, file) = self.exec_process(key, &req)?;
        let rt = Runtime::new(&c.record.settings.runtime, &self.runtime_root())?;
        std::fs::create_dir_all(super::SOCKET_DIR)
            .map_err(Error::io("create", super::SOCKET_DIR))?;
        let tag = format!("exec-{}", std::process::id());
        let console =
            strata_runtime::console::ConsoleSocket::bind(&Self::socket_path(&c.record.id, &tag))?;
        let pid_file = c.path("bundle").join(format!("{tag}.pid"));
        rustix::process::set_child_subreaper(Some(rustix::process::getpid()))
            .map_err(|e| Error::io("become subreaper", &pid_file)(e.into()))?;
        let mut child = rt
            .command()
            .args(["exec", "--detach", "--tty", "--console-socket"])
            .arg(console.path())
            .arg("--pid-file")
            .arg(&pid_file)
            .arg("--process")
            .arg(&file)
            .arg(&c.record.id)
            .stdin(Stdio::null())
            .spawn()
            .map_err(Error::io("run", rt.binary()))?;
        let master = console.receive_master_while(|| matches!(child.try_wait(), Ok(None)));
        let status = child.wait().map_err(Error::io("run", rt.binary()));
        let _ = fs::remove_file(&file);
        let master = master?;
        if !status?.success() {
            return Err(Error::Conflict(format!("exec in {} failed", c.record.id)));
        }
        let pid = fs::read_to_string(&pid_file)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
            .and_then(rustix::process::Pid::from_raw)
            .ok_or_else(|| Error::io("read", &pid_file)(std::io::Error::other("no exec PID")))?;
        let _ = fs::remove_file(&pid_file);
        Ok(TtyExec { master, pid })
    }
}
