//! Manifests and listings: get, head and put manifests with media-type
//! negotiation; tags and the catalog with `Link` paging; referrers with the
//! tag-schema fallback.

use strata_distribution::{Actions, Catalog, Link, ManifestRef, RepositoryName, Scope, TagList};
use strata_oci::{media_type, Descriptor, Digest, Document, ImageIndex};

use crate::client::{expect, header, read_body, Client, Payload, Request};
use crate::error::{Error, Result};

/// What a pull accepts: OCI and Docker schema 2 manifests and indexes.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// Most entries a tag list or catalog may have.
const LIST_MAX: usize = 1_000_000;

/// The largest manifest accepted (distribution's own limit).
const MANIFEST_MAX: u64 = 4 << 20;

/// A manifest as the registry served it.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The exact bytes (their digest is the manifest's digest).
    pub bytes: Vec<u8>,
    /// Its media type (from `Content-Type`, else from the document).
    pub media_type: String,
    /// The digest of `bytes`.
    pub digest: Digest,
}

impl Manifest {
    /// A descriptor of this manifest.
    pub fn descriptor(&self) -> Descriptor {
        Descriptor::new(
            self.media_type.clone(),
            self.digest.clone(),
            self.bytes.len() as u64,
        )
    }

    /// The parsed document.
    pub fn document(&self) -> Result<Document> {
        Ok(Document::parse(&self.bytes, Some(&self.media_type))?)
    }
}

fn pull_scope(repo: &RepositoryName) -> Vec<Scope> {
    vec![Scope::repository(repo, Actions::pull())]
}

/// The media type a manifest declares in its `mediaType` field.
fn declared_media_type(bytes: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    v.get("mediaType")?.as_str().map(str::to_owned)
}

impl Client {
    /// Fetches a manifest by tag or digest. A manifest fetched by digest must
    /// hash to it.
    pub fn get_manifest(&self, repo: &RepositoryName, reference: &ManifestRef) -> Result<Manifest> {
        let what = format!("pull {}/{repo}:{reference}", self.domain());
        let what = what.replace(":sha256:", "@sha256:");
        let resp = self.send(
            Request {
                method: "GET",
                target: format!("/v2/{repo}/manifests/{reference}"),
                scopes: pull_scope(repo),
                headers: vec![("Accept", MANIFEST_ACCEPT.to_owned())],
                what: what.clone(),
            },
            Payload::None,
        )?;
        let resp = expect(resp, &[200], &what)?;
        let content_type = header(&resp, "content-type")
            .map(|c| strata_distribution::media::essence(c).to_owned());
        let bytes = read_body(resp, MANIFEST_MAX, &what)?;
        let media_type = match content_type {
            Some(c) if media_type::is_manifest(&c) || media_type::is_index(&c) => c,
            _ => declared_media_type(&bytes).unwrap_or_else(|| media_type::OCI_MANIFEST.to_owned()),
        };
        let digest = match reference.as_digest() {
            Some(want) => {
                let got = Digest::of(want.algorithm(), &bytes);
                if &got != want {
                    return Err(Error::DigestMismatch {
                        what,
                        expected: want.clone(),
                        actual: got,
                    });
                }
                got
            }
            None => Digest::sha256_of(&bytes),
        };
        Ok(Manifest {
            bytes,
            media_type,
            digest,
        })
    }

