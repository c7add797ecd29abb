//! `push`: send an image's blobs the registry lacks (mounting across
//! repositories where the registry has them), then its manifest, then the tag.

use std::io::{self, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use strata_distribution::{ManifestRef, RepositoryName};
use strata_oci::{Descriptor, Digest, Document, Reference};
use strata_registry_client::{Client, PushedBlob};

use super::layers::Counting;
use super::{origins, repository, LayerEvent, RegistryOptions, TransferProgress};
use crate::error::{Error, Result};
use crate::host::Host;

/// How often one blob's upload is tried.
const PUSH_ATTEMPTS: u32 = 3;

/// What to push and how.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// `--all-tags`: every local tag of the repository.
    pub all_tags: bool,
    /// Blobs sent at the same time.
    pub parallel: usize,
    /// Registries, credentials, TLS.
    pub registry: RegistryOptions,
}

/// One pushed tag.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// The tag.
    pub reference: Reference,
    /// The digest of the manifest (or index) pushed.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
}

impl Host {
    /// Pushes `reference` (or every tag of its repository).
    pub fn push(
        &self,
        reference: &Reference,
        opts: &PushOptions,
        progress: &dyn TransferProgress,
    ) -> Result<Vec<Pushed>> {
        let records = self.store().records()?;
        let names: Vec<(Reference, Digest)> = if opts.all_tags {
            let repo = reference.repository();
            records
                .tags
                .iter()
                .filter(|(n, _)| n.repository() == repo && n.tag().is_some())
                .map(|(n, t)| (n.clone(), t.clone()))
                .collect()
        } else {
            let r = reference.clone().with_default_tag();
            let t = records
                .tags
                .get(&r)
                .cloned()
                .ok_or_else(|| Error::NoSuchImage(r.familiar()))?;
            vec![(r, t)]
        };
        if names.is_empty() {
            return Err(Error::NoSuchImage(reference.familiar()));
        }
        let client = opts.registry.client_for(reference.domain())?;
        let repo = repository(reference)?;
        let _lock = self.store().lock_shared()?;
        let mut out = Vec::new();
        for (name, target) in names {
            let record = records
                .images
                .get(&target)
                .ok_or_else(|| Error::NoSuchImage(name.familiar()))?;
            let desc = &record.target;
            self.push_manifest_content(&client, &repo, desc, opts, progress)?;
            let bytes = self
                .store()
                .content()
                .read(&desc.digest, 4 << 20, "manifest")?;
            let tag = match name.tag() {
                Some(t) => {
                    ManifestRef::tag(t).map_err(|e| Error::InvalidArgument(e.to_string()))?
                }
                None => ManifestRef::Digest(desc.digest.clone()),
            };
            let digest = client.put_manifest(&repo, &tag, &desc.media_type, &bytes)?;
            out.push(Pushed {
                reference: name,
                digest,
                size: bytes.len() as u64,
            });
        }
        Ok(out)
    }

    /// Pushes everything a manifest or index refers to (not the top document itself).
    fn push_manifest_content(
        &self,
        client: &Client,
        repo: &RepositoryName,
        desc: &Descriptor,
        opts: &PushOptions,
        progress: &dyn TransferProgress,
    ) -> Result<()> {
        match self
            .store()
            .document(&desc.digest, Some(&desc.media_type))?
        {
            Document::Manifest(m) => {
                let mut blobs = vec![m.config.clone()];
                blobs.extend(m.layers.iter().cloned());
                self.push_blobs(client, repo, &blobs, opts.parallel, progress)
            }
            Document::Index(index) => {
                for child in &index.manifests {
                    if !self.store().content().exists(&child.digest) {
                        return Err(Error::NotFound(format!(
                            "manifest {} ({}) of index {} is not in the store; pull with --all-platforms first",
                            child.digest,
                            child.platform.as_ref().map_or("no platform".into(), ToString::to_string),
                            desc.digest
                        )));
                    }
                    self.push_manifest_content(client, repo, child, opts, progress)?;
                    let bytes = self
                        .store()
                        .content()
                        .read(&child.digest, 4 << 20, "manifest")?;
                    client.put_manifest(
                        repo,
                        &ManifestRef::Digest(child.digest.clone()),
                        &child.media_type,
                        &bytes,
                    )?;
                }
                Ok(())
            }
        }
    }

    fn push_blobs(
        &self,
        client: &Client,
        repo: &RepositoryName,
        blobs: &[Descriptor],
        parallel: usize,
        progress: &dyn TransferProgress,
    ) -> Result<()> {
        let next = AtomicUsize::new(0);
        let first_error: Mutex<Option<Error>> = Mutex::new(None);
        let failed = || first_error.lock().map(|e| e.is_some()).unwrap_or(true);
        std::thread::scope(|scope| {
            for _ in 0..parallel.clamp(1, blobs.len().max(1)) {
                scope.spawn(|| loop {
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    if k >= blobs.len() || failed() {
                        break;
                    }
                    if let Err(e) = self.push_blob(client, repo, &blobs[k], progress) {
                        first_error
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .get_or_insert(e);
                    }
                });
            }
        });
        match first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn push_blob(
        &self,
        client: &Client,
        repo: &RepositoryName,
        blob: &Descriptor,
        progress: &dyn TransferProgress,
    ) -> Result<()> {
        let root = self.store().paths().root();
        let domain = client.domain();
        let here = format!("{domain}/{repo}");
        let mount_from = origins::sources(root, &blob.digest)
            .into_iter()
            .filter_map(|s| s.strip_prefix(&format!("{domain}/")).map(str::to_owned))
            .filter(|r| r != repo.as_str())
            .find_map(|r| RepositoryName::new(&r).ok());
        let content = self.store().content();
        if !content.exists(&blob.digest) {
            return Err(Error::NotFound(format!(
                "blob {} is not in the store",
                blob.digest
            )));
        }
        let mut open = || -> io::Result<Box<dyn Read + Send + '_>> {
            let reader = content.open(&blob.digest).map_err(io::Error::other)?;
            Ok(Box::new(Counting {
                inner: reader,
                count: 0,
                reported: 0,
                digest: &blob.digest,
                size: blob.size,
                progress,
            }))
        };
        // A dropped connection costs a retry, as Docker retries each layer.
        let mut attempt = 0;
        let outcome = loop {
            attempt += 1;
            match client.push_blob(
                repo,
                &blob.digest,
                blob.size,
                mount_from.as_ref(),
                &mut open,
            ) {
                Err(e) if attempt < PUSH_ATTEMPTS && e.is_transient() => {
                    tracing::debug!(error = %e, attempt, "retrying blob {}", blob.digest);
                    std::thread::sleep(std::time::Duration::from_millis(500 * u64::from(attempt)));
                }
                other => break other?,
            }
        };
        progress.layer(
            &blob.digest,
            blob.size,
            match outcome {
                PushedBlob::Exists => LayerEvent::Exists,
                PushedBlob::Mounted(from) => LayerEvent::Mounted(from),
                PushedBlob::Uploaded => LayerEvent::Done,
            },
        );
        origins::remember(root, &blob.digest, &here);
        Ok(())
    }
}
