//! Golden tests: each case's spec (without the seccomp rule list, tested on its
//! own) is pinned in `testdata/bundle/<case>.json`.

use std::path::PathBuf;

use strata_oci::ContainerConfig;
use strata_testkit::assert_golden;

use super::*;

fn base() -> RunOptions {
    RunOptions {
        rootfs: "/var/lib/strata/containers/c1/rootfs".into(),
        hostname: "c1c1c1c1c1c1".into(),
        entrypoint: None,
        cmd: None,
        env: vec![],
        workdir: None,
        user: None,
        tty: false,
        read_only: false,
        mounts: vec![],
        network: NetworkMode::Namespace("/run/strata/netns/c1".into()),
        no_new_privileges: false,
        seccomp: SeccompMode::Default,
        cap_add: vec![],
        cap_drop: vec![],
        memory: None,
        cpus: None,
        pids_limit: None,
        cgroups_path: "/strata/c1".into(),
        etc: EtcFiles {
            hosts: Some("/var/lib/strata/containers/c1/hosts".into()),
            resolv_conf: Some("/var/lib/strata/containers/c1/resolv.conf".into()),
            hostname: Some("/var/lib/strata/containers/c1/hostname".into()),
        },
    }
}

fn busybox() -> ContainerConfig {
    ContainerConfig {
        cmd: Some(vec!["sh".into()]),
        ..ContainerConfig::default()
    }
}

const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n";
const GROUP: &str = "root:x:0:\napp:x:1000:\nstaff:x:50:app\n";

fn files() -> UserFiles {
    UserFiles {
        passwd: PASSWD.into(),
        group: GROUP.into(),
    }
}

fn golden(case: &str, image: &ContainerConfig, opts: &RunOptions) {
    let mut spec = generate(image, opts, &files(), "amd64").unwrap();
    let seccomp = spec.linux.seccomp.take();
    assert_eq!(seccomp.is_some(), opts.seccomp != SeccompMode::Unconfined);
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("testdata/bundle/{case}.json"));
    assert_golden(path, &(serde_json::to_string_pretty(&spec).unwrap() + "\n"));
}

#[test]
fn busybox_with_docker_defaults() {
    golden("busybox-defaults", &busybox(), &base());
}

#[test]
fn user_limits_mounts_and_security_options() {
    let opts = RunOptions {
        user: Some("app".into()),
        env: vec!["A=1".into(), "PATH=/opt/bin".into()],
        workdir: Some("/srv".into()),
        tty: true,
        read_only: true,
        mounts: vec![
            UserMount::Bind {
                source: "/host/data".into(),
                destination: "/data".into(),
                read_only: true,
            },
            UserMount::Tmpfs {
                destination: "/run".into(),
            },
        ],
        network: NetworkMode::Host,
        no_new_privileges: true,
        seccomp: SeccompMode::Unconfined,
        cap_add: vec!["net_bind_service".into()],
        cap_drop: vec!["ALL".into()],
        memory: Some(64 << 20),
        cpus: Some(0.5),
        pids_limit: Some(100),
        ..base()
    };
    golden("user-limits-security", &busybox(), &opts);
}

#[test]
fn entrypoint_and_cmd_merge_as_docker_does() {
    let image = ContainerConfig {
        entrypoint: Some(vec!["/entry".into(), "--flag".into()]),
        cmd: Some(vec!["default".into()]),
        ..ContainerConfig::default()
    };
    let run = |entrypoint: Option<Vec<&str>>, cmd: Option<Vec<&str>>| {
        let opts = RunOptions {
            entrypoint: entrypoint.map(|e| e.into_iter().map(String::from).collect()),
            cmd: cmd.map(|c| c.into_iter().map(String::from).collect()),
            ..base()
        };
        command(&image, opts.entrypoint.as_ref(), opts.cmd.as_ref())
    };
    assert_eq!(run(None, None).unwrap(), ["/entry", "--flag", "default"]);
    assert_eq!(
        run(None, Some(vec!["x"])).unwrap(),
        ["/entry", "--flag", "x"]
    );
    assert_eq!(run(Some(vec!["/other"]), None).unwrap(), ["/other"]);
    assert_eq!(
        run(Some(vec![]), Some(vec!["echo", "hi"])).unwrap(),
        ["echo", "hi"]
    );
    let err = run(Some(vec![]), None).unwrap_err();
    assert!(err.to_string().contains("no command specified"));
}

#[test]
fn environment_overrides_by_key_and_fills_defaults() {
    let image = ContainerConfig {
        env: Some(vec![
            "PATH=/img/bin".into(),
            "A=image".into(),
            "B=image".into(),
        ]),
        cmd: Some(vec!["sh".into()]),
        ..ContainerConfig::default()
    };
    let opts = RunOptions {
        env: vec!["A=run".into()],
        user: Some("app".into()),
        ..base()
    };
    let spec = generate(&image, &opts, &files(), "amd64").unwrap();
    assert_eq!(
        spec.process.env,
        [
            "PATH=/img/bin",
            "HOSTNAME=c1c1c1c1c1c1",
            "A=run",
            "B=image",
            "HOME=/home/app"
        ]
    );
    assert_eq!((spec.process.user.uid, spec.process.user.gid), (1000, 1000));
    assert_eq!(spec.process.user.additional_gids, [50]);
}

#[test]
fn bad_requests_are_refused_clearly() {
    let opts = RunOptions {
        user: Some("ghost".into()),
        ..base()
    };
    let err = generate(&busybox(), &opts, &files(), "amd64").unwrap_err();
    assert!(err.to_string().contains("unable to find user ghost"));
    let opts = RunOptions {
        workdir: Some("relative".into()),
        ..base()
    };
    let err = generate(&busybox(), &opts, &files(), "amd64").unwrap_err();
    assert!(err.to_string().contains("absolute path"));
}
