//! A bridge network made of Debian's CNI plugins, run as the CNI spec (v1.0.0)
//! tells a runtime to run a network configuration list.
//!
//! The chain is `bridge` (veth pair into `bridge`, gateway address on it,
//! hairpin; addresses from `host-local`), then, only when ports are published,
//! `portmap` (DNAT for published ports, SNAT for localhost and hairpin
//! traffic). Outbound NAT and FORWARD acceptance are bridge-wide rules set once
//! per boot (`rules`), not per container: that is what keeps a start fast.
//!
//! The final ADD result is cached per container under `cache_dir`, because
//! DEL needs it as `prevResult` and portmap needs the port list again.

mod chain;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{Error, NetNs, PortMapping, Protocol, Result};
use chain::{add_list, del_list, CniCommand, Exec, Invocation, Plugins};

/// The CNI spec version Strata speaks; Debian's plugins 1.1.1 support it.
const CNI_VERSION: &str = "1.0.0";
/// The container-side interface name.
const IFNAME: &str = "eth0";

/// A bridge network: containers get a veth on `bridge`, an address from
/// `subnet`, outbound NAT, and published ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeNetwork {
    /// The CNI network name ("strata"); it keys IPAM state and iptables comments.
    pub name: String,
    /// The Linux bridge ("strata0"), created by the bridge plugin on first use.
    pub bridge: String,
    /// The IPv4 subnet in CIDR form ("10.89.0.0/16"); `.1` is the gateway.
    pub subnet: String,
    /// Where the CNI plugin binaries are (`/usr/lib/cni` on Debian).
    pub cni_bin_dir: PathBuf,
    /// The host-local IPAM `dataDir`: one file per leased address, under `<name>/`.
    pub ipam_dir: PathBuf,
    /// Cached ADD results (`<name>/<container>.json`) and the `lock` file that
    /// serializes attach and detach of every network sharing this directory
    /// (the plugins set up their shared iptables chains check-then-insert).
    pub cache_dir: PathBuf,
}

/// What a container got from [`BridgeNetwork::attach`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The container's address on the bridge.
    pub ip: IpAddr,
    /// The subnet's prefix length.
    pub prefix_len: u8,
    /// The bridge's address, the container's default route.
    pub gateway: IpAddr,
    /// The MAC address of the container's `eth0`.
    pub mac: String,
    /// The published ports, every host port 0 replaced by the port picked.
    pub ports: Vec<PortMapping>,
}

/// What is kept between ADD and DEL.
#[derive(Debug, Serialize, Deserialize)]
struct CacheEntry {
    container_id: String,
    netns: PathBuf,
    /// The result of the last plugin of the ADD, `prevResult` for DEL.
    result: Value,
    ports: Vec<PortMapping>,
}

impl BridgeNetwork {
    /// Strata's default network ("strata", bridge "strata0", 10.89.0.0/16,
    /// plugins in `/usr/lib/cni`), keeping its state under `state_dir`.
    pub fn with_defaults(state_dir: &Path) -> BridgeNetwork {
        BridgeNetwork {
            name: "strata".to_owned(),
            bridge: "strata0".to_owned(),
            subnet: "10.89.0.0/16".to_owned(),
            cni_bin_dir: PathBuf::from("/usr/lib/cni"),
            ipam_dir: state_dir.join("ipam"),
            cache_dir: state_dir.join("cni-cache"),
        }
    }

    /// The network configuration list (CNI spec, "Network Configuration Lists").
    pub fn conflist(&self) -> Value {
        self.conflist_for(true)
    }

    /// The list for one container: without published ports the `portmap`
    /// plugin has nothing to do, and leaving it out saves a plugin run (a Go
    /// binary's start-up, about a third of an attach) on both ADD and DEL.
    fn conflist_for(&self, with_ports: bool) -> Value {
        let mut list = self.full_conflist();
        if !with_ports {
            if let Some(plugins) = list.get_mut("plugins").and_then(Value::as_array_mut) {
                plugins.retain(|p| p.get("type").and_then(Value::as_str) != Some("portmap"));
            }
        }
        list
    }

