//! Bridge-wide iptables rules, installed once per boot.
//!
//! The bridge plugin's `ipMasq` and the `firewall` plugin both add rules *per
//! container*: about fifteen `iptables` runs per start and as many per stop,
//! which dominated a container's start latency. The same policy for a whole
//! bridge is three rules, added the first time the bridge is used after a boot:
//! - `nat POSTROUTING -s SUBNET ! -d SUBNET -j MASQUERADE` (outbound NAT);
//! - `filter FORWARD -i BRIDGE -j ACCEPT` and `-o BRIDGE -j ACCEPT` (dockerd
//!   sets the FORWARD policy to DROP, and with `br_netfilter` loaded even
//!   container-to-container traffic on the bridge passes through FORWARD).
//!
//! A marker under `/run/strata` (a tmpfs, emptied at boot like the rules) says
//! they are in place.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Error, Result};

/// Where the markers live.
const MARKER_DIR: &str = "/run/strata/rules";

fn iptables() -> PathBuf {
    ["/usr/sbin/iptables", "/sbin/iptables"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("iptables"))
}

fn rules(bridge: &str, subnet: &str) -> Vec<(&'static str, &'static str, Vec<String>)> {
    let comment = format!("strata {bridge}");
    let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    let tail = |mut v: Vec<String>| {
        v.extend(s(&["-m", "comment", "--comment"]));
        v.push(comment.clone());
        v
    };
    vec![
        ("nat", "POSTROUTING", {
            let mut v = s(&["-s", subnet, "!", "-d", subnet]);
            v = tail(v);
            v.extend(s(&["-j", "MASQUERADE"]));
            v
        }),
        ("filter", "FORWARD", {
            let mut v = tail(s(&["-i", bridge]));
            v.extend(s(&["-j", "ACCEPT"]));
            v
        }),
        ("filter", "FORWARD", {
            let mut v = tail(s(&["-o", bridge]));
            v.extend(s(&["-j", "ACCEPT"]));
            v
        }),
    ]
}

fn run(args: &[String]) -> Result<bool> {
    let out = Command::new(iptables())
        .args(args)
        .output()
        .map_err(|e| Error::Iptables {
            command: args.join(" "),
            message: e.to_string(),
        })?;
    Ok(out.status.success())
}

fn marker(bridge: &str) -> PathBuf {
    Path::new(MARKER_DIR).join(bridge)
}

/// Adds the bridge's rules unless this boot already did.
pub(crate) fn ensure(bridge: &str, subnet: &str) -> Result<()> {
    let mark = marker(bridge);
    if mark.exists() {
        return Ok(());
    }
    for (table, chain, rule) in rules(bridge, subnet) {
        let mut check = vec![
            "-w".to_owned(),
            "-t".to_owned(),
            table.to_owned(),
            "-C".to_owned(),
            chain.to_owned(),
        ];
        check.extend(rule.iter().cloned());
        if run(&check)? {
            continue;
        }
        let mut add = vec!["-w".to_owned(), "-t".to_owned(), table.to_owned()];
        // FORWARD rules go first, ahead of dockerd's DROP policy chains.
        if chain == "FORWARD" {
            add.extend(["-I".to_owned(), chain.to_owned(), "1".to_owned()]);
        } else {
            add.extend(["-A".to_owned(), chain.to_owned()]);
        }
        add.extend(rule);
        if !run(&add)? {
            return Err(Error::Iptables {
                command: add.join(" "),
                message: "could not add the bridge rule".to_owned(),
            });
        }
    }
    std::fs::create_dir_all(MARKER_DIR).map_err(|source| Error::State {
        network: bridge.to_owned(),
        action: "create",
        path: PathBuf::from(MARKER_DIR),
        source,
    })?;
    std::fs::write(&mark, subnet).map_err(|source| Error::State {
        network: bridge.to_owned(),
        action: "write",
        path: mark.clone(),
        source,
    })
}

/// Removes the bridge's rules and marker (for a bridge that goes away).
pub fn remove(bridge: &str, subnet: &str) -> Result<()> {
    for (table, chain, rule) in rules(bridge, subnet) {
        let mut del = vec![
            "-w".to_owned(),
            "-t".to_owned(),
            table.to_owned(),
            "-D".to_owned(),
            chain.to_owned(),
        ];
        del.extend(rule);
        // Absent already: fine.
        let _ = run(&del)?;
    }
    let _ = std::fs::remove_file(marker(bridge));
    Ok(())
}
