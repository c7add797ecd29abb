//! `logs`: the monitor's JSON log, filtered, and followed while the container runs.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, SeekFrom};

use strata_oci::Timestamp;
use strata_runtime::monitor::LogLine;

use super::record::Phase;
use super::watch::{Watch, MAX_WAIT};
use crate::error::{Error, Result};
use crate::host::Host;

/// `logs` options.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// `-f`: keep printing until the container stops.
    pub follow: bool,
    /// `--tail N`: only the last N lines already written.
    pub tail: Option<usize>,
    /// `--since`: only lines written at or after this time.
    pub since: Option<Timestamp>,
}

/// Which stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

impl Host {
    /// Feeds the container's log lines to `emit` (stream, text, RFC 3339 time).
    pub fn logs(
        &self,
        key: &str,
        opts: &LogOptions,
        emit: &mut dyn FnMut(LogStream, &str, &str) -> io::Result<()>,
    ) -> Result<()> {
        let c = self.container(key)?;
        let path = c.path("log.json");
        let file = match File::open(&path) {
            Ok(f) => Some(f),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(Error::io("open", &path)(e)),
        };
        let mut reader = file.map(BufReader::new);
        let keep = |l: &LogLine| {
            opts.since
                .is_none_or(|s| Timestamp::parse_rfc3339(&l.time).is_some_and(|t| t >= s))
        };
        let mut out = |l: &LogLine| -> Result<()> {
            let stream = if l.stream == "stderr" {
                LogStream::Stderr
            } else {
                LogStream::Stdout
            };
            emit(stream, &l.log, &l.time).map_err(Error::io("write", "output"))
        };
        // What is there now, with --tail applied.
        let mut existing = Vec::new();
        let mut partial = String::new();
        if let Some(r) = reader.as_mut() {
            read_lines(r, &mut partial, &mut |l| {
                if keep(&l) {
                    existing.push(l);
                }
            })
            .map_err(Error::io("read", &path))?;
        }
        let skip = opts.tail.map_or(0, |n| existing.len().saturating_sub(n));
        for l in &existing[skip..] {
            out(l)?;
        }
        if !opts.follow {
            return Ok(());
        }
        let watch = Watch::new(&c.dir);
        loop {
            let running = match self.container(&c.record.id) {
                Ok(now) => now.phase() == Phase::Running || now.state.is_none(),
                Err(_) => false,
            };
            if reader.is_none() {
                reader = File::open(&path).ok().map(BufReader::new);
            }
            let mut got = Vec::new();
            if let Some(r) = reader.as_mut() {
                read_lines(r, &mut partial, &mut |l| got.push(l))
                    .map_err(Error::io("read", &path))?;
            }
            for l in got.iter().filter(|l| keep(l)) {
                out(l)?;
            }
            if !running && got.is_empty() {
                return Ok(());
            }
            if got.is_empty() {
                watch.wait(MAX_WAIT);
            }
        }
    }
}

/// Reads every complete JSON line; a line still being written stays in `partial`.
fn read_lines(
    r: &mut BufReader<File>,
    partial: &mut String,
    f: &mut dyn FnMut(LogLine),
) -> io::Result<()> {
    loop {
        let start = r.stream_position()?;
        let n = r.read_line(partial)?;
        if n == 0 {
            return Ok(());
        }
        if !partial.ends_with('\n') {
            // Incomplete: rewind so the next read sees the whole line.
            r.seek(SeekFrom::Start(start))?;
            partial.clear();
            return Ok(());
        }
        if let Ok(l) = serde_json::from_str::<LogLine>(partial) {
            f(l);
        }
        partial.clear();
    }
}
