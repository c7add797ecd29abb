//! Manifests: validated on the way in, stored by digest, named by tags,
//! indexed by subject for the referrers API.

use serde::{Deserialize, Serialize};
use strata_distribution::{media, ErrorCode, ManifestRef, RepositoryName};
use strata_oci::{media_type, Descriptor, Digest, Document};

use super::{blob_key, repo_key, Registry};
use crate::error::{Error, Result};

/// The largest manifest accepted (distribution's limit).
pub const MANIFEST_MAX: usize = 4 << 20;

/// A manifest as stored.
#[derive(Debug, Clone)]
pub struct StoredManifest {
    /// Its exact bytes.
    pub bytes: Vec<u8>,
    /// Its media type.
    pub media_type: String,
    /// Its digest.
    pub digest: Digest,
}

/// What a revision link records.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Revision {
    media_type: String,
    size: u64,
}

fn revision_key(name: &RepositoryName, d: &Digest) -> String {
    repo_key(
        name,
        &format!(
            "_manifests/revisions/{}/{}",
            d.algorithm().as_str(),
            d.hex()
        ),
    )
}

fn tag_key(name: &RepositoryName, tag: &str) -> String {
    repo_key(name, &format!("_manifests/tags/{tag}"))
}

fn referrer_key(name: &RepositoryName, subject: &Digest, d: &Digest) -> String {
    repo_key(
        name,
        &format!(
            "_referrers/{}/{}/{}-{}",
            subject.algorithm().as_str(),
            subject.hex(),
            d.algorithm().as_str(),
            d.hex()
        ),
    )
}

fn invalid(message: impl Into<String>) -> Error {
    Error::spec(ErrorCode::ManifestInvalid, message)
}

fn manifest_unknown(name: &RepositoryName, r: &ManifestRef) -> Error {
    Error::spec(
        ErrorCode::ManifestUnknown,
        format!("manifest {name}:{r} is unknown"),
    )
}

/// The media type a manifest is stored under: its `mediaType` field, which a
/// `Content-Type` may not contradict, else the `Content-Type`, else its shape.
fn media_type_of(bytes: &[u8], content_type: Option<&str>) -> Result<String> {
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| invalid(format!("not JSON: {e}")))?;
    if v.get("schemaVersion").and_then(serde_json::Value::as_u64) != Some(2) {
        return Err(invalid("schemaVersion must be 2"));
    }
    let field = v.get("mediaType").and_then(serde_json::Value::as_str);
    let header = content_type
        .map(media::essence)
        .filter(|c| !c.is_empty() && media::is_manifest_media_type(c));
    let chosen = match (field, header) {
        (Some(f), Some(h)) if !f.eq_ignore_ascii_case(h) => {
            return Err(invalid(format!(
                "mediaType {f} differs from Content-Type {h}"
            )))
        }
        (Some(f), _) => f.to_owned(),
        (None, Some(h)) => h.to_owned(),
        (None, None) if v.get("manifests").is_some() => media_type::OCI_INDEX.to_owned(),
        (None, None) => media_type::OCI_MANIFEST.to_owned(),
    };
    if !(media_type::is_manifest(&chosen) || media_type::is_index(&chosen)) {
        return Err(invalid(format!("unsupported manifest media type {chosen}")));
    }
    Ok(chosen)
}

impl Registry {
    /// Validates and stores a manifest under `reference`. Returns its digest
    /// and, when it has one, its subject's digest.
    pub fn put_manifest(
        &self,
        name: &RepositoryName,
        reference: &ManifestRef,
        content_type: Option<&str>,
        bytes: &[u8],
    ) -> Result<(Digest, Option<Digest>)> {
        self.store_manifest(name, reference, content_type, bytes, true)
    }

