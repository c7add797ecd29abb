//! `save`: images to a docker-archive or an OCI archive, streamed.
//!
//! docker-archive follows `docker save`: `manifest.json` listing each image's
//! config and uncompressed layer tars (here under `blobs/sha256/`, as Docker 25
//! names them; Docker 20.10 loads any path). OCI archives hold the image layout:
//! `oci-layout`, `index.json` and the blobs exactly as stored, so manifest digests
//! survive the round trip.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read, Write};

use strata_oci::descriptor::annotations;
use strata_oci::layout::{DockerArchiveEntry, OciLayout, OCI_INDEX_FILE, OCI_LAYOUT_FILE};
use strata_oci::{Descriptor, Digest, Document, ImageIndex, Reference};
use strata_snapshot::compression::decompressed;
use strata_store::DOCUMENT_LIMIT;

use super::ArchiveFormat;
use crate::error::{Error, Result};
use crate::host::Host;
use crate::resolve::resolve;

/// An image to save and the names to save it under.
struct Selected {
    target: Digest,
    names: Vec<Reference>,
}

impl Host {
    /// Writes `images` (names or IDs) to `out` in `format`.
    pub fn save(&self, images: &[String], format: ArchiveFormat, out: impl Write) -> Result<()> {
        if images.is_empty() {
            return Err(Error::InvalidArgument(
                "save needs at least one image".into(),
            ));
        }
        let _lock = self.store.lock_shared()?;
        let selected = self.select(images)?;
        let mut tar = tar::Builder::new(out);
        match format {
            ArchiveFormat::Docker => self.write_docker(&selected, &mut tar)?,
            ArchiveFormat::Oci => self.write_oci(&selected, &mut tar)?,
        }
        let mut out = tar.into_inner().map_err(write_err)?;
        out.flush().map_err(write_err)?;
        Ok(())
    }

    fn select(&self, inputs: &[String]) -> Result<Vec<Selected>> {
        let records = self.store.records()?;
        let mut by_target: BTreeMap<Digest, BTreeSet<Reference>> = BTreeMap::new();
        let mut order = Vec::new();
        let mut add = |target: Digest, name: Option<Reference>| {
            let entry = by_target.entry(target.clone()).or_insert_with(|| {
                order.push(target);
                BTreeSet::new()
            });
            entry.extend(name);
        };
        for input in inputs {
            // Docker saves every tag of a repository named without a tag.
            if let Ok(r) = Reference::parse_normalized(input) {
                if r.tag().is_none() && r.digest().is_none() {
                    let repo = r.repository();
                    let tagged: Vec<(Reference, Digest)> = records
                        .tags
                        .iter()
                        .filter(|(n, _)| n.repository() == repo)
                        .map(|(n, t)| (n.clone(), t.clone()))
                        .collect();
                    if !tagged.is_empty() {
                        for (n, t) in tagged {
                            add(t, Some(n));
                        }
                        continue;
                    }
                }
            }
            let found = resolve(&records, input)?;
            let name = match found.by {
                crate::resolve::Designation::Name(n) => Some(n),
                _ => None,
            };
            add(found.target, name);
        }
        Ok(order
            .into_iter()
            .map(|t| Selected {
                names: by_target
                    .remove(&t)
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
                target: t,
            })
            .collect())
    }

    fn write_docker<W: Write>(
        &self,
        selected: &[Selected],
        tar: &mut tar::Builder<W>,
    ) -> Result<()> {
        let records = self.store.records()?;
        let mut written = BTreeSet::new();
        let mut manifest = Vec::new();
        for sel in selected {
            let image = self.image(&records, &sel.target)?;
            let config_digest = &image.manifest.config.digest;
            let config_path = blob_path(config_digest);
            if written.insert(config_digest.clone()) {
                let bytes =
                    self.store
                        .content()
                        .read(config_digest, DOCUMENT_LIMIT, "an image config")?;
                append(tar, &config_path, bytes.len() as u64, &bytes[..])?;
            }
            let mut layer_paths = Vec::new();
            for layer in self.layers(&image)? {
                let path = blob_path(&layer.diff_id);
                if written.insert(layer.diff_id.clone()) {
                    let blob = self.store.content().open(&layer.blob.digest)?;
                    let (plain, _) = decompressed(io::BufReader::new(blob))
                        .map_err(|e| Error::Layer(strata_snapshot::Error::Malformed(e)))?;
                    append(tar, &path, layer.size, plain)?;
                }
                layer_paths.push(path);
            }
            manifest.push(DockerArchiveEntry {
                config: config_path,
                repo_tags: sel.names.iter().map(Reference::familiar).collect(),
                layers: layer_paths,
            });
        }
        let bytes = serde_json::to_vec(&manifest).map_err(|e| Error::Archive(e.to_string()))?;
        append(tar, "manifest.json", bytes.len() as u64, &bytes[..])
    }

