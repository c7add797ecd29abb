//! `pull`: resolve a reference (through mirrors), choose the platform, fetch
//! what the store lacks, and name the image only once all of it is there.

use std::io::Read;

use strata_distribution::{ManifestRef, RepositoryName};
use strata_oci::{
    media_type, Descriptor, Digest, Document, ImageManifest, Platform, Reference, Timestamp,
};
use strata_registry_client::{platform, Client, Manifest};
use strata_snapshot::snapshots::LayerRef;
use strata_store::{Expected, ImageRecord};

use super::layers::Source;
use super::{origins, repository, RegistryOptions, TransferProgress};
use crate::error::{Error, Result};
use crate::host::Host;

/// Configs larger than this are refused.
const CONFIG_MAX: u64 = 8 << 20;

/// What to pull and how.
#[derive(Debug, Clone)]
pub struct PullOptions {
    /// `--platform` (default: this host's).
    pub platform: Option<Platform>,
    /// `--all-platforms`: every manifest of an index, and the index itself.
    pub all_platforms: bool,
    /// Layers fetched at the same time (Docker's default is 3).
    pub parallel: usize,
    /// Registries, credentials, TLS.
    pub registry: RegistryOptions,
}

/// What a pull did.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The reference, with the default tag added.
    pub reference: Reference,
    /// The digest of what the reference resolved to (manifest or index).
    pub digest: Digest,
    /// The image ID.
    pub id: Digest,
    /// False when the name already pointed at this image.
    pub changed: bool,
    /// The mirror it came from, if not the registry itself.
    pub mirror: Option<String>,
}

impl Host {
    /// Pulls `reference`.
    pub fn pull(
        &self,
        reference: &Reference,
        opts: &PullOptions,
        progress: &dyn TransferProgress,
    ) -> Result<Pulled> {
        let reference = reference.clone().with_default_tag();
        let repo = repository(&reference)?;
        let wanted = match (reference.digest(), reference.tag()) {
            (Some(d), _) => ManifestRef::Digest(d.clone()),
            (None, Some(t)) => {
                ManifestRef::tag(t).map_err(|e| Error::InvalidArgument(e.to_string()))?
            }
            (None, None) => return Err(Error::InvalidArgument(format!("{reference}: no tag"))),
        };
        let (client, top, mirror) = self.resolve_remote(&reference, &repo, &wanted, opts)?;
        let _lock = self.store().lock_shared()?;
        let source = Source {
            client: &client,
            repo: &repo,
        };
        let (target, id) = match top.document()? {
            Document::Manifest(m) => {
                let id = self.fetch_image(&source, &top, &m, opts, progress)?;
                (top.descriptor(), id)
            }
            Document::Index(index) if opts.all_platforms => {
                let mut host_id = None;
                let host = opts.platform.clone().unwrap_or_else(Platform::host);
                for d in &index.manifests {
                    let Some(p) = &d.platform else { continue };
                    if p.os == "unknown" {
                        continue;
                    }
                    let child =
                        client.get_manifest(&repo, &ManifestRef::Digest(d.digest.clone()))?;
                    let Document::Manifest(m) = child.document()? else {
                        return Err(Error::Unsupported(format!("{reference}: nested index")));
                    };
                    let id = self.fetch_image(&source, &child, &m, opts, progress)?;
                    let best = platform::select(&index, &host).map(|b| &b.digest);
                    if best == Some(&d.digest) || host_id.is_none() {
                        host_id = Some(id);
                    }
                }
                self.store_manifest(&top)?;
                let id = host_id.ok_or_else(|| {
                    Error::NotFound(format!("{reference}: the index lists no image manifests"))
                })?;
                (top.descriptor(), id)
            }
            Document::Index(index) => {
                let want = opts.platform.clone().unwrap_or_else(Platform::host);
                let chosen = platform::select(&index, &want).ok_or_else(|| {
                    strata_registry_client::Error::NoMatchingPlatform {
                        reference: reference.familiar(),
                        platform: want.to_string(),
                        offered: platform::offered(&index),
                    }
                })?;
                let child =
                    client.get_manifest(&repo, &ManifestRef::Digest(chosen.digest.clone()))?;
                let Document::Manifest(m) = child.document()? else {
                    return Err(Error::Unsupported(format!("{reference}: nested index")));
                };
                let id = self.fetch_image(&source, &child, &m, opts, progress)?;
                (child.descriptor(), id)
            }
        };
        let previous = self.store().records()?.tags.get(&reference).cloned();
        let record = ImageRecord {
            target: target.clone(),
            id: id.clone(),
            added: Timestamp::now().to_rfc3339(),
            last_tagged: None,
        };
        self.record_image(record, std::slice::from_ref(&reference))?;
        Ok(Pulled {
            changed: previous.as_ref() != Some(&target.digest),
            reference,
            digest: top.digest,
            id,
            mirror,
        })
    }

