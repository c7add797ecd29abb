//! A stage's state as its instructions run: the image config, the layers, the
//! variables in scope, and the pure effect of each metadata instruction.

use std::collections::BTreeMap;

use serde_json::{json, Value};
use strata_dockerfile::{CommandLine, Healthcheck, KeyValue};
use strata_oci::{ContainerConfig, Digest, History, ImageConfig};

use crate::executor::Layer;

/// The default `PATH` BuildKit sets when the base image has none.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The proxy args every build accepts without an `ARG` (kept out of history).
pub const PROXY_ARGS: [&str; 8] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// One stage in progress.
#[derive(Debug, Clone)]
pub struct StageState {
    /// The image config so far (`config` is always `Some`).
    pub image: ImageConfig,
    /// The layers so far, base first.
    pub layers: Vec<Layer>,
    /// The cache key of the state.
    pub key: Digest,
    /// `ARG`s in scope, with their values (`None`: declared without one).
    pub args: Vec<(String, Option<String>)>,
    /// `CMD` was set in this stage (so a later `ENTRYPOINT` keeps it).
    pub cmd_set: bool,
}

impl StageState {
    /// A stage starting from `image` (its layers and cache key given).
    pub fn new(mut image: ImageConfig, layers: Vec<Layer>, key: Digest) -> StageState {
        let config = image.config.get_or_insert_with(ContainerConfig::default);
        let env = config.env.get_or_insert_with(Vec::new);
        if !env.iter().any(|e| e.starts_with("PATH=")) {
            env.insert(0, format!("PATH={DEFAULT_PATH}"));
        }
        image.history.get_or_insert_with(Vec::new);
        StageState {
            image,
            layers,
            key,
            args: Vec::new(),
            cmd_set: false,
        }
    }

    /// The container config.
    pub fn config(&mut self) -> &mut ContainerConfig {
        self.image
            .config
            .get_or_insert_with(ContainerConfig::default)
    }

    /// The value of `name` for expansion: ENV wins over ARG, as Docker says.
    pub fn lookup(&self, name: &str) -> Option<String> {
        let env = self.image.config.as_ref().and_then(|c| c.env.as_ref());
        env.and_then(|env| {
            env.iter().rev().find_map(|e| {
                e.split_once('=')
                    .filter(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_owned())
            })
        })
        .or_else(|| {
            self.args
                .iter()
                .rev()
                .find(|(k, _)| k == name)
                .and_then(|(_, v)| v.clone())
        })
    }

    /// The environment a `RUN` sees: ENV, then the args with a value that ENV
    /// does not already set.
    pub fn run_env(&self) -> Vec<String> {
        let mut env = self
            .image
            .config
            .as_ref()
            .and_then(|c| c.env.clone())
            .unwrap_or_default();
        for (k, v) in &self.args {
            let Some(v) = v else { continue };
            if !env
                .iter()
                .any(|e| e.split_once('=').map(|p| p.0) == Some(k))
            {
                env.push(format!("{k}={v}"));
            }
        }
        env
    }

