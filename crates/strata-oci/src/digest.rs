//! Content digests (`sha256:<hex>`), streaming hashers and verifiers.
//!
//! A [`Digest`] is validated on construction and round-trips exactly through
//! `FromStr`/`Display` and serde. [`Digester`] hashes a stream; [`Verifier`]
//! checks a stream against an expected digest and size. The reader/writer
//! adapters wrap any `Read`/`Write` so callers hash while they copy, in one pass.

use std::fmt;
use std::io::{self, Read, Write};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Digest as _;

use crate::error::{Error, Result};

/// A digest algorithm registered by the OCI image spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// SHA-256, the default everywhere.
    Sha256,
    /// SHA-512.
    Sha512,
}

impl Algorithm {
    /// The name used in digest strings and blob paths (`sha256`).
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// Length of the hex encoding.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated content digest: `algorithm:lowercase-hex`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

impl Digest {
    /// Builds a digest from an algorithm and a hex string, validating both.
    pub fn new(algorithm: Algorithm, hex: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidDigest {
            input: format!("{algorithm}:{hex}"),
            reason,
        };
        if hex.len() != algorithm.hex_len() {
            return Err(invalid("wrong length for the algorithm"));
        }
        if !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(invalid("not lowercase hexadecimal"));
        }
        Ok(Digest {
            algorithm,
            hex: hex.to_owned(),
        })
    }

    /// The SHA-256 digest of `data`.
    pub fn sha256_of(data: &[u8]) -> Self {
        Digest::of(Algorithm::Sha256, data)
    }

    /// The digest of `data` with `algorithm`.
    pub fn of(algorithm: Algorithm, data: &[u8]) -> Self {
        let mut d = Digester::new(algorithm);
        d.update(data);
        d.finish()
    }

    /// The algorithm part.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The hex part (the "encoded" portion in OCI terms).
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The first 12 hex characters, as Docker shows short image IDs.
    pub fn short(&self) -> &str {
        &self.hex[..12]
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl FromStr for Digest {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let (alg, hex) = s.split_once(':').ok_or_else(|| Error::InvalidDigest {
            input: s.to_owned(),
            reason: "missing algorithm prefix",
        })?;
        let algorithm = match alg {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            _ => {
                return Err(Error::InvalidDigest {
                    input: s.to_owned(),
                    reason: "unsupported algorithm",
                })
            }
        };
        Digest::new(algorithm, hex).map_err(|e| match e {
            Error::InvalidDigest { reason, .. } => Error::InvalidDigest {
                input: s.to_owned(),
                reason,
            },
            other => other,
        })
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A running hash for one algorithm.
#[derive(Clone)]
pub enum Digester {
    /// SHA-256 state.
    Sha256(sha2::Sha256),
    /// SHA-512 state.
    Sha512(sha2::Sha512),
}

impl Digester {
    /// A fresh hasher.
    pub fn new(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Sha256 => Digester::Sha256(sha2::Sha256::new()),
            Algorithm::Sha512 => Digester::Sha512(sha2::Sha512::new()),
        }
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Digester::Sha256(h) => h.update(data),
            Digester::Sha512(h) => h.update(data),
        }
    }

    /// The digest of everything fed so far.
    pub fn finish(self) -> Digest {
        let (algorithm, bytes): (Algorithm, Vec<u8>) = match self {
            Digester::Sha256(h) => (Algorithm::Sha256, h.finalize().to_vec()),
            Digester::Sha512(h) => (Algorithm::Sha512, h.finalize().to_vec()),
        };
        Digest {
            algorithm,
            hex: to_hex(&bytes),
        }
    }
}

impl fmt::Debug for Digester {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Digester")
    }
}

/// Lowercase hex encoding.
pub fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 0xf)] as char);
    }
    s
}

/// Checks a stream of bytes against an expected digest and, optionally, size.
#[derive(Debug)]
pub struct Verifier {
    expected: Digest,
    size: Option<u64>,
    seen: u64,
    digester: Digester,
}

impl Verifier {
    /// Expects content with this digest and, when given, this exact size.
    pub fn new(expected: Digest, size: Option<u64>) -> Self {
        let digester = Digester::new(expected.algorithm());
        Verifier {
            expected,
            size,
            seen: 0,
            digester,
        }
    }

    /// Feeds bytes; fails early once more bytes than declared arrive.
    pub fn update(&mut self, data: &[u8]) -> Result<()> {
        self.seen += data.len() as u64;
        if let Some(size) = self.size {
            if self.seen > size {
                return Err(self.size_error());
            }
        }
        self.digester.update(data);
        Ok(())
    }

    /// Bytes seen so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    fn size_error(&self) -> Error {
        Error::SizeMismatch {
            digest: self.expected.to_string(),
            expected: self.size.unwrap_or(0),
            actual: self.seen,
        }
    }

    /// Succeeds when the bytes seen have the expected size and digest.
    pub fn verify(self) -> Result<()> {
        if let Some(size) = self.size {
            if self.seen != size {
                return Err(self.size_error());
            }
        }
        let actual = self.digester.finish();
        if actual != self.expected {
            return Err(Error::DigestMismatch {
                expected: self.expected.to_string(),
                actual: actual.to_string(),
            });
        }
        Ok(())
    }
}

