//! `history`: the config's history entries matched to layers, newest first.

use strata_oci::{Digest, Timestamp};

use crate::error::Result;
use crate::host::Host;
use crate::image::Image;

/// One row of `history`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRow {
    /// The image ID on the top row; `None` (`<missing>`) below, as Docker shows
    /// for steps that are not images of their own.
    pub id: Option<Digest>,
    /// When the step ran.
    pub created: Option<Timestamp>,
    /// The command that made it.
    pub created_by: String,
    /// Bytes the step added (uncompressed; 0 for config-only steps).
    pub size: u64,
    /// The step's comment.
    pub comment: String,
}

impl Host {
    /// The history of an image, newest step first.
    pub fn history(&self, image: &Image) -> Result<Vec<HistoryRow>> {
        let layers = self.layers(image)?;
        let mut sizes = layers.iter().map(|l| l.size);
        let mut rows: Vec<HistoryRow> = match &image.config.history {
            Some(h) if h.iter().filter(|e| !e.empty_layer).count() == layers.len() => h
                .iter()
                .map(|e| HistoryRow {
                    id: None,
                    created: e.created.as_deref().and_then(Timestamp::parse_rfc3339),
                    created_by: e.created_by.clone().unwrap_or_default(),
                    size: if e.empty_layer {
                        0
                    } else {
                        sizes.next().unwrap_or(0)
                    },
                    comment: e.comment.clone().unwrap_or_default(),
                })
                .collect(),
            // No usable history: one row per layer, as Docker does.
            _ => layers
                .iter()
                .map(|l| HistoryRow {
                    id: None,
                    created: image.created(),
                    created_by: String::new(),
                    size: l.size,
                    comment: String::new(),
                })
                .collect(),
        };
        rows.reverse();
        if let Some(top) = rows.first_mut() {
            top.id = Some(image.id().clone());
        }
        Ok(rows)
    }
}
