//! `rmi` and `image prune`, with Docker's untag-first rules.

use std::collections::BTreeMap;
use strata_oci::{Digest, Reference};

use strata_store::Records;

use crate::error::{Error, Result};
use crate::gc::Reclaimed;
use crate::host::Host;
use crate::resolve::{resolve, with_id, Designation};

/// One line of `rmi`/`prune` output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoveEvent {
    /// A name was removed.
    Untagged(Reference),
    /// An image (by ID) was deleted.
    Deleted(Digest),
    /// An unpacked layer (by chain ID) was deleted.
    DeletedLayer(Digest),
}

/// The outcome of `rmi` or `prune`.
#[derive(Debug, Default)]
pub struct Removal {
    /// What happened, in order.
    pub events: Vec<RemoveEvent>,
    /// Per-argument failures (`rmi` goes on with the other arguments).
    pub errors: Vec<Error>,
    /// What garbage collection freed.
    pub reclaimed: Reclaimed,
}

impl Host {
    /// `rmi [-f] IMAGE...`: a name untags (and deletes the image when it was its
    /// last name); an ID deletes the image, refusing without `force` when several
    /// repositories name it.
    pub fn remove_images(&self, inputs: &[String], force: bool) -> Result<Removal> {
        let lock = self.store.lock_exclusive()?;
        let in_use = self.images_in_use()?;
        let mut removal = Removal::default();
        for input in inputs {
            let r = self
                .store
                .update_records(|records| remove_one(records, input, force, &in_use));
            match r {
                Ok(events) => removal.events.extend(events),
                Err(e) => removal.errors.push(e),
            }
        }
        self.finish_removal(&mut removal, &lock)?;
        Ok(removal)
    }

    /// `image prune [-a]`: deletes dangling images (no name), or with `all` every
    /// image no container uses, then collects garbage.
    pub fn prune_images(&self, all: bool) -> Result<Removal> {
        let lock = self.store.lock_exclusive()?;
        let in_use = self.images_in_use()?;
        let mut removal = Removal::default();
        let events = self.store.update_records(|records| {
            let mut events = Vec::new();
            let targets: Vec<Digest> = records.images.keys().cloned().collect();
            for target in targets {
                let names = records.names_of(&target);
                if (!all && !names.is_empty()) || in_use.contains_key(&target) {
                    continue;
                }
                let id = records.images.get(&target).map(|r| r.id.clone());
                for n in records.remove_image(&target) {
                    events.push(RemoveEvent::Untagged(n));
                }
                if let Some(id) = id {
                    if with_id(records, &id).next().is_none() {
                        events.push(RemoveEvent::Deleted(id));
                    }
                }
            }
            Ok::<_, Error>(events)
        })?;
        removal.events = events;
        self.finish_removal(&mut removal, &lock)?;
        Ok(removal)
    }

    fn finish_removal(&self, removal: &mut Removal, lock: &strata_store::LockGuard) -> Result<()> {
        removal.reclaimed = self.collect_garbage(lock)?;
        removal.events.extend(
            removal
                .reclaimed
                .snapshots
                .iter()
                .cloned()
                .map(RemoveEvent::DeletedLayer),
        );
        Ok(())
    }
}

fn remove_one(
    records: &mut Records,
    input: &str,
    force: bool,
    in_use: &BTreeMap<Digest, String>,
) -> Result<Vec<RemoveEvent>> {
    let found = resolve(records, input)?;
    let mut events = Vec::new();
    let id = found.record.id.clone();
    // An image a container uses is never deleted: refused, or only untagged with -f.
    if let Some(container) = in_use.get(&found.target) {
        let names = records.names_of(&found.target);
        let last_name = matches!(found.by, Designation::Name(_)) && names.len() <= 1;
        if !force && (last_name || !matches!(found.by, Designation::Name(_))) {
            return Err(Error::Conflict(format!(
                "conflict: unable to remove {} (must force) - container {} is using its referenced image {}",
                input,
                &container[..12],
                id.short()
            )));
        }
        let untag: Vec<Reference> = match &found.by {
            Designation::Name(n) => vec![n.clone()],
            _ => names,
        };
        for n in untag {
            records.tags.remove(&n);
            events.push(RemoveEvent::Untagged(n));
        }
        return Ok(events);
    }
    match &found.by {
        Designation::Name(name) => {
            let names = records.names_of(&found.target);
            records.tags.remove(name);
            events.push(RemoveEvent::Untagged(name.clone()));
            if names.len() > 1 {
                return Ok(events);
            }
            records.images.remove(&found.target);
        }
        Designation::Digest(_) | Designation::Id(_) => {
            let targets: Vec<Digest> = match found.by {
                Designation::Digest(_) => vec![found.target.clone()],
                _ => with_id(records, &id).cloned().collect(),
            };
            let names: Vec<Reference> = targets.iter().flat_map(|t| records.names_of(t)).collect();
            let repos: std::collections::BTreeSet<String> =
                names.iter().map(Reference::repository).collect();
            if repos.len() > 1 && !force {
                return Err(Error::Conflict(format!(
                    "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
                    id.short()
                )));
            }
            for t in &targets {
                for n in records.remove_image(t) {
                    events.push(RemoveEvent::Untagged(n));
                }
            }
        }
    }
    if with_id(records, &id).next().is_none() {
        events.push(RemoveEvent::Deleted(id));
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remove_one_free(r: &mut Records, input: &str, force: bool) -> Result<Vec<RemoveEvent>> {
        remove_one(r, input, force, &BTreeMap::new())
    }
    use strata_oci::{media_type, Descriptor};
    use strata_store::ImageRecord;

    fn records(names: &[&str]) -> (Records, Digest) {
        let mut r = Records::default();
        let target = Digest::sha256_of(b"m");
        let rec = ImageRecord {
            target: Descriptor::new(media_type::OCI_MANIFEST, target.clone(), 1),
            id: Digest::sha256_of(b"c"),
            added: "2026-01-01T00:00:00Z".into(),
            last_tagged: None,
        };
        let names: Vec<Reference> = names.iter().map(|n| n.parse().unwrap()).collect();
        r.put(rec, &names);
        (r, target)
    }

    #[test]
    fn removing_one_of_several_names_only_untags() {
        let (mut r, target) = records(&["a:1", "b:1"]);
        let ev = remove_one_free(&mut r, "a:1", false).unwrap();
        assert_eq!(ev, vec![RemoveEvent::Untagged("a:1".parse().unwrap())]);
        assert!(r.images.contains_key(&target));
        let ev = remove_one_free(&mut r, "b:1", false).unwrap();
        assert_eq!(ev.len(), 2);
        assert!(r.images.is_empty());
    }

    #[test]
    fn removing_by_id_with_several_repositories_needs_force() {
        let (mut r, _) = records(&["a:1", "b:1"]);
        let id = Digest::sha256_of(b"c");
        let err = remove_one_free(&mut r, &id.hex()[..8], false).unwrap_err();
        assert!(err.to_string().contains("must be forced"), "{err}");
        let ev = remove_one_free(&mut r, &id.hex()[..8], true).unwrap();
        assert_eq!(ev.len(), 3);
        assert!(r.images.is_empty() && r.tags.is_empty());
    }

    #[test]
    fn removing_by_id_with_tags_of_one_repository_untags_them_all() {
        let (mut r, _) = records(&["a:1", "a:2"]);
        let id = Digest::sha256_of(b"c");
        assert_eq!(remove_one_free(&mut r, id.hex(), false).unwrap().len(), 3);
    }
}
