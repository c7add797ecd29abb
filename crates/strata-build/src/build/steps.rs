//! One stage, step by step: what each instruction does to the stage's state.

use std::time::Instant;

use strata_dockerfile::{parse, Command, Copy as CopyCmd, Heredoc, Instruction, MountKind, Run};
use strata_oci::{ContainerConfig, ImageConfig};

use super::{announce, base_of, Ctx};
use crate::cache;
use crate::error::{Error, ErrorKind, Result};
use crate::executor::{
    CacheEntry, CopyRequest, CopySource, Layer, MountSource, RunMount, RunRequest,
};
use crate::plan::{stage_named, BaseRef};
use crate::progress::Event;
use crate::stage::{StageState, PROXY_ARGS};

/// How many bytes of a failed RUN's output its error shows.
const TAIL_BYTES: usize = 2048;

/// Builds stage `i`. `Ok(None)`-like outcomes do not exist: a stage is built
/// or fails; a stage whose dependency failed fails silently (`Err(None)`).
pub(super) fn run_stage(ctx: &Ctx<'_>, i: usize) -> std::result::Result<StageState, Option<Error>> {
    let stage = &ctx.df.stages[i];
    let total = stage.instructions.len() + 1;
    let id = announce(ctx, i, 1, total, &format!("FROM {}", stage.base));
    let started = Instant::now();
    let mut st = match base_of(ctx, i).clone() {
        BaseRef::Scratch => {
            let image = ImageConfig {
                architecture: ctx.opts.platform.architecture.clone(),
                os: ctx.opts.platform.os.clone(),
                variant: ctx.opts.platform.variant.clone(),
                config: Some(ContainerConfig::default()),
                ..ImageConfig::default()
            };
            let mut st =
                StageState::new(image, Vec::new(), cache::base_key(None, &ctx.opts.platform));
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
            let key = cache::base_key(Some(&base.id), &ctx.opts.platform);
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

fn step(
    ctx: &Ctx<'_>,
    stage: usize,
    st: &mut StageState,
    ins: &Instruction,
    index: usize,
    total: usize,
) -> Result<()> {
    let escape = ctx.df.directives.escape;
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
        Command::Run(run) => run_step(ctx, stage, st, ins, run, id, started),
        Command::Copy(c) => copy_step(ctx, stage, st, ins, c, false, id),
        Command::Add(c) => copy_step(ctx, stage, st, ins, c, true, id),
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
fn history_text(ins: &Instruction) -> String {
    ins.original
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Looks `key` up unless `--no-cache`; on a hit, applies it and says so.
fn cached(
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

fn remember(
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

fn exec_error(ins: &Instruction, what: &str) -> impl FnOnce(crate::executor::ExecError) -> Error {
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

fn run_step(
    ctx: &Ctx<'_>,
    stage: usize,
    st: &mut StageState,
    ins: &Instruction,
    run: &Run,
    id: usize,
    started: Instant,
) -> Result<()> {
    let mut args = st.argv(&run.command);
    let mut mounts = Vec::new();
    if let strata_dockerfile::CommandLine::Shell(cmd) = &run.command {
        match (heredoc_only(cmd, &run.heredocs), args.last_mut()) {
            // `RUN <<EOF` with a `#!` line: the here-document is the program,
            // mounted as a file and run, as BuildKit does.
            (Some(h), _) if h.content.starts_with("#!") => {
                let path = format!("/dev/pipes/{}", h.name);
                mounts.push(RunMount {
                    target: path.clone(),
                    source: MountSource::Bind {
                        source: CopySource::Inline {
                            name: h.name.clone(),
                            content: h.content.clone().into_bytes(),
                        },
                        path: h.name.clone(),
                    },
                    readonly: true,
                });
                args = vec![path];
            }
            // `RUN <<EOF`: the here-document is the script.
            (Some(h), Some(last)) => *last = h.content.clone(),
            // A command reading here-documents: the shell reads them itself.
            (None, Some(last)) if !run.heredocs.is_empty() => {
                let mut script = cmd.clone();
                for h in &run.heredocs {
                    script.push('\n');
                    script.push_str(&h.content);
                    if !h.content.ends_with('\n') && !h.content.is_empty() {
                        script.push('\n');
                    }
                    script.push_str(&h.name);
                }
                *last = script;
            }
            _ => {}
        }
    }
    let mut env = st.run_env();
    env.extend(proxy_env(&ctx.opts.build_args));
    let mut mount_keys = Vec::new();
    for m in &run.mounts {
        let source = match m.kind {
            MountKind::Cache => MountSource::Cache {
                id: m.id.clone().unwrap_or_else(|| m.target.clone()),
            },
            MountKind::Tmpfs => MountSource::Tmpfs,
            MountKind::Bind => {
                let (source, key) = source_of(ctx, stage, st, ins, m.from.as_deref())?;
                mount_keys.push(key);
                MountSource::Bind {
                    source,
                    path: m.source.clone().unwrap_or_else(|| "/".into()),
                }
            }
            _ => {
                return Err(Error::at(
                    ins.span,
                    &ins.original,
                    ErrorKind::Unsupported,
                    "RUN --mount types secret and ssh are not supported yet",
                ))
            }
        };
        mounts.push(RunMount {
            target: st.resolve(&m.target),
            source,
            readonly: m.readonly,
        });
    }
    let req = RunRequest {
        args,
        env,
        cwd: st.workdir(),
        user: st.config().user.clone().unwrap_or_default(),
        network_none: run.network.as_deref() == Some("none"),
        mounts,
    };
    let mut parts = vec!["RUN".to_owned(), format!("{req:?}")];
    parts.extend(mount_keys);
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let key = cache::step_key(&st.key, &parts);
    if cached(ctx, st, ins, &key, id)? {
        return Ok(());
    }
    let mut tail: Vec<u8> = Vec::new();
    let outcome = ctx
        .exec
        .run(&st.layers, &req, &mut |data| {
            ctx.progress.event(Event::Output {
                id,
                data,
                elapsed: started.elapsed(),
            });
            tail.extend_from_slice(data);
            if tail.len() > 2 * TAIL_BYTES {
                tail.drain(..tail.len() - TAIL_BYTES);
            }
        })
        .map_err(exec_error(ins, "running the command"))?;
    if outcome.code != 0 {
        let start = tail.len().saturating_sub(TAIL_BYTES);
        return Err(Error::RunFailed {
            span: ins.span,
            command: history_text(ins),
            code: outcome.code,
            output_tail: String::from_utf8_lossy(&tail[start..]).into_owned(),
        });
    }
    remember(ctx, st, ins, &key, outcome.layer)
}

/// The here-document a shell-form RUN consists of, when it is nothing else
/// (`<<EOF`, `<<-EOF`, `<<"EOF"`).
fn heredoc_only<'r>(cmd: &str, heredocs: &'r [Heredoc]) -> Option<&'r Heredoc> {
    let [h] = heredocs else { return None };
    let word = cmd.trim().strip_prefix("<<")?;
    let word = word.strip_prefix('-').unwrap_or(word);
    (word.trim_matches(['"', '\'']) == h.name).then_some(h)
}

/// The proxy settings a `RUN` sees: each one given as a build arg, in both
/// spellings whichever was given (BuildKit's `ProxyEnv`; of two spellings
/// given, the lowercase one wins).
fn proxy_env(build_args: &std::collections::BTreeMap<String, String>) -> Vec<String> {
    let mut env = Vec::new();
    for upper in PROXY_ARGS
        .iter()
        .filter(|n| n.starts_with(char::is_uppercase))
    {
        let lower = upper.to_ascii_lowercase();
        let given = build_args.get(&lower).or_else(|| build_args.get(*upper));
        if let Some(v) = given {
            env.push(format!("{upper}={v}"));
            env.push(format!("{lower}={v}"));
        }
    }
    env
}

/// Where `--from` points: the context, a stage's layers or an image's; and
/// the part of the cache key that stands for its content.
fn source_of(
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
                format!("stage {word} failed"),
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

fn copy_step(
    ctx: &Ctx<'_>,
    stage: usize,
    st: &mut StageState,
    ins: &Instruction,
    c: &CopyCmd,
    add: bool,
    id: usize,
) -> Result<()> {
    let bad = |msg: String| Error::at(ins.span, &ins.original, ErrorKind::InvalidArgument, msg);
    let chmod = match &c.chmod {
        Some(m) => Some(
            u32::from_str_radix(m, 8)
                .ok()
                .filter(|m| *m <= 0o7777)
                .ok_or_else(|| bad(format!("invalid chmod parameter: {m:?}")))?,
        ),
        None => None,
    };
    let dest = st.resolve(&c.dest);
    let plain: Vec<String> = c
        .sources
        .iter()
        .filter(|s| {
            !c.heredocs.iter().any(|h| {
                s.trim_start_matches("<<")
                    .trim_start_matches('-')
                    .trim_matches(['"', '\''])
                    == h.name
            })
        })
        .cloned()
        .collect();
    if c.sources.len() > 1 && !c.dest.ends_with('/') {
        return Err(bad(format!(
            "when using {} with more than one source file, the destination must be a directory and end with a /",
            if add { "ADD" } else { "COPY" }
        )));
    }
    if add {
        if let Some(url) = plain
            .iter()
            .find(|s| s.contains("://") || s.starts_with("git@"))
        {
            return Err(Error::at(
                ins.span,
                &ins.original,
                ErrorKind::Unsupported,
                format!("ADD {url}: fetching URLs is not supported (this build has no network access to fetch it); download it into the context and ADD the file"),
            ));
        }
    }
    let mut requests = Vec::new();
    let mut key_parts = Vec::new();
    if !plain.is_empty() || c.heredocs.is_empty() {
        let (source, source_key) = source_of(ctx, stage, st, ins, c.from.as_deref())?;
        requests.push(CopyRequest {
            source,
            paths: plain,
            dest: dest.clone(),
            chown: c.chown.clone(),
            chmod,
            extract_archives: add,
            exclude: c.exclude.clone(),
        });
        key_parts.push(source_key);
    }
    for h in &c.heredocs {
        let content = if h.expand {
            let lookup = |n: &str| st.lookup(n);
            expand_heredoc(&h.content, ctx.df.directives.escape, &lookup)?
        } else {
            h.content.clone()
        };
        key_parts.push(format!("heredoc {} {:?}", h.name, content));
        requests.push(CopyRequest {
            source: CopySource::Inline {
                name: h.name.clone(),
                content: content.into_bytes(),
            },
            paths: vec![h.name.clone()],
            dest: dest.clone(),
            chown: c.chown.clone(),
            chmod,
            extract_archives: false,
            exclude: Vec::new(),
        });
    }
    for req in &requests {
        if req.source == CopySource::Context {
            let digest = ctx
                .exec
                .copy_digest(req)
                .map_err(exec_error(ins, "reading the build context"))?;
            key_parts.push(digest.to_string());
        }
        key_parts.push(format!(
            "{:?}",
            (
                &req.paths,
                &req.dest,
                &req.chown,
                req.chmod,
                req.extract_archives,
                &req.exclude
            )
        ));
    }
    let mut parts = vec![if add {
        "ADD".to_owned()
    } else {
        "COPY".to_owned()
    }];
    parts.extend(key_parts);
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let key = cache::step_key(&st.key, &parts);
    if cached(ctx, st, ins, &key, id)? {
        return Ok(());
    }
    // Sources and here-documents of one COPY land in one layer, as BuildKit
    // makes them.
    let layer = ctx
        .exec
        .copy(&st.layers, &requests)
        .map_err(exec_error(ins, "copying"))?;
    remember(ctx, st, ins, &key, layer)
}

/// A here-document's content with variables expanded, line by line (quotes
/// in the text are kept, as a shell here-document keeps them).
fn expand_heredoc(
    content: &str,
    escape: char,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String> {
    let mut out = String::with_capacity(content.len());
    for line in content.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        // Quote characters are protected so that expansion keeps them.
        let protected = body
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\'', "\\'");
        let protected = if escape == '\\' {
            protected
        } else {
            body.to_owned()
        };
        out.push_str(&strata_dockerfile::expand_word(&protected, escape, lookup)?);
        out.push_str(nl);
    }
    Ok(out)
}

#[cfg(test)]
mod proxy_tests {
    use std::collections::BTreeMap;

    use super::proxy_env;

    #[test]
    fn a_proxy_build_arg_reaches_run_in_both_spellings() {
        let args: BTreeMap<String, String> = [
            ("HTTP_PROXY", "http://upper"),
            ("no_proxy", "localhost"),
            ("NO_PROXY", "ignored"),
            ("OTHER", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(
            proxy_env(&args),
            [
                "HTTP_PROXY=http://upper",
                "http_proxy=http://upper",
                "NO_PROXY=localhost",
                "no_proxy=localhost",
            ]
        );
    }
}
