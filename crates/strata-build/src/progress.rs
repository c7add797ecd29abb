//! What a build reports as it goes; the CLI renders it (plain lines or a live view).

use std::time::Duration;

/// One thing that happened.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A step starts: `id` numbers it for the lines that follow.
    Step {
        /// The step's number.
        id: usize,
        /// `[stage 2/5]`-style position: the stage's display name.
        stage: &'a str,
        /// The step's place in its stage (1-based).
        index: usize,
        /// The stage's step count.
        total: usize,
        /// The instruction as written.
        text: &'a str,
    },
    /// The step's result came from the cache.
    Cached {
        /// The step's number.
        id: usize,
    },
    /// Output of a running step.
    Output {
        /// The step's number.
        id: usize,
        /// What it printed.
        data: &'a [u8],
        /// Since the step started.
        elapsed: Duration,
    },
    /// The step finished.
    Done {
        /// The step's number.
        id: usize,
        /// How long it took.
        elapsed: Duration,
    },
    /// The step failed.
    Failed {
        /// The step's number.
        id: usize,
        /// Why, in one line.
        message: &'a str,
    },
    /// A warning for the user.
    Warning(&'a str),
}

/// Where events go. Shared by the threads of parallel stages.
pub trait Progress: Sync {
    /// Reports one event.
    fn event(&self, event: Event<'_>);
}

/// Discards every event.
#[derive(Debug, Default)]
pub struct Silent;

impl Progress for Silent {
    fn event(&self, _: Event<'_>) {}
}
