//! Restarts, concurrency and garbage collection.

use std::time::Duration;

use strata_oci::Digest;
use strata_registry::repo::Registry;
use strata_registry::storage::FsStorage;

use crate::{call, put_image, TestServer};

#[test]
fn uploads_survive_a_restart_and_resume() {
    let s = TestServer::start();
    let a = call(&s, "POST", "/v2/r/blobs/uploads/", &[], b"");
    let loc = a.header("location").unwrap().to_owned();
    call(&s, "PATCH", &loc, &[("Content-Range", "0-5")], b"before");
    let dir = s.stop();
    let s = TestServer::on(dir, |_| {});
    let st = call(&s, "GET", &loc, &[], b"");
    assert_eq!((st.status, st.header("range")), (204, Some("0-5")));
    call(&s, "PATCH", &loc, &[("Content-Range", "6-11")], b" after");
    let d = Digest::sha256_of(b"before after");
    assert_eq!(
        call(&s, "PUT", &format!("{loc}?digest={d}"), &[], b"").status,
        201
    );
    assert_eq!(
        call(&s, "GET", &format!("/v2/r/blobs/{d}"), &[], b"").body,
        b"before after"
    );
}

#[test]
fn concurrent_pushes_of_one_blob_and_one_tag_stay_whole() {
    let s = TestServer::start();
    let data = vec![42u8; 1 << 20];
    std::thread::scope(|scope| {
        for i in 0..8 {
            let (s, data) = (&s, &data);
            scope.spawn(move || {
                let d = crate::put_blob(s, "same", data);
                assert_eq!(d, Digest::sha256_of(data));
                put_image(
                    s,
                    "same",
                    "latest",
                    &[format!("layer {}", i % 2).as_bytes()],
                );
            });
        }
    });
    let m = call(&s, "GET", "/v2/same/manifests/latest", &[], b"");
    assert_eq!(m.status, 200);
    assert_eq!(
        m.header("docker-content-digest"),
        Some(Digest::sha256_of(&m.body).to_string().as_str())
    );
    let d = Digest::sha256_of(&data);
    assert_eq!(
        Digest::sha256_of(&call(&s, "GET", &format!("/v2/same/blobs/{d}"), &[], b"").body),
        d
    );
}

#[test]
fn garbage_collection_keeps_what_manifests_need() {
    let s = TestServer::start();
    put_image(&s, "gc", "keep", &[b"kept layer"]);
    let (_, gone) = put_image(&s, "gc", "drop", &[b"dropped layer"]);
    assert_eq!(
        call(&s, "DELETE", &format!("/v2/gc/manifests/{gone}"), &[], b"").status,
        202
    );
    let storage = std::sync::Arc::new(FsStorage::new(&s.dir.join("storage")).unwrap());
    let registry = Registry::new(storage, true);
    // Fresh blobs are spared by the grace period.
    let report = strata_registry::gc::collect(&registry, false, Duration::from_secs(3600)).unwrap();
    assert!(report.swept.is_empty() && report.spared >= 2, "{report:?}");
    let dry = strata_registry::gc::collect(&registry, true, Duration::ZERO).unwrap();
    let dropped = Digest::sha256_of(b"dropped layer");
    assert!(
        dry.swept.contains(&dropped) && dry.swept.contains(&gone),
        "{dry:?}"
    );
    assert_eq!(
        call(&s, "HEAD", &format!("/v2/gc/blobs/{dropped}"), &[], b"").status,
        200,
        "a dry run deletes nothing"
    );
    let report = strata_registry::gc::collect(&registry, false, Duration::ZERO).unwrap();
    assert_eq!(report.swept.len(), dry.swept.len());
    assert_eq!(
        call(&s, "HEAD", &format!("/v2/gc/blobs/{dropped}"), &[], b"").status,
        404
    );
    let kept = Digest::sha256_of(b"kept layer");
    assert_eq!(
        call(&s, "GET", &format!("/v2/gc/blobs/{kept}"), &[], b"").body,
        b"kept layer"
    );
    assert_eq!(
        call(&s, "GET", "/v2/gc/manifests/keep", &[], b"").status,
        200
    );
}

