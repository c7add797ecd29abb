//! End-to-end tests against the real CNI plugins, iptables and kernel.
//! Root only: each skips with a message otherwise. Each test has its own
//! bridge `strata-tN` and subnet 10.200.N.0/24, so they run in parallel, and a
//! [`common::Lab`] guard that undoes everything even when the test fails.

use crate::netlab as common;

use std::net::{IpAddr, SocketAddr, TcpListener, UdpSocket};

use common::*;
use strata_runtime::network::{parse_publish, NetNs};

#[test]
fn two_namespaces_get_distinct_addresses_and_reach_each_other() {
    if !can_run("two_namespaces_get_distinct_addresses_and_reach_each_other") {
        return;
    }
    let mut lab = Lab::new(1);
    let a = lab.container("a");
    let b = lab.container("b");
    let at_a = lab.attach(a, &[]);
    let at_b = lab.attach(b, &[]);

    assert_ne!(at_a.ip, at_b.ip);
    assert_ne!(at_a.mac, at_b.mac);
    for at in [&at_a, &at_b] {
        assert!(at.ip.to_string().starts_with("10.200.1."), "{at:?}");
        assert_eq!((at.prefix_len, at.gateway), (24, lab.gateway()));
    }
    let eth0 = run_in(lab.ns(a), "ip", &["-o", "-4", "addr", "show", "eth0"]);
    assert!(eth0.contains(&format!("{}/24", at_a.ip)), "{eth0}");
    let ports = run("ip", &["-o", "link", "show", "master", "strata-t1"]);
    assert_eq!(ports.lines().count(), 2, "two veths on the bridge: {ports}");

    let listener = in_netns(lab.ns(a), || TcpListener::bind(("0.0.0.0", 7000)).unwrap());
    let server = tcp_echo(listener, 1);
    let target = SocketAddr::new(at_a.ip, 7000);
    let answer = in_netns(lab.ns(b), || tcp_exchange(target, "hello from b"));
    assert_eq!(answer.unwrap(), "echo:hello from b");
    assert_eq!(
        server.join().unwrap()[0].ip(),
        at_b.ip,
        "no NAT on the bridge"
    );
}

#[test]
fn published_ports_reach_the_container_from_localhost_and_host_addresses() {
    if !can_run("published_ports_reach_the_container_from_localhost_and_host_addresses") {
        return;
    }
    let mut lab = Lab::new(2);
    let a = lab.container("a");
    let b = lab.container("b");
    let mut ports = parse_publish("7000").unwrap(); // any host port
    ports.extend(parse_publish("127.0.0.1::7001").unwrap()); // localhost only
    ports.extend(parse_publish("7002/udp").unwrap());
    let at = lab.attach(a, &ports);
    lab.attach(b, &[]);
    let [tcp_any, tcp_local, udp_any] = [at.ports[0], at.ports[1], at.ports[2]];
    assert!(at.ports.iter().all(|p| p.host_port != 0), "{:?}", at.ports);
    println!("published: {tcp_any} {tcp_local} {udp_any}");

    let l0 = in_netns(lab.ns(a), || TcpListener::bind(("0.0.0.0", 7000)).unwrap());
    let l1 = in_netns(lab.ns(a), || TcpListener::bind(("0.0.0.0", 7001)).unwrap());
    let u2 = in_netns(lab.ns(a), || UdpSocket::bind(("0.0.0.0", 7002)).unwrap());
    let s0 = tcp_echo(l0, 5);
    let s1 = tcp_echo(l1, 1);
    let s2 = udp_echo(u2, 2);

    let localhost: IpAddr = "127.0.0.1".parse().unwrap();
    let port = |p: u16| move |ip: IpAddr| SocketAddr::new(ip, p);
    let (any, local, udp) = (
        port(tcp_any.host_port),
        port(tcp_local.host_port),
        port(udp_any.host_port),
    );

    // From the host: 127.0.0.1 (portmap's SNAT plus route_localnet), the
    // primary address, and the bridge's own address.
    assert_eq!(tcp_exchange(any(localhost), "lo").unwrap(), "echo:lo");
    let localnet =
        std::fs::read_to_string("/proc/sys/net/ipv4/conf/strata-t2/route_localnet").unwrap();
    assert_eq!(
        localnet.trim(),
        "1",
        "portmap sets route_localnet on the bridge"
    );
    assert_eq!(
        tcp_exchange(local(localhost), "lo-only").unwrap(),
        "echo:lo-only"
    );
    assert_eq!(
        udp_exchange(udp(localhost), "udp-lo").unwrap(),
        "echo:udp-lo"
    );
    let primary = host_primary_ip();
    match primary {
        Some(ip) => {
            assert_eq!(tcp_exchange(any(ip), "primary").unwrap(), "echo:primary");
            assert_eq!(
                udp_exchange(udp(ip), "udp-primary").unwrap(),
                "echo:udp-primary"
            );
            // A mapping bound to 127.0.0.1 is not published on other addresses.
            assert!(tcp_exchange(local(ip), "nope").is_err());
        }
        None => println!("no primary IPv4 address on this host: skipped that part"),
    }
    assert_eq!(tcp_exchange(any(lab.gateway()), "gw").unwrap(), "echo:gw");

    // From another container and from the container itself (hairpin), via a
    // host address.
    let via = primary.unwrap_or(lab.gateway());
    let from_b = in_netns(lab.ns(b), || tcp_exchange(any(via), "from-b"));
    assert_eq!(from_b.unwrap(), "echo:from-b");
    let hairpin = in_netns(lab.ns(a), || tcp_exchange(any(via), "hairpin"));
    assert_eq!(hairpin.unwrap(), "echo:hairpin");

    let peers = s0.join().unwrap();
    println!("peers seen by the container: {peers:?}");
    // From 127.0.0.1 the source must be rewritten (masqueraded to the bridge's
    // address): 127/8 is not routable on the wire.
    assert_eq!(peers[0].ip(), lab.gateway(), "{peers:?}");
    assert_eq!(s1.join().unwrap().len(), 1);
    assert_eq!(s2.join().unwrap(), 1 + usize::from(primary.is_some()));
}

