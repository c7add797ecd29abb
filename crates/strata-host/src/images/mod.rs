//! Image operations and the views they return (Docker's JSON shapes).

mod history;
mod inspect;
mod list;
mod remove;
mod tag;
mod usage;

pub use history::HistoryRow;
pub use inspect::ImageInspect;
pub use list::{ImageFilter, ImageSummary};
pub use remove::{Removal, RemoveEvent};
pub use usage::{ContainerUsage, DiskUsage, ImageUsage};
