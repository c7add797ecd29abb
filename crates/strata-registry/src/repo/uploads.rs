//! Upload sessions: start, append in order, finish against a digest, cancel.
//!
//! A session's bytes are in `_uploads/<id>/data`. The running hash is kept in
//! memory; after a restart (or a failed write) it is rebuilt from the data,
//! so sessions survive restarts and resume where they stopped.

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};

use strata_distribution::{ErrorCode, RepositoryName};
use strata_oci::digest::Digester;
use strata_oci::{Algorithm, Digest};

use super::{blob_key, repo_key, Registry};
use crate::error::{Error, Result};
use crate::storage::Content;

/// One session's state in memory.
pub(crate) struct Session {
    /// The hash of the first `size` bytes; `None` when it must be rebuilt.
    hasher: Option<Digester>,
    size: u64,
}

/// Where an upload stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadStatus {
    /// The session id.
    pub id: String,
    /// Bytes received so far.
    pub size: u64,
}

fn data_key(name: &RepositoryName, id: &str) -> String {
    repo_key(name, &format!("_uploads/{id}/data"))
}

fn started_key(name: &RepositoryName, id: &str) -> String {
    repo_key(name, &format!("_uploads/{id}/startedat"))
}

fn unknown_upload(id: &str) -> Error {
    Error::spec(
        ErrorCode::BlobUploadUnknown,
        format!("upload {id} is unknown"),
    )
}

/// A fresh random session id (128 bits, hex).
fn new_id() -> Result<String> {
    Ok(strata_oci::digest::to_hex(&crate::random_bytes::<16>()?))
}

impl Registry {
    /// Starts an upload session in `name`; returns its id.
    pub fn start_upload(&self, name: &RepositoryName) -> Result<String> {
        let id = new_id()?;
        self.storage
            .put(&started_key(name, &id), crate::now().to_string().as_bytes())?;
        self.lock_sessions().insert(
            id.clone(),
            Arc::new(Mutex::new(Session {
                hasher: Some(Digester::new(Algorithm::Sha256)),
                size: 0,
            })),
        );
        Ok(id)
    }

