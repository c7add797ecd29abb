//! Small shared pieces of command output: IDs, times, stdout.

use std::io::Write;
use std::time::Duration;

use anyhow::Result;
use strata_oci::{Digest, Timestamp};

use crate::render::human_duration;

/// Docker's short ID (12 hex) or, with `no_trunc`, the full digest.
pub fn id(d: &Digest, no_trunc: bool) -> String {
    if no_trunc {
        d.to_string()
    } else {
        d.short().to_owned()
    }
}

/// "2 hours ago", as `docker images` shows it; "N/A" when unknown.
pub fn since(t: Option<Timestamp>) -> String {
    let Some(t) = t else {
        return "N/A".to_owned();
    };
    let now = Timestamp::now();
    let nanos = u64::try_from((now.0 - t.0).max(0)).unwrap_or(u64::MAX);
    format!("{} ago", human_duration(Duration::from_nanos(nanos)))
}

/// Go's `time.Time.String()` in UTC: `2026-11-27 20:04:59 +0000 UTC`.
pub fn go_time(t: Option<Timestamp>) -> String {
    let Some(t) = t else {
        return "0001-01-01 00:00:00 +0000 UTC".to_owned();
    };
    let s = Timestamp::from_unix_seconds(t.unix_seconds()).to_rfc3339();
    format!("{} {} +0000 UTC", &s[..10], &s[11..19])
}

/// Writes to stdout (a broken pipe ends the command quietly, see `run`).
pub fn print(s: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(s.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Asks a yes/no question on the terminal; anything but y/yes is no.
pub fn confirm(question: &str) -> Result<bool> {
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(matches!(
        line.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
