//! `registry serve`, `registry gc` and `registry htpasswd`.

use std::io::{self, Read};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use strata_registry::config::{Config, Tls};
use strata_registry::serve::Prepared;

use super::util::print;
use crate::cli::{GcArgs, HtpasswdArgs, ServeArgs, ServerLocation};
use crate::render::human_size;

/// The configuration file's settings with the flags laid over them.
pub(super) fn base_config(location: &ServerLocation) -> Result<Config> {
    let mut config = match &location.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    if let Some(s) = &location.storage {
        config.storage = Some(s.clone());
    }
    Ok(config)
}

/// The log level a `registry serve` asks for in its configuration file.
pub fn configured_log_level(args: &ServeArgs) -> Option<String> {
    let path = args.location.config.as_ref()?;
    Config::load(path).ok()?.log_level
}

/// `registry serve`.
pub fn serve(args: &ServeArgs) -> Result<ExitCode> {
    let mut config = base_config(&args.location)?;
    if let Some(a) = &args.addr {
        config.addr = Some(a.clone());
    }
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        config.tls = Some(Tls {
            cert: cert.clone(),
            key: key.clone(),
        });
    }
    if let Some(h) = &args.htpasswd {
        config.htpasswd = Some(h.clone());
    }
    if let Some(r) = &args.proxy_remote {
        config.proxy_remote = Some(r.clone());
    }
    if args.delete_enabled {
        config.delete_enabled = Some(true);
    }
    if args.rbac {
        config.rbac.get_or_insert_with(Default::default).enabled = Some(true);
    }
    let prepared = Prepared::new(&config)?;
    let addr = prepared.local_addr()?;
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    eprintln!(
        "strata registry listening on {scheme}://{addr} (storage {}{}{})",
        config.storage().display(),
        if config.rbac_enabled() {
            ", rbac: token service at /token, admin API at /api/v1"
        } else if config.htpasswd.is_some() {
            ", htpasswd auth"
        } else {
            ""
        },
        config
            .proxy_remote
            .as_deref()
            .map(|r| format!(", pull-through cache of {r}"))
            .unwrap_or_default(),
    );
    prepared.serve_until_signalled()?;
    Ok(ExitCode::SUCCESS)
}

/// `10s`, `5m`, `2h`, `1d`, or plain seconds.
fn parse_duration(s: &str) -> Result<Duration> {
    strata_registry::config::parse_seconds(s)
        .map(Duration::from_secs)
        .map_err(|e| anyhow!("invalid duration {s:?}: {e}"))
}

/// `registry gc`.
pub fn gc(args: &GcArgs) -> Result<ExitCode> {
    let config = base_config(&args.location)?;
    let grace = parse_duration(&args.grace)?;
    let storage = std::sync::Arc::new(strata_registry::storage::FsStorage::new(&config.storage())?);
    let registry = strata_registry::repo::Registry::new(storage, true);
    let report = strata_registry::gc::collect(&registry, args.dry_run, grace)?;
    for d in &report.swept {
        print(&format!(
            "{}{d}\n",
            if args.dry_run {
                "would delete "
            } else {
                "deleted "
            }
        ))?;
    }
    print(&format!(
        "{} manifests, {} blobs in use; {} blobs {} ({}); {} unreferenced blobs younger than {} spared; {} abandoned uploads ended\n",
        report.manifests,
        report.marked,
        report.swept.len(),
        if args.dry_run { "to delete" } else { "deleted" },
        human_size(report.bytes),
        report.spared,
        args.grace,
        report.uploads_purged,
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// `registry htpasswd FILE USER`.
pub fn htpasswd(args: &HtpasswdArgs) -> Result<ExitCode> {
    let password = if args.password_stdin {
        let mut s = String::new();
        io::stdin().read_to_string(&mut s)?;
        s.trim_end_matches(['\n', '\r']).to_owned()
    } else {
        super::registry::prompt("Password: ", false)?
    };
    if password.is_empty() {
        bail!("the password is empty");
    }
    let line = strata_registry::auth::hash_line(&args.user, &password)?;
    let existing = match std::fs::read_to_string(&args.file) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", args.file.display())),
    };
    let prefix = format!("{}:", args.user);
    let mut lines: Vec<&str> = existing
        .lines()
        .filter(|l| !l.starts_with(&prefix))
        .collect();
    let replaced = lines.len() != existing.lines().count();
    lines.push(&line);
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let tmp = args.file.with_extension("tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &args.file)
        .with_context(|| format!("writing {}", args.file.display()))?;
    eprintln!(
        "{} user {}",
        if replaced { "Updated" } else { "Added" },
        args.user
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert!(parse_duration("1y").is_err());
        assert!(parse_duration("h").is_err());
    }
}
