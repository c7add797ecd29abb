//! One registry endpoint: the HTTP agent, the scheme, authentication and the
//! request loop (auth challenges, retries with backoff, error statuses).

use std::io::Read;
use std::sync::OnceLock;
use std::time::Duration;

use strata_distribution::{ErrorBody, Scope};
use ureq::http::{self, Response};
use ureq::{Body, ResponseExt, SendBody};

use crate::auth::Auth;
use crate::credentials::Credential;
use crate::error::{Error, Result};
use crate::tls::{is_loopback, TlsOptions};

/// How many times a request that failed transiently is sent in all.
const ATTEMPTS: u32 = 4;

/// How to reach a registry.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// TLS roots, client certificates, and whether to verify.
    pub tls: TlsOptions,
    /// The credential to log in with, if any.
    pub credential: Option<Credential>,
}

/// A client for one registry (`host[:port]`).
#[derive(Debug)]
pub struct Client {
    domain: String,
    host: String,
    agent: ureq::Agent,
    plain_http_ok: bool,
    tls: TlsOptions,
    base: OnceLock<String>,
    /// Held while probing, so parallel first requests probe once.
    probing: std::sync::Mutex<()>,
    pub(crate) auth: Auth,
}

/// A request body.
pub(crate) enum Payload<'a> {
    /// No body.
    None,
    /// Bytes, sent with their length; may be sent again.
    Bytes(&'a [u8]),
    /// A stream of known length, sent once.
    Stream(&'a mut dyn Read, u64),
}

/// One request: method, URL or path, the scopes it needs, extra headers.
pub(crate) struct Request<'a> {
    pub method: &'a str,
    /// A path (`/v2/…`) on the registry, or an absolute URL.
    pub target: String,
    pub scopes: Vec<Scope>,
    pub headers: Vec<(&'static str, String)>,
    /// What is being done, for messages (`pull localhost:5000/app`).
    pub what: String,
}

impl Client {
    /// A client for `domain` as it appears in references (`docker.io`,
    /// `localhost:5000`). Docker Hub's API lives at `registry-1.docker.io`.
    pub fn new(domain: &str, options: ClientOptions) -> Result<Client> {
        let host = if domain == "docker.io" {
            "registry-1.docker.io".to_owned()
        } else {
            domain.to_owned()
        };
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(options.tls.config_for(domain)?)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(120)))
            .timeout_per_read(Some(Duration::from_secs(120)))
            .user_agent(concat!("strata/", env!("CARGO_PKG_VERSION")))
            .accept_encoding("identity")
            .max_idle_connections_per_host(8)
            .build();
        Ok(Client {
            domain: domain.to_owned(),
            plain_http_ok: !options.tls.verify || is_loopback(domain),
            tls: options.tls.clone(),
            host,
            agent: config.new_agent(),
            base: OnceLock::new(),
            probing: std::sync::Mutex::new(()),
            auth: Auth::new(options.credential),
        })
    }

    /// The registry's domain.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// `https://host` or, for a registry allowed to, `http://host`.
    pub fn base(&self) -> Result<&str> {
        if let Some(b) = self.base.get() {
            return Ok(b);
        }
        let _probing = self.probing.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = self.base.get() {
            return Ok(b);
        }
        let https = format!("https://{}", self.host);
        let chosen = match self.probe(&https) {
            Ok(()) => https,
            Err(e) if self.plain_http_ok && matches!(e, Error::Transport { .. }) => {
                let http = format!("http://{}", self.host);
                self.probe(&http).map_err(|_| e)?;
                http
            }
            Err(e) => return Err(e),
        };
        Ok(self.base.get_or_init(|| chosen))
    }

    fn probe(&self, base: &str) -> Result<()> {
        let url = format!("{base}/v2/");
        let resp = self.agent.get(&url).call().map_err(|e| Error::Transport {
            what: format!("ping {url}"),
            source: Box::new(e),
        })?;
        // 200 or 401 both prove a registry; a 400 from a TLS port spoken to in
        // plain HTTP does not.
        match resp.status().as_u16() {
            200 | 401 => Ok(()),
            s => Err(Error::Status {
                what: format!("ping {url}"),
                status: s,
                code: None,
                message: format!("not a registry (HTTP {s})"),
            }),
        }
    }

    /// Checks that the registry answers and the credential is accepted:
    /// `GET /v2/`, authenticating if it asks.
    pub fn ping(&self) -> Result<()> {
        let resp = self.send(
            Request {
                method: "GET",
                target: "/v2/".into(),
                scopes: Vec::new(),
                headers: Vec::new(),
                what: format!("login to {}", self.domain),
            },
            Payload::None,
        )?;
        if resp.status().as_u16() == 401 && self.auth.has_credential() {
            return Err(Error::Status {
                what: format!("login to {}", self.domain),
                status: 401,
                code: Some("UNAUTHORIZED".into()),
                message: "unauthorized: incorrect username or password".into(),
            });
        }
        expect(resp, &[200], &format!("login to {}", self.domain)).map(drop)
    }

    fn url(&self, target: &str) -> Result<String> {
        resolve_reference(self.base()?, target).ok_or_else(|| {
            Error::protocol(
                format!("registry {}", self.domain),
                format!("bad URL {target:?}"),
            )
        })
    }

    /// The agent for a token realm: this registry's own when the realm is on
    /// the registry, else one that verifies certificates whatever
    /// `--tls-verify` says. A plain-HTTP realm is refused for an HTTPS registry.
    fn realm_agent(&self, realm: &str) -> Result<ureq::Agent> {
        let base = self.base()?;
        if same_origin(base, realm) {
            return Ok(self.agent.clone());
        }
        let host = realm
            .strip_prefix("https://")
            .or_else(|| {
                realm
                    .strip_prefix("http://")
                    .filter(|_| base.starts_with("http://"))
            })
            .and_then(|rest| rest.split(['/', '?']).next())
            .filter(|h| !h.is_empty())
            .ok_or_else(|| {
                Error::protocol(
                    format!("login to {}", self.domain),
                    format!("token realm {realm:?} is not an HTTPS URL"),
                )
            })?;
        let tls = TlsOptions {
            verify: true,
            certs_dirs: self.tls.certs_dirs.clone(),
        };
        Ok(ureq::Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls.config_for(host)?)
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            .user_agent(concat!("strata/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent())
    }

    /// Sends a request: authenticates on a 401 (once), retries transient
    /// failures of replayable requests with backoff.
    pub(crate) fn send(&self, req: Request<'_>, mut body: Payload<'_>) -> Result<Response<Body>> {
        let url = self.url(&req.target)?;
        // Credentials go to the registry only: an upload `Location` on another
        // host (object storage, or a hostile registry) gets none.
        let ours = same_origin(self.base()?, &url);
        let replayable = !matches!(body, Payload::Stream(..));
        let mut reauthed = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            // A stream goes out once; bytes and nothing can be sent again.
            let this = match &mut body {
                Payload::Stream(..) => std::mem::replace(&mut body, Payload::None),
                Payload::Bytes(b) => Payload::Bytes(b),
                Payload::None => Payload::None,
            };
            let sent = self.auth.header(&req.scopes).filter(|_| ours);
            let result = self.attempt(&url, &req, this, sent.as_deref());
            let failure = match result {
                Ok(resp)
                    if resp.status().as_u16() == 401
                        && !reauthed
                        && replayable
                        && ours
                        && same_origin(self.base()?, &resp.get_uri().to_string()) =>
                {
                    reauthed = true;
                    let challenge = header(&resp, "www-authenticate").map(str::to_owned);
                    if self.auth.unauthorized(
                        &|realm| self.realm_agent(realm),
                        challenge.as_deref(),
                        &req.scopes,
                        sent.as_deref(),
                    )? {
                        continue;
                    }
                    return Ok(resp);
                }
                Ok(resp) if is_retry_status(resp.status().as_u16()) && replayable => {
                    let status = resp.status().as_u16();
                    Error::Status {
                        what: req.what.clone(),
                        status,
                        code: None,
                        message: format!("HTTP {status}"),
                    }
                }
                Ok(resp) => return Ok(resp),
                Err(e) => e,
            };
            if !replayable || attempt >= ATTEMPTS || !failure.is_transient() {
                return Err(failure);
            }
            tracing::debug!(%failure, attempt, "retrying");
            std::thread::sleep(Duration::from_millis(200 << attempt));
        }
    }
}