    fn lock_sessions(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, Arc<Mutex<Session>>>> {
        self.uploads.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn session(&self, name: &RepositoryName, id: &str) -> Result<Arc<Mutex<Session>>> {
        if self.storage.stat(&started_key(name, id))?.is_none() {
            return Err(unknown_upload(id));
        }
        Ok(Arc::clone(
            self.lock_sessions()
                .entry(id.to_owned())
                .or_insert_with(|| {
                    Arc::new(Mutex::new(Session {
                        hasher: None,
                        size: 0,
                    }))
                }),
        ))
    }

    fn stored_size(&self, name: &RepositoryName, id: &str) -> Result<u64> {
        Ok(self
            .storage
            .stat(&data_key(name, id))?
            .map_or(0, |m| m.size))
    }

    /// How many bytes the session has.
    pub fn upload_status(&self, name: &RepositoryName, id: &str) -> Result<UploadStatus> {
        let session = self.session(name, id)?;
        let _held = session.lock().unwrap_or_else(|p| p.into_inner());
        Ok(UploadStatus {
            id: id.to_owned(),
            size: self.stored_size(name, id)?,
        })
    }

    /// Appends `body` to the session. `start`, from `Content-Range`, must be
    /// where the session stands (416 otherwise). Returns the new size.
    pub fn append_upload(
        &self,
        name: &RepositoryName,
        id: &str,
        start: Option<u64>,
        body: &mut dyn Read,
    ) -> Result<UploadStatus> {
        let session = self.session(name, id)?;
        let mut s = session.lock().unwrap_or_else(|p| p.into_inner());
        self.check_live(name, id)?;
        self.append_locked(&mut s, name, id, start, body)
    }

    /// The session may have ended while this request waited for its lock.
    fn check_live(&self, name: &RepositoryName, id: &str) -> Result<()> {
        if self.storage.stat(&started_key(name, id))?.is_none() {
            // Ended meanwhile: forget any entry a late lookup made.
            self.lock_sessions().remove(id);
            return Err(unknown_upload(id));
        }
        Ok(())
    }

    fn append_locked(
        &self,
        s: &mut Session,
        name: &RepositoryName,
        id: &str,
        start: Option<u64>,
        body: &mut dyn Read,
    ) -> Result<UploadStatus> {
        let size = self.stored_size(name, id)?;
        if let Some(start) = start {
            if start != size {
                return Err(Error::spec(
                    ErrorCode::RangeInvalid,
                    format!("chunk starts at {start}, the upload has {size} bytes"),
                ));
            }
        }
        if s.hasher.is_none() || s.size != size {
            s.hasher = Some(self.rehash(name, id, Algorithm::Sha256)?);
            s.size = size;
        }
        let mut writer = self.storage.append(&data_key(name, id))?;
        let mut buf = vec![0u8; 256 * 1024];
        let result = (|| -> io::Result<()> {
            loop {
                let n = match body.read(&mut buf) {
                    Ok(0) => return writer.flush(),
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                writer.write_all(&buf[..n])?;
                if let Some(h) = s.hasher.as_mut() {
                    h.update(&buf[..n]);
                }
                s.size += n as u64;
            }
        })();
        if let Err(e) = result {
            // What reached the disk is unknown: rebuild the hash next time.
            s.hasher = None;
            let _ = writer.flush();
            return Err(Error::spec(
                ErrorCode::BlobUploadInvalid,
                format!("upload {id}: reading the body: {e}"),
            ));
        }
        Ok(UploadStatus {
            id: id.to_owned(),
            size: s.size,
        })
    }

    fn rehash(&self, name: &RepositoryName, id: &str, algorithm: Algorithm) -> Result<Digester> {
        let mut h = Digester::new(algorithm);
        let key = data_key(name, id);
        if self.storage.stat(&key)?.is_none() {
            return Ok(h);
        }
        let (content, _) = self.storage.open(&key, 0)?;
        let mut reader: Box<dyn Read> = match content {
            Content::File(f) => Box::new(f),
            Content::Stream(s) => s,
        };
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let n = reader
                .read(&mut buf)
                .map_err(|e| Error::Internal(format!("upload {id}: rehash: {e}")))?;
            if n == 0 {
                return Ok(h);
            }
            h.update(&buf[..n]);
        }
    }

    /// Appends the last `body` (may be empty), checks the digest and moves the
    /// blob into place, linked in `name`.
    pub fn finish_upload(
        &self,
        name: &RepositoryName,
        id: &str,
        digest: &Digest,
        body: &mut dyn Read,
    ) -> Result<()> {
        let session = self.session(name, id)?;
        // Held to the end: a cancel or another finish waits, then finds the
        // session gone.
        let mut s = session.lock().unwrap_or_else(|p| p.into_inner());
        self.check_live(name, id)?;
        self.append_locked(&mut s, name, id, None, body)?;
        let data = data_key(name, id);
        if s.size == 0 && self.storage.stat(&data)?.is_none() {
            // An empty blob: nothing was ever appended.
            self.storage.put(&data, b"")?;
        }
        // What is renamed into place must be exactly what was hashed.
        if self.stored_size(name, id)? != s.size {
            s.hasher = None;
            return Err(Error::spec(
                ErrorCode::BlobUploadInvalid,
                format!("upload {id} changed while it was being finished"),
            ));
        }
        let hasher = match &s.hasher {
            Some(h) if digest.algorithm() == Algorithm::Sha256 => h.clone(),
            _ => self.rehash(name, id, digest.algorithm())?,
        };
        let actual = hasher.finish();
        if &actual != digest {
            return Err(Error::spec(
                ErrorCode::DigestInvalid,
                format!("upload {id}: content is {actual}, not {digest}"),
            ));
        }
        if self.blob_stored(digest)? {
            self.storage.delete(&data)?;
            // Pushed again: garbage collection spares it for a while.
            self.storage.touch(&blob_key(digest))?;
        } else {
            self.storage.rename(&data, &blob_key(digest))?;
            self.storage.touch(&blob_key(digest))?;
        }
        self.link_blob(name, digest)?;
        self.end_session(name, id)
    }

    /// Ends a session and drops its bytes.
    pub fn cancel_upload(&self, name: &RepositoryName, id: &str) -> Result<()> {
        let session = self.session(name, id)?;
        let _held = session.lock().unwrap_or_else(|p| p.into_inner());
        self.check_live(name, id)?;
        self.end_session(name, id)
    }

    /// Ends a session; called with its lock held. The files go first, then
    /// the lock's map entry: a request that looked the session up meanwhile
    /// holds the same lock, waits, and then finds the session gone.
    fn end_session(&self, name: &RepositoryName, id: &str) -> Result<()> {
        self.storage
            .delete(&repo_key(name, &format!("_uploads/{id}")))?;
        self.lock_sessions().remove(id);
        Ok(())
    }

    /// Ends sessions started more than `max_age` ago; returns how many.
    pub fn purge_uploads(&self, max_age: std::time::Duration) -> Result<usize> {
        let now = std::time::SystemTime::now();
        let mut purged = 0;
        for repo in self.all_repositories()? {
            let Ok(name) = RepositoryName::new(&repo) else {
                continue;
            };
            for id in self.storage.list(&repo_key(&name, "_uploads"))? {
                let started = self.storage.stat(&started_key(&name, &id))?;
                let old = started
                    .is_none_or(|m| now.duration_since(m.modified).unwrap_or_default() > max_age);
                if old {
                    let session = self.lock_sessions().get(&id).cloned();
                    let _held = session
                        .as_ref()
                        .map(|m| m.lock().unwrap_or_else(|p| p.into_inner()));
                    self.end_session(&name, &id)?;
                    purged += 1;
                }
            }
        }
        Ok(purged)
    }
}
