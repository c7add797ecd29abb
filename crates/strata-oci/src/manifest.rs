//! Image manifests and indexes, OCI and Docker schema 2 alike (they share one shape).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::descriptor::Descriptor;
use crate::error::{Error, Result};
use crate::media_type;
use crate::platform::Platform;

/// An image manifest: a config and an ordered list of layers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    /// Always 2.
    pub schema_version: u32,
    /// The manifest's own media type (required for Docker, optional for OCI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The artifact type, for OCI artifacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The image configuration blob.
    pub config: Descriptor,
    /// Layers, base first.
    pub layers: Vec<Descriptor>,
    /// The manifest this one refers to (signatures, SBOMs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Arbitrary metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

impl ImageManifest {
    /// A new OCI manifest for a config and layers.
    pub fn new_oci(config: Descriptor, layers: Vec<Descriptor>) -> Self {
        ImageManifest {
            schema_version: 2,
            media_type: Some(media_type::OCI_MANIFEST.to_owned()),
            artifact_type: None,
            config,
            layers,
            subject: None,
            annotations: None,
        }
    }

    /// The manifest's media type: its own field, else OCI.
    pub fn effective_media_type(&self) -> &str {
        self.media_type
            .as_deref()
            .unwrap_or(media_type::OCI_MANIFEST)
    }

    /// Serialises to the canonical bytes Strata stores (compact JSON, field order fixed).
    pub fn to_bytes(&self) -> Vec<u8> {
        to_json_bytes(self)
    }
}

/// An index (OCI) or manifest list (Docker): manifests per platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageIndex {
    /// Always 2.
    pub schema_version: u32,
    /// The index's own media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// The artifact type, for OCI artifacts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// The manifests, usually one per platform.
    pub manifests: Vec<Descriptor>,
    /// The manifest this one refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    /// Arbitrary metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
}

impl ImageIndex {
    /// A new OCI index.
    pub fn new_oci(manifests: Vec<Descriptor>) -> Self {
        ImageIndex {
            schema_version: 2,
            media_type: Some(media_type::OCI_INDEX.to_owned()),
            artifact_type: None,
            manifests,
            subject: None,
            annotations: None,
        }
    }

    /// Serialises to compact JSON.
    pub fn to_bytes(&self) -> Vec<u8> {
        to_json_bytes(self)
    }

    /// The first manifest for `platform` (variants matched as containerd does).
    pub fn manifest_for(&self, platform: &Platform) -> Option<&Descriptor> {
        self.manifests
            .iter()
            .find(|d| d.platform.as_ref().is_some_and(|p| platform.matches(p)))
    }
}

/// A manifest-like document read from bytes whose kind is not known in advance.
#[derive(Debug, Clone, PartialEq, Eq)]
// Short-lived parse results, never stored in bulk: boxing buys nothing.
#[allow(clippy::large_enum_variant)]
pub enum Document {
    /// An image manifest.
    Manifest(ImageManifest),
    /// An index or manifest list.
    Index(ImageIndex),
}

impl Document {
    /// Parses manifest bytes. `media_type` is the type the descriptor or the
    /// `Content-Type` claimed, if any; the document's own `mediaType` field and,
    /// failing both, its shape (`manifests` vs `layers`) decide otherwise.
    pub fn parse(bytes: &[u8], media_type: Option<&str>) -> Result<Self> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Probe {
            media_type: Option<String>,
            schema_version: Option<u32>,
            manifests: Option<serde_json::Value>,
        }
        let probe: Probe =
            serde_json::from_slice(bytes).map_err(|source| Error::InvalidDocument {
                what: "manifest",
                source,
            })?;
        if probe.schema_version == Some(1) {
            return Err(Error::UnsupportedMediaType(
                "application/vnd.docker.distribution.manifest.v1+json".to_owned(),
            ));
        }
        let declared = probe.media_type.as_deref().or(media_type);
        let is_index = match declared {
            Some(t) if media_type::is_index(t) => true,
            Some(t) if media_type::is_manifest(t) => false,
            Some(t) if probe.media_type.is_some() => {
                return Err(Error::UnsupportedMediaType(t.to_owned()))
            }
            _ => probe.manifests.is_some(),
        };
        if is_index {
            serde_json::from_slice(bytes)
                .map(Document::Index)
                .map_err(|source| Error::InvalidDocument {
                    what: "image index",
                    source,
                })
        } else {
            serde_json::from_slice(bytes)
                .map(Document::Manifest)
                .map_err(|source| Error::InvalidDocument {
                    what: "image manifest",
                    source,
                })
        }
    }

    /// The document's media type (its own field, else the OCI default for its kind).
    pub fn media_type(&self) -> &str {
        match self {
            Document::Manifest(m) => m.effective_media_type(),
            Document::Index(i) => i.media_type.as_deref().unwrap_or(media_type::OCI_INDEX),
        }
    }
}

pub(crate) fn to_json_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    // Serialising these plain structs cannot fail: every key is a string and
    // no custom serializer returns an error.
    serde_json::to_vec(value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCKER: &str = include_str!("../testdata/docker-manifest.json");
    const OCI_INDEX: &str = include_str!("../testdata/oci-index.json");

    #[test]
    fn docker_schema2_manifest_parses() {
        let doc = Document::parse(DOCKER.as_bytes(), None).unwrap();
        let Document::Manifest(m) = doc else {
            panic!("expected a manifest")
        };
        assert_eq!(m.effective_media_type(), media_type::DOCKER_MANIFEST);
        assert_eq!(m.config.media_type, media_type::DOCKER_CONFIG);
        assert_eq!(m.layers.len(), 1);
        assert_eq!(m.layers[0].size, 2_814_446);
    }

    #[test]
    fn oci_index_parses_with_platforms() {
        let doc = Document::parse(OCI_INDEX.as_bytes(), None).unwrap();
        let Document::Index(i) = doc else {
            panic!("expected an index")
        };
        assert_eq!(i.manifests.len(), 2);
        let p = i.manifests[1].platform.as_ref().unwrap();
        assert_eq!(p.to_string(), "linux/arm/v7");
    }

    #[test]
    fn shape_decides_when_no_media_type_is_given() {
        let bytes = br#"{"schemaVersion":2,"manifests":[]}"#;
        assert!(matches!(
            Document::parse(bytes, None),
            Ok(Document::Index(_))
        ));
    }

    #[test]
    fn schema1_and_unknown_types_are_refused() {
        let v1 = br#"{"schemaVersion":1,"name":"x"}"#;
        assert!(matches!(
            Document::parse(v1, None),
            Err(Error::UnsupportedMediaType(_))
        ));
        let odd = br#"{"schemaVersion":2,"mediaType":"text/plain"}"#;
        assert!(Document::parse(odd, None).is_err());
    }

    #[test]
    fn new_manifest_serializes_in_spec_field_order() {
        let d = crate::digest::Digest::sha256_of(b"{}");
        let m = ImageManifest::new_oci(
            Descriptor::new(media_type::OCI_CONFIG, d.clone(), 2),
            vec![Descriptor::new(media_type::OCI_LAYER_GZIP, d.clone(), 2)],
        );
        let s = String::from_utf8(m.to_bytes()).unwrap();
        assert!(s.starts_with(r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"#));
        let back = Document::parse(s.as_bytes(), None).unwrap();
        assert_eq!(back, Document::Manifest(m));
    }
}