    fn full_conflist(&self) -> Value {
        json!({
            "cniVersion": CNI_VERSION,
            "name": self.name,
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": self.bridge,
                    "isGateway": true,
                    // Bridge-wide instead: see `rules`.
                    "ipMasq": false,
                    "hairpinMode": true,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{ "subnet": self.subnet }]],
                        "routes": [{ "dst": "0.0.0.0/0" }],
                        "dataDir": self.ipam_dir,
                    },
                },
                {
                    "type": "portmap",
                    "capabilities": { "portMappings": true },
                    // SNAT for connections from 127.0.0.1 (with route_localnet,
                    // which the plugin sets on the bridge) and for hairpin.
                    "snat": true,
                },
            ],
        })
    }

    /// Connects the container's namespace to the network: brings `lo` up, then
    /// runs the chain with `CNI_COMMAND=ADD`, publishing `ports` (a host port of
    /// 0 gets a free port of the host). On failure everything already done is
    /// undone with DEL.
    ///
    /// Attaches and detaches that share a `cache_dir` run one at a time.
    pub fn attach(
        &self,
        container_id: &str,
        netns: &NetNs,
        ports: &[PortMapping],
    ) -> Result<Attachment> {
        super::rules::ensure(&self.bridge, &self.subnet)?;
        self.attach_with(&Plugins::new(&self.cni_bin_dir), container_id, netns, ports)
    }

    /// Disconnects the container: runs the chain with `CNI_COMMAND=DEL` in
    /// reverse order, which removes its iptables rules and veth and releases its
    /// address. Idempotent, and tolerant of a partial ADD or a lost cache: every
    /// plugin is called even when one fails, and the errors are reported together.
    ///
    /// `ports` are needed only when the cache of the ADD is lost. Call this before
    /// [`NetNs::remove`]: the bridge plugin finds the addresses whose masquerade
    /// rules it removes inside the namespace.
    pub fn detach(&self, container_id: &str, netns: &NetNs, ports: &[PortMapping]) -> Result<()> {
        self.detach_with(&Plugins::new(&self.cni_bin_dir), container_id, netns, ports)
    }

    fn attach_with(
        &self,
        exec: &dyn Exec,
        container_id: &str,
        netns: &NetNs,
        ports: &[PortMapping],
    ) -> Result<Attachment> {
        validate_id(container_id)?;
        self.validate()?;
        let ports = resolve_ports(ports)?;
        let _lock = self.lock()?;
        if self.cache_path(container_id).exists() {
            return Err(Error::AlreadyAttached {
                network: self.name.clone(),
                container_id: container_id.to_owned(),
            });
        }

        // `lo` is already up: NetNs::create does that for every namespace.
        let inv = Invocation {
            container_id,
            netns: netns.path(),
            ifname: IFNAME,
        };
        let list = self.conflist_for(!ports.is_empty());
        let runtime = runtime_config(&ports);
        let result = add_list(exec, &list, &runtime, &inv)?;

        let undo = |err: Error| {
            // The ADD succeeded but cannot be used or remembered: undo it now,
            // as nobody could DEL it properly later.
            let _ = del_list(exec, &list, &runtime, &inv, Some(&result));
            err
        };
        let attachment = attachment_from(&result, ports.clone()).map_err(undo)?;
        let entry = CacheEntry {
            container_id: container_id.to_owned(),
            netns: netns.path().to_owned(),
            result: result.clone(),
            ports,
        };
        self.write_cache(&entry).map_err(undo)?;
        Ok(attachment)
    }

    fn detach_with(
        &self,
        exec: &dyn Exec,
        container_id: &str,
        netns: &NetNs,
        ports: &[PortMapping],
    ) -> Result<()> {
        validate_id(container_id)?;
        let subnet = self.validate()?;
        let _lock = self.lock()?;

        let cache = self.read_cache(container_id);
        let prev = match &cache {
            Some(entry) => Some(entry.result.clone()),
            None => self.result_from_ipam(container_id, netns, subnet.1),
        };
        let mut mappings: Vec<PortMapping> =
            cache.as_ref().map(|c| c.ports.clone()).unwrap_or_default();
        for m in ports.iter().filter(|m| m.host_port != 0) {
            if !mappings.contains(m) {
                mappings.push(*m);
            }
        }
        if mappings.is_empty() && cache.is_none() {
            // portmap's DEL returns at once on an empty list, but its teardown is
            // keyed by container id alone: any entry makes it look for leftovers.
            mappings.push(PortMapping {
                host_ip: None,
                host_port: 1,
                container_port: 1,
                protocol: Protocol::Tcp,
            });
        }

        let inv = Invocation {
            container_id,
            netns: netns.path(),
            ifname: IFNAME,
        };
        // The cache says whether the ADD ran portmap; without a cache, run it
        // to clean up whatever a lost ADD may have left.
        let with_ports = !(cache.is_some() && mappings.is_empty());
        let errors = del_list(
            exec,
            &self.conflist_for(with_ports),
            &runtime_config(&mappings),
            &inv,
            prev.as_ref(),
        );
        if !errors.is_empty() {
            return Err(Error::Detach {
                network: self.name.clone(),
                container_id: container_id.to_owned(),
                errors,
            });
        }
        let path = self.cache_path(container_id);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(self.state_error("remove cached result", path, source)),
        }
    }

    /// Checks the fields; returns the subnet's address and prefix length.
    fn validate(&self) -> Result<(Ipv4Addr, u8)> {
        let invalid = |reason: String| Error::InvalidConfig {
            network: self.name.clone(),
            reason,
        };
        validate_token("network name", &self.name)?;
        if self.bridge.is_empty() || self.bridge.len() > 15 {
            return Err(invalid(format!(
                "bridge name {:?} must be 1 to 15 bytes (IFNAMSIZ)",
                self.bridge
            )));
        }
        validate_token("bridge name", &self.bridge)?;
        let parsed = self.subnet.split_once('/').and_then(|(addr, len)| {
            let addr = addr.parse::<Ipv4Addr>().ok()?;
            let len = len.parse::<u8>().ok().filter(|l| (8..=30).contains(l))?;
            Some((addr, len))
        });
        parsed.ok_or_else(|| {
            invalid(format!(
                "subnet {:?} is not an IPv4 CIDR with a prefix of 8 to 30 bits",
                self.subnet
            ))
        })
    }

    fn lock(&self) -> Result<File> {
        let path = self.cache_dir.join("lock");
        let open = || -> io::Result<File> {
            fs::create_dir_all(&self.cache_dir)?;
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .open(&path)?;
            rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)?;
            Ok(file)
        };
        open().map_err(|source| self.state_error("lock", path.clone(), source))
    }

    fn cache_path(&self, container_id: &str) -> PathBuf {
        self.cache_dir
            .join(&self.name)
            .join(format!("{container_id}.json"))
    }

    fn write_cache(&self, entry: &CacheEntry) -> Result<()> {
        let path = self.cache_path(&entry.container_id);
        let tmp = path.with_extension("json.tmp");
        let write = || -> io::Result<()> {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)?;
            }
            let mut file = File::create(&tmp)?;
            serde_json::to_writer_pretty(&mut file, entry)?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            fs::rename(&tmp, &path)
        };
        write().map_err(|source| self.state_error("write cached result", path.clone(), source))
    }

    /// The cached ADD, if any; an unreadable cache counts as none, and DEL then
    /// falls back on what it can find.
    fn read_cache(&self, container_id: &str) -> Option<CacheEntry> {
        let bytes = fs::read(self.cache_path(container_id)).ok()?;
        serde_json::from_slice::<CacheEntry>(&bytes)
            .ok()
            .filter(|e| e.container_id == container_id)
    }

    /// Rebuilds a minimal `prevResult` from host-local's lease files (named by
    /// address, holding the container id then the interface), so the firewall
    /// plugin can still remove its rules when the cache is lost.
    fn result_from_ipam(&self, container_id: &str, netns: &NetNs, prefix_len: u8) -> Option<Value> {
        let dir = self.ipam_dir.join(&self.name);
        let ips: Vec<Value> = fs::read_dir(dir)
            .ok()?
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let ip = entry.file_name().to_str()?.parse::<IpAddr>().ok()?;
                let owner = fs::read_to_string(entry.path()).ok()?;
                (owner.lines().next()?.trim() == container_id)
                    .then(|| json!({ "address": format!("{ip}/{prefix_len}"), "interface": 0 }))
            })
            .collect();
        (!ips.is_empty()).then(|| {
            json!({
                "cniVersion": CNI_VERSION,
                "interfaces": [{ "name": IFNAME, "sandbox": netns.path() }],
                "ips": ips,
            })
        })
    }

    fn state_error(&self, action: &'static str, path: PathBuf, source: io::Error) -> Error {
        Error::State {
            network: self.name.clone(),
            action,
            path,
            source,
        }
    }
}

