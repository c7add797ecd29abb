//! `COPY`, `ADD` and `WORKDIR` on a step's merged root file system, with
//! Docker's destination rules; every destination path is resolved inside the
//! root (a symlink in the image never leads out of it).

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};
use strata_build::{CopyRequest, CopySource};
use strata_dockerfile::ignore::IgnoreRules;
use strata_snapshot::copy::{copy_filtered, CopyOptions, Root, Source, Target};

use super::context::{self, relative};
use super::worktree::{mount_layers_ro, unmount, WorkTree};
use super::BuildExecutor;
use crate::containers::read_in_root;
use crate::error::{Error, Result};

/// The uid and gid `spec` (`user[:group]`, names or numbers) has in the tree at `root`.
/// A lone numeric user is its own group, whatever `/etc/passwd` says (BuildKit
/// resolves a `ChownOpt` by ID that way); a lone name takes its primary group.
pub(crate) fn owner_in(root: &Path, spec: &str) -> Result<(u32, u32)> {
    if let Ok(uid) = spec.parse::<u32>() {
        return Ok((uid, uid));
    }
    let passwd = read_in_root(root, "/etc/passwd", 1 << 20).unwrap_or_default();
    let group = read_in_root(root, "/etc/group", 1 << 20).unwrap_or_default();
    let who = strata_runtime::users::resolve(
        spec,
        &strata_runtime::users::parse_passwd(&passwd),
        &strata_runtime::users::parse_group(&group),
    )
    .map_err(|e| Error::InvalidArgument(format!("--chown={spec}: {e}")))?;
    Ok((who.uid, who.gid))
}

/// Creates directory `path` and its missing parents inside `root` (mode
/// 0755, owned by `owner`); returns whether anything was created.
pub(crate) fn ensure_dir(root: &Path, path: &str, owner: (u32, u32)) -> Result<bool> {
    let dir = crate::inroot::open_root(root).map_err(Error::io("open", root))?;
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let mut created = false;
    for i in 0..parts.len() {
        let prefix = parts[..=i].join("/");
        let open = |p: &str| crate::inroot::pin(&dir, p, OFlags::DIRECTORY);
        match open(&prefix) {
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("open", root.join(&prefix))(e)),
        }
        let parent = open(&parts[..i].join("/")).map_err(Error::io("open", root.join(&prefix)))?;
        let parent = rustix::fs::openat(
            &parent,
            ".",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::io("open", root.join(&prefix))(e.into()))?;
        rustix::fs::mkdirat(&parent, parts[i], Mode::from_raw_mode(0o755))
            .map_err(|e| Error::io("create", root.join(&prefix))(e.into()))?;
        let made = rustix::fs::openat(
            &parent,
            parts[i],
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::io("open", root.join(&prefix))(e.into()))?;
        rustix::fs::fchmod(&made, Mode::from_raw_mode(0o755))
            .map_err(|e| Error::io("chmod", root.join(&prefix))(e.into()))?;
        rustix::fs::fchown(
            &made,
            Some(rustix::fs::Uid::from_raw(owner.0)),
            Some(rustix::fs::Gid::from_raw(owner.1)),
        )
        .map_err(|e| Error::io("chown", root.join(&prefix))(e.into()))?;
        created = true;
    }
    Ok(created)
}

/// A here-document's name as a file name: one plain path component, so
/// that writing it into a scratch directory stays there (`<<../../x` would
/// otherwise name a host path).
pub(crate) fn heredoc_file_name(name: &str) -> Result<&str> {
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err(Error::InvalidArgument(format!(
            "here-document name {name:?} cannot be a file name"
        )));
    }
    Ok(name)
}

/// True when the file starts like a tar archive, plain or compressed (what
/// `ADD` extracts).
fn is_archive(f: fs::File) -> bool {
    let mut r = BufReader::new(f);
    let Ok(prefix) = r.fill_buf() else {
        return false;
    };
    let compressed = strata_snapshot::compression::detect(prefix);
    if compressed != strata_oci::media_type::LayerCompression::None {
        return true;
    }
    let mut header = [0u8; 512];
    if r.read_exact(&mut header).is_err() {
        return false;
    }
    &header[257..262] == b"ustar" || tar_checksum_ok(&header)
}

fn tar_checksum_ok(h: &[u8; 512]) -> bool {
    let field = String::from_utf8_lossy(&h[148..156]);
    let Ok(want) = u32::from_str_radix(field.trim_matches(|c: char| c == '\0' || c == ' '), 8)
    else {
        return false;
    };
    let sum: u32 = h
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if (148..156).contains(&i) {
                32
            } else {
                u32::from(*b)
            }
        })
        .sum();
    sum == want && h[0] != 0
}

