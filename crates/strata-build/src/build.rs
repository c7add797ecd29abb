//! Running a planned build: stages on threads (each waits for the stages it
//! needs), steps in order within a stage, every layer-making step looked up in
//! the cache by its key before it runs.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use strata_dockerfile::Dockerfile;
use strata_oci::{ContainerConfig, Digest, ImageConfig, Platform};

use crate::error::{Error, Result};
use crate::executor::{Executor, Layer};
use crate::plan::{self, BaseRef, Plan};
use crate::progress::{Event, Progress};
use crate::stage::StageState;

mod copy_step;
mod run_step;
mod steps;

/// What to build and how.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// `--target`: the stage to build (the last one when `None`).
    pub target: Option<String>,
    /// `--build-arg`s.
    pub build_args: BTreeMap<String, String>,
    /// `--label`s, added to the image's labels.
    pub labels: BTreeMap<String, String>,
    /// `-t` names.
    pub tags: Vec<String>,
    /// `--no-cache`: run every step.
    pub no_cache: bool,
    /// The platform to build for.
    pub platform: Platform,
    /// The time to record for steps that run now (RFC 3339).
    pub created: String,
    /// `SOURCE_DATE_EPOCH`: layer times are clamped to it, and it keeps the
    /// steps' cache apart from that of unclamped builds.
    pub source_date_epoch: Option<u64>,
    /// The network of every `RUN` without a `--network` of its own.
    pub network: crate::executor::RunNetwork,
}

/// A finished build.
#[derive(Debug, Clone)]
pub struct BuildResult {
    /// The image ID.
    pub image_id: Digest,
    /// Its config.
    pub config: ImageConfig,
    /// Its layers.
    pub layers: Vec<Layer>,
    /// Build args given but never declared.
    pub unused_args: Vec<String>,
}

/// The state shared by the stage threads.
pub(crate) struct Ctx<'a> {
    pub df: &'a Dockerfile,
    pub plan: Plan,
    pub opts: &'a BuildOptions,
    pub exec: &'a dyn Executor,
    pub progress: &'a dyn Progress,
    /// Values of names in `FROM` lines and `--from` words.
    pub scope: BTreeMap<String, String>,
    /// The automatic platform args.
    pub automatic: BTreeMap<String, String>,
    step_ids: AtomicUsize,
    results: Mutex<Vec<Slot>>,
    done: Condvar,
}

#[derive(Clone)]
enum Slot {
    Pending,
    Built(Arc<StageState>),
    /// Failed; the error is reported by the stage that failed.
    Failed,
}

impl Ctx<'_> {
    pub fn next_step_id(&self) -> usize {
        self.step_ids.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Waits for stage `i`; `None` when it failed, or when it is not being
    /// built at all (only an ONBUILD trigger, which the plan cannot see, can
    /// ask for such a stage: it must not wait forever).
    pub fn stage(&self, i: usize) -> Option<Arc<StageState>> {
        if !self.plan.needed.contains(&i) {
            return None;
        }
        let mut results = self.results.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            match &results[i] {
                Slot::Built(s) => return Some(s.clone()),
                Slot::Failed => return None,
                Slot::Pending => {
                    results = self.done.wait(results).unwrap_or_else(|e| e.into_inner());
                }
            }
        }
    }

    fn finish(&self, i: usize, slot: Slot) {
        let mut results = self.results.lock().unwrap_or_else(|e| e.into_inner());
        results[i] = slot;
        self.done.notify_all();
    }
}

/// The `TARGET*`/`BUILD*` args BuildKit defines for every build.
pub fn automatic_args(target: &Platform) -> BTreeMap<String, String> {
    let host = Platform::host();
    let mut m = BTreeMap::new();
    for (prefix, p) in [("TARGET", target), ("BUILD", &host)] {
        let variant = p.variant.clone().unwrap_or_default();
        let full = if variant.is_empty() {
            format!("{}/{}", p.os, p.architecture)
        } else {
            format!("{}/{}/{}", p.os, p.architecture, variant)
        };
        m.insert(format!("{prefix}PLATFORM"), full);
        m.insert(format!("{prefix}OS"), p.os.clone());
        m.insert(format!("{prefix}ARCH"), p.architecture.clone());
        m.insert(format!("{prefix}VARIANT"), variant);
    }
    m
}

