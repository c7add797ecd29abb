//! `--change` instructions of `import`: the Dockerfile instructions that only touch
//! the image config (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER,
//! VOLUME, WORKDIR), applied as Docker's `import --change` does.
//!
//! This is a deliberately small reading of the Dockerfile syntax; when the
//! `strata-dockerfile` parser lands (the build issue) it takes over.

use std::collections::BTreeMap;

use strata_oci::ContainerConfig;

use crate::error::{Error, Result};

/// Applies one `--change` line to a container config.
pub fn apply_change(config: &mut ContainerConfig, line: &str) -> Result<()> {
    let line = line.trim();
    let (word, rest) = line
        .split_once(char::is_whitespace)
        .map(|(w, r)| (w, r.trim()))
        .unwrap_or((line, ""));
    let bad = |why: &str| Error::InvalidArgument(format!("--change {line:?}: {why}"));
    if rest.is_empty() {
        return Err(bad("missing arguments"));
    }
    match word.to_ascii_uppercase().as_str() {
        "CMD" => config.cmd = Some(command(rest)),
        "ENTRYPOINT" => config.entrypoint = Some(command(rest)),
        "USER" => config.user = Some(rest.to_owned()),
        "WORKDIR" => config.working_dir = Some(rest.to_owned()),
        "STOPSIGNAL" => config.stop_signal = Some(rest.to_owned()),
        "ONBUILD" => config.on_build.get_or_insert_with(Vec::new).push(rest.to_owned()),
        "EXPOSE" => {
            let ports = config.exposed_ports.get_or_insert_with(BTreeMap::new);
            for p in rest.split_whitespace() {
                let (num, proto) = p.split_once('/').unwrap_or((p, "tcp"));
                if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
                    return Err(bad("invalid port"));
                }
                let proto = proto.to_ascii_lowercase();
                if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
                    return Err(bad("invalid protocol"));
                }
                ports.insert(format!("{num}/{proto}"), serde_json::json!({}));
            }
        }
        "VOLUME" => {
            let vols = config.volumes.get_or_insert_with(BTreeMap::new);
            let list = match json_array(rest) {
                Some(v) => v,
                None => words(rest).map_err(&bad)?,
            };
            for v in list {
                vols.insert(v, serde_json::json!({}));
            }
        }
        "ENV" => {
            let env = config.env.get_or_insert_with(Vec::new);
            for (k, v) in pairs(rest).map_err(&bad)? {
                env.retain(|e| e.split_once('=').map(|(ek, _)| ek) != Some(k.as_str()));
                env.push(format!("{k}={v}"));
            }
        }
        "LABEL" => {
            let labels = config.labels.get_or_insert_with(BTreeMap::new);
            for (k, v) in pairs(rest).map_err(&bad)? {
                labels.insert(k, v);
            }
        }
        other => {
            return Err(Error::InvalidArgument(format!(
                "--change {line:?}: {other} is not a valid change command (use CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME or WORKDIR)"
            )))
        }
    }
    Ok(())
}

/// JSON form (`["sh","-c"]`) or shell form (`/bin/sh -c "…"`).
fn command(rest: &str) -> Vec<String> {
    json_array(rest).unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into(), rest.to_owned()])
}

fn json_array(s: &str) -> Option<Vec<String>> {
    if !s.starts_with('[') {
        return None;
    }
    serde_json::from_str(s).ok()
}

/// Splits on whitespace, honouring double and single quotes and backslash escapes.
fn words(s: &str) -> std::result::Result<Vec<String>, &'static str> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') | (None, '\\') => match chars.next() {
                Some(n) => cur.push(n),
                None => return Err("trailing backslash"),
            },
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err("unterminated quote");
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

/// `k=v k2="v 2"` pairs, or the legacy `KEY value with spaces` form.
fn pairs(rest: &str) -> std::result::Result<Vec<(String, String)>, &'static str> {
    let ws = words(rest)?;
    if ws.first().is_some_and(|w| !w.contains('=')) {
        let (k, v) = rest
            .split_once(char::is_whitespace)
            .ok_or("expected KEY=value or KEY value")?;
        return Ok(vec![(k.to_owned(), v.trim().to_owned())]);
    }
    ws.into_iter()
        .map(|w| {
            w.split_once('=')
                .filter(|(k, _)| !k.is_empty())
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or("expected KEY=value")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(lines: &[&str]) -> Result<ContainerConfig> {
        let mut c = ContainerConfig::default();
        for l in lines {
            apply_change(&mut c, l)?;
        }
        Ok(c)
    }

    #[test]
    fn cmd_and_entrypoint_take_json_and_shell_forms() {
        let c = apply(&[r#"CMD ["sh"]"#, "ENTRYPOINT echo hi"]).unwrap();
        assert_eq!(c.cmd.unwrap(), ["sh"]);
        assert_eq!(c.entrypoint.unwrap(), ["/bin/sh", "-c", "echo hi"]);
    }

    #[test]
    fn env_and_label_take_both_forms_and_quotes() {
        let c = apply(&[
            "ENV A=1 B=\"two words\"",
            "ENV LEGACY some value",
            "ENV A=3",
            "LABEL org.example=\"x y\" b=c",
        ])
        .unwrap();
        assert_eq!(c.env.unwrap(), ["B=two words", "LEGACY=some value", "A=3"]);
        let labels = c.labels.unwrap();
        assert_eq!(labels["org.example"], "x y");
        assert_eq!(labels["b"], "c");
    }

    #[test]
    fn expose_volume_user_workdir() {
        let c = apply(&[
            "EXPOSE 80 53/udp",
            r#"VOLUME ["/data"]"#,
            "VOLUME /a /b",
            "USER 1000:1000",
            "WORKDIR /app",
        ])
        .unwrap();
        let ports: Vec<_> = c.exposed_ports.unwrap().into_keys().collect();
        assert_eq!(ports, ["53/udp", "80/tcp"]);
        let vols: Vec<_> = c.volumes.unwrap().into_keys().collect();
        assert_eq!(vols, ["/a", "/b", "/data"]);
        assert_eq!(c.user.as_deref(), Some("1000:1000"));
        assert_eq!(c.working_dir.as_deref(), Some("/app"));
    }

    #[test]
    fn bad_changes_say_what_is_wrong() {
        for (line, want) in [
            ("RUN make", "not a valid change command"),
            ("CMD", "missing arguments"),
            ("EXPOSE http", "invalid port"),
            ("ENV A=\"unterminated", "unterminated quote"),
        ] {
            let err = apply(&[line]).unwrap_err().to_string();
            assert!(err.contains(want), "{line}: {err}");
        }
    }
}
