//! A `strata` with its own store, and inputs to feed it.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use strata_testkit::TempDir;

/// Monitors still finishing a `run --rm` (tearing its network down after the
/// container is gone) for the store at `root`.
fn monitors_of(root: &Path) -> usize {
    let needle = root.as_os_str().as_encoded_bytes();
    fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            fs::read(e.path().join("cmdline")).is_ok_and(|c| {
                c.split(|b| *b == 0).any(|arg| arg == needle)
                    && c.windows(17).any(|w| w == b"container-monitor")
            })
        })
        .count()
}

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_strata")
}

/// A strata store in a temp dir.
pub struct Strata {
    pub dir: TempDir,
}

impl Strata {
    pub fn new() -> Self {
        Strata {
            dir: TempDir::new("cli"),
        }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.join("root")
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(bin());
        // Registry settings of this store only: credentials, registries.conf, certs.d.
        c.env("STRATA_ROOT", self.root())
            .env("DOCKER_CONFIG", self.dir.join("docker-config"))
            .env("STRATA_REGISTRIES_CONF", self.dir.join("registries.conf"))
            .env("STRATA_CERTS_D", self.dir.join("certs.d"))
            .env_remove("STRATA_LOG")
            .args(args);
        c.stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Runs and returns stdout, panicking with stderr on failure.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "strata {args:?} failed: {}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs expecting failure; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "strata {args:?} should have failed, printed {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).unwrap()
    }

    /// Imports a small synthetic root file system; returns the image ID.
    pub fn import_tree(&self, name: &str, seed: &str) -> String {
        let tree = self.dir.join(format!("tree-{seed}"));
        sample_rootfs(&tree, seed);
        self.ok(&["import", tree.to_str().unwrap(), name])
            .trim()
            .to_owned()
    }

    /// A store with `busybox:latest` (`None` when busybox-static is missing).
    pub fn with_busybox() -> Option<Strata> {
        let s = Strata::new();
        let rootfs = busybox_rootfs(s.dir.path())?;
        s.ok(&[
            "import",
            "-c",
            r#"CMD ["sh"]"#,
            rootfs.to_str().unwrap(),
            "busybox:latest",
        ]);
        Some(s)
    }

    /// `system check` passes.
    pub fn assert_consistent(&self) {
        let out = self.run(&["system", "check"]);
        assert!(
            out.status.success(),
            "store inconsistent:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Strata {
    /// Containers hold mounts, network namespaces and iptables rules outside the
    /// temp dir: remove them all before the directory goes, and let monitors
    /// finishing a `run --rm` end, so none re-creates files in it afterwards.
    fn drop(&mut self) {
        if !self.root().join("containers").is_dir() {
            return;
        }
        let root = self.root();
        for _ in 0..500 {
            if monitors_of(&root) == 0 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        if let Ok(out) = self.cmd(&["ps", "-aq", "--no-trunc"]).output() {
            let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_owned)
                .collect();
            if !ids.is_empty() {
                let mut args = vec!["rm", "-f"];
                args.extend(ids.iter().map(String::as_str));
                let _ = self.cmd(&args).output();
            }
        }
    }
}

/// A few files, a symlink and a hard link; `seed` varies the content.
pub fn sample_rootfs(dir: &Path, seed: &str) {
    fs::create_dir_all(dir.join("etc")).unwrap();
    fs::create_dir_all(dir.join("usr/bin")).unwrap();
    fs::write(dir.join("etc/os-release"), format!("NAME=test-{seed}\n")).unwrap();
    fs::write(dir.join("usr/bin/data"), seed.repeat(10_000)).unwrap();
    let _ = fs::remove_file(dir.join("usr/bin/link"));
    symlink("data", dir.join("usr/bin/link")).unwrap();
    let _ = fs::remove_file(dir.join("usr/bin/hard"));
    fs::hard_link(dir.join("usr/bin/data"), dir.join("usr/bin/hard")).unwrap();
}

/// A busybox root file system (needs Debian's busybox-static), or `None` to skip.
pub fn busybox_rootfs(dir: &Path) -> Option<PathBuf> {
    strata_testkit::require_peer("busybox", &[])?;
    let root = dir.join("busybox-rootfs");
    fs::create_dir_all(root.join("bin")).unwrap();
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::copy("/bin/busybox", root.join("bin/busybox")).unwrap();
    let list = Command::new("/bin/busybox").arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        if applet != "busybox" {
            symlink("busybox", root.join("bin").join(applet)).unwrap();
        }
    }
    for d in ["tmp", "root", "home", "proc", "sys", "dev"] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home:/bin/sh\n",
    )
    .unwrap();
    fs::write(root.join("etc/group"), "root:x:0:\napp:x:1000:\n").unwrap();
    Some(root)
}
