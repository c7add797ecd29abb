//! Waiting for a container's files to change (inotify) instead of sleeping
//! between polls: `start` learns at once that the monitor recorded the start,
//! `wait` and `logs -f` that the container exited or wrote a line.

use std::os::fd::OwnedFd;
use std::path::Path;
use std::time::Duration;

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::fs::inotify::{self, CreateFlags, WatchFlags};

/// The longest a wait blocks without an event: a safety net for changes
/// inotify cannot see (a file system without it, a watch that failed).
pub(crate) const MAX_WAIT: Duration = Duration::from_millis(100);

/// Changes in one directory.
pub(crate) struct Watch {
    fd: Option<OwnedFd>,
}

impl Watch {
    /// Watches `dir` for files written, created, renamed in or deleted, and for
    /// its own removal. Without inotify, [`Watch::wait`] just sleeps briefly.
    pub(crate) fn new(dir: &Path) -> Watch {
        let flags = WatchFlags::MODIFY
            | WatchFlags::CLOSE_WRITE
            | WatchFlags::CREATE
            | WatchFlags::MOVED_TO
            | WatchFlags::DELETE
            | WatchFlags::DELETE_SELF;
        let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)
            .ok()
            .filter(|fd| inotify::add_watch(fd, dir, flags).is_ok());
        Watch { fd }
    }

    /// Blocks until something changes in the directory or `timeout` (at most
    /// [`MAX_WAIT`]) passes, then forgets what happened: callers re-read state.
    /// True when woken by a change.
    pub(crate) fn wait(&self, timeout: Duration) -> bool {
        let timeout = timeout.min(MAX_WAIT);
        let Some(fd) = &self.fd else {
            std::thread::sleep(timeout.min(Duration::from_millis(10)));
            return false;
        };
        let ts = Timespec::try_from(timeout).unwrap_or(Timespec {
            tv_sec: 0,
            tv_nsec: 100_000_000,
        });
        let mut fds = [PollFd::new(fd, PollFlags::IN)];
        if !poll(&mut fds, Some(&ts)).is_ok_and(|n| n > 0) {
            return false;
        }
        let mut buf = [0u8; 4096];
        while rustix::io::read(fd, &mut buf).is_ok_and(|n| n > 0) {}
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_wakes_the_wait_and_is_then_forgotten() {
        let dir = strata_testkit::TempDir::new("watch");
        let w = Watch::new(dir.path());
        std::fs::write(dir.join("state.tmp"), b"{}").unwrap();
        std::fs::rename(dir.join("state.tmp"), dir.join("state.json")).unwrap();
        assert!(w.wait(Duration::from_secs(1)), "woken by the write");
        assert!(!w.wait(Duration::from_millis(10)), "events were drained");
        std::fs::remove_file(dir.join("state.json")).unwrap();
        assert!(w.wait(Duration::from_secs(1)), "woken by the removal");
    }
}