fn validate_id(container_id: &str) -> Result<()> {
    validate_token("container id", container_id)
}

/// The CNI spec's rule for network names and container ids: an alphanumeric
/// character, then alphanumerics, `_`, `.` or `-`.
fn validate_token(what: &'static str, name: &str) -> Result<()> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidName {
            what,
            name: name.to_owned(),
            reason: "it must start with a letter or digit, then letters, digits, '_', '.' or '-'",
        })
    }
}

/// Replaces host port 0 by a port free right now (bound, then released once
/// all are picked, so two mappings never get the same one), and refuses what
/// an IPv4-only network cannot forward.
fn resolve_ports(ports: &[PortMapping]) -> Result<Vec<PortMapping>> {
    let mut held_tcp: Vec<TcpListener> = Vec::new();
    let mut held_udp: Vec<UdpSocket> = Vec::new();
    let mut out = Vec::with_capacity(ports.len());
    for m in ports {
        if matches!(m.host_ip, Some(IpAddr::V6(_))) {
            return Err(Error::UnsupportedMapping {
                host_port: m.host_port,
                container_port: m.container_port,
                protocol: m.protocol,
                reason: "the network is IPv4-only, so an IPv6 host address cannot be forwarded"
                    .to_owned(),
            });
        }
        if m.container_port == 0 {
            return Err(Error::UnsupportedMapping {
                host_port: m.host_port,
                container_port: 0,
                protocol: m.protocol,
                reason: "container port 0 is not a port".to_owned(),
            });
        }
        let mut m = *m;
        if m.host_port == 0 {
            let ip = m.host_ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
            let picked = match m.protocol {
                Protocol::Tcp => TcpListener::bind((ip, 0)).and_then(|l| {
                    let port = l.local_addr()?.port();
                    held_tcp.push(l);
                    Ok(port)
                }),
                Protocol::Udp => UdpSocket::bind((ip, 0)).and_then(|s| {
                    let port = s.local_addr()?.port();
                    held_udp.push(s);
                    Ok(port)
                }),
            };
            m.host_port = picked.map_err(|source| Error::NoFreePort {
                container_port: m.container_port,
                protocol: m.protocol,
                source,
            })?;
        }
        out.push(m);
    }
    drop((held_tcp, held_udp));
    Ok(out)
}

