//! Layer entry paths: lexical normalisation and whiteout names. Pure.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The prefix of whiteout files.
pub const WHITEOUT_PREFIX: &str = ".wh.";
/// The name of the opaque-directory marker.
pub const OPAQUE_MARKER: &str = ".wh..wh..opq";
/// Prefix of AUFS bookkeeping entries (`.wh..wh.plnk`, …) that are never extracted.
pub const AUFS_META_PREFIX: &str = ".wh..wh.";

/// True for overlayfs' own extended attributes (`trusted.overlay.*`, and
/// `user.overlay.*` used by unprivileged mounts). They are never taken from a
/// layer nor written into one: they could forge opaque directories or redirects.
pub fn is_overlay_xattr(name: &str) -> bool {
    name.starts_with("trusted.overlay.") || name.starts_with("user.overlay.")
}

/// True for extended attributes that grant or label privileges rather than hold
/// data: `security.*` (file capabilities, SELinux and IMA labels) and
/// `trusted.*` (readable and settable only with `CAP_SYS_ADMIN`).
pub fn is_privileged_xattr(name: &str) -> bool {
    name.starts_with("security.") || name.starts_with("trusted.")
}

/// Normalises a tar path to a relative path inside the root: leading `/` and `./`
/// dropped, `.` and empty components removed, `..` resolved lexically. Returns
/// `None` when `..` would climb above the root. The empty path is the root itself.
pub fn normalize(raw: &[u8]) -> Option<PathBuf> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for comp in raw.split(|b| *b == b'/') {
        match comp {
            b"" | b"." => {}
            b".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    let mut out = PathBuf::new();
    for p in parts {
        out.push(OsStr::from_bytes(p));
    }
    Some(out)
}

/// What an entry's name means under the whiteout convention.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Whiteout {
    /// A normal entry.
    None,
    /// `.wh.NAME`: delete `NAME` (the path given) from lower layers.
    Remove(PathBuf),
    /// `.wh..wh..opq`: the directory given hides everything below it in lower layers.
    Opaque(PathBuf),
    /// AUFS bookkeeping (`.wh..wh.plnk`…): skip it.
    Meta,
}

/// Classifies a normalised path. Returns `Err` for a whiteout of `.`/`..`/nothing.
pub fn whiteout(path: &Path) -> Result<Whiteout, &'static str> {
    let Some(name) = path.file_name().and_then(OsStr::to_str) else {
        return Ok(Whiteout::None);
    };
    let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
    if name == OPAQUE_MARKER {
        return Ok(Whiteout::Opaque(parent));
    }
    if name.starts_with(AUFS_META_PREFIX) {
        return Ok(Whiteout::Meta);
    }
    match name.strip_prefix(WHITEOUT_PREFIX) {
        None => Ok(Whiteout::None),
        Some("" | "." | "..") => Err("whiteout of an invalid name"),
        Some(target) if target.contains('/') => Err("whiteout of an invalid name"),
        Some(target) => Ok(Whiteout::Remove(parent.join(target))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_strips_dots_and_roots() {
        let cases: &[(&str, Option<&str>)] = &[
            ("./etc/passwd", Some("etc/passwd")),
            ("/etc//passwd", Some("etc/passwd")),
            ("etc/", Some("etc")),
            ("./", Some("")),
            ("a/../b", Some("b")),
            ("a/./b/.", Some("a/b")),
            ("../etc/passwd", None),
            ("a/../../b", None),
            ("/..", None),
        ];
        for (raw, want) in cases {
            assert_eq!(
                normalize(raw.as_bytes()),
                want.map(PathBuf::from),
                "normalize({raw:?})"
            );
        }
    }

    #[test]
    fn whiteouts_are_classified() {
        assert_eq!(
            whiteout(Path::new("a/.wh.b")),
            Ok(Whiteout::Remove("a/b".into()))
        );
        assert_eq!(
            whiteout(Path::new("a/.wh..wh..opq")),
            Ok(Whiteout::Opaque("a".into()))
        );
        assert_eq!(whiteout(Path::new(".wh..wh.plnk")), Ok(Whiteout::Meta));
        assert_eq!(whiteout(Path::new("a/b")), Ok(Whiteout::None));
        assert!(whiteout(Path::new("a/.wh...")).is_err());
        assert!(whiteout(Path::new("a/.wh.")).is_err());
    }
}
