//! Network namespaces, Docker's `-p` grammar, and a CNI bridge network.
//!
//! The pieces:
//! - [`NetNs`]: a named network namespace kept alive by a bind mount, like
//!   `ip netns add` but under a directory Strata chooses, with `lo` up (all
//!   `--network none` gets).
//! - [`parse_publish`]: Docker's `-p/--publish` grammar into [`PortMapping`]s.
//! - [`BridgeNetwork`]: runs the CNI plugin chain `bridge` (host-local IPAM)
//!   and, with published ports, `portmap` for a container.

mod cni;
mod netns;
pub mod rules;

use std::fmt;
use std::io;
use std::net::IpAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use cni::{Attachment, BridgeNetwork};
pub use netns::NetNs;

/// The Debian package that ships the CNI plugins.
pub const CNI_PLUGINS_PACKAGE: &str = "containernetworking-plugins";

/// Everything that can go wrong in this module.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A `-p/--publish` value does not follow Docker's grammar.
    #[error("invalid port spec {spec:?}: {reason}")]
    InvalidPortSpec {
        /// The value as given.
        spec: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A name (network namespace, network, bridge, container id) is not usable.
    #[error("invalid {what} {name:?}: {reason}")]
    InvalidName {
        /// What kind of name: "network namespace name", "container id", ….
        what: &'static str,
        /// The name as given.
        name: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// A system call or file operation on a network namespace failed.
    #[error("network namespace {path}: {action}: {source}")]
    Netns {
        /// The namespace file.
        path: PathBuf,
        /// What was being done ("bind-mount", "unshare", …).
        action: &'static str,
        /// The underlying error.
        source: io::Error,
    },
    /// [`NetNs::create`] found a live namespace already mounted at the path.
    #[error("network namespace {0} already exists")]
    NetnsExists(PathBuf),
    /// [`NetNs::open`] found no namespace mounted at the path.
    #[error("network namespace {0} does not exist (no nsfs mount there)")]
    NetnsNotFound(PathBuf),
    /// The network's configuration is not valid.
    #[error("network {network}: invalid configuration: {reason}")]
    InvalidConfig {
        /// The network's name.
        network: String,
        /// What is wrong.
        reason: String,
    },
    /// A CNI plugin binary is missing from the plugin directory.
    #[error(
        "cni plugin {plugin} not found in {}: install the Debian package `{CNI_PLUGINS_PACKAGE}` (apt-get install {CNI_PLUGINS_PACKAGE})",
        dir.display()
    )]
    PluginNotFound {
        /// The plugin's type, e.g. "bridge".
        plugin: String,
        /// The directory searched.
        dir: PathBuf,
    },
    /// A CNI plugin could not be started or talked to.
    #[error("cni plugin {plugin}: could not run {command}: {source}")]
    PluginSpawn {
        /// The plugin's type.
        plugin: String,
        /// The CNI command (ADD, DEL, …).
        command: &'static str,
        /// The underlying error.
        source: io::Error,
    },
    /// A bridge-wide iptables rule could not be set (see `rules`).
    #[error("iptables {command}: {message}")]
    Iptables {
        /// The arguments.
        command: String,
        /// What went wrong.
        message: String,
    },
    /// A CNI plugin ran and reported failure.
    #[error("cni plugin {plugin} {command} failed (code {code}): {message}")]
    PluginFailed {
        /// The plugin's type.
        plugin: String,
        /// The CNI command (ADD, DEL, …).
        command: &'static str,
        /// The CNI error code (see the CNI spec's well-known codes), or the exit status.
        code: i64,
        /// `msg` and `details` from the plugin's error result, or its stderr.
        message: String,
    },
    /// A CNI plugin's output is not a result this module understands.
    #[error("cni plugin {plugin} {command} returned an unusable result: {reason}")]
    BadResult {
        /// The plugin's type.
        plugin: String,
        /// The CNI command (ADD, DEL, …).
        command: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Reading or writing the network's state (lock, result cache) failed.
    #[error("network {network}: {action} {}: {source}", path.display())]
    State {
        /// The network's name.
        network: String,
        /// What was being done.
        action: &'static str,
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// No free host port could be found for a mapping that asked for any port.
    #[error("port {container_port}/{protocol}: could not pick a free host port: {source}")]
    NoFreePort {
        /// The container port of the mapping.
        container_port: u16,
        /// Its protocol.
        protocol: Protocol,
        /// The underlying error.
        source: io::Error,
    },
    /// A port mapping cannot be set up on this network.
    #[error("port {host_port}:{container_port}/{protocol}: {reason}")]
    UnsupportedMapping {
        /// The host port of the mapping.
        host_port: u16,
        /// The container port of the mapping.
        container_port: u16,
        /// Its protocol.
        protocol: Protocol,
        /// Why it cannot be set up.
        reason: String,
    },
    /// [`BridgeNetwork::attach`] for a container that is attached already (a
    /// second ADD would fail, and its rollback would tear down the first).
    #[error("network {network}: container {container_id} is already attached (detach it first)")]
    AlreadyAttached {
        /// The network's name.
        network: String,
        /// The container.
        container_id: String,
    },
    /// `detach` went through every plugin but some reported errors.
    #[error("network {network}: detaching container {container_id}: {}", join_errors(.errors))]
    Detach {
        /// The network's name.
        network: String,
        /// The container.
        container_id: String,
        /// Every error met, in order.
        errors: Vec<Error>,
    },
}

fn join_errors(errors: &[Error]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// This module's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A transport protocol of a published port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP (Docker's default).
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// The lowercase name used by Docker and CNI ("tcp", "udp").
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One published port: traffic to `host_ip:host_port` on the host goes to
/// `container_port` in the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PortMapping {
    /// Only this host address (`None`: every address of the host).
    pub host_ip: Option<IpAddr>,
    /// The host port; 0 means "any free port", resolved by [`BridgeNetwork::attach`].
    pub host_port: u16,
    /// The port inside the container.
    pub container_port: u16,
    /// TCP or UDP.
    pub protocol: Protocol,
}

impl fmt::Display for PortMapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.host_ip {
            Some(IpAddr::V6(ip)) => write!(f, "[{ip}]:")?,
            Some(IpAddr::V4(ip)) => write!(f, "{ip}:")?,
            None => {}
        }
        write!(
            f,
            "{}:{}/{}",
            self.host_port, self.container_port, self.protocol
        )
    }
}

