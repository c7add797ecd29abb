//! `start`: mount, network, bundle, monitor; and what happens after the exit.

use std::fs;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use strata_runtime::bundle::{self, EtcFiles, RunOptions, SeccompMode, UserFiles, UserMount};
use strata_runtime::monitor::{MonitorConfig, MonitorState, Status};
use strata_store::fsutil;
use strata_store::lock::{self, LockGuard, LockMode};

use super::record::{Container, MountRequest, NetworkMode, Phase};
use super::rootfs::read_in_root;
use super::watch::Watch;
use crate::error::{Error, Result};
use crate::host::Host;

/// How long `start` waits for the monitor to report the container running.
const START_TIMEOUT: Duration = Duration::from_secs(60);

impl Host {
    pub(crate) fn lock_container(&self, c: &Container) -> Result<LockGuard> {
        Ok(lock::lock(&c.path("lock"), LockMode::Exclusive)?)
    }

    /// Starts a created or exited container; a running one is left as is.
    pub fn start_container(&self, key: &str) -> Result<Container> {
        let _gc = self.store.lock_shared()?;
        let c = self.container(key)?;
        let _lock = self.lock_container(&c)?;
        let c = self.container(&c.record.id)?;
        if c.phase() == Phase::Running {
            return Ok(c);
        }
        self.cleanup_run(&c)?;
        let mut record = c.record.clone();
        let records = self.store.records()?;
        let image = self.image(&records, &record.image_target)?;
        let result = (|| {
            self.mount_rootfs(&c.dir, &image)?;
            tracing::debug!("{}: root file system mounted", c.short_id());
            let netns = self.setup_network(&mut record)?;
            tracing::debug!("{}: network ready", c.short_id());
            self.save_record(&record)?;
            let c = Container {
                record: record.clone(),
                ..c.clone()
            };
            self.write_etc_files(&c)?;
            self.write_bundle(&c, &image.config.config.clone().unwrap_or_default(), netns)?;
            tracing::debug!("{}: bundle written", c.short_id());
            self.spawn_monitor(&c)?;
            let started = self.wait_started(&c);
            tracing::debug!(
                "{}: monitor reports {:?}",
                c.short_id(),
                started.as_ref().map(|s| s.status)
            );
            started
        })();
        match result {
            Ok(state) if state.error.is_none() => Ok(Container {
                record,
                state: Some(state),
                dir: c.dir,
            }),
            Ok(state) => {
                let c = Container {
                    record,
                    state: Some(state.clone()),
                    dir: c.dir,
                };
                let _ = self.cleanup_run(&c);
                Err(Error::Runtime(strata_runtime::Error::Runtime {
                    runtime: c.record.settings.runtime.display().to_string(),
                    op: "start",
                    id: c.record.id.clone(),
                    message: state.error.unwrap_or_default(),
                }))
            }
            Err(e) => {
                let c = Container { record, ..c };
                let _ = self.cleanup_run(&c);
                Err(e)
            }
        }
    }

    fn write_etc_files(&self, c: &Container) -> Result<()> {
        let s = &c.record.settings;
        let mut hosts = String::from(
            "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n",
        );
        if let Some(net) = &c.record.network {
            hosts.push_str(&format!("{}\t{}\n", net.ip, s.hostname));
        }
        let resolv = match s.network {
            // The host's resolver, minus loopback name servers the container cannot reach.
            NetworkMode::Bridge => fs::read_to_string("/etc/resolv.conf")
                .unwrap_or_default()
                .lines()
                .filter(|l| !(l.starts_with("nameserver 127.") || l.starts_with("nameserver ::1")))
                .map(|l| format!("{l}\n"))
                .collect(),
            _ => fs::read_to_string("/etc/resolv.conf").unwrap_or_default(),
        };
        for (name, content) in [
            ("hosts", hosts),
            ("hostname", format!("{}\n", s.hostname)),
            ("resolv.conf", resolv),
        ] {
            fsutil::replace_file(&c.path(name), content.as_bytes())?;
        }
        Ok(())
    }

