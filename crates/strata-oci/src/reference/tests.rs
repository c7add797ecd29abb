//! Tables ported in spirit from Docker's `reference_test.go` and `normalize_test.go`,
//! plus property tests over the grammar.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::*;
use crate::digest::{Algorithm, Digester};

/// Expands the placeholders used in the tables: `$256` and `$512` are whole
/// digests, `$h64`/`$h32` lowercase hex runs and `$H64` an uppercase one.
fn x(s: &str) -> String {
    s.replace("$256", &format!("sha256:{}", "f".repeat(64)))
        .replace("$512", &format!("sha512:{}", "f".repeat(128)))
        .replace("$h64", &"f".repeat(64))
        .replace("$h32", &"f".repeat(32))
        .replace("$H64", &"F".repeat(64))
}

fn reason(result: Result<Reference>) -> String {
    match result {
        Err(Error::InvalidReference { reason, .. }) => reason,
        other => format!("not an InvalidReference error: {other:?}"),
    }
}

/// input, domain, path, tag, digest, familiar form ("" for none).
#[rustfmt::skip]
const VALID: &[(&str, &str, &str, &str, &str, &str)] = &[
    ("nginx", "docker.io", "library/nginx", "", "", "nginx"),
    ("nginx:1.25", "docker.io", "library/nginx", "1.25", "", "nginx:1.25"),
    ("nginx@$256", "docker.io", "library/nginx", "", "$256", "nginx@$256"),
    ("nginx:latest@$256", "docker.io", "library/nginx", "latest", "$256", "nginx:latest@$256"),
    ("busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa", "docker.io", "library/busybox", "latest", "sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa", "busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa"),
    ("library/debian", "docker.io", "library/debian", "", "", "debian"),
    ("docker/docker", "docker.io", "docker/docker", "", "", "docker/docker"),
    ("docker.io/docker/docker", "docker.io", "docker/docker", "", "", "docker/docker"),
    ("docker.io/library/debian", "docker.io", "library/debian", "", "", "debian"),
    ("docker.io/debian", "docker.io", "library/debian", "", "", "debian"),
    ("index.docker.io/docker/docker", "docker.io", "docker/docker", "", "", "docker/docker"),
    ("index.docker.io/library/debian", "docker.io", "library/debian", "", "", "debian"),
    ("index.docker.io/debian", "docker.io", "library/debian", "", "", "debian"),
    ("127.0.0.1:5000/docker/docker", "127.0.0.1:5000", "docker/docker", "", "", "127.0.0.1:5000/docker/docker"),
    ("127.0.0.1:5000/library/debian", "127.0.0.1:5000", "library/debian", "", "", "127.0.0.1:5000/library/debian"),
    ("127.0.0.1:5000/debian", "127.0.0.1:5000", "debian", "", "", "127.0.0.1:5000/debian"),
    ("192.168.0.1", "docker.io", "library/192.168.0.1", "", "", "192.168.0.1"),
    ("192.168.0.1:80", "docker.io", "library/192.168.0.1", "80", "", "192.168.0.1:80"),
    ("192.168.0.1:8/debian", "192.168.0.1:8", "debian", "", "", "192.168.0.1:8/debian"),
    ("192.168.0.2:25000/debian", "192.168.0.2:25000", "debian", "", "", "192.168.0.2:25000/debian"),
    ("thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev", "docker.io", "library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev", "", "", "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev"),
    ("[fc00::1]:5000/docker", "[fc00::1]:5000", "docker", "", "", "[fc00::1]:5000/docker"),
    ("[fc00::1]:5000/docker/docker", "[fc00::1]:5000", "docker/docker", "", "", "[fc00::1]:5000/docker/docker"),
    ("[fc00:1:2:3:4:5:6:7]:5000/library/debian", "[fc00:1:2:3:4:5:6:7]:5000", "library/debian", "", "", "[fc00:1:2:3:4:5:6:7]:5000/library/debian"),
    ("docker.io/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a", "docker.io", "library/1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a", "", "", "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a"),
    ("dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9", "docker.io", "library/dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9", "", "", "dbcc1c35ac38df41fd2f5e4130b32ffdb93ebae8b3dbe638c23575912276fc9"),
    ("Docker/docker", "Docker", "docker", "", "", "Docker/docker"),
    ("DOCKER/docker", "DOCKER", "docker", "", "", "DOCKER/docker"),
    ("docker-rules/docker", "docker.io", "docker-rules/docker", "", "", "docker-rules/docker"),
    ("docker---rules/docker", "docker.io", "docker---rules/docker", "", "", "docker---rules/docker"),
    ("d/docker", "docker.io", "d/docker", "", "", "d/docker"),
    ("jess/t", "docker.io", "jess/t", "", "", "jess/t"),
    ("dock__er/docker", "docker.io", "dock__er/docker", "", "", "dock__er/docker"),
    ("other/library", "docker.io", "other/library", "", "", "other/library"),
    ("store/foo/bar", "docker.io", "store/foo/bar", "", "", "store/foo/bar"),
    ("library/foo/bar", "docker.io", "library/foo/bar", "", "", "library/foo/bar"),
    ("ubuntu-12.04-base", "docker.io", "library/ubuntu-12.04-base", "", "", "ubuntu-12.04-base"),
    ("example.com/privatebase", "example.com", "privatebase", "", "", "example.com/privatebase"),
    ("example.com:8000/private/moonbase", "example.com:8000", "private/moonbase", "", "", "example.com:8000/private/moonbase"),
    ("test.com:5000", "docker.io", "library/test.com", "5000", "", "test.com:5000"),
    ("test.com/repo:tag", "test.com", "repo", "tag", "", "test.com/repo:tag"),
    ("test:5000/repo:tag@$256", "test:5000", "repo", "tag", "$256", "test:5000/repo:tag@$256"),
    ("test_com/foo", "docker.io", "test_com/foo", "", "", "test_com/foo"),
    ("test-com:8080/foo", "test-com:8080", "foo", "", "", "test-com:8080/foo"),
    ("lowercase:Uppercase", "docker.io", "library/lowercase", "Uppercase", "", "lowercase:Uppercase"),
    ("sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com", "bar/baz/quux", "some-long-tag", "", "sub-dom1.foo.com/bar/baz/quux:some-long-tag"),
    ("b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io", "test.example.com/my-app", "test.example.com", "", "b.gcr.io/test.example.com/my-app:test.example.com"),
    ("xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "myimage", "xn--n3h.com", "", "xn--n3h.com/myimage:xn--n3h.com"),
    ("xn--7o8h.com/myimage:xn--7o8h.com@$512", "xn--7o8h.com", "myimage", "xn--7o8h.com", "$512", "xn--7o8h.com/myimage:xn--7o8h.com@$512"),
    ("foo_bar.com:8080", "docker.io", "library/foo_bar.com", "8080", "", "foo_bar.com:8080"),
    ("foo/foo_bar.com:8080", "docker.io", "foo/foo_bar.com", "8080", "", "foo/foo_bar.com:8080"),
    ("[2001:db8::1]/repo", "[2001:db8::1]", "repo", "", "", "[2001:db8::1]/repo"),
    ("[2001:db8::]:5000/repo", "[2001:db8::]:5000", "repo", "", "", "[2001:db8::]:5000/repo"),
    ("[::1]:5000/repo:tag@$256", "[::1]:5000", "repo", "tag", "$256", "[::1]:5000/repo:tag@$256"),
    ("localhost/foo", "localhost", "foo", "", "", "localhost/foo"),
    ("localhost:5000/foo/bar:tag", "localhost:5000", "foo/bar", "tag", "", "localhost:5000/foo/bar:tag"),
    ("localhost", "docker.io", "library/localhost", "", "", "localhost"),
    ("FOO.example.COM/bar", "FOO.example.COM", "bar", "", "", "FOO.example.COM/bar"),
    ("registry.example.com:5000/team/app:v1.2.3_beta-rc.1", "registry.example.com:5000", "team/app", "v1.2.3_beta-rc.1", "", "registry.example.com:5000/team/app:v1.2.3_beta-rc.1"),
    ("a.b.c/x__y.z-w---v/q", "a.b.c", "x__y.z-w---v/q", "", "", "a.b.c/x__y.z-w---v/q"),
    ("example.com:99999999/x", "example.com:99999999", "x", "", "", "example.com:99999999/x"),
    ("foo:_", "docker.io", "library/foo", "_", "", "foo:_"),
];

/// input, expected reason.
#[rustfmt::skip]
const INVALID: &[(&str, &str)] = &[
    ("", INVALID_FORMAT),
    (":justtag", INVALID_FORMAT),
    ("@$256", INVALID_FORMAT),
    ("repo@sha256:$h32ff", "invalid checksum digest length"),
    ("validname@invaliddigest:$h64", "unsupported digest algorithm"),
    ("foo@sha384:$h64$h32", "unsupported digest algorithm"),
    ("foo@sha256:$H64", "invalid checksum digest format"),
    ("foo@Sha256:$h64", NOT_LOWERCASE),
    ("foo@sha256:abc", INVALID_FORMAT),
    ("foo:tag@Sha256:$h64", "invalid checksum digest format"),
    ("[]:5000/foo", INVALID_FORMAT),
    ("[]/foo", INVALID_FORMAT),
    ("Uppercase:tag", NOT_LOWERCASE),
    ("test:5000/Uppercase/lowercase:tag", NOT_LOWERCASE),
    ("docker/Docker", NOT_LOWERCASE),
    ("docker.io/docker/Docker", NOT_LOWERCASE),
    ("localhost:5000/Foo", NOT_LOWERCASE),
    ("Foo_Bar/baz", NOT_LOWERCASE),
    ("aa/asdf$$^/aa", INVALID_FORMAT),
    ("[2001:db8::1]", INVALID_FORMAT),
    ("[2001:db8::1]:5000", INVALID_FORMAT),
    ("[2001:db8::1]:tag", INVALID_FORMAT),
    ("[fe80::1%eth0]:5000/repo", INVALID_FORMAT),
    ("[fe80::1%@invalidzone]:5000/repo", INVALID_FORMAT),
    ("[2001:db8:3:4::192.0.2.33]:5000/debian", INVALID_FORMAT),
    ("[fc00::1]", INVALID_FORMAT),
    ("[fc00::1]:5000", INVALID_FORMAT),
    ("fc00::1:5000/debian", INVALID_FORMAT),
    ("https://github.com/docker/docker", INVALID_FORMAT),
    ("-docker", INVALID_FORMAT),
    ("-docker/docker", INVALID_FORMAT),
    ("-docker.io/docker/docker", INVALID_FORMAT),
    ("docker///docker", INVALID_FORMAT),
    ("docker.io/docker///docker", INVALID_FORMAT),
    ("1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a", IDENTIFIER),
    ("docker-/docker", INVALID_FORMAT),
    ("-docker-/docker", INVALID_FORMAT),
    ("____/____", INVALID_FORMAT),
    ("_docker/_docker", INVALID_FORMAT),
    ("dock..er/docker", INVALID_FORMAT),
    ("dock_.er/docker", INVALID_FORMAT),
    ("dock-.er/docker", INVALID_FORMAT),
    ("dock___er/docker", INVALID_FORMAT),
    ("docker/", INVALID_FORMAT),
    ("/docker", INVALID_FORMAT),
    ("this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255_this_is_not_a_valid_namespace_because_its_lenth_is_greater_than_255/docker", TOO_LONG),
    ("foo_bar.com/x", INVALID_FORMAT),
    ("example.com:port/foo", INVALID_FORMAT),
    ("example-.com/foo", INVALID_FORMAT),
    ("example.com./foo", INVALID_FORMAT),
    ("example..com/foo", INVALID_FORMAT),
    ("foo:tag@", INVALID_FORMAT),
    ("foo:bar:baz", INVALID_FORMAT),
    ("foo:-tag", INVALID_FORMAT),
    ("foo:.tag", INVALID_FORMAT),
    ("foo:", INVALID_FORMAT),
    ("foo@", INVALID_FORMAT),
    ("foo@$256@$256", INVALID_FORMAT),
    ("foo bar", INVALID_FORMAT),
    ("ünïcode", INVALID_FORMAT),
];

#[test]
fn parse_normalized_accepts_dockers_valid_references() {
    assert!(VALID.len() >= 40);
    for &(input, domain, path, tag, digest, familiar) in VALID {
        let input = x(input);
        let r = Reference::parse_normalized(&input)
            .unwrap_or_else(|e| panic!("{input:?} should parse: {e}"));
        assert_eq!(r.domain(), domain, "domain of {input:?}");
        assert_eq!(r.path(), path, "path of {input:?}");
        assert_eq!(r.tag().unwrap_or(""), tag, "tag of {input:?}");
        let got_digest = r.digest().map(ToString::to_string).unwrap_or_default();
        assert_eq!(got_digest, x(digest), "digest of {input:?}");
        assert_eq!(r.familiar(), x(familiar), "familiar form of {input:?}");
        let mut full = format!("{domain}/{path}");
        if !tag.is_empty() {
            full = format!("{full}:{tag}");
        }
        if !digest.is_empty() {
            full = format!("{full}@{}", x(digest));
        }
        assert_eq!(r.to_string(), full, "full form of {input:?}");
        assert_eq!(
            Reference::parse(&full).ok(),
            Some(r.clone()),
            "{full:?} is canonical"
        );
        if !is_identifier(&r.familiar_repository()) {
            assert_eq!(Reference::parse_normalized(&r.familiar()).ok(), Some(r));
        }
    }
}

#[test]
fn parse_normalized_refuses_dockers_invalid_references() {
    assert!(INVALID.len() >= 30);
    for &(input, expected) in INVALID {
        let input = x(input);
        let got = reason(Reference::parse_normalized(&input));
        assert_eq!(got, expected, "reason for {input:?}");
    }
}

#[test]
fn parse_normalized_adds_library_prefix() {
    let r = Reference::parse_normalized("nginx").unwrap();
    assert_eq!(r.repository(), "docker.io/library/nginx");
    assert_eq!(r.tag(), None, "no default tag is added");
    let r = Reference::parse_normalized("docker.io/nginx").unwrap();
    assert_eq!(r.path(), "library/nginx");
}

#[test]
fn legacy_index_domain_is_normalised_to_docker_io() {
    let r = Reference::parse_normalized("index.docker.io/x").unwrap();
    assert_eq!(r.to_string(), "docker.io/library/x");
    let r = Reference::parse_normalized("index.docker.io/user/app:1").unwrap();
    assert_eq!(r.to_string(), "docker.io/user/app:1");
}

#[test]
fn docker_io_user_repositories_keep_their_namespace() {
    let r = Reference::parse_normalized("docker.io/user/app").unwrap();
    assert_eq!((r.domain(), r.path()), ("docker.io", "user/app"));
    assert_eq!(r.familiar(), "user/app");
}

#[test]
fn familiar_forms_strip_docker_io_and_library_only() {
    let familiar = |s: &str| {
        Reference::parse_normalized(s)
            .unwrap()
            .familiar_repository()
    };
    assert_eq!(familiar("docker.io/library/redis"), "redis");
    assert_eq!(familiar("docker.io/dmcgowan/myapp"), "dmcgowan/myapp");
    assert_eq!(familiar("docker.io/library/foo/bar"), "library/foo/bar");
    assert_eq!(familiar("localhost:5000/app"), "localhost:5000/app");
    assert_eq!(
        familiar("example.com/library/app"),
        "example.com/library/app"
    );
}

#[test]
fn first_element_is_a_domain_only_with_dot_colon_localhost_or_uppercase() {
    let domain = |s: &str| Reference::parse_normalized(s).unwrap().domain().to_owned();
    assert_eq!(domain("foo/bar"), "docker.io");
    assert_eq!(domain("foo.com/bar"), "foo.com");
    assert_eq!(domain("foo:5000/bar"), "foo:5000");
    assert_eq!(domain("localhost/bar"), "localhost");
    assert_eq!(domain("Foo/bar"), "Foo");
}

#[test]
fn names_of_64_hex_characters_are_refused_as_image_ids() {
    let id = "a".repeat(64);
    assert_eq!(reason(Reference::parse_normalized(&id)), IDENTIFIER);
    // With a tag it is no longer an ID, and with a domain it is unambiguous.
    assert!(Reference::parse_normalized(&format!("{id}:tag")).is_ok());
    assert!(Reference::parse_normalized(&format!("docker.io/{id}")).is_ok());
}

#[test]
fn uppercase_in_the_path_is_refused_as_not_lowercase() {
    for input in [
        "Nginx",
        "user/App",
        "example.com/Team/app",
        "nginx@SHA256:abc",
    ] {
        assert_eq!(
            reason(Reference::parse_normalized(input)),
            NOT_LOWERCASE,
            "{input}"
        );
    }
}

#[test]
fn path_longer_than_255_characters_is_refused_but_domain_does_not_count() {
    let ok = format!("example.com/{}:tag", "a".repeat(255));
    assert_eq!(Reference::parse_normalized(&ok).unwrap().path().len(), 255);
    let long = format!("example.com/{}", "a".repeat(256));
    assert_eq!(reason(Reference::parse_normalized(&long)), TOO_LONG);
    let long = format!("domain/{}:tag", "a".repeat(256));
    assert_eq!(reason(Reference::parse_normalized(&long)), TOO_LONG);
    let ok = format!("{}a:tag-puts-this-over-max", "a/".repeat(127));
    assert_eq!(Reference::parse_normalized(&ok).unwrap().path().len(), 255);
    // `library/` counts: a 250-character official name is too long.
    let official = "a".repeat(250);
    assert_eq!(reason(Reference::parse_normalized(&official)), TOO_LONG);
}

#[test]
fn tags_longer_than_128_characters_are_refused() {
    let ok = format!("foo:{}", "a".repeat(128));
    assert!(Reference::parse_normalized(&ok).is_ok());
    let long = format!("foo:{}", "a".repeat(129));
    assert_eq!(reason(Reference::parse_normalized(&long)), INVALID_FORMAT);
}

#[test]
fn parse_accepts_only_canonical_references() {
    for ok in [
        "docker.io/library/foo",
        "test.com/foo",
        "test:8080/foo",
        "Foo/bar",
        "docker.io/u/a:t",
    ] {
        assert_eq!(Reference::parse(ok).unwrap().to_string(), ok);
    }
    for bad in [
        "test_com/foo",
        "test.com",
        "foo",
        "library/foo",
        "docker.io/foo",
        "index.docker.io/library/foo",
    ] {
        let why = reason(Reference::parse(bad));
        assert!(why.contains("not canonical"), "{bad}: {why}");
    }
    assert_eq!(reason(Reference::parse("Nginx")), NOT_LOWERCASE);
}

#[test]
fn with_default_tag_adds_latest_only_to_bare_names() {
    let tagged = |s: &str| {
        Reference::parse_normalized(s)
            .unwrap()
            .with_default_tag()
            .to_string()
    };
    assert_eq!(tagged("nginx"), "docker.io/library/nginx:latest");
    assert_eq!(tagged("nginx:1"), "docker.io/library/nginx:1");
    assert_eq!(tagged(&x("nginx@$256")), x("docker.io/library/nginx@$256"));
}

#[test]
fn with_tag_validates_the_tag_and_drops_the_digest() {
    let r = Reference::parse_normalized(&x("a.io/b:old@$256")).unwrap();
    let t = r.with_tag("TAG5").unwrap();
    assert_eq!(t.to_string(), "a.io/b:TAG5");
    assert_eq!(t.digest(), None);
    for bad in ["-foo", "", "a/b", "a:b"] {
        assert!(r.with_tag(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn with_digest_drops_the_tag_and_without_tag_or_digest_keeps_the_repository() {
    let r = Reference::parse_normalized("a.io/b:old").unwrap();
    let d = Digest::sha256_of(b"x");
    let c = r.with_digest(d.clone());
    assert_eq!(c.to_string(), format!("a.io/b@{d}"));
    assert_eq!(c.tag(), None);
    assert_eq!(c.without_tag_or_digest().to_string(), "a.io/b");
    assert_eq!(r.without_tag_or_digest().repository(), "a.io/b");
}

#[test]
fn validate_tag_follows_dockers_tag_grammar() {
    let max = "a".repeat(128);
    for ok in ["latest", "_x", "A", "1.0-rc_1", "v1..2--3", max.as_str()] {
        assert!(validate_tag(ok).is_ok(), "{ok:?}");
    }
    let over = "a".repeat(129);
    for bad in ["", "-x", ".x", "a/b", "a:b", "a@b", "é", over.as_str()] {
        assert!(validate_tag(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn serde_round_trips_through_the_full_string() {
    let r = Reference::parse_normalized("nginx:1.25").unwrap();
    let json = serde_json::to_string(&r).unwrap();
    assert_eq!(json, "\"docker.io/library/nginx:1.25\"");
    assert_eq!(serde_json::from_str::<Reference>(&json).unwrap(), r);
    assert!(serde_json::from_str::<Reference>("\"nginx\"").is_err());
}

#[test]
fn from_str_is_parse_normalized() {
    let r: Reference = "user/app:v1".parse().unwrap();
    assert_eq!(r, Reference::parse_normalized("user/app:v1").unwrap());
}

#[test]
fn errors_name_the_input_and_say_invalid_reference_format() {
    let e = Reference::parse_normalized("Nginx").unwrap_err();
    assert!(matches!(&e, Error::InvalidReference { input, .. } if input == "Nginx"));
    assert_eq!(
        e.to_string(),
        "invalid reference format \"Nginx\": repository name must be lowercase"
    );
}

fn domain_label() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9]([a-zA-Z0-9-]{0,6}[a-zA-Z0-9])?"
}

/// Hosts that Docker's splitDockerDomain takes as domains.
fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(domain_label(), 2..=4).prop_map(|l| l.join(".")),
        Just("localhost".to_owned()),
        Just("docker.io".to_owned()),
        any::<[u8; 4]>().prop_map(|o| format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3])),
        prop::collection::vec("[0-9a-fA-F]{1,4}", 2..=8).prop_map(|g| format!("[{}]", g.join(":"))),
        ("[0-9a-f]{1,4}", "[0-9a-f]{0,4}").prop_map(|(a, b)| format!("[{a}::{b}]")),
        "[A-Z][a-zA-Z0-9]{0,5}",
    ]
}

fn domain() -> impl Strategy<Value = String> {
    (host(), prop::option::of(any::<u16>()))
        .prop_map(|(h, port)| port.map_or(h.clone(), |p| format!("{h}:{p}")))
}

fn path() -> impl Strategy<Value = Vec<String>> {
    let component = "[a-z0-9]{1,5}((\\.|_|__|-{1,3})[a-z0-9]{1,5}){0,2}";
    prop::collection::vec(component, 1..=4)
}

fn digest() -> impl Strategy<Value = Digest> {
    (any::<bool>(), any::<u64>()).prop_map(|(long, seed)| {
        let mut d = Digester::new(if long {
            Algorithm::Sha512
        } else {
            Algorithm::Sha256
        });
        d.update(&seed.to_le_bytes());
        d.finish()
    })
}

proptest! {
    #[test]
    fn generated_references_round_trip_through_full_and_familiar_forms(
        domain in domain(),
        path in path(),
        tag in prop::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}"),
        digest in prop::option::of(digest()),
    ) {
        // Docker Hub names are canonical only with a namespace whose first
        // element cannot be mistaken for a domain.
        if domain == "docker.io" {
            prop_assume!(path.len() >= 2 && !path[0].contains('.') && path[0] != "localhost");
        }
        prop_assume!(domain != "index.docker.io");
        let path = path.join("/");
        let mut s = format!("{domain}/{path}");
        if let Some(t) = &tag {
            s = format!("{s}:{t}");
        }
        if let Some(d) = &digest {
            s = format!("{s}@{d}");
        }
        let r = Reference::parse(&s).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(r.domain(), domain.as_str());
        prop_assert_eq!(r.path(), path.as_str());
        prop_assert_eq!(r.tag(), tag.as_deref());
        prop_assert_eq!(r.digest(), digest.as_ref());
        prop_assert_eq!(Reference::parse(&r.to_string()).ok(), Some(r.clone()));
        prop_assert_eq!(Reference::parse_normalized(&r.familiar()).ok(), Some(r));
    }

    #[test]
    fn arbitrary_strings_never_panic_and_accepted_ones_are_canonical(
        s in prop_oneof![
            any::<String>(),
            prop::collection::vec(
                prop::sample::select(&['a', 'Z', '0', 'f', '-', '_', '.', ':', '/', '@', '[', ']', '%', 'é'][..]),
                0..40,
            ).prop_map(|c| c.into_iter().collect::<String>()),
        ]
    ) {
        let _ = validate_tag(&s);
        let _ = Reference::parse(&s);
        if let Ok(r) = Reference::parse_normalized(&s) {
            prop_assert_eq!(Reference::parse(&r.to_string()).ok(), Some(r));
        }
    }
}