impl Client {
    /// Sends `req` once.
    fn attempt(
        &self,
        url: &str,
        req: &Request<'_>,
        body: Payload<'_>,
        authorization: Option<&str>,
    ) -> Result<Response<Body>> {
        let mut builder = http::Request::builder().method(req.method).uri(url);
        for (k, v) in &req.headers {
            builder = builder.header(*k, v);
        }
        if let Some(h) = authorization {
            builder = builder.header("Authorization", h);
        }
        let bad = |e: http::Error| Error::protocol(&req.what, e.to_string());
        let result = match body {
            Payload::None => self.agent.run(builder.body(()).map_err(bad)?),
            Payload::Bytes(mut b) => {
                let builder = builder.header("Content-Length", b.len());
                self.agent
                    .run(builder.body(SendBody::from_reader(&mut b)).map_err(bad)?)
            }
            Payload::Stream(r, len) => {
                let builder = builder.header("Content-Length", len);
                self.agent
                    .run(builder.body(SendBody::from_reader(r)).map_err(bad)?)
            }
        };
        result.map_err(|e| Error::Transport {
            what: format!("{} {url}", req.method),
            source: Box::new(e),
        })
    }
}

/// Resolves `target` (an absolute URL, `//host/path`, `/path` or a relative
/// path) against the registry `base` (`scheme://host[:port]`), per RFC 3986
/// for the forms registries send.
fn resolve_reference(base: &str, target: &str) -> Option<String> {
    if target.starts_with("http://") || target.starts_with("https://") {
        return Some(target.to_owned());
    }
    if let Some(rest) = target.strip_prefix("//") {
        let scheme = base.split("://").next()?;
        return Some(format!("{scheme}://{rest}"));
    }
    if target.starts_with('/') {
        return Some(format!("{base}{target}"));
    }
    // A relative reference: against the API root, as uploads' locations are.
    (!target.is_empty() && !target.contains("://")).then(|| format!("{base}/v2/{target}"))
}

