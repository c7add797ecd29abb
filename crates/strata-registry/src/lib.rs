//! Strata's registry server: the OCI distribution spec 1.1 over HTTP/1.1
//! (plain or TLS), with its own storage model.
//!
//! - [`storage`]: the driver trait and the filesystem driver, with a
//!   conformance suite every driver passes.
//! - [`repo`]: the registry's data model on top of a driver: blobs, upload
//!   sessions, manifests, tags, referrers, the catalog. The storage layout is
//!   drawn in its docs.
//! - [`http`]: a small HTTP/1.1 server (keep-alive, chunked bodies,
//!   `Expect: 100-continue`, blobs straight from their files, rustls).
//! - [`handlers`]: routes to repository operations and spec error bodies.
//! - [`auth`]: htpasswd (bcrypt) Basic authentication.
//! - [`rbac`]: accounts, projects, roles, robots, the token service and
//!   the audit log (`serve --rbac`).
//! - [`gc`]: mark and sweep, safe beside pushes in flight.
//! - [`config`]: the TOML configuration and its defaults.
//! - [`proxy`]: pull-through cache mode, through the registry client.
//! - [`serve`]: a server assembled from a configuration, stopped by signals.
//!
//! It must not know the client-side image store (`strata-store`); it uses the
//! registry client only to fill its pull-through cache.

pub mod auth;
pub mod config;
mod error;
pub mod gc;
pub mod handlers;
pub mod http;
pub mod metrics;
pub mod proxy;
pub mod rbac;
pub mod repo;
pub mod serve;
pub mod storage;

pub use config::Config;
pub use error::{Error, Result};

/// `N` random bytes from the system's generator (upload and token ids, robot secrets,
/// account stamps).
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut out)
        .map_err(|_| Error::Internal("no randomness".into()))?;
    Ok(out)
}

/// The current time in Unix seconds.
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
