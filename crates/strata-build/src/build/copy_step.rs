//! `COPY` and `ADD`: sources, here-documents and flags resolved into copy
//! requests, their cache key (with the content digest of what they read from
//! the context), and the one layer they make.

use strata_dockerfile::{Copy as CopyCmd, Instruction};

use super::steps::{cached, exec_error, remember, source_of};
use super::Ctx;
use crate::cache;
use crate::error::{Error, ErrorKind, Result};
use crate::executor::{CopyRequest, CopySource};
use crate::stage::StageState;

pub(super) fn copy_step(
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
