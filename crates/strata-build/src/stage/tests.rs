use strata_dockerfile::{CommandLine, KeyValue};
use strata_oci::{Digest, ImageConfig};

use super::*;

fn fresh() -> StageState {
    StageState::new(ImageConfig::default(), Vec::new(), Digest::sha256_of(b"k"))
}

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: v.into(),
    }
}

#[test]
fn a_stage_gets_the_default_path() {
    let st = fresh();
    assert_eq!(st.lookup("PATH").as_deref(), Some(DEFAULT_PATH));
}

#[test]
fn env_replaces_in_place_and_wins_over_args() {
    let mut st = fresh();
    st.args.push(("A".into(), Some("arg".into())));
    assert_eq!(st.lookup("A").as_deref(), Some("arg"));
    st.set_env(&[kv("A", "1"), kv("B", "2")]);
    st.set_env(&[kv("A", "3")]);
    let env = st.image.config.as_ref().unwrap().env.clone().unwrap();
    assert_eq!(env[1..], ["A=3".to_owned(), "B=2".to_owned()]);
    assert_eq!(st.lookup("A").as_deref(), Some("3"));
    // RUN sees an ARG only when ENV does not set the same name.
    assert!(!st.run_env().iter().any(|e| e == "A=arg"));
}

#[test]
fn shell_form_goes_through_the_shell() {
    let mut st = fresh();
    assert_eq!(
        st.argv(&CommandLine::Shell("echo hi".into())),
        ["/bin/sh", "-c", "echo hi"]
    );
    st.config().shell = Some(vec!["/bin/bash".into(), "-xc".into()]);
    assert_eq!(
        st.argv(&CommandLine::Shell("x".into())),
        ["/bin/bash", "-xc", "x"]
    );
    assert_eq!(st.argv(&CommandLine::Exec(vec!["a".into()])), ["a"]);
}

#[test]
fn entrypoint_resets_an_inherited_cmd_but_not_one_set_in_the_stage() {
    let mut st = fresh();
    st.config().cmd = Some(vec!["inherited".into()]);
    st.set_entrypoint(&CommandLine::Exec(vec!["ep".into()]));
    assert_eq!(st.config().cmd, None);
    st.set_cmd(&CommandLine::Exec(vec!["mine".into()]));
    st.set_entrypoint(&CommandLine::Exec(vec!["ep2".into()]));
    assert_eq!(st.config().cmd, Some(vec!["mine".to_owned()]));
}

#[test]
fn expose_accepts_protocols_and_ranges() {
    let mut st = fresh();
    st.expose(&["80".into(), "53/udp".into(), "8000-8001".into()])
        .unwrap();
    let keys: Vec<String> = st
        .config()
        .exposed_ports
        .clone()
        .unwrap()
        .into_keys()
        .collect();
    assert_eq!(keys, ["53/udp", "80/tcp", "8000/tcp", "8001/tcp"]);
    assert!(st.expose(&["80/xyz".into()]).is_err());
    assert!(st.expose(&["http".into()]).is_err());
}

#[test]
fn relative_paths_resolve_against_the_workdir() {
    let mut st = fresh();
    assert_eq!(st.resolve("app"), "/app");
    st.config().working_dir = Some("/app".into());
    assert_eq!(st.resolve("sub/"), "/app/sub/");
    assert_eq!(st.resolve("."), "/app/");
    assert_eq!(st.resolve("../x"), "/x");
    assert_eq!(st.resolve("/abs"), "/abs");
}

#[test]
fn healthcheck_takes_dockers_json_shape() {
    let mut st = fresh();
    st.set_healthcheck(&Healthcheck::Check {
        test: CommandLine::Shell("curl -f localhost".into()),
        interval: Some(30_000_000_000),
        timeout: None,
        start_period: None,
        start_interval: None,
        retries: Some(3),
    });
    let hc = st.config().healthcheck.clone().unwrap();
    assert_eq!(
        hc["Test"],
        serde_json::json!(["CMD-SHELL", "curl -f localhost"])
    );
    assert_eq!(hc["Interval"], 30_000_000_000u64);
    assert_eq!(hc["Retries"], 3);
    st.set_healthcheck(&Healthcheck::None);
    assert_eq!(
        st.config().healthcheck.clone().unwrap()["Test"],
        serde_json::json!(["NONE"])
    );
}
