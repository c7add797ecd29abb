//! `GET`/`HEAD`/`DELETE /v2/<name>/blobs/<digest>`, with `Range`.

use strata_distribution::{ContentRange, ErrorCode, RangeRequest, RepositoryName};
use strata_oci::Digest;

use super::App;
use crate::error::{Error, Result};
use crate::http::{Payload, Request, Response};
use crate::storage::Content;

impl App {
    pub(super) fn blob(
        &self,
        req: &Request<'_>,
        name: &RepositoryName,
        digest: &Digest,
    ) -> Result<Response> {
        if req.method == "DELETE" {
            self.registry.delete_blob(name, digest)?;
            return Ok(Response::empty(202).header("Docker-Content-Digest", digest.to_string()));
        }
        let size = match self.registry.blob_size(name, digest)? {
            Some(size) => size,
            None => {
                if let Some(proxy) = &self.proxy {
                    proxy.fetch_blob(&self.registry, name, digest)?;
                }
                self.registry.blob_size(name, digest)?.ok_or_else(|| {
                    Error::spec(
                        ErrorCode::BlobUnknown,
                        format!("blob {digest} is unknown to {name}"),
                    )
                })?
            }
        };
        // A Range this server does not serve (several ranges, another unit)
        // is ignored, as RFC 9110 allows: the whole blob goes out.
        let range = match req
            .header("range")
            .and_then(|h| h.parse::<RangeRequest>().ok())
        {
            Some(wanted) => match wanted.resolve(size) {
                Ok(r) => Some(r),
                Err(_) => {
                    return Ok(Response::empty(416)
                        .header("Content-Range", ContentRange::unsatisfied(size).to_string()))
                }
            },
            None => None,
        };
        let (start, len) = range.map_or((0, size), |r| (r.start, r.size()));
        let mut resp = Response::empty(if range.is_some() { 206 } else { 200 })
            .header("Content-Type", "application/octet-stream")
            .header("Docker-Content-Digest", digest.to_string())
            .header("Accept-Ranges", "bytes")
            .header("ETag", format!("\"{digest}\""));
        if let Some(r) = range {
            resp = resp.header("Content-Range", ContentRange::new(r, size).to_string());
        }
        if req.method == "HEAD" {
            resp.head_len = Some(len);
            return Ok(resp);
        }
        let (content, _) = self.registry.open_blob(name, digest, start)?;
        resp.payload = match content {
            Content::File(f) => Payload::File(f, len),
            Content::Stream(s) => Payload::Stream(s, len),
        };
        Ok(resp)
    }
}
