//! Build progress, as BuildKit shows it: plain lines (`#N [stage i/n] …`,
//! `#N CACHED`, `#N 0.123 output`, `#N DONE 0.4s`), or on a terminal a live
//! view of the steps that redraws itself.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use strata_build::{Event, Progress};

/// BuildKit's plain progress: `#N [stage i/n] INSTRUCTION`, then `#N CACHED`,
/// `#N 0.123 output…` and `#N DONE 0.4s` lines, on stderr.
pub(super) struct PlainProgress {
    quiet: bool,
    out: Mutex<io::Stderr>,
    partial: Mutex<BTreeMap<usize, Vec<u8>>>,
}

impl PlainProgress {
    pub(super) fn new(quiet: bool) -> Self {
        PlainProgress {
            quiet,
            out: Mutex::new(io::stderr()),
            partial: Mutex::new(BTreeMap::new()),
        }
    }

    pub(super) fn line(&self, s: &str) {
        if self.quiet {
            return;
        }
        let out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(&*out, "{s}");
    }
}

impl Progress for PlainProgress {
    fn event(&self, event: Event<'_>) {
        match event {
            Event::Step {
                id,
                stage,
                index,
                total,
                text,
            } => {
                self.line(&format!("#{id} {}", step_title(stage, index, total, text)));
            }
            Event::Cached { id } => self.line(&format!("#{id} CACHED")),
            Event::Output { id, data, elapsed } => {
                let mut partial = self.partial.lock().unwrap_or_else(|e| e.into_inner());
                let buf = partial.entry(id).or_default();
                buf.extend_from_slice(data);
                while let Some(nl) = buf.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = buf.drain(..=nl).collect();
                    let text = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
                    self.line(&format!("#{id} {:.3} {text}", elapsed.as_secs_f64()));
                }
            }
            Event::Done { id, elapsed } => {
                let rest = self
                    .partial
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&id)
                    .filter(|b| !b.is_empty());
                if let Some(rest) = rest {
                    self.line(&format!("#{id} {}", String::from_utf8_lossy(&rest)));
                }
                self.line(&format!("#{id} DONE {:.1}s", elapsed.as_secs_f64()));
            }
            Event::Failed { id, message } => {
                let first = message.lines().next().unwrap_or("");
                self.line(&format!("#{id} ERROR: {first}"));
            }
            Event::Warning(w) => self.line(&format!("WARNING: {w}")),
        }
    }
}

/// `[stage 2/5] INSTRUCTION` (its first line).
fn step_title(stage: &str, index: usize, total: usize, text: &str) -> String {
    let text = text.lines().next().unwrap_or("");
    format!("[{stage} {index}/{total}] {text}")
}

/// One step of the live view.
struct Row {
    title: String,
    started: Instant,
    ended: Option<Duration>,
    cached: bool,
    failed: bool,
    last_output: String,
}

/// The live view: the build's steps, redrawn in place every tick.
pub(super) struct TtyProgress {
    started: Instant,
    state: Mutex<(BTreeMap<usize, Row>, usize)>,
    width: usize,
}

impl TtyProgress {
    pub(super) fn new() -> Self {
        let width = rustix::termios::tcgetwinsize(io::stderr())
            .map(|w| usize::from(w.ws_col))
            .unwrap_or(80)
            .max(40);
        TtyProgress {
            started: Instant::now(),
            state: Mutex::new((BTreeMap::new(), 0)),
            width,
        }
    }

    /// Redraws the view over the previous one.
    pub(super) fn draw(&self, finished: bool) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (rows, drawn) = &mut *state;
        let done = rows.values().filter(|r| r.ended.is_some()).count();
        let mut out = String::new();
        if *drawn > 0 {
            out.push_str(&format!("\x1b[{}F", *drawn));
        }
        let mut lines = vec![format!(
            "[+] Building {:.1}s ({done}/{}){}",
            self.started.elapsed().as_secs_f64(),
            rows.len(),
            if finished { " FINISHED" } else { "" }
        )];
        for row in rows.values() {
            let secs = row
                .ended
                .unwrap_or_else(|| row.started.elapsed())
                .as_secs_f64();
            let status = if row.failed {
                "ERROR "
            } else if row.cached {
                "CACHED "
            } else {
                ""
            };
            let head = format!(" => {status}{}", row.title);
            let time = format!("{secs:.1}s");
            lines.push(fit(&head, &time, self.width));
            if row.ended.is_none() && !row.last_output.is_empty() {
                lines.push(fit(
                    &format!(" => => # {}", row.last_output),
                    "",
                    self.width,
                ));
            }
        }
        for l in &lines {
            out.push_str(l);
            out.push_str("\x1b[K\n");
        }
        // Lines a previous, longer view drew are cleared.
        for _ in lines.len()..*drawn {
            out.push_str("\x1b[K\n");
        }
        *drawn = lines.len().max(*drawn);
        let _ = io::stderr().write_all(out.as_bytes());
    }
}

/// `head` and `tail` on one line of `width` columns, `head` cut to fit.
fn fit(head: &str, tail: &str, width: usize) -> String {
    let room = width.saturating_sub(tail.len() + 1);
    let head: String = head.chars().take(room).collect();
    let pad = room.saturating_sub(head.chars().count());
    format!("{head}{}{} {tail}", "", " ".repeat(pad))
}

impl Progress for TtyProgress {
    fn event(&self, event: Event<'_>) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let rows = &mut state.0;
        match event {
            Event::Step {
                id,
                stage,
                index,
                total,
                text,
            } => {
                rows.insert(
                    id,
                    Row {
                        title: step_title(stage, index, total, text),
                        started: Instant::now(),
                        ended: None,
                        cached: false,
                        failed: false,
                        last_output: String::new(),
                    },
                );
            }
            Event::Cached { id } => {
                if let Some(r) = rows.get_mut(&id) {
                    r.cached = true;
                }
            }
            Event::Output { id, data, .. } => {
                if let Some(r) = rows.get_mut(&id) {
                    let text = String::from_utf8_lossy(data);
                    if let Some(last) = text.lines().rev().find(|l| !l.trim().is_empty()) {
                        r.last_output = last.to_owned();
                    }
                }
            }
            Event::Done { id, elapsed } => {
                if let Some(r) = rows.get_mut(&id) {
                    r.ended = Some(elapsed);
                }
            }
            Event::Failed { id, .. } => {
                if let Some(r) = rows.get_mut(&id) {
                    r.ended = Some(r.started.elapsed());
                    r.failed = true;
                }
            }
            Event::Warning(_) => {}
        }
    }
}
