//! Brute-force protection for logins: failed attempts are counted per
//! client address and per (address, account) over a sliding window. Past the
//! limit, every login from there is refused, a right password included,
//! until the oldest failure leaves the window.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed per (address, account) within the window, by default.
pub const PER_ACCOUNT: usize = 5;
/// Failures allowed per address within the window, whatever the account,
/// as a multiple of the per-account limit.
pub const ADDRESS_FACTOR: usize = 4;
/// The default per-address limit.
pub const PER_ADDRESS: usize = PER_ACCOUNT * ADDRESS_FACTOR;
/// The window.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Keys kept at most; older entries are pruned past this.
const MAX_KEYS: usize = 10_000;

/// Counts failed logins.
#[derive(Debug)]
pub struct Limiter {
    per_account: usize,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Default for Limiter {
    fn default() -> Self {
        Limiter::new(PER_ACCOUNT)
    }
}

/// The address part of `host:port` or `[v6]:port`.
pub fn address_of(remote: &str) -> &str {
    match remote.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => {
            host.trim_start_matches('[').trim_end_matches(']')
        }
        _ => remote,
    }
}

impl Limiter {
    /// A limiter allowing `per_account` failures per (address, account) and
    /// [`ADDRESS_FACTOR`] times that per address, per [`WINDOW`].
    pub fn new(per_account: usize) -> Limiter {
        Limiter {
            per_account: per_account.max(1),
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn per_address(&self) -> usize {
        self.per_account.saturating_mul(ADDRESS_FACTOR)
    }

    /// `Err(wait)` when logins from `address` as `account` are refused now.
    pub fn check(&self, address: &str, account: &str, now: Instant) -> Result<(), Duration> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = Duration::ZERO;
        for (key, limit) in [
            (format!("{address}\n{account}"), self.per_account),
            (address.to_owned(), self.per_address()),
        ] {
            if let Some(times) = map.get_mut(&key) {
                expire(times, now);
                if times.len() >= limit {
                    let oldest = times[times.len() - limit];
                    wait = wait.max(WINDOW.saturating_sub(now.duration_since(oldest)));
                }
            }
        }
        if wait.is_zero() {
            Ok(())
        } else {
            Err(wait.max(Duration::from_secs(1)))
        }
    }

    /// Counts a failed login.
    pub fn fail(&self, address: &str, account: &str, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_KEYS {
            map.retain(|_, times| {
                expire(times, now);
                !times.is_empty()
            });
        }
        for key in [format!("{address}\n{account}"), address.to_owned()] {
            let times = map.entry(key).or_default();
            expire(times, now);
            times.push_back(now);
            // Only the last per-address limit's worth matter for either limit.
            while times.len() > self.per_address() {
                times.pop_front();
            }
        }
    }

    /// Forgets the account's failures from this address after a success.
    pub fn succeed(&self, address: &str, account: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("{address}\n{account}"));
    }
}

fn expire(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= WINDOW)
    {
        times.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_lock_the_account_from_that_address_for_a_while() {
        let l = Limiter::default();
        let t0 = Instant::now();
        for _ in 0..PER_ACCOUNT {
            assert!(l.check("10.0.0.1", "alice", t0).is_ok());
            l.fail("10.0.0.1", "alice", t0);
        }
        let wait = l.check("10.0.0.1", "alice", t0).expect_err("locked");
        assert_eq!(wait, WINDOW);
        // Another address, or another account, is not locked by these.
        assert!(l.check("10.0.0.2", "alice", t0).is_ok());
        assert!(l.check("10.0.0.1", "bob", t0).is_ok());
        // The window passes.
        assert!(l.check("10.0.0.1", "alice", t0 + WINDOW).is_ok());
    }

    #[test]
    fn an_address_spraying_accounts_is_locked() {
        let l = Limiter::default();
        let t0 = Instant::now();
        for i in 0..PER_ADDRESS {
            l.fail("10.0.0.1", &format!("user{i}"), t0);
        }
        assert!(l.check("10.0.0.1", "fresh", t0).is_err());
        // A success clears only that account's count.
        l.succeed("10.0.0.1", "user0");
        assert!(l.check("10.0.0.1", "fresh", t0).is_err());
    }

    #[test]
    fn addresses_lose_their_port() {
        assert_eq!(address_of("127.0.0.1:5000"), "127.0.0.1");
        assert_eq!(address_of("[::1]:5000"), "::1");
        assert_eq!(address_of("unix"), "unix");
    }
}