    fn write_bundle(
        &self,
        c: &Container,
        image: &strata_oci::ContainerConfig,
        netns: Option<String>,
    ) -> Result<()> {
        let s = &c.record.settings;
        let rootfs = c.path("rootfs");
        let files = UserFiles {
            passwd: read_in_root(&rootfs, "/etc/passwd", 1 << 20).unwrap_or_default(),
            group: read_in_root(&rootfs, "/etc/group", 1 << 20).unwrap_or_default(),
        };
        let mut seccomp = SeccompMode::Default;
        let mut no_new_privileges = false;
        for opt in &s.security_opt {
            match opt.split_once(['=', ':']) {
                Some(("seccomp", "unconfined")) => seccomp = SeccompMode::Unconfined,
                Some(("seccomp", path)) => {
                    seccomp = SeccompMode::Profile(fs::read(path).map_err(Error::io("read seccomp profile", path))?)
                }
                Some(("no-new-privileges", v)) => no_new_privileges = v != "false",
                None if opt == "no-new-privileges" => no_new_privileges = true,
                _ => {
                    return Err(Error::InvalidArgument(format!(
                        "invalid --security-opt {opt:?}: supported are seccomp=PROFILE|unconfined and no-new-privileges"
                    )))
                }
            }
        }
        let opts = RunOptions {
            rootfs: rootfs.display().to_string(),
            hostname: s.hostname.clone(),
            entrypoint: s.entrypoint.clone(),
            cmd: s.cmd.clone(),
            env: s.env.clone(),
            workdir: s.workdir.clone(),
            user: s.user.clone(),
            tty: s.tty,
            read_only: s.read_only,
            mounts: s.mounts.iter().map(user_mount).collect(),
            network: match netns {
                Some(path) => bundle::NetworkMode::Namespace(path),
                None => bundle::NetworkMode::Host,
            },
            no_new_privileges,
            seccomp,
            cap_add: s.cap_add.clone(),
            cap_drop: s.cap_drop.clone(),
            memory: s.memory,
            cpus: s.cpus,
            pids_limit: s.pids_limit,
            cgroups_path: cgroups_path(&c.record.id),
            etc: EtcFiles {
                hosts: Some(c.path("hosts").display().to_string()),
                resolv_conf: Some(c.path("resolv.conf").display().to_string()),
                hostname: Some(c.path("hostname").display().to_string()),
            },
        };
        let arch = strata_oci::Platform::host().architecture;
        let spec = bundle::generate(image, &opts, &files, &arch)?;
        let dir = c.path("bundle");
        fs::create_dir_all(&dir).map_err(Error::io("create", &dir))?;
        let bytes = serde_json::to_vec_pretty(&spec)
            .map_err(|e| Error::Archive(format!("encoding the runtime spec: {e}")))?;
        fsutil::replace_file(&dir.join("config.json"), &bytes)?;
        Ok(())
    }

    fn monitor_config(&self, c: &Container) -> MonitorConfig {
        MonitorConfig {
            id: c.record.id.clone(),
            runtime: c.record.settings.runtime.clone(),
            runtime_root: self.runtime_root(),
            bundle: c.path("bundle"),
            log: c.path("log.json"),
            state: c.path("state.json"),
            cgroups_path: cgroups_path(&c.record.id),
            tty: c.record.settings.tty,
            stdin: c.record.settings.interactive,
            attach: Self::socket_path(&c.record.id, "attach"),
            console: Self::socket_path(&c.record.id, "console"),
        }
    }

    fn spawn_monitor(&self, c: &Container) -> Result<()> {
        let cfg = self.monitor_config(c);
        // Fails early and clearly when the runtime is missing.
        strata_runtime::runc::Runtime::new(&cfg.runtime, &cfg.runtime_root)?;
        let bytes = serde_json::to_vec_pretty(&cfg)
            .map_err(|e| Error::Archive(format!("encoding the monitor config: {e}")))?;
        fsutil::replace_file(&c.path("monitor.json"), &bytes)?;
        let _ = fs::remove_file(c.path("state.json"));
        fs::create_dir_all(super::SOCKET_DIR).map_err(Error::io("create", super::SOCKET_DIR))?;
        let exe = std::env::current_exe().map_err(Error::io("find", "/proc/self/exe"))?;
        // The monitor's own messages (warnings; with `--debug`, its timeline).
        let log = c.path("monitor.log");
        let log = fs::File::create(&log).map_err(Error::io("create", &log))?;
        let level = if tracing::enabled!(tracing::Level::DEBUG) {
            "debug"
        } else {
            "warn"
        };
        Command::new(exe)
            .arg("--root")
            .arg(self.store.paths().root())
            .args(["--log-level", level, "container-monitor"])
            .arg(&c.record.id)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(Error::io("spawn monitor for", &c.dir))?;
        Ok(())
    }

