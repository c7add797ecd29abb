//! The bridge network's attach and detach against a recording plugin runner.

use super::chain::{plugin_failure, run};
use super::*;
use std::cell::RefCell;

/// Records calls; answers ADD with a bridge-like result, fails on demand.
struct Fake {
    calls: RefCell<Vec<(String, CniCommand, String, Value)>>,
    fail: Option<(&'static str, CniCommand)>,
}

impl Fake {
    fn new(fail: Option<(&'static str, CniCommand)>) -> Fake {
        Fake {
            calls: RefCell::new(Vec::new()),
            fail,
        }
    }
    fn seen(&self) -> Vec<String> {
        self.calls
            .borrow()
            .iter()
            .map(|(p, c, ifname, _)| format!("{} {p} {ifname}", c.as_str()))
            .collect()
    }
}

fn bridge_result() -> Value {
    json!({
        "cniVersion": "1.0.0",
        "interfaces": [
            { "name": "strata-u", "mac": "aa:aa:aa:aa:aa:aa" },
            { "name": "veth1", "mac": "bb:bb:bb:bb:bb:bb" },
            { "name": "eth0", "mac": "02:42:0a:c8:00:02", "sandbox": "/run/x/ns" }
        ],
        "ips": [{ "address": "10.200.0.2/24", "gateway": "10.200.0.1", "interface": 2 }],
    })
}

impl Exec for Fake {
    fn exec(
        &self,
        plugin: &str,
        command: CniCommand,
        inv: &Invocation<'_>,
        stdin: &[u8],
    ) -> Result<Vec<u8>> {
        let conf: Value = serde_json::from_slice(stdin).unwrap();
        self.calls.borrow_mut().push((
            plugin.to_owned(),
            command,
            inv.ifname.to_owned(),
            conf.clone(),
        ));
        if self.fail == Some((plugin_static(plugin), command)) {
            return Err(plugin_failure(
                plugin,
                command,
                Some(1),
                br#"{"code":7,"msg":"boom"}"#,
                b"",
            ));
        }
        let out = match (plugin, command) {
            (_, CniCommand::Del) => Value::Null,
            ("bridge", _) => bridge_result(),
            _ => conf["prevResult"].clone(),
        };
        Ok(if out.is_null() {
            Vec::new()
        } else {
            serde_json::to_vec(&out).unwrap()
        })
    }
}

fn plugin_static(p: &str) -> &'static str {
    match p {
        "bridge" => "bridge",
        "portmap" => "portmap",
        "firewall" => "firewall",
        _ => "other",
    }
}

fn temp_state(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strata-cni-unit-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn net(state: &Path) -> BridgeNetwork {
    BridgeNetwork {
        name: "strata-u".into(),
        bridge: "strata-u".into(),
        subnet: "10.200.0.0/24".into(),
        ..BridgeNetwork::with_defaults(state)
    }
}

fn web() -> PortMapping {
    PortMapping {
        host_ip: None,
        host_port: 8080,
        container_port: 80,
        protocol: Protocol::Tcp,
    }
}

#[test]
fn attach_runs_the_chain_in_order_with_prev_results() {
    let state = temp_state("order");
    let net = net(&state);
    let fake = Fake::new(None);
    let ns = NetNs::at(Path::new("/run/x/ns"));
    let a = net.attach_with(&fake, "c1", &ns, &[web()]).unwrap();
    assert_eq!(fake.seen(), ["ADD bridge eth0", "ADD portmap eth0"]);
    assert_eq!(a.ip, "10.200.0.2".parse::<IpAddr>().unwrap());
    assert_eq!((a.prefix_len, a.mac.as_str()), (24, "02:42:0a:c8:00:02"));
    assert_eq!(a.gateway, "10.200.0.1".parse::<IpAddr>().unwrap());

    let calls = fake.calls.borrow();
    let bridge = &calls[0].3;
    assert_eq!(bridge["name"], "strata-u");
    assert_eq!(bridge["cniVersion"], "1.0.0");
    assert!(bridge.get("prevResult").is_none());
    assert!(
        bridge.get("runtimeConfig").is_none(),
        "bridge declares no capability"
    );
    let portmap = &calls[1].3;
    assert_eq!(portmap["prevResult"], bridge_result());
    assert_eq!(
        portmap["runtimeConfig"]["portMappings"],
        json!([{ "hostPort": 8080, "containerPort": 80, "protocol": "tcp" }])
    );
    drop(calls);
    fs::remove_dir_all(&state).unwrap();
}

#[test]
fn detach_runs_the_chain_in_reverse_with_the_cached_result_and_ports() {
    let state = temp_state("reverse");
    let net = net(&state);
    let ns = NetNs::at(Path::new("/run/x/ns"));
    net.attach_with(&Fake::new(None), "c1", &ns, &[web()])
        .unwrap();

    let again = Fake::new(None);
    let err = net.attach_with(&again, "c1", &ns, &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "network strata-u: container c1 is already attached (detach it first)"
    );
    assert!(again.seen().is_empty(), "no ADD, hence no rollback DEL");

    let fake = Fake::new(None);
    net.detach_with(&fake, "c1", &ns, &[]).unwrap();
    assert_eq!(fake.seen(), ["DEL portmap eth0", "DEL bridge eth0"]);
    for (_, _, _, conf) in fake.calls.borrow().iter() {
        assert_eq!(conf["prevResult"], bridge_result());
    }
    assert_eq!(
        fake.calls.borrow()[0].3["runtimeConfig"]["portMappings"][0]["hostPort"],
        8080
    );
    assert!(!net.cache_path("c1").exists());

    // Again, with the cache gone: still every plugin, no error.
    let fake = Fake::new(None);
    net.detach_with(&fake, "c1", &ns, &[]).unwrap();
    assert_eq!(fake.seen().len(), 2);
    fs::remove_dir_all(&state).unwrap();
}

#[test]
fn failed_add_is_rolled_back_in_reverse() {
    let state = temp_state("rollback");
    let net = net(&state);
    let fake = Fake::new(Some(("portmap", CniCommand::Add)));
    let ns = NetNs::at(Path::new("/run/x/ns"));
    let err = net.attach_with(&fake, "c1", &ns, &[web()]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cni plugin portmap ADD failed (code 7): boom"
    );
    assert_eq!(
        fake.seen(),
        [
            "ADD bridge eth0",
            "ADD portmap eth0",
            "DEL portmap eth0",
            "DEL bridge eth0"
        ]
    );
    assert!(!net.cache_path("c1").exists());
    let _ = fs::remove_dir_all(&state);
}

#[test]
fn detach_goes_on_past_a_failing_plugin_and_keeps_the_cache() {
    let state = temp_state("partial");
    let net = net(&state);
    let ns = NetNs::at(Path::new("/run/x/ns"));
    net.attach_with(&Fake::new(None), "c1", &ns, &[web()])
        .unwrap();
    let fake = Fake::new(Some(("portmap", CniCommand::Del)));
    let err = net.detach_with(&fake, "c1", &ns, &[]).unwrap_err();
    assert_eq!(
        fake.seen(),
        ["DEL portmap eth0", "DEL bridge eth0"],
        "goes on past it"
    );
    assert!(
        err.to_string()
            .contains("detaching container c1: cni plugin portmap DEL failed"),
        "{err}"
    );
    assert!(net.cache_path("c1").exists(), "kept for a retry");
    fs::remove_dir_all(&state).unwrap();
}

#[test]
fn lost_cache_falls_back_on_ipam_leases_and_given_ports() {
    let state = temp_state("ipam");
    let net = net(&state);
    let leases = net.ipam_dir.join("strata-u");
    fs::create_dir_all(&leases).unwrap();
    fs::write(leases.join("10.200.0.7"), "c9\r\neth0").unwrap();
    fs::write(leases.join("10.200.0.8"), "other\r\neth0").unwrap();
    fs::write(leases.join("last_reserved_ip.0"), "10.200.0.8").unwrap();
    let fake = Fake::new(None);
    let ns = NetNs::at(Path::new("/run/x/ns"));
    net.detach_with(&fake, "c9", &ns, &[web()]).unwrap();
    let calls = fake.calls.borrow();
    assert_eq!(
        calls[0].3["prevResult"]["ips"],
        json!([{ "address": "10.200.0.7/24", "interface": 0 }])
    );
    // DEL runs in reverse: portmap (with the given ports) before bridge.
    assert_eq!(
        calls[0].3["runtimeConfig"]["portMappings"][0]["hostPort"],
        8080
    );
    drop(calls);
    fs::remove_dir_all(&state).unwrap();
}

#[test]
fn a_missing_plugin_names_the_debian_package() {
    let empty = temp_state("noplugins");
    fs::create_dir_all(&empty).unwrap();
    let ns = NetNs::at(Path::new("/run/x/ns"));
    let conf = json!({ "cniVersion": CNI_VERSION, "name": "n", "type": "bridge" });
    let inv = Invocation {
        container_id: "c1",
        netns: ns.path(),
        ifname: IFNAME,
    };
    let err = run(&Plugins::new(&empty), &conf, CniCommand::Add, &inv)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("cni plugin bridge not found in "), "{err}");
    assert!(
        err.contains("install the Debian package `containernetworking-plugins`"),
        "{err}"
    );
    fs::remove_dir_all(&empty).unwrap();
}

#[test]
fn bad_configuration_is_refused_before_any_plugin_runs() {
    let state = temp_state("badconf");
    let ns = NetNs::at(Path::new("/run/x/ns"));
    let fake = Fake::new(None);
    let mut n = net(&state);
    n.subnet = "10.200.0.0".into();
    let err = n
        .attach_with(&fake, "c1", &ns, &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("subnet \"10.200.0.0\" is not an IPv4 CIDR"),
        "{err}"
    );
    let mut n = net(&state);
    n.bridge = "a-very-long-bridge-name".into();
    assert!(n.attach_with(&fake, "c1", &ns, &[]).is_err());
    let err = net(&state)
        .attach_with(&fake, "../x", &ns, &[])
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("invalid container id \"../x\""), "{err}");
    let v6 = PortMapping {
        host_ip: Some("::1".parse().unwrap()),
        ..web()
    };
    let err = net(&state)
        .attach_with(&fake, "c1", &ns, &[v6])
        .unwrap_err()
        .to_string();
    assert!(err.contains("IPv4-only"), "{err}");
    assert!(fake.seen().is_empty());
    let _ = fs::remove_dir_all(&state);
}

#[test]
fn host_port_zero_gets_distinct_free_ports() {
    let any = PortMapping {
        host_port: 0,
        ..web()
    };
    let udp = PortMapping {
        protocol: Protocol::Udp,
        ..any
    };
    let out = resolve_ports(&[any, any, udp, web()]).unwrap();
    assert!(out[0].host_port != 0 && out[1].host_port != 0 && out[2].host_port != 0);
    assert_ne!(out[0].host_port, out[1].host_port);
    assert_eq!(out[3].host_port, 8080);
}
