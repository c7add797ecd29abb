//! Pull-through cache mode: what a client asks for and the registry lacks is
//! fetched from the upstream once, verified, stored, and served from storage
//! after. A tag is looked up upstream again at most once a minute; when the
//! upstream is down, what is stored is served.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use strata_distribution::{ManifestRef, RepositoryName};
use strata_oci::Digest;
use strata_registry_client::{Client, ClientOptions, CredentialStore, TlsOptions};

use crate::error::{Error, Result};
use crate::repo::Registry;

/// How long a tag looked up upstream is trusted.
const TAG_TTL: Duration = Duration::from_secs(60);

/// The upstream registry of a pull-through cache.
pub struct Upstream {
    client: Client,
    checked: Mutex<HashMap<String, Instant>>,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("domain", &self.client.domain())
            .finish_non_exhaustive()
    }
}

impl Upstream {
    /// The upstream at `url` (`https://host[:port]`, or `http://` for a
    /// registry that speaks plain HTTP), with the credential Docker's
    /// config.json holds for it, if any.
    pub fn new(url: &str) -> Result<Upstream> {
        let (plain, domain) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
            (Some(d), _) => (false, d),
            (None, Some(d)) => (true, d),
            _ => {
                return Err(Error::Config(format!(
                    "proxy_remote {url:?}: not an http(s) URL"
                )))
            }
        };
        let domain = domain.trim_end_matches('/');
        let domain = if domain == "registry-1.docker.io" {
            "docker.io"
        } else {
            domain
        };
        let credential = CredentialStore::open_default().get(domain).unwrap_or(None);
        let client = Client::new(
            domain,
            ClientOptions {
                tls: TlsOptions {
                    verify: !plain,
                    ..TlsOptions::default()
                },
                credential,
            },
        )?;
        Ok(Upstream {
            client,
            checked: Mutex::new(HashMap::new()),
        })
    }

    /// Makes sure `reference` is stored, looking tags up upstream when stale.
    pub fn refresh_manifest(
        &self,
        registry: &Registry,
        name: &RepositoryName,
        reference: &ManifestRef,
    ) -> Result<()> {
        let local = registry.resolve(name, reference)?;
        if let ManifestRef::Digest(_) = reference {
            if local.is_some() {
                return Ok(());
            }
        }
        let key = format!("{name}:{reference}");
        let fresh = self
            .checked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .is_some_and(|t| t.elapsed() < TAG_TTL);
        if fresh && local.is_some() {
            return Ok(());
        }
        match self.client.get_manifest(name, reference) {
            Ok(m) => {
                if local.as_ref() != Some(&m.digest) {
                    registry.store_manifest(
                        name,
                        reference,
                        Some(&m.media_type),
                        &m.bytes,
                        false,
                    )?;
                }
                self.checked
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(key, Instant::now());
                Ok(())
            }
            // Upstream down or gone: what is stored is served.
            Err(e) if local.is_some() => {
                tracing::warn!(error = %e, "upstream failed; serving the cached {key}");
                Ok(())
            }
            Err(e) if e.kind() == strata_oci::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Fetches a blob from upstream into storage, verified, linked in `name`.
    pub fn fetch_blob(
        &self,
        registry: &Registry,
        name: &RepositoryName,
        digest: &Digest,
    ) -> Result<()> {
        let mut reader = match self.client.blob_reader(name, digest, None, 0) {
            Ok(r) => r,
            Err(e) if e.kind() == strata_oci::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let id = registry.start_upload(name)?;
        let result = registry.finish_upload(name, &id, digest, &mut reader);
        if result.is_err() {
            let _ = registry.cancel_upload(name, &id);
        }
        result
    }
}
