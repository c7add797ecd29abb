//! `load`: docker-archive (`docker save`, legacy and Docker 25), OCI archives and
//! OCI layout directories.
//!
//! The archive is read once, front to back. The few small files a format needs
//! (`manifest.json`, `index.json`, legacy `<id>.json` configs) are kept in memory,
//! within a budget; every other file streams straight into the content store,
//! verified against the digest its path names, and through the door check when it
//! looks like a layer (checked entry by entry as it streams in). Only when the
//! whole archive has been read, every descriptor matched its blob and every layer
//! its config's diff_id are snapshots unpacked and the images recorded
//! (`images.rs`).

mod images;

use std::collections::HashMap;
use std::io::{self, BufReader, Read};
use std::path::Path;

use strata_oci::layout::{
    DOCKER_MANIFEST_FILE, DOCKER_REPOSITORIES_FILE, OCI_INDEX_FILE, OCI_LAYOUT_FILE,
};
use strata_oci::media_type::LayerCompression;
use strata_oci::{Digest, Reference, Verifier};
use strata_snapshot::compression::{decompressed, detect};
use strata_snapshot::guard::Guard;
use strata_snapshot::ingest::{ingest_raw, Visit};
use strata_store::{BlobInfo, Expected, LayerInfo};

use crate::error::{Error, Result};
use crate::host::Host;

/// Bytes of archive metadata kept in memory, in all.
const METADATA_BUDGET: u64 = 64 * 1024 * 1024;

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

/// A blob of the archive, now in the store.
#[derive(Clone)]
struct Stored {
    info: BlobInfo,
    /// diff_id and uncompressed size, when the blob was read as a layer.
    layer: Option<LayerInfo>,
    compression: LayerCompression,
}

/// The state of one load.
struct Loader<'h> {
    host: &'h Host,
    items: HashMap<String, Item>,
    links: HashMap<String, String>,
    metadata_bytes: u64,
}

