//! `ps` (containers) and `top` (a container's processes).

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{bail, Result};
use serde_json::{json, Value};
use strata_host::containers::{ContainerSummary, Phase, PortBinding};
use strata_host::Host;
use strata_oci::Timestamp;

use super::util::{go_time, print, since};
use crate::cli::{PsArgs, TopArgs};
use crate::render::{human_duration, Format, TabWriter};

const PS_TABLE: &str =
    "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}";

pub(super) fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// Docker's STATUS column.
pub(super) fn status(c: &ContainerSummary) -> String {
    let ago = |t: Option<Timestamp>| {
        let nanos = t.map_or(0, |t| {
            u64::try_from((Timestamp::now().0 - t.0).max(0)).unwrap_or(0)
        });
        human_duration(Duration::from_nanos(nanos))
    };
    match c.phase {
        Phase::Created => "Created".to_owned(),
        Phase::Running => format!("Up {}", ago(c.since)),
        Phase::Exited => format!("Exited ({}) {} ago", c.exit_code.unwrap_or(0), ago(c.since)),
    }
}

/// Docker's PORTS column: `0.0.0.0:8080->80/tcp`.
fn ports(ports: &[PortBinding]) -> String {
    ports
        .iter()
        .map(|p| {
            format!(
                "{}:{}->{}/{}",
                p.host_ip.as_deref().unwrap_or("0.0.0.0"),
                p.host_port,
                p.container_port,
                p.protocol
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn matches(c: &ContainerSummary, filters: &[(String, String)]) -> Result<bool> {
    for (k, v) in filters {
        let ok = match k.as_str() {
            "status" => c.phase.as_str() == v,
            "name" => c.name.contains(v.as_str()),
            "id" => c.id.starts_with(v.as_str()),
            "ancestor" => c.image == *v,
            "exited" => {
                c.phase == Phase::Exited && c.exit_code.map(|e| e.to_string()).as_deref() == Some(v)
            }
            other => {
                bail!("invalid filter {other:?}: supported are status, name, id, ancestor, exited")
            }
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `ps`.
pub fn ps(host: &Host, args: &PsArgs) -> Result<ExitCode> {
    let filters: Vec<(String, String)> = args
        .filters
        .iter()
        .map(|f| match f.split_once('=') {
            Some((k, v)) => Ok((k.to_owned(), v.to_owned())),
            None => bail!("invalid filter {f:?}: expected KEY=VALUE"),
        })
        .collect::<Result<_>>()?;
    let mut rows: Vec<ContainerSummary> = Vec::new();
    for c in host.list_containers()? {
        let shown = args.all || args.latest || c.phase == Phase::Running || !filters.is_empty();
        if shown && matches(&c, &filters)? {
            rows.push(c);
        }
    }
    if args.latest {
        rows.truncate(1);
    }
    if args.quiet {
        let ids: String = rows
            .iter()
            .map(|c| format!("{}\n", if args.no_trunc { &c.id } else { &c.id[..12] }))
            .collect();
        return print(&ids).map(|()| ExitCode::SUCCESS);
    }
    let items: Vec<Value> = rows
        .iter()
        .map(|c| {
            let command = if args.no_trunc {
                format!("\"{}\"", c.command)
            } else {
                format!("\"{}\"", ellipsis(&c.command, 20))
            };
            json!({
                "ID": if args.no_trunc { c.id.clone() } else { c.id[..12].to_owned() },
                "Image": c.image,
                "Command": command,
                "CreatedAt": go_time(c.created),
                "RunningFor": since(c.created),
                "Ports": ports(&c.ports),
                "State": c.phase.as_str(),
                "Status": status(c),
                "Names": c.name,
                "Size": "N/A",
                "Labels": "",
                "Mounts": "",
                "Networks": "",
            })
        })
        .collect();
    let headers = json!({
        "ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
        "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS",
        "Names": "NAMES", "Size": "SIZE", "Labels": "LABELS", "Mounts": "MOUNTS", "Networks": "NETWORKS",
    });
    let format = Format::parse(args.format.as_deref().unwrap_or(""))?.with_default_table(PS_TABLE);
    print(&format.render_list(&items, &headers)?)?;
    Ok(ExitCode::SUCCESS)
}

/// Fields of `/proc/<pid>/stat` after the command name.
fn proc_stat(pid: i32) -> Option<Vec<String>> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

fn uid_name(uid: &str) -> String {
    std::fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|p| {
            p.lines()
                .map(|l| l.split(':').collect::<Vec<_>>())
                .find(|f| f.len() > 2 && f[2] == uid)
                .map(|f| f[0].to_owned())
        })
        .unwrap_or_else(|| uid.to_owned())
}

/// `top`: the container's processes as `ps -ef` shows them (host PIDs).
pub fn top(host: &Host, args: &TopArgs) -> Result<ExitCode> {
    let pids = host.container_pids(&args.container)?;
    let ticks = 100u64;
    let mut w = TabWriter::new();
    w.write_str("UID\tPID\tPPID\tC\tSTIME\tTTY\tTIME\tCMD\n");
    for pid in pids {
        let Some(stat) = proc_stat(pid) else { continue };
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let uid = status
            .lines()
            .find_map(|l| l.strip_prefix("Uid:"))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or("0")
            .to_owned();
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|b| {
                b.split(|c| *c == 0)
                    .filter(|p| !p.is_empty())
                    .map(|p| String::from_utf8_lossy(p).into_owned())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        let cpu: u64 = stat.get(11).and_then(|u| u.parse().ok()).unwrap_or(0)
            + stat.get(12).and_then(|s| s.parse().ok()).unwrap_or(0);
        let secs = cpu / ticks;
        w.write_str(&format!(
            "{}\t{}\t{}\t0\t-\t?\t{:02}:{:02}:{:02}\t{}\n",
            uid_name(&uid),
            pid,
            stat.get(1).cloned().unwrap_or_default(),
            secs / 3600,
            secs % 3600 / 60,
            secs % 60,
            cmd
        ));
    }
    print(&w.finish())?;
    Ok(ExitCode::SUCCESS)
}
