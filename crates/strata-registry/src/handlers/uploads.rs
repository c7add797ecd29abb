//! Upload sessions: `POST /v2/<name>/blobs/uploads/` (plain, monolithic with
//! `digest`, or a cross-repository `mount`), and `GET`/`PATCH`/`PUT`/`DELETE`
//! of `/v2/<name>/blobs/uploads/<id>`.

use std::sync::atomic::Ordering;

use strata_distribution::{ByteRange, ErrorCode, RepositoryName, UploadProgress};
use strata_oci::Digest;

use super::{query_value, App};
use crate::error::{Error, Result};
use crate::http::{Request, Response};
use crate::rbac::grant::Caller;
use crate::rbac::Perms;

fn session_response(status: u16, name: &RepositoryName, id: &str, size: u64) -> Response {
    Response::empty(status)
        .header("Location", format!("/v2/{name}/blobs/uploads/{id}"))
        .header("Range", UploadProgress { received: size }.to_string())
        .header("Docker-Upload-UUID", id)
}

fn created(name: &RepositoryName, digest: &Digest) -> Response {
    Response::empty(201)
        .header("Location", format!("/v2/{name}/blobs/{digest}"))
        .header("Docker-Content-Digest", digest.to_string())
}

fn digest_param(req: &Request<'_>) -> Result<Option<Digest>> {
    match query_value(req, "digest")? {
        Some(d) => Ok(Some(strata_distribution::name::parse_digest(&d)?)),
        None => Ok(None),
    }
}

impl App {
    pub(super) fn upload_start(
        &self,
        req: &mut Request<'_>,
        name: &RepositoryName,
        caller: Option<&Caller>,
    ) -> Result<Response> {
        if let (Some(mount), Some(from)) = (query_value(req, "mount")?, query_value(req, "from")?) {
            let digest = strata_distribution::name::parse_digest(&mount)?;
            // An invalid `from`, or one the caller may not pull from, is no
            // mount: a plain upload starts instead, as the spec allows.
            if let Ok(from) = RepositoryName::new(&from) {
                let may_read = match (&self.rbac, caller) {
                    (Some(rbac), Some(c)) => c.may(rbac, from.as_ref(), Perms::PULL)?,
                    _ => true,
                };
                if may_read && self.registry.mount_blob(name, &from, &digest)? {
                    return Ok(created(name, &digest));
                }
            }
        }
        let id = self.registry.start_upload(name)?;
        self.metrics.uploads_started.fetch_add(1, Ordering::Relaxed);
        if let Some(digest) = digest_param(req)? {
            let finished = self
                .registry
                .finish_upload(name, &id, &digest, &mut req.body);
            self.metrics.uploads_ended.fetch_add(1, Ordering::Relaxed);
            if finished.is_err() {
                let _ = self.registry.cancel_upload(name, &id);
            }
            finished?;
            return Ok(created(name, &digest));
        }
        Ok(session_response(202, name, &id, 0))
    }

    pub(super) fn upload(
        &self,
        req: &mut Request<'_>,
        name: &RepositoryName,
        id: &str,
    ) -> Result<Response> {
        match req.method.as_str() {
            "GET" => {
                let status = self.registry.upload_status(name, id)?;
                Ok(session_response(204, name, id, status.size))
            }
            "PATCH" => {
                let start = match req.header("content-range") {
                    Some(h) => {
                        let range: ByteRange = h.parse().map_err(|_| {
                            Error::spec(ErrorCode::RangeInvalid, format!("bad Content-Range {h:?}"))
                        })?;
                        if let Some(len) = req.body.declared_len() {
                            if len != range.size() {
                                return Err(Error::spec(
                                    ErrorCode::RangeInvalid,
                                    format!(
                                        "Content-Range {h} does not match Content-Length {len}"
                                    ),
                                ));
                            }
                        }
                        Some(range.start)
                    }
                    None => None,
                };
                let status = self
                    .registry
                    .append_upload(name, id, start, &mut req.body)?;
                Ok(session_response(202, name, id, status.size))
            }
            "PUT" => {
                let digest = digest_param(req)?
                    .ok_or_else(|| Error::spec(ErrorCode::DigestInvalid, "PUT needs ?digest="))?;
                self.registry
                    .finish_upload(name, id, &digest, &mut req.body)?;
                self.metrics.uploads_ended.fetch_add(1, Ordering::Relaxed);
                Ok(created(name, &digest))
            }
            _ => {
                self.registry.cancel_upload(name, id)?;
                self.metrics.uploads_ended.fetch_add(1, Ordering::Relaxed);
                Ok(Response::empty(204))
            }
        }
    }
}
