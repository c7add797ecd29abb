//! Turning what the archive held into images: every descriptor checked against
//! its blob, every layer against its config's diff_id, snapshots unpacked, then
//! the records written.

use std::io;
use std::path::Path;

use strata_oci::descriptor::annotations;
use strata_oci::layout::{DockerArchiveEntry, DOCKER_MANIFEST_FILE, OCI_INDEX_FILE};
use strata_oci::media_type;
use strata_oci::{
    Descriptor, Digest, Document, ImageConfig, ImageIndex, ImageManifest, Platform, Reference,
    Timestamp,
};
use strata_snapshot::guard::Guard;
use strata_snapshot::ingest::{ingest_raw, Visit};
use strata_snapshot::snapshots::LayerRef;
use strata_store::{Expected, ImageRecord, LayerInfo, DOCUMENT_LIMIT};

use super::{layer_error, Item, LoadedImage, Loader, Stored};
use crate::error::{Error, Result};

/// An image read from the archive, its blobs in the store, not yet recorded.
struct Pending {
    record: ImageRecord,
    names: Vec<Reference>,
    layers: Vec<LayerRef>,
    /// What the door check learned of each layer blob.
    facts: Vec<LayerInfo>,
}

impl Loader<'_> {
    pub(super) fn finish(self) -> Result<Vec<LoadedImage>> {
        let pending = if let Some(Item::Small(bytes)) = self.items.get(DOCKER_MANIFEST_FILE) {
            let entries: Vec<DockerArchiveEntry> = serde_json::from_slice(bytes)
                .map_err(|e| Error::Archive(format!("manifest.json: {e}")))?;
            entries
                .iter()
                .map(|e| self.docker_image(e))
                .collect::<Result<Vec<_>>>()?
        } else if let Some(Item::Small(bytes)) = self.items.get(OCI_INDEX_FILE) {
            let index: ImageIndex = serde_json::from_slice(bytes)
                .map_err(|e| Error::Archive(format!("index.json: {e}")))?;
            index
                .manifests
                .iter()
                .map(|d| self.oci_image(d))
                .collect::<Result<Vec<_>>>()?
        } else {
            return Err(Error::Archive(
                "neither manifest.json (docker-archive) nor index.json (OCI layout) found".into(),
            ));
        };
        let host = self.host;
        // Layer facts and snapshots before any record (as `docker load` unpacks),
        // so a crash leaves at worst unreferenced ones, never an image without them.
        for p in &pending {
            for (l, info) in p.layers.iter().zip(&p.facts) {
                host.note_layer(&l.blob.digest, &l.blob.media_type, info.clone())?;
            }
            host.snapshots().unpack(host.store(), &p.layers)?;
        }
        let mut loaded: Vec<LoadedImage> = Vec::new();
        for Pending { record, names, .. } in pending {
            let id = record.id.clone();
            host.record_image(record, &names)?;
            match loaded.iter_mut().find(|l| l.id == id) {
                Some(l) => l.names.extend(names),
                None => loaded.push(LoadedImage { id, names }),
            }
        }
        Ok(loaded)
    }

    /// The blob at `path`.
    fn blob(&self, path: &str, what: &str) -> Result<Stored> {
        match self.lookup(path) {
            Some(Item::Blob(s)) => Ok(s.clone()),
            Some(Item::Small(_)) | None => Err(Error::Archive(format!(
                "{what} {path} is missing from the archive"
            ))),
        }
    }

    /// A layer blob, checked at the door, whose content must be `want`.
    fn layer(&self, path: &str, want: &Digest) -> Result<(Stored, LayerInfo)> {
        let stored = self.blob(path, "layer")?;
        let info = match &stored.layer {
            Some(info) => info.clone(),
            None => self.check_late(path, &stored)?,
        };
        if &info.diff_id != want {
            return Err(Error::Archive(format!(
                "layer {path}: content is {}, the image config says {want}",
                info.diff_id
            )));
        }
        Ok((stored, info))
    }

    /// A blob that did not look like a layer when it streamed in (an old-format
    /// tar, an empty layer) is checked now, before anything is recorded.
    fn check_late(&self, path: &str, stored: &Stored) -> Result<LayerInfo> {
        let blob = self.host.store().content().open(&stored.info.digest)?;
        let stats = ingest_raw(blob, &mut io::sink(), Visit::Check(Guard::default()))
            .map_err(|e| layer_error(path, e))?;
        Ok(LayerInfo {
            diff_id: stats.diff_id,
            size: stats.size,
        })
    }

    fn docker_image(&self, entry: &DockerArchiveEntry) -> Result<Pending> {
        let config_bytes = match self.lookup(&entry.config) {
            Some(Item::Small(b)) => b.clone(),
            Some(Item::Blob(s)) => self.host.store().content().read(
                &s.info.digest,
                DOCUMENT_LIMIT,
                "an image config",
            )?,
            None => {
                return Err(Error::Archive(format!(
                    "config {} is missing",
                    entry.config
                )))
            }
        };
        let config_digest = Digest::sha256_of(&config_bytes);
        let named = Path::new(&entry.config)
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()));
        if let Some(hex) = named {
            if hex != config_digest.hex() {
                return Err(Error::Archive(format!(
                    "config {} does not match its digest {config_digest}",
                    entry.config
                )));
            }
        }
        let config = ImageConfig::parse(&config_bytes)?;
        if config.rootfs.diff_ids.len() != entry.layers.len() {
            return Err(Error::Archive(format!(
                "config {} lists {} layers, manifest.json {}",
                entry.config,
                config.rootfs.diff_ids.len(),
                entry.layers.len()
            )));
        }
        let mut layers = Vec::new();
        let mut facts = Vec::new();
        for (path, want) in entry.layers.iter().zip(&config.rootfs.diff_ids) {
            let (stored, info) = self.layer(path, want)?;
            let mt = stored.compression.oci_media_type();
            layers.push(LayerRef {
                blob: Descriptor::new(mt, stored.info.digest, stored.info.size),
                diff_id: want.clone(),
            });
            facts.push(info);
        }
        let content = self.host.store().content();
        let config_blob = content.put(&config_bytes, Expected::digest(config_digest))?;
        let manifest = ImageManifest::new_oci(
            Descriptor::new(
                media_type::OCI_CONFIG,
                config_blob.digest.clone(),
                config_blob.size,
            ),
            layers.iter().map(|l| l.blob.clone()).collect(),
        );
        let mblob = content.put(&manifest.to_bytes(), Expected::default())?;
        let names = entry
            .repo_tags
            .iter()
            .map(|t| Reference::parse_normalized(t).map(Reference::with_default_tag))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(Pending {
            record: record(
                Descriptor::new(media_type::OCI_MANIFEST, mblob.digest, mblob.size),
                config_blob.digest,
            ),
            names,
            layers,
            facts,
        })
    }

    /// A blob named by a descriptor: present under its digest, of its size.
    fn described(&self, d: &Descriptor, what: &str) -> Result<Stored> {
        let path = format!("blobs/{}/{}", d.digest.algorithm(), d.digest.hex());
        let stored = self.blob(&path, what)?;
        if stored.info.size != d.size {
            return Err(Error::Archive(format!(
                "{what} {}: the descriptor says {} bytes, the blob has {}",
                d.digest, d.size, stored.info.size
            )));
        }
        Ok(stored)
    }

    fn oci_image(&self, d: &Descriptor) -> Result<Pending> {
        let store = self.host.store();
        self.described(d, "manifest")?;
        // The kind comes from the document itself, never from the descriptor.
        let (target, manifest) = match store.document(&d.digest, None)? {
            Document::Manifest(m) => (d.clone(), m),
            Document::Index(i) => {
                let host = Platform::host();
                let child = i.manifest_for(&host).ok_or_else(|| {
                    Error::Archive(format!("index {} has no manifest for {host}", d.digest))
                })?;
                self.described(child, "manifest")?;
                match store.document(&child.digest, None)? {
                    Document::Manifest(m) => (child.clone(), m),
                    Document::Index(_) => return Err(Error::Unsupported("nested indexes".into())),
                }
            }
        };
        self.described(&manifest.config, "config")?;
        let config = store.config(&manifest.config.digest)?;
        if config.rootfs.diff_ids.len() != manifest.layers.len() {
            return Err(Error::Archive(format!(
                "manifest {} has {} layers, its config {}",
                target.digest,
                manifest.layers.len(),
                config.rootfs.diff_ids.len()
            )));
        }
        let mut layers = Vec::new();
        let mut facts = Vec::new();
        for (layer, want) in manifest.layers.iter().zip(&config.rootfs.diff_ids) {
            let stored = self.described(layer, "layer")?;
            let path = format!("blobs/{}/{}", layer.digest.algorithm(), layer.digest.hex());
            facts.push(self.layer(&path, want)?.1);
            if media_type::layer_compression(&layer.media_type) != Some(stored.compression) {
                return Err(Error::Archive(format!(
                    "layer {}: media type {} but the content is {}",
                    layer.digest,
                    layer.media_type,
                    stored.compression.as_str()
                )));
            }
            layers.push(LayerRef {
                blob: layer.clone(),
                diff_id: want.clone(),
            });
        }
        let kind = manifest.effective_media_type().to_owned();
        let target = Descriptor::new(kind, target.digest.clone(), target.size);
        Ok(Pending {
            record: record(target, manifest.config.digest),
            names: oci_names(d),
            layers,
            facts,
        })
    }
}

/// Names from an OCI index entry: containerd's full-name annotation, or a
/// `ref.name` that is itself a full reference. A bare tag (`latest`) names nothing.
fn oci_names(d: &Descriptor) -> Vec<Reference> {
    let full = d
        .annotation(annotations::CONTAINERD_IMAGE_NAME)
        .or_else(|| {
            d.annotation(annotations::REF_NAME)
                .filter(|r| r.contains('/') || r.contains(':'))
        });
    full.and_then(|n| Reference::parse_normalized(n).ok())
        .filter(|r| r.digest().is_none())
        .map(Reference::with_default_tag)
        .into_iter()
        .collect()
}

fn record(target: Descriptor, id: Digest) -> ImageRecord {
    ImageRecord {
        target,
        id,
        added: Timestamp::now().to_rfc3339(),
        last_tagged: None,
    }
}
