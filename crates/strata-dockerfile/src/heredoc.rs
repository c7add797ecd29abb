//! Here-documents (`<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'`) of RUN, COPY and ADD.
//!
//! As BuildKit's `parser_heredoc`: the line is split into words with quotes and escapes
//! kept; every word matching `^(\d*)<<(-?)([^<]*)$` whose rest lexes as one word is a
//! here-document, named by that word with its quotes removed. A quoted name turns
//! expansion of the body off. The bodies follow the instruction line, in order, each
//! up to a line equal to its name (leading tabs ignored for `<<-`).

use crate::ast::Heredoc;
use crate::expand::lexer::{self, Options};
use crate::source::{trim_newline, Lines};

fn no_variables(_: &str) -> Option<String> {
    None
}

/// The lexer of here-document detection: BuildKit always uses `\` here.
fn options(raw_quotes: bool, raw_escapes: bool) -> Options {
    Options {
        escape: '\\',
        raw_quotes,
        raw_escapes,
        skip_unset: true,
    }
}

/// The here-document a word introduces, if any (content empty).
pub(crate) fn parse_word(word: &str) -> Result<Option<Heredoc>, String> {
    let after_fd = word.trim_start_matches(|c: char| c.is_ascii_digit());
    let Some(rest) = after_fd.strip_prefix("<<") else {
        return Ok(None);
    };
    let (chomp, rest) = match rest.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    if rest.is_empty() || rest.contains('<') {
        return Ok(None);
    }
    let (_, words) = lexer::process(rest, options(false, false), &no_variables)?;
    let [name] = words.as_slice() else {
        return Ok(None);
    };
    let (_, raw) = lexer::process(rest, options(true, false), &no_variables)?;
    let [raw] = raw.as_slice() else {
        return Err(format!(
            "internal lexing of heredoc produced inconsistent results: {rest}"
        ));
    };
    let quotes = |s: &str| s.chars().filter(|c| matches!(c, '\'' | '"')).count();
    Ok(Some(Heredoc {
        name: name.clone(),
        content: String::new(),
        chomp,
        expand: quotes(name) == quotes(raw),
    }))
}

/// The here-documents named on an instruction line, in order.
pub(crate) fn in_line(line: &str) -> Result<Vec<Heredoc>, String> {
    // A line that does not lex (an open quote) names no here-document, as in BuildKit.
    let words = lexer::process(line, options(true, true), &no_variables)
        .map(|(_, words)| words)
        .unwrap_or_default();
    let mut heredocs = Vec::new();
    for word in words {
        if let Some(heredoc) = parse_word(&word)? {
            heredocs.push(heredoc);
        }
    }
    Ok(heredocs)
}

/// Reads the bodies of `heredocs` from the lines that follow; `Err` names the first
/// one left unterminated at the end of the file.
pub(crate) fn read_bodies(lines: &mut Lines<'_>, heredocs: &mut [Heredoc]) -> Result<(), String> {
    for heredoc in heredocs.iter_mut() {
        let mut terminated = false;
        while let Some((_, raw)) = lines.next_line() {
            let mut candidate = trim_newline(raw);
            if heredoc.chomp {
                candidate = candidate.trim_start_matches('\t');
            }
            if candidate == heredoc.name {
                terminated = true;
                break;
            }
            heredoc.content.push_str(raw);
        }
        if !terminated {
            return Err(heredoc.name.clone());
        }
        if heredoc.chomp {
            heredoc.content = chomp(&heredoc.content);
        }
    }
    Ok(())
}

/// Strips leading tabs from every line.
fn chomp(content: &str) -> String {
    content
        .split_inclusive('\n')
        .map(|line| line.trim_start_matches('\t'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(line: &str) -> Vec<(String, bool, bool)> {
        in_line(line)
            .unwrap()
            .into_iter()
            .map(|h| (h.name, h.chomp, h.expand))
            .collect()
    }

    #[test]
    fn words_that_start_here_documents() {
        assert_eq!(names("RUN <<EOF"), [("EOF".into(), false, true)]);
        assert_eq!(names("RUN <<-EOF"), [("EOF".into(), true, true)]);
        assert_eq!(names("RUN <<'EOF'"), [("EOF".into(), false, false)]);
        assert_eq!(names("RUN <<\"E\"OF"), [("EOF".into(), false, false)]);
        assert_eq!(
            names("RUN 3<<A cat <<B"),
            [("A".into(), false, true), ("B".into(), false, true)]
        );
    }

    #[test]
    fn words_that_do_not() {
        assert!(names("RUN echo '<<EOF'").is_empty());
        assert!(names("RUN cat <<<EOF").is_empty());
        assert!(names("RUN a << b").is_empty());
        assert!(names("RUN echo \"unterminated <<EOF").is_empty());
    }

    #[test]
    fn bodies_end_at_their_name() {
        let mut lines = Lines::new("\techo a\n\tEOF\nb\nX\nrest\n");
        let mut docs = in_line("RUN <<-EOF cat <<X").unwrap();
        read_bodies(&mut lines, &mut docs).unwrap();
        assert_eq!(docs[0].content, "echo a\n");
        assert_eq!(docs[1].content, "b\n");
        assert_eq!(lines.next_line(), Some((5, "rest\n")));
    }

    #[test]
    fn missing_terminator_is_reported() {
        let mut lines = Lines::new("a\nEOF \n");
        let mut docs = in_line("RUN <<EOF").unwrap();
        assert_eq!(read_bodies(&mut lines, &mut docs), Err("EOF".to_string()));
    }
}
