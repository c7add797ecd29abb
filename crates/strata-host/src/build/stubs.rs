//! File mount points a `RUN` needed but the image lacked (`/etc/hosts`, a
//! file bind target): runc creates them as empty files in the root file
//! system, and BuildKit removes them afterwards so they never reach the layer
//! (directories it creates for mounts stay, in both). Every path is resolved
//! inside the root: the command may have replaced a directory by a symlink.

use std::os::fd::OwnedFd;
use std::path::Path;

use rustix::fs::{AtFlags, FileType, OFlags};

/// The topmost component of `path` that does not exist in the tree at
/// `root` (`None` when all of it exists or the root cannot be opened).
pub(crate) fn first_missing(root: &Path, path: &str) -> Option<String> {
    let dir = open_root(root)?;
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    for i in 0..parts.len() {
        let prefix = parts[..=i].join("/");
        match open_in(&dir, &prefix) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(prefix),
            Err(_) => return None,
        }
    }
    None
}

/// Removes `path` if it is an empty regular file (what runc made to mount a
/// file over); anything else is left alone.
pub(crate) fn remove_file_stub(root: &Path, path: &str) {
    let Some(dir) = open_root(root) else { return };
    let rel = path.trim_start_matches('/');
    let (parent, name) = match rel.rsplit_once('/') {
        Some((p, n)) => (p, n),
        None => (".", rel),
    };
    let Ok(parent) = open_in(&dir, parent) else {
        return;
    };
    let Ok(st) = rustix::fs::statat(&parent, name, AtFlags::SYMLINK_NOFOLLOW) else {
        return;
    };
    if FileType::from_raw_mode(st.st_mode) == FileType::RegularFile && st.st_size == 0 {
        let _ = rustix::fs::unlinkat(&parent, name, AtFlags::empty());
    }
}

fn open_root(root: &Path) -> Option<OwnedFd> {
    crate::inroot::open_root(root).ok()
}

fn open_in(dir: &OwnedFd, rel: &str) -> std::io::Result<OwnedFd> {
    crate::inroot::pin(dir, rel, OFlags::NOFOLLOW)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn empty_files_are_removed_and_everything_else_kept() {
        let t = strata_testkit::TempDir::new("stubs");
        fs::create_dir_all(t.join("etc")).unwrap();
        assert_eq!(
            first_missing(t.path(), "/etc/hosts").as_deref(),
            Some("etc/hosts")
        );
        assert_eq!(first_missing(t.path(), "/a/b/c").as_deref(), Some("a"));
        assert_eq!(first_missing(t.path(), "/etc"), None);
        fs::write(t.join("etc/hosts"), "").unwrap();
        fs::write(t.join("etc/real"), "data").unwrap();
        fs::create_dir_all(t.join("mnt")).unwrap();
        remove_file_stub(t.path(), "/etc/hosts");
        remove_file_stub(t.path(), "/etc/real");
        remove_file_stub(t.path(), "/mnt");
        assert!(!t.join("etc/hosts").exists());
        assert!(t.join("etc/real").exists() && t.join("mnt").is_dir());
    }

    #[test]
    fn a_symlink_swapped_in_never_leads_out_of_the_root() {
        let t = strata_testkit::TempDir::new("stubs-link");
        let outside = t.join("outside");
        fs::create_dir_all(outside.join("etc")).unwrap();
        fs::write(outside.join("etc/hosts"), "").unwrap();
        let root = t.join("root");
        fs::create_dir_all(&root).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("etc")).unwrap();
        remove_file_stub(&root, "/etc/hosts");
        assert!(outside.join("etc/hosts").exists());
    }
}
