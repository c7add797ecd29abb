//! Finding the image a user means: a name, a short or full ID, or `name@digest`,
//! in Docker's order (name first, then ID prefix).

use strata_oci::{Digest, Reference};
use strata_store::{ImageRecord, Records};

use crate::error::{Error, Result};

/// How the user designated an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Designation {
    /// By a name (`busybox`, `host:5000/app:1`), normalised with a default tag.
    Name(Reference),
    /// By a digest reference (`name@sha256:…`).
    Digest(Reference),
    /// By an ID or ID prefix.
    Id(String),
}

/// An image found from user input.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The image's target digest (key in the records).
    pub target: Digest,
    /// The image record.
    pub record: ImageRecord,
    /// How it was designated.
    pub by: Designation,
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Finds one image. Errors name the input as the user typed it (with Docker's
/// default tag shown for names).
pub fn resolve(records: &Records, input: &str) -> Result<Resolved> {
    if let Some(hex) = input.strip_prefix("sha256:") {
        if !is_hex(hex) {
            return Err(Error::InvalidArgument(format!(
                "invalid image ID {input:?}"
            )));
        }
        return by_id(records, hex, input);
    }
    match Reference::parse_normalized(input) {
        Ok(r) if r.digest().is_some() => {
            // `repo@digest` names the image only if that repository has it (its
            // RepoDigests), as Docker resolves it.
            let repo = r.repository();
            let found = r.digest().and_then(|d| {
                let named_here = records
                    .tags
                    .iter()
                    .any(|(n, t)| t == d && n.repository() == repo);
                let rec = records.images.get(d)?;
                named_here.then(|| (d.clone(), rec.clone()))
            });
            found
                .map(|(target, record)| Resolved {
                    target,
                    record,
                    by: Designation::Digest(r.clone()),
                })
                .ok_or_else(|| Error::NoSuchImage(r.familiar()))
        }
        Ok(r) => {
            let r = r.with_default_tag();
            if let Some(target) = records.tags.get(&r) {
                if let Some(rec) = records.images.get(target) {
                    return Ok(Resolved {
                        target: target.clone(),
                        record: rec.clone(),
                        by: Designation::Name(r),
                    });
                }
            }
            if is_hex(input) {
                if let Ok(found) = by_id(records, input, input) {
                    return Ok(found);
                }
            }
            Err(Error::NoSuchImage(r.familiar()))
        }
        // Not a name (e.g. a 64-hex ID, which Docker refuses as a name).
        Err(_) if is_hex(input) => by_id(records, input, input),
        Err(e) => Err(e.into()),
    }
}

fn by_id(records: &Records, hex: &str, input: &str) -> Result<Resolved> {
    let mut found: Option<(&Digest, &ImageRecord)> = None;
    for (target, rec) in &records.images {
        if rec.id.hex().starts_with(hex) {
            match found {
                Some((_, prev)) if prev.id != rec.id => {
                    return Err(Error::Ambiguous(input.to_owned()))
                }
                Some((_, prev)) if prev.added >= rec.added => {}
                _ => found = Some((target, rec)),
            }
        }
    }
    found
        .map(|(t, r)| Resolved {
            target: t.clone(),
            record: r.clone(),
            by: Designation::Id(hex.to_owned()),
        })
        .ok_or_else(|| Error::NoSuchImage(input.to_owned()))
}

/// Every image whose ID is `id` (several manifests may share one config).
pub fn with_id<'a>(records: &'a Records, id: &'a Digest) -> impl Iterator<Item = &'a Digest> + 'a {
    records
        .images
        .iter()
        .filter(move |(_, r)| &r.id == id)
        .map(|(t, _)| t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_oci::{media_type, Descriptor};

    fn records() -> Records {
        let mut r = Records::default();
        for (n, name) in [(1u8, "busybox:latest"), (2, "localhost:5000/app:v1")] {
            let target = Digest::sha256_of(&[n]);
            let rec = ImageRecord {
                target: Descriptor::new(media_type::OCI_MANIFEST, target, 1),
                id: Digest::sha256_of(&[n, n]),
                added: format!("2026-01-0{n}T00:00:00Z"),
                last_tagged: None,
            };
            r.put(rec, &[name.parse().unwrap()]);
        }
        r
    }

    #[test]
    fn names_resolve_with_docker_defaults() {
        let r = records();
        let found = resolve(&r, "busybox").unwrap();
        assert_eq!(found.target, Digest::sha256_of(&[1]));
        assert!(resolve(&r, "docker.io/library/busybox:latest").is_ok());
        assert!(resolve(&r, "localhost:5000/app:v1").is_ok());
        let err = resolve(&r, "nginx").unwrap_err();
        assert_eq!(err.to_string(), "no such image: nginx:latest");
    }

    #[test]
    fn ids_resolve_by_prefix() {
        let r = records();
        let id = Digest::sha256_of(&[2, 2]);
        assert_eq!(resolve(&r, &id.hex()[..6]).unwrap().record.id, id);
        assert_eq!(resolve(&r, &id.to_string()).unwrap().record.id, id);
        assert_eq!(resolve(&r, id.hex()).unwrap().record.id, id);
        assert!(matches!(resolve(&r, "ffffff"), Err(Error::NoSuchImage(_))));
    }

    #[test]
    fn digest_references_resolve_by_target() {
        let r = records();
        let target = Digest::sha256_of(&[1]);
        let found = resolve(&r, &format!("busybox@{target}")).unwrap();
        assert_eq!(found.target, target);
        assert!(resolve(&r, &format!("other/repo@{target}")).is_err());
    }
}
