//! RUN and its flags: `--mount` (BuildKit's `commands_runmount.go`), `--network`,
//! `--security`.

use crate::ast::{MountKind, Run, RunMount};
use crate::error::Error;
use crate::flags::Kind;
use crate::instructions::Ctx;

/// Parses RUN; the flag says whether the command was in JSON form.
pub(crate) fn parse(ctx: &Ctx<'_>) -> Result<(Run, bool), Error> {
    let flags = ctx.flags(&[
        ("mount", Kind::Strings),
        ("network", Kind::String),
        ("security", Kind::String),
    ])?;
    let flag_at = |name: &str| {
        let prefix = format!("--{name}");
        ctx.split
            .flags
            .iter()
            .find(|w| w.text.starts_with(&prefix))
            .map_or(ctx.split.keyword_offset, |w| w.offset)
    };
    let network = flags.string("network");
    if let Some(n) = network
        .as_deref()
        .filter(|n| !matches!(*n, "none" | "default" | "host"))
    {
        return Err(ctx.error_at(flag_at("network"), format!("invalid network mode {n:?}")));
    }
    let security = flags.string("security");
    if let Some(s) = security
        .as_deref()
        .filter(|s| !matches!(*s, "insecure" | "sandbox"))
    {
        return Err(ctx.error_at(flag_at("security"), format!("invalid security mode {s:?}")));
    }
    let mut mounts = Vec::new();
    let mount_flags = ctx
        .split
        .flags
        .iter()
        .filter(|w| w.text.starts_with("--mount="));
    for (value, word) in flags.strings("mount").iter().zip(mount_flags) {
        mounts.push(mount(value).map_err(|m| ctx.error_at(word.offset, m))?);
    }
    let (command, json) = ctx.command_line(ctx.split.rest)?;
    let run = Run {
        command,
        mounts,
        network,
        security,
        heredocs: Vec::new(),
    };
    Ok((run, json))
}

/// One `--mount` value: comma-separated `key=value` fields (CSV quoting allowed).
pub(crate) fn mount(value: &str) -> Result<RunMount, String> {
    let mut m = RunMount {
        kind: MountKind::Bind,
        target: String::new(),
        source: None,
        from: None,
        id: None,
        sharing: None,
        readonly: false,
        mode: None,
        uid: None,
        gid: None,
        required: false,
        size: None,
    };
    let mut readonly: Option<bool> = None;
    let kind_name = |k: MountKind| match k {
        MountKind::Bind => "bind",
        MountKind::Cache => "cache",
        MountKind::Tmpfs => "tmpfs",
        MountKind::Secret => "secret",
        MountKind::Ssh => "ssh",
    };
    for field in csv_fields(value)? {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k.to_ascii_lowercase(), Some(v)),
            None => (field.to_ascii_lowercase(), None),
        };
        let Some(value) = value else {
            match key.as_str() {
                "readonly" | "ro" => readonly = Some(true),
                "readwrite" | "rw" => readonly = Some(false),
                "required" if matches!(m.kind, MountKind::Secret | MountKind::Ssh) => {
                    m.required = true
                }
                "required" => {
                    return Err(format!(
                        "unexpected key '{key}' for mount type '{}'",
                        kind_name(m.kind)
                    ))
                }
                _ => return Err(format!("invalid field '{field}' must be a key=value pair")),
            }
            continue;
        };
        let boolean =
            || parse_bool(value).ok_or_else(|| format!("invalid value for {key}: {value}"));
        let number = |radix: u32| {
            u32::from_str_radix(value, radix)
                .map_err(|_| format!("invalid value {value} for {key}"))
        };
        match key.as_str() {
            "type" => {
                m.kind = match value.to_ascii_lowercase().as_str() {
                    "bind" => MountKind::Bind,
                    "cache" => MountKind::Cache,
                    "tmpfs" => MountKind::Tmpfs,
                    "secret" => MountKind::Secret,
                    "ssh" => MountKind::Ssh,
                    _ => return Err(format!("unsupported mount type {value:?}")),
                }
            }
            "from" => {
                if value.find('$').is_some_and(|i| i + 1 < value.len()) {
                    return Err(
                        "'from' doesn't support variable expansion, define alias stage instead"
                            .into(),
                    );
                }
                m.from = Some(value.to_string());
            }
            "source" | "src" => m.source = Some(value.to_string()),
            "target" | "dst" | "destination" => m.target = value.to_string(),
            "readonly" | "ro" => readonly = Some(boolean()?),
            "readwrite" | "rw" => readonly = Some(!boolean()?),
            "required" if matches!(m.kind, MountKind::Secret | MountKind::Ssh) => {
                m.required = boolean()?
            }
            "size" if m.kind == MountKind::Tmpfs => {
                m.size = Some(
                    ram_in_bytes(value)
                        .ok_or_else(|| format!("invalid value for {key}: {value}"))?,
                )
            }
            "required" | "size" => {
                return Err(format!(
                    "unexpected key '{key}' for mount type '{}'",
                    kind_name(m.kind)
                ))
            }
            "id" => m.id = Some(value.to_string()),
            "sharing" => {
                let lower = value.to_ascii_lowercase();
                if !matches!(lower.as_str(), "shared" | "private" | "locked") {
                    return Err(format!("unsupported sharing value {value:?}"));
                }
                m.sharing = Some(lower);
            }
            "mode" => m.mode = Some(number(8)?),
            "uid" => m.uid = Some(number(10)?),
            "gid" => m.gid = Some(number(10)?),
            _ => return Err(format!("unexpected key '{key}' in '{field}'")),
        }
    }
    let kind = kind_name(m.kind);
    validate(&mut m, readonly, kind)?;
    Ok(m)
}