#[test]
fn containers_reach_the_host_and_their_subnet_is_masqueraded() {
    if !can_run("containers_reach_the_host_and_their_subnet_is_masqueraded") {
        return;
    }
    let mut lab = Lab::new(3);
    let a = lab.container("a");
    let _at = lab.attach(a, &[]);

    let routes = run_in(lab.ns(a), "ip", &["-4", "route"]);
    assert!(
        routes.contains(&format!("default via {}", lab.gateway())),
        "{routes}"
    );

    let host = TcpListener::bind(("0.0.0.0", 0)).unwrap();
    let port = host.local_addr().unwrap().port();
    let server = tcp_echo(host, 2);
    let gw = SocketAddr::new(lab.gateway(), port);
    assert_eq!(
        in_netns(lab.ns(a), || tcp_exchange(gw, "to-gw")).unwrap(),
        "echo:to-gw"
    );
    let mut expected = 1;
    match host_primary_ip() {
        Some(ip) => {
            let addr = SocketAddr::new(ip, port);
            assert_eq!(
                in_netns(lab.ns(a), || tcp_exchange(addr, "to-host")).unwrap(),
                "echo:to-host"
            );
            expected += 1;
        }
        None => println!("no primary IPv4 address on this host: only the gateway was tried"),
    }
    assert_eq!(server.join().unwrap().len(), expected);

    // Traffic leaving for other networks is masqueraded by the bridge-wide
    // rule (`rules`), the subnet itself excluded.
    let nat = run("iptables", &["-t", "nat", "-S"]);
    assert!(
        nat.lines().any(
            |l| l.starts_with("-A POSTROUTING -s 10.200.3.0/24 ! -d 10.200.3.0/24")
                && l.ends_with("-j MASQUERADE")
        ),
        "no MASQUERADE for the subnet:\n{nat}"
    );
}

