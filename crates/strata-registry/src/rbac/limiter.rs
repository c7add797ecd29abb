//! Brute-force protection for logins: failed attempts are counted per
//! client address and per (address, account) over a sliding window. Past the
//! limit, every login from there is refused, a right password included,
//! until the oldest failure leaves the window.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Condvar, Mutex};
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
    /// (address, account) pairs with a password check in flight.
    busy: Mutex<HashSet<String>>,
    freed: Condvar,
}

/// One (address, account) pair's turn to check a password; the next
/// waits until it is dropped.
#[derive(Debug)]
pub struct Turn<'a> {
    limiter: &'a Limiter,
    key: String,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut busy = self.limiter.busy.lock().unwrap_or_else(|p| p.into_inner());
        busy.remove(&self.key);
        self.limiter.freed.notify_all();
    }
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
            busy: Mutex::new(HashSet::new()),
            freed: Condvar::new(),
        }
    }

    /// Waits for the pair's turn: checks of one account from one address
    /// run one at a time, so parallel guesses meet the limit as serial ones
    /// do, and parallel right logins find the first one's success.
    pub fn turn(&self, address: &str, account: &str) -> Turn<'_> {
        let key = format!("{address}\n{account}");
        let mut busy = self.busy.lock().unwrap_or_else(|p| p.into_inner());
        while busy.contains(&key) {
            busy = self.freed.wait(busy).unwrap_or_else(|p| p.into_inner());
        }
        busy.insert(key.clone());
        Turn { limiter: self, key }
    }

    fn per_address(&self) -> usize {
        self.per_account.saturating_mul(ADDRESS_FACTOR)
    }

    /// `Err(wait)` when logins from `address` as `account` are refused now
    /// (nothing is counted).
    pub fn locked(&self, address: &str, account: &str, now: Instant) -> Result<(), Duration> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        self.wait(&mut map, address, account, now)
    }

    fn wait(
        &self,
        map: &mut HashMap<String, VecDeque<Instant>>,
        address: &str,
        account: &str,
        now: Instant,
    ) -> Result<(), Duration> {
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

    /// Starts a login attempt: `Err(wait)` when logins from `address` as
    /// `account` are refused now; otherwise the attempt is counted as a
    /// failure at once, under the same lock, so parallel attempts cannot all
    /// pass the check before any of them fails. [`Limiter::succeed`] takes
    /// it back.
    pub fn attempt(&self, address: &str, account: &str, now: Instant) -> Result<(), Duration> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        self.wait(&mut map, address, account, now)?;
        if map.len() >= MAX_KEYS {
            map.retain(|_, times| {
                expire(times, now);
                !times.is_empty()
            });
        }
        for key in [format!("{address}\n{account}"), address.to_owned()] {
            let times = map.entry(key).or_default();
            times.push_back(now);
            // Only the last per-address limit's worth matter for either limit.
            while times.len() > self.per_address() {
                times.pop_front();
            }
        }
        Ok(())
    }

    /// Takes back an attempt that succeeded (started at `started`), and
    /// forgets the account's failures from this address.
    pub fn succeed(&self, address: &str, account: &str, started: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(&format!("{address}\n{account}"));
        if let Some(times) = map.get_mut(address) {
            if let Some(i) = times.iter().rposition(|t| *t == started) {
                times.remove(i);
            }
        }
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
            assert!(l.attempt("10.0.0.1", "alice", t0).is_ok());
        }
        let wait = l.attempt("10.0.0.1", "alice", t0).expect_err("locked");
        assert_eq!(wait, WINDOW);
        // Another address, or another account, is not locked by these.
        assert!(l.attempt("10.0.0.2", "alice", t0).is_ok());
        assert!(l.attempt("10.0.0.1", "bob", t0).is_ok());
        // The window passes.
        assert!(l.attempt("10.0.0.1", "alice", t0 + WINDOW).is_ok());
    }

    #[test]
    fn an_address_spraying_accounts_is_locked() {
        let l = Limiter::default();
        let t0 = Instant::now();
        for i in 0..PER_ADDRESS {
            assert!(l.attempt("10.0.0.1", &format!("user{i}"), t0).is_ok());
        }
        assert!(l.attempt("10.0.0.1", "fresh", t0).is_err());
        // A success takes its own attempt back, so one more fits.
        l.succeed("10.0.0.1", "user0", t0);
        assert!(l.attempt("10.0.0.1", "fresh", t0).is_ok());
        assert!(l.attempt("10.0.0.1", "fresh2", t0).is_err());
    }

    #[test]
    fn addresses_lose_their_port() {
        assert_eq!(address_of("127.0.0.1:5000"), "127.0.0.1");
        assert_eq!(address_of("[::1]:5000"), "::1");
        assert_eq!(address_of("unix"), "unix");
    }
}
