//! `load`: docker-archive (`docker save`, legacy and Docker 25), OCI archives and
//! OCI layout directories.
//!
//! The archive is read once, front to back. Small JSON files are kept in memory;
//! every other file goes straight into the content store through the door check
//! (layer tars are recognised by their first bytes and checked entry by entry as
//! they stream in). Only when the whole archive has been read and every layer
//! matched its config's diff_id are the images recorded.

use std::collections::HashMap;
use std::io::{self, BufReader, Read};
use std::path::Path;

use strata_oci::descriptor::annotations;
use strata_oci::layout::{DockerArchiveEntry, DOCKER_MANIFEST_FILE, OCI_INDEX_FILE};
use strata_oci::media_type::{self, LayerCompression};
use strata_oci::{
    Descriptor, Digest, Document, ImageIndex, ImageManifest, Platform, Reference, Timestamp,
};
use strata_snapshot::compression::{decompressed, detect};
use strata_snapshot::guard::Guard;
use strata_snapshot::ingest::{ingest_raw, Visit};
use strata_snapshot::snapshots::LayerRef;
use strata_store::{BlobInfo, Expected, ImageRecord, LayerInfo};

use crate::error::{Error, Result};
use crate::host::Host;

/// Small files kept in memory are limited to this size.
const SMALL_LIMIT: u64 = 16 * 1024 * 1024;

/// An image `load` recorded.
#[derive(Debug, Clone)]
pub struct LoadedImage {
    /// Image ID.
    pub id: Digest,
    /// Names given to it.
    pub names: Vec<Reference>,
}

/// A file of the archive once read.
enum Item {
    Small(Vec<u8>),
    Blob(Stored),
}

#[derive(Clone)]
struct Stored {
    info: BlobInfo,
    /// diff_id and uncompressed size, when the blob was read as a layer.
    layer: Option<LayerInfo>,
    compression: LayerCompression,
}

/// An image read from the archive, its blobs in the store, not yet recorded.
struct Pending {
    record: ImageRecord,
    names: Vec<Reference>,
    layers: Vec<LayerRef>,
}

/// The state of one load.
struct Loader<'h> {
    host: &'h Host,
    items: HashMap<String, Item>,
    links: HashMap<String, String>,
}

impl Host {
    /// Loads images from a tar stream (optionally gzip/zstd-compressed).
    pub fn load(&self, input: impl Read) -> Result<Vec<LoadedImage>> {
        let _lock = self.store.lock_shared()?;
        let (plain, _) = decompressed(BufReader::with_capacity(256 * 1024, input))
            .map_err(|e| Error::Archive(e.to_string()))?;
        let mut loader = Loader::new(self);
        let mut archive = tar::Archive::new(plain);
        for entry in archive
            .entries()
            .map_err(|e| Error::Archive(e.to_string()))?
        {
            let mut entry = entry.map_err(|e| Error::Archive(e.to_string()))?;
            let raw = entry.path_bytes().into_owned();
            let Some(path) = strata_snapshot::path::normalize(&raw) else {
                return Err(Error::Archive(format!(
                    "entry {:?} climbs out of the archive",
                    String::from_utf8_lossy(&raw)
                )));
            };
            let path = path.to_string_lossy().into_owned();
            match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    let size = entry
                        .header()
                        .size()
                        .map_err(|e| Error::Archive(e.to_string()))?;
                    loader.add_file(&path, size, &mut entry)?;
                }
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    let target = entry.link_name_bytes().unwrap_or_default().into_owned();
                    let base = if entry.header().entry_type() == tar::EntryType::Symlink {
                        Path::new(&path)
                            .parent()
                            .unwrap_or(Path::new(""))
                            .to_path_buf()
                    } else {
                        Default::default()
                    };
                    let joined = base.join(String::from_utf8_lossy(&target).as_ref());
                    if let Some(t) =
                        strata_snapshot::path::normalize(joined.as_os_str().as_encoded_bytes())
                    {
                        loader.links.insert(path, t.to_string_lossy().into_owned());
                    }
                }
                _ => {}
            }
        }
        loader.finish()
    }

    /// Loads images from an OCI image layout directory (as `skopeo copy oci:DIR` writes).
    pub fn load_layout_dir(&self, dir: &Path) -> Result<Vec<LoadedImage>> {
        let _lock = self.store.lock_shared()?;
        let mut loader = Loader::new(self);
        let mut files = Vec::new();
        collect_files(dir, dir, &mut files)?;
        files.sort();
        for rel in files {
            let p = dir.join(&rel);
            let mut f = std::fs::File::open(&p).map_err(Error::io("open", &p))?;
            let size = f.metadata().map_err(Error::io("stat", &p))?.len();
            loader.add_file(&rel, size, &mut f)?;
        }
        loader.finish()
    }
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(Error::io("read directory", dir))? {
        let entry = entry.map_err(Error::io("read directory", dir))?;
        let p = entry.path();
        let ft = entry.file_type().map_err(Error::io("stat", &p))?;
        if ft.is_dir() {
            collect_files(root, &p, out)?;
        } else if ft.is_file() {
            if let Ok(rel) = p.strip_prefix(root) {
                out.push(rel.to_string_lossy().into_owned());
            }
        }
    }
    Ok(())
}

