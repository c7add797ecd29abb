//! Image archives: `save` and `load`.

mod load;
mod save;

pub use load::LoadedImage;

/// The archive formats `save` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    /// `docker save`'s format, loadable by `docker load`.
    Docker,
    /// An OCI image layout in a tar (`skopeo copy … oci-archive:`).
    Oci,
}