    /// The shell for shell-form commands.
    pub fn shell(&self) -> Vec<String> {
        self.image
            .config
            .as_ref()
            .and_then(|c| c.shell.clone())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()])
    }

    /// The argv of a command line: exec form as is, shell form through the shell.
    pub fn argv(&self, line: &CommandLine) -> Vec<String> {
        match line {
            CommandLine::Exec(v) => v.clone(),
            CommandLine::Shell(s) => {
                let mut v = self.shell();
                v.push(s.clone());
                v
            }
        }
    }

    /// The working directory (absolute; `/` when unset).
    pub fn workdir(&self) -> String {
        self.image
            .config
            .as_ref()
            .and_then(|c| c.working_dir.clone())
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| "/".into())
    }

    /// Resolves `path` against the working directory, as `WORKDIR` and `COPY`
    /// destinations are. A trailing `/` is kept.
    pub fn resolve(&self, path: &str) -> String {
        if path.starts_with('/') {
            return path.to_owned();
        }
        let wd = self.workdir();
        let joined = format!("{}/{}", wd.trim_end_matches('/'), path);
        let trailing = path.ends_with('/') || path == "." || path.ends_with("/.");
        let mut clean = clean_path(&joined);
        if trailing && !clean.ends_with('/') {
            clean.push('/');
        }
        clean
    }

    /// Adds a history entry.
    pub fn history(&mut self, created: &str, created_by: String, empty_layer: bool) {
        self.image
            .history
            .get_or_insert_with(Vec::new)
            .push(History {
                created: Some(created.to_owned()),
                created_by: Some(created_by),
                comment: (!empty_layer).then(|| "buildkit.dockerfile.v0".to_owned()),
                empty_layer,
                ..History::default()
            });
        if !empty_layer {
            self.image.created = Some(created.to_owned());
        }
    }

    /// Appends a layer.
    pub fn push_layer(&mut self, layer: Layer) {
        self.image.rootfs.diff_ids.push(layer.diff_id.clone());
        self.layers.push(layer);
    }

    /// `ENV`: sets each key, replacing an earlier value in place.
    pub fn set_env(&mut self, pairs: &[KeyValue]) {
        let env = self.config().env.get_or_insert_with(Vec::new);
        for kv in pairs {
            let entry = format!("{}={}", kv.key, kv.value);
            match env
                .iter_mut()
                .find(|e| e.split_once('=').map(|p| p.0) == Some(kv.key.as_str()))
            {
                Some(slot) => *slot = entry,
                None => env.push(entry),
            }
        }
    }

    /// `LABEL`.
    pub fn set_labels(&mut self, pairs: &[KeyValue]) {
        let labels = self.config().labels.get_or_insert_with(BTreeMap::new);
        for kv in pairs {
            labels.insert(kv.key.clone(), kv.value.clone());
        }
    }

    /// `EXPOSE`: `80`, `80/tcp`, `53/udp`, ranges `8000-8002`.
    pub fn expose(&mut self, ports: &[String]) -> Result<(), String> {
        let mut keys = Vec::new();
        for p in ports {
            let (range, proto) = p.split_once('/').unwrap_or((p.as_str(), "tcp"));
            let proto = proto.to_ascii_lowercase();
            if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
                return Err(format!("invalid proto: {proto}"));
            }
            let (lo, hi) = range.split_once('-').unwrap_or((range, range));
            let (lo, hi) = match (lo.parse::<u16>(), hi.parse::<u16>()) {
                (Ok(lo), Ok(hi)) if lo <= hi => (lo, hi),
                _ => return Err(format!("invalid containerPort: {range}")),
            };
            keys.extend((lo..=hi).map(|n| format!("{n}/{proto}")));
        }
        let exposed = self
            .config()
            .exposed_ports
            .get_or_insert_with(BTreeMap::new);
        for k in keys {
            exposed.insert(k, json!({}));
        }
        Ok(())
    }

    /// `VOLUME`.
    pub fn add_volumes(&mut self, paths: &[String]) {
        let volumes = self.config().volumes.get_or_insert_with(BTreeMap::new);
        for p in paths {
            volumes.insert(p.clone(), json!({}));
        }
    }

    /// `CMD`. An empty exec form (`CMD []`) unsets it, as BuildKit has it.
    pub fn set_cmd(&mut self, line: &CommandLine) {
        let argv = match line {
            CommandLine::Exec(v) if v.is_empty() => None,
            l => Some(self.argv(l)),
        };
        self.config().cmd = argv;
        self.cmd_set = true;
    }

    /// `ENTRYPOINT`: an entrypoint resets a `CMD` inherited from the base;
    /// an empty exec form (`ENTRYPOINT []`) unsets it.
    pub fn set_entrypoint(&mut self, line: &CommandLine) {
        let argv = match line {
            CommandLine::Exec(v) if v.is_empty() => None,
            CommandLine::Shell(s) if s.is_empty() => Some(Vec::new()),
            l => Some(self.argv(l)),
        };
        let cmd_set = self.cmd_set;
        let config = self.config();
        config.entrypoint = argv;
        if !cmd_set {
            config.cmd = None;
        }
    }

    /// `HEALTHCHECK`, in Docker's config JSON shape.
    pub fn set_healthcheck(&mut self, check: &Healthcheck) {
        let value = match check {
            Healthcheck::None => json!({"Test": ["NONE"]}),
            Healthcheck::Check {
                test,
                interval,
                timeout,
                start_period,
                start_interval,
                retries,
            } => {
                let test: Vec<String> = match test {
                    CommandLine::Shell(s) => vec!["CMD-SHELL".into(), s.clone()],
                    CommandLine::Exec(v) => std::iter::once("CMD".to_owned())
                        .chain(v.iter().cloned())
                        .collect(),
                };
                let mut m = serde_json::Map::new();
                m.insert("Test".into(), json!(test));
                for (k, v) in [
                    ("Interval", interval),
                    ("Timeout", timeout),
                    ("StartPeriod", start_period),
                    ("StartInterval", start_interval),
                ] {
                    if let Some(v) = v {
                        m.insert(k.into(), json!(v));
                    }
                }
                if let Some(r) = retries {
                    m.insert("Retries".into(), json!(r));
                }
                Value::Object(m)
            }
        };
        self.config().healthcheck = Some(value);
    }
}

/// Go's `path.Clean` for absolute paths.
pub fn clean_path(p: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    format!("/{}", out.join("/"))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod empty_forms {
    use strata_dockerfile::CommandLine;
    use strata_oci::{Digest, ImageConfig};

    use super::StageState;

    #[test]
    fn empty_exec_forms_unset_cmd_and_entrypoint() {
        let mut st = StageState::new(ImageConfig::default(), Vec::new(), Digest::sha256_of(b"k"));
        st.set_entrypoint(&CommandLine::Exec(vec!["a".into()]));
        st.set_cmd(&CommandLine::Exec(vec!["b".into()]));
        st.set_entrypoint(&CommandLine::Exec(Vec::new()));
        st.set_cmd(&CommandLine::Exec(Vec::new()));
        assert_eq!(st.config().entrypoint, None);
        assert_eq!(st.config().cmd, None);
    }
}
