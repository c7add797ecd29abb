//! The generated seccomp filters, run by the real runc (`/usr/bin/runc`) on a
//! busybox root file system. Root only: skipped (with a note) otherwise, or
//! when runc or a static busybox is missing.
//!
//! Every container is deleted (`runc delete -f`) and every temporary
//! directory removed, also when an assertion fails.

use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use strata_runtime::caps::{effective_caps, spec_capabilities};
use strata_runtime::seccomp::default_spec;
use strata_runtime::spec::{Linux, Mount, Namespace, Process, Rlimit, Root, Seccomp, Spec, User};

const RUNC: &str = "/usr/bin/runc";
const BUSYBOX: &str = "/bin/busybox";
/// Applets linked into the root file system.
const APPLETS: &[&str] = &["sh", "echo", "cat", "ls", "grep", "unshare", "id", "true"];
/// How long one container may run.
const TIMEOUT: Duration = Duration::from_secs(60);

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// Why the test cannot run here, if it cannot.
fn skip_reason() -> Option<&'static str> {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1));
    if euid != Some("0") {
        return Some("not root");
    }
    if !Path::new(RUNC).is_file() {
        return Some("no /usr/bin/runc");
    }
    if !Path::new(BUSYBOX).is_file() {
        return Some("no /bin/busybox");
    }
    None
}

macro_rules! require_root {
    () => {
        if let Some(why) = skip_reason() {
            eprintln!("skipped: {why}");
            return;
        }
    };
}

/// Go's name for this machine's architecture.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

fn s(list: &[&str]) -> Vec<String> {
    list.iter().map(|x| (*x).to_owned()).collect()
}

fn mount(destination: &str, kind: &str, options: &[&str]) -> Mount {
    Mount {
        destination: destination.to_owned(),
        kind: Some(kind.to_owned()),
        source: Some(kind.to_owned()),
        options: s(options),
    }
}

/// A minimal but complete `config.json`, as Strata would write it.
fn config(args: &[&str], caps: &[String], seccomp: Option<Seccomp>) -> Spec {
    Spec {
        oci_version: "1.0.2".to_owned(),
        process: Process {
            terminal: false,
            user: User::default(),
            args: s(args),
            env: s(&["PATH=/bin", "HOME=/"]),
            cwd: "/".to_owned(),
            capabilities: Some(spec_capabilities(caps)),
            rlimits: vec![Rlimit {
                kind: "RLIMIT_NOFILE".to_owned(),
                hard: 1024,
                soft: 1024,
            }],
            no_new_privileges: false,
            oom_score_adj: None,
        },
        root: Root {
            path: "rootfs".to_owned(),
            readonly: true,
        },
        hostname: Some("secc".to_owned()),
        mounts: vec![
            mount("/proc", "proc", &["nosuid", "noexec", "nodev"]),
            mount(
                "/dev",
                "tmpfs",
                &["nosuid", "strictatime", "mode=755", "size=65536k"],
            ),
            mount(
                "/dev/pts",
                "devpts",
                &[
                    "nosuid",
                    "noexec",
                    "newinstance",
                    "ptmxmode=0666",
                    "mode=0620",
                ],
            ),
            mount(
                "/dev/shm",
                "tmpfs",
                &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
            ),
            mount("/sys", "sysfs", &["nosuid", "noexec", "nodev", "ro"]),
        ],
        linux: Linux {
            namespaces: ["pid", "mount", "ipc", "uts", "network"]
                .iter()
                .map(|k| Namespace {
                    kind: (*k).to_owned(),
                    path: None,
                })
                .collect(),
            seccomp,
            ..Linux::default()
        },
        annotations: Default::default(),
    }
}

/// What a container printed, and how it ended.
struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// A bundle directory and runc state root in a fresh temporary directory;
/// dropping it deletes its containers and the directory.
struct Bundle {
    dir: PathBuf,
    ids: Vec<String>,
}

