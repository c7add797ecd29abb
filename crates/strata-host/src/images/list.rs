//! `images`: one row per name (or one `<none>` row for a dangling image).

use strata_oci::{Digest, Reference, Timestamp};

use crate::error::Result;
use crate::host::Host;

/// One row of `images`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSummary {
    /// Image ID (config digest).
    pub id: Digest,
    /// Manifest digest (shown by `--digests`).
    pub digest: Digest,
    /// The name this row is for; `None` for a dangling image.
    pub name: Option<Reference>,
    /// When the image was created.
    pub created: Option<Timestamp>,
    /// Uncompressed size of all layers.
    pub size: u64,
}

/// What `images` shows.
#[derive(Debug, Clone, Default)]
pub struct ImageFilter {
    /// Docker's positional `REPOSITORY[:TAG]` or `--filter reference=` pattern
    /// (`*` wildcards within a path component, as Go's `path.Match`).
    pub reference: Option<String>,
    /// `--filter dangling=true|false`.
    pub dangling: Option<bool>,
}

impl Host {
    /// The rows of `images`, newest first.
    pub fn list_images(&self, filter: &ImageFilter) -> Result<Vec<ImageSummary>> {
        let _lock = self.store.lock_shared()?;
        let records = self.store.records()?;
        let mut rows = Vec::new();
        for target in records.images.keys() {
            // One unreadable image (reported by `system check`) must not hide
            // the others.
            let image = match self.image(&records, target) {
                Ok(image) => image,
                Err(e) => {
                    tracing::warn!("skipping image {target}: {e}");
                    continue;
                }
            };
            let size = self.layers(&image)?.iter().map(|l| l.size).sum();
            let dangling = image.names.is_empty();
            if filter.dangling.is_some_and(|d| d != dangling) {
                continue;
            }
            let names: Vec<Option<Reference>> = if dangling {
                vec![None]
            } else {
                image.names.iter().cloned().map(Some).collect()
            };
            for name in names {
                if let Some(pattern) = &filter.reference {
                    match &name {
                        Some(n) if reference_matches(pattern, n) => {}
                        _ => continue,
                    }
                }
                rows.push(ImageSummary {
                    id: image.id().clone(),
                    digest: image.manifest_digest.clone(),
                    name,
                    created: image.created(),
                    size,
                });
            }
        }
        rows.sort_by(|a, b| {
            b.created
                .cmp(&a.created)
                .then_with(|| a.name.cmp(&b.name))
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(rows)
    }
}

/// Docker's reference filter: the pattern is matched against the familiar name
/// (`busybox:latest`) and the familiar repository (`busybox`); a pattern with a
/// tag must match the tagged form.
pub(crate) fn reference_matches(pattern: &str, name: &Reference) -> bool {
    let familiar = name.familiar();
    let repo = name.familiar_repository();
    glob(pattern, &familiar) || glob(pattern, &repo) || glob(pattern, &name.to_string())
}

/// Go's `path.Match` for `*` and `?` (no character classes): `*` does not cross `/`.
fn glob(pattern: &str, s: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), s.chars().collect());
    fn rec(p: &[char], t: &[char]) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('*', rest)) => (0..=t.len())
                .take_while(|&i| i == 0 || t[i - 1] != '/')
                .any(|i| rec(rest, &t[i..])),
            Some(('?', rest)) => t.first().is_some_and(|c| *c != '/') && rec(rest, &t[1..]),
            Some((c, rest)) => t.first() == Some(c) && rec(rest, &t[1..]),
        }
    }
    rec(&p, &t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_filter_matches_like_docker() {
        let n: Reference = "busybox:latest".parse().unwrap();
        assert!(reference_matches("busybox", &n));
        assert!(reference_matches("busybox:latest", &n));
        assert!(reference_matches("busy*", &n));
        assert!(!reference_matches("busybox:1", &n));
        let n: Reference = "localhost:5000/team/app:v1".parse().unwrap();
        assert!(reference_matches("localhost:5000/team/*", &n));
        assert!(!reference_matches("localhost:5000/*", &n));
        assert!(
            reference_matches("*/*/app:v?", &n) || reference_matches("localhost:5000/*/app:v?", &n)
        );
    }
}
