//! [`Host`]: one store, its snapshots and the settings that govern them.

use std::path::PathBuf;

use strata_snapshot::compression::Compression;
use strata_snapshot::snapshots::{SnapshotMode, Snapshots};
use strata_store::Store;

use crate::error::Result;

/// The default store root.
pub const DEFAULT_ROOT: &str = "/var/lib/strata";

/// Settings of a host.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// The store root.
    pub root: PathBuf,
    /// How new layers are compressed.
    pub compression: Compression,
    /// Compression threads (0 = every core).
    pub threads: usize,
    /// Snapshot layout for a new store (`None` = detect).
    pub snapshot_mode: Option<SnapshotMode>,
}

impl HostConfig {
    /// Defaults for a root: gzip at level 6 on every core, detected snapshot mode.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        HostConfig {
            root: root.into(),
            compression: Compression::Gzip(strata_snapshot::compression::DEFAULT_GZIP_LEVEL),
            threads: 0,
            snapshot_mode: None,
        }
    }
}

/// An open store with its snapshots: the handle every operation works on.
#[derive(Debug, Clone)]
pub struct Host {
    pub(crate) store: Store,
    pub(crate) snapshots: Snapshots,
    pub(crate) config: HostConfig,
}

impl Host {
    /// Opens (creating if needed) the store at `config.root`.
    pub fn open(config: HostConfig) -> Result<Host> {
        let store = Store::open(&config.root)?;
        let snapshots = Snapshots::open(&store, config.snapshot_mode)?;
        Ok(Host {
            store,
            snapshots,
            config,
        })
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The snapshots.
    pub fn snapshots(&self) -> &Snapshots {
        &self.snapshots
    }

    /// The settings.
    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    /// The same host, compressing new layers with `compression`.
    pub fn with_compression(mut self, compression: Compression) -> Host {
        self.config.compression = compression;
        self
    }
}
