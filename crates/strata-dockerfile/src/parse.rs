//! The whole file: directives, then logical lines to instructions grouped into stages.

use crate::ast::{Command, Dockerfile, Heredoc, Instruction, Stage};
use crate::error::{Error, Span};
use crate::instructions::{self, Parsed};
use crate::source::{Lines, Logical};
use crate::{directives, heredoc};

/// Parses a whole Dockerfile.
///
/// ```
/// let df = strata_dockerfile::parse("FROM alpine AS base\nRUN echo hi\n").unwrap();
/// assert_eq!(df.stages[0].name.as_deref(), Some("base"));
/// assert_eq!(df.stages[0].instructions[0].original, "RUN echo hi");
/// ```
pub fn parse(text: &str) -> Result<Dockerfile, Error> {
    let mut lines = Lines::new(text);
    let directives = directives::parse(lines.all())?;
    let escape = directives.escape;
    let mut global_args = Vec::new();
    let mut stages: Vec<Stage> = Vec::new();
    let mut any = false;
    while let Some(line) = lines.next_logical(escape) {
        any = true;
        let (mut instruction, heredocs) = match instructions::parse(&line, 0, escape)? {
            Parsed::From(from) => {
                if let Some(name) = &from.name {
                    if stages.iter().any(|s| s.name.as_ref() == Some(name)) {
                        return Err(Error::new(
                            from.span,
                            format!("duplicate stage name {name:?}"),
                            line.text.trim(),
                        ));
                    }
                }
                stages.push(Stage {
                    index: stages.len(),
                    name: from.name,
                    base: from.base,
                    platform: from.platform,
                    span: from.span,
                    instructions: Vec::new(),
                });
                continue;
            }
            Parsed::Instruction {
                instruction,
                heredocs,
            } => (instruction, heredocs),
        };
        if heredocs && line.text.contains("<<") {
            attach_heredocs(&line, &mut lines, &mut instruction)?;
        }
        match stages.last_mut() {
            Some(stage) => stage.instructions.push(instruction),
            None => match instruction.command {
                Command::Arg(args) => global_args.extend(args),
                _ => {
                    return Err(Error::new(
                        instruction.span,
                        "no build stage in current context",
                        instruction.original,
                    ))
                }
            },
        }
    }
    if !any {
        return Err(Error::new(
            Span::new(lines.current().max(1), 1),
            "file with no instructions",
            "",
        ));
    }
    if stages.is_empty() {
        return Err(Error::new(
            Span::new(1, 1),
            "dockerfile contains no stages to build",
            "",
        ));
    }
    Ok(Dockerfile {
        directives,
        global_args,
        stages,
    })
}

/// Finds the here-documents named on `line`, reads their bodies from the following
/// lines and attaches them to the instruction (or its ONBUILD trigger).
fn attach_heredocs(
    line: &Logical,
    lines: &mut Lines<'_>,
    instruction: &mut Instruction,
) -> Result<(), Error> {
    let error = |message: String| Error::new(instruction.span, message, line.text.trim());
    let mut found = heredoc::in_line(&line.text).map_err(error)?;
    if found.is_empty() {
        return Ok(());
    }
    heredoc::read_bodies(lines, &mut found)
        .map_err(|name| error(format!("unterminated heredoc {name:?}")))?;
    if let Some(target) = heredocs_of(&mut instruction.command) {
        *target = found;
    }
    Ok(())
}

fn heredocs_of(command: &mut Command) -> Option<&mut Vec<Heredoc>> {
    match command {
        Command::Run(run) => Some(&mut run.heredocs),
        Command::Add(copy) | Command::Copy(copy) => Some(&mut copy.heredocs),
        Command::Onbuild(trigger) => heredocs_of(&mut trigger.command),
        _ => None,
    }
}