impl Bundle {
    fn new(name: &str) -> io::Result<Bundle> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir =
            std::env::temp_dir().join(format!("secc-runc-{name}-{}-{nanos}", std::process::id()));
        fs::create_dir(&dir)?;
        let bundle = Bundle {
            dir,
            ids: Vec::new(),
        };
        let rootfs = bundle.dir.join("rootfs");
        for sub in ["bin", "proc", "dev", "sys", "tmp", "etc"] {
            fs::create_dir_all(rootfs.join(sub))?;
        }
        fs::copy(BUSYBOX, rootfs.join("bin/busybox"))?;
        for applet in APPLETS {
            symlink("busybox", rootfs.join("bin").join(applet))?;
        }
        fs::create_dir(bundle.dir.join("state"))?;
        Ok(bundle)
    }

    fn runc(&self) -> Command {
        let mut cmd = Command::new(RUNC);
        cmd.arg("--root").arg(self.dir.join("state"));
        cmd
    }

    /// Runs `args` in a new container (`runc run`, in the foreground), then
    /// deletes it.
    fn run(&mut self, args: &[&str], caps: &[String], seccomp: Option<Seccomp>) -> io::Result<Run> {
        let spec = config(args, caps, seccomp);
        let json = serde_json::to_vec_pretty(&spec).map_err(io::Error::other)?;
        fs::write(self.dir.join("config.json"), json)?;
        let id = format!(
            "secc-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        );
        self.ids.push(id.clone());
        let mut child = self
            .runc()
            .arg("run")
            .arg("--bundle")
            .arg(&self.dir)
            .arg(&id)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let mut out = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("no stdout"))?;
        let mut err = child
            .stderr
            .take()
            .ok_or_else(|| io::Error::other("no stderr"))?;
        let out = thread::spawn(move || {
            let mut buf = String::new();
            out.read_to_string(&mut buf).map(|_| buf)
        });
        let err = thread::spawn(move || {
            let mut buf = String::new();
            err.read_to_string(&mut buf).map(|_| buf)
        });
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if started.elapsed() > TIMEOUT {
                // Stop the container, then the runc we started.
                let _ = self.runc().args(["kill", &id, "KILL"]).status();
                let _ = child.kill();
                let _ = child.wait();
                self.delete(&id);
                return Err(io::Error::other(format!(
                    "container {id} ran past {TIMEOUT:?}"
                )));
            }
            thread::sleep(Duration::from_millis(20));
        };
        let join = |h: thread::JoinHandle<io::Result<String>>| {
            h.join()
                .map_err(|_| io::Error::other("reader thread failed"))?
        };
        let run = Run {
            status,
            stdout: join(out)?,
            stderr: join(err)?,
        };
        self.delete(&id);
        Ok(run)
    }

    fn delete(&self, id: &str) {
        let _ = self
            .runc()
            .args(["delete", "-f", id])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        for id in &self.ids {
            self.delete(id);
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn default_profile_runs_a_shell_under_seccomp() {
    require_root!();
    let caps = effective_caps(&[], &[]).unwrap();
    let mut bundle = Bundle::new("shell").unwrap();
    let run = bundle
        .run(
            &[
                "sh",
                "-c",
                "echo ok; ls /; id -u; cat /proc/self/status | grep Seccomp",
            ],
            &caps,
            Some(default_spec(&caps, go_arch())),
        )
        .unwrap();
    eprintln!("stdout:\n{}stderr:\n{}", run.stdout, run.stderr);
    assert!(run.status.success(), "{:?}: {}", run.status, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.first(), Some(&"ok"));
    for entry in ["bin", "proc", "dev", "sys"] {
        assert!(lines.contains(&entry), "ls / lacks {entry}");
    }
    assert!(lines.contains(&"0"), "id -u");
    assert!(lines.contains(&"Seccomp:\t2"), "not filtered: {lines:?}");
}

#[test]
fn unshare_is_blocked_by_default_and_allowed_unconfined() {
    require_root!();
    let caps = effective_caps(&[], &[]).unwrap();
    let mut bundle = Bundle::new("unshare").unwrap();
    let script = "grep Seccomp: /proc/self/status; unshare -r true && echo unshared";

    // Docker's default profile: unshare(2) needs CAP_SYS_ADMIN.
    let blocked = bundle
        .run(
            &["sh", "-c", script],
            &caps,
            Some(default_spec(&caps, go_arch())),
        )
        .unwrap();
    eprintln!("default profile:\n{}{}", blocked.stdout, blocked.stderr);
    assert!(blocked.stdout.contains("Seccomp:\t2"));
    assert!(!blocked.stdout.contains("unshared"));
    assert!(
        blocked.stderr.contains("Operation not permitted"),
        "{}",
        blocked.stderr
    );
    assert!(!blocked.status.success());

    // No filter at all (seccomp=unconfined), same capabilities.
    let free = bundle.run(&["sh", "-c", script], &caps, None).unwrap();
    eprintln!("unconfined:\n{}{}", free.stdout, free.stderr);
    assert!(free.stdout.contains("Seccomp:\t0"));
    assert!(free.stdout.contains("unshared"), "{}", free.stderr);
    assert!(free.status.success());

    // The default profile again, with --cap-add SYS_ADMIN: the profile lets it through.
    let admin = effective_caps(&["SYS_ADMIN".to_owned()], &[]).unwrap();
    let allowed = bundle
        .run(
            &["sh", "-c", script],
            &admin,
            Some(default_spec(&admin, go_arch())),
        )
        .unwrap();
    eprintln!(
        "default profile + CAP_SYS_ADMIN:\n{}{}",
        allowed.stdout, allowed.stderr
    );
    assert!(allowed.stdout.contains("Seccomp:\t2"));
    assert!(allowed.stdout.contains("unshared"), "{}", allowed.stderr);
    assert!(allowed.status.success());
}

#[test]
fn cleanup_leaves_nothing_behind() {
    require_root!();
    let caps = effective_caps(&[], &[]).unwrap();
    let mut bundle = Bundle::new("cleanup").unwrap();
    let run = bundle
        .run(&["true"], &caps, Some(default_spec(&caps, go_arch())))
        .unwrap();
    assert!(run.status.success(), "{}", run.stderr);
    let list = bundle.runc().arg("list").arg("-q").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&list.stdout).trim(),
        "",
        "containers left"
    );
    let dir = bundle.dir.clone();
    drop(bundle);
    assert!(!dir.exists(), "{} left behind", dir.display());
}