    /// Stores a manifest; `check_blobs` false skips the check that what it
    /// references is here (a pull-through cache fetches that on demand).
    pub(crate) fn store_manifest(
        &self,
        name: &RepositoryName,
        reference: &ManifestRef,
        content_type: Option<&str>,
        bytes: &[u8],
        check_blobs: bool,
    ) -> Result<(Digest, Option<Digest>)> {
        if bytes.len() > MANIFEST_MAX {
            return Err(Error::spec(
                ErrorCode::SizeInvalid,
                format!(
                    "manifest of {} bytes; the limit is {MANIFEST_MAX}",
                    bytes.len()
                ),
            ));
        }
        let digest = match reference.as_digest() {
            Some(want) => {
                let got = Digest::of(want.algorithm(), bytes);
                if &got != want {
                    return Err(Error::spec(
                        ErrorCode::DigestInvalid,
                        format!("manifest content is {got}, not {want}"),
                    ));
                }
                got
            }
            None => Digest::sha256_of(bytes),
        };
        let media = media_type_of(bytes, content_type)?;
        let doc = Document::parse(bytes, Some(&media)).map_err(|e| invalid(e.to_string()))?;
        let (subject, artifact_type, annotations) = match &doc {
            Document::Manifest(m) => {
                for d in std::iter::once(&m.config).chain(&m.layers) {
                    if d.urls.as_ref().is_some_and(|u| !u.is_empty()) {
                        continue;
                    }
                    // Touched before it is checked: a garbage collection that
                    // moved it aside in between either sees the touch and puts
                    // it back, or the check below fails and the push is refused.
                    self.storage.touch(&blob_key(&d.digest))?;
                    if check_blobs && self.blob_size(name, &d.digest)?.is_none() {
                        return Err(Error::spec(
                            ErrorCode::ManifestBlobUnknown,
                            format!("blob {} is unknown to {name}", d.digest),
                        ));
                    }
                }
                let artifact = m
                    .artifact_type
                    .clone()
                    .or_else(|| Some(m.config.media_type.clone()));
                (m.subject.clone(), artifact, m.annotations.clone())
            }
            Document::Index(i) => {
                for d in &i.manifests {
                    if check_blobs && self.storage.stat(&revision_key(name, &d.digest))?.is_none() {
                        return Err(Error::spec(
                            ErrorCode::ManifestBlobUnknown,
                            format!("manifest {} is unknown to {name}", d.digest),
                        ));
                    }
                }
                (
                    i.subject.clone(),
                    i.artifact_type.clone(),
                    i.annotations.clone(),
                )
            }
        };
        if !self.blob_stored(&digest)? {
            self.storage.put(&blob_key(&digest), bytes)?;
        }
        let revision = Revision {
            media_type: media.clone(),
            size: bytes.len() as u64,
        };
        let revision = serde_json::to_vec(&revision).map_err(|e| Error::Internal(e.to_string()))?;
        self.storage.put(&revision_key(name, &digest), &revision)?;
        if let Some(subject) = &subject {
            let mut d = Descriptor::new(media, digest.clone(), bytes.len() as u64);
            d.artifact_type = artifact_type;
            d.annotations = annotations;
            let entry = serde_json::to_vec(&d).map_err(|e| Error::Internal(e.to_string()))?;
            self.storage
                .put(&referrer_key(name, &subject.digest, &digest), &entry)?;
        }
        if let Some(tag) = reference.as_tag() {
            self.storage
                .put(&tag_key(name, tag), digest.to_string().as_bytes())?;
        }
        Ok((digest, subject.map(|s| s.digest)))
    }

    /// The digest `reference` names in `name`, if any.
    pub fn resolve(
        &self,
        name: &RepositoryName,
        reference: &ManifestRef,
    ) -> Result<Option<Digest>> {
        let digest = match reference {
            ManifestRef::Digest(d) => d.clone(),
            ManifestRef::Tag(t) => match self.storage.get(&tag_key(name, t)) {
                Ok(text) => String::from_utf8_lossy(&text)
                    .trim()
                    .parse()
                    .map_err(|_| Error::Internal(format!("tag {name}:{t} holds no digest")))?,
                Err(Error::NotFound(_)) => return Ok(None),
                Err(e) => return Err(e),
            },
        };
        Ok(self
            .storage
            .stat(&revision_key(name, &digest))?
            .map(|_| digest))
    }

