use super::*;

fn temp_store(name: &str) -> (PathBuf, CredentialStore) {
    let dir = std::env::temp_dir().join(format!("strata-creds-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let store = CredentialStore::at(dir.join("config.json"));
    (dir, store)
}

fn cred(u: &str, p: &str) -> Credential {
    Credential {
        username: u.into(),
        secret: p.into(),
    }
}

#[test]
fn reads_what_docker_login_writes() {
    let (dir, store) = temp_store("docker");
    // As `docker login localhost:5000 -u alice -p s3cret:x` writes it.
    std::fs::write(
        store.path(),
        r#"{"auths":{"localhost:5000":{"auth":"YWxpY2U6czNjcmV0Ong="},"https://index.docker.io/v1/":{"auth":"Ym9iOmh1Yg=="}},"detachKeys":"ctrl-x"}"#,
    )
    .expect("write");
    assert_eq!(
        store.get("localhost:5000").expect("get"),
        Some(cred("alice", "s3cret:x"))
    );
    assert_eq!(
        store.get("docker.io").expect("get"),
        Some(cred("bob", "hub"))
    );
    assert_eq!(store.get("other:5000").expect("get"), None);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn store_and_erase_keep_other_fields() {
    let (dir, store) = temp_store("roundtrip");
    std::fs::write(
        store.path(),
        r#"{"psFormat":"table {{.ID}}","auths":{"a:1":{"auth":"eDp5"}}}"#,
    )
    .expect("write");
    store
        .store("reg.example:5000", &cred("u", "p"))
        .expect("store");
    let text = std::fs::read_to_string(store.path()).expect("read");
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["psFormat"], "table {{.ID}}");
    assert_eq!(v["auths"]["reg.example:5000"]["auth"], "dTpw");
    assert_eq!(store.get("a:1").expect("get"), Some(cred("x", "y")));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(store.path())
        .expect("stat")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(store.erase("reg.example:5000").expect("erase"));
    assert!(!store.erase("reg.example:5000").expect("erase again"));
    assert_eq!(store.get("reg.example:5000").expect("get"), None);
    assert_eq!(store.get("a:1").expect("get"), Some(cred("x", "y")));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn hub_keys_and_url_keys() {
    assert_eq!(server_key("docker.io"), DOCKER_HUB_KEY);
    assert_eq!(server_key("localhost:5000"), "localhost:5000");
    assert_eq!(hostname_of("https://reg:5000/v1/"), "reg:5000");
    let (dir, store) = temp_store("urlkey");
    std::fs::write(
        store.path(),
        r#"{"auths":{"https://reg:5000":{"auth":"YTpi"}}}"#,
    )
    .expect("write");
    assert_eq!(store.get("reg:5000").expect("get"), Some(cred("a", "b")));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn malformed_files_are_named() {
    let (dir, store) = temp_store("bad");
    std::fs::write(store.path(), "{not json").expect("write");
    let err = store.get("x").expect_err("bad json");
    assert!(err.to_string().contains("config.json"), "{err}");
    std::fs::write(store.path(), r#"{"auths":{"x":{"auth":"!!"}}}"#).expect("write");
    let err = store.get("x").expect_err("bad base64");
    assert!(err.to_string().contains("base64"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn helpers_speak_the_docker_protocol() {
    let (dir, store) = temp_store("helper");
    // A helper that keeps one credential in a file beside it.
    let helper = dir.join("docker-credential-strata-test");
    let db = dir.join("db");
    std::fs::write(
        &helper,
        format!(
            "#!/bin/sh\ncase $1 in\n get) read s; if [ -f {db} ]; then cat {db}; else echo 'credentials not found in native keychain'; exit 1; fi;;\n store) cat > {db};;\n erase) rm -f {db};;\nesac\n",
            db = db.display()
        ),
    )
    .expect("write helper");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::write(store.path(), r#"{"credHelpers":{"reg:1":"strata-test"}}"#).expect("write");
    // Helpers are found on PATH; no other test of this binary runs programs.
    let old_path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![dir.clone()];
    paths.extend(std::env::split_paths(&old_path));
    std::env::set_var("PATH", std::env::join_paths(paths).expect("join"));
    let round_trip = || -> Result<()> {
        assert_eq!(store.get("reg:1")?, None);
        store.store("reg:1", &cred("ci", "tok"))?;
        assert_eq!(store.get("reg:1")?, Some(cred("ci", "tok")));
        assert!(store.erase("reg:1")?);
        assert_eq!(store.get("reg:1")?, None);
        Ok(())
    };
    let result = round_trip();
    std::env::set_var("PATH", old_path);
    result.expect("helper round trip");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_symlinked_file_stays_a_symlink() {
    let (dir, store) = temp_store("symlink");
    let real = dir.join("real.json");
    std::fs::write(&real, "{}").expect("write");
    std::os::unix::fs::symlink(&real, store.path()).expect("symlink");
    store.store("reg:1", &cred("u", "p")).expect("store");
    assert!(std::fs::symlink_metadata(store.path())
        .expect("stat")
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&real)
        .expect("read")
        .contains("reg:1"));
    let _ = std::fs::remove_dir_all(dir);
}
