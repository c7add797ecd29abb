//! `system df`: space used by images, shared layers counted once.

use std::collections::HashMap;

use strata_oci::{Digest, Reference, Timestamp};

use crate::error::Result;
use crate::host::Host;

/// One image's share of the disk.
#[derive(Debug, Clone)]
pub struct ImageUsage {
    /// Image ID.
    pub id: Digest,
    /// Names.
    pub names: Vec<Reference>,
    /// Created.
    pub created: Option<Timestamp>,
    /// All its layers.
    pub size: u64,
    /// Bytes of layers other images also use.
    pub shared_size: u64,
    /// Bytes only this image uses.
    pub unique_size: u64,
    /// Containers using it (always 0 until containers exist).
    pub containers: u64,
}

/// Totals for `system df`.
#[derive(Debug, Clone, Default)]
pub struct DiskUsage {
    /// Per image.
    pub images: Vec<ImageUsage>,
    /// Bytes of distinct layers (each counted once however many images share it).
    pub layers_size: u64,
    /// Bytes no running container needs.
    pub reclaimable: u64,
    /// Images used by at least one container.
    pub active: usize,
}

impl Host {
    /// Computes disk usage from the layers' uncompressed sizes.
    pub fn disk_usage(&self) -> Result<DiskUsage> {
        let _lock = self.store.lock_shared()?;
        let records = self.store.records()?;
        let mut per_image = Vec::new();
        let mut users: HashMap<Digest, (u64, usize)> = HashMap::new();
        for target in records.images.keys() {
            // One unreadable image (reported by `system check`) must not hide
            // the others.
            let image = match self.image(&records, target) {
                Ok(image) => image,
                Err(e) => {
                    tracing::warn!("skipping image {target}: {e}");
                    continue;
                }
            };
            let layers = self.layers(&image)?;
            for l in &layers {
                users.entry(l.chain_id.clone()).or_insert((l.size, 0)).1 += 1;
            }
            per_image.push((image, layers));
        }
        let mut usage = DiskUsage::default();
        for (image, layers) in per_image {
            let size: u64 = layers.iter().map(|l| l.size).sum();
            let shared: u64 = layers
                .iter()
                .filter(|l| users.get(&l.chain_id).is_some_and(|(_, n)| *n > 1))
                .map(|l| l.size)
                .sum();
            usage.images.push(ImageUsage {
                id: image.id().clone(),
                names: image.names.clone(),
                created: image.created(),
                size,
                shared_size: shared,
                unique_size: size - shared,
                containers: 0,
            });
        }
        usage.layers_size = users.values().map(|(s, _)| s).sum();
        usage.reclaimable = usage.layers_size;
        usage.images.sort_by_key(|i| std::cmp::Reverse(i.created));
        Ok(usage)
    }
}
