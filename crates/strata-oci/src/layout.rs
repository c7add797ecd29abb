//! On-disk interchange formats: the OCI image layout and Docker's `docker save` archive.

use serde::{Deserialize, Serialize};

/// The content of an OCI layout's `oci-layout` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OciLayout {
    /// `1.0.0`.
    pub image_layout_version: String,
}

impl Default for OciLayout {
    fn default() -> Self {
        OciLayout {
            image_layout_version: "1.0.0".to_owned(),
        }
    }
}

/// The name of the layout marker file.
pub const OCI_LAYOUT_FILE: &str = "oci-layout";
/// The name of the layout's top index.
pub const OCI_INDEX_FILE: &str = "index.json";
/// The name of the docker-archive manifest.
pub const DOCKER_MANIFEST_FILE: &str = "manifest.json";
/// The name of the legacy docker-archive repositories file.
pub const DOCKER_REPOSITORIES_FILE: &str = "repositories";

/// One image in a docker-archive's `manifest.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DockerArchiveEntry {
    /// Path of the config JSON inside the archive.
    pub config: String,
    /// Familiar names (`busybox:latest`), may be null.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub repo_tags: Vec<String>,
    /// Paths of the layer tars inside the archive, base first.
    pub layers: Vec<String>,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_archive_manifest_parses_null_tags() {
        let m: Vec<DockerArchiveEntry> = serde_json::from_str(
            r#"[{"Config":"abc.json","RepoTags":null,"Layers":["x/layer.tar"]}]"#,
        )
        .unwrap();
        assert!(m[0].repo_tags.is_empty());
        let out = serde_json::to_string(&m[0]).unwrap();
        assert_eq!(
            out,
            r#"{"Config":"abc.json","RepoTags":[],"Layers":["x/layer.tar"]}"#
        );
    }
}
