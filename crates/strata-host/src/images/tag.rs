//! `tag`: point a name at an image.

use strata_oci::{Reference, Timestamp};

use crate::error::{Error, Result};
use crate::host::Host;
use crate::resolve::resolve;

impl Host {
    /// Points `target` (a name, tagged with `latest` if it has no tag) at the image
    /// `source` designates.
    pub fn tag(&self, source: &str, target: &str) -> Result<Reference> {
        let name = Reference::parse_normalized(target)?;
        if name.digest().is_some() {
            return Err(Error::InvalidArgument(format!(
                "refusing to create a tag with a digest reference: {target}"
            )));
        }
        let name = name.with_default_tag();
        let _lock = self.store.lock_shared()?;
        self.store.update_records(|records| {
            let found = resolve(records, source)?;
            let mut record = found.record;
            record.last_tagged = Some(Timestamp::now().to_rfc3339());
            records.put(record.clone(), std::slice::from_ref(&name));
            if let Some(r) = records.images.get_mut(&found.target) {
                r.last_tagged = record.last_tagged;
            }
            Ok::<_, Error>(())
        })?;
        Ok(name)
    }
}