/// The `runtimeConfig` capabilities this runtime offers (CNI CONVENTIONS.md).
fn runtime_config(ports: &[PortMapping]) -> Value {
    let mappings: Vec<Value> = ports
        .iter()
        .map(|m| {
            let mut entry = json!({
                "hostPort": m.host_port,
                "containerPort": m.container_port,
                "protocol": m.protocol.as_str(),
            });
            if let (Some(ip), Some(obj)) = (m.host_ip, entry.as_object_mut()) {
                obj.insert("hostIP".to_owned(), json!(ip.to_string()));
            }
            entry
        })
        .collect();
    json!({ "portMappings": mappings })
}

#[derive(Deserialize)]
struct ResultView {
    #[serde(default)]
    interfaces: Vec<InterfaceView>,
    #[serde(default)]
    ips: Vec<IpView>,
}

#[derive(Deserialize)]
struct InterfaceView {
    #[serde(default)]
    name: String,
    #[serde(default)]
    mac: String,
    #[serde(default)]
    sandbox: String,
}

#[derive(Deserialize)]
struct IpView {
    address: String,
    #[serde(default)]
    gateway: Option<IpAddr>,
    #[serde(default)]
    interface: Option<usize>,
}

/// Reads the container's address, gateway and MAC out of the final ADD result.
fn attachment_from(result: &Value, ports: Vec<PortMapping>) -> Result<Attachment> {
    let bad = |reason: String| Error::BadResult {
        plugin: "bridge".to_owned(),
        command: CniCommand::Add.as_str(),
        reason,
    };
    let view = ResultView::deserialize(result).map_err(|e| bad(e.to_string()))?;
    let in_sandbox = |ip: &&IpView| {
        ip.interface
            .and_then(|i| view.interfaces.get(i))
            .is_some_and(|iface| !iface.sandbox.is_empty() && iface.name == IFNAME)
    };
    let chosen = view
        .ips
        .iter()
        .find(in_sandbox)
        .or_else(|| view.ips.first())
        .ok_or_else(|| bad("no IP address in the result".to_owned()))?;
    let (addr, len) = chosen
        .address
        .split_once('/')
        .ok_or_else(|| bad(format!("address {:?} is not in CIDR form", chosen.address)))?;
    let ip = addr
        .parse::<IpAddr>()
        .map_err(|_| bad(format!("address {:?} is not an IP address", chosen.address)))?;
    let prefix_len = len.parse::<u8>().map_err(|_| {
        bad(format!(
            "address {:?} has a bad prefix length",
            chosen.address
        ))
    })?;
    let gateway = chosen
        .gateway
        .ok_or_else(|| bad(format!("no gateway for {}", chosen.address)))?;
    let mac = chosen
        .interface
        .and_then(|i| view.interfaces.get(i))
        .map(|iface| iface.mac.clone())
        .unwrap_or_default();
    Ok(Attachment {
        ip,
        prefix_len,
        gateway,
        mac,
        ports,
    })
}

#[cfg(test)]
mod tests;