    /// Finds the reference's manifest: at each mirror in turn, then the registry.
    fn resolve_remote(
        &self,
        reference: &Reference,
        repo: &RepositoryName,
        wanted: &ManifestRef,
        opts: &PullOptions,
    ) -> Result<(Client, Manifest, Option<String>)> {
        let endpoints = opts.registry.conf.pull_endpoints(reference.domain());
        let last = endpoints.len() - 1;
        for (i, endpoint) in endpoints.iter().enumerate() {
            let attempt = opts
                .registry
                .client(endpoint)
                .and_then(|c| Ok((c.get_manifest(repo, wanted)?, c)));
            match attempt {
                Ok((m, c)) => {
                    let mirror = (i != last).then(|| endpoint.location.clone());
                    return Ok((c, m, mirror));
                }
                Err(e) if i != last => {
                    tracing::warn!(mirror = %endpoint.location, error = %e, "mirror failed; trying the next");
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::NotFound(reference.familiar()))
    }

    /// Fetches one image manifest's config and layers, then stores the manifest.
    /// Returns the image ID.
    fn fetch_image(
        &self,
        source: &Source<'_>,
        raw: &Manifest,
        manifest: &ImageManifest,
        opts: &PullOptions,
        progress: &dyn TransferProgress,
    ) -> Result<Digest> {
        let config_desc = &manifest.config;
        if !matches!(
            config_desc.media_type.as_str(),
            media_type::OCI_CONFIG | media_type::DOCKER_CONFIG
        ) {
            return Err(Error::Unsupported(format!(
                "{}: not an image (config media type {})",
                raw.digest, config_desc.media_type
            )));
        }
        self.fetch_small(source, config_desc)?;
        let config = self.store().config(&config_desc.digest)?;
        if config.rootfs.diff_ids.len() != manifest.layers.len() {
            return Err(Error::Archive(format!(
                "image {}: config lists {} layers, manifest {}",
                config_desc.digest,
                config.rootfs.diff_ids.len(),
                manifest.layers.len()
            )));
        }
        for l in &manifest.layers {
            if media_type::layer_compression(&l.media_type).is_none() {
                return Err(Error::Unsupported(format!(
                    "layer {}: media type {} is not a layer Strata can unpack",
                    l.digest, l.media_type
                )));
            }
        }
        let layers: Vec<(Descriptor, Digest)> = manifest
            .layers
            .iter()
            .cloned()
            .zip(config.rootfs.diff_ids.iter().cloned())
            .collect();
        self.fetch_layers(source, &layers, opts.parallel, progress)?;
        // Copy-mode snapshots are made here, from the store; overlay ones exist already.
        let refs: Vec<LayerRef> = layers
            .iter()
            .map(|(blob, diff_id)| LayerRef {
                blob: blob.clone(),
                diff_id: diff_id.clone(),
            })
            .collect();
        self.snapshots().unpack(self.store(), &refs)?;
        let origin = format!("{}/{}", source.client.domain(), source.repo);
        for (blob, _) in &layers {
            origins::remember(self.store().paths().root(), &blob.digest, &origin);
        }
        self.store_manifest(raw)?;
        Ok(config_desc.digest.clone())
    }

    /// Fetches a small blob (a config) into the store unless it is there.
    fn fetch_small(&self, source: &Source<'_>, d: &Descriptor) -> Result<()> {
        if self.store().content().exists(&d.digest) {
            return Ok(());
        }
        if d.size > CONFIG_MAX {
            return Err(Error::Archive(format!(
                "config {}: {} bytes is too large",
                d.digest, d.size
            )));
        }
        let mut bytes = Vec::with_capacity(d.size as usize);
        source
            .client
            .blob_reader(source.repo, &d.digest, Some(d.size), 0)?
            .take(d.size)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::Archive(format!("config {}: {e}", d.digest)))?;
        self.store()
            .content()
            .put(&bytes, Expected::exactly(d.digest.clone(), d.size))?;
        Ok(())
    }

    /// Stores a manifest's exact bytes (verified against its digest).
    fn store_manifest(&self, m: &Manifest) -> Result<()> {
        self.store().content().put(
            &m.bytes,
            Expected::exactly(m.digest.clone(), m.bytes.len() as u64),
        )?;
        Ok(())
    }
}
