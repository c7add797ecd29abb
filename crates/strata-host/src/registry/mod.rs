//! Pull, push and login: the store's side of talking to registries.
//!
//! The wire protocol is `strata-registry-client`'s; this module decides what
//! to move (only what the store lacks, or the registry lacks), streams layers
//! straight into the content store and their snapshots, and records images.
//! [`RegistryOptions`] gathers what the user configured: `--tls-verify`, the
//! credentials file and `registries.conf` (mirrors, insecure registries).

mod layers;
mod origins;
mod pipe;
mod pull;
mod push;

use std::path::PathBuf;

use strata_distribution::RepositoryName;
use strata_oci::{Digest, Reference};
use strata_registry_client::mirrors::{Endpoint, RegistriesConf};
use strata_registry_client::{Client, ClientOptions, CredentialStore, TlsOptions};

use crate::error::{Error, Result};

pub(crate) use origins::prune as forget_origins;
pub use pull::{PullOptions, Pulled};
pub use push::{PushOptions, Pushed};

/// How to reach registries, as the user configured it.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// `--tls-verify`: `Some(false)` allows plain HTTP and unverified TLS for
    /// every registry of the command; `None` follows `registries.conf`.
    pub tls_verify: Option<bool>,
    /// Where credentials are read from.
    pub credentials: CredentialStore,
    /// Mirrors and insecure registries.
    pub conf: RegistriesConf,
    /// Where `registries.conf` was read from (for `info`).
    pub conf_path: PathBuf,
    /// The `certs.d` directories.
    pub certs_dirs: Vec<PathBuf>,
}

impl RegistryOptions {
    /// The defaults: Docker's credentials file, `registries.conf` from its
    /// default place, the default `certs.d` directories.
    pub fn from_env() -> Result<Self> {
        let conf_path = RegistriesConf::default_path();
        Ok(RegistryOptions {
            tls_verify: None,
            credentials: CredentialStore::open_default(),
            conf: RegistriesConf::load(&conf_path)?,
            conf_path,
            certs_dirs: strata_registry_client::tls::default_certs_dirs(),
        })
    }

    /// A client for `endpoint`, logged in with the stored credential if any.
    pub fn client(&self, endpoint: &Endpoint) -> Result<Client> {
        let verify = match self.tls_verify {
            Some(v) => v,
            None => !(endpoint.insecure || self.conf.is_insecure(&endpoint.location)),
        };
        let options = ClientOptions {
            tls: TlsOptions {
                verify,
                certs_dirs: self.certs_dirs.clone(),
            },
            credential: self.credentials.get(&endpoint.location)?,
        };
        Ok(Client::new(&endpoint.location, options)?)
    }

    /// A client for the registry `domain` itself (no mirror).
    pub fn client_for(&self, domain: &str) -> Result<Client> {
        self.client(&Endpoint {
            location: domain.to_owned(),
            insecure: false,
        })
    }
}

/// What happened to one layer (or config) in a transfer, for progress displays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerEvent {
    /// The other side has it already; nothing moves.
    Exists,
    /// The registry linked it from another repository.
    Mounted(String),
    /// Waiting for a transfer slot.
    Waiting,
    /// Bytes moved so far.
    Progress(u64),
    /// Transferred and verified.
    Done,
}

/// Receives transfer progress. Called from several threads.
pub trait TransferProgress: Sync {
    /// `digest` (of `size` bytes) reached `event`.
    fn layer(&self, digest: &Digest, size: u64, event: LayerEvent);
}

/// Progress nobody watches.
#[derive(Debug, Default)]
pub struct NoProgress;

impl TransferProgress for NoProgress {
    fn layer(&self, _: &Digest, _: u64, _: LayerEvent) {}
}

/// The repository part of a reference, in the distribution grammar.
pub(crate) fn repository(reference: &Reference) -> Result<RepositoryName> {
    RepositoryName::new(reference.path()).map_err(|e| Error::InvalidArgument(e.to_string()))
}
