//! Containers: create, start, stop, remove, inspect, logs, exec.
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

use std::fs;
use std::path::PathBuf;

pub use create::CreateRequest;
pub use exec::ExecRequest;
pub use inspect::{ContainerInspect, ContainerSummary};
pub use logs::{LogOptions, LogStream};
pub use network::parse_publish;
pub use record::{
    Container, ContainerRecord, MountRequest, NetworkMode, NetworkState, Phase, PortBinding,
    Settings,
};
use strata_runtime::monitor::MonitorState;
use strata_store::fsutil;

use crate::error::{Error, Result};
use crate::host::Host;

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
            let dir = entry.path();
            if !dir.join("container.json").is_file() {
                continue; // being created or removed
            }
            match self.load_container(dir) {
                Ok(c) => out.push(c),
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
