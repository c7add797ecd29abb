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
}
