//! Overlay mounts, for containers' root file systems and build steps alike.

use std::io;
use std::path::{Path, PathBuf};

use rustix::mount::MountFlags;

use crate::error::{Error, Result};

/// The kernel takes at most a page of mount options.
const MAX_OPTIONS: usize = 4000;

/// `path` as it may appear in overlay mount options. The options are split
/// on `,` and the layer lists on `:`, so a path holding either (or the `\`
/// that escapes them) could add a directory of its own choosing as a layer:
/// refused, never escaped.
fn option_path(path: &Path) -> Result<&str> {
    let s = path.to_str().ok_or_else(|| {
        Error::InvalidArgument(format!(
            "{} is not UTF-8: cannot be an overlay layer",
            path.display()
        ))
    })?;
    if s.contains([':', ',', '\\', '\n']) {
        return Err(Error::InvalidArgument(format!(
            "{s:?} cannot be an overlay layer: its path holds ':', ',' or '\\'"
        )));
    }
    Ok(s)
}

/// Mounts an overlay at `target`: `lowers` topmost first, and with `upper`
/// (the upper and work directories) a writable one, else a read-only one
/// (which needs two lowers or more).
pub(crate) fn mount(
    target: &Path,
    lowers: &[PathBuf],
    upper: Option<(&Path, &Path)>,
) -> Result<()> {
    let lowers = lowers
        .iter()
        .map(|p| option_path(p))
        .collect::<Result<Vec<_>>>()?;
    let mut data = format!("lowerdir={}", lowers.join(":"));
    if let Some((upper, work)) = upper {
        data.push_str(&format!(
            ",upperdir={},workdir={}",
            option_path(upper)?,
            option_path(work)?
        ));
    }
    if data.len() >= MAX_OPTIONS {
        return Err(Error::Unsupported(format!(
            "too many layers ({}) for one overlay mount",
            lowers.len()
        )));
    }
    let data = std::ffi::CString::new(data)
        .map_err(|e| Error::InvalidArgument(format!("overlay options: {e}")))?;
    rustix::mount::mount(
        "overlay",
        target,
        "overlay",
        MountFlags::empty(),
        Some(data.as_c_str()),
    )
    .map_err(|e| Error::io("mount overlay on", target)(io::Error::from(e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_could_inject_options_are_refused() {
        assert_eq!(option_path(Path::new("/a/b")).unwrap(), "/a/b");
        for bad in ["/a:/etc", "/a,upperdir=/x", "/a\\:b", "/a\nb"] {
            assert!(option_path(Path::new(bad)).is_err(), "{bad:?}");
        }
    }
}
