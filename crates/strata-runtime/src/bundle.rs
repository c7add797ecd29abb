//! Bundle generation: image config + run options → OCI runtime spec. Pure.
//!
//! The merging rules are Docker's: `--entrypoint` replaces the image's
//! ENTRYPOINT and drops its CMD; a command given to `run` replaces CMD; `-e`
//! overrides the image's ENV by key; `-w`, `-u` override WorkingDir and User;
//! PATH, HOSTNAME and HOME are set when missing. Security defaults are Docker's:
//! its capability set, masked and read-only `/proc` and `/sys` paths, its seccomp
//! profile, a device cgroup that denies all but the standard devices.

use strata_oci::ContainerConfig;

use crate::caps;
use crate::error::{Error, Result};
use crate::seccomp;
use crate::spec::{
    Cpu, DeviceRule, Linux, Memory, Mount, Namespace, Pids, Process, Resources, Root, Spec, User,
};
use crate::users;

/// Docker's PATH when the image sets none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// How the container is networked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkMode {
    /// Share the host's network namespace.
    Host,
    /// Join this network namespace (bridge, or loopback only for `none`).
    Namespace(String),
}

/// Which seccomp filter to install.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeccompMode {
    /// Docker's default profile.
    Default,
    /// None at all.
    Unconfined,
    /// A Docker-format profile (JSON).
    Profile(Vec<u8>),
}

/// A mount the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserMount {
    /// `-v SRC:DST[:ro]`.
    Bind {
        /// Host path (absolute).
        source: String,
        /// Container path.
        destination: String,
        /// Read-only.
        read_only: bool,
    },
    /// `--tmpfs DST`.
    Tmpfs {
        /// Container path.
        destination: String,
    },
}

/// Files of the host Strata writes per container and bind-mounts in, as Docker does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EtcFiles {
    /// `/etc/hosts`.
    pub hosts: Option<String>,
    /// `/etc/resolv.conf`.
    pub resolv_conf: Option<String>,
    /// `/etc/hostname`.
    pub hostname: Option<String>,
}

/// What `run`/`create` asked for, after parsing.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// The mounted root file system (absolute path).
    pub rootfs: String,
    /// Hostname.
    pub hostname: String,
    /// `--entrypoint` (an empty list clears the image's).
    pub entrypoint: Option<Vec<String>>,
    /// The command after the image name.
    pub cmd: Option<Vec<String>>,
    /// `-e` and `--env-file`, `KEY=value`.
    pub env: Vec<String>,
    /// `-w`.
    pub workdir: Option<String>,
    /// `-u`.
    pub user: Option<String>,
    /// `-t`.
    pub tty: bool,
    /// `--read-only`.
    pub read_only: bool,
    /// `-v` and `--tmpfs`.
    pub mounts: Vec<UserMount>,
    /// Network.
    pub network: NetworkMode,
    /// `--security-opt no-new-privileges`.
    pub no_new_privileges: bool,
    /// `--security-opt seccomp=…`.
    pub seccomp: SeccompMode,
    /// `--cap-add`.
    pub cap_add: Vec<String>,
    /// `--cap-drop`.
    pub cap_drop: Vec<String>,
    /// `--memory`, bytes.
    pub memory: Option<i64>,
    /// `--cpus`.
    pub cpus: Option<f64>,
    /// `--pids-limit`.
    pub pids_limit: Option<i64>,
    /// cgroup path for the container.
    pub cgroups_path: String,
    /// Host files to bind-mount over /etc.
    pub etc: EtcFiles,
}

/// The image's `/etc/passwd` and `/etc/group`, read by the caller.
#[derive(Debug, Clone, Default)]
pub struct UserFiles {
    /// `/etc/passwd` content (empty when absent).
    pub passwd: String,
    /// `/etc/group` content (empty when absent).
    pub group: String,
}