fn is_small(path: &str, size: u64) -> bool {
    size <= SMALL_LIMIT
        && (path == DOCKER_MANIFEST_FILE
            || path == OCI_INDEX_FILE
            || path == "oci-layout"
            || path == "repositories"
            || path.ends_with(".json")
            || path.ends_with("/json")
            || path.ends_with("/VERSION"))
}

/// `blobs/<alg>/<hex>` → the digest it names.
fn blob_name(path: &str) -> Option<Digest> {
    let rest = path.strip_prefix("blobs/")?;
    let (alg, hex) = rest.split_once('/')?;
    format!("{alg}:{hex}").parse().ok()
}

impl<'h> Loader<'h> {
    fn new(host: &'h Host) -> Self {
        Loader {
            host,
            items: HashMap::new(),
            links: HashMap::new(),
        }
    }

    fn add_file(&mut self, path: &str, size: u64, data: &mut dyn Read) -> Result<()> {
        let expected = blob_name(path);
        if expected.is_none() && is_small(path, size) {
            let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            data.take(size)
                .read_to_end(&mut buf)
                .map_err(|e| Error::Archive(e.to_string()))?;
            self.items.insert(path.to_owned(), Item::Small(buf));
            return Ok(());
        }
        let store = self.host.store();
        if let Some(d) = &expected {
            if store.content().exists(d) {
                // Already in the store, so it passed the door when it entered.
                io::copy(data, &mut io::sink()).map_err(|e| Error::Archive(e.to_string()))?;
                let mut head = Vec::with_capacity(4);
                store
                    .content()
                    .open(d)?
                    .take(4)
                    .read_to_end(&mut head)
                    .map_err(Error::io("read", store.paths().blob(d)))?;
                self.items.insert(
                    path.to_owned(),
                    Item::Blob(Stored {
                        info: BlobInfo {
                            digest: d.clone(),
                            size,
                        },
                        compression: detect(&head),
                        layer: store.layers().get(d)?,
                    }),
                );
                return Ok(());
            }
        }
        let mut head = Vec::with_capacity(512);
        data.take(512)
            .read_to_end(&mut head)
            .map_err(|e| Error::Archive(e.to_string()))?;
        let compression = detect(&head);
        let looks_like_tar = head.len() >= 262 && &head[257..262] == b"ustar";
        let mut writer = store.content().writer()?;
        let mut input = io::Cursor::new(head).chain(data);
        let layer = if compression != LayerCompression::None || looks_like_tar {
            let stats = ingest_raw(&mut input, &mut writer, Visit::Check(Guard::default()))
                .map_err(|e| layer_error(path, e))?;
            Some(LayerInfo {
                diff_id: stats.diff_id,
                size: stats.size,
            })
        } else {
            io::copy(&mut input, &mut writer)
                .map_err(|e| Error::Archive(format!("{path}: {e}")))?;
            None
        };
        let info = writer.commit(Expected {
            digest: expected,
            size: Some(size),
        })?;
        self.items.insert(
            path.to_owned(),
            Item::Blob(Stored {
                info,
                layer,
                compression,
            }),
        );
        Ok(())
    }

    fn lookup(&self, path: &str) -> Option<&Item> {
        let mut p = path.trim_start_matches("./").to_owned();
        for _ in 0..16 {
            if let Some(item) = self.items.get(&p) {
                return Some(item);
            }
            p = self.links.get(&p)?.clone();
        }
        None
    }