impl Host {
    /// Loads images from a tar stream (optionally gzip/zstd-compressed).
    pub fn load(&self, input: impl Read) -> Result<Vec<LoadedImage>> {
        let _lock = self.store.lock_shared()?;
        let (plain, _) = decompressed(BufReader::with_capacity(256 * 1024, input))
            .map_err(|e| Error::Archive(e.to_string()))?;
        let mut loader = Loader::new(self);
        let mut archive = tar::Archive::new(plain);
        let bad = |e: io::Error| Error::Archive(e.to_string());
        for entry in archive.entries().map_err(bad)? {
            let mut entry = entry.map_err(bad)?;
            let raw = entry.path_bytes().into_owned();
            let Some(path) = strata_snapshot::path::normalize(&raw) else {
                return Err(Error::Archive(format!(
                    "entry {:?} climbs out of the archive",
                    String::from_utf8_lossy(&raw)
                )));
            };
            let path = path.to_string_lossy().into_owned();
            let kind = entry.header().entry_type();
            match kind {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    // `Entry::size` honours PAX size records (Go writes them
                    // for entries of 8 GiB and more).
                    let size = entry.size();
                    loader.add_file(&path, size, &mut entry)?;
                }
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    let target = entry.link_name_bytes().unwrap_or_default().into_owned();
                    let base = match kind {
                        tar::EntryType::Symlink => Path::new(&path)
                            .parent()
                            .unwrap_or(Path::new(""))
                            .to_path_buf(),
                        _ => Default::default(),
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

/// Regular files below `dir` (symlinks are not followed).
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

/// The files a format needs in memory: the manifests of both formats and the
/// legacy docker-archive's `<64 hex>.json` configs.
fn is_metadata(path: &str) -> bool {
    if matches!(
        path,
        DOCKER_MANIFEST_FILE | OCI_INDEX_FILE | OCI_LAYOUT_FILE | DOCKER_REPOSITORIES_FILE
    ) {
        return true;
    }
    path.strip_suffix(".json")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Legacy docker-archive bookkeeping no format needs (`<id>/json`, `<id>/VERSION`).
fn is_legacy_noise(path: &str) -> bool {
    path.ends_with("/json") || path.ends_with("/VERSION")
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
            metadata_bytes: 0,
        }
    }

    fn add_file(&mut self, path: &str, size: u64, data: &mut dyn Read) -> Result<()> {
        let bad = |e: io::Error| Error::Archive(format!("{path}: {e}"));
        let expected = blob_name(path);
        if expected.is_none() && (is_metadata(path) || is_legacy_noise(path)) {
            if is_legacy_noise(path) {
                io::copy(data, &mut io::sink()).map_err(bad)?;
                return Ok(());
            }
            self.metadata_bytes += size;
            if self.metadata_bytes > METADATA_BUDGET {
                return Err(Error::Archive(format!(
                    "metadata files exceed {METADATA_BUDGET} bytes (at {path})"
                )));
            }
            let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            data.take(size).read_to_end(&mut buf).map_err(bad)?;
            self.items.insert(path.to_owned(), Item::Small(buf));
            return Ok(());
        }
        let store = self.host.store();
        if let Some(d) = &expected {
            if store.content().exists(d) {
                // Already in the store (it passed the door when it entered): the
                // archive's copy is still verified, then dropped.
                let mut v = Verifier::new(d.clone(), Some(store.content().size(d)?));
                let mut buf = vec![0u8; 256 * 1024];
                loop {
                    let n = data.read(&mut buf).map_err(bad)?;
                    if n == 0 {
                        break;
                    }
                    v.update(&buf[..n])
                        .map_err(|e| Error::Archive(format!("{path}: {e}")))?;
                }
                v.verify()
                    .map_err(|e| Error::Archive(format!("{path}: {e}")))?;
                let stored = self.stored(d)?;
                self.items.insert(path.to_owned(), Item::Blob(stored));
                return Ok(());
            }
        }
        let mut head = Vec::with_capacity(512);
        data.take(512).read_to_end(&mut head).map_err(bad)?;
        let compression = detect(&head);
        let looks_like_tar = head.len() >= 262 && &head[257..262] == b"ustar";
        let algorithm = expected
            .as_ref()
            .map_or(strata_oci::Algorithm::Sha256, Digest::algorithm);
        let mut writer = store.content().writer_for(algorithm)?;
        let mut input = io::Cursor::new(head).chain(data);
        let layer = if compression != LayerCompression::None || looks_like_tar {
            let stats = ingest_raw(&mut input, &mut writer, Visit::Check(Guard::default()))
                .map_err(|e| layer_error(path, e))?;
            Some(LayerInfo {
                diff_id: stats.diff_id,
                size: stats.size,
            })
        } else {
            io::copy(&mut input, &mut writer).map_err(bad)?;
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

    /// What the store knows of a blob already in it.
    fn stored(&self, d: &Digest) -> Result<Stored> {
        let content = self.host.store().content();
        let mut head = Vec::with_capacity(4);
        content
            .open(d)?
            .take(4)
            .read_to_end(&mut head)
            .map_err(Error::io("read", self.host.store().paths().blob(d)))?;
        Ok(Stored {
            info: BlobInfo {
                digest: d.clone(),
                size: content.size(d)?,
            },
            compression: detect(&head),
            layer: self.host.store().layers().get(d)?,
        })
    }

    /// The item at `path`. Links (docker-archive deduplicates layers with them)
    /// are followed, but never for `blobs/…`, whose name is a promise of content.
    fn lookup(&self, path: &str) -> Option<&Item> {
        let mut p = path.trim_start_matches("./").to_owned();
        for _ in 0..16 {
            if let Some(item) = self.items.get(&p) {
                return Some(item);
            }
            if blob_name(&p).is_some() {
                return None;
            }
            p = self.links.get(&p)?.clone();
        }
        None
    }
}

pub(super) fn layer_error(path: &str, e: strata_snapshot::Error) -> Error {
    match e {
        strata_snapshot::Error::Hostile { .. } | strata_snapshot::Error::TooLarge { .. } => {
            Error::Archive(format!("layer {path}: {e}"))
        }
        other => Error::Layer(other),
    }
}
