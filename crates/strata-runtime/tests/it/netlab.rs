//! Fixtures for the root-only network tests: a per-test bridge and subnet, and
//! a guard that detaches, removes namespaces and deletes the bridge even when
//! the test fails.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use strata_runtime::network::{Attachment, BridgeNetwork, NetNs, PortMapping};

pub const CNI_BIN: &str = "/usr/lib/cni";
const ROOT: &str = "/tmp/strata-net-it";

/// False (with a message) where these tests cannot run.
pub fn can_run(test: &str) -> bool {
    if !rustix::process::geteuid().is_root() {
        eprintln!("skipping {test}: needs root (network namespaces, bridges, iptables)");
        return false;
    }
    if !Path::new(CNI_BIN).join("bridge").is_file() {
        eprintln!("skipping {test}: no CNI plugins in {CNI_BIN} (apt-get install containernetworking-plugins)");
        return false;
    }
    true
}

/// The full path of an admin tool, as `PATH` may lack the sbin directories.
pub fn sbin(tool: &str) -> String {
    ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        .iter()
        .map(|d| format!("{d}/{tool}"))
        .find(|p| Path::new(p).exists())
        .unwrap_or_else(|| tool.to_owned())
}

pub fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(sbin(cmd)).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs a command inside a namespace with util-linux's nsenter.
pub fn run_in(ns: &NetNs, cmd: &str, args: &[&str]) -> String {
    let net = format!("--net={}", ns.path().display());
    let tool = sbin(cmd);
    let mut all = vec![net.as_str(), tool.as_str()];
    all.extend_from_slice(args);
    run("nsenter", &all)
}

pub fn iptables_save() -> Vec<String> {
    run("iptables-save", &[])
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            // Chain headers carry packet counters: keep the name and policy.
            if l.starts_with(':') {
                l.split(" [").next().unwrap_or(l).to_owned()
            } else {
                l.to_owned()
            }
        })
        .collect()
}

/// The host's address on its primary interface (not a bridge of Docker's or ours).
pub fn host_primary_ip() -> Option<IpAddr> {
    run("ip", &["-4", "-o", "addr", "show", "scope", "global"])
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let ifname = f.nth(1)?;
            let skip = ["docker", "strata", "br-", "veth", "cni"];
            if skip.iter().any(|p| ifname.starts_with(p)) {
                return None;
            }
            let cidr = f.skip_while(|w| *w != "inet").nth(1)?;
            cidr.split('/').next()?.parse().ok()
        })
        .next()
}

/// Runs `f` on a thread that has entered `ns`; sockets it creates stay in `ns`.
pub fn in_netns<T: Send>(ns: &NetNs, f: impl FnOnce() -> T + Send) -> T {
    let path = ns.path().to_owned();
    std::thread::scope(|s| {
        s.spawn(move || {
            let file = std::fs::File::open(&path).unwrap();
            rustix::thread::move_into_link_name_space(
                file.as_fd(),
                Some(rustix::thread::LinkNameSpaceType::Network),
            )
            .unwrap();
            f()
        })
        .join()
        .unwrap()
    })
}

/// A TCP echo server on `listener`: answers up to `max` connections with
/// `echo:<line>`, and stops after `max` or 15 seconds.
pub fn tcp_echo(listener: TcpListener, max: usize) -> JoinHandle<Vec<SocketAddr>> {
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut peers = Vec::new();
        while peers.len() < max && Instant::now() < deadline {
            match listener.accept() {
                Ok((mut s, peer)) => {
                    s.set_nonblocking(false).unwrap();
                    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                    let mut buf = [0u8; 256];
                    let n = s.read(&mut buf).unwrap_or(0);
                    let _ = s.write_all(
                        format!("echo:{}", String::from_utf8_lossy(&buf[..n])).as_bytes(),
                    );
                    peers.push(peer);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
        peers
    })
}

/// A UDP echo server: answers up to `max` datagrams within 15 seconds.
pub fn udp_echo(socket: UdpSocket, max: usize) -> JoinHandle<usize> {
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut served = 0;
        let mut buf = [0u8; 256];
        while served < max && Instant::now() < deadline {
            if let Ok((n, peer)) = socket.recv_from(&mut buf) {
                let reply = format!("echo:{}", String::from_utf8_lossy(&buf[..n]));
                let _ = socket.send_to(reply.as_bytes(), peer);
                served += 1;
            }
        }
        served
    })
}

/// Connects to `addr`, sends `msg`, returns the answer.
pub fn tcp_exchange(addr: SocketAddr, msg: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(3))?;
    s.set_read_timeout(Some(Duration::from_secs(3)))?;
    s.write_all(msg.as_bytes())?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}

