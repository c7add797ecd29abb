//! `RUN`: the command line (here-documents included), its environment and
//! mounts, its cache key, and the run itself through the executor.

use std::time::Instant;

use strata_dockerfile::{CommandLine, Heredoc, Instruction, MountKind, Run};

use super::steps::{cached, exec_error, history_text, remember, source_of};
use super::Ctx;
use crate::cache;
use crate::error::{Error, ErrorKind, Result};
use crate::executor::{CopySource, MountSource, RunMount, RunNetwork, RunRequest};
use crate::progress::Event;
use crate::stage::{StageState, PROXY_ARGS};

/// How many bytes of a failed RUN's output its error shows.
const TAIL_BYTES: usize = 2048;

pub(super) fn run_step(
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
    if let CommandLine::Shell(cmd) = &run.command {
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
        network: run
            .network
            .as_deref()
            .and_then(RunNetwork::parse)
            .unwrap_or(ctx.opts.network),
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
