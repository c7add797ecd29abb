//! Choosing an index's manifest for a platform, as Docker does.
//!
//! The OS and architecture must match (after normalising `aarch64` → `arm64`,
//! `x86_64` → `amd64`…). Variants rank: the exact variant first, then, for
//! 32-bit ARM, older variants the CPU also runs (v7 runs v6 and v5); for
//! arm64, `v8` and no variant are the same. Without a variant asked for,
//! Docker's default applies (`arm` → `v7`, `arm64` → `v8`). Attestation
//! manifests (`unknown/unknown`) never match.

use strata_oci::{Descriptor, ImageIndex, Platform};

/// The variant Docker assumes when none is given.
fn default_variant(arch: &str) -> Option<&'static str> {
    match arch {
        "arm" => Some("v7"),
        "arm64" => Some("v8"),
        _ => None,
    }
}

fn arm_level(v: &str) -> Option<u32> {
    v.strip_prefix('v').and_then(|n| n.parse().ok())
}

/// How well an image for `offered` suits `wanted`: higher is better, `None` unusable.
pub fn rank(wanted: &Platform, offered: &Platform) -> Option<u32> {
    let w = wanted.clone().normalized();
    let o = offered.clone().normalized();
    if w.os != o.os || w.architecture != o.architecture {
        return None;
    }
    let want_v = w.variant.as_deref().or(default_variant(&w.architecture));
    let have_v = o.variant.as_deref().or(default_variant(&o.architecture));
    match (want_v, have_v) {
        (a, b) if a == b => Some(100),
        (_, None) | (None, _) => Some(50),
        (Some(a), Some(b)) if w.architecture == "arm" => {
            let (a, b) = (arm_level(a)?, arm_level(b)?);
            (b < a).then(|| 90 - (a - b))
        }
        _ => None,
    }
}

/// The manifest of `index` to pull for `wanted`, or `None`.
pub fn select<'i>(index: &'i ImageIndex, wanted: &Platform) -> Option<&'i Descriptor> {
    let mut best: Option<(u32, &Descriptor)> = None;
    for d in &index.manifests {
        let Some(p) = &d.platform else { continue };
        if let Some(r) = rank(wanted, p) {
            if best.is_none_or(|(b, _)| r > b) {
                best = Some((r, d));
            }
        }
    }
    best.map(|(_, d)| d)
}

/// The platforms an index offers, for messages (`linux/amd64, linux/arm/v7`).
pub fn offered(index: &ImageIndex) -> String {
    let list: Vec<String> = index
        .manifests
        .iter()
        .filter_map(|d| d.platform.as_ref().map(ToString::to_string))
        .collect();
    if list.is_empty() {
        "no platforms".to_owned()
    } else {
        list.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_oci::Digest;

    fn p(s: &str) -> Platform {
        s.parse().expect("platform")
    }

    fn index(platforms: &[&str]) -> ImageIndex {
        ImageIndex::new_oci(
            platforms
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let mut d = Descriptor::new(
                        strata_oci::media_type::OCI_MANIFEST,
                        Digest::sha256_of(&[i as u8]),
                        1,
                    );
                    d.platform = Some(p(s));
                    d
                })
                .collect(),
        )
    }

    fn chosen(platforms: &[&str], wanted: &str) -> Option<String> {
        let idx = index(platforms);
        select(&idx, &p(wanted)).and_then(|d| d.platform.as_ref().map(ToString::to_string))
    }

    #[test]
    fn exact_match_wins() {
        let all = [
            "linux/amd64",
            "linux/arm64/v8",
            "linux/arm/v7",
            "linux/arm/v6",
            "linux/s390x",
        ];
        assert_eq!(chosen(&all, "linux/amd64").as_deref(), Some("linux/amd64"));
        assert_eq!(
            chosen(&all, "linux/arm/v7").as_deref(),
            Some("linux/arm/v7")
        );
        assert_eq!(
            chosen(&all, "linux/arm/v6").as_deref(),
            Some("linux/arm/v6")
        );
        assert_eq!(chosen(&all, "linux/arm64").as_deref(), Some("linux/arm64"));
        assert_eq!(
            chosen(&all, "linux/aarch64").as_deref(),
            Some("linux/arm64")
        );
        assert_eq!(chosen(&all, "linux/riscv64"), None);
        assert_eq!(chosen(&all, "windows/amd64"), None);
    }

    #[test]
    fn arm_falls_back_to_older_variants_only() {
        assert_eq!(
            chosen(&["linux/arm/v5", "linux/arm/v6"], "linux/arm/v7").as_deref(),
            Some("linux/arm/v6")
        );
        assert_eq!(chosen(&["linux/arm/v7"], "linux/arm/v6"), None);
        // `linux/arm` means v7, as in Docker.
        assert_eq!(
            chosen(&["linux/arm/v6", "linux/arm/v7"], "linux/arm").as_deref(),
            Some("linux/arm/v7")
        );
        assert_eq!(
            chosen(&["linux/arm64"], "linux/arm64/v8").as_deref(),
            Some("linux/arm64")
        );
    }

    #[test]
    fn attestations_never_match() {
        assert_eq!(
            chosen(&["unknown/unknown", "linux/amd64"], "linux/amd64").as_deref(),
            Some("linux/amd64")
        );
        assert_eq!(
            offered(&index(&["linux/amd64", "linux/arm/v7"])),
            "linux/amd64, linux/arm/v7"
        );
    }
}
