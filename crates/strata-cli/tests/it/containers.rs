//! Containers through the real runc and Debian's CNI plugins (root; skipped
//! locally without them, required in CI). Every test uses its own store and
//! removes its containers (and so their mounts, namespaces and rules).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::common::Strata;

/// A store with busybox, when this machine can run containers.
pub(crate) fn setup() -> Option<Strata> {
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipping: containers need root");
        return None;
    }
    strata_testkit::require_peer("runc", &["--version"])?;
    Strata::with_busybox()
}

pub(crate) fn code(out: &std::process::Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn run_streams_output_and_exits_with_the_containers_code() {
    let Some(s) = setup() else { return };
    let out = s.run(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "echo to-out; echo to-err >&2; exit 3",
    ]);
    assert_eq!(code(&out), 3);
    assert_eq!(text(&out.stdout), "to-out\n");
    assert_eq!(text(&out.stderr), "to-err\n");
    assert_eq!(s.ok(&["ps", "-aq"]), "", "--rm removed it");
    let out = s.run(&["run", "--rm", "busybox", "no-such-command"]);
    assert_eq!(code(&out), 127, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("executable file not found"));
    assert_eq!(s.ok(&["ps", "-aq"]), "");
}

#[test]
fn detached_containers_outlive_the_cli_with_logs_and_exit_code() {
    let Some(s) = setup() else { return };
    let id = s.ok(&[
        "run",
        "-d",
        "--name",
        "ticker",
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3; do echo tick $i; sleep 0.2; done; echo done >&2; exit 7",
    ]);
    assert_eq!(id.trim().len(), 64);
    let ps = s.ok(&["ps", "--format", "{{.Names}} {{.State}}"]);
    assert_eq!(ps, "ticker running\n");
    // `logs -f` follows until the exit.
    let out = s.run(&["logs", "-f", "ticker"]);
    assert_eq!(text(&out.stdout), "tick 1\ntick 2\ntick 3\n");
    assert_eq!(text(&out.stderr), "done\n");
    assert_eq!(s.ok(&["wait", "ticker"]), "7\n");
    let state = s.ok(&[
        "inspect",
        "-f",
        "{{.State.Status}} {{.State.ExitCode}} {{.State.Running}} {{.State.OOMKilled}}",
        "ticker",
    ]);
    assert_eq!(state, "exited 7 false false\n");
    assert!(!s
        .ok(&["inspect", "-f", "{{.State.FinishedAt}}", "ticker"])
        .starts_with("0001"));
    let tail = s.run(&["logs", "--tail", "2", "ticker"]);
    assert_eq!(
        (text(&tail.stdout), text(&tail.stderr)),
        ("tick 3\n".into(), "done\n".into())
    );
    assert!(s.ok(&["logs", "-t", "ticker"]).starts_with("20"));
    assert!(s.ok(&["ps", "-a"]).contains("Exited (7)"));
    // Started again: same container, output appended.
    s.ok(&["start", "ticker"]);
    assert_eq!(s.ok(&["wait", "ticker"]), "7\n");
    assert_eq!(s.ok(&["logs", "ticker"]).lines().count(), 6);
    s.ok(&["rm", "ticker"]);
    assert!(s.fails(&["logs", "ticker"]).contains("no such container"));
}

#[test]
fn exec_runs_in_the_running_container() {
    let Some(s) = setup() else { return };
    s.ok(&[
        "run",
        "-d",
        "--name",
        "box",
        "-e",
        "FROM_RUN=1",
        "busybox",
        "sleep",
        "60",
    ]);
    let out = s.ok(&[
        "exec",
        "-e",
        "FROM_EXEC=2",
        "box",
        "sh",
        "-c",
        "echo $FROM_RUN$FROM_EXEC; echo $(cat /proc/1/cmdline | tr '\\0' ' ')",
    ]);
    assert_eq!(out, "12\nsleep 60\n");
    assert_eq!(
        s.ok(&[
            "exec",
            "-u",
            "1000",
            "-w",
            "/tmp",
            "box",
            "sh",
            "-c",
            "id -u; pwd"
        ]),
        "1000\n/tmp\n"
    );
    let out = s.run(&["exec", "box", "sh", "-c", "exit 5"]);
    assert_eq!(code(&out), 5);
    let top = s.ok(&["top", "box"]);
    assert!(top.starts_with("UID") && top.contains("sleep 60"), "{top}");
    s.ok(&["kill", "box"]);
    assert_eq!(s.ok(&["wait", "box"]), "137\n");
    let err = s.fails(&["exec", "box", "true"]);
    assert!(err.contains("is not running"), "{err}");
}

