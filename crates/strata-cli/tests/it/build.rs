//! `strata build` end to end: real runc for RUN, the store's overlay snapshots,
//! the step cache across invocations (root; skipped locally without runc).

use std::fs;
use std::path::Path;

use crate::common::Strata;
use crate::containers::{code, setup, text};

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, content) in files {
        let p = dir.join(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, content).unwrap();
    }
}

fn build(s: &Strata, ctx: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["build", "--progress", "plain"];
    args.extend_from_slice(extra);
    args.push(ctx.to_str().unwrap());
    s.run(&args)
}

const SEED_MULTI_STAGE: &str = r#"# The seed's §3.2 example, with local images.
FROM busybox AS builder
WORKDIR /app
COPY . .
RUN mkdir -p out && cp main.sh out/myapp && chmod 755 out/myapp

FROM busybox
COPY --from=builder /app/out/myapp /usr/local/bin/
CMD ["myapp"]
"#;

#[test]
fn the_seeds_multi_stage_build_runs_and_is_cached() {
    let Some(s) = setup() else { return };
    let ctx = s.dir.join("ctx");
    write(
        &ctx,
        &[
            ("Dockerfile", SEED_MULTI_STAGE),
            ("main.sh", "#!/bin/sh\necho hello from myapp\n"),
            ("notes.md", "not needed\n"),
        ],
    );
    let out = build(&s, &ctx, &["-t", "myapp:v1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let log = text(&out.stderr);
    assert!(log.contains("[builder 4/4] RUN mkdir"), "{log}");
    assert!(!log.contains("CACHED"), "{log}");
    assert_eq!(s.ok(&["run", "--rm", "myapp:v1"]), "hello from myapp\n");
    let id = s.ok(&["images", "-q", "--no-trunc", "myapp:v1"]);

    // Nothing changed: every step comes from the cache, the image is the same.
    let out = build(&s, &ctx, &["-t", "myapp:v1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let log = text(&out.stderr);
    assert_eq!(log.matches("CACHED").count(), 4, "{log}");
    assert_eq!(s.ok(&["images", "-q", "--no-trunc", "myapp:v1"]), id);

    // Editing a file the COPY reads reruns that COPY and what follows it only.
    write(&ctx, &[("main.sh", "#!/bin/sh\necho edited\n")]);
    let out = build(&s, &ctx, &["-t", "myapp:v2"]);
    let log = text(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert_eq!(
        log.matches("CACHED").count(),
        1,
        "only WORKDIR is cached: {log}"
    );
    assert_eq!(s.ok(&["run", "--rm", "myapp:v2"]), "edited\n");

    // The final image has busybox's layer and the copied binary's, nothing of the builder.
    let layers = s.ok(&["inspect", "--format", "{{len .RootFS.Layers}}", "myapp:v2"]);
    assert_eq!(layers.trim(), "2");
    let out = s.run(&["run", "--rm", "myapp:v2", "ls", "/app"]);
    assert_ne!(
        code(&out),
        0,
        "the builder's /app is not in the final image"
    );
    s.assert_consistent();
}

#[test]
fn the_config_follows_the_instructions() {
    let Some(s) = setup() else { return };
    let ctx = s.dir.join("ctx");
    write(
        &ctx,
        &[(
            "Dockerfile",
            "FROM busybox\nARG GREETING=hi\nENV APP_HOME=/srv/app MODE=\"two words\"\n\
LABEL maintainer=\"dev@example.com\" version=1\nWORKDIR $APP_HOME\n\
RUN echo \"$GREETING from $(pwd)\" > greeting && echo app:x:1000:1000::/home/app:/bin/sh >> /etc/passwd\n\
USER app\nEXPOSE 8080 53/udp\nVOLUME /data\nSTOPSIGNAL SIGINT\n\
HEALTHCHECK --interval=5s CMD true\nENTRYPOINT [\"cat\"]\nCMD [\"greeting\"]\n",
        )],
    );
    let out = build(
        &s,
        &ctx,
        &[
            "-t",
            "cfg",
            "--build-arg",
            "GREETING=hello",
            "--label",
            "extra=yes",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(s.ok(&["run", "--rm", "cfg"]), "hello from /srv/app\n");
    let f = |t: &str| s.ok(&["inspect", "--format", t, "cfg"]).trim().to_owned();
    assert_eq!(f("{{.Config.User}}"), "app");
    assert_eq!(f("{{.Config.WorkingDir}}"), "/srv/app");
    assert_eq!(f("{{json .Config.Entrypoint}}"), r#"["cat"]"#);
    assert_eq!(
        f("{{index .Config.Labels \"maintainer\"}}"),
        "dev@example.com"
    );
    assert_eq!(f("{{index .Config.Labels \"extra\"}}"), "yes");
    assert_eq!(
        f("{{json .Config.ExposedPorts}}"),
        r#"{"53/udp":{},"8080/tcp":{}}"#
    );
    assert_eq!(f("{{.Config.StopSignal}}"), "SIGINT");
    assert!(f("{{json .Config.Env}}").contains(r#""MODE=two words""#));
    assert_eq!(
        s.ok(&["run", "--rm", "--entrypoint", "id", "cfg", "-u"])
            .trim(),
        "1000"
    );
}

#[test]
fn errors_name_the_line_and_lose_nothing() {
    let Some(s) = setup() else { return };
    let ctx = s.dir.join("ctx");
    write(&ctx, &[("Dockerfile", "FROM busybox\nFROB x\n")]);
    let err = s.fails(&["build", ctx.to_str().unwrap()]);
    assert!(
        err.contains("Dockerfile:2:1") && err.contains("FROB"),
        "{err}"
    );

    write(
        &ctx,
        &[(
            "Dockerfile",
            "FROM busybox\nRUN echo before-failing; exit 3\n",
        )],
    );
    let err = s.fails(&["build", "--progress", "plain", ctx.to_str().unwrap()]);
    assert!(
        err.contains("Dockerfile:2") && err.contains("exit code 3"),
        "{err}"
    );
    assert!(
        err.contains("before-failing"),
        "the output's tail is shown: {err}"
    );

    write(
        &ctx,
        &[("Dockerfile", "FROM busybox\nCOPY missing.txt /x\n")],
    );
    let err = s.fails(&["build", ctx.to_str().unwrap()]);
    assert!(err.contains("missing.txt"), "{err}");

    write(
        &ctx,
        &[("Dockerfile", "FROM busybox\nCOPY ../outside /x\n")],
    );
    let err = s.fails(&["build", ctx.to_str().unwrap()]);
    assert!(err.contains("outside the build context"), "{err}");

    write(&ctx, &[("Dockerfile", "FROM no-such-image\n")]);
    let err = s.fails(&["build", ctx.to_str().unwrap()]);
    assert!(err.contains("no-such-image"), "{err}");
    assert_eq!(s.ok(&["images", "-q"]).lines().count(), 1, "only busybox");
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(s.root().to_str().unwrap()),
        "no mount left behind"
    );
    s.assert_consistent();
}

#[test]
fn dockerignore_and_copy_semantics() {
    let Some(s) = setup() else { return };
    let ctx = s.dir.join("ctx");
    write(
        &ctx,
        &[
            (
                "Dockerfile",
                "FROM busybox\nCOPY . /all/\nCOPY *.txt /txt/\nCOPY dir /flat\n\
COPY --chown=1000:1000 --chmod=640 a.txt /owned\nRUN ls -A /all | sort | tr '\\n' ' ' > /listing && stat -c '%a %u:%g' /owned >> /listing\n\
CMD [\"sh\", \"-c\", \"cat /listing; ls /txt /flat\"]\n",
            ),
            (".dockerignore", "*.log\nsecret/\n!secret/public\n"),
            ("a.txt", "a"),
            ("b.txt", "b"),
            ("debug.log", "no"),
            ("secret/key", "no"),
            ("secret/public", "yes"),
            ("dir/inner", "i"),
        ],
    );
    let out = build(&s, &ctx, &["-t", "cp"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let got = s.ok(&["run", "--rm", "cp"]);
    let mut lines = got.lines();
    assert_eq!(
        lines.next().unwrap(),
        ".dockerignore Dockerfile a.txt b.txt dir secret 640 1000:1000"
    );
    let rest: Vec<&str> = lines.collect();
    assert_eq!(rest, ["/flat:", "inner", "", "/txt:", "a.txt", "b.txt"]);
    let public = s.ok(&["run", "--rm", "cp", "ls", "/all/secret"]);
    assert_eq!(public, "public\n");

    // BuildKit's NAME.dockerignore beside the Dockerfile replaces .dockerignore.
    write(
        &ctx,
        &[
            ("build/App.Dockerfile", "FROM busybox\nCOPY . /all/\n"),
            ("build/App.Dockerfile.dockerignore", "b.txt\nbuild\n"),
        ],
    );
    let file = ctx.join("build/App.Dockerfile");
    let out = build(&s, &ctx, &["-f", file.to_str().unwrap(), "-t", "beside"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listing = s.ok(&["run", "--rm", "beside", "ls", "-A", "/all"]);
    assert_eq!(
        listing.split_whitespace().collect::<Vec<_>>(),
        [
            ".dockerignore",
            "Dockerfile",
            "a.txt",
            "debug.log",
            "dir",
            "secret"
        ]
    );
}

#[test]
fn heredocs_run_as_scripts_programs_and_files() {
    let Some(s) = setup() else { return };
    let ctx = s.dir.join("ctx");
    write(
        &ctx,
        &[(
            "Dockerfile",
            "FROM busybox\nRUN <<EOF\necho one > /one\necho two >> /one\nEOF\n\
RUN <<-\"END\"\n\t#!/bin/sh\n\techo \"program $0\" > /two\n\tEND\n\
RUN cat > /three <<X && echo tail >> /three\nline\nX\n\
ARG WHO=world\nCOPY <<EOF /four\nhello $WHO\nEOF\nCMD cat /one /two /three /four\n",
        )],
    );
    let out = build(&s, &ctx, &["-t", "hd"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        s.ok(&["run", "--rm", "hd"]),
        "one\ntwo\nprogram /dev/pipes/END\nline\ntail\nhello world\n"
    );
}

#[test]
fn build_flags_work_as_dockers() {
    let Some(s) = setup() else { return };
    let ctx = s.dir.join("ctx");
    write(
        &ctx,
        &[
            (
                "Dockerfile",
                "FROM busybox AS base\nRUN echo base > /base\n\
FROM base AS offline\nRUN --network=none ip -o link | cut -d: -f2 | tr -d ' \\n' > /links\n\
FROM busybox\nRUN echo final > /final\n",
            ),
            ("data.txt", "x"),
        ],
    );
    // --target, -q, --iidfile.
    let iid = s.dir.join("iid");
    let out = build(
        &s,
        &ctx,
        &[
            "-q",
            "--target",
            "offline",
            "--iidfile",
            iid.to_str().unwrap(),
            "-t",
            "off",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let id = text(&out.stdout).trim().to_owned();
    assert!(
        id.starts_with("sha256:") && text(&out.stderr).is_empty(),
        "{id}"
    );
    assert_eq!(fs::read_to_string(&iid).unwrap(), id);
    assert_eq!(
        s.ok(&["run", "--rm", "off", "cat", "/links"]),
        "lo",
        "RUN --network=none has only loopback"
    );
    assert_eq!(s.ok(&["run", "--rm", "off", "cat", "/base"]), "base\n");

    // --output writes an archive docker load reads; the image is in the store too.
    let tar = s.dir.join("out.tar");
    let spec = format!("type=docker,dest={}", tar.display());
    let out = build(&s, &ctx, &["-t", "final", "--output", &spec]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listing = std::process::Command::new("tar")
        .arg("-tf")
        .arg(&tar)
        .output()
        .unwrap();
    assert!(text(&listing.stdout).contains("manifest.json"));

    // A Dockerfile on stdin, no context.
    let mut child = s
        .cmd(&["build", "-q", "-t", "stdin", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"FROM busybox\nCMD [\"echo\", \"from stdin\"]\n")
        .unwrap();
    assert!(child.wait_with_output().unwrap().status.success());
    assert_eq!(s.ok(&["run", "--rm", "stdin"]), "from stdin\n");

    // By default a RUN has a namespace of its own on the bridge (loopback and
    // one interface with an address), not the host's interfaces.
    write(
        &ctx,
        &[(
            "Dockerfile",
            "FROM busybox\nRUN ip -o link | cut -d: -f2 | cut -d@ -f1 | tr -d ' \\n' > /links && ip -o -4 addr | grep -c 10.89. > /addr\n",
        )],
    );
    let out = build(&s, &ctx, &["-t", "bridged"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(s.ok(&["run", "--rm", "bridged", "cat", "/links"]), "loeth0");
    assert_eq!(s.ok(&["run", "--rm", "bridged", "cat", "/addr"]), "1\n");

    // --network none for every RUN; --rm is accepted; --pull says why not.
    write(
        &ctx,
        &[(
            "Dockerfile",
            "FROM busybox\nRUN ip -o link | cut -d: -f2 | tr -d ' \\n' > /links\n",
        )],
    );
    let out = build(&s, &ctx, &["--rm", "--network", "none", "-t", "net"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(s.ok(&["run", "--rm", "net", "cat", "/links"]), "lo");
    let err = s.fails(&["build", "--pull", ctx.to_str().unwrap()]);
    assert!(err.contains("--pull"), "{err}");

    // ADD of a URL fails clearly: there is no network to fetch it.
    write(
        &ctx,
        &[("Dockerfile", "FROM busybox\nADD http://example.com/x /x\n")],
    );
    let err = s.fails(&["build", ctx.to_str().unwrap()]);
    assert!(
        err.contains("Dockerfile:2") && err.contains("http://example.com/x"),
        "{err}"
    );
}

#[test]
fn source_date_epoch_makes_builds_reproducible() {
    let Some(_) = setup() else { return };
    let stores = [Strata::new(), Strata::new()];
    let epoch = ("SOURCE_DATE_EPOCH", "1700000000");
    let ctx = stores[0].dir.join("ctx");
    write(
        &ctx,
        &[
            (
                "Dockerfile",
                "FROM busybox\nWORKDIR /app\nCOPY . .\nRUN echo built > out && mkdir -p d/e\n",
            ),
            ("src/a.txt", "a"),
            ("b.txt", "b"),
        ],
    );
    let rootfs = crate::common::busybox_rootfs(stores[0].dir.path()).unwrap();
    let ids: Vec<String> = stores
        .iter()
        .map(|s| {
            let import = s
                .cmd(&["import", rootfs.to_str().unwrap(), "busybox:latest"])
                .env(epoch.0, epoch.1)
                .output()
                .unwrap();
            assert!(import.status.success(), "{}", text(&import.stderr));
            // A build without the epoch first: its cache must not leak into
            // the reproducible one.
            let plain = s
                .cmd(&["build", "-q", ctx.to_str().unwrap()])
                .output()
                .unwrap();
            assert!(plain.status.success(), "{}", text(&plain.stderr));
            let out = s
                .cmd(&["build", "-q", ctx.to_str().unwrap()])
                .env(epoch.0, epoch.1)
                .output()
                .unwrap();
            assert!(out.status.success(), "{}", text(&out.stderr));
            text(&out.stdout).trim().to_owned()
        })
        .collect();
    assert_eq!(ids[0], ids[1], "same inputs, same image in two stores");
    let created = stores[0].ok(&["inspect", "--format", "{{.Created}}", &ids[0]]);
    assert!(created.starts_with("2023-11-14T22:13:20"), "{created}");
}

#[test]
fn a_build_killed_mid_step_leaves_no_mount_and_a_consistent_store() {
    let Some(s) = setup() else { return };
    let ctx = s.dir.join("ctx");
    write(
        &ctx,
        &[(
            "Dockerfile",
            "FROM busybox\nRUN echo started; sleep 1; echo never > /x\n",
        )],
    );
    let mut child = s
        .cmd(&["build", "--progress", "plain", ctx.to_str().unwrap()])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Killed once the RUN has started (its overlay is mounted).
    let mut stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while std::io::BufRead::read_line(&mut stderr, &mut line).unwrap() > 0
        && !line.contains("started")
    {}
    child.kill().unwrap();
    child.wait().unwrap();
    // The step's runc ends on its own; its mount in our namespace stays until cleaned.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    s.ok(&["image", "prune", "-f"]);
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(s.root().to_str().unwrap()),
        "no mount left behind"
    );
    s.assert_consistent();
    // And the next build completes.
    let out = build(&s, &ctx, &["-t", "after"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn the_build_cache_survives_image_removal_until_builder_prune() {
    let Some(s) = setup() else { return };
    let ctx = s.dir.join("ctx");
    write(
        &ctx,
        &[(
            "Dockerfile",
            "FROM busybox\nRUN echo cached > /f\nCMD [\"cat\", \"/f\"]\n",
        )],
    );
    assert!(build(&s, &ctx, &["-t", "c"]).status.success());
    s.ok(&["rmi", "c"]);
    s.ok(&["image", "prune", "-f"]);
    let df = s.ok(&["system", "df"]);
    assert!(
        df.lines()
            .any(|l| l.starts_with("Build Cache") && !l.contains(" 0B ")),
        "{df}"
    );

    // The step's layer outlived the image; its snapshot is unpacked again.
    let out = build(&s, &ctx, &["-t", "c"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr).matches("CACHED").count(), 1);
    assert_eq!(s.ok(&["run", "--rm", "c"]), "cached\n");

    let pruned = s.ok(&["builder", "prune", "-f"]);
    assert!(pruned.starts_with("Total reclaimed space:"), "{pruned}");
    let out = build(&s, &ctx, &["-t", "c"]);
    assert!(out.status.success() && !text(&out.stderr).contains("CACHED"));
    s.assert_consistent();
}

#[test]
fn run_bind_mounts_stay_inside_their_tree_and_rw_writes_are_discarded() {
    let Some(s) = setup() else { return };
    let ctx = s.dir.join("ctx");
    write(
        &ctx,
        &[
            (
                "Dockerfile",
                "FROM busybox AS evil\nRUN ln -s / /escape && echo stage-etc > /etc/marker\n\
FROM busybox\n\
RUN --mount=type=bind,from=evil,source=/escape/etc,target=/x cat /x/marker > /seen\n\
RUN --mount=type=bind,source=.,target=/ctx,rw echo scribble > /ctx/written && cat /ctx/data.txt > /ctx-data\n",
            ),
            ("data.txt", "from-context"),
        ],
    );
    std::os::unix::fs::symlink("/etc", ctx.join("hostetc")).unwrap();
    let out = build(&s, &ctx, &["-t", "mounts"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The stage's absolute symlink resolved inside the stage, not on the host.
    assert_eq!(
        s.ok(&["run", "--rm", "mounts", "cat", "/seen"]),
        "stage-etc\n"
    );
    assert_eq!(
        s.ok(&["run", "--rm", "mounts", "cat", "/ctx-data"]),
        "from-context"
    );
    assert!(
        !ctx.join("written").exists(),
        "rw writes never reach the context"
    );

    // A context symlink to /etc is looked up inside the context: not found.
    write(
        &ctx,
        &[(
            "Dockerfile",
            "FROM busybox\nRUN --mount=type=bind,source=hostetc,target=/x,rw touch /x/pwned\n",
        )],
    );
    let err = s.fails(&["build", ctx.to_str().unwrap()]);
    assert!(err.contains("hostetc"), "{err}");
    assert!(!std::path::Path::new("/etc/pwned").exists());
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(s.root().to_str().unwrap()),
        "no mount left behind"
    );
}

#[test]
fn here_document_names_never_name_host_files() {
    let Some(s) = setup() else { return };
    let ctx = s.dir.join("ctx");
    let victim = s.dir.join("victim");
    let climb = format!("../../../../../../../..{}", victim.display());
    for dockerfile in [
        format!("FROM busybox\nCOPY <<{climb} /x\npwned\n{climb}\n"),
        format!("FROM busybox\nRUN <<{climb}\n#!/bin/sh\necho pwned\n{climb}\n"),
    ] {
        write(&ctx, &[("Dockerfile", &dockerfile)]);
        let err = s.fails(&["build", ctx.to_str().unwrap()]);
        assert!(err.contains("cannot be a file name"), "{err}");
        assert!(!victim.exists(), "nothing was written outside the build");
    }
}

#[test]
fn hostile_contexts_and_stages_get_clear_errors_not_host_files() {
    let Some(s) = setup() else { return };
    let ctx = s.dir.join("ctx");
    fs::create_dir_all(&ctx).unwrap();
    // The context's Dockerfile is read inside the context.
    std::os::unix::fs::symlink("/etc/passwd", ctx.join("Dockerfile")).unwrap();
    let err = s.fails(&["build", ctx.to_str().unwrap()]);
    assert!(
        !err.contains("root:"),
        "a host file leaked into the output: {err}"
    );
    fs::remove_file(ctx.join("Dockerfile")).unwrap();

    // A FIFO as .dockerignore, or as an rw bind source: refused, no hang.
    let fifo = ctx.join(".dockerignore");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    write(&ctx, &[("Dockerfile", "FROM busybox\n")]);
    let err = s.fails(&["build", ctx.to_str().unwrap()]);
    assert!(err.contains("not a regular file"), "{err}");
    fs::remove_file(&fifo).unwrap();
    write(
        &ctx,
        &[(
            "Dockerfile",
            "FROM busybox AS s\nRUN mkfifo /f\nFROM busybox\nRUN --mount=type=bind,from=s,source=/f,target=/x,rw true\n",
        )],
    );
    let err = s.fails(&["build", ctx.to_str().unwrap()]);
    assert!(
        err.contains("neither a directory nor a regular file"),
        "{err}"
    );

    // A ':' in a bind source's path cannot add a host directory as a layer.
    fs::create_dir_all(ctx.join("a:/etc")).unwrap();
    write(
        &ctx,
        &[(
            "Dockerfile",
            "FROM busybox\nRUN --mount=type=bind,source=a:/etc,target=/x,rw cat /x/passwd\n",
        )],
    );
    let err = s.fails(&["build", "--progress", "plain", ctx.to_str().unwrap()]);
    assert!(
        err.contains("cannot be an overlay layer") && !err.contains("root:x:0"),
        "{err}"
    );

    // A deep tree written by RUN is committed without exhausting the stack.
    write(
        &ctx,
        &[(
            "Dockerfile",
            "FROM busybox\nRUN i=0; while [ $i -lt 1500 ]; do mkdir d; cd d; i=$((i+1)); done\n",
        )],
    );
    let out = build(&s, &ctx, &["-t", "deep"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(s.root().to_str().unwrap()),
        "no mount left behind"
    );
    s.assert_consistent();
}
