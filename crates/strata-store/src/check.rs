//! `system check`: verify every blob against its digest and every record's
//! references, and say how to repair what is broken.

use std::path::PathBuf;

use strata_oci::{media_type, Digest, Document};

use crate::error::Result;
use crate::gc;
use crate::images::Records;
use crate::lock::LockGuard;
use crate::store::Store;

/// How a problem is repaired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fix {
    /// Delete a blob whose content does not match its name.
    RemoveBlob(Digest),
    /// Delete a file in the blob tree that is not a blob.
    RemovePath(PathBuf),
    /// Drop an image record (and its names) whose content is broken.
    RemoveImage(Digest),
    /// Drop a name that points at no image.
    RemoveTag(strata_oci::Reference),
}

/// One thing found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// What is wrong, naming the subject.
    pub message: String,
    /// How `--repair` fixes it.
    pub fix: Fix,
}

/// Everything `check` found.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// Broken things.
    pub problems: Vec<Problem>,
    /// Blobs verified.
    pub blobs: usize,
    /// Bytes hashed.
    pub bytes: u64,
    /// Images checked.
    pub images: usize,
    /// Blobs no image reaches (reclaimable by prune, not a problem).
    pub unreferenced: usize,
    /// Bytes in unreferenced blobs.
    pub unreferenced_bytes: u64,
}

/// Verifies every blob and every image record.
pub fn check(store: &Store) -> Result<Report> {
    let mut report = Report::default();
    let (blobs, strays) = store.content().list()?;
    let mut corrupt = std::collections::BTreeSet::new();
    for blob in &blobs {
        report.blobs += 1;
        report.bytes += blob.size;
        if let Err(e) = store.content().verify(&blob.digest) {
            corrupt.insert(blob.digest.clone());
            report.problems.push(Problem {
                message: e.to_string(),
                fix: Fix::RemoveBlob(blob.digest.clone()),
            });
        }
    }
    for p in strays {
        report.problems.push(Problem {
            message: format!("{}: not a blob", p.display()),
            fix: Fix::RemovePath(p),
        });
    }

    let records = store.records()?;
    for (target, record) in &records.images {
        report.images += 1;
        let mut broken = |why: String| {
            report.problems.push(Problem {
                message: format!("image {} ({target}): {why}", record.id),
                fix: Fix::RemoveImage(target.clone()),
            });
        };
        if let Err(why) = check_image(store, &records, target, &record.id, &corrupt) {
            broken(why);
        }
    }

    for (name, target) in &records.tags {
        if !records.images.contains_key(target) {
            report.problems.push(Problem {
                message: format!("name {name} points at unknown image {target}"),
                fix: Fix::RemoveTag(name.clone()),
            });
        }
    }

    let marked = gc::mark(store, &records)?;
    for blob in &blobs {
        if !marked.live.contains(&blob.digest) {
            report.unreferenced += 1;
            report.unreferenced_bytes += blob.size;
        }
    }
    Ok(report)
}

fn check_image(
    store: &Store,
    records: &Records,
    target: &Digest,
    id: &Digest,
    corrupt: &std::collections::BTreeSet<Digest>,
) -> std::result::Result<(), String> {
    let present = |d: &Digest| -> std::result::Result<(), String> {
        if corrupt.contains(d) {
            Err(format!("blob {d} is corrupt"))
        } else if !store.content().exists(d) {
            Err(format!("blob {d} is missing"))
        } else {
            Ok(())
        }
    };
    present(target)?;
    let media = &records.images[target].target.media_type;
    if !(media_type::is_manifest(media) || media_type::is_index(media)) {
        return Err(format!(
            "recorded media type {media} is not a manifest or an index"
        ));
    }
    let size = store.content().size(target).map_err(|e| e.to_string())?;
    if size != records.images[target].target.size {
        return Err(format!(
            "recorded size {} but the manifest has {size} bytes",
            records.images[target].target.size
        ));
    }
    let manifest = match store
        .document(target, Some(media))
        .map_err(|e| e.to_string())?
    {
        Document::Manifest(m) => m,
        // Index images are checked through the manifests they list that are present.
        Document::Index(_) => return Ok(()),
    };
    present(&manifest.config.digest)?;
    if &manifest.config.digest != id {
        return Err(format!(
            "record says config {id}, manifest says {}",
            manifest.config.digest
        ));
    }
    let config = store
        .config(&manifest.config.digest)
        .map_err(|e| e.to_string())?;
    if config.rootfs.diff_ids.len() != manifest.layers.len() {
        return Err(format!(
            "config lists {} layers, manifest {}",
            config.rootfs.diff_ids.len(),
            manifest.layers.len()
        ));
    }
    for d in std::iter::once(&manifest.config).chain(&manifest.layers) {
        present(&d.digest)?;
        let size = store.content().size(&d.digest).map_err(|e| e.to_string())?;
        if size != d.size {
            return Err(format!(
                "blob {} has {size} bytes, the manifest says {}",
                d.digest, d.size
            ));
        }
    }
    for (layer, diff_id) in manifest.layers.iter().zip(&config.rootfs.diff_ids) {
        match media_type::layer_compression(&layer.media_type) {
            Some(media_type::LayerCompression::None) if &layer.digest != diff_id => {
                return Err(format!(
                    "uncompressed layer {} does not match diff_id {diff_id}",
                    layer.digest
                ));
            }
            Some(media_type::LayerCompression::None) => {}
            Some(_) => match store.layers().get(&layer.digest) {
                Ok(Some(info)) if &info.diff_id == diff_id => {}
                Ok(Some(info)) => {
                    return Err(format!(
                        "layer {} recorded with diff_id {}, config says {diff_id}",
                        layer.digest, info.diff_id
                    ))
                }
                Ok(None) => return Err(format!("layer {} has no recorded diff_id", layer.digest)),
                Err(e) => return Err(e.to_string()),
            },
            None => {
                return Err(format!(
                    "layer {} has unknown media type {}",
                    layer.digest, layer.media_type
                ))
            }
        }
    }
    Ok(())
}

/// Applies the fixes of a report. Requires the exclusive lock. Returns how many
/// fixes were applied.
pub fn repair(store: &Store, report: &Report, exclusive: &LockGuard) -> Result<usize> {
    let mut n = 0;
    for p in &report.problems {
        match &p.fix {
            Fix::RemoveBlob(d) => {
                store.content().delete(d)?;
                store.layers().remove(d)?;
            }
            Fix::RemovePath(path) => {
                let r = if path.is_dir() {
                    std::fs::remove_dir_all(path)
                } else {
                    std::fs::remove_file(path)
                };
                r.map_err(crate::error::Error::io("remove", path))?;
            }
            Fix::RemoveImage(target) => {
                store.update_records(|r| {
                    r.remove_image(target);
                    Ok::<_, crate::Error>(())
                })?;
            }
            Fix::RemoveTag(name) => {
                store.update_records(|r| {
                    r.tags.remove(name);
                    Ok::<_, crate::Error>(())
                })?;
            }
        }
        n += 1;
    }
    store.clean_leftovers(exclusive)?;
    Ok(n)
}
