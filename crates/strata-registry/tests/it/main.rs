//! The registry server in-process on 127.0.0.1, driven over HTTP: the
//! distribution spec's four workflows (pull, push, content discovery, content
//! management), errors, restarts and concurrency.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod discovery;
mod management;
mod matrix;
mod pull;
mod push;
mod rbac;
mod safety;
mod tokens;

use std::sync::Arc;
use std::thread::JoinHandle;

use strata_oci::Digest;
use strata_registry::config::Config;
use strata_registry::serve::Prepared;
use strata_testkit::TempDir;

/// A registry served on 127.0.0.1:<free port>, stopped on drop.
pub struct TestServer {
    pub base: String,
    pub dir: Arc<TempDir>,
    /// `--rbac` is on: [`call`] logs in as the system admin through the
    /// token flow.
    pub rbac: bool,
    stopper: strata_registry::http::Stopper,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    pub fn start() -> TestServer {
        Self::with(|_| {})
    }

    pub fn with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        Self::on(Arc::new(TempDir::new("registry-it")), tweak)
    }

    /// A server on an existing storage directory (a restart).
    pub fn on(dir: Arc<TempDir>, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let mut config = Config {
            addr: Some("127.0.0.1:0".into()),
            storage: Some(dir.join("storage")),
            delete_enabled: Some(true),
            ..Config::default()
        };
        if tokens::workflows_under_rbac() {
            tokens::enable_rbac(&mut config);
        }
        tweak(&mut config);
        let rbac = config.rbac_enabled();
        if rbac {
            tokens::bootstrap_admin(&config);
        }
        let prepared = Prepared::new(&config).unwrap();
        let base = format!("http://{}", prepared.local_addr().unwrap());
        let stopper = prepared.stopper();
        let thread = std::thread::spawn(move || prepared.serve().unwrap());
        TestServer {
            base,
            dir,
            rbac,
            stopper,
            thread: Some(thread),
        }
    }

    pub fn stop(mut self) -> Arc<TempDir> {
        self.stop_now();
        Arc::clone(&self.dir)
    }

    fn stop_now(&mut self) {
        self.stopper.stop();
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }

    pub fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// One answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The first error code of a spec error body.
    pub fn code(&self) -> String {
        self.json()["errors"][0]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .new_agent()
}

/// Sends a request to `server` (path or absolute URL); on a server with
/// `--rbac`, as the system admin through the token flow.
pub fn call(
    server: &TestServer,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    if server.rbac {
        return tokens::call_as_admin(server, method, target, headers, body);
    }
    send(server, method, target, headers, body)
}

/// Sends one request, as it is.
pub fn send(
    server: &TestServer,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let url = if target.starts_with("http") {
        target.to_owned()
    } else {
        format!("{}{target}", server.base)
    };
    let mut b = ureq::http::Request::builder().method(method).uri(&url);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let resp = if body.is_empty() && matches!(method, "GET" | "HEAD" | "DELETE") {
        agent().run(b.body(()).unwrap())
    } else {
        agent().run(b.body(body.to_vec()).unwrap())
    }
    .unwrap();
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let body = if method == "HEAD" {
        Vec::new()
    } else {
        resp.into_body()
            .with_config()
            .limit(1 << 30)
            .read_to_vec()
            .unwrap()
    };
    Answer {
        status,
        headers,
        body,
    }
}

/// Uploads a blob monolithically (POST then PUT); returns its digest.
pub fn put_blob(server: &TestServer, repo: &str, data: &[u8]) -> Digest {
    let digest = Digest::sha256_of(data);
    let a = call(
        server,
        "POST",
        &format!("/v2/{repo}/blobs/uploads/"),
        &[],
        b"",
    );
    assert_eq!(a.status, 202, "{}", String::from_utf8_lossy(&a.body));
    let loc = a.header("location").unwrap().to_owned();
    let sep = if loc.contains('?') { '&' } else { '?' };
    let a = call(
        server,
        "PUT",
        &format!("{loc}{sep}digest={digest}"),
        &[("Content-Type", "application/octet-stream")],
        data,
    );
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    digest
}

/// Pushes an image manifest with one config and `layers`; returns the manifest bytes and digest.
pub fn put_image(
    server: &TestServer,
    repo: &str,
    tag: &str,
    layers: &[&[u8]],
) -> (Vec<u8>, Digest) {
    use strata_oci::{media_type, Descriptor, ImageManifest};
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let cd = put_blob(server, repo, config);
    let ls: Vec<Descriptor> = layers
        .iter()
        .map(|l| {
            Descriptor::new(
                media_type::OCI_LAYER_GZIP,
                put_blob(server, repo, l),
                l.len() as u64,
            )
        })
        .collect();
    let m = ImageManifest::new_oci(
        Descriptor::new(media_type::OCI_CONFIG, cd, config.len() as u64),
        ls,
    );
    let bytes = m.to_bytes();
    let a = call(
        server,
        "PUT",
        &format!("/v2/{repo}/manifests/{tag}"),
        &[("Content-Type", media_type::OCI_MANIFEST)],
        &bytes,
    );
    assert_eq!(a.status, 201, "{}", String::from_utf8_lossy(&a.body));
    let d = Digest::sha256_of(&bytes);
    assert_eq!(
        a.header("docker-content-digest"),
        Some(d.to_string().as_str())
    );
    (bytes, d)
}
