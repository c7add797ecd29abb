//! The content store: blobs by digest, written through an ingest area.
//!
//! Writing goes to a temp file in `ingest/` while the digest and size are computed;
//! [`BlobWriter::commit`] checks them against what the caller expected, fsyncs, and
//! renames into `blobs/<alg>/<hex>`. A blob path therefore only ever holds complete,
//! verified content; readers additionally verify while they read, so a blob damaged
//! on disk later is reported rather than returned.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Write};
use std::path::PathBuf;

use strata_oci::digest::VerifyingReader;
use strata_oci::{Algorithm, Digest, Digester, Verifier};

use crate::error::{Error, Result};
use crate::fsutil::{self, unique_name};
use crate::paths::Paths;

/// The blob half of the store.
#[derive(Debug, Clone)]
pub struct ContentStore {
    paths: Paths,
}

/// What a caller knows about content it is about to write.
#[derive(Debug, Clone, Default)]
pub struct Expected {
    /// The digest the content must have.
    pub digest: Option<Digest>,
    /// The size the content must have.
    pub size: Option<u64>,
}

impl Expected {
    /// Expect exactly this digest and size.
    pub fn exactly(digest: Digest, size: u64) -> Self {
        Expected {
            digest: Some(digest),
            size: Some(size),
        }
    }

    /// Expect this digest, size unknown.
    pub fn digest(digest: Digest) -> Self {
        Expected {
            digest: Some(digest),
            size: None,
        }
    }
}

/// A committed blob: its digest and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    /// The content digest.
    pub digest: Digest,
    /// Bytes.
    pub size: u64,
}

impl ContentStore {
    /// The content store under these paths.
    pub fn new(paths: Paths) -> Self {
        ContentStore { paths }
    }

    /// Starts writing a new blob, hashed with SHA-256.
    pub fn writer(&self) -> Result<BlobWriter> {
        self.writer_for(Algorithm::Sha256)
    }

    /// Starts writing a new blob hashed with `algorithm` (the one its expected
    /// digest uses).
    pub fn writer_for(&self, algorithm: Algorithm) -> Result<BlobWriter> {
        let dir = self.paths.ingest();
        let path = dir.join(unique_name(""));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(Error::io("create", &path))?;
        Ok(BlobWriter {
            file: Some(io::BufWriter::with_capacity(256 * 1024, file)),
            path,
            digester: Digester::new(algorithm),
            size: 0,
            paths: self.paths.clone(),
        })
    }

    /// Writes a whole small blob (manifest, config) at once.
    pub fn put(&self, bytes: &[u8], expected: Expected) -> Result<BlobInfo> {
        // Hashed with the algorithm of the digest it must have (sha256 or sha512).
        let algorithm = expected
            .digest
            .as_ref()
            .map_or(Algorithm::Sha256, Digest::algorithm);
        let mut w = self.writer_for(algorithm)?;
        w.write_all(bytes).map_err(Error::io("write", &w.path))?;
        w.commit(expected)
    }

    /// True when the blob is present.
    pub fn exists(&self, d: &Digest) -> bool {
        self.paths.blob(d).is_file()
    }

