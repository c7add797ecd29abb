//! Named network namespaces kept alive by a bind mount, as `ip netns add` does.
//!
//! A namespace lives as long as something refers to it; a bind mount of its
//! `nsfs` file onto a regular file gives it a name that outlives any process,
//! so that CNI plugins (`CNI_NETNS`) and runc (`linux.namespaces[].path`) can
//! join it by path.

use std::fs::{self, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rustix::mount::{self, MountPropagationFlags, UnmountFlags};
use rustix::thread::UnshareFlags;

use super::{Error, Result};

/// `NSFS_MAGIC` from `linux/magic.h`: the file system of `/proc/*/ns/*`.
const NSFS_MAGIC: u64 = 0x6e73_6673;

/// A named network namespace kept alive by a bind mount at `dir/name` (like
/// `ip netns add`, but under a directory Strata chooses, e.g. `/run/strata/netns`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetNs {
    path: PathBuf,
}

#[cfg(test)]
impl NetNs {
    /// A handle on any path, for unit tests that never touch the kernel.
    pub(crate) fn at(path: &Path) -> NetNs {
        NetNs {
            path: path.to_owned(),
        }
    }
}

impl NetNs {
    /// Creates a new, empty network namespace (not even `lo` is up) and mounts
    /// it at `dir/name`.
    ///
    /// The namespace is made by `unshare(CLONE_NEWNET)` in a short-lived thread
    /// that bind-mounts its `/proc/thread-self/ns/net` onto the file, so the
    /// caller's threads never change namespace. Like `ip netns`, `dir` is made
    /// a shared mount point (bound onto itself if it is not one yet), so that
    /// the unmount in [`NetNs::remove`] also reaches mount namespaces created
    /// meanwhile (a container's copy would otherwise keep the namespace alive).
    pub fn create(dir: &Path, name: &str) -> Result<NetNs> {
        validate_name(name)?;
        let path = dir.join(name);
        let fail = |action, source| Error::Netns {
            path: path.clone(),
            action,
            source,
        };
        fs::create_dir_all(dir).map_err(|e| fail("create directory", e))?;
        make_shared_mount_point(dir).map_err(|e| fail("make the directory a shared mount", e))?;

        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o444)
            .open(&path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                if is_nsfs(&path) {
                    return Err(Error::NetnsExists(path));
                }
                // A plain file left by a crash between create and mount: reuse it.
            }
            Err(e) => return Err(fail("create mount point", e)),
        }

        let target = path.clone();
        let outcome = std::thread::Builder::new()
            .name("strata-netns".to_owned())
            .spawn(move || unshare_and_mount(&target))
            .map_err(|e| fail("spawn thread", e))?
            .join();
        let result = match outcome {
            Ok(result) => result,
            Err(_) => Err(("unshare", io::Error::other("namespace thread panicked"))),
        };
        if let Err((action, source)) = result {
            // Best effort: the mount point is useless without a namespace on it.
            let _ = fs::remove_file(&path);
            return Err(fail(action, source));
        }
        Ok(NetNs { path })
    }

    /// Opens the namespace already mounted at `dir/name`.
    pub fn open(dir: &Path, name: &str) -> Result<NetNs> {
        validate_name(name)?;
        let path = dir.join(name);
        if !is_nsfs(&path) {
            return Err(Error::NetnsNotFound(path));
        }
        Ok(NetNs { path })
    }

    /// The namespace file, for `CNI_NETNS`, `nsenter --net=` or an OCI spec.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Unmounts the namespace (`MNT_DETACH`) and deletes its file. The kernel
    /// frees the namespace once no process is left in it.
    ///
    /// Idempotent: a missing mount or file is not an error. Detach the
    /// namespace from its networks first; the bridge plugin reads the
    /// container's addresses from inside it to remove its masquerade rules.
    pub fn remove(self) -> Result<()> {
        let fail = |action, source| Error::Netns {
            path: self.path.clone(),
            action,
            source,
        };
        // Stacked mounts (two creates racing) come off one per call; the
        // bound only guards against a kernel that keeps reporting nsfs.
        for _ in 0..16 {
            if !is_nsfs(&self.path) {
                break;
            }
            match mount::unmount(&self.path, UnmountFlags::DETACH) {
                Ok(()) => {}
                Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOENT) => break,
                Err(e) => return Err(fail("unmount", e.into())),
            }
        }
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(fail("remove file", e)),
        }
    }
}

