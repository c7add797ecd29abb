//! What Strata remembers about a container: `containers/<id>/container.json`.
//!
//! The record holds what was asked (Docker's `Config` and `HostConfig` in spirit)
//! and what the host set up (network). The live state (running, exit code, OOM)
//! comes from the monitor's `state.json`, merged when read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use strata_oci::Digest;
use strata_runtime::monitor::{MonitorState, Status};

/// A published port (`-p`), with the host port resolved once started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortBinding {
    /// Host address (`None`: all).
    pub host_ip: Option<String>,
    /// Host port (0 until resolved when none was asked).
    pub host_port: u16,
    /// Container port.
    pub container_port: u16,
    /// `tcp` or `udp`.
    pub protocol: String,
}

/// A mount the user asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MountRequest {
    /// `bind` or `tmpfs`.
    pub kind: String,
    /// Host path for binds.
    #[serde(default)]
    pub source: Option<String>,
    /// Container path.
    pub destination: String,
    /// Read-only.
    #[serde(default)]
    pub read_only: bool,
}

/// How the container is networked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    /// Own namespace on the strata bridge, NAT outbound, published ports.
    Bridge,
    /// The host's namespace.
    Host,
    /// Own namespace with loopback only.
    None,
}

impl NetworkMode {
    /// Docker's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            NetworkMode::Bridge => "bridge",
            NetworkMode::Host => "host",
            NetworkMode::None => "none",
        }
    }
}

/// What `run`/`create` asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    /// The command after the image name.
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    /// `--entrypoint`.
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    /// `-e`/`--env-file`, resolved.
    #[serde(default)]
    pub env: Vec<String>,
    /// `-w`.
    #[serde(default)]
    pub workdir: Option<String>,
    /// `-u`.
    #[serde(default)]
    pub user: Option<String>,
    /// `-t`.
    #[serde(default)]
    pub tty: bool,
    /// `-i`.
    #[serde(default)]
    pub interactive: bool,
    /// `--hostname`.
    pub hostname: String,
    /// `--label`.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// `-v`, `--tmpfs`.
    #[serde(default)]
    pub mounts: Vec<MountRequest>,
    /// `--read-only`.
    #[serde(default)]
    pub read_only: bool,
    /// `--network`.
    pub network: NetworkMode,
    /// `-p`.
    #[serde(default)]
    pub ports: Vec<PortBinding>,
    /// `--security-opt`, as given.
    #[serde(default)]
    pub security_opt: Vec<String>,
    /// `--cap-add`.
    #[serde(default)]
    pub cap_add: Vec<String>,
    /// `--cap-drop`.
    #[serde(default)]
    pub cap_drop: Vec<String>,
    /// `--memory`, bytes.
    #[serde(default)]
    pub memory: Option<i64>,
    /// `--cpus`.
    #[serde(default)]
    pub cpus: Option<f64>,
    /// `--pids-limit`.
    #[serde(default)]
    pub pids_limit: Option<i64>,
    /// `--rm`.
    #[serde(default)]
    pub auto_remove: bool,
    /// `--runtime` (default runc).
    pub runtime: PathBuf,
    /// `--stop-signal` or the image's StopSignal.
    #[serde(default)]
    pub stop_signal: Option<String>,
    /// `--stop-timeout`, seconds.
    #[serde(default)]
    pub stop_timeout: Option<u32>,
}

/// The network a started container got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkState {
    /// Address on the bridge.
    pub ip: String,
    /// Prefix length.
    pub prefix_len: u8,
    /// Gateway (the bridge).
    pub gateway: String,
    /// MAC address.
    pub mac: String,
    /// Published ports with host ports resolved.
    pub ports: Vec<PortBinding>,
}

/// One container.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerRecord {
    /// 64 hex characters.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// When created (RFC 3339).
    pub created: String,
    /// Image ID (config digest).
    pub image_id: Digest,
    /// The image's record key (manifest digest): pins the image against GC.
    pub image_target: Digest,
    /// The image as the user named it.
    pub image_name: String,
    /// The command line that runs.
    pub argv: Vec<String>,
    /// What was asked.
    pub settings: Settings,
    /// Set while started on a network namespace.
    #[serde(default)]
    pub network: Option<NetworkState>,
    /// How many times `restart` ran it again.
    #[serde(default)]
    pub restart_count: u32,
}

/// Docker's container states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Created, never started (or start failed before running).
    Created,
    /// Running.
    Running,
    /// Exited.
    Exited,
}

impl Phase {
    /// Docker's `State.Status`.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Created => "created",
            Phase::Running => "running",
            Phase::Exited => "exited",
        }
    }
}

/// A container's record and live state together.
#[derive(Debug, Clone)]
pub struct Container {
    /// The record.
    pub record: ContainerRecord,
    /// The monitor's state, when it ever ran.
    pub state: Option<MonitorState>,
    /// The container's directory.
    pub dir: PathBuf,
}

impl Container {
    /// Where it is in its life. A monitor that died without recording the exit
    /// counts as exited.
    pub fn phase(&self) -> Phase {
        match &self.state {
            None => Phase::Created,
            Some(s) => match s.status {
                Status::Created => Phase::Created,
                Status::Running if monitor_alive(s.monitor_pid) => Phase::Running,
                Status::Running | Status::Exited => Phase::Exited,
            },
        }
    }

    /// The short ID Docker shows.
    pub fn short_id(&self) -> &str {
        &self.record.id[..12]
    }

    /// A path in the container's directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

fn monitor_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false)
}