    /// A manifest by tag or digest.
    pub fn get_manifest(
        &self,
        name: &RepositoryName,
        reference: &ManifestRef,
    ) -> Result<StoredManifest> {
        let digest = self
            .resolve(name, reference)?
            .ok_or_else(|| manifest_unknown(name, reference))?;
        let revision: Revision =
            serde_json::from_slice(&self.storage.get(&revision_key(name, &digest))?)
                .map_err(|e| Error::Internal(format!("revision {digest} of {name}: {e}")))?;
        let bytes = self.storage.get(&blob_key(&digest)).map_err(|e| match e {
            Error::NotFound(_) => manifest_unknown(name, reference),
            e => e,
        })?;
        Ok(StoredManifest {
            bytes,
            media_type: revision.media_type,
            digest,
        })
    }

    /// Deletes a tag, or a manifest (by digest) with every tag pointing at it.
    pub fn delete_manifest(&self, name: &RepositoryName, reference: &ManifestRef) -> Result<()> {
        self.check_delete()?;
        let digest = self
            .resolve(name, reference)?
            .ok_or_else(|| manifest_unknown(name, reference))?;
        if let ManifestRef::Tag(t) = reference {
            return self.storage.delete(&tag_key(name, t));
        }
        for tag in self.tags(name).unwrap_or_default() {
            if self.resolve(name, &ManifestRef::Tag(tag.clone()))?.as_ref() == Some(&digest) {
                self.storage.delete(&tag_key(name, &tag))?;
            }
        }
        // Its referrer entry, if it had a subject.
        if let Ok(StoredManifest {
            bytes, media_type, ..
        }) = self.get_manifest(name, reference)
        {
            if let Ok(doc) = Document::parse(&bytes, Some(&media_type)) {
                let subject = match doc {
                    Document::Manifest(m) => m.subject,
                    Document::Index(i) => i.subject,
                };
                if let Some(s) = subject {
                    self.storage
                        .delete(&referrer_key(name, &s.digest, &digest))?;
                }
            }
        }
        self.storage.delete(&revision_key(name, &digest))
    }

    /// The repository's tags, sorted; `NAME_UNKNOWN` when it has no manifests.
    pub fn tags(&self, name: &RepositoryName) -> Result<Vec<String>> {
        if self.storage.list(&repo_key(name, "_manifests"))?.is_empty() {
            return Err(Error::spec(
                ErrorCode::NameUnknown,
                format!("repository {name} is unknown"),
            ));
        }
        self.storage.list(&repo_key(name, "_manifests/tags"))
    }

    /// Every manifest digest of the repository.
    pub fn revisions(&self, name: &RepositoryName) -> Result<Vec<Digest>> {
        let mut out = Vec::new();
        for algo in self.storage.list(&repo_key(name, "_manifests/revisions"))? {
            for hex in self
                .storage
                .list(&repo_key(name, &format!("_manifests/revisions/{algo}")))?
            {
                if let Ok(d) = format!("{algo}:{hex}").parse() {
                    out.push(d);
                }
            }
        }
        Ok(out)
    }

    /// The descriptors of the manifests whose subject is `subject`, optionally
    /// only those of `artifact_type`.
    pub fn referrers(
        &self,
        name: &RepositoryName,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>> {
        let dir = repo_key(
            name,
            &format!(
                "_referrers/{}/{}",
                subject.algorithm().as_str(),
                subject.hex()
            ),
        );
        let mut out = Vec::new();
        for entry in self.storage.list(&dir)? {
            let bytes = self.storage.get(&format!("{dir}/{entry}"))?;
            let d: Descriptor = serde_json::from_slice(&bytes)
                .map_err(|e| Error::Internal(format!("referrer {entry} of {subject}: {e}")))?;
            // A manifest deleted since is no referrer any more.
            if self.storage.stat(&revision_key(name, &d.digest))?.is_none() {
                continue;
            }
            if artifact_type.is_none_or(|t| d.artifact_type.as_deref() == Some(t)) {
                out.push(d);
            }
        }
        Ok(out)
    }
}
