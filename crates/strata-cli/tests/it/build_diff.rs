//! `strata build` against BuildKit (dockerd 20.10's, `DOCKER_BUILDKIT=1`) as
//! the oracle: each case under `testdata/build-diff/<case>/` is built by both
//! from the same context, and the image configs and flattened file trees must
//! agree (modification times aside).
//!
//! The busybox image of strata's store is loaded into dockerd under a name of
//! this run's own (rewritten into the Dockerfile docker builds), so `FROM
//! busybox` resolves locally, offline, and concurrent runs don't race on
//! `busybox:latest`. Every docker image made here is removed on drop.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use serde_json::Value;
use strata_testkit::{require_peer, Peer, TempDir};

use crate::common::Strata;
use crate::containers::{setup, text};

mod tree;
use tree::{chown_tree, copy_tree, describe, flatten, img_history, line_diff, path_of};

/// One case: a folder under `testdata/build-diff`.
struct Case {
    name: &'static str,
    /// `--build-arg`s given to both tools.
    build_args: &'static [&'static str],
    /// Stages to build, each compared (empty: the default, last stage).
    targets: &'static [&'static str],
    /// `parent/` holds a Dockerfile to build first, tagged `<name>-parent`,
    /// which the case's `FROM` names (ONBUILD needs an image).
    parent: bool,
    /// Paths where a difference is known and tolerated (each explained
    /// where the case is listed).
    known: &'static [&'static str],
}

const CASES: &[Case] = &[
    Case {
        name: "env-arg",
        build_args: &[
            "GREETING=hello",
            "OVERRIDDEN=from-cli",
            "NOVALUE",
            "UNDECLARED=x",
            "HTTP_PROXY=http://proxy.invalid:3128",
            "DOLLAR=$A-not-expanded",
        ],
        targets: &[],
        parent: false,
        known: &[],
    },
    Case {
        name: "metadata",
        build_args: &[],
        targets: &[],
        parent: false,
        known: &[],
    },
    Case {
        name: "entrypoint",
        build_args: &[],
        targets: &[
            "with-cmd",
            "reset",
            "kept",
            "after",
            "literal",
            "replaced",
            "quoted-entrypoint",
            "quoted-cmd",
            "health-durations",
            "Mixed-Case",
            "shell-run",
        ],
        parent: false,
        known: &[],
    },
    Case {
        name: "workdir-user",
        build_args: &[],
        targets: &[],
        parent: false,
        known: &[],
    },
    Case {
        name: "copy",
        build_args: &[],
        targets: &[],
        parent: false,
        known: &[],
    },
    // `--chmod` replaces the 0777 bits only and keeps a source's set-id and
    // sticky bits (BuildKit's `(mode &^ 0777) | (chmod & 0777)`): `/chmodded`.
    Case {
        name: "copy-from",
        build_args: &[],
        targets: &[],
        parent: false,
        known: &[],
    },
    Case {
        name: "add",
        build_args: &[],
        targets: &[],
        parent: false,
        known: &[],
    },
    Case {
        name: "dockerignore",
        build_args: &[],
        targets: &[],
        parent: false,
        known: &[],
    },
    // Docker 20.10's built-in frontend predates here-documents (and `# syntax=`
    // would need the network): docker builds `Dockerfile.docker20`, the same
    // steps without them, so strata's here-documents are checked against what
    // they must produce.
    Case {
        name: "heredoc",
        build_args: &["WHO=strata"],
        targets: &[],
        parent: false,
        known: &[],
    },
    Case {
        name: "escape",
        build_args: &[],
        targets: &[],
        parent: false,
        known: &[],
    },
    Case {
        name: "scratch",
        build_args: &[],
        targets: &[],
        parent: false,
        known: &[],
    },
    Case {
        name: "whiteout",
        build_args: &[],
        targets: &[],
        parent: false,
        known: &[],
    },
    Case {
        name: "multistage",
        build_args: &["VERSION=2.0"],
        targets: &[],
        parent: false,
        known: &[],
    },
    Case {
        name: "run-mount",
        build_args: &[],
        targets: &[],
        parent: false,
        known: &[],
    },
    Case {
        name: "onbuild",
        build_args: &["CHILD_ARG=from-cli"],
        targets: &[],
        parent: true,
        known: &[],
    },
];

