//! Real peers (docker, skopeo, runc…) as oracles in interop tests.
//!
//! A test asks for a peer with [`require_peer`]. When the peer is missing the test
//! is skipped locally, but fails when `STRATA_REQUIRE_PEERS=1` (set by the test
//! script and CI), so a green CI run always means the interop tests ran.

use std::path::PathBuf;
use std::process::{Command, Output};

/// A located peer program.
#[derive(Debug, Clone)]
pub struct Peer {
    /// Absolute path of the program.
    pub path: PathBuf,
}

impl Peer {
    /// A command for the peer.
    pub fn command(&self) -> Command {
        Command::new(&self.path)
    }
}

/// Finds `name` in the usual places (preferring `/usr/bin`, where Debian's packages
/// put the versions the tests are written against). `check` is an extra argument
/// list that must succeed for the peer to count as usable (e.g. `["info"]` for a
/// docker whose daemon must be running). Returns `None` to skip the test, or panics
/// when peers are required.
pub fn require_peer(name: &str, check: &[&str]) -> Option<Peer> {
    let required = std::env::var("STRATA_REQUIRE_PEERS").is_ok_and(|v| v == "1");
    let candidates = [
        PathBuf::from("/usr/bin").join(name),
        PathBuf::from("/usr/sbin").join(name),
        PathBuf::from("/usr/local/bin").join(name),
    ];
    let found = candidates.into_iter().find(|p| p.is_file());
    let usable = found.filter(|p| {
        check.is_empty()
            || Command::new(p)
                .args(check)
                .output()
                .map(|o| o.status.success())
                .unwrap_or(false)
    });
    match usable {
        Some(path) => Some(Peer { path }),
        None if required => {
            panic!("peer {name} is required (STRATA_REQUIRE_PEERS=1) but not usable")
        }
        None => {
            eprintln!("skipping: peer {name} not available");
            None
        }
    }
}

/// Runs a command with `input` on its stdin (then closed), capturing stdout
/// and stderr. A command that exits before reading it all is no error.
pub fn run_with_stdin(cmd: &mut Command, input: &[u8]) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(input);
    }
    child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("wait for {cmd:?}: {e}"))
}

/// Runs a command and panics with its output unless it succeeds.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    if !out.status.success() {
        panic!(
            "{cmd:?} failed with {}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}
