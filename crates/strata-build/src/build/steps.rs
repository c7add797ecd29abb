//! One stage, step by step: what each instruction does to the stage's state
//! (RUN in [`super::run_step`], COPY and ADD in [`super::copy_step`]).

use std::time::Instant;

use strata_dockerfile::{parse, Command, Instruction};
use strata_oci::{ContainerConfig, ImageConfig};

use super::{announce, base_of, Ctx};
use crate::cache;
use crate::error::{Error, ErrorKind, Result};
use crate::executor::{CacheEntry, CopySource, Layer};
use crate::plan::{stage_named, BaseRef};
use crate::progress::Event;
use crate::stage::StageState;

/// Builds stage `i`. `Ok(None)`-like outcomes do not exist: a stage is built
/// or fails; a stage whose dependency failed fails silently (`Err(None)`).
pub(super) fn run_stage(ctx: &Ctx<'_>, i: usize) -> std::result::Result<StageState, Option<Error>> {
    let stage = &ctx.df.stages[i];
    let total = stage.instructions.len() + 1;
    let id = announce(ctx, i, 1, total, &format!("FROM {}", stage.base));
    let started = Instant::now();
    check_platform(ctx, stage).map_err(Some)?;
    let mut st = match base_of(ctx, i).clone() {
        BaseRef::Scratch => {
            let image = ImageConfig {
                architecture: ctx.opts.platform.architecture.clone(),
                os: ctx.opts.platform.os.clone(),
                variant: ctx.opts.platform.variant.clone(),
                config: Some(ContainerConfig::default()),
                ..ImageConfig::default()
            };
            let mut st = StageState::new(
                image,
                Vec::new(),
                cache::base_key(None, &ctx.opts.platform, ctx.opts.source_date_epoch),
            );
            // Scratch has no PATH of its own; BuildKit still sets the default.
            st.image.created = None;
            st
        }
        BaseRef::Stage(j) => {
            let Some(parent) = ctx.stage(j) else {
                return Err(None);
            };
            let mut st = (*parent).clone();
            st.args.clear();
            st.cmd_set = false;
            st
        }
        BaseRef::Image(name) => {
            let base = ctx.exec.base(&name, &ctx.opts.platform).map_err(|source| {
                Some(Error::Executor {
                    span: stage.span,
                    message: format!("base image {name}"),
                    source,
                })
            })?;
            let key = cache::base_key(
                Some(&base.id),
                &ctx.opts.platform,
                ctx.opts.source_date_epoch,
            );
            StageState::new(base.config, base.layers, key)
        }
    };
    ctx.progress.event(Event::Done {
        id,
        elapsed: started.elapsed(),
    });

    // ONBUILD triggers of the base run first, and are not inherited.
    let triggers = st.config().on_build.take().unwrap_or_default();
    for trigger in triggers {
        let parsed = parse(&format!("FROM scratch\n{trigger}\n")).map_err(|e| Some(e.into()))?;
        for ins in parsed.stages.into_iter().flat_map(|s| s.instructions) {
            let mut ins = ins;
            ins.span = stage.span;
            step(ctx, i, &mut st, &ins, 0, total).map_err(Some)?;
        }
    }
    for (n, ins) in stage.instructions.iter().enumerate() {
        step(ctx, i, &mut st, ins, n + 2, total).map_err(Some)?;
    }
    Ok(st)
}

/// `FROM --platform=…` must name the platform being built (often through
/// `$BUILDPLATFORM` or `$TARGETPLATFORM`): there is no emulation here.
fn check_platform(ctx: &Ctx<'_>, stage: &strata_dockerfile::Stage) -> Result<()> {
    let Some(word) = &stage.platform else {
        return Ok(());
    };
    let lookup = |n: &str| ctx.scope.get(n).cloned();
    let value = strata_dockerfile::expand_word(word, ctx.df.directives.escape, &lookup)?;
    let text = format!("FROM --platform={word} {}", stage.base);
    let wanted: strata_oci::Platform = value.parse().map_err(|e| {
        Error::at(
            stage.span,
            &text,
            ErrorKind::InvalidArgument,
            format!("--platform={value}: {e}"),
        )
    })?;
    if ctx.opts.platform.matches(&wanted) || wanted.matches(&ctx.opts.platform) {
        return Ok(());
    }
    Err(Error::at(
        stage.span,
        &text,
        ErrorKind::Unsupported,
        format!(
            "--platform={value}: only {} can be built here (no emulation)",
            ctx.opts.platform
        ),
    ))
}