fn http_get(port: u16) -> String {
    let mut last = String::new();
    for _ in 0..50 {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(mut c) => {
                c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                c.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
                let mut body = String::new();
                let _ = c.read_to_string(&mut body);
                if !body.is_empty() {
                    return body;
                }
            }
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("nothing answered on 127.0.0.1:{port}: {last}");
}

#[test]
fn a_published_port_answers_on_localhost() {
    let Some(s) = setup() else { return };
    let www = s.dir.join("www");
    std::fs::create_dir_all(&www).unwrap();
    std::fs::write(
        www.join("index.html"),
        "served by busybox httpd in strata\n",
    )
    .unwrap();
    let port = 18000 + (std::process::id() % 1000) as u16;
    let publish = format!("{port}:80");
    let volume = format!("{}:/www:ro", www.display());
    s.ok(&[
        "run", "-d", "--name", "web", "-p", &publish, "-v", &volume, "busybox", "httpd", "-f",
        "-p", "80", "-h", "/www",
    ]);
    let body = http_get(port);
    assert!(body.contains("served by busybox httpd in strata"), "{body}");
    let ports = s.ok(&["inspect", "-f", "{{json .NetworkSettings.Ports}}", "web"]);
    assert_eq!(
        ports.trim(),
        format!(r#"{{"80/tcp":[{{"HostIp":"0.0.0.0","HostPort":"{port}"}}]}}"#)
    );
    assert!(s.ok(&["ps"]).contains(&format!("0.0.0.0:{port}->80/tcp")));
    s.ok(&["rm", "-f", "web"]);
    // Refused, or (a stale conntrack entry pointing at the gone container)
    // unanswered: either way nothing serves it any more.
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    assert!(
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err(),
        "the port is closed after rm"
    );
}

#[test]
fn networks_none_host_and_bridge_behave_like_docker() {
    let Some(s) = setup() else { return };
    let links = s.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "busybox",
        "sh",
        "-c",
        "ls /sys/class/net",
    ]);
    assert_eq!(links, "lo\n");
    let links = s.ok(&[
        "run",
        "--rm",
        "--network",
        "host",
        "busybox",
        "sh",
        "-c",
        "ls /sys/class/net | wc -l",
    ]);
    assert!(
        links.trim().parse::<u32>().unwrap() > 1,
        "host network sees the host's interfaces"
    );
    // Two bridged containers reach each other.
    s.ok(&[
        "run",
        "-d",
        "--name",
        "server",
        "busybox",
        "sh",
        "-c",
        "echo hello-peer | nc -l -p 9000",
    ]);
    let ip = s.ok(&["inspect", "-f", "{{.NetworkSettings.IPAddress}}", "server"]);
    let ip = ip.trim();
    assert!(ip.starts_with("10.89."), "{ip}");
    let got = s.ok(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        &format!("for i in 1 2 3 4 5 6 7 8 9 10; do nc {ip} 9000 && break; sleep 0.2; done"),
    ]);
    assert_eq!(got, "hello-peer\n");
    let gw = s.ok(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "ip route | grep default",
    ]);
    assert!(
        gw.contains("via 10.89.0.1"),
        "outbound goes through the bridge: {gw}"
    );
}

#[test]
fn users_read_only_roots_and_tmpfs() {
    let Some(s) = setup() else { return };
    assert_eq!(
        s.ok(&["run", "--rm", "-u", "1000", "busybox", "id", "-u"]),
        "1000\n"
    );
    assert_eq!(
        s.ok(&[
            "run",
            "--rm",
            "-u",
            "app",
            "busybox",
            "sh",
            "-c",
            "id -un; echo $HOME"
        ]),
        "app\n/home\n"
    );
    let out = s.run(&["run", "--rm", "--read-only", "busybox", "touch", "/blocked"]);
    assert_ne!(code(&out), 0);
    assert!(text(&out.stderr).contains("Read-only file system"));
    s.ok(&[
        "run",
        "--rm",
        "--read-only",
        "--tmpfs",
        "/scratch",
        "busybox",
        "touch",
        "/scratch/ok",
    ]);
    let err = s.run(&["run", "--rm", "-u", "ghost", "busybox", "true"]);
    assert_eq!(code(&err), 125);
    assert!(text(&err.stderr).contains("unable to find user ghost"));
}

