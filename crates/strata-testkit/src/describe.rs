//! A text description of a directory tree, for comparing trees in tests.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// One sorted line per entry below `root`: path, type (with link target, size
/// and content hash, or device number), mode, owner, mtime (not for
/// directories), xattrs, and which regular files share an inode.
pub fn describe_tree(root: &Path) -> String {
    let mut lines = Vec::new();
    let mut inodes = HashMap::new();
    walk(root, root, &mut lines, &mut inodes);
    lines.sort();
    lines.join("\n")
}

fn walk(root: &Path, dir: &Path, lines: &mut Vec<String>, inodes: &mut HashMap<u64, usize>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        let m = std::fs::symlink_metadata(&p).unwrap();
        let ft = m.file_type();
        let rel = p.strip_prefix(root).unwrap().display().to_string();
        let kind = if ft.is_dir() {
            "dir".to_owned()
        } else if ft.is_symlink() {
            format!("link->{}", std::fs::read_link(&p).unwrap().display())
        } else if ft.is_file() {
            let data = std::fs::read(&p).unwrap();
            let group = if m.nlink() > 1 {
                let n = inodes.len();
                format!(" inode#{}", inodes.entry(m.ino()).or_insert(n))
            } else {
                String::new()
            };
            format!(
                "file {} {}{group}",
                data.len(),
                strata_oci::Digest::sha256_of(&data).short()
            )
        } else {
            format!("node {:o} rdev={}", m.mode() & 0o170000, m.rdev())
        };
        let mtime = if ft.is_dir() { 0 } else { m.mtime() };
        lines.push(format!(
            "{rel} {kind} {:o} {}:{} mtime={mtime} xattrs={:?}",
            m.mode() & 0o7777,
            m.uid(),
            m.gid(),
            xattrs(&p, ft.is_symlink())
        ));
        if ft.is_dir() {
            walk(root, &p, lines, inodes);
        }
    }
}

fn xattrs(p: &Path, symlink: bool) -> Vec<(String, Vec<u8>)> {
    if symlink {
        return Vec::new();
    }
    let mut names = vec![0u8; 4096];
    let Ok(n) = rustix::fs::llistxattr(p, &mut names[..]) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for name in names[..n].split(|b| *b == 0).filter(|s| !s.is_empty()) {
        let name = String::from_utf8_lossy(name).into_owned();
        if name.starts_with("trusted.overlay.") || name.starts_with("security.selinux") {
            continue;
        }
        let mut v = vec![0u8; 4096];
        if let Ok(len) = rustix::fs::lgetxattr(p, name.as_str(), &mut v[..]) {
            v.truncate(len);
            out.push((name, v));
        }
    }
    out.sort();
    out
}