/// Docker's masked paths.
pub const MASKED_PATHS: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Docker's read-only paths.
pub const READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The argv Docker would run: entrypoint then command, with its override rules
/// (`entrypoint`: `--entrypoint`; `cmd`: the command after the image name).
pub fn command(
    image: &ContainerConfig,
    entrypoint: Option<&Vec<String>>,
    cmd: Option<&Vec<String>>,
) -> Result<Vec<String>> {
    let opts_entrypoint = entrypoint;
    let entrypoint = match opts_entrypoint {
        Some(e) => e.clone(),
        None => image.entrypoint.clone().unwrap_or_default(),
    };
    let cmd = match (cmd, opts_entrypoint) {
        (Some(c), _) if !c.is_empty() => c.clone(),
        // Docker: setting --entrypoint resets the image's CMD.
        (_, Some(_)) => Vec::new(),
        _ => image.cmd.clone().unwrap_or_default(),
    };
    let argv: Vec<String> = entrypoint.into_iter().chain(cmd).collect();
    if argv.is_empty() {
        return Err(Error::InvalidArgument(
            "no command specified: the image has no CMD or ENTRYPOINT; give one after the image name".into(),
        ));
    }
    Ok(argv)
}

/// The environment as Docker builds it: PATH, HOSTNAME (and TERM with a tty),
/// then the image's ENV and the run's `-e`, each replacing an earlier value of
/// the same key in place; HOME from the user's passwd entry when still missing.
fn environment(image: &ContainerConfig, opts: &RunOptions, home: &str) -> Vec<String> {
    let key = |kv: &str| kv.split_once('=').map_or(kv, |(k, _)| k).to_owned();
    let mut env = vec![
        format!("PATH={DEFAULT_PATH}"),
        format!("HOSTNAME={}", opts.hostname),
    ];
    if opts.tty {
        env.push("TERM=xterm".to_owned());
    }
    for kv in image.env.iter().flatten().chain(&opts.env) {
        match env.iter().position(|e| key(e) == key(kv)) {
            Some(i) => env[i] = kv.clone(),
            None => env.push(kv.clone()),
        }
    }
    if !env.iter().any(|e| key(e) == "HOME") {
        env.push(format!("HOME={home}"));
    }
    env
}

fn mount(destination: &str, kind: &str, source: &str, options: &[&str]) -> Mount {
    Mount {
        destination: destination.to_owned(),
        kind: Some(kind.to_owned()),
        source: Some(source.to_owned()),
        options: options.iter().map(|s| (*s).to_owned()).collect(),
    }
}

/// Docker's default mounts, then /etc files, then the user's.
fn mounts(opts: &RunOptions) -> Vec<Mount> {
    let mut m = vec![
        mount("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"]),
        mount(
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        ),
        mount(
            "/dev/pts",
            "devpts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5",
            ],
        ),
        mount(
            "/sys",
            "sysfs",
            "sysfs",
            &["nosuid", "noexec", "nodev", "ro"],
        ),
        mount(
            "/sys/fs/cgroup",
            "cgroup",
            "cgroup",
            &["ro", "nosuid", "noexec", "nodev"],
        ),
        mount(
            "/dev/mqueue",
            "mqueue",
            "mqueue",
            &["nosuid", "noexec", "nodev"],
        ),
        mount(
            "/dev/shm",
            "tmpfs",
            "shm",
            &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        ),
    ];
    for (dest, src) in [
        ("/etc/resolv.conf", &opts.etc.resolv_conf),
        ("/etc/hostname", &opts.etc.hostname),
        ("/etc/hosts", &opts.etc.hosts),
    ] {
        if let Some(src) = src {
            let ro = if opts.read_only { "ro" } else { "rw" };
            m.push(mount(dest, "bind", src, &["rbind", "rprivate", ro]));
        }
    }
    for u in &opts.mounts {
        m.push(match u {
            UserMount::Bind {
                source,
                destination,
                read_only,
            } => mount(
                destination,
                "bind",
                source,
                &["rbind", "rprivate", if *read_only { "ro" } else { "rw" }],
            ),
            UserMount::Tmpfs { destination } => mount(
                destination,
                "tmpfs",
                "tmpfs",
                &["nosuid", "nodev", "noexec", "mode=1777"],
            ),
        });
    }
    m
}

