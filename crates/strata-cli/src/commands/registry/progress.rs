//! Transfer progress as Docker prints it: one line per layer, by short ID.
//!
//! Off a terminal, a line per change of state (`Pulling fs layer`,
//! `Pull complete`, `Already exists`, `Pushed`, `Mounted from …`); on a
//! terminal, the same lines redrawn in place, with a bar, bytes and speed.

use std::io::{self, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use strata_host::registry::{LayerEvent, TransferProgress};
use strata_oci::Digest;

use crate::render::human_size;

/// Which way the bytes move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Direction {
    Pull,
    Push,
}

struct Row {
    id: String,
    size: u64,
    status: String,
    done: u64,
    started: Option<Instant>,
}

/// Docker-style layer progress on stdout, as Docker prints it.
pub(super) struct LayerProgress {
    direction: Direction,
    tty: bool,
    state: Mutex<State>,
}

struct State {
    rows: Vec<Row>,
    drawn: usize,
    last_draw: Option<Instant>,
}

fn short(d: &Digest) -> String {
    d.hex().chars().take(12).collect()
}

impl LayerProgress {
    pub(super) fn new(direction: Direction, tty: bool) -> Self {
        LayerProgress {
            direction,
            tty,
            state: Mutex::new(State {
                rows: Vec::new(),
                drawn: 0,
                last_draw: None,
            }),
        }
    }

    fn status(&self, event: &LayerEvent) -> Option<String> {
        let pull = self.direction == Direction::Pull;
        Some(match event {
            LayerEvent::Exists if pull => "Already exists".into(),
            LayerEvent::Exists => "Layer already exists".into(),
            LayerEvent::Mounted(from) => format!("Mounted from {from}"),
            LayerEvent::Waiting if pull => "Pulling fs layer".into(),
            LayerEvent::Waiting => "Preparing".into(),
            LayerEvent::Progress(_) if pull => "Downloading".into(),
            LayerEvent::Progress(_) => "Pushing".into(),
            LayerEvent::Done if pull => "Pull complete".into(),
            LayerEvent::Done => "Pushed".into(),
        })
    }

    /// Redraws every row in place (terminal only).
    fn draw(&self, state: &mut State, force: bool) {
        let now = Instant::now();
        if !force
            && state
                .last_draw
                .is_some_and(|t| now - t < Duration::from_millis(100))
        {
            return;
        }
        state.last_draw = Some(now);
        let mut out = String::new();
        if state.drawn > 0 {
            out.push_str(&format!("\x1b[{}A", state.drawn));
        }
        for row in &state.rows {
            out.push_str("\x1b[2K");
            out.push_str(&format!("{}: {}", row.id, row.status));
            if row.status == "Downloading" || row.status == "Pushing" {
                out.push_str(&format!(" {}", bar(row.done, row.size)));
                let secs = row.started.map_or(0.0, |t| t.elapsed().as_secs_f64());
                let speed = if secs > 0.0 {
                    (row.done as f64 / secs) as u64
                } else {
                    0
                };
                out.push_str(&format!(
                    " {}/{} {}/s",
                    human_size(row.done),
                    human_size(row.size),
                    human_size(speed)
                ));
            }
            out.push('\n');
        }
        state.drawn = state.rows.len();
        let _ = io::stdout().write_all(out.as_bytes());
    }

    /// Draws the final state (terminal only).
    pub(super) fn finish(&self) {
        if self.tty {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            self.draw(&mut state, true);
        }
    }
}

fn bar(done: u64, size: u64) -> String {
    const WIDTH: u64 = 40;
    let filled = (done.min(size) * WIDTH).checked_div(size).unwrap_or(0);
    let mut s = String::from("[");
    for i in 0..WIDTH {
        s.push(match i.cmp(&filled) {
            std::cmp::Ordering::Less => '=',
            std::cmp::Ordering::Equal => '>',
            std::cmp::Ordering::Greater => ' ',
        });
    }
    s.push(']');
    s
}

impl TransferProgress for LayerProgress {
    fn layer(&self, digest: &Digest, size: u64, event: LayerEvent) {
        let Some(status) = self.status(&event) else {
            return;
        };
        let id = short(digest);
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let index = match state.rows.iter().position(|r| r.id == id) {
            Some(i) => i,
            None => {
                state.rows.push(Row {
                    id: id.clone(),
                    size,
                    status: String::new(),
                    done: 0,
                    started: None,
                });
                state.rows.len() - 1
            }
        };
        let row = &mut state.rows[index];
        let changed = row.status != status;
        if let LayerEvent::Progress(n) = event {
            row.done = n;
            row.started.get_or_insert_with(Instant::now);
        }
        row.status = status.clone();
        if self.tty {
            self.draw(&mut state, changed);
        } else if changed {
            let _ = writeln!(io::stdout(), "{id}: {status}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_fill_in_proportion() {
        assert_eq!(bar(0, 100), format!("[>{}]", " ".repeat(39)));
        assert_eq!(
            bar(50, 100),
            format!("[{}>{}]", "=".repeat(20), " ".repeat(19))
        );
        assert_eq!(bar(100, 100), format!("[{}]", "=".repeat(40)));
        assert_eq!(bar(5, 0), format!("[>{}]", " ".repeat(39)));
    }
}
