//! Taking a layer in: one streaming pass that stores the bytes, computes the
//! diff_id, checks every entry at the door and (optionally) unpacks it.

use std::io::{self, BufReader, Read, Write};

use strata_oci::digest::DigestReader;
use strata_oci::media_type::LayerCompression;
use strata_oci::{Algorithm, Digest};

use crate::apply::Applier;
use crate::compression::decompressed;
use crate::error::{Error, Result};
use crate::guard::Guard;

/// What one pass over a layer learned.
#[derive(Debug, Clone)]
pub struct LayerStats {
    /// Digest of the uncompressed tar stream.
    pub diff_id: Digest,
    /// Length of the uncompressed tar stream.
    pub size: u64,
    /// The compression the input arrived in.
    pub input_compression: LayerCompression,
}

/// Where checked entries go: only the door check, or the door check and extraction.
pub enum Visit<'a> {
    /// Check every entry at the door; extract nothing.
    Check(Guard),
    /// Check and extract every entry.
    Apply(&'a mut Applier),
}

/// Stores a layer blob exactly as it arrives: `raw` (compressed or not) is copied
/// byte for byte into `sink` while it is decompressed, hashed and visited.
pub fn ingest_raw<R: Read, W: Write>(raw: R, sink: &mut W, visit: Visit<'_>) -> Result<LayerStats> {
    let mut tee = Tee::new(raw, sink);
    let result = (|| {
        let (decoder, kind) = decompressed(BufReader::with_capacity(256 * 1024, &mut tee))
            .map_err(Error::Malformed)?;
        let hashing = DigestReader::new(decoder, Algorithm::Sha256);
        let hashing = visit_entries(hashing, visit)?;
        let (diff_id, size) = drain_hash(hashing)?;
        Ok(LayerStats {
            diff_id,
            size,
            input_compression: kind,
        })
    })();
    let stats = tee.classify(result)?;
    // Whatever follows the compressed stream still belongs to the blob.
    let drained = io::copy(&mut tee, &mut io::sink()).map_err(Error::Malformed);
    tee.classify(drained)?;
    Ok(stats)
}

/// Re-encodes a layer: `input` (compressed or not) is decompressed, hashed and
/// visited, and the uncompressed tar is written to `sink` (a compressor).
pub fn ingest_recompress<R: Read, W: Write>(
    input: R,
    sink: &mut W,
    visit: Visit<'_>,
) -> Result<LayerStats> {
    let (decoder, kind) =
        decompressed(BufReader::with_capacity(256 * 1024, input)).map_err(Error::Malformed)?;
    let hashing = DigestReader::new(decoder, Algorithm::Sha256);
    let mut tee = Tee::new(hashing, sink);
    let result = visit_entries(&mut tee, visit).map(|_| ());
    tee.classify(result)?;
    // The padding after the end-of-archive marker is part of the layer too.
    let drained = io::copy(&mut tee, &mut io::sink()).map_err(Error::Malformed);
    tee.classify(drained)?;
    let (diff_id, size) = drain_hash(tee.inner)?;
    Ok(LayerStats {
        diff_id,
        size,
        input_compression: kind,
    })
}

fn visit_entries<R: Read>(stream: R, visit: Visit<'_>) -> Result<R> {
    let mut archive = tar::Archive::new(stream);
    {
        let entries = archive.entries().map_err(Error::Malformed)?;
        match visit {
            Visit::Check(mut guard) => {
                for entry in entries {
                    guard.check(&entry.map_err(Error::Malformed)?)?;
                }
            }
            Visit::Apply(applier) => {
                for entry in entries {
                    applier.apply(&mut entry.map_err(Error::Malformed)?)?;
                }
            }
        }
    }
    Ok(archive.into_inner())
}

/// Reads what follows the end-of-archive marker (padding) so the hash covers the
/// whole stream, and returns the digest and length.
fn drain_hash<R: Read>(mut hashing: DigestReader<R>) -> Result<(Digest, u64)> {
    io::copy(&mut hashing, &mut io::sink()).map_err(Error::Malformed)?;
    let (_, digest, size) = hashing.finish();
    Ok((digest, size))
}

/// A reader that copies everything it reads into a writer.
struct Tee<'w, R, W> {
    inner: R,
    sink: &'w mut W,
    failed: Option<io::Error>,
}

impl<'w, R: Read, W: Write> Tee<'w, R, W> {
    fn new(inner: R, sink: &'w mut W) -> Self {
        Tee {
            inner,
            sink,
            failed: None,
        }
    }

    /// An error seen while reading may really be the sink's: report that instead.
    fn classify<T>(&mut self, r: Result<T>) -> Result<T> {
        match (r, self.failed.take()) {
            (_, Some(e)) => Err(Error::Write(e)),
            (r, None) => r,
        }
    }
}

impl<R: Read, W: Write> Read for Tee<'_, R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Err(e) = self.sink.write_all(&buf[..n]) {
            let msg = e.to_string();
            self.failed = Some(e);
            return Err(io::Error::other(msg));
        }
        Ok(n)
    }
}
