//! Planning (pure): the stages of a Dockerfile as a graph, the target, and the
//! stages it needs.
//!
//! A stage depends on another when it is built `FROM` it, copies `--from` it or
//! mounts `from` it. Only the target's dependencies are built (BuildKit's
//! semantics: an unused stage is skipped, even if it would fail), and stages
//! that do not depend on each other may run at the same time.

use std::collections::BTreeMap;

use strata_dockerfile::{expand_word, Command, Dockerfile, Stage};

use crate::error::{Error, ErrorKind, Result};

/// What a stage starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseRef {
    /// `FROM scratch`: nothing.
    Scratch,
    /// An earlier stage, by index.
    Stage(usize),
    /// An image, by its (expanded) name.
    Image(String),
}

/// One stage, placed in the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStage {
    /// Its index in the Dockerfile.
    pub index: usize,
    /// Its name for progress lines: the `AS` name or `stage-N`.
    pub display: String,
    /// What it starts from.
    pub base: BaseRef,
    /// The stages it needs first (its base and its `--from`s), without repeats.
    pub deps: Vec<usize>,
}

/// The stages to build, in Dockerfile order, and the one that is the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Every stage of the Dockerfile.
    pub stages: Vec<PlannedStage>,
    /// The target stage's index.
    pub target: usize,
    /// The indexes of the stages the target needs (itself included), in order.
    pub needed: Vec<usize>,
}

/// The value a name has in `FROM` lines: build args override global `ARG`
/// defaults; the automatic platform args are there too.
pub fn global_scope(
    df: &Dockerfile,
    build_args: &BTreeMap<String, String>,
    automatic: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>> {
    let mut scope = automatic.clone();
    for arg in &df.global_args {
        let value = match build_args.get(&arg.name) {
            Some(v) => Some(v.clone()),
            None => match &arg.default {
                Some(d) => Some(expand_word(d, df.directives.escape, &|n| {
                    scope.get(n).cloned()
                })?),
                None => None,
            },
        };
        match value {
            Some(v) => scope.insert(arg.name.clone(), v),
            // `ARG TARGETARCH` declares an automatic arg: it keeps its value.
            None if automatic.contains_key(&arg.name) => None,
            None => scope.remove(&arg.name),
        };
    }
    Ok(scope)
}

/// Finds the stage a `--from` or `FROM` word names among `stages[..before]`:
/// a name (case-insensitive) or an index.
pub fn stage_named(stages: &[Stage], before: usize, word: &str) -> Option<usize> {
    let lower = word.to_ascii_lowercase();
    if let Some(i) = stages[..before.min(stages.len())]
        .iter()
        .position(|s| s.name.as_deref() == Some(lower.as_str()))
    {
        return Some(i);
    }
    match word.parse::<usize>() {
        Ok(i) if i < before => Some(i),
        _ => None,
    }
}

/// Plans `df` for `target` (the last stage when `None`).
pub fn plan(
    df: &Dockerfile,
    target: Option<&str>,
    scope: &BTreeMap<String, String>,
) -> Result<Plan> {
    let escape = df.directives.escape;
    let lookup = |n: &str| scope.get(n).cloned();
    let mut stages = Vec::with_capacity(df.stages.len());
    for (i, stage) in df.stages.iter().enumerate() {
        let base_name = expand_word(&stage.base, escape, &lookup)?;
        if base_name.is_empty() {
            return Err(Error::at(
                stage.span,
                &stage.base,
                ErrorKind::InvalidArgument,
                format!("base name ({}) should not be blank", stage.base),
            ));
        }
        let base = if base_name.eq_ignore_ascii_case("scratch") {
            BaseRef::Scratch
        } else if let Some(j) = stage_named(&df.stages, i, &base_name).filter(|_| {
            // An index is not a stage reference in FROM; only names are.
            base_name.parse::<usize>().is_err()
        }) {
            BaseRef::Stage(j)
        } else {
            BaseRef::Image(base_name)
        };
        let mut deps = Vec::new();
        if let BaseRef::Stage(j) = base {
            deps.push(j);
        }
        for ins in &stage.instructions {
            for from in from_words(&ins.command) {
                let word = expand_word(from, escape, &lookup)?;
                if let Some(j) = stage_named(&df.stages, i, &word) {
                    if !deps.contains(&j) {
                        deps.push(j);
                    }
                } else if df
                    .stages
                    .iter()
                    .any(|s| s.name.as_deref() == Some(word.to_ascii_lowercase().as_str()))
                {
                    return Err(Error::at(
                        ins.span,
                        &ins.original,
                        ErrorKind::InvalidArgument,
                        format!("stage {word:?} is used before it is defined"),
                    ));
                }
            }
        }
        stages.push(PlannedStage {
            index: i,
            display: stage.name.clone().unwrap_or_else(|| format!("stage-{i}")),
            base,
            deps,
        });
    }
    let target = match target {
        None => stages
            .len()
            .checked_sub(1)
            .ok_or_else(|| Error::InvalidOption("the Dockerfile has no build stage".into()))?,
        Some(t) => stage_named(&df.stages, df.stages.len(), t)
            .filter(|_| t.parse::<usize>().is_err())
            .ok_or_else(|| {
                Error::InvalidOption(format!("target stage {t:?} could not be found"))
            })?,
    };
    let mut needed = vec![false; stages.len()];
    let mut todo = vec![target];
    while let Some(i) = todo.pop() {
        if !needed[i] {
            needed[i] = true;
            todo.extend(stages[i].deps.iter().copied());
        }
    }
    let needed = (0..stages.len()).filter(|&i| needed[i]).collect();
    Ok(Plan {
        stages,
        target,
        needed,
    })
}

/// The `--from` words of an instruction (COPY/ADD `--from`, RUN `--mount from=`).
pub fn from_words(command: &Command) -> Vec<&str> {
    match command {
        Command::Copy(c) | Command::Add(c) => c.from.as_deref().into_iter().collect(),
        Command::Run(r) => r.mounts.iter().filter_map(|m| m.from.as_deref()).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
