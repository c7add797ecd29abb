//! The OCI runtime binary (`runc` by default): every call goes through here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde::Deserialize;

use crate::error::{Error, Result};

/// Where Debian installs runc.
pub const DEFAULT_RUNTIME: &str = "runc";

/// An OCI runtime binary with its state directory.
#[derive(Debug, Clone)]
pub struct Runtime {
    binary: PathBuf,
    root: PathBuf,
}

/// What `runc state` says about a container.
#[derive(Debug, Clone, Deserialize)]
pub struct RuntimeState {
    /// `created`, `running`, `stopped`, `paused`.
    pub status: String,
    /// The init process, 0 when stopped.
    #[serde(default)]
    pub pid: i32,
}

/// Finds `name` on PATH (or takes it as a path when it has a slash).
fn locate(name: &Path) -> Option<PathBuf> {
    if name.components().count() > 1 {
        return name.is_file().then(|| name.to_path_buf());
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

impl Runtime {
    /// The runtime `binary` (a name looked up on PATH, or a path) keeping its state
    /// under `root`. Fails clearly when the binary is missing.
    pub fn new(binary: &Path, root: &Path) -> Result<Runtime> {
        let found = locate(binary).ok_or_else(|| Error::RuntimeMissing {
            binary: binary.to_path_buf(),
            package: "runc",
        })?;
        Ok(Runtime {
            binary: found,
            root: root.to_path_buf(),
        })
    }

    /// The binary's path.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// A command with the global flags set.
    pub fn command(&self) -> Command {
        let mut c = Command::new(&self.binary);
        c.arg("--root").arg(&self.root);
        c
    }

    fn name(&self) -> String {
        self.binary.file_name().map_or_else(
            || "runtime".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    fn check(&self, op: &'static str, id: &str, out: std::io::Result<Output>) -> Result<Output> {
        let out = out.map_err(Error::io("run", &self.binary))?;
        if out.status.success() {
            return Ok(out);
        }
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(Error::Runtime {
            runtime: self.name(),
            op,
            id: id.to_owned(),
            message: runtime_message(&stderr),
        })
    }

    /// `start ID`: lets a created container run.
    pub fn start(&self, id: &str) -> Result<()> {
        let out = self
            .command()
            .arg("start")
            .arg(id)
            .stdin(Stdio::null())
            .output();
        self.check("start", id, out).map(drop)
    }

    /// `kill [--all] ID SIGNAL`.
    pub fn kill(&self, id: &str, signal: &str, all: bool) -> Result<()> {
        let mut c = self.command();
        c.arg("kill");
        if all {
            c.arg("--all");
        }
        let out = c.arg(id).arg(signal).stdin(Stdio::null()).output();
        self.check("kill", id, out).map(drop)
    }

    /// `delete --force ID`; an unknown container is not an error.
    pub fn delete(&self, id: &str) -> Result<()> {
        let out = self
            .command()
            .args(["delete", "--force", id])
            .stdin(Stdio::null())
            .output();
        match self.check("delete", id, out) {
            Ok(_) => Ok(()),
            Err(Error::Runtime { message, .. }) if message.contains("does not exist") => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `state ID`, or `None` when the runtime does not know it.
    pub fn state(&self, id: &str) -> Result<Option<RuntimeState>> {
        let out = self
            .command()
            .args(["state", id])
            .stdin(Stdio::null())
            .output();
        match self.check("state", id, out) {
            Ok(o) => serde_json::from_slice(&o.stdout)
                .map(Some)
                .map_err(|e| Error::Runtime {
                    runtime: self.name(),
                    op: "state",
                    id: id.to_owned(),
                    message: e.to_string(),
                }),
            Err(Error::Runtime { message, .. }) if message.contains("does not exist") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `ps --format json ID`: host PIDs of the container's processes.
    pub fn pids(&self, id: &str) -> Result<Vec<i32>> {
        let out = self
            .command()
            .args(["ps", "--format", "json", id])
            .stdin(Stdio::null())
            .output();
        let out = self.check("ps", id, out)?;
        serde_json::from_slice::<Option<Vec<i32>>>(&out.stdout)
            .map(Option::unwrap_or_default)
            .map_err(|e| Error::Runtime {
                runtime: self.name(),
                op: "ps",
                id: id.to_owned(),
                message: e.to_string(),
            })
    }
}

/// runc prints `time="…" level=error msg="…"` lines, or plain text: keep the message.
pub(crate) fn runtime_message(stderr: &str) -> String {
    let lines: Vec<String> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match l.find("msg=\"") {
            Some(i) => {
                let rest = &l[i + 5..];
                rest.rfind('"')
                    .map_or(rest, |j| &rest[..j])
                    .replace("\\\"", "\"")
            }
            None => l.trim().to_owned(),
        })
        .collect();
    if lines.is_empty() {
        "failed without a message".to_owned()
    } else {
        lines.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runc_messages_are_extracted_from_its_log_format() {
        let s = "time=\"2026-01-01T00:00:00Z\" level=error msg=\"container \\\"x\\\" does not exist\"\n";
        assert_eq!(runtime_message(s), "container \"x\" does not exist");
        assert_eq!(runtime_message("plain failure\n"), "plain failure");
        assert_eq!(runtime_message(""), "failed without a message");
    }

    #[test]
    fn a_missing_runtime_names_the_package() {
        let err = Runtime::new(Path::new("/nonexistent/runc"), Path::new("/tmp")).unwrap_err();
        assert!(err.to_string().contains("Debian package `runc`"), "{err}");
    }
}
