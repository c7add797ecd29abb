//! `system df`: space used by images (shared layers counted once) and by
//! containers' writable layers.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use strata_oci::{Digest, Reference, Timestamp};

use crate::containers::ContainerSummary;
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
    /// Containers using it.
    pub containers: u64,
}

/// One container's share of the disk.
#[derive(Debug, Clone)]
pub struct ContainerUsage {
    /// What `ps` shows of it.
    pub summary: ContainerSummary,
    /// Bytes in its writable layer (apparent sizes of its files).
    pub size: u64,
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
    /// Per container, newest first.
    pub containers: Vec<ContainerUsage>,
    /// The build cache.
    pub build_cache: crate::build::BuildCacheUsage,
}

/// Apparent size of the files under `dir`, never following symlinks; what
/// cannot be read counts as empty.
fn tree_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => tree_size(&e.path()),
            Ok(t) if t.is_file() => e.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
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
        let mut used_by: HashMap<Digest, u64> = HashMap::new();
        let mut sizes = HashMap::new();
        for c in self.containers()? {
            *used_by.entry(c.record.image_target.clone()).or_default() += 1;
            // The writable layer: overlay's upper dir, or the copied tree.
            let upper = c.path("upper");
            let tree = if upper.is_dir() {
                upper
            } else {
                c.path("rootfs")
            };
            let size = tree_size(&tree);
            sizes.insert(c.record.id.clone(), size);
        }
        usage.containers = self
            .list_containers()?
            .into_iter()
            .map(|summary| ContainerUsage {
                size: sizes.get(&summary.id).copied().unwrap_or(0),
                summary,
            })
            .collect();
        let mut active_layers = HashSet::new();
        for (image, layers) in per_image {
            let containers = used_by.get(&image.target).copied().unwrap_or(0);
            if containers > 0 {
                usage.active += 1;
                active_layers.extend(layers.iter().map(|l| l.chain_id.clone()));
            }
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
                containers,
            });
        }
        usage.layers_size = users.values().map(|(s, _)| s).sum();
        usage.reclaimable = users
            .iter()
            .filter(|(chain, _)| !active_layers.contains(*chain))
            .map(|(_, (s, _))| s)
            .sum();
        usage.images.sort_by_key(|i| std::cmp::Reverse(i.created));
        let image_blobs = strata_store::gc::mark(&self.store, &records)?.live;
        usage.build_cache = self.build_cache_usage(&image_blobs)?;
        Ok(usage)
    }
}