fn validate_name(name: &str) -> Result<()> {
    let reason = if name.is_empty() {
        "it is empty"
    } else if name == "." || name == ".." {
        "it is a relative directory"
    } else if name.contains('/') || name.contains('\0') {
        "it contains '/' or NUL"
    } else {
        return Ok(());
    };
    Err(Error::InvalidName {
        what: "network namespace name",
        name: name.to_owned(),
        reason,
    })
}

/// True when `path` is (the root of) an nsfs mount, i.e. a live namespace.
fn is_nsfs(path: &Path) -> bool {
    rustix::fs::statfs(path).is_ok_and(|st| st.f_type as u64 == NSFS_MAGIC)
}

/// Does what `ip netns add` does to `/run/netns`: make `dir` a shared mount,
/// binding it onto itself first when it is not a mount point yet.
fn make_shared_mount_point(dir: &Path) -> io::Result<()> {
    let shared = MountPropagationFlags::SHARED | MountPropagationFlags::REC;
    match mount::mount_change(dir, shared) {
        Ok(()) => Ok(()),
        // EINVAL: not a mount point.
        Err(rustix::io::Errno::INVAL) => {
            mount::mount_bind_recursive(dir, dir)?;
            mount::mount_change(dir, shared)?;
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

/// Runs on a thread of its own, which ends right after: the calling thread
/// enters the new namespace and never leaves it.
fn unshare_and_mount(target: &Path) -> std::result::Result<(), (&'static str, io::Error)> {
    unshare_net().map_err(|e| ("unshare(CLONE_NEWNET)", e))?;
    loopback_up().map_err(|e| ("bring up lo", e))?;
    mount::mount_bind("/proc/thread-self/ns/net", target)
        .map_err(|e| ("bind-mount /proc/thread-self/ns/net", e.into()))
}

/// `struct ifreq` with the `ifr_flags` member of its union.
#[repr(C)]
struct IfReqFlags {
    name: [u8; 16],
    flags: i16,
    _pad: [u8; 22],
}

const SIOCGIFFLAGS: rustix::ioctl::Opcode = 0x8913;
const SIOCSIFFLAGS: rustix::ioctl::Opcode = 0x8914;
const IFF_UP: i16 = 0x1;

/// Sets `lo` up in this thread's (new) network namespace, as `ip link set lo
/// up` does: what Docker gives `--network none`, and every other mode needs.
#[allow(unsafe_code)]
fn loopback_up() -> io::Result<()> {
    use rustix::ioctl::{ioctl, Updater};
    use rustix::net::{socket, AddressFamily, SocketType};
    let sock = socket(AddressFamily::INET, SocketType::DGRAM, None)?;
    let mut req = IfReqFlags {
        name: *b"lo\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
        flags: 0,
        _pad: [0; 22],
    };
    // SAFETY: both opcodes take a `struct ifreq`, which `IfReqFlags` lays out
    // (40 bytes: the name, then the union whose first member is `ifr_flags`).
    unsafe { ioctl(&sock, Updater::<SIOCGIFFLAGS, _>::new(&mut req)) }?;
    req.flags |= IFF_UP;
    unsafe { ioctl(&sock, Updater::<SIOCSIFFLAGS, _>::new(&mut req)) }?;
    Ok(())
}

#[allow(unsafe_code)]
fn unshare_net() -> io::Result<()> {
    // SAFETY: `unshare_unsafe` is unsafe only for `CLONE_FILES`, which splits
    // the file descriptor table under other threads' feet; `CLONE_NEWNET`
    // changes the network namespace of this thread alone.
    unsafe { rustix::thread::unshare_unsafe(UnshareFlags::NEWNET) }.map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_slashes_or_dots_are_refused() {
        for bad in ["", ".", "..", "a/b", "a\0b"] {
            let err = validate_name(bad).unwrap_err().to_string();
            assert!(err.starts_with("invalid network namespace name"), "{err}");
        }
        validate_name("c1-abc.def_0").unwrap();
    }

    #[test]
    fn opening_a_plain_file_is_not_a_namespace() {
        let dir = std::env::temp_dir().join(format!("strata-netns-unit-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("plain"), b"").unwrap();
        let err = NetNs::open(&dir, "plain").unwrap_err();
        assert!(matches!(err, Error::NetnsNotFound(_)), "{err}");
        assert!(err.to_string().contains("does not exist"));
        fs::remove_dir_all(&dir).unwrap();
    }
}