    fn write_oci<W: Write>(&self, selected: &[Selected], tar: &mut tar::Builder<W>) -> Result<()> {
        let layout =
            serde_json::to_vec(&OciLayout::default()).map_err(|e| Error::Archive(e.to_string()))?;
        append(tar, OCI_LAYOUT_FILE, layout.len() as u64, &layout[..])?;
        let records = self.store.records()?;
        let mut written = BTreeSet::new();
        let mut index = Vec::new();
        for sel in selected {
            let record = records
                .images
                .get(&sel.target)
                .ok_or_else(|| Error::NoSuchImage(sel.target.to_string()))?;
            self.write_blob_tree(&record.target, tar, &mut written)?;
            if sel.names.is_empty() {
                index.push(record.target.clone());
            }
            for name in &sel.names {
                let mut d = record.target.clone();
                d.set_annotation(annotations::CONTAINERD_IMAGE_NAME, name.to_string());
                if let Some(tag) = name.tag() {
                    d.set_annotation(annotations::REF_NAME, tag);
                }
                index.push(d);
            }
        }
        let bytes = ImageIndex::new_oci(index).to_bytes();
        append(tar, OCI_INDEX_FILE, bytes.len() as u64, &bytes[..])
    }

    /// Writes a manifest or index and everything it references that is present.
    fn write_blob_tree<W: Write>(
        &self,
        d: &Descriptor,
        tar: &mut tar::Builder<W>,
        written: &mut BTreeSet<Digest>,
    ) -> Result<()> {
        if written.contains(&d.digest) || !self.store.content().exists(&d.digest) {
            return Ok(());
        }
        let mut children = Vec::new();
        if strata_oci::media_type::is_manifest(&d.media_type)
            || strata_oci::media_type::is_index(&d.media_type)
        {
            match self.store.document(&d.digest, Some(&d.media_type))? {
                Document::Manifest(m) => {
                    children.push(m.config);
                    children.extend(m.layers);
                }
                Document::Index(i) => children.extend(i.manifests),
            }
        }
        for child in &children {
            self.write_blob_tree(child, tar, written)?;
        }
        let size = self.store.content().size(&d.digest)?;
        let blob = self.store.content().open(&d.digest)?;
        append(tar, &blob_path(&d.digest), size, blob)?;
        written.insert(d.digest.clone());
        Ok(())
    }
}

fn blob_path(d: &Digest) -> String {
    format!("blobs/{}/{}", d.algorithm(), d.hex())
}

fn write_err(e: io::Error) -> Error {
    Error::Io {
        op: "write",
        path: "archive".into(),
        source: e,
    }
}

/// Appends a regular file of exactly `size` bytes read from `data`.
fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    size: u64,
    data: impl Read,
) -> Result<()> {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o644);
    h.set_size(size);
    h.set_mtime(0);
    let mut counted = data.take(size);
    tar.append_data(&mut h, path, &mut counted)
        .map_err(write_err)?;
    if counted.limit() != 0 {
        return Err(Error::Archive(format!(
            "{path}: content shorter than its recorded size {size}"
        )));
    }
    let mut rest = counted.into_inner();
    if rest.read(&mut [0u8; 1]).map_err(write_err)? != 0 {
        return Err(Error::Archive(format!(
            "{path}: content longer than its recorded size {size}"
        )));
    }
    Ok(())
}
