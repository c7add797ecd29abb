//! Blobs: streamed downloads that resume with `Range`, and uploads that skip
//! what the registry has, mount across repositories, or stream in one pass.

use std::io::{self, Read};

use strata_distribution::{Actions, RepositoryName, Scope};
use strata_oci::{Digest, ErrorKind};
use ureq::BodyReader;

use crate::client::{expect, header, Client, Payload, Request};
use crate::error::{Error, Result};

/// Blobs up to this size go up in one `PUT`; larger ones in a streamed `PATCH`.
const MONOLITHIC_MAX: u64 = 8 << 20;

/// How often a broken download is resumed before giving up.
const RESUMES: u32 = 5;

/// What pushing one blob came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushedBlob {
    /// The repository had it already.
    Exists,
    /// The registry linked it from another repository.
    Mounted(String),
    /// Its bytes were uploaded.
    Uploaded,
}

fn scopes_for(repo: &RepositoryName, actions: Actions) -> Vec<Scope> {
    vec![Scope::repository(repo, actions)]
}

impl Client {
    /// Opens a blob for reading from `offset`. The reader resumes with `Range`
    /// when the connection breaks; the caller verifies the digest.
    pub fn blob_reader(
        &self,
        repo: &RepositoryName,
        digest: &Digest,
        size: Option<u64>,
        offset: u64,
    ) -> Result<BlobReader<'_>> {
        let mut reader = BlobReader {
            client: self,
            repo: repo.clone(),
            digest: digest.clone(),
            size,
            offset,
            inner: None,
            resumes: 0,
        };
        reader.inner = Some(reader.open()?);
        Ok(reader)
    }

    /// True when `repo` has the blob (`HEAD`).
    pub fn has_blob(&self, repo: &RepositoryName, digest: &Digest) -> Result<bool> {
        let what = format!("check blob {digest} in {}/{repo}", self.domain());
        let resp = self.send(
            Request {
                method: "HEAD",
                target: format!("/v2/{repo}/blobs/{digest}"),
                scopes: scopes_for(repo, Actions::pull_push()),
                headers: Vec::new(),
                what: what.clone(),
            },
            Payload::None,
        )?;
        match resp.status().as_u16() {
            200 => Ok(true),
            404 => Ok(false),
            _ => expect(resp, &[200], &what).map(|_| true),
        }
    }

    /// Pushes a blob to `repo`: nothing if it is there, a cross-repository
    /// mount from `mount_from` (a repository of this registry) if that works,
    /// else the bytes that `open` yields (exactly `size` of them).
    pub fn push_blob<'r>(
        &self,
        repo: &RepositoryName,
        digest: &Digest,
        size: u64,
        mount_from: Option<&RepositoryName>,
        open: &mut dyn FnMut() -> io::Result<Box<dyn Read + Send + 'r>>,
    ) -> Result<PushedBlob> {
        if self.has_blob(repo, digest)? {
            return Ok(PushedBlob::Exists);
        }
        let what = format!("push blob {digest} to {}/{repo}", self.domain());
        let mut scopes = scopes_for(repo, Actions::pull_push());
        let mut target = format!("/v2/{repo}/blobs/uploads/");
        if let Some(from) = mount_from.filter(|f| *f != repo) {
            scopes.push(Scope::repository(from, Actions::pull()));
            target = format!("{target}?mount={digest}&from={from}");
        }
        let post = |target: String, scopes: Vec<Scope>| -> Result<_> {
            let resp = self.send(
                Request {
                    method: "POST",
                    target,
                    scopes,
                    headers: vec![("Content-Length", "0".into())],
                    what: what.clone(),
                },
                Payload::None,
            )?;
            expect(resp, &[201, 202], &what)
        };
        let resp = match post(target, scopes.clone()) {
            // The mount's source may be out of reach for this login: upload instead.
            Err(e)
                if mount_from.is_some()
                    && matches!(
                        e.kind(),
                        ErrorKind::Unauthenticated | ErrorKind::PermissionDenied
                    ) =>
            {
                scopes.truncate(1);
                post(format!("/v2/{repo}/blobs/uploads/"), scopes.clone())?
            }
            other => other?,
        };
        if resp.status().as_u16() == 201 {
            if let Some(from) = mount_from {
                return Ok(PushedBlob::Mounted(from.to_string()));
            }
            return Ok(PushedBlob::Exists);
        }
        let mut location = location(&resp, &what)?;
        let mut reader = open().map_err(Error::io(format!("read blob {digest}")))?;
        let mut counted = CountingReader {
            inner: &mut reader,
            count: 0,
        };
        let octets = ("Content-Type", "application/octet-stream".to_owned());
        // Large blobs stream in one PATCH and the final PUT carries nothing;
        // small ones go up in the PUT itself.
        let streamed = size > MONOLITHIC_MAX;
        if streamed {
            let resp = self.send(
                Request {
                    method: "PATCH",
                    target: location.clone(),
                    scopes: scopes.clone(),
                    headers: vec![octets.clone()],
                    what: what.clone(),
                },
                Payload::Stream(&mut counted, size),
            )?;
            let resp = expect(resp, &[202, 204], &what)?;
            location = crate::blob::location(&resp, &what)?;
        }
        let resp = self.send(
            Request {
                method: "PUT",
                target: format!("{}digest={digest}", with_query(&location)),
                scopes,
                headers: vec![octets],
                what: what.clone(),
            },
            if streamed {
                Payload::Bytes(&[])
            } else {
                Payload::Stream(&mut counted, size)
            },
        )?;
        // A retried final PUT may find its session gone because the first one
        // succeeded and only its answer was lost.
        if streamed && resp.status().as_u16() == 404 && self.has_blob(repo, digest)? {
            return Ok(PushedBlob::Uploaded);
        }
        expect(resp, &[201], &what)?;
        if counted.count != size {
            return Err(Error::protocol(
                &what,
                format!("read {} bytes, the descriptor says {size}", counted.count),
            ));
        }
        Ok(PushedBlob::Uploaded)
    }
}

