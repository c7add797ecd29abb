//! Garbage collection: mark every blob a manifest of any repository needs,
//! sweep the rest.
//!
//! Safe while pushes are in flight: upload sessions live outside `blobs/` and
//! are never touched; a blob is only removed when its modification time is
//! older than the grace period, and a manifest push touches every blob it
//! references, so a blob uploaded (or referenced) recently survives even if
//! no manifest named it when marking started.

use std::collections::HashSet;
use std::time::{Duration, SystemTime};

use strata_distribution::RepositoryName;
use strata_oci::{Digest, Document};

use crate::error::{Error, Result};
use crate::repo::{blob_key, Registry};

/// What a collection did (or would do, in a dry run).
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Manifests found in all repositories.
    pub manifests: usize,
    /// Blobs kept because something needs them.
    pub marked: usize,
    /// Blobs removed (or to remove).
    pub swept: Vec<Digest>,
    /// Their bytes.
    pub bytes: u64,
    /// Unreferenced blobs spared because they are newer than the grace period.
    pub spared: usize,
    /// Abandoned upload sessions ended.
    pub uploads_purged: usize,
}

/// Upload sessions older than this are ended by a collection (distribution's default).
pub const UPLOAD_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

/// Runs a collection. `grace`: unreferenced blobs younger than this stay.
/// Upload sessions older than [`UPLOAD_MAX_AGE`] are ended too.
pub fn collect(registry: &Registry, dry_run: bool, grace: Duration) -> Result<Report> {
    let storage = registry.storage();
    let mut report = Report::default();
    if !dry_run {
        report.uploads_purged = registry.purge_uploads(UPLOAD_MAX_AGE)?;
    }
    let mut marked: HashSet<Digest> = HashSet::new();
    let repos = registry.all_repositories()?;
    for repo in &repos {
        let name = RepositoryName::new(repo).map_err(|e| Error::Internal(e.to_string()))?;
        for digest in registry.revisions(&name)? {
            report.manifests += 1;
            marked.insert(digest.clone());
            let bytes = match storage.get(&blob_key(&digest)) {
                Ok(b) => b,
                Err(Error::NotFound(_)) => continue,
                Err(e) => return Err(e),
            };
            match Document::parse(&bytes, None) {
                Ok(Document::Manifest(m)) => {
                    marked.insert(m.config.digest.clone());
                    marked.extend(m.layers.iter().map(|l| l.digest.clone()));
                }
                Ok(Document::Index(i)) => {
                    marked.extend(i.manifests.iter().map(|d| d.digest.clone()))
                }
                Err(e) => {
                    tracing::warn!("manifest {digest} of {repo} unreadable, its blobs may go: {e}")
                }
            }
        }
    }
    report.marked = marked.len();
    let now = SystemTime::now();
    for algo in storage.list("blobs")? {
        for hex in storage.list(&format!("blobs/{algo}"))? {
            let Ok(digest) = format!("{algo}:{hex}").parse::<Digest>() else {
                continue;
            };
            if marked.contains(&digest) {
                continue;
            }
            // Looked at just before deciding: a push may have touched it meanwhile.
            let Some(meta) = storage.stat(&blob_key(&digest))? else {
                continue;
            };
            if now.duration_since(meta.modified).unwrap_or_default() < grace {
                report.spared += 1;
                continue;
            }
            if !dry_run {
                // Moved aside first, then looked at again: a push that touched
                // it before the move is seen and the blob goes back; a push
                // after the move finds it missing and uploads it again. Either
                // way no manifest is left pointing at a swept blob.
                let aside = format!("gc-trash/{algo}/{hex}");
                storage.rename(&blob_key(&digest), &aside)?;
                let touched = storage.stat(&aside)?.is_some_and(|m| {
                    now.duration_since(m.modified).unwrap_or_default() < grace
                        || m.modified > meta.modified
                });
                if touched {
                    storage.rename(&aside, &blob_key(&digest))?;
                    report.spared += 1;
                    continue;
                }
                for repo in &repos {
                    let link = format!("repositories/{repo}/_layers/{algo}/{hex}");
                    storage.delete(&link)?;
                }
                storage.delete(&aside)?;
            }
            report.bytes += meta.size;
            report.swept.push(digest);
        }
    }
    Ok(report)
}
