//! `image inspect`: Docker's `ImageInspect` JSON shape, field for field.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Value};
use strata_oci::ContainerConfig;

use crate::error::Result;
use crate::host::Host;
use crate::image::Image;
use strata_snapshot::snapshots::SnapshotMode;

/// Go's zero time, which Docker prints for unset times.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// An image as `docker image inspect` shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct ImageInspect {
    pub id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    pub parent: String,
    pub comment: String,
    pub created: String,
    pub container: String,
    pub container_config: Value,
    pub docker_version: String,
    pub author: String,
    pub config: Value,
    pub architecture: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    pub os: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    pub size: u64,
    pub virtual_size: u64,
    pub graph_driver: GraphDriver,
    #[serde(rename = "RootFS")]
    pub root_fs: RootFs,
    pub metadata: Metadata,
}

/// Where the unpacked layers are.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct GraphDriver {
    pub data: BTreeMap<String, String>,
    pub name: String,
}

/// The layer chain.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct RootFs {
    #[serde(rename = "Type")]
    pub kind: String,
    pub layers: Vec<String>,
}

/// Store metadata.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(missing_docs)]
pub struct Metadata {
    pub last_tag_time: String,
}

/// Docker's container config with every field present, as the Engine API
/// returns it (zero values instead of absent keys).
pub(crate) fn docker_config(c: Option<&ContainerConfig>) -> Value {
    let d = ContainerConfig::default();
    let c = c.unwrap_or(&d);
    let mut m = serde_json::Map::new();
    m.insert("Hostname".into(), json!(""));
    m.insert("Domainname".into(), json!(""));
    m.insert("User".into(), json!(c.user.clone().unwrap_or_default()));
    m.insert("AttachStdin".into(), json!(false));
    m.insert("AttachStdout".into(), json!(false));
    m.insert("AttachStderr".into(), json!(false));
    if let Some(p) = &c.exposed_ports {
        m.insert("ExposedPorts".into(), json!(p));
    }
    m.insert("Tty".into(), json!(false));
    m.insert("OpenStdin".into(), json!(false));
    m.insert("StdinOnce".into(), json!(false));
    m.insert("Env".into(), json!(c.env));
    m.insert("Cmd".into(), json!(c.cmd));
    if let Some(h) = &c.healthcheck {
        m.insert("Healthcheck".into(), h.clone());
    }
    if let Some(a) = c.args_escaped {
        m.insert("ArgsEscaped".into(), json!(a));
    }
    m.insert("Image".into(), json!(""));
    m.insert("Volumes".into(), json!(c.volumes));
    m.insert(
        "WorkingDir".into(),
        json!(c.working_dir.clone().unwrap_or_default()),
    );
    m.insert("Entrypoint".into(), json!(c.entrypoint));
    m.insert("OnBuild".into(), json!(c.on_build));
    m.insert("Labels".into(), json!(c.labels));
    if let Some(s) = &c.stop_signal {
        m.insert("StopSignal".into(), json!(s));
    }
    if let Some(s) = &c.shell {
        m.insert("Shell".into(), json!(s));
    }
    Value::Object(m)
}

impl Host {
    /// The inspect view of an image.
    pub fn inspect_image(&self, image: &Image) -> Result<ImageInspect> {
        let layers = self.layers(image)?;
        let size: u64 = layers.iter().map(|l| l.size).sum();
        // A name pinned by digest (a pull by digest) is a RepoDigest, not a tag.
        let repo_tags = image
            .names
            .iter()
            .filter(|n| n.digest().is_none())
            .map(|n| n.familiar())
            .collect();
        let mut repo_digests: Vec<String> = image
            .names
            .iter()
            .map(|n| format!("{}@{}", n.familiar_repository(), image.target))
            .collect();
        repo_digests.dedup();
        let mut data = BTreeMap::new();
        let name = match self.snapshots.mode() {
            SnapshotMode::Overlay => {
                let mut dirs: Vec<String> = layers
                    .iter()
                    .rev()
                    .map(|l| self.snapshots.path(&l.chain_id).display().to_string())
                    .collect();
                if !dirs.is_empty() {
                    data.insert("UpperDir".to_owned(), dirs.remove(0));
                }
                if !dirs.is_empty() {
                    data.insert("LowerDir".to_owned(), dirs.join(":"));
                }
                "overlay"
            }
            SnapshotMode::Copy => {
                if let Some(top) = layers.last() {
                    data.insert(
                        "RootDir".to_owned(),
                        self.snapshots.path(&top.chain_id).display().to_string(),
                    );
                }
                "copy"
            }
        };
        let cfg = &image.config;
        let extra_str = |k: &str| {
            cfg.extra
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        Ok(ImageInspect {
            id: image.id().to_string(),
            repo_tags,
            repo_digests,
            parent: String::new(),
            comment: cfg.comment().unwrap_or_default().to_owned(),
            created: cfg.created.clone().unwrap_or_else(|| ZERO_TIME.to_owned()),
            container: extra_str("container"),
            container_config: cfg
                .extra
                .get("container_config")
                .and_then(|v| serde_json::from_value::<ContainerConfig>(v.clone()).ok())
                .map_or_else(|| docker_config(None), |c| docker_config(Some(&c))),
            docker_version: extra_str("docker_version"),
            author: cfg.author.clone().unwrap_or_default(),
            config: docker_config(cfg.config.as_ref()),
            architecture: cfg.architecture.clone(),
            variant: cfg.variant.clone(),
            os: cfg.os.clone(),
            os_version: cfg.os_version.clone(),
            size,
            virtual_size: size,
            graph_driver: GraphDriver {
                data,
                name: name.to_owned(),
            },
            root_fs: RootFs {
                kind: "layers".to_owned(),
                layers: cfg
                    .rootfs
                    .diff_ids
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
            },
            metadata: Metadata {
                last_tag_time: image
                    .record
                    .last_tagged
                    .clone()
                    .unwrap_or_else(|| ZERO_TIME.to_owned()),
            },
        })
    }
}
