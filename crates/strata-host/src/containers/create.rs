//! `create`: a container record and its writable layer, from an image.

use std::fs;

use strata_oci::Timestamp;
use strata_runtime::bundle;
use strata_store::lock::{self, LockMode};

use super::names;
use super::record::{Container, ContainerRecord, Settings};
use crate::error::{Error, Result};
use crate::host::Host;
use crate::resolve::resolve;

/// What `create`/`run` asked for.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    /// The image as the user named it.
    pub image: String,
    /// `--name`.
    pub name: Option<String>,
    /// Everything else. An empty hostname means "the short ID".
    pub settings: Settings,
}

impl Host {
    /// Creates a container (not started).
    pub fn create_container(&self, req: CreateRequest) -> Result<Container> {
        let _gc = self.store.lock_shared()?;
        let records = self.store.records()?;
        let found = resolve(&records, &req.image)?;
        let image = self.image(&records, &found.target)?;
        self.unpack(&image)?;
        let image_config = image.config.config.clone().unwrap_or_default();
        let argv = bundle::command(
            &image_config,
            req.settings.entrypoint.as_ref(),
            req.settings.cmd.as_ref(),
        )?;
        if let Some(name) = &req.name {
            names::validate(name)?;
        }
        let dir = self.containers_dir();
        fs::create_dir_all(&dir).map_err(Error::io("create", &dir))?;
        // Names are unique: checked and claimed under one lock.
        let _names = lock::lock(
            &self.store.paths().locks().join("containers"),
            LockMode::Exclusive,
        )?;
        let existing = self.containers()?;
        let taken = |n: &str| existing.iter().any(|c| c.record.name == n);
        let id = names::new_id()?;
        let name = match req.name {
            Some(n) if taken(&n) => {
                let owner = existing
                    .iter()
                    .find(|c| c.record.name == n)
                    .map(|c| c.record.id.clone());
                return Err(Error::Conflict(format!(
                    "conflict: the container name \"/{n}\" is already in use by container \"{}\". You have to remove (or rename) that container to be able to reuse that name",
                    owner.unwrap_or_default()
                )));
            }
            Some(n) => n,
            None => names::generate(&id, taken),
        };
        let mut settings = req.settings;
        if settings.hostname.is_empty() {
            settings.hostname = id[..12].to_owned();
        }
        if settings.stop_signal.is_none() {
            settings.stop_signal = image_config.stop_signal.clone();
        }
        let cdir = dir.join(&id);
        fs::create_dir(&cdir).map_err(Error::io("create", &cdir))?;
        let record = ContainerRecord {
            id,
            name,
            created: Timestamp::now().to_rfc3339(),
            image_id: image.id().clone(),
            image_target: found.target.clone(),
            image_name: req.image.clone(),
            argv,
            settings,
            network: None,
            restart_count: 0,
        };
        let result = self
            .prepare_rootfs(&cdir, &image)
            .and_then(|()| self.save_record(&record));
        if let Err(e) = result {
            let _ =
                strata_store::fsutil::remove_tree_atomically(&cdir, &self.store.paths().trash());
            return Err(e);
        }
        Ok(Container {
            record,
            state: None,
            dir: cdir,
        })
    }
}