#[test]
fn detach_removes_rules_and_lease_and_is_idempotent() {
    if !can_run("detach_removes_rules_and_lease_and_is_idempotent") {
        return;
    }
    let mut lab = Lab::new(4);
    let a = lab.container("a");
    let id = lab.id("a");
    let before = iptables_save();
    let at = lab.attach(a, &parse_publish("7000").unwrap());
    let during = iptables_save();

    // Everything the plugins added for this container: rules naming its id or
    // address, and the per-container chains those rules jump to.
    let ip32 = format!("{}/32", at.ip);
    let own: Vec<&String> = during
        .iter()
        .filter(|l| l.contains(&id) || l.contains(&ip32))
        .collect();
    let chains: Vec<String> = own
        .iter()
        .filter_map(|l| l.split(" -j ").nth(1))
        .map(|target| target.split(' ').next().unwrap_or(target).to_owned())
        .filter(|c| c.starts_with("CNI-") && !c.starts_with("CNI-HOSTPORT-"))
        .collect();
    println!(
        "rules for the container: {}\nper-container chains: {chains:?}",
        own.len()
    );
    assert!(
        own.iter()
            .any(|l| l.contains("DNAT") || l.contains("CNI-DN-")),
        "portmap rules: {own:#?}"
    );
    // Masquerade and FORWARD acceptance are bridge-wide (see `rules`).
    let subnet = &lab.net.subnet;
    assert!(
        during.iter().any(|l| l.starts_with("-A POSTROUTING")
            && l.contains(subnet.as_str())
            && l.contains("MASQUERADE")),
        "bridge masquerade for {subnet}"
    );
    assert!(
        during
            .iter()
            .any(|l| l.starts_with("-A FORWARD") && l.contains(&format!("-o {}", lab.net.bridge))),
        "bridge forward rule"
    );
    let lease = lab.net.ipam_dir.join("strata-t4").join(at.ip.to_string());
    assert!(lease.exists());

    lab.detach(a);
    let after = iptables_save();
    let mentions = |l: &String| {
        l.contains(&id)
            || l.contains(&ip32)
            || chains.iter().any(|c| l.split_whitespace().any(|w| w == c))
    };
    let left: Vec<&String> = after.iter().filter(|l| mentions(l)).collect();
    assert!(left.is_empty(), "left behind: {left:#?}");
    // Whatever else is new since before the attach is shared scaffolding
    // (created once, kept like podman keeps it) or another test's network.
    let unexplained: Vec<&String> = after
        .iter()
        .filter(|l| !before.contains(l))
        .filter(|l| {
            let scaffold = [
                "CNI-HOSTPORT-",
                "CNI-FORWARD",
                "CNI-ADMIN",
                "*nat",
                "*filter",
                "COMMIT",
            ];
            let other_test = l.contains("10.200.") || l.contains("strata-t");
            // The bridge-wide rules stay until the bridge goes (the Lab's drop).
            let bridge_wide = l.contains("\"strata strata-t4\"");
            !(scaffold.iter().any(|s| l.contains(s)) || other_test || bridge_wide)
                || (l.contains("10.200.4.") && !bridge_wide)
        })
        .collect();
    assert!(unexplained.is_empty(), "new since before: {unexplained:#?}");
    let docker = |v: &Vec<String>| {
        v.iter()
            .filter(|l| l.contains("DOCKER") || l.contains("docker0"))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(docker(&before), docker(&after), "docker's rules untouched");

    assert!(!lease.exists(), "address released");
    let veths = run("ip", &["-o", "link", "show", "master", "strata-t4"]);
    assert!(veths.trim().is_empty(), "veth removed: {veths}");

    lab.detach(a); // a second detach is harmless
    assert_eq!(iptables_save().iter().filter(|l| mentions(l)).count(), 0);

    let path = lab.remove_ns(a);
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(
        !mounts.contains(path.to_str().unwrap()),
        "still mounted: {}",
        path.display()
    );
    assert!(!path.exists());
    assert!(NetNs::open(
        path.parent().unwrap(),
        path.file_name().unwrap().to_str().unwrap()
    )
    .is_err());
}

#[test]
fn network_none_has_only_loopback_and_it_is_up() {
    if !can_run("network_none_has_only_loopback_and_it_is_up") {
        return;
    }
    let mut lab = Lab::new(5);
    let a = lab.container("none");
    let links = run_in(lab.ns(a), "ip", &["-o", "link"]);
    assert_eq!(links.lines().count(), 1, "{links}");
    assert!(links.contains("lo: <LOOPBACK,UP,LOWER_UP>"), "{links}");
    let addrs = run_in(lab.ns(a), "ip", &["-o", "addr"]);
    assert!(
        addrs
            .lines()
            .all(|l| l.split_whitespace().nth(1) == Some("lo")),
        "{addrs}"
    );
    assert!(addrs.contains("inet 127.0.0.1/8"), "{addrs}");

    let echoed = in_netns(lab.ns(a), || {
        let l = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let addr = l.local_addr().unwrap();
        let server = tcp_echo(l, 1);
        let answer = tcp_exchange(addr, "self");
        server.join().unwrap();
        answer
    });
    assert_eq!(echoed.unwrap(), "echo:self");

    // And nothing can be reached outside it.
    let host = SocketAddr::new(host_primary_ip().unwrap_or("127.0.0.2".parse().unwrap()), 9);
    assert!(in_netns(lab.ns(a), || tcp_exchange(host, "out")).is_err());
}

#[test]
fn namespaces_are_created_opened_and_removed_without_leaks() {
    if !can_run("namespaces_are_created_opened_and_removed_without_leaks") {
        return;
    }
    let mut lab = Lab::new(6);
    let own_before = std::fs::read_link("/proc/thread-self/ns/net").unwrap();
    let a = lab.container("x");
    assert_eq!(
        std::fs::read_link("/proc/thread-self/ns/net").unwrap(),
        own_before,
        "caller's namespace untouched"
    );
    let id = lab.id("x");
    let opened = NetNs::open(&lab.netns_dir, &id).unwrap();
    assert_eq!(opened.path(), lab.ns(a).path());
    let err = NetNs::create(&lab.netns_dir, &id).unwrap_err();
    assert!(err.to_string().ends_with("already exists"), "{err}");
    let inode =
        |p: &std::path::Path| std::fs::metadata(p).map(|m| std::os::unix::fs::MetadataExt::ino(&m));
    assert_ne!(
        inode(lab.ns(a).path()).unwrap(),
        inode(std::path::Path::new("/proc/self/ns/net")).unwrap()
    );

    let path = lab.remove_ns(a);
    opened.remove().unwrap(); // already gone: harmless
    assert!(!path.exists());
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(path.to_str().unwrap()));
}
