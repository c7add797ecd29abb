//! `RUN`: the command in a runc container on the step's merged root file
//! system, its output streamed to the builder as it comes.

use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;

use strata_build::{MountSource, RunNetwork, RunRequest};
use strata_runtime::bundle::UserFiles;
use strata_runtime::bundle::{self, EtcFiles, NetworkMode, RunOptions, SeccompMode, UserMount};
use strata_runtime::network::NetNs;
use strata_runtime::runc::{Runtime, DEFAULT_RUNTIME};
use strata_store::fsutil;

use super::worktree::{mount_layers_ro, unmount, WorkTree};
use super::BuildExecutor;
use crate::containers::read_in_root;
use crate::error::{Error, Result};

/// The hostname of build containers, as BuildKit names them.
const HOSTNAME: &str = "buildkitsandbox";
/// Where `RUN --network=none` namespaces live while their step runs.
const NETNS_DIR: &str = "/run/strata/netns";

impl BuildExecutor<'_> {
    /// Runs `req` on the mounted `tree`; returns the exit code.
    pub(crate) fn run_on(
        &self,
        tree: &WorkTree<'_>,
        req: &RunRequest,
        output: &mut dyn FnMut(&[u8]),
    ) -> Result<i32> {
        let id = format!("strata-build-{}", self.next_id());
        let scratch = tree.scratch("run")?;
        let merged = tree.merged();
        let mut mounts = Vec::new();
        let mut to_unmount = Vec::new();
        for (n, m) in req.mounts.iter().enumerate() {
            let source = match &m.source {
                MountSource::Tmpfs => {
                    mounts.push(UserMount::Tmpfs {
                        destination: m.target.clone(),
                    });
                    continue;
                }
                MountSource::Cache { id } => {
                    let dir = self.cache_mount_dir(id)?;
                    dir.display().to_string()
                }
                MountSource::Bind { source, path } => {
                    let base = match source {
                        strata_build::CopySource::Context => self.context.root().to_path_buf(),
                        strata_build::CopySource::Layers(layers) => {
                            let at = tree.scratch(&format!("mount-{n}"))?;
                            let empty = tree.scratch(&format!("mount-{n}-empty"))?;
                            if mount_layers_ro(self.host, layers, &at, &empty)? {
                                to_unmount.push(at.clone());
                            }
                            at
                        }
                        strata_build::CopySource::Inline { name, content } => {
                            // A here-document run as a program: an executable file.
                            let dir = tree.scratch(&format!("mount-{n}"))?;
                            let file = dir.join(super::copy::heredoc_file_name(name)?);
                            fs::write(&file, content).map_err(Error::io("write", &file))?;
                            fs::set_permissions(&file, fs::Permissions::from_mode(0o755))
                                .map_err(Error::io("chmod", &file))?;
                            dir
                        }
                    };
                    let rel = super::context::relative(path).ok_or_else(|| {
                        Error::InvalidArgument(format!(
                            "--mount source {path:?} is outside its tree"
                        ))
                    })?;
                    let found = resolve_inside(&base, &rel)?;
                    if m.readonly {
                        found.display().to_string()
                    } else {
                        // `rw`: writes are the step's own and are thrown away
                        // (BuildKit's rule); the context or stage never sees them.
                        let layer = tree.scratch(&format!("mount-{n}-rw"))?;
                        let view = discardable(&found, &layer)?;
                        if found.is_dir() {
                            to_unmount.push(view.clone());
                        }
                        view.display().to_string()
                    }
                }
            };
            mounts.push(UserMount::Bind {
                source,
                destination: m.target.clone(),
                read_only: m.readonly,
            });
        }
        // Mount targets runc will have to create: empty files among them are
        // removed after the run.
        let stubs: Vec<String> = ["/etc/hosts", "/etc/hostname", "/etc/resolv.conf"]
            .into_iter()
            .map(str::to_owned)
            .chain(req.mounts.iter().map(|m| m.target.clone()))
            .filter(|t| super::stubs::first_missing(&merged, t).is_some())
            .collect();
        let (netns, bridged) = match req.network {
            RunNetwork::Host => (None, false),
            RunNetwork::None => (Some(NetNs::create(Path::new(NETNS_DIR), &id)?), false),
            RunNetwork::Default => {
                let ns = NetNs::create(Path::new(NETNS_DIR), &id)?;
                if let Err(e) = self.host.bridge().attach(&id, &ns, &[]) {
                    let _ = ns.remove();
                    return Err(e.into());
                }
                (Some(ns), true)
            }
        };
        let result = self.run_runc(&id, &scratch, &merged, req, mounts, netns.as_ref(), output);
        for at in to_unmount.iter().rev() {
            unmount(at);
        }
        for stub in &stubs {
            super::stubs::remove_file_stub(&merged, stub);
        }
        if let Some(ns) = netns {
            if bridged {
                let _ = self.host.bridge().detach(&id, &ns, &[]);
            }
            let _ = ns.remove();
        }
        result
    }

    #[allow(clippy::too_many_arguments)]
    fn run_runc(
        &self,
        id: &str,
        scratch: &Path,
        merged: &Path,
        req: &RunRequest,
        mounts: Vec<UserMount>,
        netns: Option<&NetNs>,
        output: &mut dyn FnMut(&[u8]),
    ) -> Result<i32> {
        let hosts =
            format!("127.0.0.1\tlocalhost {HOSTNAME}\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        let resolv: String = fs::read_to_string("/etc/resolv.conf")
            .unwrap_or_default()
            .lines()
            // In a namespace of its own the host's loopback resolvers are
            // out of reach (Docker drops them the same way).
            .filter(|l| {
                netns.is_none()
                    || !(l.starts_with("nameserver 127.") || l.starts_with("nameserver ::1"))
            })
            .map(|l| format!("{l}\n"))
            .collect();
        for (name, content) in [
            ("hosts", hosts),
            ("hostname", format!("{HOSTNAME}\n")),
            ("resolv.conf", resolv),
        ] {
            fsutil::replace_file(&scratch.join(name), content.as_bytes())?;
        }
        let opts = RunOptions {
            rootfs: merged.display().to_string(),
            hostname: HOSTNAME.to_owned(),
            entrypoint: Some(req.args.clone()),
            cmd: Some(Vec::new()),
            env: req.env.clone(),
            workdir: Some(req.cwd.clone()),
            user: (!req.user.is_empty()).then(|| req.user.clone()),
            tty: false,
            read_only: false,
            mounts,
            network: match netns {
                Some(ns) => NetworkMode::Namespace(ns.path().display().to_string()),
                None => NetworkMode::Host,
            },
            no_new_privileges: false,
            seccomp: SeccompMode::Default,
            cap_add: Vec::new(),
            cap_drop: Vec::new(),
            memory: None,
            cpus: None,
            pids_limit: None,
            cgroups_path: format!("/strata/{id}"),
            etc: EtcFiles {
                hosts: Some(scratch.join("hosts").display().to_string()),
                resolv_conf: Some(scratch.join("resolv.conf").display().to_string()),
                hostname: Some(scratch.join("hostname").display().to_string()),
            },
        };
        let files = UserFiles {
            passwd: read_in_root(merged, "/etc/passwd", 1 << 20).unwrap_or_default(),
            group: read_in_root(merged, "/etc/group", 1 << 20).unwrap_or_default(),
        };
        let arch = strata_oci::Platform::host().architecture;
        let mut spec = bundle::generate(
            &strata_oci::ContainerConfig::default(),
            &opts,
            &files,
            &arch,
        )?;
        // A container's HOSTNAME variable is Docker's `run`; BuildKit's steps
        // do not get one.
        if !req.env.iter().any(|e| e.starts_with("HOSTNAME=")) {
            spec.process.env.retain(|e| !e.starts_with("HOSTNAME="));
        }
        let bytes = serde_json::to_vec(&spec)
            .map_err(|e| Error::Archive(format!("encoding the runtime spec: {e}")))?;
        fsutil::replace_file(&scratch.join("config.json"), &bytes)?;

        let runtime = Runtime::new(Path::new(DEFAULT_RUNTIME), &self.host.runtime_root())?;
        let (mut reader, writer) = std::io::pipe().map_err(Error::io("pipe", scratch))?;
        let writer2 = writer.try_clone().map_err(Error::io("pipe", scratch))?;
        let mut cmd = runtime.command();
        cmd.arg("run")
            .arg("--bundle")
            .arg(scratch)
            .arg(id)
            .stdin(Stdio::null())
            .stdout(writer)
            .stderr(writer2);
        let mut child = cmd.spawn().map_err(Error::io("run", runtime.binary()))?;
        // The command's copies of the pipe are the only writers left.
        drop(cmd);
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => output(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let _ = runtime.delete(id);
                    return Err(Error::io("read output of", runtime.binary())(e));
                }
            }
        }
        let status = child
            .wait()
            .map_err(Error::io("wait for", runtime.binary()))?;
        // runc removes a foreground container when it ends; this is for a killed runc.
        let _ = runtime.delete(id);
        Ok(status
            .code()
            .unwrap_or_else(|| 128 + status.signal().unwrap_or(0)))
    }
}