/// True when `url` is on the registry `base` (`scheme://host[:port]`) itself.
fn same_origin(base: &str, url: &str) -> bool {
    url.strip_prefix(base)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/') || rest.starts_with('?'))
}

fn is_retry_status(status: u16) -> bool {
    status >= 500 || status == 429
}

/// A response header as text.
pub(crate) fn header<'r>(resp: &'r Response<Body>, name: &str) -> Option<&'r str> {
    resp.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The message for an error status: the registry's first error, or the status's meaning.
pub(crate) fn status_message(status: u16, body: &[u8]) -> String {
    if let Ok(parsed) = ErrorBody::from_slice(body) {
        if let Some(first) = parsed.errors.first() {
            let code = first.code.as_str().to_lowercase().replace('_', " ");
            let m = &first.message;
            return if m.is_empty() || m.eq_ignore_ascii_case(&code) {
                code
            } else {
                format!("{code}: {m}")
            };
        }
    }
    match status {
        401 => "unauthorized: authentication required".into(),
        403 => "denied: requested access to the resource is denied".into(),
        404 => "not found".into(),
        s => format!("HTTP {s}"),
    }
}

/// Returns the response if its status is one of `ok`, else the registry's error.
pub(crate) fn expect(resp: Response<Body>, ok: &[u16], what: &str) -> Result<Response<Body>> {
    let status = resp.status().as_u16();
    if ok.contains(&status) {
        return Ok(resp);
    }
    let body = resp
        .into_body()
        .with_config()
        .limit(64 * 1024)
        .read_to_vec()
        .unwrap_or_default();
    let code = ErrorBody::from_slice(&body)
        .ok()
        .and_then(|b| b.errors.first().map(|e| e.code.as_str().to_owned()));
    Err(Error::Status {
        what: what.to_owned(),
        status,
        code,
        message: status_message(status, &body),
    })
}

/// Reads a small body whole, refusing more than `limit` bytes.
pub(crate) fn read_body(resp: Response<Body>, limit: u64, what: &str) -> Result<Vec<u8>> {
    resp.into_body()
        .with_config()
        .limit(limit)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(_) => {
                Error::protocol(what, format!("answer larger than {limit} bytes"))
            }
            e => Error::Transport {
                what: what.to_owned(),
                source: Box::new(e),
            },
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_stay_on_the_registry() {
        let base = "https://reg.example:5000";
        assert!(same_origin(
            base,
            "https://reg.example:5000/v2/x/blobs/uploads/1?s=2"
        ));
        assert!(same_origin(base, base));
        assert!(!same_origin(base, "https://reg.example:5000.evil.com/v2/"));
        assert!(!same_origin(base, "https://reg.example:50001/v2/"));
        assert!(!same_origin(base, "http://reg.example:5000/v2/"));
        assert!(!same_origin(base, "https://s3.example/bucket/upload"));
    }

    #[test]
    fn locations_resolve_against_the_registry() {
        let base = "https://reg.example:5000";
        let r = |t| resolve_reference(base, t);
        assert_eq!(
            r("/v2/a/blobs/uploads/1").as_deref(),
            Some("https://reg.example:5000/v2/a/blobs/uploads/1")
        );
        assert_eq!(r("https://s3/x").as_deref(), Some("https://s3/x"));
        assert_eq!(
            r("//cdn.example/p").as_deref(),
            Some("https://cdn.example/p")
        );
        assert_eq!(
            r(".evil.com/x").as_deref(),
            Some("https://reg.example:5000/v2/.evil.com/x")
        );
        assert_eq!(r(""), None);
    }
}
