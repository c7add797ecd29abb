//! Container views: Docker's `ContainerJSON` for `inspect` and the rows of `ps`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};
use strata_oci::Timestamp;

use super::record::{Container, Phase, PortBinding};
use crate::error::Result;
use crate::host::Host;

/// Go's zero time, printed for unset times.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// A container as `docker inspect` shows it (the fields Strata has).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ContainerInspect {
    pub id: String,
    pub created: String,
    pub path: String,
    pub args: Vec<String>,
    pub state: Value,
    pub image: String,
    pub resolv_conf_path: String,
    pub hostname_path: String,
    pub hosts_path: String,
    pub log_path: String,
    pub name: String,
    pub restart_count: u32,
    pub driver: String,
    pub platform: String,
    pub host_config: Value,
    pub mounts: Vec<Value>,
    pub config: Value,
    pub network_settings: Value,
}

/// One row of `ps`.
#[derive(Debug, Clone)]
pub struct ContainerSummary {
    /// Full ID.
    pub id: String,
    /// Name.
    pub name: String,
    /// The image as named at create.
    pub image: String,
    /// The command line.
    pub command: String,
    /// Created.
    pub created: Option<Timestamp>,
    /// Phase.
    pub phase: Phase,
    /// Exit code, when exited.
    pub exit_code: Option<i32>,
    /// Started or finished time, for "Up 5 minutes" / "Exited (0) 2 minutes ago".
    pub since: Option<Timestamp>,
    /// Published ports.
    pub ports: Vec<PortBinding>,
}

/// Docker's `Ports` map: `"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]`.
pub(crate) fn ports_json(ports: &[PortBinding]) -> Value {
    let mut m: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for p in ports {
        m.entry(format!("{}/{}", p.container_port, p.protocol))
            .or_default()
            .push(json!({
                "HostIp": p.host_ip.clone().unwrap_or_else(|| "0.0.0.0".into()),
                "HostPort": p.host_port.to_string(),
            }));
    }
    json!(m)
}