/// The config fields compared (`.Config.<field>`), and `.Author`.
const CONFIG_FIELDS: &[&str] = &[
    "Env",
    "Cmd",
    "Entrypoint",
    "WorkingDir",
    "User",
    "Labels",
    "ExposedPorts",
    "Volumes",
    "StopSignal",
    "Healthcheck",
    "OnBuild",
    "Shell",
];

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/build-diff")
}

/// Docker images this run made; all removed on drop, pass or fail.
struct DockerImages {
    docker: Peer,
    names: Mutex<Vec<String>>,
}

impl DockerImages {
    fn add(&self, name: &str) {
        self.names.lock().unwrap().push(name.to_owned());
    }

    fn docker(&self) -> std::process::Command {
        let mut c = self.docker.command();
        c.env("DOCKER_BUILDKIT", "1");
        c
    }
}

impl Drop for DockerImages {
    fn drop(&mut self) {
        let names = std::mem::take(&mut *self.names.lock().unwrap_or_else(|e| e.into_inner()));
        if !names.is_empty() {
            let _ = self
                .docker
                .command()
                .arg("rmi")
                .arg("-f")
                .args(&names)
                .output();
        }
    }
}

/// What one run shares between cases.
struct Run {
    images: DockerImages,
    /// What docker knows strata's busybox as.
    base: String,
    /// This run's suffix for docker image names.
    tag: String,
}

#[test]
fn builds_agree_with_buildkit() {
    let Some(s) = setup() else { return };
    let Some(docker) = require_peer("docker", &["info"]) else {
        return;
    };
    let started = Instant::now();
    let tag = format!("{}", std::process::id());
    let run = Run {
        images: DockerImages {
            docker,
            names: Mutex::new(Vec::new()),
        },
        base: format!("strata-diff-busybox-{tag}"),
        tag,
    };
    check_every_case_is_listed();

    // The base, as docker sees it: strata's own busybox under this run's name.
    s.ok(&["tag", "busybox:latest", &format!("{}:latest", run.base)]);
    let tar = s.dir.join("busybox.tar");
    s.ok(&["save", "-o", tar.to_str().unwrap(), &run.base]);
    run.images.add(&format!("{}:latest", run.base));
    let out = run
        .images
        .docker()
        .args(["load", "-i", tar.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "docker load: {}", text(&out.stderr));

    // Two cases at a time: dockerd and runc each keep a core busy.
    let next = Mutex::new(0usize);
    let failures = Mutex::new(Vec::<String>::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let i = {
                    let mut n = next.lock().unwrap();
                    *n += 1;
                    *n - 1
                };
                let Some(case) = CASES.get(i) else { break };
                let t = Instant::now();
                let found = run_case(&run, case);
                eprintln!(
                    "build-diff {}: {} in {:.1}s",
                    case.name,
                    if found.is_empty() {
                        "same"
                    } else {
                        "DIFFERENT"
                    },
                    t.elapsed().as_secs_f64()
                );
                failures.lock().unwrap().extend(found);
            });
        }
    });
    eprintln!(
        "build-diff: {} cases in {:.1}s",
        CASES.len(),
        started.elapsed().as_secs_f64()
    );
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "strata and BuildKit differ:\n\n{}",
        failures.join("\n\n")
    );
}

fn check_every_case_is_listed() {
    for e in fs::read_dir(cases_dir()).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        assert!(
            CASES.iter().any(|c| c.name == name),
            "testdata/build-diff/{name} is not in CASES"
        );
    }
}

/// Builds one case with both tools; returns the differences found.
fn run_case(run: &Run, case: &Case) -> Vec<String> {
    let s = Strata::with_busybox().unwrap();
    let work = TempDir::new("build-diff");
    let src = cases_dir().join(case.name);
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    names.insert("busybox".into(), run.base.clone());
    let mut found = Vec::new();
    if case.parent {
        let strata_name = format!("{}-parent", case.name);
        let docker_name = format!("strata-diff-{}-parent-{}", case.name, run.tag);
        let target = Target {
            label: format!("{}/parent", case.name),
            strata_name: strata_name.clone(),
            docker_name: docker_name.clone(),
            stage: None,
        };
        found.extend(build_and_compare(
            run,
            &s,
            &work,
            &src.join("parent"),
            &names,
            case,
            &target,
        ));
        names.insert(strata_name, docker_name);
    }
    let targets: Vec<Option<&str>> = if case.targets.is_empty() {
        vec![None]
    } else {
        case.targets.iter().copied().map(Some).collect()
    };
    for stage in targets {
        let suffix = stage
            .map(|t| format!("-{}", t.to_ascii_lowercase()))
            .unwrap_or_default();
        let target = Target {
            label: format!(
                "{}{}",
                case.name,
                stage.map(|t| format!(" --target {t}")).unwrap_or_default()
            ),
            strata_name: format!("diff-{}{suffix}", case.name),
            docker_name: format!("strata-diff-{}{suffix}-{}", case.name, run.tag),
            stage,
        };
        found.extend(build_and_compare(
            run, &s, &work, &src, &names, case, &target,
        ));
    }
    found
}