    /// The descriptor of a manifest (`HEAD`), or `None` when there is none.
    pub fn head_manifest(
        &self,
        repo: &RepositoryName,
        reference: &ManifestRef,
    ) -> Result<Option<Descriptor>> {
        let what = format!("check {}/{repo}:{reference}", self.domain());
        let resp = self.send(
            Request {
                method: "HEAD",
                target: format!("/v2/{repo}/manifests/{reference}"),
                scopes: pull_scope(repo),
                headers: vec![("Accept", MANIFEST_ACCEPT.to_owned())],
                what: what.clone(),
            },
            Payload::None,
        )?;
        if resp.status().as_u16() == 404 {
            return Ok(None);
        }
        let resp = expect(resp, &[200], &what)?;
        let digest = header(&resp, "docker-content-digest")
            .ok_or_else(|| Error::protocol(&what, "no Docker-Content-Digest"))?
            .parse::<Digest>()?;
        let size = header(&resp, "content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let media = header(&resp, "content-type")
            .map(|c| strata_distribution::media::essence(c).to_owned())
            .unwrap_or_default();
        Ok(Some(Descriptor::new(media, digest, size)))
    }

    /// Puts a manifest under `reference` (a tag, or its own digest).
    /// Returns the manifest's digest.
    pub fn put_manifest(
        &self,
        repo: &RepositoryName,
        reference: &ManifestRef,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Digest> {
        let what = format!("push manifest {}/{repo}:{reference}", self.domain());
        let resp = self.send(
            Request {
                method: "PUT",
                target: format!("/v2/{repo}/manifests/{reference}"),
                scopes: vec![Scope::repository(repo, Actions::pull_push())],
                headers: vec![("Content-Type", media_type.to_owned())],
                what: what.clone(),
            },
            Payload::Bytes(bytes),
        )?;
        expect(resp, &[201], &what)?;
        Ok(Digest::sha256_of(bytes))
    }

    /// Follows `Link` pages from `first`, collecting what `items` takes from each body.
    fn paged(
        &self,
        first: String,
        scopes: Vec<Scope>,
        what: &str,
        mut items: impl FnMut(&[u8]) -> Result<usize>,
    ) -> Result<()> {
        let mut next = Some(first);
        let mut seen = std::collections::HashSet::new();
        let mut total = 0usize;
        while let Some(target) = next.take() {
            // A page pointing back at one already read would loop forever.
            if !seen.insert(target.clone()) || seen.len() > 10_000 {
                return Err(Error::protocol(
                    what,
                    "the registry's pages loop or never end",
                ));
            }
            let resp = self.send(
                Request {
                    method: "GET",
                    target,
                    scopes: scopes.clone(),
                    headers: Vec::new(),
                    what: what.to_owned(),
                },
                Payload::None,
            )?;
            let resp = expect(resp, &[200], what)?;
            next = match header(&resp, "link") {
                Some(l) => Link::next_target(l)?,
                None => None,
            };
            let body = read_body(resp, 16 << 20, what)?;
            let n = items(&body)?;
            total += n;
            if total > LIST_MAX {
                return Err(Error::protocol(
                    what,
                    format!("more than {LIST_MAX} entries"),
                ));
            }
            if n == 0 {
                break;
            }
        }
        Ok(())
    }

    /// Every tag of `repo`, following `Link` pages.
    pub fn tags(&self, repo: &RepositoryName) -> Result<Vec<String>> {
        let what = format!("list tags of {}/{repo}", self.domain());
        let mut out = Vec::new();
        self.paged(
            format!("/v2/{repo}/tags/list"),
            pull_scope(repo),
            &what,
            |body| {
                let page: TagList = serde_json::from_slice(body)
                    .map_err(|e| Error::protocol(&what, e.to_string()))?;
                out.extend(page.tags.iter().cloned());
                Ok(page.tags.len())
            },
        )?;
        Ok(out)
    }

    /// Every repository of the registry (`_catalog`), following `Link` pages.
    pub fn catalog(&self) -> Result<Vec<String>> {
        let what = format!("list repositories of {}", self.domain());
        let mut out = Vec::new();
        self.paged(
            "/v2/_catalog".into(),
            vec![Scope::catalog()],
            &what,
            |body| {
                let page: Catalog = serde_json::from_slice(body)
                    .map_err(|e| Error::protocol(&what, e.to_string()))?;
                out.extend(page.repositories.iter().cloned());
                Ok(page.repositories.len())
            },
        )?;
        Ok(out)
    }

    /// The manifests that refer to `digest` (signatures, SBOMs), from the
    /// referrers API, or from the `sha256-<hex>` tag where a registry lacks it.
    pub fn referrers(
        &self,
        repo: &RepositoryName,
        digest: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Descriptor>> {
        let what = format!("list referrers of {}/{repo}@{digest}", self.domain());
        let mut target = format!("/v2/{repo}/referrers/{digest}");
        if let Some(t) = artifact_type {
            target = format!(
                "{target}?artifactType={}",
                strata_distribution::query::encode(t)
            );
        }
        let resp = self.send(
            Request {
                method: "GET",
                target,
                scopes: pull_scope(repo),
                headers: vec![("Accept", media_type::OCI_INDEX.to_owned())],
                what: what.clone(),
            },
            Payload::None,
        )?;
        let (index, filtered) = if resp.status().as_u16() == 404 {
            drop(resp);
            let tag = ManifestRef::tag(&strata_distribution::name::referrers_tag(digest))?;
            match self.get_manifest(repo, &tag) {
                Ok(m) => (m.bytes, false),
                Err(e) if e.kind() == strata_oci::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(e),
            }
        } else {
            let resp = expect(resp, &[200], &what)?;
            let filtered =
                header(&resp, "oci-filters-applied").is_some_and(|f| f.contains("artifactType"));
            (read_body(resp, MANIFEST_MAX, &what)?, filtered)
        };
        let index: ImageIndex =
            serde_json::from_slice(&index).map_err(|e| Error::protocol(&what, e.to_string()))?;
        Ok(index
            .manifests
            .into_iter()
            .filter(|d| {
                filtered || artifact_type.is_none_or(|t| d.artifact_type.as_deref() == Some(t))
            })
            .collect())
    }
}
