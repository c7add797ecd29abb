//! TLS settings per registry: system roots, `certs.d/<host[:port]>/` and
//! whether plain HTTP may be used.
//!
//! Docker's layout is followed: in `certs.d/<host[:port]>/`, every `*.crt` is
//! an extra root CA, and a `*.cert` with a `*.key` of the same stem is the
//! client certificate for mutual TLS. The directories searched, first match
//! wins for client certificates, CAs from all of them:
//! `$STRATA_CERTS_D` (colon-separated) if set, else `/etc/strata/certs.d`,
//! `/etc/docker/certs.d` and `/etc/containers/certs.d`.

use std::path::{Path, PathBuf};

use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig};

use crate::error::{Error, Result};

/// The system's CA bundle (Debian's), unless `SSL_CERT_FILE` names another.
const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// How to secure connections to registries.
#[derive(Debug, Clone)]
pub struct TlsOptions {
    /// Verify certificates (`--tls-verify`, default true). When false,
    /// certificates are not checked and plain HTTP is allowed, as podman does.
    pub verify: bool,
    /// The `certs.d` directories to search.
    pub certs_dirs: Vec<PathBuf>,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            verify: true,
            certs_dirs: default_certs_dirs(),
        }
    }
}

/// The `certs.d` directories: `$STRATA_CERTS_D` or the three defaults.
pub fn default_certs_dirs() -> Vec<PathBuf> {
    match std::env::var_os("STRATA_CERTS_D") {
        Some(v) => std::env::split_paths(&v).collect(),
        None => [
            "/etc/strata/certs.d",
            "/etc/docker/certs.d",
            "/etc/containers/certs.d",
        ]
        .iter()
        .map(PathBuf::from)
        .collect(),
    }
}

/// True for the hosts Docker lets speak plain HTTP without configuration:
/// `localhost` and the loopback addresses, with any port.
pub fn is_loopback(domain: &str) -> bool {
    let host = match domain.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => domain.rsplit_once(':').map_or(domain, |(h, _)| h),
    };
    host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl TlsOptions {
    /// The TLS configuration for one registry `domain` (`host[:port]`).
    pub fn config_for(&self, domain: &str) -> Result<TlsConfig> {
        let builder = TlsConfig::builder();
        if !self.verify {
            return Ok(builder.disable_verification(true).build());
        }
        let mut roots = system_roots()?;
        let mut client = None;
        for dir in &self.certs_dirs {
            let host_dir = dir.join(domain);
            let Ok(entries) = std::fs::read_dir(&host_dir) else {
                continue;
            };
            let mut names: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
            names.sort();
            for path in names {
                match path.extension().and_then(|e| e.to_str()) {
                    Some("crt") => roots.extend(read_certs(&path)?),
                    Some("cert") if client.is_none() => {
                        let key = path.with_extension("key");
                        if !key.exists() {
                            return Err(Error::config(
                                path.display().to_string(),
                                format!("client certificate without its key {}", key.display()),
                            ));
                        }
                        let certs = read_certs(&path)?;
                        check_client_cert(&certs, &key)
                            .map_err(|reason| Error::config(path.display().to_string(), reason))?;
                        client = Some(ClientCert::new_with_certs(&certs, read_key(&key)?));
                    }
                    _ => {}
                }
            }
        }
        Ok(builder
            .root_certs(RootCerts::from(roots))
            .client_cert(client)
            .build())
    }
}

fn system_roots() -> Result<Vec<Certificate<'static>>> {
    let path = std::env::var_os("SSL_CERT_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(SYSTEM_BUNDLE));
    if !path.exists() {
        return Ok(Vec::new());
    }
    read_certs(&path)
}

fn read_certs(path: &Path) -> Result<Vec<Certificate<'static>>> {
    let pem = std::fs::read(path).map_err(Error::io(path.display().to_string()))?;
    let mut out = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => out.push(c),
            Ok(_) => {}
            Err(e) => return Err(Error::config(path.display().to_string(), e.to_string())),
        }
    }
    Ok(out)
}

fn read_key(path: &Path) -> Result<PrivateKey<'static>> {
    let pem = std::fs::read(path).map_err(Error::io(path.display().to_string()))?;
    PrivateKey::from_pem(&pem).map_err(|e| Error::config(path.display().to_string(), e.to_string()))
}

/// Refuses a client certificate the TLS stack would refuse at the first
/// connection (a v1 certificate, a key that does not match it), with a
/// message instead of a failed handshake.
fn check_client_cert(
    certs: &[Certificate<'static>],
    key_file: &Path,
) -> std::result::Result<(), String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain: Vec<CertificateDer<'static>> = certs
        .iter()
        .map(|c| CertificateDer::from(c.der().to_vec()))
        .collect();
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| format!("{}: {e}", key_file.display()))?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_client_auth_cert(chain, key)
        .map(drop)
        .map_err(|e| format!("unusable client certificate: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for d in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
        ] {
            assert!(is_loopback(d), "{d}");
        }
        for d in [
            "example.com",
            "10.0.0.1:5000",
            "localhost.example.com",
            "[::2]:5000",
        ] {
            assert!(!is_loopback(d), "{d}");
        }
    }

    #[test]
    fn client_cert_needs_its_key() {
        let dir = std::env::temp_dir().join(format!("strata-tls-{}", std::process::id()));
        let host = dir.join("reg.example:5000");
        std::fs::create_dir_all(&host).expect("mkdir");
        std::fs::write(host.join("client.cert"), b"").expect("write");
        let opts = TlsOptions {
            verify: true,
            certs_dirs: vec![dir.clone()],
        };
        let err = opts.config_for("reg.example:5000").expect_err("no key");
        assert!(err.to_string().contains("without its key"), "{err}");
        assert!(opts.config_for("other:1").is_ok());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
