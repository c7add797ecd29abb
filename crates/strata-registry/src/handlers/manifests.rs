//! `GET`/`HEAD`/`PUT`/`DELETE /v2/<name>/manifests/<reference>`.

use strata_distribution::{ManifestRef, RepositoryName};

use super::{read_small, App};
use crate::error::Result;
use crate::http::{Request, Response};
use crate::repo::MANIFEST_MAX;

impl App {
    pub(super) fn manifest(
        &self,
        req: &mut Request<'_>,
        name: &RepositoryName,
        reference: &ManifestRef,
    ) -> Result<Response> {
        match req.method.as_str() {
            "PUT" => {
                let bytes = read_small(req, MANIFEST_MAX)?;
                let content_type = req.header("content-type").map(str::to_owned);
                let (digest, subject) =
                    self.registry
                        .put_manifest(name, reference, content_type.as_deref(), &bytes)?;
                let mut resp = Response::empty(201)
                    .header("Location", format!("/v2/{name}/manifests/{digest}"))
                    .header("Docker-Content-Digest", digest.to_string());
                if let Some(s) = subject {
                    resp = resp.header("OCI-Subject", s.to_string());
                }
                Ok(resp)
            }
            "DELETE" => {
                self.registry.delete_manifest(name, reference)?;
                Ok(Response::empty(202))
            }
            _ => {
                if let Some(proxy) = &self.proxy {
                    proxy.refresh_manifest(&self.registry, name, reference)?;
                }
                let m = self.registry.get_manifest(name, reference)?;
                let len = m.bytes.len() as u64;
                let mut resp = Response::empty(200)
                    .header("Content-Type", m.media_type)
                    .header("Docker-Content-Digest", m.digest.to_string())
                    .header("ETag", format!("\"{}\"", m.digest));
                if req.method == "HEAD" {
                    resp.head_len = Some(len);
                } else {
                    resp = resp.body(m.bytes);
                }
                Ok(resp)
            }
        }
    }
}