    /// The size of a present blob.
    pub fn size(&self, d: &Digest) -> Result<u64> {
        let p = self.paths.blob(d);
        match fs::metadata(&p) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::BlobNotFound(d.clone())),
            Err(e) => Err(Error::io("stat", p)(e)),
        }
    }

    /// Opens a blob for reading; the reader fails at the end if the content on disk
    /// no longer matches its digest.
    pub fn open(&self, d: &Digest) -> Result<VerifyingReader<BufReader<File>>> {
        let p = self.paths.blob(d);
        let f = match File::open(&p) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(Error::BlobNotFound(d.clone()))
            }
            Err(e) => return Err(Error::io("open", p)(e)),
        };
        let size = f.metadata().map_err(Error::io("stat", &p))?.len();
        Ok(VerifyingReader::new(
            BufReader::with_capacity(256 * 1024, f),
            d.clone(),
            Some(size),
        ))
    }

    /// Reads a whole small blob, verified, refusing anything over `limit` bytes.
    pub fn read(&self, d: &Digest, limit: u64, what: &'static str) -> Result<Vec<u8>> {
        let size = self.size(d)?;
        if size > limit {
            return Err(Error::TooLarge {
                digest: d.clone(),
                size,
                limit,
                what,
            });
        }
        let p = self.paths.blob(d);
        let buf = fs::read(&p).map_err(Error::io("read", &p))?;
        let mut v = Verifier::new(d.clone(), Some(size));
        v.update(&buf)
            .and_then(|()| v.verify())
            .map_err(|source| Error::Verify {
                digest: d.to_string(),
                source,
            })?;
        Ok(buf)
    }

    /// Verifies a blob's content against its name; returns its size.
    pub fn verify(&self, d: &Digest) -> Result<u64> {
        let p = self.paths.blob(d);
        let mut f = File::open(&p).map_err(Error::io("open", &p))?;
        let size = f.metadata().map_err(Error::io("stat", &p))?.len();
        let mut v = Verifier::new(d.clone(), Some(size));
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = f.read(&mut buf).map_err(Error::io("read", &p))?;
            if n == 0 {
                break;
            }
            v.update(&buf[..n]).map_err(|source| Error::Verify {
                digest: d.to_string(),
                source,
            })?;
        }
        v.verify().map_err(|source| Error::Verify {
            digest: d.to_string(),
            source,
        })?;
        Ok(size)
    }

    /// Removes a blob (no error if absent). Callers hold the exclusive GC lock.
    pub fn delete(&self, d: &Digest) -> Result<()> {
        let p = self.paths.blob(d);
        match fs::remove_file(&p) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove", p)(e)),
        }
    }

    /// Every blob present, with its size. Files whose names are not digests are
    /// returned in the second list so that `check` can report them.
    pub fn list(&self) -> Result<(Vec<BlobInfo>, Vec<PathBuf>)> {
        let mut blobs = Vec::new();
        let mut strays = Vec::new();
        for alg in [Algorithm::Sha256, Algorithm::Sha512] {
            let dir = self.paths.blobs().join(alg.as_str());
            for entry in fsutil::dir_entries(&dir)? {
                let name = entry.file_name();
                let parsed = name.to_str().and_then(|n| Digest::new(alg, n).ok());
                let meta = entry.metadata().map_err(Error::io("stat", entry.path()))?;
                match parsed {
                    Some(digest) if meta.is_file() => blobs.push(BlobInfo {
                        digest,
                        size: meta.len(),
                    }),
                    _ => strays.push(entry.path()),
                }
            }
        }
        blobs.sort_by(|a, b| a.digest.cmp(&b.digest));
        Ok((blobs, strays))
    }
}

/// A blob being written. Dropping it without [`commit`](BlobWriter::commit) removes
/// the partial file.
#[derive(Debug)]
pub struct BlobWriter {
    file: Option<io::BufWriter<File>>,
    path: PathBuf,
    digester: Digester,
    size: u64,
    paths: Paths,
}

impl BlobWriter {
    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.size
    }

    /// Verifies the content against `expected`, makes it durable and moves it into
    /// place. If the blob already exists the new copy is discarded.
    pub fn commit(mut self, expected: Expected) -> Result<BlobInfo> {
        let digest =
            std::mem::replace(&mut self.digester, Digester::new(Algorithm::Sha256)).finish();
        let size = self.size;
        if let Some(want) = expected.size {
            if want != size {
                return Err(Error::Verify {
                    digest: expected
                        .digest
                        .as_ref()
                        .map_or_else(|| digest.to_string(), ToString::to_string),
                    source: strata_oci::Error::SizeMismatch {
                        digest: digest.to_string(),
                        expected: want,
                        actual: size,
                    },
                });
            }
        }
        if let Some(want) = &expected.digest {
            if *want != digest {
                return Err(Error::Verify {
                    digest: want.to_string(),
                    source: strata_oci::Error::DigestMismatch {
                        expected: want.to_string(),
                        actual: digest.to_string(),
                    },
                });
            }
        }
        let file = self.file.take().ok_or_else(|| {
            Error::io("commit", &self.path)(io::Error::other("already committed"))
        })?;
        let result = self.install(file, &digest);
        if result.is_err() {
            let _ = fs::remove_file(&self.path);
        }
        result?;
        Ok(BlobInfo { digest, size })
    }
}

