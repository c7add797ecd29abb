//! Running CNI plugins and network configuration lists as the CNI spec
//! (v1.0.0) tells a runtime to: the environment variables, `name`,
//! `cniVersion`, `runtimeConfig` and `prevResult` injection, ADD in order and
//! DEL in reverse, and error results.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde::Deserialize;
use serde_json::Value;

use crate::network::{Error, Result};

/// Plugins call `iptables`/`ip6tables` through `PATH`; root's `sbin`
/// directories are not always on it (e.g. under `sudo` or a bare CI shell).
const SBIN_DIRS: [&str; 3] = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CniCommand {
    Add,
    Del,
}

impl CniCommand {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            CniCommand::Add => "ADD",
            CniCommand::Del => "DEL",
        }
    }
}

/// The per-call parameters the spec passes in the environment.
pub(super) struct Invocation<'a> {
    pub(super) container_id: &'a str,
    pub(super) netns: &'a Path,
    pub(super) ifname: &'a str,
}

/// Runs one plugin: the seam unit tests replace to record calls without root.
pub(super) trait Exec {
    /// Runs plugin `plugin` with `stdin` as its configuration; returns its
    /// stdout on success.
    fn exec(
        &self,
        plugin: &str,
        command: CniCommand,
        inv: &Invocation<'_>,
        stdin: &[u8],
    ) -> Result<Vec<u8>>;
}

/// The real plugins, as processes.
pub(super) struct Plugins<'a> {
    bin_dir: &'a Path,
}

impl<'a> Plugins<'a> {
    pub(super) fn new(bin_dir: &'a Path) -> Self {
        Plugins { bin_dir }
    }
}

impl Exec for Plugins<'_> {
    fn exec(
        &self,
        plugin: &str,
        command: CniCommand,
        inv: &Invocation<'_>,
        stdin: &[u8],
    ) -> Result<Vec<u8>> {
        let binary = self.bin_dir.join(plugin);
        if plugin.contains('/') || !binary.is_file() {
            return Err(Error::PluginNotFound {
                plugin: plugin.to_owned(),
                dir: self.bin_dir.to_owned(),
            });
        }
        let spawn_err = |source| Error::PluginSpawn {
            plugin: plugin.to_owned(),
            command: command.as_str(),
            source,
        };
        let mut child = Command::new(&binary)
            .env("CNI_COMMAND", command.as_str())
            .env("CNI_CONTAINERID", inv.container_id)
            .env("CNI_NETNS", inv.netns)
            .env("CNI_IFNAME", inv.ifname)
            .env("CNI_ARGS", "")
            .env("CNI_PATH", self.bin_dir)
            .env("PATH", search_path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_err)?;
        if let Some(mut pipe) = child.stdin.take() {
            // A plugin that fails early may not read its config: EPIPE here is
            // not the error to report, its exit status and output are.
            let _ = pipe.write_all(stdin);
        }
        let output = child.wait_with_output().map_err(spawn_err)?;
        if output.status.success() {
            return Ok(output.stdout);
        }
        Err(plugin_failure(
            plugin,
            command,
            output.status.code(),
            &output.stdout,
            &output.stderr,
        ))
    }
}

fn search_path() -> String {
    let mut path = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".to_owned());
    for dir in SBIN_DIRS {
        if !path.split(':').any(|d| d == dir) {
            path.push(':');
            path.push_str(dir);
        }
    }
    path
}

/// Builds the error of a failed plugin from its CNI error result (stdout) or,
/// lacking one, its stderr.
pub(super) fn plugin_failure(
    plugin: &str,
    command: CniCommand,
    status: Option<i32>,
    stdout: &[u8],
    stderr: &[u8],
) -> Error {
    #[derive(Deserialize)]
    struct CniError {
        #[serde(default)]
        code: i64,
        #[serde(default)]
        msg: String,
        #[serde(default)]
        details: String,
    }
    let (code, message) = match serde_json::from_slice::<CniError>(stdout) {
        Ok(e) if !e.msg.is_empty() => {
            let message = if e.details.is_empty() {
                e.msg
            } else {
                format!("{}: {}", e.msg, e.details)
            };
            (e.code, message)
        }
        _ => {
            let text = String::from_utf8_lossy(if stderr.is_empty() { stdout } else { stderr });
            (i64::from(status.unwrap_or(-1)), text.trim().to_owned())
        }
    };
    Error::PluginFailed {
        plugin: plugin.to_owned(),
        command: command.as_str(),
        code,
        message,
    }
}

/// Runs one plugin configuration; returns its result (ADD only).
pub(super) fn run(
    exec: &dyn Exec,
    conf: &Value,
    command: CniCommand,
    inv: &Invocation<'_>,
) -> Result<Option<Value>> {
    let plugin = conf.get("type").and_then(Value::as_str).unwrap_or_default();
    let stdin = serde_json::to_vec(conf).map_err(|e| Error::BadResult {
        plugin: plugin.to_owned(),
        command: command.as_str(),
        reason: format!("cannot encode the configuration: {e}"),
    })?;
    let stdout = exec.exec(plugin, command, inv, &stdin)?;
    if command == CniCommand::Del {
        return Ok(None);
    }
    match serde_json::from_slice::<Value>(&stdout) {
        Ok(v) if v.is_object() => Ok(Some(v)),
        Ok(_) => Err(Error::BadResult {
            plugin: plugin.to_owned(),
            command: command.as_str(),
            reason: "the result is not a JSON object".to_owned(),
        }),
        Err(e) => Err(Error::BadResult {
            plugin: plugin.to_owned(),
            command: command.as_str(),
            reason: format!("the result is not JSON: {e}"),
        }),
    }
}

