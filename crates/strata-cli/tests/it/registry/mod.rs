//! Pull, push and login against real registries on 127.0.0.1: Debian's
//! `docker-registry` (the reference distribution registry), plain and with TLS
//! plus htpasswd, and behind a test proxy that adds Docker's token flow and
//! broken downloads (`testdata/registry/proxy.py`).

mod auth;
mod crash;
mod faults;
mod platforms;
mod pull_push;
mod rbac;
mod server;

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use strata_testkit::{require_peer, run_ok, TempDir};

use crate::common::Strata;

/// A free port on 127.0.0.1 (closed again; the server binds it right after).
pub(super) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(super) fn wait_for_port(port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited: {status}");
        }
        assert!(Instant::now() < deadline, "{what} did not listen on {port}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A running `docker-registry`, killed on drop.
pub struct Registry {
    pub addr: String,
    pub dir: TempDir,
    child: Child,
}

/// How the registry is set up.
pub enum Setup {
    Plain,
    /// TLS with a test CA, and htpasswd (bcrypt) with user alice / s3cret.
    TlsHtpasswd,
    /// TLS that also requires a client certificate signed by the test CA.
    MutualTls,
    /// Plain HTTP with Docker's token auth: tokens from `realm`, signed by
    /// the key of the certificate `cert`.
    Token {
        realm: String,
        cert: PathBuf,
    },
}

impl Registry {
    pub fn start(setup: Setup) -> Option<Registry> {
        let registry = require_peer("docker-registry", &[])?;
        let dir = TempDir::new("registry");
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let data = dir.join("data");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
            data.display()
        );
        if let Setup::MutualTls = setup {
            make_certs(dir.path());
            config.push_str(&format!(
                "  tls:\n    certificate: {0}/server.crt\n    key: {0}/server.key\n    clientcas:\n      - {0}/ca.crt\n",
                dir.path().display()
            ));
        }
        if let Setup::TlsHtpasswd = setup {
            make_certs(dir.path());
            let htpasswd = require_peer("htpasswd", &[])?;
            let out = run_ok(htpasswd.command().args(["-Bbn", "alice", "s3cret"]));
            std::fs::write(dir.join("htpasswd"), out.stdout).unwrap();
            config.push_str(&format!(
                "  tls:\n    certificate: {0}/server.crt\n    key: {0}/server.key\nauth:\n  htpasswd:\n    realm: strata-test\n    path: {0}/htpasswd\n",
                dir.path().display()
            ));
        }
        if let Setup::Token { realm, cert } = &setup {
            config.push_str(&format!(
                "auth:\n  token:\n    realm: {realm}\n    service: strata-registry\n    issuer: strata-registry\n    rootcertbundle: {}\n",
                cert.display()
            ));
        }
        std::fs::write(dir.join("config.yml"), config).unwrap();
        let mut child = registry
            .command()
            .args(["serve", dir.join("config.yml").to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(dir.join("log")).unwrap()))
            .spawn()
            .unwrap();
        wait_for_port(port, &mut child, "docker-registry");
        Some(Registry { addr, dir, child })
    }

    /// Installs the test CA for this registry in a store's `certs.d`.
    pub fn trust(&self, s: &Strata) {
        let d = s.dir.join("certs.d").join(&self.addr);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(self.dir.join("ca.crt"), d.join("ca.crt")).unwrap();
    }

    /// Installs the test client certificate in a store's `certs.d`.
    pub fn client_cert(&self, s: &Strata, file: &str) {
        let d = s.dir.join("certs.d").join(&self.addr);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(self.dir.join(file), d.join("client.cert")).unwrap();
        std::fs::copy(self.dir.join("client.key"), d.join("client.key")).unwrap();
    }

    /// The directory skopeo's `--cert-dir` takes for this registry.
    pub fn cert_dir(&self) -> PathBuf {
        self.dir.join("ca")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A CA and a server certificate for 127.0.0.1, made with openssl.
pub(super) fn make_certs(dir: &Path) {
    let openssl = |args: &[&str]| {
        run_ok(Command::new("openssl").current_dir(dir).args(args));
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=strata test CA",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "client.key",
        "-out",
        "client.csr",
        "-subj",
        "/CN=strata test client",
    ]);
    let sign_client = |out: &str, extfile: Option<&str>| {
        let mut args = vec![
            "x509",
            "-req",
            "-in",
            "client.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            out,
            "-days",
            "2",
        ];
        if let Some(f) = extfile {
            args.extend(["-extfile", f]);
        }
        openssl(&args);
    };
    // Without extensions openssl makes a v1 certificate, which TLS stacks refuse.
    sign_client("client-v1.crt", None);
    std::fs::write(dir.join("client.cnf"), "extendedKeyUsage=clientAuth\n").unwrap();
    sign_client("client.crt", Some("client.cnf"));
    // skopeo's --cert-dir takes every *.crt as a CA: give it a directory of the CA only.
    std::fs::create_dir_all(dir.join("ca")).unwrap();
    std::fs::copy(dir.join("ca.crt"), dir.join("ca/ca.crt")).unwrap();
}

/// The test proxy in front of a registry; killed on drop. Its log lists every request.
pub struct Proxy {
    pub addr: String,
    log: PathBuf,
    child: Child,
    _dir: TempDir,
}

impl Proxy {
    pub fn start(upstream: &Registry, flags: &[&str]) -> Option<Proxy> {
        let python = require_peer("python3", &[])?;
        let dir = TempDir::new("proxy");
        let port = free_port();
        let log = dir.join("log");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/registry/proxy.py");
        let mut child = python
            .command()
            .arg(script)
            .args(["--listen", &port.to_string(), "--upstream", &upstream.addr])
            .args(flags)
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn()
            .unwrap();
        wait_for_port(port, &mut child, "proxy.py");
        Some(Proxy {
            addr: format!("127.0.0.1:{port}"),
            log,
            child,
            _dir: dir,
        })
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A store with busybox, tagged `name` for a registry.
pub fn busybox_as(name: &str) -> Option<Strata> {
    let s = Strata::with_busybox()?;
    s.ok(&["tag", "busybox:latest", name]);
    Some(s)
}

/// `images --format {{.ID}}` of one name.
pub fn image_id(s: &Strata, name: &str) -> String {
    s.ok(&["images", "--no-trunc", "--format", "{{.ID}}", name])
        .trim()
        .to_owned()
}