/// Builds `df`: plans it, runs the stages the target needs (independent ones at
/// the same time), and commits the target's image through `exec`.
pub fn build(
    df: &Dockerfile,
    opts: &BuildOptions,
    exec: &dyn Executor,
    progress: &dyn Progress,
) -> Result<BuildResult> {
    let automatic = automatic_args(&opts.platform);
    let scope = plan::global_scope(df, &opts.build_args, &automatic)?;
    let plan = plan::plan(df, opts.target.as_deref(), &scope)?;
    let target = plan.target;
    let needed = plan.needed.clone();
    let ctx = Ctx {
        df,
        results: Mutex::new(vec![Slot::Pending; plan.stages.len()]),
        plan,
        opts,
        exec,
        progress,
        scope,
        automatic,
        step_ids: AtomicUsize::new(0),
        done: Condvar::new(),
    };
    let errors: Vec<Error> = std::thread::scope(|s| {
        let handles: Vec<_> = needed
            .iter()
            .map(|&i| {
                let ctx = &ctx;
                s.spawn(move || {
                    let result = steps::run_stage(ctx, i);
                    match result {
                        Ok(state) => {
                            ctx.finish(i, Slot::Built(Arc::new(state)));
                            None
                        }
                        Err(e) => {
                            ctx.finish(i, Slot::Failed);
                            e
                        }
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().unwrap_or_else(|_| Some(panicked())))
            .collect()
    });
    if let Some(e) = errors.into_iter().next() {
        return Err(e);
    }
    let state = ctx
        .stage(target)
        .ok_or_else(|| Error::InvalidOption("the target stage failed".into()))?;
    let mut image = state.image.clone();
    if !opts.labels.is_empty() {
        let config = image.config.get_or_insert_with(ContainerConfig::default);
        let labels = config.labels.get_or_insert_with(BTreeMap::new);
        labels.extend(opts.labels.clone());
    }
    if image.created.is_none() {
        image.created = Some(opts.created.clone());
    }
    let image_id = exec
        .commit(&image, &state.layers, &opts.tags)
        .map_err(|source| Error::Commit {
            message: "committing the image".into(),
            source,
        })?;
    Ok(BuildResult {
        image_id,
        config: image,
        layers: state.layers.clone(),
        unused_args: unused_args(df, opts),
    })
}

fn panicked() -> Error {
    Error::InvalidOption("a build stage panicked".into())
}

fn unused_args(df: &Dockerfile, opts: &BuildOptions) -> Vec<String> {
    let declared = |name: &str| {
        df.global_args.iter().any(|a| a.name == name)
            || df.stages.iter().any(|s| {
                s.instructions.iter().any(|i| match &i.command {
                    strata_dockerfile::Command::Arg(decls) => decls.iter().any(|a| a.name == name),
                    _ => false,
                })
            })
    };
    opts.build_args
        .keys()
        .filter(|k| !declared(k) && !crate::stage::PROXY_ARGS.contains(&k.as_str()))
        .cloned()
        .collect()
}

/// The base of stage `i`, for the planner's users.
pub(crate) fn base_of<'c>(ctx: &'c Ctx<'_>, i: usize) -> &'c BaseRef {
    &ctx.plan.stages[i].base
}

/// Builds the event of a step starting.
pub(crate) fn announce(
    ctx: &Ctx<'_>,
    stage: usize,
    index: usize,
    total: usize,
    text: &str,
) -> usize {
    let id = ctx.next_step_id();
    ctx.progress.event(Event::Step {
        id,
        stage: &ctx.plan.stages[stage].display,
        index,
        total,
        text,
    });
    id
}
#[cfg(test)]
mod tests;