fn step(
    ctx: &Ctx<'_>,
    stage: usize,
    st: &mut StageState,
    ins: &Instruction,
    index: usize,
    total: usize,
) -> Result<()> {
    let escape = ctx.df.directives.escape;
    // A step reading another stage starts (and is announced) once that stage
    // is built; a failed one is reported where it failed.
    for j in &ctx.plan.stages[stage].deps {
        let named = crate::plan::from_words(&ins.command).into_iter().any(|w| {
            let lookup = |n: &str| st.lookup(n).or_else(|| ctx.scope.get(n).cloned());
            strata_dockerfile::expand_word(w, escape, &lookup)
                .ok()
                .and_then(|w| stage_named(&ctx.df.stages, stage, &w))
                == Some(*j)
        });
        if named {
            let _ = ctx.stage(*j);
        }
    }
    let id = announce(ctx, stage, index, total, &ins.original);
    let started = Instant::now();
    let expanded = {
        let lookup = |n: &str| st.lookup(n);
        ins.expand(escape, &lookup)?
    };
    let bad = |msg: String| Error::at(ins.span, &ins.original, ErrorKind::InvalidArgument, msg);
    let meta = |st: &mut StageState, what: &str| {
        let json = serde_json::to_string(&expanded.command).unwrap_or_default();
        st.key = cache::step_key(&st.key, &[what, &json]);
        let created = st
            .image
            .history
            .as_ref()
            .and_then(|h| h.last())
            .and_then(|h| h.created.clone())
            .unwrap_or_else(|| ctx.opts.created.clone());
        st.history(&created, history_text(ins), true);
    };
    let result = match &expanded.command {
        Command::Env(pairs) => {
            st.set_env(pairs);
            meta(st, "ENV");
            Ok(())
        }
        Command::Label(pairs) => {
            st.set_labels(pairs);
            meta(st, "LABEL");
            Ok(())
        }
        Command::Maintainer(m) => {
            st.image.author = Some(m.clone());
            meta(st, "MAINTAINER");
            Ok(())
        }
        Command::Expose(ports) => {
            st.expose(ports).map_err(bad)?;
            meta(st, "EXPOSE");
            Ok(())
        }
        Command::Cmd(line) => {
            st.set_cmd(line);
            meta(st, "CMD");
            Ok(())
        }
        Command::Entrypoint(line) => {
            st.set_entrypoint(line);
            meta(st, "ENTRYPOINT");
            Ok(())
        }
        Command::Shell(shell) => {
            st.config().shell = Some(shell.clone());
            meta(st, "SHELL");
            Ok(())
        }
        Command::User(user) => {
            st.config().user = Some(user.clone());
            meta(st, "USER");
            Ok(())
        }
        Command::Volume(paths) => {
            st.add_volumes(paths);
            meta(st, "VOLUME");
            Ok(())
        }
        Command::StopSignal(sig) => {
            st.config().stop_signal = Some(sig.clone());
            meta(st, "STOPSIGNAL");
            Ok(())
        }
        Command::Healthcheck(check) => {
            st.set_healthcheck(check);
            meta(st, "HEALTHCHECK");
            Ok(())
        }
        Command::Onbuild(trigger) => {
            let text = trigger.original.clone();
            st.config().on_build.get_or_insert_with(Vec::new).push(text);
            meta(st, "ONBUILD");
            Ok(())
        }
        Command::Arg(decls) => {
            for decl in decls {
                let value = match ctx.opts.build_args.get(&decl.name) {
                    Some(v) => Some(v.clone()),
                    None => match &decl.default {
                        Some(d) => Some(d.clone()),
                        // Declared without a default: a global ARG's value
                        // (or an automatic platform arg) carries into the stage.
                        None => ctx
                            .scope
                            .get(&decl.name)
                            .or_else(|| ctx.automatic.get(&decl.name))
                            .cloned(),
                    },
                };
                st.args.retain(|(k, _)| k != &decl.name);
                st.args.push((decl.name.clone(), value));
            }
            // An ARG changes the key: RUN sees its value in the environment.
            let json = serde_json::to_string(&st.args).unwrap_or_default();
            st.key = cache::step_key(&st.key, &["ARG", &json]);
            Ok(())
        }
        Command::Workdir(dir) => workdir(ctx, st, ins, dir, id),
        Command::Run(run) => super::run_step::run_step(ctx, stage, st, ins, run, id, started),
        Command::Copy(c) => super::copy_step::copy_step(ctx, stage, st, ins, c, false, id),
        Command::Add(c) => super::copy_step::copy_step(ctx, stage, st, ins, c, true, id),
    };
    match &result {
        Ok(()) => ctx.progress.event(Event::Done {
            id,
            elapsed: started.elapsed(),
        }),
        Err(e) => ctx.progress.event(Event::Failed {
            id,
            message: &e.to_string(),
        }),
    }
    result
}

