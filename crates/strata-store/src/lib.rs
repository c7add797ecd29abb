//! Strata's local image store: content-addressed blobs, layer facts, image records,
//! cross-process locking, garbage collection and consistency checks.
//!
//! It knows blobs, digests and which image records point at which manifests. It
//! does not know how layers are unpacked (that is `strata-snapshot`, which keeps its
//! tree under `snapshots/`) nor anything about registries or containers.
//!
//! # On-disk layout
//!
//! ```text
//! $STRATA_ROOT (default /var/lib/strata)
//! ├── version                    store format version ("1")
//! ├── images.json                image records and names (replaced atomically)
//! ├── blobs/
//! │   ├── sha256/<hex>           content, complete and verified, never modified
//! │   └── sha512/<hex>
//! ├── layers/sha256/<hex>.json   per layer blob: diff_id and uncompressed size
//! ├── ingest/<unique>            blobs being written (temp files)
//! ├── snapshots/                 unpacked layers by chain ID (strata-snapshot)
//! │   ├── <chain-hex>/           one committed snapshot
//! │   └── mode                   "overlay" or "copy"
//! ├── tmp/<unique>/              staging trees (snapshots being unpacked, archives)
//! ├── trash/<unique>/            trees renamed aside before deletion
//! └── locks/
//!     ├── gc                     shared by every command, exclusive for GC/repair
//!     └── records                exclusive around each images.json update
//! ```
//!
//! Every write is temp + fsync + rename (+ fsync of the directory); every removal of
//! a tree is rename-to-trash first. So a crash at any instant leaves only complete
//! blobs, consistent records, and leftovers in `ingest/`, `tmp/` and `trash/` that
//! the next exclusive operation clears.

pub mod check;
pub mod content;
mod error;
pub mod fsutil;
pub mod gc;
pub mod images;
pub mod layers;
pub mod lock;
mod paths;
mod store;

pub use content::{BlobInfo, BlobWriter, ContentStore, Expected};
pub use error::{Error, Result};
pub use images::{ImageRecord, Records};
pub use layers::{LayerInfo, LayerInfos};
pub use lock::LockGuard;
pub use paths::Paths;
pub use store::{Store, DOCUMENT_LIMIT, STORE_VERSION};