impl BlobWriter {
    fn install(&self, file: io::BufWriter<File>, digest: &Digest) -> Result<()> {
        let file = file
            .into_inner()
            .map_err(|e| Error::io("write", &self.path)(e.into_error()))?;
        let target = self.paths.blob(digest);
        if target.is_file() {
            drop(file);
            return fs::remove_file(&self.path).map_err(Error::io("remove", &self.path));
        }
        file.sync_all().map_err(Error::io("sync", &self.path))?;
        drop(file);
        let dir = self.paths.blobs().join(digest.algorithm().as_str());
        fs::rename(&self.path, &target).map_err(Error::io("rename", &target))?;
        fsutil::sync_dir(&dir)
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("blob writer already committed"))?;
        let n = file.write(buf)?;
        self.digester.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.file.as_mut() {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Store;

    fn store() -> (strata_testkit::TempDir, Store) {
        let dir = strata_testkit::TempDir::new("content");
        let store = Store::open(dir.path()).unwrap();
        (dir, store)
    }

    #[test]
    fn commit_verifies_and_moves_into_place() {
        let (_d, s) = store();
        let digest = Digest::sha256_of(b"hello");
        let info = s
            .content()
            .put(b"hello", Expected::exactly(digest.clone(), 5))
            .unwrap();
        assert_eq!(info.digest, digest);
        assert!(s.content().exists(&digest));
        let mut out = String::new();
        s.content()
            .open(&digest)
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "hello");
        assert_eq!(fs::read_dir(s.paths().ingest()).unwrap().count(), 0);
    }

    #[test]
    fn commit_refuses_wrong_digest_and_leaves_nothing() {
        let (_d, s) = store();
        let wrong = Digest::sha256_of(b"other");
        assert!(s
            .content()
            .put(b"hello", Expected::digest(wrong.clone()))
            .is_err());
        assert!(s
            .content()
            .put(
                b"hello",
                Expected {
                    digest: None,
                    size: Some(4)
                }
            )
            .is_err());
        assert!(!s.content().exists(&wrong));
        assert!(!s.content().exists(&Digest::sha256_of(b"hello")));
        assert_eq!(fs::read_dir(s.paths().ingest()).unwrap().count(), 0);
    }

    #[test]
    fn partial_writes_are_invisible_and_dropped_writers_clean_up() {
        let (_d, s) = store();
        let mut w = s.content().writer().unwrap();
        w.write_all(b"partial").unwrap();
        assert!(!s.content().exists(&Digest::sha256_of(b"partial")));
        assert_eq!(fs::read_dir(s.paths().ingest()).unwrap().count(), 1);
        drop(w);
        assert_eq!(fs::read_dir(s.paths().ingest()).unwrap().count(), 0);
    }

    #[test]
    fn concurrent_writers_of_the_same_blob_both_succeed() {
        let (_d, s) = store();
        let data = vec![7u8; 3 * 1024 * 1024];
        let digest = Digest::sha256_of(&data);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    let info = s
                        .content()
                        .put(&data, Expected::digest(digest.clone()))
                        .unwrap();
                    assert_eq!(info.size, data.len() as u64);
                });
            }
        });
        assert_eq!(s.content().verify(&digest).unwrap(), data.len() as u64);
    }

    #[test]
    fn readers_detect_corruption_on_disk() {
        let (_d, s) = store();
        let digest = s
            .content()
            .put(b"hello", Expected::default())
            .unwrap()
            .digest;
        fs::write(s.paths().blob(&digest), b"jello").unwrap();
        assert!(s.content().verify(&digest).is_err());
        assert!(s.content().read(&digest, 100, "test").is_err());
        let mut out = Vec::new();
        assert!(s
            .content()
            .open(&digest)
            .unwrap()
            .read_to_end(&mut out)
            .is_err());
    }

    #[test]
    fn read_refuses_oversized_documents() {
        let (_d, s) = store();
        let digest = s
            .content()
            .put(&[b'x'; 100], Expected::default())
            .unwrap()
            .digest;
        assert!(matches!(
            s.content().read(&digest, 10, "a manifest"),
            Err(Error::TooLarge { .. })
        ));
    }
}