    fn finish(self) -> Result<Vec<LoadedImage>> {
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
        // Unpacked before anything is recorded (as `docker load` unpacks), so a
        // crash leaves at worst unreferenced snapshots, never an image without them.
        for p in &pending {
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

    /// A layer blob at `path`, checked at the door, with its diff_id.
    fn layer(&self, path: &str, want: &Digest) -> Result<(Descriptor, LayerInfo)> {
        let stored = match self.lookup(path) {
            Some(Item::Blob(s)) => s.clone(),
            Some(Item::Small(_)) | None => {
                return Err(Error::Archive(format!(
                    "layer {path} is missing from the archive"
                )))
            }
        };
        let info = match stored.layer {
            Some(info) => info,
            None => self.check_late(path, &stored)?,
        };
        if &info.diff_id != want {
            return Err(Error::Archive(format!(
                "layer {path}: content is {}, the image config says {want}",
                info.diff_id
            )));
        }
        let mt = stored.compression.oci_media_type();
        Ok((
            Descriptor::new(mt, stored.info.digest, stored.info.size),
            info,
        ))
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
            Some(Item::Blob(s)) => {
                self.host
                    .store()
                    .content()
                    .read(&s.info.digest, SMALL_LIMIT, "an image config")?
            }
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
        let config = strata_oci::ImageConfig::parse(&config_bytes)?;
        if config.rootfs.diff_ids.len() != entry.layers.len() {
            return Err(Error::Archive(format!(
                "config {} lists {} layers, manifest.json {}",
                entry.config,
                config.rootfs.diff_ids.len(),
                entry.layers.len()
            )));
        }
        let mut layers = Vec::new();
        let mut refs = Vec::new();
        for (path, want) in entry.layers.iter().zip(&config.rootfs.diff_ids) {
            let (desc, info) = self.layer(path, want)?;
            self.host.note_layer(&desc.digest, &desc.media_type, info)?;
            refs.push(LayerRef {
                blob: desc.clone(),
                diff_id: want.clone(),
            });
            layers.push(desc);
        }
        let store = self.host.store().content();
        let config_blob = store.put(&config_bytes, Expected::digest(config_digest))?;
        let manifest = ImageManifest::new_oci(
            Descriptor::new(
                media_type::OCI_CONFIG,
                config_blob.digest.clone(),
                config_blob.size,
            ),
            layers,
        );
        let mblob = store.put(&manifest.to_bytes(), Expected::default())?;
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
            layers: refs,
        })
    }

    fn oci_image(&self, d: &Descriptor) -> Result<Pending> {
        let store = self.host.store();
        let (target, manifest) = match store.document(&d.digest, Some(&d.media_type))? {
            Document::Manifest(m) => (d.clone(), m),
            Document::Index(i) => {
                let host = Platform::host();
                let child = i.manifest_for(&host).ok_or_else(|| {
                    Error::Archive(format!("index {} has no manifest for {host}", d.digest))
                })?;
                match store.document(&child.digest, Some(&child.media_type))? {
                    Document::Manifest(m) => (child.clone(), m),
                    Document::Index(_) => return Err(Error::Unsupported("nested indexes".into())),
                }
            }
        };
        let config = store.config(&manifest.config.digest)?;
        if config.rootfs.diff_ids.len() != manifest.layers.len() {
            return Err(Error::Archive(format!(
                "manifest {} has {} layers, its config {}",
                target.digest,
                manifest.layers.len(),
                config.rootfs.diff_ids.len()
            )));
        }
        let mut refs = Vec::new();
        for (layer, want) in manifest.layers.iter().zip(&config.rootfs.diff_ids) {
            let path = format!("blobs/{}/{}", layer.digest.algorithm(), layer.digest.hex());
            let (_, info) = self.layer(&path, want)?;
            self.host
                .note_layer(&layer.digest, &layer.media_type, info)?;
            refs.push(LayerRef {
                blob: layer.clone(),
                diff_id: want.clone(),
            });
        }
        let names = oci_names(d);
        let target = Descriptor::new(
            target.media_type.clone(),
            target.digest.clone(),
            target.size,
        );
        Ok(Pending {
            record: record(target, manifest.config.digest),
            names,
            layers: refs,
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

fn layer_error(path: &str, e: strata_snapshot::Error) -> Error {
    match e {
        strata_snapshot::Error::Hostile { .. } | strata_snapshot::Error::TooLarge { .. } => {
            Error::Archive(format!("layer {path}: {e}"))
        }
        other => Error::Layer(other),
    }
}