/// The history text of an instruction: as written, one line.
pub(super) fn history_text(ins: &Instruction) -> String {
    ins.original
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Looks `key` up unless `--no-cache`; on a hit, applies it and says so.
pub(super) fn cached(
    ctx: &Ctx<'_>,
    st: &mut StageState,
    ins: &Instruction,
    key: &strata_oci::Digest,
    id: usize,
) -> Result<bool> {
    if ctx.opts.no_cache {
        return Ok(false);
    }
    let hit = ctx.exec.cache_get(key).map_err(|source| Error::Executor {
        span: ins.span,
        message: "reading the build cache".into(),
        source,
    })?;
    let Some(entry) = hit else { return Ok(false) };
    ctx.progress.event(Event::Cached { id });
    apply_entry(st, ins, key, entry);
    Ok(true)
}

fn apply_entry(
    st: &mut StageState,
    ins: &Instruction,
    key: &strata_oci::Digest,
    entry: CacheEntry,
) {
    st.key = key.clone();
    let empty = entry.layer.is_none();
    if let Some(layer) = entry.layer {
        st.push_layer(layer);
    }
    st.history(&entry.created, history_text(ins), empty);
}

pub(super) fn remember(
    ctx: &Ctx<'_>,
    st: &mut StageState,
    ins: &Instruction,
    key: &strata_oci::Digest,
    layer: Option<Layer>,
) -> Result<()> {
    let entry = CacheEntry {
        layer,
        created: ctx.opts.created.clone(),
    };
    ctx.exec
        .cache_put(key, &entry)
        .map_err(|source| Error::Executor {
            span: ins.span,
            message: "writing the build cache".into(),
            source,
        })?;
    apply_entry(st, ins, key, entry);
    Ok(())
}

pub(super) fn exec_error(
    ins: &Instruction,
    what: &str,
) -> impl FnOnce(crate::executor::ExecError) -> Error {
    let span = ins.span;
    let message = what.to_owned();
    move |source| Error::Executor {
        span,
        message,
        source,
    }
}

fn workdir(
    ctx: &Ctx<'_>,
    st: &mut StageState,
    ins: &Instruction,
    dir: &str,
    id: usize,
) -> Result<()> {
    let path = st.resolve(dir);
    let path = crate::stage::clean_path(&path);
    st.config().working_dir = Some(path.clone());
    let user = st.config().user.clone().unwrap_or_default();
    let key = cache::step_key(&st.key, &["WORKDIR", &path, &user]);
    if cached(ctx, st, ins, &key, id)? {
        return Ok(());
    }
    let layer = ctx
        .exec
        .mkdir(&st.layers, &path, &user)
        .map_err(exec_error(ins, &format!("creating {path}")))?;
    remember(ctx, st, ins, &key, layer)
}

/// Where `--from` points: the context, a stage's layers or an image's; and
/// the part of the cache key that stands for its content.
pub(super) fn source_of(
    ctx: &Ctx<'_>,
    here: usize,
    st: &StageState,
    ins: &Instruction,
    from: Option<&str>,
) -> Result<(CopySource, String)> {
    let Some(from) = from else {
        return Ok((CopySource::Context, "context".into()));
    };
    let lookup = |n: &str| st.lookup(n).or_else(|| ctx.scope.get(n).cloned());
    let word = strata_dockerfile::expand_word(from, ctx.df.directives.escape, &lookup)?;
    if let Some(j) = stage_named(&ctx.df.stages, here, &word) {
        let Some(other) = ctx.stage(j) else {
            return Err(Error::at(
                ins.span,
                &ins.original,
                ErrorKind::Internal,
                format!("stage {word} failed or is not part of this build"),
            ));
        };
        let key = chain_text(&other.layers);
        return Ok((CopySource::Layers(other.layers.clone()), key));
    }
    let base = ctx
        .exec
        .base(&word, &ctx.opts.platform)
        .map_err(exec_error(
            ins,
            &format!("--from={word}: no stage or image of that name"),
        ))?;
    let key = chain_text(&base.layers);
    Ok((CopySource::Layers(base.layers), key))
}

fn chain_text(layers: &[Layer]) -> String {
    layers
        .iter()
        .map(|l| l.diff_id.to_string())
        .collect::<Vec<_>>()
        .join(",")
}
