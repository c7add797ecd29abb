//! Cache keys: a step's key is the digest of its parent's key, the step as
//! resolved (the instruction after expansion, with the environment, user and
//! directory it runs with), and the digest of every file it copies. Equal keys
//! mean equal results, so a key found in the cache replaces running the step.

use strata_oci::{Digest, Platform};

/// Bumped when the meaning of a key changes, so old entries stop matching.
const VERSION: &str = "strata-build-cache-v2";

/// The key of a stage's starting point. `epoch` is `SOURCE_DATE_EPOCH`:
/// layers made under it have clamped times, so they are cached apart.
pub fn base_key(base: Option<&Digest>, platform: &Platform, epoch: Option<u64>) -> Digest {
    let base = base.map_or_else(|| "scratch".to_owned(), |d| d.to_string());
    let platform = format!(
        "{}/{}/{}",
        platform.os,
        platform.architecture,
        platform.variant.as_deref().unwrap_or("")
    );
    let epoch = epoch.map_or_else(String::new, |e| e.to_string());
    key_of(&[VERSION, "base", &base, &platform, &epoch])
}

/// The key of a step on `parent`, described by `parts`.
pub fn step_key(parent: &Digest, parts: &[&str]) -> Digest {
    let parent = parent.to_string();
    let mut all = vec![VERSION, "step", parent.as_str()];
    all.extend_from_slice(parts);
    key_of(&all)
}

/// Each part length-prefixed, so no two lists of parts hash alike.
fn key_of(parts: &[&str]) -> Digest {
    let mut buf = Vec::new();
    for p in parts {
        buf.extend_from_slice(format!("{}:", p.len()).as_bytes());
        buf.extend_from_slice(p.as_bytes());
        buf.push(b'\n');
    }
    Digest::sha256_of(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_keys_differ_when_parts_are_split_differently() {
        let p = Digest::sha256_of(b"p");
        assert_ne!(step_key(&p, &["ab", "c"]), step_key(&p, &["a", "bc"]));
    }

    #[test]
    fn step_keys_depend_on_the_parent() {
        let (a, b) = (Digest::sha256_of(b"a"), Digest::sha256_of(b"b"));
        assert_ne!(step_key(&a, &["RUN x"]), step_key(&b, &["RUN x"]));
        assert_eq!(step_key(&a, &["RUN x"]), step_key(&a, &["RUN x"]));
    }

    #[test]
    fn base_keys_tell_scratch_from_images_and_platforms() {
        let host = Platform::new("linux", "amd64", None);
        let arm = Platform::new("linux", "arm64", None);
        let id = Digest::sha256_of(b"img");
        assert_ne!(
            base_key(None, &host, None),
            base_key(Some(&id), &host, None)
        );
        assert_ne!(
            base_key(Some(&id), &host, None),
            base_key(Some(&id), &arm, None)
        );
        assert_ne!(
            base_key(Some(&id), &host, None),
            base_key(Some(&id), &host, Some(0))
        );
    }
}
