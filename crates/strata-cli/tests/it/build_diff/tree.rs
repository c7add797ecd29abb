//! The trees `build_diff` compares: contexts copied, images flattened from
//! their docker-archive, and described line by line without times.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde_json::Value;
use strata_snapshot::apply::{apply_layer, ApplyOptions, WhiteoutMode};

/// Copies `src` to `dst` (modes kept, symlinks as symlinks), leaving out the
/// top-level entries `keep` rejects.
pub(super) fn copy_tree(src: &Path, dst: &Path, keep: &dyn Fn(&Path) -> bool) {
    fs::create_dir_all(dst).unwrap();
    for e in fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let rel = PathBuf::from(e.file_name());
        if !keep(&rel) {
            continue;
        }
        let from = e.path();
        let to = dst.join(&rel);
        let ft = e.file_type().unwrap();
        if ft.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&from).unwrap(), &to).unwrap();
        } else if ft.is_dir() {
            copy_tree(&from, &to, &|_| true);
        } else {
            fs::copy(&from, &to).unwrap();
        }
    }
}

pub(super) fn chown_tree(dir: &Path, id: u32) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        std::os::unix::fs::lchown(&p, Some(id), Some(id)).unwrap();
        if fs::symlink_metadata(&p).unwrap().is_dir() {
            chown_tree(&p, id);
        }
    }
}

/// Applies the layers of a docker-archive `tar` in order onto `dir`, with
/// whiteouts; returns how many layers hold more than directories, and the
/// image's config. (Known difference: dockerd 20.10 keeps a layer for a
/// step that changed nothing, with only `/etc` in it when the step was a
/// RUN (its mount points came and went); BuildKit's own image exporter
/// drops an empty layer and marks the step `empty_layer`, as strata does.)
pub(super) fn flatten(tar: &Path, dir: &Path) -> (usize, Value) {
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut archive = tar::Archive::new(fs::File::open(tar).unwrap());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        files.insert(name, data);
    }
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    let layers = manifest[0]["Layers"].as_array().unwrap();
    fs::create_dir_all(dir).unwrap();
    let mut non_empty = 0;
    for layer in layers {
        let data = &files[layer.as_str().unwrap()];
        let (reader, _) =
            strata_snapshot::compression::decompressed(std::io::Cursor::new(&data[..])).unwrap();
        apply_layer(reader, dir, ApplyOptions::new(WhiteoutMode::Apply)).unwrap();
        let (reader, _) =
            strata_snapshot::compression::decompressed(std::io::Cursor::new(&data[..])).unwrap();
        let mut layer = tar::Archive::new(reader);
        if layer
            .entries()
            .unwrap()
            .any(|e| !e.unwrap().header().entry_type().is_dir())
        {
            non_empty += 1;
        }
    }
    let config = serde_json::from_slice(&files[manifest[0]["Config"].as_str().unwrap()]).unwrap();
    (non_empty, config)
}

/// An image config's history, one line a step.
pub(super) fn img_history(config: &Value) -> Vec<String> {
    config["history"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| {
            format!(
                "{}{}",
                if h["empty_layer"].as_bool() == Some(true) {
                    "(no layer) "
                } else {
                    ""
                },
                h["created_by"].as_str().unwrap_or_default()
            )
        })
        .collect()
}

/// One line per entry below `root`: path, type, permission bits, owner, and
/// a file's size and content digest or a link's target. No times.
pub(super) fn describe(root: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    walk(root, root, &mut lines);
    lines.sort();
    lines
}

fn walk(root: &Path, dir: &Path, lines: &mut Vec<String>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let m = fs::symlink_metadata(&p).unwrap();
        let ft = m.file_type();
        let rel = p.strip_prefix(root).unwrap().display().to_string();
        let kind = if ft.is_dir() {
            "dir".to_owned()
        } else if ft.is_symlink() {
            format!("link -> {}", fs::read_link(&p).unwrap().display())
        } else if ft.is_file() {
            let data = fs::read(&p).unwrap();
            let content = if data.len() <= 512 && !data.contains(&0) {
                format!("{:?}", String::from_utf8_lossy(&data))
            } else {
                strata_oci::Digest::sha256_of(&data).short().to_string()
            };
            let links = if m.nlink() > 1 {
                format!(" nlink={}", m.nlink())
            } else {
                String::new()
            };
            format!("file {} {content}{links}", data.len())
        } else {
            format!("node {:o}", m.mode() & 0o170000)
        };
        lines.push(format!(
            "/{rel} {:o} {}:{} {kind}",
            m.mode() & 0o7777,
            m.uid(),
            m.gid()
        ));
        if ft.is_dir() {
            walk(root, &p, lines);
        }
    }
}

/// The lines only one side has, in order: `-` docker's, `+` strata's.
pub(super) fn line_diff(docker: &[String], strata: &[String]) -> Vec<String> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < docker.len() || j < strata.len() {
        match (docker.get(i), strata.get(j)) {
            (Some(d), Some(s)) if d == s => {
                i += 1;
                j += 1;
            }
            (Some(d), Some(s)) if d < s => {
                out.push(format!("- {d}"));
                i += 1;
            }
            (Some(_), Some(s)) => {
                out.push(format!("+ {s}"));
                j += 1;
            }
            (Some(d), None) => {
                out.push(format!("- {d}"));
                i += 1;
            }
            (None, Some(s)) => {
                out.push(format!("+ {s}"));
                j += 1;
            }
            (None, None) => break,
        }
    }
    out
}

/// The path a `describe` line (with its diff sign) is about.
pub(super) fn path_of(line: &str) -> &str {
    line.get(2..)
        .and_then(|l| l.split(' ').next())
        .unwrap_or_default()
}