struct Target<'a> {
    label: String,
    strata_name: String,
    docker_name: String,
    stage: Option<&'a str>,
}

fn build_and_compare(
    run: &Run,
    s: &Strata,
    work: &TempDir,
    src: &Path,
    names: &BTreeMap<String, String>,
    case: &Case,
    target: &Target<'_>,
) -> Vec<String> {
    // One context for both, without the Dockerfiles (each gets its own,
    // outside the context, through -f).
    let dir = work.join(target.strata_name.replace('/', "_"));
    let ctx = dir.join("ctx");
    copy_tree(src, &ctx, &|rel| {
        !(rel.starts_with("Dockerfile") || rel == Path::new("parent"))
    });
    // Context files' owners never reach the image (docker's client resets
    // them); give them one that would show.
    chown_tree(&ctx, 4321);
    let dockerfile = fs::read_to_string(src.join("Dockerfile")).unwrap();
    // The oracle's own version of a Dockerfile it cannot read (see CASES):
    // the same files, but not the same steps, so layers are not compared.
    let (docker_text, alternative) = match fs::read_to_string(src.join("Dockerfile.docker20")) {
        Ok(t) => (t, true),
        Err(_) => (dockerfile.clone(), false),
    };
    let strata_df = dir.join("strata/Dockerfile");
    let docker_df = dir.join("docker/Dockerfile");
    fs::create_dir_all(strata_df.parent().unwrap()).unwrap();
    fs::create_dir_all(docker_df.parent().unwrap()).unwrap();
    fs::write(&strata_df, &dockerfile).unwrap();
    fs::write(&docker_df, for_docker(&docker_text, names)).unwrap();

    let mut args: Vec<String> = vec!["build".into(), "--progress".into(), "plain".into()];
    for a in case.build_args {
        args.push("--build-arg".into());
        args.push((*a).into());
    }
    if let Some(t) = target.stage {
        args.push("--target".into());
        args.push(t.into());
    }
    let mut strata_args = args.clone();
    strata_args.extend([
        "-t".into(),
        target.strata_name.clone(),
        "-f".into(),
        strata_df.to_str().unwrap().into(),
        ctx.to_str().unwrap().into(),
    ]);
    let mut docker_args = args;
    docker_args.extend([
        "-t".into(),
        target.docker_name.clone(),
        "-f".into(),
        docker_df.to_str().unwrap().into(),
        ctx.to_str().unwrap().into(),
    ]);

    run.images.add(&target.docker_name);
    let docker_out = run.images.docker().args(&docker_args).output().unwrap();
    let strata_args: Vec<&str> = strata_args.iter().map(String::as_str).collect();
    let strata_out = s.run(&strata_args);
    let label = &target.label;
    match (docker_out.status.success(), strata_out.status.success()) {
        (true, true) => {}
        (d, st) => {
            return vec![format!(
                "[{label}] docker build {}, strata build {}\n--- docker:\n{}\n--- strata:\n{}",
                if d { "succeeded" } else { "FAILED" },
                if st { "succeeded" } else { "FAILED" },
                tail(&text(&docker_out.stderr)),
                tail(&text(&strata_out.stderr)),
            )]
        }
    }

    let mut found = Vec::new();
    // Every step now comes from the cache: the same image, to the byte.
    let id = |s: &Strata| s.ok(&["images", "-q", "--no-trunc", &target.strata_name]);
    let first_id = id(s);
    let again = s.run(&strata_args);
    if !again.status.success() || id(s) != first_id {
        found.push(format!(
            "[{label}] a cached rebuild made another image ({} then {}):\n{}",
            first_id.trim(),
            id(s).trim(),
            tail(&text(&again.stderr))
        ));
    }
    let docker_json = run
        .images
        .docker()
        .args(["image", "inspect", &target.docker_name])
        .output()
        .unwrap();
    let config_diff = compare_configs(
        &first(&docker_json.stdout),
        &first(s.ok(&["inspect", &target.strata_name]).as_bytes()),
    );
    if !config_diff.is_empty() {
        found.push(format!("[{label}] config:\n{}", config_diff.join("\n")));
    }

    let docker_tar = dir.join("docker.tar");
    let strata_tar = dir.join("strata.tar");
    let out = run
        .images
        .docker()
        .args([
            "save",
            "-o",
            docker_tar.to_str().unwrap(),
            &target.docker_name,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "docker save: {}", text(&out.stderr));
    s.ok(&[
        "save",
        "-o",
        strata_tar.to_str().unwrap(),
        &target.strata_name,
    ]);
    let docker_tree = dir.join("docker-tree");
    let strata_tree = dir.join("strata-tree");
    let (docker_layers, docker_config) = flatten(&docker_tar, &docker_tree);
    let (strata_layers, strata_config) = flatten(&strata_tar, &strata_tree);
    if docker_layers != strata_layers && !alternative {
        let history = |img: &Value| -> String {
            img_history(img)
                .iter()
                .map(|h| format!("    {h}"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        found.push(format!(
            "[{label}] layers with files: docker has {docker_layers}, strata {strata_layers}\n  docker history:\n{}\n  strata history:\n{}",
            history(&docker_config),
            history(&strata_config),
        ));
    }
    let (known, diff): (Vec<String>, Vec<String>) =
        line_diff(&describe(&docker_tree), &describe(&strata_tree))
            .into_iter()
            .partition(|l| case.known.contains(&path_of(l)));
    if !known.is_empty() {
        let mut paths: Vec<&str> = known.iter().map(|l| path_of(l)).collect();
        paths.dedup();
        eprintln!(
            "build-diff {label}: known differences at {}",
            paths.join(" ")
        );
    }
    if !diff.is_empty() {
        found.push(format!(
            "[{label}] file trees (- docker, + strata):\n{}",
            diff.join("\n")
        ));
    }
    found
}

/// The compared fields of two `inspect` objects that differ.
fn compare_configs(docker: &Value, strata: &Value) -> Vec<String> {
    let mut diff = Vec::new();
    let author = |v: &Value| v.get("Author").cloned().unwrap_or(Value::Null);
    let (d, s) = (author(docker), author(strata));
    if d != s && !(is_empty(&d) && is_empty(&s)) {
        diff.push(format!("  Author: docker {d}\n  Author: strata {s}"));
    }
    for f in CONFIG_FIELDS {
        let get = |v: &Value| {
            v.get("Config")
                .and_then(|c| c.get(*f))
                .cloned()
                .unwrap_or(Value::Null)
        };
        let (d, s) = (get(docker), get(strata));
        if d != s {
            diff.push(format!("  {f}: docker {d}\n  {f}: strata {s}"));
        }
    }
    diff
}

fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

fn first(json: &[u8]) -> Value {
    let v: Value = serde_json::from_slice(json).unwrap();
    v.get(0).cloned().unwrap_or(Value::Null)
}

fn is_empty(v: &Value) -> bool {
    v.is_null() || v.as_str() == Some("")
}

/// The Dockerfile docker builds: no `# syntax=` line (it would need the
/// network), and image names mapped to the names docker has them under.
fn for_docker(text: &str, names: &BTreeMap<String, String>) -> String {
    let map = |word: &str| -> String {
        for (from, to) in names {
            if word == from {
                return to.clone();
            }
            if let Some(rest) = word.strip_prefix(&format!("{from}:")) {
                return format!("{to}:{rest}");
            }
        }
        word.to_owned()
    };
    let mut out = String::new();
    for line in text.lines() {
        if line.to_ascii_lowercase().starts_with("# syntax=") {
            continue;
        }
        let is_from = line.to_ascii_uppercase().starts_with("FROM ");
        let mut image_seen = false;
        let words: Vec<String> = line
            .split(' ')
            .enumerate()
            .map(|(i, w)| {
                if let Some(from) = w.strip_prefix("--from=") {
                    format!("--from={}", map(from))
                } else if is_from && i > 0 && !image_seen && !w.starts_with("--") {
                    image_seen = true;
                    map(w)
                } else {
                    w.to_owned()
                }
            })
            .collect();
        out.push_str(&words.join(" "));
        out.push('\n');
    }
    out
}
