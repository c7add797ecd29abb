//! From requests to repository operations: routing, authentication, spec
//! error bodies, the access log and metrics.

mod access;
pub mod api;
mod blobs;
mod manifests;
mod token;
mod uploads;

use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

use strata_distribution::{Catalog, ErrorBody, ErrorCode, ErrorEntry, Pagination, Route, TagList};

use crate::auth::Htpasswd;
use crate::error::{Error, Result};
use crate::http::{Handler, Request, Response};
use crate::metrics::Metrics;
use crate::rbac::grant::Caller;
use crate::repo::Registry;

/// The registry's request handler.
pub struct App {
    /// The repositories.
    pub registry: Registry,
    /// Basic authentication, when configured.
    pub htpasswd: Option<Htpasswd>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// The upstream of a pull-through cache.
    pub proxy: Option<crate::proxy::Upstream>,
    /// Accounts, projects and the token service (`--rbac`).
    pub rbac: Option<Arc<crate::rbac::Rbac>>,
}

/// The realm of the Basic challenge.
const REALM: &str = "strata-registry";

/// The `WWW-Authenticate` value asking for Basic credentials.
pub(crate) fn basic_challenge() -> String {
    strata_distribution::Challenge::basic(REALM).to_string()
}

/// The spec's error body for `e`, with the code's status.
pub(crate) fn error_response(e: &Error) -> Response {
    let (code, message) = match e {
        Error::Spec { code, message } => (code.clone(), message.clone()),
        Error::Wire(w) => match w.code() {
            Some(code) => (code, w.to_string()),
            None => (ErrorCode::Unknown, w.to_string()),
        },
        Error::NotFound(_) => (ErrorCode::NameUnknown, "not found".to_owned()),
        other => {
            tracing::error!(error = %other, "request failed");
            (ErrorCode::Unknown, "internal error".to_owned())
        }
    };
    let body = ErrorBody::single(ErrorEntry::new(code).with_message(message));
    Response::json(body.status(), body.to_vec())
}

/// Reads a small body whole, refusing more than `limit` bytes.
pub(crate) fn read_small(req: &mut Request<'_>, limit: usize) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    (&mut req.body)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| {
            Error::spec(
                ErrorCode::BlobUploadInvalid,
                format!("reading the body: {e}"),
            )
        })?;
    if out.len() > limit {
        return Err(Error::spec(
            ErrorCode::SizeInvalid,
            format!("body larger than {limit} bytes"),
        ));
    }
    Ok(out)
}

fn query_value(req: &Request<'_>, key: &str) -> Result<Option<String>> {
    Ok(strata_distribution::query::query_value(&req.query, key)?)
}

impl App {
    fn route(&self, req: &mut Request<'_>) -> Result<Response> {
        if req.path == "/healthz" {
            return Ok(Response::empty(200).body(b"ok\n".to_vec()));
        }
        if let Some(rbac) = &self.rbac {
            if req.path == "/token" {
                return self.token(rbac, req);
            }
            if req.path == "/api/v1" || req.path.starts_with("/api/v1/") {
                return Ok(self.api(rbac, req));
            }
            if req.path == "/metrics" {
                let admin = rbac.login(req.header("authorization"), &req.remote)?;
                if !admin.is_ok_and(|p| p.is_admin()) {
                    let e = Error::spec(ErrorCode::Unauthorized, "metrics are for system admins");
                    return Ok(error_response(&e).header("WWW-Authenticate", basic_challenge()));
                }
            }
        } else if let Some(h) = &self.htpasswd {
            if h.check(req.header("authorization")).is_none() {
                let e = Error::spec(ErrorCode::Unauthorized, "authentication required");
                return Ok(error_response(&e).header("WWW-Authenticate", basic_challenge()));
            }
        }
        if req.path == "/metrics" {
            return Ok(Response::empty(200)
                .header("Content-Type", "text/plain; version=0.0.4")
                .body(self.metrics.render().into_bytes()));
        }
        let route = match Route::parse(&req.path) {
            Ok(r) => r,
            // A tag no manifest can have: unknown, as the conformance suite expects.
            Err(strata_distribution::Error::InvalidTag { .. })
                if req.path.contains("/manifests/")
                    && matches!(req.method.as_str(), "GET" | "HEAD") =>
            {
                return Err(Error::spec(
                    ErrorCode::ManifestUnknown,
                    "no manifest has that tag",
                ));
            }
            Err(strata_distribution::Error::UnknownRoute { .. }) => {
                return Ok(Response::json(
                    404,
                    b"{\"errors\":[{\"code\":\"NOT_FOUND\",\"message\":\"no such endpoint\"}]}"
                        .to_vec(),
                ))
            }
            Err(e) => return Err(e.into()),
        };
        if !route.methods().iter().any(|m| *m == req.method) {
            let e = Error::spec(
                ErrorCode::Unsupported,
                format!("{} is not allowed here", req.method),
            );
            return Ok(error_response(&e).header("Allow", route.methods().join(", ")));
        }
        if self.proxy.is_some() && !matches!(req.method.as_str(), "GET" | "HEAD") {
            return Err(Error::spec(
                ErrorCode::Unsupported,
                "this registry is a pull-through cache: it takes no pushes or deletes",
            ));
        }
        let caller = match &self.rbac {
            Some(rbac) => {
                let needs = access::needs(&route, &req.method);
                match rbac.authorize(req.header("authorization"), &needs)? {
                    Ok(caller) => Some(caller),
                    Err(denial) => {
                        let asked = access::challenge_needs(&route, req, &needs);
                        return Ok(access::denied(rbac, req, denial, &asked));
                    }
                }
            }
            None => None,
        };
        let resp = match &route {
            Route::Base => Ok(Response::json(200, b"{}".to_vec())),
            Route::Catalog => self.catalog(req, caller.as_ref()),
            Route::Tags { name } => self.tags(req, name),
            Route::Manifest { name, reference } => self.manifest(req, name, reference),
            Route::Blob { name, digest } => self.blob(req, name, digest),
            Route::UploadStart { name } => self.upload_start(req, name, caller.as_ref()),
            Route::Upload { name, id } => self.upload(req, name, id),
            Route::Referrers { name, digest } => self.referrers(req, name, digest),
        }?;
        self.audit(caller.as_ref(), &route, req, resp.status);
        Ok(resp)
    }