/// `url` ready for one more query parameter.
fn with_query(url: &str) -> String {
    if url.contains('?') {
        format!("{url}&")
    } else {
        format!("{url}?")
    }
}

/// The upload's `Location`, absolute or a path on the registry.
pub(crate) fn location(resp: &ureq::http::Response<ureq::Body>, what: &str) -> Result<String> {
    header(resp, "location")
        .map(str::to_owned)
        .ok_or_else(|| Error::protocol(what, "the registry gave no upload Location"))
}

struct CountingReader<'a> {
    inner: &'a mut dyn Read,
    count: u64,
}

impl Read for CountingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// A blob being downloaded; resumes from where it broke off.
pub struct BlobReader<'c> {
    client: &'c Client,
    repo: RepositoryName,
    digest: Digest,
    size: Option<u64>,
    offset: u64,
    inner: Option<BodyReader<'static>>,
    resumes: u32,
}

impl BlobReader<'_> {
    /// How many bytes of the blob have been read (including a starting offset).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn open(&self) -> Result<BodyReader<'static>> {
        let what = format!(
            "pull blob {} from {}/{}",
            self.digest,
            self.client.domain(),
            self.repo
        );
        let mut headers = Vec::new();
        if self.offset > 0 {
            headers.push(("Range", format!("bytes={}-", self.offset)));
        }
        let resp = self.client.send(
            Request {
                method: "GET",
                target: format!("/v2/{}/blobs/{}", self.repo, self.digest),
                scopes: scopes_for(&self.repo, Actions::pull()),
                headers,
                what: what.clone(),
            },
            Payload::None,
        )?;
        let resp = expect(resp, &[200, 206], &what)?;
        let partial = resp.status().as_u16() == 206;
        if partial {
            let start = header(&resp, "content-range")
                .and_then(|v| v.strip_prefix("bytes "))
                .and_then(|v| v.split('-').next())
                .and_then(|v| v.parse::<u64>().ok());
            if start != Some(self.offset) {
                return Err(Error::protocol(
                    &what,
                    "the registry resumed at the wrong offset",
                ));
            }
        }
        let mut body = resp.into_body().into_reader();
        if !partial && self.offset > 0 {
            // The registry ignored Range: skip what we have.
            io::copy(&mut (&mut body).take(self.offset), &mut io::sink())
                .map_err(Error::io(what))?;
        }
        Ok(body)
    }
}

impl Read for BlobReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let result = match self.inner.as_mut() {
                Some(inner) => inner.read(buf),
                None => Err(io::Error::other("no connection")),
            };
            let broken = match result {
                Ok(0) if self.size.is_some_and(|s| self.offset < s) => {
                    io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed early")
                }
                Ok(n) => {
                    self.offset += n as u64;
                    // Progress since the last break: the budget is per break-free stretch.
                    self.resumes = 0;
                    return Ok(n);
                }
                Err(e) => e,
            };
            if self.resumes >= RESUMES {
                return Err(broken);
            }
            self.resumes += 1;
            tracing::debug!(digest = %self.digest, offset = self.offset, error = %broken, "resuming blob");
            self.inner = None;
            std::thread::sleep(std::time::Duration::from_millis(100 << self.resumes));
            match self.open() {
                Ok(inner) => self.inner = Some(inner),
                Err(e) if e.is_transient() => continue,
                Err(e) => return Err(io::Error::other(e)),
            }
        }
    }
}
