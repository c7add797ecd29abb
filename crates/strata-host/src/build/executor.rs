//! [`BuildExecutor`]: the builder's side effects on this host.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use strata_build::{
    Base, CacheEntry, CopyRequest, CopySource, ExecError, Executor, Layer, RunOutcome, RunRequest,
};
use strata_oci::{Digest, ImageConfig, Platform, Reference};
use strata_store::BlobInfo;

use super::context::{self, Context};
use super::copy::{ensure_dir, owner_in};
use super::worktree::WorkTree;
use crate::error::{Error, Result};
use crate::host::Host;
use crate::resolve::resolve;

/// Runs a build's steps on a [`Host`].
#[derive(Debug)]
pub struct BuildExecutor<'h> {
    pub(crate) host: &'h Host,
    pub(crate) context: Context,
    /// `SOURCE_DATE_EPOCH`: layer mtimes are clamped to it.
    clamp_mtime: Option<u64>,
    ids: AtomicUsize,
}

impl<'h> BuildExecutor<'h> {
    /// An executor for builds with `context` on `host`; layer times are
    /// clamped to `clamp_mtime` (`SOURCE_DATE_EPOCH`) when given.
    pub fn new(host: &'h Host, context: Context, clamp_mtime: Option<u64>) -> BuildExecutor<'h> {
        BuildExecutor {
            host,
            context,
            clamp_mtime,
            ids: AtomicUsize::new(0),
        }
    }

    /// A number for this process's next build container.
    pub(crate) fn next_id(&self) -> String {
        format!(
            "{}-{}",
            std::process::id(),
            self.ids.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// The directory of `RUN --mount=type=cache,id=ID`.
    pub(crate) fn cache_mount_dir(&self, id: &str) -> Result<PathBuf> {
        let dir = self
            .host
            .store
            .paths()
            .root()
            .join("build-cache/mounts")
            .join(Digest::sha256_of(id.as_bytes()).hex());
        std::fs::create_dir_all(&dir).map_err(Error::io("create", &dir))?;
        Ok(dir)
    }

    fn base_image(&self, name: &str) -> Result<Base> {
        let records = self.host.store.records()?;
        let found = resolve(&records, name)?;
        let image = self.host.image(&records, &found.target)?;
        let layers = image
            .layer_refs()
            .into_iter()
            .map(|l| Layer {
                diff_id: l.diff_id,
                blob: l.blob,
            })
            .collect();
        Ok(Base {
            id: image.id().clone(),
            config: image.config,
            layers,
        })
    }

    fn digest_of(&self, req: &CopyRequest) -> Result<Digest> {
        let keep =
            |rel: &str| !self.context.is_excluded(rel) || self.context.may_include_below(rel);
        let mut paths = Vec::new();
        for p in &req.paths {
            paths.extend(context::expand(self.context.root(), p, &keep)?);
        }
        context::digest(self.context.root(), &paths, &keep)
    }

    fn mkdir_on(&self, parent: &[Layer], path: &str, user: &str) -> Result<Option<Layer>> {
        let tree = WorkTree::mount(self.host, parent)?;
        let owner = if user.is_empty() {
            (0, 0)
        } else {
            owner_in(&tree.merged(), user)?
        };
        if !ensure_dir(&tree.merged(), path, owner)? {
            return Ok(None);
        }
        tree.commit(self.clamp_mtime)
    }

    fn commit_image(
        &self,
        config: &ImageConfig,
        layers: &[Layer],
        tags: &[String],
    ) -> Result<Digest> {
        let names = tags
            .iter()
            .map(|t| Reference::parse_normalized(t).map(Reference::with_default_tag))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let blobs: Vec<(BlobInfo, String)> = layers
            .iter()
            .map(|l| {
                (
                    BlobInfo {
                        digest: l.blob.digest.clone(),
                        size: l.blob.size,
                    },
                    l.blob.media_type.clone(),
                )
            })
            .collect();
        let record = self.host.commit_image(config, &blobs, &names)?;
        Ok(record.id)
    }
}

impl Executor for BuildExecutor<'_> {
    fn base(&self, name: &str, _platform: &Platform) -> Result<Base, ExecError> {
        Ok(self.base_image(name)?)
    }

    fn copy_digest(&self, req: &CopyRequest) -> Result<Digest, ExecError> {
        match req.source {
            CopySource::Context => Ok(self.digest_of(req)?),
            _ => Err("only build context sources are hashed".into()),
        }
    }

    fn copy(&self, parent: &[Layer], reqs: &[CopyRequest]) -> Result<Option<Layer>, ExecError> {
        let tree = WorkTree::mount(self.host, parent)?;
        for req in reqs {
            self.copy_onto(&tree, req)?;
        }
        Ok(tree.commit(self.clamp_mtime)?)
    }

    fn mkdir(&self, parent: &[Layer], path: &str, user: &str) -> Result<Option<Layer>, ExecError> {
        Ok(self.mkdir_on(parent, path, user)?)
    }

    fn run(
        &self,
        parent: &[Layer],
        req: &RunRequest,
        output: &mut dyn FnMut(&[u8]),
    ) -> Result<RunOutcome, ExecError> {
        let tree = WorkTree::mount(self.host, parent)?;
        let code = self.run_on(&tree, req, output)?;
        if code != 0 {
            return Ok(RunOutcome { code, layer: None });
        }
        let layer = tree.commit(self.clamp_mtime)?;
        Ok(RunOutcome { code, layer })
    }

    fn cache_get(&self, key: &Digest) -> Result<Option<CacheEntry>, ExecError> {
        Ok(self.host.build_cache_get(key)?)
    }

    fn cache_put(&self, key: &Digest, entry: &CacheEntry) -> Result<(), ExecError> {
        Ok(self.host.build_cache_put(key, entry)?)
    }

    fn commit(
        &self,
        config: &ImageConfig,
        layers: &[Layer],
        tags: &[String],
    ) -> Result<Digest, ExecError> {
        Ok(self.commit_image(config, layers, tags)?)
    }
}