/// Parses one `-p/--publish` value with Docker's grammar
/// (`[IP:][HOST_PORT[-END]]:CONTAINER_PORT[-END][/PROTO]`, or `CONTAINER_PORT`
/// alone), one mapping per container port.
///
/// - `8080:80`, `127.0.0.1:8080:80/udp`, `[::1]:8080:80`: fixed host port.
/// - `80`, `127.0.0.1::80`, `8000-8002`: host port 0, i.e. any free port,
///   picked by [`BridgeNetwork::attach`].
/// - `8000-8002:80-82`: ranges of the same length, mapped pairwise.
///
/// Refused with [`Error::InvalidPortSpec`]: ranges of different lengths, a
/// host range for a single container port (Docker picks one port from it;
/// Strata cannot express that yet), protocols other than tcp/udp, port 0 as
/// a container port, and malformed numbers or addresses.
pub fn parse_publish(spec: &str) -> Result<Vec<PortMapping>> {
    let invalid = |reason: String| Error::InvalidPortSpec {
        spec: spec.to_owned(),
        reason,
    };

    let (rest, protocol) = match spec.rsplit_once('/') {
        Some((rest, proto)) => (rest, parse_protocol(proto).map_err(invalid)?),
        None => (spec, Protocol::Tcp),
    };
    if rest.is_empty() {
        return Err(invalid("no port specified".to_owned()));
    }

    // Docker's splitParts: the last field is the container port, the one
    // before the host port, and everything before that (colons included, for
    // a bare IPv6 address) the host IP.
    let mut fields = rest.rsplitn(3, ':');
    let container = fields.next().unwrap_or_default();
    let host = fields.next().unwrap_or_default();
    let ip = fields.next().unwrap_or_default();

    let host_ip = parse_host_ip(ip).map_err(invalid)?;
    if container.is_empty() {
        return Err(invalid("no container port specified".to_owned()));
    }
    let (ctr_start, ctr_end) =
        parse_range(container).map_err(|e| invalid(format!("container port: {e}")))?;
    if ctr_start == 0 {
        return Err(invalid("container port 0 is not allowed".to_owned()));
    }
    let host_range = if host.is_empty() {
        None
    } else {
        Some(parse_range(host).map_err(|e| invalid(format!("host port: {e}")))?)
    };

    let count = ctr_end - ctr_start;
    let mut out = Vec::with_capacity(usize::from(count) + 1);
    for offset in 0..=count {
        let host_port = match host_range {
            None => 0,
            Some((start, end)) if end - start == count => start + offset,
            Some((start, end)) if count == 0 => {
                return Err(invalid(format!(
                    "host port range {start}-{end} for a single container port is not supported; give one host port"
                )))
            }
            Some((start, end)) => {
                return Err(invalid(format!(
                    "host port range {start}-{end} and container port range {ctr_start}-{ctr_end} differ in length"
                )))
            }
        };
        out.push(PortMapping {
            host_ip,
            host_port,
            container_port: ctr_start + offset,
            protocol,
        });
    }
    Ok(out)
}