/// A reader that hashes and counts what passes through it.
#[derive(Debug)]
pub struct DigestReader<R> {
    inner: R,
    digester: Digester,
    count: u64,
}

impl<R: Read> DigestReader<R> {
    /// Wraps `inner`, hashing with `algorithm`.
    pub fn new(inner: R, algorithm: Algorithm) -> Self {
        DigestReader {
            inner,
            digester: Digester::new(algorithm),
            count: 0,
        }
    }

    /// Bytes read so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The reader back with the digest and count of everything read.
    pub fn finish(self) -> (R, Digest, u64) {
        (self.inner, self.digester.finish(), self.count)
    }
}

impl<R: Read> Read for DigestReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digester.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// A writer that hashes and counts what passes through it.
#[derive(Debug)]
pub struct DigestWriter<W> {
    inner: W,
    digester: Digester,
    count: u64,
}

impl<W: Write> DigestWriter<W> {
    /// Wraps `inner`, hashing with `algorithm`.
    pub fn new(inner: W, algorithm: Algorithm) -> Self {
        DigestWriter {
            inner,
            digester: Digester::new(algorithm),
            count: 0,
        }
    }

    /// Bytes written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The inner writer, for callers that need to reach it mid-stream.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The writer back with the digest and count of everything written.
    pub fn finish(self) -> (W, Digest, u64) {
        (self.inner, self.digester.finish(), self.count)
    }
}

impl<W: Write> Write for DigestWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.digester.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that fails at end of stream unless the content matched the expected digest and size.
///
/// Readers of the store use it so that a corrupt blob is never returned as valid data.
#[derive(Debug)]
pub struct VerifyingReader<R> {
    inner: R,
    verifier: Option<Verifier>,
}

impl<R: Read> VerifyingReader<R> {
    /// Wraps `inner`; the last `read` returns an error if the content is not `expected`.
    pub fn new(inner: R, expected: Digest, size: Option<u64>) -> Self {
        VerifyingReader {
            inner,
            verifier: Some(Verifier::new(expected, size)),
        }
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let invalid = |e: Error| io::Error::new(io::ErrorKind::InvalidData, e);
        if n == 0 {
            if !buf.is_empty() {
                if let Some(v) = self.verifier.take() {
                    v.verify().map_err(invalid)?;
                }
            }
        } else if let Some(v) = self.verifier.as_mut() {
            v.update(&buf[..n]).map_err(invalid)?;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn empty_input_has_the_well_known_digest() {
        assert_eq!(Digest::sha256_of(b"").to_string(), EMPTY);
    }

    #[test]
    fn parse_round_trips() {
        let d: Digest = EMPTY.parse().unwrap();
        assert_eq!(d.to_string(), EMPTY);
        assert_eq!(d.short(), "e3b0c44298fc");
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, format!("\"{EMPTY}\""));
        let back: Digest = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn parse_refuses_bad_digests() {
        for bad in [
            "e3b0c44298fc",
            "sha256:abc",
            "md5:e3b0c44298fc1c149afbf4c8996fb924",
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "sha256:../../../../etc/passwd0000000000000000000000000000000000000000",
        ] {
            assert!(bad.parse::<Digest>().is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn sha512_is_supported() {
        let mut d = Digester::new(Algorithm::Sha512);
        d.update(b"abc");
        let digest = d.finish();
        assert_eq!(digest.hex().len(), 128);
        assert!(digest.hex().starts_with("ddaf35a193617aba"));
        assert_eq!(digest.to_string().parse::<Digest>().unwrap(), digest);
    }

    #[test]
    fn verifier_catches_size_and_digest_mismatch() {
        let good = Digest::sha256_of(b"hello");
        let mut v = Verifier::new(good.clone(), Some(5));
        v.update(b"hello").unwrap();
        v.verify().unwrap();

        let mut v = Verifier::new(good.clone(), Some(5));
        assert!(v.update(b"hello!").is_err());

        let mut v = Verifier::new(good, None);
        v.update(b"hellO").unwrap();
        assert!(matches!(v.verify(), Err(Error::DigestMismatch { .. })));
    }

    #[test]
    fn verifying_reader_fails_at_eof_on_corruption() {
        let good = Digest::sha256_of(b"hello");
        let mut out = Vec::new();
        VerifyingReader::new(&b"hello"[..], good.clone(), Some(5))
            .read_to_end(&mut out)
            .unwrap();
        let err = VerifyingReader::new(&b"jello"[..], good, Some(5))
            .read_to_end(&mut out)
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn digest_adapters_hash_what_passes() {
        let mut r = DigestReader::new(&b"hello"[..], Algorithm::Sha256);
        io::copy(&mut r, &mut io::sink()).unwrap();
        let (_, d, n) = r.finish();
        assert_eq!((d, n), (Digest::sha256_of(b"hello"), 5));

        let mut w = DigestWriter::new(Vec::new(), Algorithm::Sha256);
        w.write_all(b"hello").unwrap();
        let (buf, d, n) = w.finish();
        assert_eq!(
            (buf.as_slice(), d, n),
            (&b"hello"[..], Digest::sha256_of(b"hello"), 5)
        );
    }
}
