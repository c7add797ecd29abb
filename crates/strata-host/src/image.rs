//! Reading an image's parts from the store, and writing new images into it.

use strata_oci::{
    chain_ids, media_type, Descriptor, Digest, Document, ImageConfig, ImageManifest, Platform,
    Reference, Timestamp,
};
use strata_snapshot::snapshots::LayerRef;
use strata_store::{BlobInfo, Expected, ImageRecord, LayerInfo, Records};

use crate::error::{Error, Result};
use crate::host::Host;

/// An image with its manifest and config read.
#[derive(Debug, Clone)]
pub struct Image {
    /// Key in the records (the manifest digest).
    pub target: Digest,
    /// The record.
    pub record: ImageRecord,
    /// The manifest (for an index target: the host platform's manifest).
    pub manifest: ImageManifest,
    /// The manifest's digest.
    pub manifest_digest: Digest,
    /// The config.
    pub config: ImageConfig,
    /// Names pointing at it.
    pub names: Vec<Reference>,
}

/// A layer of an image with what is known about it.
#[derive(Debug, Clone)]
pub struct Layer {
    /// The blob.
    pub blob: Descriptor,
    /// Uncompressed digest.
    pub diff_id: Digest,
    /// Uncompressed size.
    pub size: u64,
    /// Chain ID of the stack up to this layer.
    pub chain_id: Digest,
}

impl Image {
    /// The image ID (config digest).
    pub fn id(&self) -> &Digest {
        &self.record.id
    }

    /// When the image was created, per its config.
    pub fn created(&self) -> Option<Timestamp> {
        self.config
            .created
            .as_deref()
            .and_then(Timestamp::parse_rfc3339)
    }

    /// The layers to unpack, for the snapshotter.
    pub fn layer_refs(&self) -> Vec<LayerRef> {
        self.manifest
            .layers
            .iter()
            .zip(&self.config.rootfs.diff_ids)
            .map(|(blob, diff_id)| LayerRef {
                blob: blob.clone(),
                diff_id: diff_id.clone(),
            })
            .collect()
    }
}

impl Host {
    /// Reads an image's manifest and config.
    pub fn image(&self, records: &Records, target: &Digest) -> Result<Image> {
        let record = records
            .images
            .get(target)
            .cloned()
            .ok_or_else(|| Error::NoSuchImage(target.to_string()))?;
        let (manifest, manifest_digest) = match self
            .store
            .document(target, Some(&record.target.media_type))?
        {
            Document::Manifest(m) => (m, target.clone()),
            Document::Index(index) => {
                let host = Platform::host();
                let d = index
                    .manifests
                    .iter()
                    .find(|d| d.platform.as_ref().is_some_and(|p| host.matches(p)))
                    .ok_or_else(|| {
                        Error::Unsupported(format!("image {target} has no manifest for {host}"))
                    })?;
                match self.store.document(&d.digest, Some(&d.media_type))? {
                    Document::Manifest(m) => (m, d.digest.clone()),
                    Document::Index(_) => {
                        return Err(Error::Unsupported(format!("nested index in {target}")))
                    }
                }
            }
        };
        let config = self.store.config(&manifest.config.digest)?;
        if config.rootfs.diff_ids.len() != manifest.layers.len() {
            return Err(Error::Archive(format!(
                "image {}: config lists {} layers, manifest {}",
                record.id,
                config.rootfs.diff_ids.len(),
                manifest.layers.len()
            )));
        }
        Ok(Image {
            target: target.clone(),
            names: records.names_of(target),
            record,
            manifest,
            manifest_digest,
            config,
        })
    }

    /// The image's layers with their uncompressed sizes.
    pub fn layers(&self, image: &Image) -> Result<Vec<Layer>> {
        let chains = chain_ids(&image.config.rootfs.diff_ids);
        let mut out = Vec::with_capacity(chains.len());
        for ((blob, diff_id), chain_id) in image
            .manifest
            .layers
            .iter()
            .zip(&image.config.rootfs.diff_ids)
            .zip(chains)
        {
            let size = match media_type::layer_compression(&blob.media_type) {
                Some(media_type::LayerCompression::None) => blob.size,
                _ => self
                    .store
                    .layers()
                    .get(&blob.digest)?
                    .map_or(blob.size, |info| info.size),
            };
            out.push(Layer {
                blob: blob.clone(),
                diff_id: diff_id.clone(),
                size,
                chain_id,
            });
        }
        Ok(out)
    }

    /// Writes a config and manifest for `layers` (already in the store), records
    /// the image and points `names` at it. Returns the record.
    pub(crate) fn commit_image(
        &self,
        config: &ImageConfig,
        layers: &[(BlobInfo, String)],
        names: &[Reference],
    ) -> Result<ImageRecord> {
        let config_bytes = config.to_bytes();
        let config_blob = self
            .store
            .content()
            .put(&config_bytes, Expected::default())?;
        let manifest = ImageManifest::new_oci(
            Descriptor::new(
                media_type::OCI_CONFIG,
                config_blob.digest.clone(),
                config_blob.size,
            ),
            layers
                .iter()
                .map(|(b, mt)| Descriptor::new(mt.clone(), b.digest.clone(), b.size))
                .collect(),
        );
        let manifest_blob = self
            .store
            .content()
            .put(&manifest.to_bytes(), Expected::default())?;
        let record = ImageRecord {
            target: Descriptor::new(
                media_type::OCI_MANIFEST,
                manifest_blob.digest,
                manifest_blob.size,
            ),
            id: config_blob.digest,
            added: Timestamp::now().to_rfc3339(),
            last_tagged: None,
        };
        self.record_image(record, names)
    }

    /// Records an image whose blobs are all in the store, pointing `names` at it.
    pub(crate) fn record_image(
        &self,
        record: ImageRecord,
        names: &[Reference],
    ) -> Result<ImageRecord> {
        let target = record.target.digest.clone();
        self.store
            .update_records(|r| {
                r.put(record, names);
                Ok::<_, Error>(r.images.get(&target).cloned())
            })?
            .ok_or_else(|| Error::NoSuchImage(target.to_string()))
    }

    /// Records what was learned about a compressed layer blob by reading it.
    /// Facts are a function of the blob's content, so a disagreement with what
    /// is recorded already means one of the two readings is wrong: refused.
    pub(crate) fn note_layer(&self, blob: &Digest, media: &str, info: LayerInfo) -> Result<()> {
        if media_type::layer_compression(media) == Some(media_type::LayerCompression::None) {
            return Ok(());
        }
        match self.store.layers().get(blob)? {
            Some(known) if known == info => Ok(()),
            Some(known) => Err(Error::Archive(format!(
                "layer {blob}: read as {} ({} bytes), recorded as {} ({} bytes)",
                info.diff_id, info.size, known.diff_id, known.size
            ))),
            None => Ok(self.store.layers().set(blob, &info)?),
        }
    }

    /// Unpacks an image's layers into snapshots (those not already there).
    pub fn unpack(&self, image: &Image) -> Result<Vec<Digest>> {
        Ok(self.snapshots.unpack(&self.store, &image.layer_refs())?)
    }
}