impl Host {
    /// The `inspect` view of a container.
    pub fn inspect_container(&self, c: &Container) -> Result<ContainerInspect> {
        let r = &c.record;
        let s = &r.settings;
        let st = c.state.clone();
        let phase = c.phase();
        let state = json!({
            "Status": phase.as_str(),
            "Running": phase == Phase::Running,
            "Paused": false,
            "Restarting": false,
            "OOMKilled": st.as_ref().is_some_and(|s| s.oom_killed),
            "Dead": false,
            "Pid": if phase == Phase::Running { st.as_ref().and_then(|s| s.pid).unwrap_or(0) } else { 0 },
            "ExitCode": st.as_ref().and_then(|s| s.exit_code).unwrap_or(0),
            "Error": st.as_ref().and_then(|s| s.error.clone()).unwrap_or_default(),
            "StartedAt": st.as_ref().and_then(|s| s.started_at.clone()).unwrap_or_else(|| ZERO_TIME.into()),
            "FinishedAt": st.as_ref().and_then(|s| s.finished_at.clone()).unwrap_or_else(|| ZERO_TIME.into()),
        });
        let binds: Vec<String> = s
            .mounts
            .iter()
            .filter(|m| m.kind == "bind")
            .map(|m| {
                let src = m.source.clone().unwrap_or_default();
                if m.read_only {
                    format!("{src}:{}:ro", m.destination)
                } else {
                    format!("{src}:{}", m.destination)
                }
            })
            .collect();
        let tmpfs: BTreeMap<String, String> = s
            .mounts
            .iter()
            .filter(|m| m.kind == "tmpfs")
            .map(|m| (m.destination.clone(), String::new()))
            .collect();
        let host_config = json!({
            "Binds": if binds.is_empty() { Value::Null } else { json!(binds) },
            "NetworkMode": s.network.as_str(),
            "PortBindings": ports_json(&s.ports),
            "AutoRemove": s.auto_remove,
            "CapAdd": s.cap_add,
            "CapDrop": s.cap_drop,
            "ReadonlyRootfs": s.read_only,
            "SecurityOpt": s.security_opt,
            "Tmpfs": tmpfs,
            "Memory": s.memory.unwrap_or(0),
            "NanoCpus": s.cpus.map_or(0, |c| (c * 1e9) as i64),
            "PidsLimit": s.pids_limit,
            "Runtime": s.runtime.display().to_string(),
        });
        let mounts: Vec<Value> = s
            .mounts
            .iter()
            .map(|m| {
                json!({
                    "Type": m.kind,
                    "Source": m.source.clone().unwrap_or_default(),
                    "Destination": m.destination,
                    "Mode": if m.read_only { "ro" } else { "" },
                    "RW": !m.read_only,
                    "Propagation": if m.kind == "bind" { "rprivate" } else { "" },
                })
            })
            .collect();
        let records = self.store.records()?;
        let image_config = self
            .image(&records, &r.image_target)
            .ok()
            .and_then(|i| i.config.config)
            .unwrap_or_default();
        let mut env = vec![format!("PATH={}", strata_runtime::bundle::DEFAULT_PATH)];
        env.extend(image_config.env.clone().unwrap_or_default());
        env.extend(s.env.clone());
        let exposed: BTreeMap<String, Value> = image_config
            .exposed_ports
            .clone()
            .unwrap_or_default()
            .into_iter()
            .chain(
                s.ports
                    .iter()
                    .map(|p| (format!("{}/{}", p.container_port, p.protocol), json!({}))),
            )
            .collect();
        let config = json!({
            "Hostname": s.hostname,
            "Domainname": "",
            "User": s.user.clone().or(image_config.user.clone()).unwrap_or_default(),
            "AttachStdin": s.interactive,
            "AttachStdout": true,
            "AttachStderr": true,
            "ExposedPorts": exposed,
            "Tty": s.tty,
            "OpenStdin": s.interactive,
            "StdinOnce": false,
            "Env": env,
            "Cmd": s.cmd.clone().or(image_config.cmd.clone()),
            "Image": r.image_name,
            "Volumes": Value::Null,
            "WorkingDir": s.workdir.clone().or(image_config.working_dir.clone()).unwrap_or_default(),
            "Entrypoint": s.entrypoint.clone().or(image_config.entrypoint.clone()),
            "OnBuild": Value::Null,
            "Labels": s.labels,
            "StopSignal": s.stop_signal.clone().unwrap_or_else(|| "SIGTERM".into()),
        });
        let net = r.network.clone();
        let ports = net
            .as_ref()
            .map_or_else(|| ports_json(&s.ports), |n| ports_json(&n.ports));
        let addr =
            |f: fn(&super::record::NetworkState) -> String| net.as_ref().map(f).unwrap_or_default();
        let mut networks = serde_json::Map::new();
        networks.insert(
            s.network.as_str().to_owned(),
            json!({
                "Gateway": addr(|n| n.gateway.clone()),
                "IPAddress": addr(|n| n.ip.clone()),
                "IPPrefixLen": net.as_ref().map_or(0, |n| n.prefix_len),
                "MacAddress": addr(|n| n.mac.clone()),
            }),
        );
        let network_settings = json!({
            "Bridge": "",
            "SandboxKey": if r.network.is_some() { format!("/run/strata/netns/{}", r.id) } else { String::new() },
            "Ports": ports,
            "Gateway": addr(|n| n.gateway.clone()),
            "IPAddress": addr(|n| n.ip.clone()),
            "IPPrefixLen": net.as_ref().map_or(0, |n| n.prefix_len),
            "MacAddress": addr(|n| n.mac.clone()),
            "Networks": networks,
        });
        Ok(ContainerInspect {
            id: r.id.clone(),
            created: r.created.clone(),
            path: r.argv.first().cloned().unwrap_or_default(),
            args: r.argv.iter().skip(1).cloned().collect(),
            state,
            image: r.image_id.to_string(),
            resolv_conf_path: c.path("resolv.conf").display().to_string(),
            hostname_path: c.path("hostname").display().to_string(),
            hosts_path: c.path("hosts").display().to_string(),
            log_path: c.path("log.json").display().to_string(),
            name: format!("/{}", r.name),
            restart_count: r.restart_count,
            driver: match self.snapshots.mode() {
                strata_snapshot::snapshots::SnapshotMode::Overlay => "overlay".into(),
                strata_snapshot::snapshots::SnapshotMode::Copy => "copy".into(),
            },
            platform: "linux".into(),
            host_config,
            mounts,
            config,
            network_settings,
        })
    }

    /// The rows of `ps` (all containers; the CLI filters).
    pub fn list_containers(&self) -> Result<Vec<ContainerSummary>> {
        Ok(self
            .containers()?
            .into_iter()
            .map(|c| {
                let phase = c.phase();
                let st = c.state.as_ref();
                let since = match phase {
                    Phase::Running => st.and_then(|s| s.started_at.as_deref()),
                    Phase::Exited => st.and_then(|s| s.finished_at.as_deref()),
                    Phase::Created => None,
                }
                .and_then(Timestamp::parse_rfc3339);
                ContainerSummary {
                    id: c.record.id.clone(),
                    name: c.record.name.clone(),
                    image: c.record.image_name.clone(),
                    command: c.record.argv.join(" "),
                    created: Timestamp::parse_rfc3339(&c.record.created),
                    phase,
                    exit_code: st.and_then(|s| s.exit_code),
                    since,
                    ports: c
                        .record
                        .network
                        .as_ref()
                        .map_or_else(|| c.record.settings.ports.clone(), |n| n.ports.clone()),
                }
            })
            .collect())
    }
}