fn resources(opts: &RunOptions) -> Resources {
    Resources {
        devices: vec![DeviceRule {
            allow: false,
            kind: None,
            major: None,
            minor: None,
            access: Some("rwm".to_owned()),
        }],
        memory: opts.memory.map(|limit| Memory {
            limit: Some(limit),
            swap: None,
        }),
        cpu: opts.cpus.map(|c| Cpu {
            // Docker's NanoCPUs: quota per 100 ms period.
            quota: Some((c * 100_000.0).round() as i64),
            period: Some(100_000),
            shares: None,
        }),
        pids: opts.pids_limit.map(|limit| Pids { limit }),
    }
}

/// Generates the runtime spec. `arch` is the Go architecture (`amd64`) the
/// seccomp profile is built for.
pub fn generate(
    image: &ContainerConfig,
    opts: &RunOptions,
    files: &UserFiles,
    arch: &str,
) -> Result<Spec> {
    let args = command(image, opts.entrypoint.as_ref(), opts.cmd.as_ref())?;
    let user_spec = opts
        .user
        .clone()
        .or_else(|| image.user.clone())
        .unwrap_or_default();
    let who = users::resolve(
        &user_spec,
        &users::parse_passwd(&files.passwd),
        &users::parse_group(&files.group),
    )?;
    let caps = caps::effective_caps(&opts.cap_add, &opts.cap_drop)
        .map_err(|e| Error::InvalidArgument(e.to_string()))?;
    let seccomp = match &opts.seccomp {
        SeccompMode::Unconfined => None,
        SeccompMode::Default => Some(seccomp::default_spec(&caps, arch)),
        SeccompMode::Profile(json) => {
            let profile = seccomp::parse_docker_profile(json)
                .map_err(|e| Error::InvalidArgument(format!("seccomp profile: {e}")))?;
            Some(seccomp::to_spec(&profile, &caps, arch))
        }
    };
    let mut namespaces: Vec<Namespace> = ["pid", "ipc", "uts", "mount"]
        .iter()
        .map(|k| Namespace {
            kind: (*k).to_owned(),
            path: None,
        })
        .collect();
    if let NetworkMode::Namespace(path) = &opts.network {
        namespaces.push(Namespace {
            kind: "network".to_owned(),
            path: Some(path.clone()),
        });
    }
    let cwd = opts
        .workdir
        .clone()
        .or_else(|| image.working_dir.clone())
        .filter(|w| !w.is_empty())
        .unwrap_or_else(|| "/".to_owned());
    if !cwd.starts_with('/') {
        return Err(Error::InvalidArgument(format!(
            "the working directory {cwd:?} is invalid: it needs to be an absolute path"
        )));
    }
    Ok(Spec {
        oci_version: "1.0.2".to_owned(),
        process: Process {
            terminal: opts.tty,
            user: User {
                uid: who.uid,
                gid: who.gid,
                umask: None,
                additional_gids: who.additional_gids.clone(),
            },
            args,
            env: environment(image, opts, &who.home),
            cwd,
            capabilities: Some(caps::spec_capabilities_for_uid(&caps, who.uid)),
            // Inherited from the runtime, as Docker's containers inherit containerd's.
            rlimits: Vec::new(),
            no_new_privileges: opts.no_new_privileges,
            oom_score_adj: None,
        },
        root: Root {
            path: opts.rootfs.clone(),
            readonly: opts.read_only,
        },
        hostname: Some(opts.hostname.clone()),
        mounts: mounts(opts),
        linux: Linux {
            namespaces,
            resources: Some(resources(opts)),
            cgroups_path: Some(opts.cgroups_path.clone()),
            seccomp,
            masked_paths: MASKED_PATHS.iter().map(|s| (*s).to_owned()).collect(),
            readonly_paths: READONLY_PATHS.iter().map(|s| (*s).to_owned()).collect(),
            sysctl: Default::default(),
        },
        annotations: Default::default(),
    })
}

#[cfg(test)]
mod tests;
