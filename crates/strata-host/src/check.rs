//! `system check`: the store's own checks plus the snapshots images need.

use strata_oci::Digest;
use strata_store::check::{self, Report};

use crate::error::Result;
use crate::host::Host;

/// What `system check` found.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Blobs and records.
    pub store: Report,
    /// Snapshots an image needs that are missing (re-created by repair).
    pub missing_snapshots: Vec<(Digest, Digest)>,
    /// Leftovers of interrupted or running operations.
    pub leftovers: usize,
    /// Fixes applied (with repair).
    pub repaired: usize,
}

impl CheckReport {
    /// True when nothing is broken.
    pub fn is_clean(&self) -> bool {
        self.store.problems.is_empty() && self.missing_snapshots.is_empty()
    }
}

impl Host {
    /// Verifies every blob, record and snapshot; with `repair`, removes what is
    /// broken and re-creates missing snapshots.
    pub fn check(&self, repair: bool) -> Result<CheckReport> {
        let lock = if repair {
            self.store.lock_exclusive()?
        } else {
            self.store.lock_shared()?
        };
        let mut report = CheckReport {
            store: check::check(&self.store)?,
            leftovers: self.store.leftovers()?,
            ..CheckReport::default()
        };
        if repair {
            report.repaired = check::repair(&self.store, &report.store, &lock)?;
        }
        let records = self.store.records()?;
        for target in records.images.keys() {
            let Ok(image) = self.image(&records, target) else {
                continue; // reported by the store check
            };
            for layer in self.layers(&image)? {
                if !self.snapshots.exists(&layer.chain_id) {
                    report
                        .missing_snapshots
                        .push((image.id().clone(), layer.chain_id.clone()));
                }
            }
            if repair && !report.missing_snapshots.is_empty() {
                report.repaired += self.unpack(&image)?.len();
            }
        }
        Ok(report)
    }
}