/// Sends `msg` to `addr` over UDP, returns the answer.
pub fn udp_exchange(addr: SocketAddr, msg: &str) -> std::io::Result<String> {
    let s = UdpSocket::bind(("0.0.0.0", 0))?;
    s.set_read_timeout(Some(Duration::from_secs(3)))?;
    s.send_to(msg.as_bytes(), addr)?;
    let mut buf = [0u8; 256];
    let (n, _) = s.recv_from(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

struct Member {
    id: String,
    ns: Option<NetNs>,
    ports: Vec<PortMapping>,
    attached: bool,
}

/// One test's network: bridge `strata-tN`, subnet 10.200.N.0/24, its own
/// namespaces directory and IPAM data; the CNI cache (and so its lock) is
/// shared, which serializes the plugins' edits of the shared iptables chains.
pub struct Lab {
    pub n: u8,
    pub dir: PathBuf,
    pub netns_dir: PathBuf,
    pub net: BridgeNetwork,
    members: Vec<Member>,
}

impl Lab {
    pub fn new(n: u8) -> Lab {
        let dir = PathBuf::from(ROOT).join(format!("t{n}-{}", std::process::id()));
        let net = BridgeNetwork {
            name: format!("strata-t{n}"),
            bridge: format!("strata-t{n}"),
            subnet: format!("10.200.{n}.0/24"),
            cni_bin_dir: PathBuf::from(CNI_BIN),
            ipam_dir: dir.join("ipam"),
            cache_dir: PathBuf::from(ROOT).join("cache"),
        };
        // A bridge left by a run that was killed before its guard ran.
        let _ = Command::new(sbin("ip"))
            .args(["link", "del", &net.bridge])
            .output();
        Lab {
            n,
            netns_dir: dir.join("netns"),
            dir,
            net,
            members: Vec::new(),
        }
    }

    /// The container id used for member `name`.
    pub fn id(&self, name: &str) -> String {
        format!("t{}-{name}-{}", self.n, std::process::id())
    }

    /// Creates the namespace of a new member; returns its index.
    pub fn container(&mut self, name: &str) -> usize {
        let id = self.id(name);
        let ns = NetNs::create(&self.netns_dir, &id).unwrap();
        self.members.push(Member {
            id,
            ns: Some(ns),
            ports: Vec::new(),
            attached: false,
        });
        self.members.len() - 1
    }

    pub fn ns(&self, i: usize) -> &NetNs {
        self.members[i].ns.as_ref().unwrap()
    }

    pub fn attach(&mut self, i: usize, ports: &[PortMapping]) -> Attachment {
        let m = &mut self.members[i];
        m.attached = true; // before: a failed attach may still leave state
        m.ports = ports.to_vec();
        let started = Instant::now();
        let a = self
            .net
            .attach(&m.id, m.ns.as_ref().unwrap(), ports)
            .unwrap();
        println!(
            "timing: attach {} ({} port(s)) took {:.1} ms",
            m.id,
            ports.len(),
            started.elapsed().as_secs_f64() * 1e3
        );
        a
    }

    pub fn detach(&mut self, i: usize) {
        let m = &mut self.members[i];
        let started = Instant::now();
        self.net
            .detach(&m.id, m.ns.as_ref().unwrap(), &m.ports)
            .unwrap();
        println!(
            "timing: detach {} took {:.1} ms",
            m.id,
            started.elapsed().as_secs_f64() * 1e3
        );
        m.attached = false;
    }

    /// Removes member `i`'s namespace now; returns its path.
    pub fn remove_ns(&mut self, i: usize) -> PathBuf {
        let ns = self.members[i].ns.take().unwrap();
        let path = ns.path().to_owned();
        ns.remove().unwrap();
        path
    }

    pub fn gateway(&self) -> IpAddr {
        format!("10.200.{}.1", self.n).parse().unwrap()
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for m in &mut self.members {
            if let Some(ns) = m.ns.take() {
                if m.attached {
                    if let Err(e) = self.net.detach(&m.id, &ns, &m.ports) {
                        eprintln!("cleanup: detach {}: {e}", m.id);
                    }
                }
                if let Err(e) = ns.remove() {
                    eprintln!("cleanup: {e}");
                }
            }
        }
        let _ = Command::new(sbin("ip"))
            .args(["link", "del", &self.net.bridge])
            .output();
        let _ = strata_runtime::network::rules::remove(&self.net.bridge, &self.net.subnet);
        // NetNs::create made the directory a (shared) mount point, as ip-netns does.
        let _ = rustix::mount::unmount(&self.netns_dir, rustix::mount::UnmountFlags::DETACH);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
