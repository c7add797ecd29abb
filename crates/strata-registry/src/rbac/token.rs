//! Bearer tokens: JSON Web Tokens signed with ES256 (ECDSA P-256, SHA-256),
//! carrying Docker's `access` claim.
//!
//! The signing key is a PKCS#8 PEM file made on first use. The header's
//! `kid` is the key's libtrust fingerprint (distribution's format), so a
//! reference registry given a certificate for this key trusts the tokens too.

use std::path::Path;

use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A granted scope: `{"type":"repository","name":"team/app","actions":["pull"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    /// `repository` or `registry`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The repository name, or `catalog`.
    pub name: String,
    /// The actions granted.
    pub actions: Vec<String>,
}

/// A token's claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Subject: the user or robot login name, or empty for anonymous.
    pub sub: String,
    /// Audience: the registry's service name.
    pub aud: String,
    /// Expiry (Unix seconds).
    pub exp: u64,
    /// Not before (Unix seconds).
    pub nbf: u64,
    /// Issued at (Unix seconds).
    pub iat: u64,
    /// Unique id.
    pub jti: String,
    /// What the token grants.
    pub access: Vec<Access>,
    /// The account's stamp when the token was issued (none for anonymous).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamp: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: String,
    #[serde(default)]
    kid: String,
}

/// The signing key.
pub struct Signer {
    pair: EcdsaKeyPair,
    kid: String,
    rng: SystemRandom,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("kid", &self.kid).finish()
    }
}

const PEM_LABEL: &str = "PRIVATE KEY";

fn key_err(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::Config(format!("token key {}: {what}", path.display()))
}

impl Signer {
    /// Loads the key at `path`, creating it (mode 0600) if missing.
    pub fn load_or_create(path: &Path) -> Result<Signer> {
        let rng = SystemRandom::new();
        let der = match std::fs::read_to_string(path) {
            Ok(text) => pem_decode(&text, PEM_LABEL)
                .ok_or_else(|| key_err(path, "not a PEM private key"))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let doc =
                    EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                        .map_err(|_| key_err(path, "could not generate a key"))?;
                write_private(path, pem_encode(doc.as_ref(), PEM_LABEL).as_bytes())?;
                doc.as_ref().to_vec()
            }
            Err(e) => return Err(Error::io("read", path)(e)),
        };
        let pair =
            EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &der, &rng)
                .map_err(|e| key_err(path, format!("not an ECDSA P-256 PKCS#8 key ({e})")))?;
        let kid = libtrust_key_id(pair.public_key().as_ref());
        Ok(Signer { pair, kid, rng })
    }

    /// The key id in token headers.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Signs the claims into a compact JWT.
    pub fn sign(&self, claims: &Claims) -> Result<String> {
        let header = Header {
            alg: "ES256".into(),
            typ: "JWT".into(),
            kid: self.kid.clone(),
        };
        let input = format!(
            "{}.{}",
            B64.encode(to_json(&header)?),
            B64.encode(to_json(claims)?)
        );
        let sig = self
            .pair
            .sign(&self.rng, input.as_bytes())
            .map_err(|_| Error::Internal("signing a token failed".into()))?;
        Ok(format!("{input}.{}", B64.encode(sig.as_ref())))
    }

    /// Checks a JWT's signature and key id and returns its claims. Expiry,
    /// issuer and audience are the caller's to check.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let mut parts = token.split('.');
        let (h, c, s) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let header: Header = serde_json::from_slice(&B64.decode(h).ok()?).ok()?;
        if header.alg != "ES256" || header.kid != self.kid {
            return None;
        }
        let sig = B64.decode(s).ok()?;
        let public = UnparsedPublicKey::new(
            &signature::ECDSA_P256_SHA256_FIXED,
            self.pair.public_key().as_ref(),
        );
        let input_len = h.len() + 1 + c.len();
        public.verify(&token.as_bytes()[..input_len], &sig).ok()?;
        serde_json::from_slice(&B64.decode(c).ok()?).ok()
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| Error::Internal(e.to_string()))
}

/// Writes a new file readable by its owner only, atomically.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(Error::io("create", dir))?;
    }
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(Error::io("create", &tmp))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(Error::io("write", &tmp))?;
    std::fs::rename(&tmp, path).map_err(Error::io("rename", path))
}

fn pem_encode(der: &[u8], label: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn pem_decode(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let body = text.split_once(&begin)?.1.split_once(&end)?.0;
    let b64: String = body.split_whitespace().collect();
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// The DER SubjectPublicKeyInfo prefix of an uncompressed P-256 point.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// libtrust's key id: the first 240 bits of the SHA-256 of the DER public
/// key, in base32, in groups of four joined by `:`.
fn libtrust_key_id(point: &[u8]) -> String {
    let mut spki = P256_SPKI_PREFIX.to_vec();
    spki.extend_from_slice(point);
    let digest = ring::digest::digest(&ring::digest::SHA256, &spki);
    let bytes = &digest.as_ref()[..30];
    let b32 = base32(bytes);
    b32.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

/// RFC 4648 base32 of whole 5-byte groups (no padding needed).
fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    for group in bytes.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..group.len()].copy_from_slice(group);
        let n = buf.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b));
        for i in (0..8).rev() {
            out.push(char::from(ALPHABET[((n >> (i * 5)) & 31) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            iss: "strata".into(),
            sub: "alice".into(),
            aud: "registry".into(),
            exp: 2,
            nbf: 1,
            iat: 1,
            jti: "j".into(),
            access: vec![Access {
                kind: "repository".into(),
                name: "team/app".into(),
                actions: vec!["pull".into()],
            }],
            stamp: Some(7),
        }
    }

    #[test]
    fn tokens_verify_and_tampering_is_refused() {
        let dir = strata_testkit::TempDir::new("token");
        let path = dir.join("token.key");
        let signer = Signer::load_or_create(&path).expect("create");
        let token = signer.sign(&claims()).expect("sign");
        assert_eq!(signer.verify(&token), Some(claims()));
        // The same key after a restart.
        let again = Signer::load_or_create(&path).expect("load");
        assert_eq!(again.kid(), signer.kid());
        assert_eq!(again.verify(&token), Some(claims()));
        // A changed claim, a foreign key, alg none, and junk are refused.
        let (head, rest) = token.split_once('.').expect("parts");
        let (_, sig) = rest.split_once('.').expect("parts");
        let mut forged = claims();
        forged.access[0].actions.push("push".into());
        let body = B64.encode(serde_json::to_vec(&forged).expect("json"));
        assert_eq!(signer.verify(&format!("{head}.{body}.{sig}")), None);
        let other = Signer::load_or_create(&dir.join("other.key")).expect("other");
        assert_eq!(other.verify(&token), None);
        let none = B64.encode(br#"{"alg":"none","kid":""}"#);
        assert_eq!(signer.verify(&format!("{none}.{body}.")), None);
        assert_eq!(signer.verify("a.b"), None);
        assert_eq!(signer.verify(""), None);
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path).expect("stat").permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn key_ids_use_libtrust_format() {
        // 12 groups of 4 base32 characters.
        let id = libtrust_key_id(&[4u8; 65]);
        assert_eq!(id.len(), 59, "{id}");
        assert_eq!(id.split(':').count(), 12);
        assert_eq!(base32(b"fooba"), "MZXW6YTB");
    }
}
