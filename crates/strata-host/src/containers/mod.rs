//! Containers: create, start, stop, remove, inspect, logs, exec, cp.
//!
//! Each container lives in `containers/<id>/` under the store root:
//!
//! ```text
//! containers/<id>/
//! ├── container.json   the record (what was asked, what was set up)
//! ├── monitor.json     what the monitor needs
//! ├── state.json       written by the monitor: running, exit code, OOM
//! ├── log.json         output, Docker's json-file format
//! ├── bundle/          config.json for the OCI runtime (+ its log, init pid)
//! ├── rootfs/          overlay mount point (or the copied tree in copy mode)
//! ├── upper/, work/    the writable layer (overlay mode)
//! ├── hosts, hostname, resolv.conf
//! └── lock             held while the container changes state
//! ```
//!
//! The runtime's own state lives in `runc/` under the store root.

mod copy;
mod create;
mod exec;
mod inspect;
mod lifecycle;
mod logs;
mod names;
mod network;
mod record;
mod rootfs;
mod start;
mod watch;

use std::fs;
use std::path::PathBuf;

pub use copy::{Copied, CopyOptions};
pub use create::CreateRequest;
pub use exec::{ExecRequest, TtyExec};
pub use inspect::{ContainerInspect, ContainerSummary};
pub use logs::{LogOptions, LogStream};
pub use network::parse_publish;
pub use record::{
    Container, ContainerRecord, MountRequest, NetworkMode, NetworkState, Phase, PortBinding,
    Settings,
};
pub(crate) use rootfs::read_in_root;
pub use strata_runtime::console;
use strata_runtime::monitor::MonitorState;
use strata_store::fsutil;

use crate::error::{Error, Result};
use crate::host::Host;

/// Where monitors and exec put their unix sockets.
pub(crate) const SOCKET_DIR: &str = "/run/strata/sock";

impl Host {
    pub(crate) fn containers_dir(&self) -> PathBuf {
        self.store.paths().root().join("containers")
    }

    pub(crate) fn runtime_root(&self) -> PathBuf {
        self.store.paths().root().join("runc")
    }

    /// Every container, newest first.
    pub fn containers(&self) -> Result<Vec<Container>> {
        let mut out = Vec::new();
        for entry in fsutil::dir_entries(&self.containers_dir())? {
            match self.load_container(entry.path()) {
                Ok(c) => out.push(c),
                // Being created or removed (a `run --rm` ending meanwhile):
                // not a container to list, nor a problem to report.
                Err(e) if e.kind() == strata_oci::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!("skipping container {}: {e}", entry.path().display()),
            }
        }
        out.sort_by(|a, b| b.record.created.cmp(&a.record.created));
        Ok(out)
    }

    fn load_container(&self, dir: PathBuf) -> Result<Container> {
        let path = dir.join("container.json");
        let bytes = fs::read(&path).map_err(Error::io("read", &path))?;
        let record: ContainerRecord = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Archive(format!("{}: {e}", path.display())))?;
        let state = MonitorState::load(&dir.join("state.json")).ok();
        Ok(Container { record, state, dir })
    }

    /// Finds a container by full ID, name, or unique ID prefix (Docker's order).
    pub fn container(&self, key: &str) -> Result<Container> {
        let key = key.trim_start_matches('/');
        let all = self.containers()?;
        if let Some(c) = all
            .iter()
            .find(|c| c.record.id == key || c.record.name == key)
        {
            return Ok(c.clone());
        }
        let mut matches = all
            .into_iter()
            .filter(|c| !key.is_empty() && c.record.id.starts_with(key));
        match (matches.next(), matches.next()) {
            (Some(c), None) => Ok(c),
            (Some(_), Some(_)) => Err(Error::Ambiguous(key.to_owned())),
            (None, _) => Err(Error::NoSuchContainer(key.to_owned())),
        }
    }

    pub(crate) fn save_record(&self, record: &ContainerRecord) -> Result<()> {
        let path = self
            .containers_dir()
            .join(&record.id)
            .join("container.json");
        let bytes = serde_json::to_vec_pretty(record)
            .map_err(|e| Error::Archive(format!("encoding {}: {e}", path.display())))?;
        Ok(fsutil::write_atomic(&path, &bytes)?)
    }

    /// Holds the container's exit record while a client attached to it reads
    /// the exit code: `--rm` removal waits for the guard to drop.
    pub fn attach(&self, c: &Container) -> Result<strata_store::LockGuard> {
        Ok(strata_store::lock::lock(
            &c.path("attach.lock"),
            strata_store::lock::LockMode::Shared,
        )?)
    }

    /// The container's attach socket. Unix socket paths are limited to 107
    /// bytes, so sockets live in `/run/strata/sock`, not in the container's
    /// (possibly deep) directory.
    pub(crate) fn socket_path(id: &str, kind: &str) -> PathBuf {
        PathBuf::from(SOCKET_DIR).join(format!("{id}.{kind}"))
    }

    /// Connects to the container's monitor: frames sent feed its stdin and
    /// terminal size; with a tty, the stream carries the terminal's output
    /// (what was written before connecting first). `None` when the container
    /// exited before a client could connect: its output is in the log.
    pub fn attach_stream(&self, c: &Container) -> Result<Option<std::os::unix::net::UnixStream>> {
        let path = Self::socket_path(&c.record.id, "attach");
        let state_path = c.path("state.json");
        let mut last = None;
        for _ in 0..500 {
            match std::os::unix::net::UnixStream::connect(&path) {
                Ok(s) => return Ok(Some(s)),
                Err(e) => last = Some(e),
            }
            if MonitorState::load(&state_path)
                .is_ok_and(|s| s.status == strata_runtime::monitor::Status::Exited)
            {
                return Ok(None);
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        Err(Error::io("connect to", path)(
            last.unwrap_or_else(|| std::io::Error::other("no monitor")),
        ))
    }

    /// Image targets that containers use, with one container using each: such
    /// images are never deleted (`rmi` refuses, `-f` only untags; prune skips).
    pub(crate) fn images_in_use(
        &self,
    ) -> Result<std::collections::BTreeMap<strata_oci::Digest, String>> {
        Ok(self
            .containers()?
            .into_iter()
            .map(|c| (c.record.image_target, c.record.id))
            .collect())
    }
}
