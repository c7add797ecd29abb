//! Container networking, wired from the runtime crate's CNI driver.
//!
//! `bridge`: a network namespace at `/run/strata/netns/<id>` attached to the
//! `strata0` bridge (10.89.0.0/16) with outbound NAT and published ports, by
//! Debian's CNI plugins. `none`: a namespace with loopback up. `host`: nothing.

use std::net::IpAddr;
use std::path::Path;

use strata_runtime::network::{self, BridgeNetwork, NetNs, PortMapping, Protocol};

use super::record::{ContainerRecord, NetworkMode, NetworkState, PortBinding};
use crate::error::Result;
use crate::host::Host;

/// Where container network namespaces are bind-mounted.
pub const NETNS_DIR: &str = "/run/strata/netns";

/// The bridge network's address leases and CNI results. The bridge and its
/// subnet are the host's, whatever store a container belongs to, so their
/// bookkeeping is too: two stores (`--root`) must never hand out one address.
pub const NETWORK_STATE_DIR: &str = "/run/strata/network";

/// Parses `-p` with Docker's grammar.
pub fn parse_publish(spec: &str) -> Result<Vec<PortBinding>> {
    Ok(network::parse_publish(spec)?
        .into_iter()
        .map(|m| binding(&m))
        .collect())
}

fn binding(m: &PortMapping) -> PortBinding {
    PortBinding {
        host_ip: m.host_ip.map(|ip| ip.to_string()),
        host_port: m.host_port,
        container_port: m.container_port,
        protocol: m.protocol.as_str().to_owned(),
    }
}

fn mapping(b: &PortBinding) -> PortMapping {
    PortMapping {
        host_ip: b
            .host_ip
            .as_deref()
            .and_then(|ip| ip.parse::<IpAddr>().ok()),
        host_port: b.host_port,
        container_port: b.container_port,
        protocol: if b.protocol == "udp" {
            Protocol::Udp
        } else {
            Protocol::Tcp
        },
    }
}

impl Host {
    pub(crate) fn bridge(&self) -> BridgeNetwork {
        BridgeNetwork::with_defaults(Path::new(NETWORK_STATE_DIR))
    }

    /// Sets up the container's network; returns the namespace to join (`None`:
    /// the host's). Records the address and resolved ports in `record`.
    pub(crate) fn setup_network(&self, record: &mut ContainerRecord) -> Result<Option<String>> {
        let mode = record.settings.network;
        if mode == NetworkMode::Host {
            return Ok(None);
        }
        let netns = NetNs::create(Path::new(NETNS_DIR), &record.id)?;
        let path = netns.path().display().to_string();
        let result = match mode {
            // A new namespace has `lo` up and nothing else: Docker's `none`.
            NetworkMode::None => Ok(None),
            _ => {
                let ports: Vec<PortMapping> = record.settings.ports.iter().map(mapping).collect();
                self.bridge().attach(&record.id, &netns, &ports).map(|a| {
                    Some(NetworkState {
                        ip: a.ip.to_string(),
                        prefix_len: a.prefix_len,
                        gateway: a.gateway.to_string(),
                        mac: a.mac,
                        ports: a.ports.iter().map(binding).collect(),
                    })
                })
            }
        };
        match result {
            Ok(state) => {
                record.network = state;
                Ok(Some(path))
            }
            Err(e) => {
                let _ = netns.remove();
                Err(e.into())
            }
        }
    }

    /// Undoes `setup_network` (idempotent): detaches from the bridge, removes
    /// the namespace, forgets the address in the record.
    pub(crate) fn teardown_network(&self, record: &ContainerRecord) -> Result<()> {
        self.detach_network(record)?;
        if record.network.is_some() {
            let mut r = record.clone();
            r.network = None;
            self.save_record(&r)?;
        }
        Ok(())
    }

    /// Detaches from the bridge and removes the namespace; touches no record
    /// (the container may be gone already).
    pub(crate) fn detach_network(&self, record: &ContainerRecord) -> Result<()> {
        if record.settings.network == NetworkMode::Host {
            return Ok(());
        }
        if let Ok(netns) = NetNs::open(Path::new(NETNS_DIR), &record.id) {
            if record.settings.network == NetworkMode::Bridge {
                let ports: Vec<PortMapping> = record
                    .network
                    .as_ref()
                    .map_or(&record.settings.ports, |n| &n.ports)
                    .iter()
                    .map(mapping)
                    .collect();
                self.bridge().detach(&record.id, &netns, &ports)?;
            }
            netns.remove()?;
        }
        Ok(())
    }
}