/// 64 clients push and pull for a while; every answer is right.
#[test]
fn sixty_four_clients_push_and_pull_without_errors() {
    let secs: u64 = std::env::var("STRATA_STRESS_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let s = TestServer::start();
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    let rounds = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|scope| {
        for client in 0..64u64 {
            let (s, rounds) = (&s, &rounds);
            scope.spawn(move || {
                let mut i = 0u64;
                while std::time::Instant::now() < deadline {
                    i += 1;
                    let size = 1 + ((client * 7919 + i * 104_729) % 65_536) as usize;
                    let layer: Vec<u8> = (0..size).map(|b| (b as u64 ^ client ^ i) as u8).collect();
                    let repo = format!("stress/c{}", client % 16);
                    let tag = format!("t{client}-{i}");
                    let (bytes, digest) = put_image(s, &repo, &tag, &[&layer]);
                    let m = call(s, "GET", &format!("/v2/{repo}/manifests/{tag}"), &[], b"");
                    assert_eq!((m.status, &m.body), (200, &bytes), "{repo}:{tag}");
                    assert_eq!(Digest::sha256_of(&m.body), digest);
                    let d = Digest::sha256_of(&layer);
                    let b = call(s, "GET", &format!("/v2/{repo}/blobs/{d}"), &[], b"");
                    assert_eq!(b.status, 200);
                    assert_eq!(Digest::sha256_of(&b.body), d, "blob {d} intact");
                    rounds.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });
    assert!(rounds.into_inner() > 64, "every client made rounds");
}

/// A TLS client hello on the plain port gets an immediate 400, so clients
/// that try HTTPS first (docker, strata) fall back to HTTP at once.
#[test]
fn a_tls_handshake_on_the_plain_port_is_refused_at_once() {
    use std::io::{Read, Write};
    let s = TestServer::start();
    let mut conn = std::net::TcpStream::connect(s.addr()).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    conn.write_all(&[0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5])
        .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer:?}");
}

/// An HTTP/1.0 client asking for keep-alive is told it got it (else it
/// waits for the connection to close), and HEAD answers carry no body.
#[test]
fn http_1_0_keep_alive_is_announced() {
    use std::io::{BufRead, BufReader, Write};
    let s = TestServer::start();
    let mut conn = std::net::TcpStream::connect(s.addr()).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    for _ in 0..2 {
        conn.write_all(b"HEAD /v2/ HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
            .unwrap();
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            head.push(line);
        }
        assert!(head[0].starts_with("HTTP/1.1 200"), "{head:?}");
        assert!(
            head.iter()
                .any(|l| l.eq_ignore_ascii_case("connection: keep-alive\r\n")),
            "{head:?}"
        );
    }
}

/// Sends raw bytes, returns the whole answer (the server closes or times out).
fn raw(s: &TestServer, request: &[u8]) -> String {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(s.addr()).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    conn.write_all(request).unwrap();
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn ambiguous_framing_is_refused_not_smuggled() {
    let s = TestServer::start();
    for request in [
        &b"POST /v2/a/blobs/uploads/ HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 20\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n"[..],
        b"POST /v2/a/blobs/uploads/ HTTP/1.1\r\nTransfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"POST /v2/a/blobs/uploads/ HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"POST /v2/a/blobs/uploads/ HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
    ] {
        let answer = raw(&s, request);
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        assert_eq!(answer.matches("HTTP/1.1").count(), 1, "one answer only: {answer}");
    }
}

#[test]
fn hostile_numbers_and_ranges_get_answers_not_panics() {
    let s = TestServer::start();
    let a = call(&s, "POST", "/v2/n/blobs/uploads/", &[], b"");
    let loc = a.header("location").unwrap().to_owned();
    let huge = call(
        &s,
        "PATCH",
        &loc,
        &[("Content-Range", "0-18446744073709551615")],
        b"x",
    );
    assert_eq!(huge.status, 416);
    let (_, _) = put_image(&s, "n", "v1", &[b"ranged"]);
    let d = Digest::sha256_of(b"ranged");
    // Several ranges, or another unit: the whole blob, as RFC 9110 allows.
    for range in ["bytes=0-1,3-4", "items=0-1", "bytes=x-y"] {
        let a = call(
            &s,
            "GET",
            &format!("/v2/n/blobs/{d}"),
            &[("Range", range)],
            b"",
        );
        assert_eq!(
            (a.status, a.body.as_slice()),
            (200, &b"ranged"[..]),
            "{range}"
        );
    }
    // Odd methods are counted under one label.
    raw(
        &s,
        b"XXXXXXXX /healthz HTTP/1.1\r\nConnection: close\r\n\r\n",
    );
    let metrics = String::from_utf8(call(&s, "GET", "/metrics", &[], b"").body).unwrap();
    assert!(
        metrics.contains("method=\"OTHER\"") && !metrics.contains("XXXXXXXX"),
        "{metrics}"
    );
    assert!(metrics.contains("strata_registry_request_duration_seconds_count"));
}

#[test]
fn metrics_need_credentials_and_a_cache_takes_no_pushes() {
    let dir = strata_testkit::TempDir::new("metrics-auth");
    let htpasswd = dir.join("htpasswd");
    std::fs::write(
        &htpasswd,
        format!("{}\n", strata_registry::auth::hash_line("u", "p").unwrap()),
    )
    .unwrap();
    let s = TestServer::with(|c| c.htpasswd = Some(htpasswd.clone()));
    assert_eq!(call(&s, "GET", "/metrics", &[], b"").status, 401);
    assert_eq!(call(&s, "GET", "/healthz", &[], b"").status, 200);
    assert_eq!(
        call(
            &s,
            "GET",
            "/metrics",
            &[("Authorization", "Basic dTpw")],
            b""
        )
        .status,
        200
    );
    let cache = TestServer::with(|c| c.proxy_remote = Some("http://127.0.0.1:9".into()));
    let a = call(&cache, "POST", "/v2/x/blobs/uploads/", &[], b"");
    assert_eq!((a.status, a.code()), (405, "UNSUPPORTED".to_owned()));
}

/// A DELETE racing the PUT that finishes an upload never leaves a blob whose
/// bytes are not its digest's.
#[test]
fn cancel_racing_finish_never_stores_wrong_bytes() {
    let s = TestServer::start();
    let data = vec![9u8; 16 << 20];
    let digest = Digest::of(strata_oci::Algorithm::Sha512, &data);
    for _ in 0..3 {
        let a = call(&s, "POST", "/v2/race/blobs/uploads/", &[], b"");
        let loc = a.header("location").unwrap().to_owned();
        assert_eq!(call(&s, "PATCH", &loc, &[], &data).status, 202);
        std::thread::scope(|scope| {
            let finish =
                scope.spawn(|| call(&s, "PUT", &format!("{loc}?digest={digest}"), &[], b"").status);
            std::thread::sleep(Duration::from_millis(5));
            let cancel = call(&s, "DELETE", &loc, &[], b"").status;
            let finished = finish.join().unwrap();
            assert!(
                (finished == 201 && cancel == 404) || (finished == 404 && cancel == 204),
                "finish {finished}, cancel {cancel}"
            );
        });
        let got = call(&s, "GET", &format!("/v2/race/blobs/{digest}"), &[], b"");
        if got.status == 200 {
            assert_eq!(got.body.len(), data.len(), "a stored blob is whole");
        }
    }
}