#[test]
fn the_default_seccomp_profile_and_no_new_privileges_hold() {
    let Some(s) = setup() else { return };
    let out = s.run(&["run", "--rm", "busybox", "unshare", "-r", "true"]);
    assert_ne!(code(&out), 0, "the default profile blocks unshare");
    assert!(text(&out.stderr).contains("Operation not permitted"));
    let out = s.run(&[
        "run",
        "--rm",
        "--security-opt",
        "seccomp=unconfined",
        "busybox",
        "unshare",
        "-r",
        "true",
    ]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let status = s.ok(&[
        "run",
        "--rm",
        "busybox",
        "grep",
        "-E",
        "^(Seccomp|NoNewPrivs):",
        "/proc/self/status",
    ]);
    assert_eq!(status, "NoNewPrivs:\t0\nSeccomp:\t2\n");
    let status = s.ok(&[
        "run",
        "--rm",
        "--security-opt",
        "no-new-privileges",
        "busybox",
        "grep",
        "NoNewPrivs",
        "/proc/self/status",
    ]);
    assert_eq!(status, "NoNewPrivs:\t1\n");
    let caps = s.ok(&[
        "run",
        "--rm",
        "--cap-drop",
        "ALL",
        "busybox",
        "grep",
        "CapEff",
        "/proc/self/status",
    ]);
    assert_eq!(caps, "CapEff:\t0000000000000000\n");
}

#[test]
fn exceeding_the_memory_limit_ends_oom_killed() {
    let Some(s) = setup() else { return };
    let out = s.run(&[
        "run",
        "--name",
        "hog",
        "--memory",
        "32m",
        "busybox",
        "sh",
        "-c",
        "x=a; while true; do x=$x$x; done",
    ]);
    assert_eq!(code(&out), 137);
    assert_eq!(
        s.ok(&[
            "inspect",
            "-f",
            "{{.State.OOMKilled}} {{.State.ExitCode}}",
            "hog"
        ]),
        "true 137\n"
    );
    let limit = s.ok(&["run", "--rm", "--memory", "64m", "--pids-limit", "50", "--cpus", "0.5", "busybox", "sh", "-c",
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us"]);
    assert_eq!(limit, format!("{}\n50\n50000\n", 64 << 20));
}

#[test]
fn stop_sends_the_stop_signal_then_kills_after_the_timeout() {
    let Some(s) = setup() else { return };
    // Traps SIGTERM (the default stop signal) and exits with its own code.
    s.ok(&[
        "run",
        "-d",
        "--name",
        "polite",
        "busybox",
        "sh",
        "-c",
        "trap 'exit 42' TERM; while true; do sleep 0.1; done",
    ]);
    s.ok(&["stop", "polite"]);
    assert_eq!(
        s.ok(&["inspect", "-f", "{{.State.ExitCode}}", "polite"]),
        "42\n"
    );
    // A custom stop signal.
    s.ok(&[
        "run",
        "-d",
        "--name",
        "usr1",
        "--stop-signal",
        "USR1",
        "busybox",
        "sh",
        "-c",
        "trap 'exit 10' USR1; while true; do sleep 0.1; done",
    ]);
    s.ok(&["stop", "usr1"]);
    assert_eq!(
        s.ok(&["inspect", "-f", "{{.State.ExitCode}}", "usr1"]),
        "10\n"
    );
    // PID 1 ignores SIGTERM without a handler: killed when the timeout ends.
    s.ok(&["run", "-d", "--name", "stubborn", "busybox", "sleep", "60"]);
    s.ok(&["stop", "-t", "1", "stubborn"]);
    assert_eq!(
        s.ok(&["inspect", "-f", "{{.State.ExitCode}}", "stubborn"]),
        "137\n"
    );
}

#[test]
fn containers_from_one_image_are_isolated() {
    let Some(s) = setup() else { return };
    for name in ["one", "two"] {
        s.ok(&[
            "run",
            "-d",
            "--name",
            name,
            "--hostname",
            name,
            "busybox",
            "sh",
            "-c",
            "echo mine > /only-$(hostname); sleep 60",
        ]);
    }
    for name in ["one", "two"] {
        assert_eq!(s.ok(&["exec", name, "hostname"]), format!("{name}\n"));
        let init = s.ok(&[
            "exec",
            name,
            "sh",
            "-c",
            "cat /proc/1/cmdline | tr '\\0' ' '; echo",
        ]);
        assert!(
            init.contains(&format!("--hostname {name}")) || init.contains("sleep 60"),
            "own PID namespace: {init}"
        );
        let other = if name == "one" { "two" } else { "one" };
        let out = s.run(&["exec", name, "ls", &format!("/only-{other}")]);
        assert_ne!(code(&out), 0, "writable layers are separate");
    }
    let ips: Vec<String> = ["one", "two"]
        .iter()
        .map(|n| s.ok(&["inspect", "-f", "{{.NetworkSettings.IPAddress}}", n]))
        .collect();
    assert_ne!(ips[0], ips[1]);
}

#[test]
fn images_in_use_are_kept_and_errors_are_clear() {
    let Some(s) = setup() else { return };
    s.ok(&["create", "--name", "user", "busybox", "true"]);
    s.ok(&[
        "run",
        "--name",
        "writer",
        "busybox",
        "sh",
        "-c",
        "head -c 5000 /dev/zero >/f",
    ]);
    let df = s.ok(&[
        "system",
        "df",
        "--format",
        "{{.Type}} {{.TotalCount}} {{.Active}} {{.Size}}",
    ]);
    assert!(
        df.contains("Images 1 1 ") && df.contains("Containers 2 0 5kB"),
        "{df}"
    );
    assert!(s
        .ok(&["system", "df", "-v"])
        .contains("Containers space usage:"));
    s.ok(&["rm", "writer"]);
    let err = s.fails(&["rmi", "busybox"]);
    assert!(
        err.contains("container") && err.contains("is using its referenced image"),
        "{err}"
    );
    assert!(s
        .ok(&["rmi", "-f", "busybox"])
        .contains("Untagged: busybox:latest"));
    s.ok(&["image", "prune", "-a", "-f"]);
    // The image stays while the container exists.
    s.ok(&["start", "-a", "user"]);
    s.ok(&["rm", "user"]);
    s.ok(&["image", "prune", "-f"]);
    assert_eq!(s.ok(&["images", "-qa"]), "");
    s.assert_consistent();

    let Some(s) = setup() else { return };
    let out = s.run(&["run", "nosuch", "true"]);
    assert_eq!(code(&out), 125);
    assert!(text(&out.stderr).contains("no such image: nosuch:latest"));
    let err = s.fails(&["run", "-p", "99999:80", "busybox", "true"]);
    assert!(err.contains("invalid port spec"), "{err}");
    let err = s.fails(&["run", "--runtime", "/nonexistent/runc", "busybox", "true"]);
    assert!(err.contains("Debian package `runc`"), "{err}");
    s.ok(&["create", "--name", "taken", "busybox", "true"]);
    let err = s.fails(&["create", "--name", "taken", "busybox", "true"]);
    assert!(err.contains("is already in use"), "{err}");
    s.ok(&["run", "-d", "--name", "running", "busybox", "sleep", "60"]);
    let err = s.fails(&["rm", "running"]);
    assert!(
        err.contains("stop the container before removing or force remove"),
        "{err}"
    );
    s.ok(&["rm", "-f", "running"]);
    let pruned = s.ok(&["container", "prune", "-f"]);
    assert!(pruned.starts_with("Deleted Containers:\n"), "{pruned}");
    assert_eq!(s.ok(&["ps", "-aq"]), "");
}

#[test]
fn a_store_reached_through_a_symlink_leaves_no_mount_behind() {
    let Some(s) = setup() else { return };
    let link = s.dir.join("link");
    std::os::unix::fs::symlink(s.root(), &link).unwrap();
    let via_link = |args: &[&str]| {
        let out = s.cmd(args).env("STRATA_ROOT", &link).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        text(&out.stdout)
    };
    via_link(&["run", "--name", "linked", "busybox", "true"]);
    via_link(&["start", "-a", "linked"]);
    via_link(&["rm", "linked"]);
    let real = std::fs::canonicalize(s.root()).unwrap();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(real.to_str().unwrap()),
        "a mount under the store is left: {mounts}"
    );
    assert!(via_link(&["info"]).contains(&format!("Root Dir: {}", real.display())));
}