fn parse_protocol(proto: &str) -> std::result::Result<Protocol, String> {
    match proto.to_ascii_lowercase().as_str() {
        "tcp" => Ok(Protocol::Tcp),
        "udp" => Ok(Protocol::Udp),
        "" => Err("empty protocol after '/'".to_owned()),
        "sctp" => Err("protocol sctp is not supported (tcp or udp)".to_owned()),
        other => Err(format!("unknown protocol {other:?} (tcp or udp)")),
    }
}

fn parse_host_ip(ip: &str) -> std::result::Result<Option<IpAddr>, String> {
    if ip.is_empty() {
        return Ok(None);
    }
    let bare = match ip.strip_prefix('[') {
        Some(inner) => inner
            .strip_suffix(']')
            .ok_or_else(|| format!("unclosed bracket in host address {ip:?}"))?,
        None => ip,
    };
    bare.parse::<IpAddr>()
        .map(Some)
        .map_err(|_| format!("invalid host address {ip:?}"))
}

fn parse_range(text: &str) -> std::result::Result<(u16, u16), String> {
    let port = |s: &str| -> std::result::Result<u16, String> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{s:?} is not a port number"));
        }
        s.parse::<u16>()
            .map_err(|_| format!("{s} is out of range (0-65535)"))
    };
    match text.split_once('-') {
        None => {
            let p = port(text)?;
            Ok((p, p))
        }
        Some((a, b)) => {
            let (start, end) = (port(a)?, port(b)?);
            if end < start {
                return Err(format!("range {start}-{end} ends before it starts"));
            }
            Ok((start, end))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn one(spec: &str) -> PortMapping {
        let v = parse_publish(spec).unwrap();
        assert_eq!(v.len(), 1, "{spec}: {v:?}");
        v[0]
    }

    fn err(spec: &str) -> String {
        parse_publish(spec).unwrap_err().to_string()
    }

    #[test]
    fn host_and_container_port() {
        let m = one("8080:80");
        assert_eq!(
            m,
            PortMapping {
                host_ip: None,
                host_port: 8080,
                container_port: 80,
                protocol: Protocol::Tcp
            }
        );
    }

    #[test]
    fn ip_host_container_and_protocol() {
        let m = one("127.0.0.1:8080:80/udp");
        assert_eq!(m.host_ip, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        assert_eq!((m.host_port, m.container_port), (8080, 80));
        assert_eq!(m.protocol, Protocol::Udp);
        assert_eq!(one("80/UDP").protocol, Protocol::Udp);
    }

    #[test]
    fn container_port_alone_means_any_host_port() {
        let m = one("80");
        assert_eq!((m.host_ip, m.host_port, m.container_port), (None, 0, 80));
        let m = one("127.0.0.1::80");
        assert_eq!(m.host_ip, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        assert_eq!(m.host_port, 0);
        let v = parse_publish("8000-8002").unwrap();
        assert_eq!(
            v.iter().map(|m| m.container_port).collect::<Vec<_>>(),
            [8000, 8001, 8002]
        );
        assert!(v.iter().all(|m| m.host_port == 0));
    }

    #[test]
    fn ranges_map_pairwise() {
        let v = parse_publish("9000-9002:80-82/tcp").unwrap();
        let pairs: Vec<_> = v.iter().map(|m| (m.host_port, m.container_port)).collect();
        assert_eq!(pairs, [(9000, 80), (9001, 81), (9002, 82)]);
    }

    #[test]
    fn ipv6_in_brackets_and_bare() {
        let m = one("[::1]:8080:80");
        assert_eq!(m.host_ip, Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert_eq!((m.host_port, m.container_port), (8080, 80));
        let m = one("[fd00::2]::53/udp");
        assert_eq!(m.host_ip, Some("fd00::2".parse().unwrap()));
        assert_eq!(m.host_port, 0);
        // Docker also accepts a bare IPv6 address: all fields but the last two.
        let m = one("::1:8080:80");
        assert_eq!(m.host_ip, Some(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert_eq!(m.to_string(), "[::1]:8080:80/tcp");
    }

    #[test]
    fn bad_specs_are_refused_with_a_reason() {
        assert!(err("").starts_with("invalid port spec \"\""));
        assert!(err("8080:").contains("no container port"));
        assert!(err("abc").contains("\"abc\" is not a port number"));
        assert!(err("70000").contains("out of range"));
        assert!(err("8080:80/sctp").contains("sctp is not supported"));
        assert!(err("8080:80/icmp").contains("unknown protocol"));
        assert!(err("80/").contains("empty protocol"));
        assert!(err("1.2.3:8080:80").contains("invalid host address"));
        assert!(
            err("[::1:8080:80").contains("invalid host address")
                || err("[::1:8080:80").contains("bracket")
        );
        assert!(err("9000-9001:80-82").contains("differ in length"));
        assert!(err("9000-9010:80").contains("single container port"));
        assert!(err("90-80").contains("ends before it starts"));
        assert!(err("8080:0").contains("container port 0"));
        assert!(err(" 80").contains("not a port number"));
    }
}
