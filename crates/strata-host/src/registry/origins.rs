//! Where blobs came from, so a push to the same registry can mount a blob
//! from the repository that has it instead of uploading it again.
//!
//! `<root>/distribution/<algorithm>/<hex>` holds one `domain/repository` line
//! per repository the blob was pulled from or pushed to (most recent last, at
//! most [`KEEP`]). This is a hint: a stale line only costs a refused mount,
//! after which the blob is uploaded. Writes are atomic; a lost update between
//! two concurrent pulls loses a hint, nothing else.

use std::path::{Path, PathBuf};

use strata_oci::Digest;

/// Lines kept per blob.
const KEEP: usize = 8;

fn file(root: &Path, digest: &Digest) -> PathBuf {
    root.join("distribution")
        .join(digest.algorithm().as_str())
        .join(digest.hex())
}

/// The repositories `digest` is known to be in, most recent first.
pub(crate) fn sources(root: &Path, digest: &Digest) -> Vec<String> {
    let text = std::fs::read_to_string(file(root, digest)).unwrap_or_default();
    text.lines().rev().map(str::to_owned).collect()
}

/// Notes that `repository` (`domain/path`) has `digest`.
pub(crate) fn remember(root: &Path, digest: &Digest, repository: &str) {
    let path = file(root, digest);
    let mut lines: Vec<String> = sources(root, digest)
        .into_iter()
        .rev()
        .filter(|l| l != repository)
        .collect();
    lines.push(repository.to_owned());
    let skip = lines.len().saturating_sub(KEEP);
    let text: String = lines[skip..].iter().map(|l| format!("{l}\n")).collect();
    let written = path
        .parent()
        .map_or(Ok(()), strata_store::fsutil::create_dir_all)
        .and_then(|()| strata_store::fsutil::replace_file(&path, text.as_bytes()));
    if let Err(e) = written {
        tracing::debug!(error = %e, "cannot remember the origin of {digest}");
    }
}

/// Forgets every blob's origins that is not in `keep` (after a garbage collection).
pub(crate) fn prune(root: &Path, keep: &dyn Fn(&Digest) -> bool) {
    let base = root.join("distribution");
    let Ok(algos) = std::fs::read_dir(&base) else {
        return;
    };
    for algo in algos.flatten() {
        let Ok(files) = std::fs::read_dir(algo.path()) else {
            continue;
        };
        for f in files.flatten() {
            let name = format!(
                "{}:{}",
                algo.file_name().to_string_lossy(),
                f.file_name().to_string_lossy()
            );
            if name.parse::<Digest>().is_ok_and(|d| !keep(&d)) {
                let _ = std::fs::remove_file(f.path());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_recent_first_and_bounded() {
        let root = std::env::temp_dir().join(format!("strata-origins-{}", std::process::id()));
        let d = Digest::sha256_of(b"x");
        assert!(sources(&root, &d).is_empty());
        for i in 0..10 {
            remember(&root, &d, &format!("reg:5000/repo{i}"));
        }
        remember(&root, &d, "reg:5000/repo3");
        let s = sources(&root, &d);
        assert_eq!(s.len(), KEEP);
        assert_eq!(s[0], "reg:5000/repo3");
        assert_eq!(s[1], "reg:5000/repo9");
        prune(&root, &|_| false);
        assert!(sources(&root, &d).is_empty());
        let _ = std::fs::remove_dir_all(root);
    }
}