/// `rel` resolved inside the tree at `base` (its symlinks, absolute ones
/// included, never lead out of it), as the real path a bind mount can take.
fn resolve_inside(base: &Path, rel: &str) -> Result<std::path::PathBuf> {
    let root = crate::inroot::open_root(base).map_err(Error::io("open", base))?;
    let fd = crate::inroot::pin(&root, rel, rustix::fs::OFlags::empty())
        .map_err(Error::io("open --mount source", base.join(rel)))?;
    let real = crate::inroot::real_path(&fd).map_err(Error::io("resolve", base.join(rel)))?;
    let top = fs::canonicalize(base).map_err(Error::io("resolve", base))?;
    if real != top && !real.starts_with(&top) {
        return Err(Error::InvalidArgument(format!(
            "--mount source {rel:?} resolves outside its tree"
        )));
    }
    Ok(real)
}

/// A writable view of `source` whose writes land in `scratch` and are
/// discarded with it: an overlay for a directory, a copy for a regular file.
/// Anything else (a FIFO would block, a device would run its driver) is
/// refused before it is opened.
fn discardable(source: &Path, scratch: &Path) -> Result<std::path::PathBuf> {
    use rustix::fs::{FileType, Mode, OFlags};
    let pinned = rustix::fs::open(
        source,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| Error::io("open --mount source", source)(e.into()))?;
    let st = rustix::fs::fstat(&pinned).map_err(|e| Error::io("stat", source)(e.into()))?;
    match FileType::from_raw_mode(st.st_mode) {
        FileType::Directory => {}
        FileType::RegularFile => {
            let mut from = crate::inroot::reopen(&pinned).map_err(Error::io("open", source))?;
            let copy = scratch.join("file");
            let mut to = fs::File::create(&copy).map_err(Error::io("create", &copy))?;
            std::io::copy(&mut from, &mut to).map_err(Error::io("copy", source))?;
            return Ok(copy);
        }
        _ => {
            return Err(Error::InvalidArgument(format!(
                "--mount source {} is neither a directory nor a regular file",
                source.display()
            )))
        }
    }
    let (upper, work, view) = (
        scratch.join("upper"),
        scratch.join("work"),
        scratch.join("view"),
    );
    for d in [&upper, &work, &view] {
        fs::create_dir_all(d).map_err(Error::io("create", d))?;
    }
    crate::overlay::mount(&view, &[source.to_path_buf()], Some((&upper, &work)))?;
    Ok(view)
}