    fn wait_started(&self, c: &Container) -> Result<MonitorState> {
        let deadline = Instant::now() + START_TIMEOUT;
        let watch = Watch::new(&c.dir);
        loop {
            if let Ok(state) = MonitorState::load(&c.path("state.json")) {
                if state.status != Status::Created {
                    return Ok(state);
                }
            }
            let now = Instant::now();
            if now > deadline {
                return Err(Error::Unsupported(format!(
                    "container {} did not start within {}s",
                    c.short_id(),
                    START_TIMEOUT.as_secs()
                )));
            }
            watch.wait(deadline - now);
        }
    }

    /// Runs the monitor for a container (the hidden `container-monitor` command),
    /// then cleans up after the exit.
    pub fn monitor_container(&self, id: &str) -> Result<()> {
        tracing::debug!("monitor up");
        let c = self.container(id)?;
        let bytes =
            fs::read(c.path("monitor.json")).map_err(Error::io("read", c.path("monitor.json")))?;
        let cfg: MonitorConfig = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Archive(format!("monitor.json: {e}")))?;
        let run = strata_runtime::monitor::run(&cfg);
        if let Err(e) = &run {
            // Whatever failed, `start` (waiting for this state) must learn it.
            let failed = MonitorState {
                status: Status::Exited,
                monitor_pid: std::process::id(),
                pid: None,
                started_at: None,
                finished_at: Some(strata_oci::Timestamp::now().to_rfc3339()),
                exit_code: Some(127),
                oom_killed: false,
                error: Some(e.to_string()),
            };
            let bytes = serde_json::to_vec(&failed).unwrap_or_default();
            let _ = fsutil::write_atomic(&cfg.state, &bytes);
        }
        let cleanup = self.container_exited(id);
        run?;
        cleanup
    }

    /// After the container's exit: mounts, network, and `--rm`.
    fn container_exited(&self, id: &str) -> Result<()> {
        let c = self.container(id)?;
        if !c.record.settings.auto_remove {
            let _lock = self.lock_container(&c)?;
            return self.cleanup_run(&c);
        }
        // Attached clients hold this lock shared until they have read the exit
        // code; removal waits for them. The container disappears first (its
        // directory renamed away), the slower network teardown follows, so
        // `run --rm` returns as soon as the container is gone.
        let _attached = lock::lock(&c.path("attach.lock"), LockMode::Exclusive)?;
        let _lock = self.lock_container(&c)?;
        self.unmount_rootfs(&c.dir)?;
        let aside = self
            .store
            .paths()
            .trash()
            .join(fsutil::unique_name("container-"));
        fs::create_dir_all(self.store.paths().trash())
            .map_err(Error::io("create", self.store.paths().trash()))?;
        fs::rename(&c.dir, &aside).map_err(Error::io("rename", &c.dir))?;
        let detached = self.detach_network(&c.record);
        fs::remove_dir_all(&aside).map_err(Error::io("remove", &aside))?;
        detached
    }

    /// Undoes what `start` set up for a run: the runtime's container, the
    /// network, the root file system mount. Idempotent.
    pub(crate) fn cleanup_run(&self, c: &Container) -> Result<()> {
        // A container that never ran has nothing in the runtime to delete.
        if c.state.is_some() && c.phase() != Phase::Running {
            if let Ok(rt) =
                strata_runtime::runc::Runtime::new(&c.record.settings.runtime, &self.runtime_root())
            {
                rt.delete(&c.record.id)?;
            }
        }
        self.teardown_network(&c.record)?;
        self.unmount_rootfs(&c.dir)
    }
}

fn user_mount(m: &MountRequest) -> UserMount {
    match (m.kind.as_str(), &m.source) {
        ("bind", Some(source)) => UserMount::Bind {
            source: source.clone(),
            destination: m.destination.clone(),
            read_only: m.read_only,
        },
        _ => UserMount::Tmpfs {
            destination: m.destination.clone(),
        },
    }
}

/// The cgroup of a container.
pub(crate) fn cgroups_path(id: &str) -> String {
    format!("/strata/{id}")
}
