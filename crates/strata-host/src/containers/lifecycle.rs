//! stop, kill, wait, restart, rm, container prune.

use std::time::{Duration, Instant};

use strata_runtime::runc::Runtime;

use super::record::{Container, Phase};
use super::watch::{Watch, MAX_WAIT};
use crate::error::{Error, Result};
use crate::host::Host;

/// Docker's default grace period for `stop`.
pub const DEFAULT_STOP_TIMEOUT: u32 = 10;

impl Host {
    fn runtime_for(&self, c: &Container) -> Result<Runtime> {
        Ok(Runtime::new(
            &c.record.settings.runtime,
            &self.runtime_root(),
        )?)
    }

    /// Sends a signal to the container's init (`kill -s`).
    pub fn kill_container(&self, key: &str, signal: &str) -> Result<Container> {
        let c = self.container(key)?;
        if c.phase() != Phase::Running {
            return Err(Error::Conflict(format!(
                "cannot kill container {}: container {} is not running",
                key, c.record.id
            )));
        }
        let signal = normalize_signal(signal)?;
        self.runtime_for(&c)?.kill(&c.record.id, &signal, false)?;
        Ok(c)
    }

    /// Waits until the container exits (or `timeout` passes); returns it then.
    pub fn wait_container(&self, key: &str, timeout: Option<Duration>) -> Result<Container> {
        let c = self.container(key)?;
        let id = c.record.id;
        let deadline = timeout.map(|t| Instant::now() + t);
        let watch = Watch::new(&c.dir);
        loop {
            let c = match self.container(&id) {
                Ok(c) => c,
                // Removed (`--rm`) while we waited.
                Err(Error::NoSuchContainer(_)) => {
                    return Err(Error::NoSuchContainer(key.to_owned()))
                }
                Err(e) => return Err(e),
            };
            if c.phase() != Phase::Running && c.state.is_some() {
                return Ok(c);
            }
            let left = deadline.map_or(MAX_WAIT, |d| d.saturating_duration_since(Instant::now()));
            if left.is_zero() {
                return Ok(c);
            }
            watch.wait(left);
        }
    }

    /// `stop`: the stop signal, then SIGKILL after `timeout` seconds.
    pub fn stop_container(&self, key: &str, timeout: Option<u32>) -> Result<Container> {
        let c = self.container(key)?;
        if c.phase() != Phase::Running {
            return Ok(c);
        }
        let rt = self.runtime_for(&c)?;
        let signal = normalize_signal(
            c.record
                .settings
                .stop_signal
                .as_deref()
                .unwrap_or("SIGTERM"),
        )?;
        let grace = timeout
            .or(c.record.settings.stop_timeout)
            .unwrap_or(DEFAULT_STOP_TIMEOUT);
        // The process may already be gone; the wait below settles it.
        let _ = rt.kill(&c.record.id, &signal, false);
        let c = self.wait_container(key, Some(Duration::from_secs(u64::from(grace))))?;
        if c.phase() != Phase::Running {
            return Ok(c);
        }
        let _ = rt.kill(&c.record.id, "SIGKILL", true);
        self.wait_container(key, Some(Duration::from_secs(30)))
    }

    /// `restart`: stop, then start. (Docker counts only restart-policy restarts
    /// in `RestartCount`; a manual restart leaves it alone.)
    pub fn restart_container(&self, key: &str, timeout: Option<u32>) -> Result<Container> {
        let c = self.stop_container(key, timeout)?;
        self.start_container(&c.record.id)
    }

    /// `rm [-f]`: refuses a running container unless forced (then kills it).
    pub fn remove_container(&self, key: &str, force: bool) -> Result<String> {
        let c = self.container(key)?;
        if c.phase() == Phase::Running {
            if !force {
                return Err(Error::Conflict(format!(
                    "cannot remove container \"/{}\": container is running: stop the container before removing or force remove",
                    c.record.name
                )));
            }
            let rt = self.runtime_for(&c)?;
            let _ = rt.kill(&c.record.id, "SIGKILL", true);
            self.wait_container(key, Some(Duration::from_secs(30)))?;
        }
        let _lock = self.lock_container(&c)?;
        let c = self.container(&c.record.id)?;
        self.cleanup_run(&c)?;
        strata_store::fsutil::remove_tree_atomically(&c.dir, &self.store.paths().trash())?;
        Ok(c.record.id)
    }

    /// Host PIDs of the container's processes (`top`).
    pub fn container_pids(&self, key: &str) -> Result<Vec<i32>> {
        let c = self.container(key)?;
        if c.phase() != Phase::Running {
            return Err(Error::Conflict(format!(
                "container {} is not running",
                c.record.id
            )));
        }
        Ok(self.runtime_for(&c)?.pids(&c.record.id)?)
    }

    /// `container prune`: removes every container that is not running. Returns
    /// the removed IDs.
    pub fn prune_containers(&self) -> Result<Vec<String>> {
        let mut removed = Vec::new();
        for c in self.containers()? {
            if c.phase() != Phase::Running {
                removed.push(self.remove_container(&c.record.id, false)?);
            }
        }
        Ok(removed)
    }
}

/// `TERM`, `SIGTERM`, `15` → `SIGTERM` or `15` as runc takes them.
pub(crate) fn normalize_signal(s: &str) -> Result<String> {
    let s = s.trim();
    if s.parse::<u32>().is_ok_and(|n| (1..=64).contains(&n)) {
        return Ok(s.to_owned());
    }
    let upper = s.to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    const KNOWN: &[&str] = &[
        "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
        "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
        "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ];
    if KNOWN.contains(&name) {
        Ok(format!("SIG{name}"))
    } else {
        Err(Error::InvalidArgument(format!("invalid signal: {s}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_normalize_like_docker() {
        assert_eq!(normalize_signal("term").unwrap(), "SIGTERM");
        assert_eq!(normalize_signal("SIGKILL").unwrap(), "SIGKILL");
        assert_eq!(normalize_signal("9").unwrap(), "9");
        assert!(normalize_signal("SIGNOPE").is_err());
        assert!(normalize_signal("99").is_err());
    }
}
