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
}

impl Host {
    /// Runs a process in the container with this process's stdio; returns its
    /// exit code (0 when detached).
    pub fn exec_container(&self, key: &str, req: &ExecRequest) -> Result<i32> {
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
        process.terminal = false;
        for kv in &req.env {
            let key = kv.split_once('=').map_or(kv.as_str(), |(k, _)| k);
            process
                .env
                .retain(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) != key);
            process.env.push(kv.clone());
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
        let status = status?;
        Ok(
            match (
                status.code(),
                std::os::unix::process::ExitStatusExt::signal(&status),
            ) {
                (Some(code), _) => code,
                (None, Some(sig)) => 128 + sig,
                _ => 255,
            },
        )
    }
}
