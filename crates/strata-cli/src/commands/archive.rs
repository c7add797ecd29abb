//! import, save, load.

use std::fs::{self, File};
use std::io::{self, BufWriter, IsTerminal};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use strata_host::archive::ArchiveFormat;
use strata_host::{Host, ImportOptions, ImportSource};
use strata_oci::{Platform, Reference};
use strata_snapshot::compression::Compression;

use super::util::print;
use crate::cli::{CompressionArg, ImportArgs, LoadArgs, SaveArgs, SaveFormat};

/// `import`.
pub fn import(mut host: Host, args: ImportArgs) -> Result<ExitCode> {
    let reference = args
        .reference
        .as_deref()
        .map(|r| -> Result<Reference> {
            let r = Reference::parse_normalized(r)?;
            if r.digest().is_some() {
                bail!("refusing to import as a digest reference: {}", r.familiar());
            }
            Ok(r.with_default_tag())
        })
        .transpose()?;
    let platform = args
        .platform
        .as_deref()
        .map(str::parse::<Platform>)
        .transpose()?;
    let source = ImportSource::parse(&args.source)?;
    if matches!(source, ImportSource::Stdin) && io::stdin().is_terminal() {
        bail!("import from stdin needs a tar stream piped in (or give a file or directory)");
    }
    host = host.with_compression(match args.compression {
        CompressionArg::Gzip => Compression::Gzip(strata_snapshot::compression::DEFAULT_GZIP_LEVEL),
        CompressionArg::Zstd => Compression::Zstd(strata_snapshot::compression::DEFAULT_ZSTD_LEVEL),
        CompressionArg::None => Compression::None,
    });
    let record = host.import(&ImportOptions {
        source,
        reference,
        changes: args.changes,
        message: args.message,
        platform,
    })?;
    print(&format!("{}\n", record.id))?;
    Ok(ExitCode::SUCCESS)
}

/// `save`.
pub fn save(host: &Host, args: &SaveArgs) -> Result<ExitCode> {
    let format = match args.format {
        SaveFormat::DockerArchive => ArchiveFormat::Docker,
        SaveFormat::OciArchive => ArchiveFormat::Oci,
    };
    match &args.output {
        Some(path) => save_to_file(host, &args.images, format, path)?,
        None => {
            if io::stdout().is_terminal() {
                bail!("cowardly refusing to save to a terminal. Use the -o flag or redirect");
            }
            host.save(
                &args.images,
                format,
                BufWriter::with_capacity(1 << 20, io::stdout().lock()),
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Saves `images` to `path`: written beside it and renamed when complete, so
/// a failed save never leaves a truncated archive under the requested name.
pub(super) fn save_to_file(
    host: &Host,
    images: &[String],
    format: ArchiveFormat,
    path: &std::path::Path,
) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let name = path.file_name().context("output path has no file name")?;
    // A fresh name, created exclusively: never through a planted symlink.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let tmp = dir.join(format!(
        ".{}.{}-{nanos}.strata-partial",
        name.to_string_lossy(),
        std::process::id()
    ));
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .with_context(|| format!("creating {}", tmp.display()))?;
    let result = host
        .save(images, format, BufWriter::with_capacity(1 << 20, &file))
        .map_err(anyhow::Error::from)
        .and_then(|()| Ok(file.sync_all()?))
        .and_then(|()| Ok(fs::rename(&tmp, path)?));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// `load`.
pub fn load(host: &Host, args: &LoadArgs) -> Result<ExitCode> {
    let loaded = match &args.input {
        Some(p) if p.is_dir() => host.load_layout_dir(p)?,
        Some(p) => host.load(File::open(p).with_context(|| format!("opening {}", p.display()))?)?,
        None => {
            if io::stdin().is_terminal() {
                bail!("requested load from stdin, but stdin is a terminal: use -i FILE or pipe an archive in");
            }
            host.load(io::stdin().lock())?
        }
    };
    if !args.quiet {
        let mut out = String::new();
        for image in &loaded {
            if image.names.is_empty() {
                out.push_str(&format!("Loaded image ID: {}\n", image.id));
            }
            for n in &image.names {
                out.push_str(&format!("Loaded image: {}\n", n.familiar()));
            }
        }
        print(&out)?;
    }
    Ok(ExitCode::SUCCESS)
}