/// The configuration one plugin of the list receives (CNI spec, "Network
/// Configuration Lists"): the list's `name` and `cniVersion`, the
/// `runtimeConfig` entries for the capabilities it declares, and `prevResult`.
fn plugin_config(list: &Value, index: usize, runtime: &Value, prev: Option<&Value>) -> Value {
    let mut conf = list["plugins"][index].clone();
    if let Some(obj) = conf.as_object_mut() {
        obj.insert("name".to_owned(), list["name"].clone());
        obj.insert("cniVersion".to_owned(), list["cniVersion"].clone());
        let wanted: BTreeSet<String> = obj
            .get("capabilities")
            .and_then(Value::as_object)
            .map(|caps| {
                caps.iter()
                    .filter(|(_, on)| on.as_bool() == Some(true))
                    .map(|(name, _)| name.clone())
                    .collect()
            })
            .unwrap_or_default();
        let rc: serde_json::Map<String, Value> = runtime
            .as_object()
            .map(|all| {
                all.iter()
                    .filter(|(k, _)| wanted.contains(k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        if !rc.is_empty() {
            obj.insert("runtimeConfig".to_owned(), Value::Object(rc));
        }
        if let Some(prev) = prev {
            obj.insert("prevResult".to_owned(), prev.clone());
        }
    }
    conf
}

fn plugin_count(list: &Value) -> usize {
    list["plugins"].as_array().map_or(0, Vec::len)
}

/// ADD for every plugin in order, each getting the previous one's result. On
/// failure, DEL for every plugin in reverse (spec: "Network Configuration List
/// Error Handling"), then the ADD's error.
pub(super) fn add_list(
    exec: &dyn Exec,
    list: &Value,
    runtime: &Value,
    inv: &Invocation<'_>,
) -> Result<Value> {
    let mut prev: Option<Value> = None;
    for index in 0..plugin_count(list) {
        let conf = plugin_config(list, index, runtime, prev.as_ref());
        match run(exec, &conf, CniCommand::Add, inv) {
            Ok(Some(result)) => prev = Some(result),
            Ok(None) => {}
            Err(err) => {
                let _ = del_list(exec, list, runtime, inv, prev.as_ref());
                return Err(err);
            }
        }
    }
    prev.ok_or_else(|| Error::BadResult {
        plugin: list["name"].as_str().unwrap_or_default().to_owned(),
        command: CniCommand::Add.as_str(),
        reason: "the configuration list has no plugins".to_owned(),
    })
}

/// DEL for every plugin in reverse order, all with the ADD's final result as
/// `prevResult`. Unlike the spec's "stop at the first error", it goes on, so
/// that one plugin's failure does not leave the others' state behind.
pub(super) fn del_list(
    exec: &dyn Exec,
    list: &Value,
    runtime: &Value,
    inv: &Invocation<'_>,
    prev: Option<&Value>,
) -> Vec<Error> {
    (0..plugin_count(list))
        .rev()
        .filter_map(|index| {
            let conf = plugin_config(list, index, runtime, prev);
            run(exec, &conf, CniCommand::Del, inv).err()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_errors_carry_code_msg_and_details() {
        let e = plugin_failure(
            "bridge",
            CniCommand::Add,
            Some(1),
            br#"{"code":11,"msg":"failed to set bridge addr","details":"exists"}"#,
            b"",
        );
        assert_eq!(
            e.to_string(),
            "cni plugin bridge ADD failed (code 11): failed to set bridge addr: exists"
        );
        let e = plugin_failure("portmap", CniCommand::Del, Some(2), b"", b"panic: oops\n");
        assert_eq!(
            e.to_string(),
            "cni plugin portmap DEL failed (code 2): panic: oops"
        );
    }

    #[test]
    fn plugins_get_the_list_name_version_their_capabilities_and_prev_result() {
        let list = serde_json::json!({
            "cniVersion": "1.0.0",
            "name": "n",
            "plugins": [{ "type": "a" }, { "type": "b", "capabilities": { "portMappings": true, "mac": false } }],
        });
        let runtime = serde_json::json!({ "portMappings": [1], "mac": "x", "other": 2 });
        let prev = serde_json::json!({ "ips": [] });
        let a = plugin_config(&list, 0, &runtime, None);
        assert_eq!(
            a,
            serde_json::json!({ "type": "a", "name": "n", "cniVersion": "1.0.0" })
        );
        let b = plugin_config(&list, 1, &runtime, Some(&prev));
        assert_eq!(
            b["runtimeConfig"],
            serde_json::json!({ "portMappings": [1] })
        );
        assert_eq!(b["prevResult"], prev);
    }
}
