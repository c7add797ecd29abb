//! Mark and sweep of blobs: everything reachable from an image record survives.

use std::collections::BTreeSet;

use strata_oci::{media_type, Digest, Document};

use crate::content::BlobInfo;
use crate::error::{Error, Result};
use crate::images::Records;
use crate::lock::LockGuard;
use crate::store::Store;

/// The result of marking: reachable blobs, and references that point nowhere.
#[derive(Debug, Default, Clone)]
pub struct Marked {
    /// Blobs reachable from some image.
    pub live: BTreeSet<Digest>,
    /// Referenced blobs that are absent (reported by `check`, kept out of `live`).
    pub missing: BTreeSet<Digest>,
}

/// Every blob reachable from the image records: targets, child manifests of
/// indexes (when present: an index may list platforms that were never fetched),
/// configs and layers.
pub fn mark(store: &Store, records: &Records) -> Result<Marked> {
    let mut marked = Marked::default();
    let mut stack: Vec<(Digest, String, bool)> = records
        .images
        .values()
        .map(|r| (r.target.digest.clone(), r.target.media_type.clone(), true))
        .collect();
    while let Some((digest, mt, required)) = stack.pop() {
        if marked.live.contains(&digest) {
            continue;
        }
        if !store.content().exists(&digest) {
            if required {
                marked.missing.insert(digest);
            }
            continue;
        }
        marked.live.insert(digest.clone());
        // An image root is a manifest or an index whatever its record says (the
        // document's own media type decides), so what it references is kept.
        let is_root = records.images.contains_key(&digest);
        if !(is_root || media_type::is_manifest(&mt) || media_type::is_index(&mt)) {
            continue;
        }
        match store.document(&digest, if is_root { None } else { Some(&mt) }) {
            Ok(Document::Manifest(m)) => {
                stack.push((m.config.digest, m.config.media_type, true));
                for l in m.layers {
                    stack.push((l.digest, l.media_type, true));
                }
                if let Some(s) = m.subject {
                    stack.push((s.digest, s.media_type, false));
                }
            }
            Ok(Document::Index(i)) => {
                for m in i.manifests {
                    stack.push((m.digest, m.media_type, false));
                }
            }
            // A corrupt manifest keeps only itself alive; `check` reports it.
            Err(Error::Corrupt { .. } | Error::Verify { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(marked)
}

/// What a sweep removed.
#[derive(Debug, Default, Clone)]
pub struct Swept {
    /// The blobs deleted.
    pub blobs: Vec<BlobInfo>,
}

impl Swept {
    /// Bytes freed.
    pub fn bytes(&self) -> u64 {
        self.blobs.iter().map(|b| b.size).sum()
    }
}

/// Deletes every blob (and its layer facts) not in `marked.live`. Requires the
/// exclusive lock, so no writer can have committed a blob it has yet to record.
pub fn sweep(store: &Store, marked: &Marked, _exclusive: &LockGuard) -> Result<Swept> {
    let (blobs, _strays) = store.content().list()?;
    let mut swept = Swept::default();
    for blob in blobs {
        if marked.live.contains(&blob.digest) {
            continue;
        }
        store.content().delete(&blob.digest)?;
        store.layers().remove(&blob.digest)?;
        swept.blobs.push(blob);
    }
    for d in store.layers().list()? {
        if !store.content().exists(&d) {
            store.layers().remove(&d)?;
        }
    }
    Ok(swept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Expected, ImageRecord};
    use strata_oci::{Descriptor, ImageConfig, ImageManifest};

    fn put_image(store: &Store, layer: &[u8], name: &str) -> Digest {
        let c = store.content();
        let l = c.put(layer, Expected::default()).unwrap();
        let mut config = ImageConfig::default();
        config.rootfs.diff_ids.push(l.digest.clone());
        config.author = Some(name.to_owned());
        let cb = config.to_bytes();
        let ci = c.put(&cb, Expected::default()).unwrap();
        let m = ImageManifest::new_oci(
            Descriptor::new(media_type::OCI_CONFIG, ci.digest.clone(), ci.size),
            vec![Descriptor::new(media_type::OCI_LAYER, l.digest, l.size)],
        );
        let mb = m.to_bytes();
        let mi = c.put(&mb, Expected::default()).unwrap();
        let record = ImageRecord {
            target: Descriptor::new(media_type::OCI_MANIFEST, mi.digest.clone(), mi.size),
            id: ci.digest,
            added: "2026-01-01T00:00:00Z".into(),
            last_tagged: None,
        };
        store
            .update_records(|r| {
                r.put(record, &[name.parse().unwrap()]);
                Ok::<_, crate::Error>(())
            })
            .unwrap();
        mi.digest
    }

    #[test]
    fn sweep_keeps_shared_layers_and_removes_the_rest() {
        let dir = strata_testkit::TempDir::new("gc");
        let store = Store::open(dir.path()).unwrap();
        let a = put_image(&store, b"shared", "a:1");
        let _b = put_image(&store, b"shared", "b:1");
        let c = put_image(&store, b"only-c", "c:1");
        let garbage = store
            .content()
            .put(b"garbage", Expected::default())
            .unwrap();

        store
            .update_records(|r| {
                r.remove_image(&c);
                r.remove_image(&a);
                Ok::<_, crate::Error>(())
            })
            .unwrap();
        let lock = store.lock_exclusive().unwrap();
        let records = store.records().unwrap();
        let marked = mark(&store, &records).unwrap();
        let swept = sweep(&store, &marked, &lock).unwrap();
        assert!(store.content().exists(&Digest::sha256_of(b"shared")));
        assert!(!store.content().exists(&Digest::sha256_of(b"only-c")));
        assert!(!store.content().exists(&garbage.digest));
        assert!(!store.content().exists(&a));
        // a's manifest and config, c's manifest, config and layer, the garbage blob.
        assert_eq!(swept.blobs.len(), 6);
        let report = crate::check::check(&store).unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
    }

    #[test]
    fn check_reports_and_repairs_a_corrupt_layer() {
        let dir = strata_testkit::TempDir::new("gc");
        let store = Store::open(dir.path()).unwrap();
        let target = put_image(&store, b"layer", "a:1");
        std::fs::write(store.paths().blob(&Digest::sha256_of(b"layer")), b"LAYER").unwrap();
        let report = crate::check::check(&store).unwrap();
        assert_eq!(report.problems.len(), 2, "{:?}", report.problems);
        let lock = store.lock_exclusive().unwrap();
        crate::check::repair(&store, &report, &lock).unwrap();
        assert!(!store.records().unwrap().images.contains_key(&target));
        assert!(crate::check::check(&store).unwrap().problems.is_empty());
    }
}