impl BuildExecutor<'_> {
    /// Does a COPY/ADD onto the mounted `tree`.
    pub(crate) fn copy_onto(&self, tree: &WorkTree<'_>, req: &CopyRequest) -> Result<()> {
        let merged = tree.merged();
        // Without --chown, a stage's or an image's files keep their owners
        // (BuildKit copies them as they are); the context's are root's, as
        // docker's client resets them when it sends the context.
        let owner = match (&req.chown, &req.source) {
            (Some(spec), _) => Some(owner_in(&merged, spec)?),
            (None, CopySource::Layers(_)) => None,
            (None, _) => Some((0, 0)),
        };
        let exclude = IgnoreRules::parse(&req.exclude.join("\n"))
            .map_err(|e| Error::InvalidArgument(format!("--exclude: {e}")))?;
        let mut mounted: Option<PathBuf> = None;
        let (src_dir, from_context) = match &req.source {
            CopySource::Context => (self.context.root().to_path_buf(), true),
            CopySource::Layers(layers) => {
                let at = tree.scratch("source")?;
                if mount_layers_ro(self.host, layers, &at, &tree.scratch("source-empty")?)? {
                    mounted = Some(at.clone());
                }
                (at, false)
            }
            CopySource::Inline { name, content } => {
                let dir = tree.scratch("inline")?;
                let file = dir.join(heredoc_file_name(name)?);
                fs::write(&file, content).map_err(Error::io("write", &file))?;
                (dir, false)
            }
        };
        let result = self.copy_from(&src_dir, from_context, &exclude, &merged, owner, req);
        if let Some(at) = mounted {
            unmount(&at);
        }
        result
    }

    fn copy_from(
        &self,
        src_dir: &Path,
        from_context: bool,
        exclude: &IgnoreRules,
        merged: &Path,
        owner: Option<(u32, u32)>,
        req: &CopyRequest,
    ) -> Result<()> {
        // Directories the copy creates are root's unless --chown says otherwise.
        let dir_owner = owner.unwrap_or((0, 0));
        let keep = |rel: &str| {
            let excluded = (from_context && self.context.is_excluded(rel))
                || (!exclude.is_empty() && exclude.is_excluded(rel));
            !excluded || (from_context && self.context.may_include_below(rel))
        };
        let mut matched = Vec::new();
        for p in &req.paths {
            matched.extend(context::expand(src_dir, p, &keep)?);
        }
        let dir_form = req.dest.ends_with('/') || matched.len() > 1;
        if matched.len() > 1 && !req.dest.ends_with('/') {
            return Err(Error::InvalidArgument(format!(
                "when copying more than one source file, the destination must be a directory and end with a /: {}",
                req.dest
            )));
        }
        let dest_dir = if dir_form {
            req.dest.clone()
        } else {
            match req.dest.rsplit_once('/') {
                Some((parent, _)) => parent.to_owned(),
                None => String::new(),
            }
        };
        ensure_dir(merged, &dest_dir, dir_owner)?;
        let src_root = Root::open(src_dir)?;
        let src_tree = context::Tree::open(src_dir)?;
        let dst_root = Root::open(merged)?;
        let opts = CopyOptions {
            owner,
            archive: true,
            chmod: req.chmod,
        };
        for rel in matched {
            // Resolved inside the source tree: a symlink there never
            // leads to (or has ADD extract) a file of the host.
            let full = src_tree.display(&rel);
            let meta = src_tree.metadata(&rel).map_err(Error::io("read", &full))?;
            let open = || src_tree.open_file(&rel).map_err(Error::io("open", &full));
            if req.extract_archives && meta.is_file() && is_archive(open()?) {
                ensure_dir(merged, &req.dest, dir_owner)?;
                let target = Target::directory(&dst_root, Path::new(&req.dest))?;
                let archive_opts = CopyOptions {
                    owner: None,
                    archive: true,
                    chmod: None,
                };
                target.extract_archive(open()?, &archive_opts)?;
                continue;
            }
            let (src_path, dest) = if meta.is_dir() {
                // A directory's contents are copied, never the directory itself.
                ensure_dir(merged, &req.dest, dir_owner)?;
                (format!("/{rel}/."), req.dest.clone())
            } else if dir_form {
                (
                    format!("/{rel}"),
                    format!("{}/", req.dest.trim_end_matches('/')),
                )
            } else {
                (format!("/{rel}"), req.dest.clone())
            };
            let src = Source::locate(&src_root, Path::new(&src_path), true)?;
            let target = Target::plan(&dst_root, Path::new(&dest), &src)?;
            let base = rel.clone();
            let keep_below = |p: &Path| {
                let p = p.to_string_lossy();
                let full = if base.is_empty() {
                    p.to_string()
                } else if p.is_empty() {
                    base.clone()
                } else {
                    format!("{base}/{p}")
                };
                relative(&full).is_some_and(|r| keep(&r))
            };
            copy_filtered(&src, target, &opts, &keep_below)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chown_owners_resolve_as_buildkit_does() {
        let t = strata_testkit::TempDir::new("copy-owner");
        fs::create_dir_all(t.join("etc")).unwrap();
        fs::write(
            t.join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\napp:x:1000:50::/home:/bin/sh\n",
        )
        .unwrap();
        fs::write(t.join("etc/group"), "root:x:0:\nstaff:x:50:\nwheel:x:10:\n").unwrap();
        let owner = |spec: &str| owner_in(t.path(), spec).unwrap();
        assert_eq!(owner("1234"), (1234, 1234), "a lone uid is its own gid");
        assert_eq!(owner("1000"), (1000, 1000), "even when passwd knows it");
        assert_eq!(owner("app"), (1000, 50), "a name takes its primary group");
        assert_eq!(owner("app:wheel"), (1000, 10));
        assert_eq!(owner("1234:5678"), (1234, 5678));
        assert_eq!(owner("1234:staff"), (1234, 50));
        assert!(owner_in(t.path(), "nobody").is_err());
    }
}
