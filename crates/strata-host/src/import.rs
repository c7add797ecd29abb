//! `import`: an image from a root file system (a tarball, stdin, or a directory).
//!
//! One pass: the input tar is decompressed if needed, hashed (diff_id), checked
//! entry by entry, unpacked into the snapshot, and recompressed into the store,
//! all from the same stream. Nothing is recorded unless every step succeeded.

use std::fs::File;
use std::io;
use std::path::PathBuf;

use strata_oci::{ContainerConfig, History, ImageConfig, Platform, Reference, RootFs, Timestamp};
use strata_snapshot::apply::{Applier, ApplyOptions, WhiteoutMode};
use strata_snapshot::compression::Compressor;
use strata_snapshot::create::{write_dir, CreateOptions};
use strata_snapshot::ingest::{ingest_recompress, Visit};
use strata_snapshot::snapshots::SnapshotMode;
use strata_store::{Expected, ImageRecord, LayerInfo};

use crate::change::apply_change;
use crate::error::{Error, Result};
use crate::host::Host;

/// Where the root file system comes from.
#[derive(Debug, Clone)]
pub enum ImportSource {
    /// A tar stream on standard input (`-`).
    Stdin,
    /// A tar file, optionally gzip- or zstd-compressed.
    File(PathBuf),
    /// A directory tree.
    Dir(PathBuf),
}

impl ImportSource {
    /// Interprets a command-line argument.
    pub fn parse(arg: &str) -> Result<ImportSource> {
        if arg == "-" {
            return Ok(ImportSource::Stdin);
        }
        if arg.contains("://") {
            return Err(Error::Unsupported(format!(
                "importing from a URL ({arg}) is not supported; download it and import the file"
            )));
        }
        let p = PathBuf::from(arg);
        let meta = std::fs::metadata(&p).map_err(Error::io("import", &p))?;
        Ok(if meta.is_dir() {
            ImportSource::Dir(p)
        } else {
            ImportSource::File(p)
        })
    }

    fn describe(&self) -> String {
        match self {
            ImportSource::Stdin => "-".to_owned(),
            ImportSource::File(p) | ImportSource::Dir(p) => p.display().to_string(),
        }
    }
}

/// What to import and how.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The root file system.
    pub source: ImportSource,
    /// The name to give the image.
    pub reference: Option<Reference>,
    /// `--change` lines.
    pub changes: Vec<String>,
    /// `--message`: the history comment.
    pub message: Option<String>,
    /// `--platform` (default: the host's).
    pub platform: Option<Platform>,
}

impl Host {
    /// Imports a root file system as a one-layer image.
    pub fn import(&self, opts: &ImportOptions) -> Result<ImageRecord> {
        let mut container = ContainerConfig::default();
        for change in &opts.changes {
            apply_change(&mut container, change)?;
        }
        let _lock = self.store.lock_shared()?;
        let staging = self.snapshots.staging()?;
        let result = self.import_into(opts, container, &staging);
        if result.is_err() {
            let _ = self.snapshots.discard(&staging);
        }
        result
    }

    fn import_into(
        &self,
        opts: &ImportOptions,
        container: ContainerConfig,
        staging: &std::path::Path,
    ) -> Result<ImageRecord> {
        let mode = match self.snapshots.mode() {
            SnapshotMode::Overlay => WhiteoutMode::Overlay,
            SnapshotMode::Copy => WhiteoutMode::Apply,
        };
        let mut applier = Applier::new(staging, ApplyOptions::new(mode))?;
        let blob = self.store.content().writer()?;
        let mut compressor = Compressor::new(blob, self.config.compression, self.config.threads);

        let stats = match &opts.source {
            ImportSource::Stdin => ingest_recompress(
                io::stdin().lock(),
                &mut compressor,
                Visit::Apply(&mut applier),
            )?,
            ImportSource::File(p) => {
                let f = File::open(p).map_err(Error::io("open", p))?;
                ingest_recompress(f, &mut compressor, Visit::Apply(&mut applier))?
            }
            ImportSource::Dir(dir) => {
                let (reader, writer) = io::pipe().map_err(Error::io("create pipe", dir))?;
                std::thread::scope(|scope| {
                    let producer = scope
                        .spawn(move || write_dir(dir, writer, &CreateOptions::default()).map(drop));
                    let stats =
                        ingest_recompress(reader, &mut compressor, Visit::Apply(&mut applier));
                    // The producer's failure explains a consumer failure (e.g. a
                    // truncated stream), so it is reported first.
                    let produced = producer.join().map_err(|_| Error::Io {
                        op: "archive",
                        path: dir.clone(),
                        source: io::Error::other("archiver thread panicked"),
                    })?;
                    produced?;
                    Ok::<_, Error>(stats?)
                })?
            }
        };
        applier.finish()?;
        let blob = compressor
            .finish()
            .map_err(|e| Error::Layer(strata_snapshot::Error::Write(e)))?;
        let info = blob.commit(Expected::default())?;
        let media = self.config.compression.kind().oci_media_type();
        self.note_layer(
            &info.digest,
            media,
            LayerInfo {
                diff_id: stats.diff_id.clone(),
                size: stats.size,
            },
        )?;
        // A one-layer image: the chain ID is the diff_id.
        self.snapshots.commit(staging, &stats.diff_id)?;

        let created = created_now();
        let platform = opts.platform.clone().unwrap_or_else(Platform::host);
        let config = ImageConfig {
            created: Some(created.clone()),
            architecture: platform.architecture.clone(),
            os: platform.os.clone(),
            variant: platform.variant.clone(),
            config: Some(container),
            rootfs: RootFs {
                kind: "layers".to_owned(),
                diff_ids: vec![stats.diff_id],
            },
            history: Some(vec![History {
                created: Some(created),
                comment: Some(
                    opts.message
                        .clone()
                        .unwrap_or_else(|| format!("Imported from {}", opts.source.describe())),
                ),
                ..History::default()
            }]),
            ..ImageConfig::default()
        };
        let names: Vec<Reference> = opts.reference.iter().cloned().collect();
        self.commit_image(&config, &[(info, media.to_owned())], &names)
    }
}

/// Now, or `SOURCE_DATE_EPOCH` when set (reproducible images).
pub fn created_now() -> String {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .map(Timestamp::from_unix_seconds)
        .unwrap_or_else(Timestamp::now)
        .to_rfc3339()
}