fn validate(m: &mut RunMount, readonly: Option<bool>, kind: &str) -> Result<(), String> {
    if !matches!(
        m.kind,
        MountKind::Cache | MountKind::Secret | MountKind::Ssh
    ) {
        for (name, given) in [
            ("mode", m.mode.is_some()),
            ("uid", m.uid.is_some()),
            ("gid", m.gid.is_some()),
        ] {
            if given {
                return Err(format!("{name} not allowed for {kind:?} type mounts"));
            }
        }
    }
    m.readonly = readonly.unwrap_or(!matches!(m.kind, MountKind::Cache | MountKind::Tmpfs));
    if m.kind == MountKind::Secret {
        if m.from.is_some() {
            return Err("secret mount should not have a from".into());
        }
        if m.sharing.is_some() {
            return Err("secret mount should not define sharing".into());
        }
        if m.source.is_none() && m.target.is_empty() && m.id.is_none() {
            return Err("invalid secret mount. one of source, target required".into());
        }
        if m.source.is_some() && m.id.is_some() {
            return Err("both source and id can't be set".into());
        }
    }
    if m.sharing.is_some() && m.kind != MountKind::Cache {
        return Err(format!("invalid cache sharing set for {kind} mount"));
    }
    Ok(())
}

/// Go's `strconv.ParseBool`.
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// A size with an optional binary suffix (`64m`, `1.5GiB`, `1024`), as go-units'
/// `RAMInBytes`.
fn ram_in_bytes(s: &str) -> Option<u64> {
    let split = s.rfind(|c: char| c.is_ascii_digit() || c == '.' || c == ' ')?;
    let (number, suffix) = if s.as_bytes().get(split) == Some(&b' ') {
        (&s[..split], &s[split + 1..])
    } else {
        (&s[..=split], &s[split + 1..])
    };
    let size: f64 = number.parse().ok()?;
    if size < 0.0 || !size.is_finite() {
        return None;
    }
    let suffix = suffix.to_ascii_lowercase();
    let mut chars = suffix.chars();
    let multiplier: f64 = match chars.next() {
        None => 1.0,
        Some('b') if suffix.len() == 1 => 1.0,
        Some(c) => {
            let power = "kmgtp".find(c)? as i32 + 1;
            if !matches!(chars.as_str(), "" | "b" | "ib") {
                return None;
            }
            1024f64.powi(power)
        }
    };
    // Truncation is what go-units does (int64(size)).
    Some((size * multiplier) as u64)
}

/// Splits one CSV record (Go's `encoding/csv`): fields separated by `,`, a field may be
/// quoted with `"` and contain `""` for a quote.
fn csv_fields(line: &str) -> Result<Vec<String>, String> {
    let bad = |what: &str| Err(format!("failed to parse csv mounts: {what}"));
    let mut fields = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => return bad("extraneous or missing \" in quoted-field"),
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                }
            }
            if !matches!(chars.peek(), None | Some(',')) {
                return bad("extraneous or missing \" in quoted-field");
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                if c == '"' {
                    return bad("bare \" in non-quoted-field");
                }
                field.push(c);
                chars.next();
            }
        }
        fields.push(field);
        if chars.next().is_none() {
            return Ok(fields);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_mount_with_options() {
        let m = mount(
            "type=cache,target=/root/.cache,id=pip,sharing=locked,mode=0755,uid=1000,gid=1000",
        )
        .unwrap();
        assert_eq!(m.kind, MountKind::Cache);
        assert_eq!(m.target, "/root/.cache");
        assert_eq!(
            (m.mode, m.uid, m.gid),
            (Some(0o755), Some(1000), Some(1000))
        );
        assert!(!m.readonly);
    }

    #[test]
    fn bind_mount_defaults_to_read_only() {
        let m = mount("target=/src,from=build,source=/out").unwrap();
        assert_eq!(m.kind, MountKind::Bind);
        assert!(m.readonly);
        assert!(!mount("type=bind,target=/src,rw").unwrap().readonly);
        assert!(mount("type=cache,target=/c,ro=true").unwrap().readonly);
    }

    #[test]
    fn mount_errors() {
        let cases = [
            ("type=nfs", "unsupported mount type \"nfs\""),
            (
                "type=bind,mode=0700",
                "mode not allowed for \"bind\" type mounts",
            ),
            (
                "type=bind,target=/x,sharing=shared",
                "invalid cache sharing set for bind mount",
            ),
            (
                "type=cache,target",
                "invalid field 'target' must be a key=value pair",
            ),
            (
                "type=cache,colour=red",
                "unexpected key 'colour' in 'colour=red'",
            ),
            ("type=cache,uid=x", "invalid value x for uid"),
            (
                "type=secret",
                "invalid secret mount. one of source, target required",
            ),
            (
                "from=$STAGE",
                "'from' doesn't support variable expansion, define alias stage instead",
            ),
        ];
        for (input, message) in cases {
            assert_eq!(mount(input).unwrap_err(), message, "{input}");
        }
    }

    #[test]
    fn secret_and_tmpfs_options() {
        let m = mount("type=secret,id=aws,required").unwrap();
        assert!(m.required && m.readonly);
        assert_eq!(
            mount("type=tmpfs,target=/t,size=64m").unwrap().size,
            Some(64 << 20)
        );
        assert_eq!(ram_in_bytes("1.5GiB"), Some(1536 << 20));
        assert_eq!(ram_in_bytes("10"), Some(10));
        assert_eq!(ram_in_bytes("10x"), None);
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_fields("a,\"b,c\",d").unwrap(), ["a", "b,c", "d"]);
        assert_eq!(csv_fields("\"x\"\"y\"").unwrap(), ["x\"y"]);
        assert!(csv_fields("a\"b").is_err());
    }
}