    fn catalog(&self, req: &Request<'_>, caller: Option<&Caller>) -> Result<Response> {
        let paging = Pagination::from_query(&req.query)?;
        let all = self.visible_catalog(caller)?;
        let (page, next) = paging.page(&all);
        let body = serde_json::to_vec(&Catalog {
            repositories: page.to_vec(),
        })
        .map_err(|e| Error::Internal(e.to_string()))?;
        let mut resp = Response::json(200, body);
        if let Some(next) = next {
            resp = resp.header("Link", next.link("/v2/_catalog").to_string());
        }
        Ok(resp)
    }

    fn tags(
        &self,
        req: &Request<'_>,
        name: &strata_distribution::RepositoryName,
    ) -> Result<Response> {
        let paging = Pagination::from_query(&req.query)?;
        let all = self.registry.tags(name)?;
        let (page, next) = paging.page(&all);
        let body = serde_json::to_vec(&TagList {
            name: name.to_string(),
            tags: page.to_vec(),
        })
        .map_err(|e| Error::Internal(e.to_string()))?;
        let mut resp = Response::json(200, body);
        if let Some(next) = next {
            resp = resp.header(
                "Link",
                next.link(&format!("/v2/{name}/tags/list")).to_string(),
            );
        }
        Ok(resp)
    }

    fn referrers(
        &self,
        req: &Request<'_>,
        name: &strata_distribution::RepositoryName,
        digest: &strata_oci::Digest,
    ) -> Result<Response> {
        let artifact_type = query_value(req, "artifactType")?.filter(|t| !t.is_empty());
        let found = self
            .registry
            .referrers(name, digest, artifact_type.as_deref())?;
        let index = strata_oci::ImageIndex::new_oci(found);
        let mut resp = Response::empty(200)
            .header("Content-Type", strata_oci::media_type::OCI_INDEX)
            .body(index.to_bytes());
        if artifact_type.is_some() {
            resp = resp.header("OCI-Filters-Applied", "artifactType");
        }
        Ok(resp)
    }
}

impl Handler for App {
    fn handle(&self, req: &mut Request<'_>) -> Response {
        let started = Instant::now();
        let mut resp = match self.route(req) {
            Ok(r) => r,
            Err(e) => error_response(&e),
        };
        resp.headers.push((
            "Docker-Distribution-API-Version".into(),
            "registry/2.0".into(),
        ));
        let took = started.elapsed();
        let sent = if req.method == "HEAD" { 0 } else { resp.len() };
        let method = match req.method.as_str() {
            m @ ("GET" | "HEAD" | "PUT" | "POST" | "PATCH" | "DELETE") => m,
            _ => "OTHER",
        };
        self.metrics
            .record(method, resp.status, req.body.read, sent, took);
        tracing::info!(
            target: "access",
            remote = %req.remote,
            method = %req.method,
            path = %req.path,
            status = resp.status,
            bytes_in = req.body.read,
            bytes_out = sent,
            micros = took.as_micros() as u64,
            "request"
        );
        resp
    }
}
