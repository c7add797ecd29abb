//! Splitting an instruction line into keyword, flags and arguments, the way BuildKit's
//! `split_command.go` and `line_parsers.go` do. Every word keeps the byte offset where
//! it starts in the logical line, for error spans.

/// A word of the line and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Word {
    pub(crate) text: String,
    pub(crate) offset: usize,
}

/// An instruction line split into its parts.
#[derive(Debug)]
pub(crate) struct Split<'a> {
    /// The keyword as written.
    pub(crate) keyword: &'a str,
    /// Its offset.
    pub(crate) keyword_offset: usize,
    /// `--name[=value]` words before the arguments, quotes and `\` escapes removed.
    pub(crate) flags: Vec<Word>,
    /// The arguments, trimmed.
    pub(crate) rest: &'a str,
    /// Their offset.
    pub(crate) rest_offset: usize,
}

/// Blanks that separate words (`[\t\v\f\r ]`).
pub(crate) fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\x0b' | '\x0c' | '\r')
}

/// Splits `text[start..]` into keyword, flags and the rest.
pub(crate) fn split_command(text: &str, start: usize) -> Split<'_> {
    let s = &text[start..];
    let trimmed = s.trim();
    let base = start + (s.len() - s.trim_start().len());
    let keyword_len = trimmed.find(is_blank).unwrap_or(trimmed.len());
    let keyword = &trimmed[..keyword_len];
    let args = trimmed[keyword_len..].trim_start_matches(is_blank);
    let args_offset = base + (trimmed.len() - args.len());
    let (flags, consumed) = extract_flags(args, args_offset);
    let after = &args[consumed..];
    let rest = after.trim();
    let rest_offset = args_offset + consumed + (after.len() - after.trim_start().len());
    Split {
        keyword,
        keyword_offset: base,
        flags,
        rest,
        rest_offset,
    }
}

/// Reads `--flag` words from the start of `line`; returns them and how many bytes they
/// took. A `--` word ends the flags and is dropped.
fn extract_flags(line: &str, offset: usize) -> (Vec<Word>, usize) {
    #[derive(PartialEq)]
    enum Phase {
        Spaces,
        Word,
        Quote(char),
    }
    let mut words = Vec::new();
    let mut phase = Phase::Spaces;
    let mut word = String::new();
    let mut word_start = 0;
    let mut blank_ok = false;
    let mut chars = line.char_indices();
    while let Some((pos, c)) = chars.next() {
        match phase {
            Phase::Spaces => {
                if c.is_whitespace() {
                    continue;
                }
                if !line[pos..].starts_with("--") {
                    return (words, pos);
                }
                phase = Phase::Word;
                word_start = pos;
                word.push(c);
            }
            Phase::Word => {
                if c.is_whitespace() {
                    phase = Phase::Spaces;
                    if word == "--" {
                        return (words, pos);
                    }
                    if blank_ok || !word.is_empty() {
                        words.push(Word {
                            text: std::mem::take(&mut word),
                            offset: offset + word_start,
                        });
                    }
                    word.clear();
                    blank_ok = false;
                } else if c == '\'' || c == '"' {
                    phase = Phase::Quote(c);
                    blank_ok = true;
                } else if c == '\\' {
                    // A `\` escapes the next character; one at the very end is dropped.
                    if let Some((_, next)) = chars.next() {
                        word.push(next);
                    }
                } else {
                    word.push(c);
                }
            }
            Phase::Quote(quote) => {
                if c == quote {
                    phase = Phase::Word;
                } else if c == '\\' {
                    match chars.next() {
                        Some((_, next)) => word.push(next),
                        None => phase = Phase::Word,
                    }
                } else {
                    word.push(c);
                }
            }
        }
    }
    if phase != Phase::Spaces && word != "--" && (blank_ok || !word.is_empty()) {
        words.push(Word {
            text: word,
            offset: offset + word_start,
        });
    }
    (words, line.len())
}

/// Whitespace-separated words (`parseStringsWhitespaceDelimited`).
pub(crate) fn split_blanks(rest: &str, offset: usize) -> Vec<Word> {
    let mut words = Vec::new();
    let mut start: Option<usize> = None;
    for (i, c) in rest
        .char_indices()
        .chain(std::iter::once((rest.len(), ' ')))
    {
        match (is_blank(c), start) {
            (true, Some(s)) => {
                words.push(Word {
                    text: rest[s..i].to_string(),
                    offset: offset + s,
                });
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    words
}

/// Words that keep their quotes and escapes (`parseWords`), for ENV, LABEL and ARG:
/// whitespace inside quotes or after the escape character does not split.
pub(crate) fn parse_words(rest: &str, offset: usize, escape: char) -> Vec<Word> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut start = 0;
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut blank_ok = false;
    let mut chars = rest.char_indices();
    while let Some((pos, c)) = chars.next() {
        if !in_word {
            if c.is_whitespace() {
                continue;
            }
            in_word = true;
            start = pos;
        }
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
            let mut c = c;
            // The escape character is special except inside single quotes.
            if c == escape && q != '\'' {
                match chars.next() {
                    Some((_, next)) => {
                        word.push(c);
                        c = next;
                    }
                    None => {
                        quote = None;
                        continue;
                    }
                }
            }
            word.push(c);
            continue;
        }
        if c.is_whitespace() {
            if blank_ok || !word.is_empty() {
                words.push(Word {
                    text: std::mem::take(&mut word),
                    offset: offset + start,
                });
            }
            in_word = false;
            blank_ok = false;
            continue;
        }
        if c == '\'' || c == '"' {
            quote = Some(c);
            blank_ok = true;
        }
        let mut c = c;
        if c == escape {
            match chars.next() {
                // Outside quotes an escape is kept with the character it escapes.
                Some((_, next)) => {
                    word.push(c);
                    c = next;
                }
                None => continue,
            }
        }
        word.push(c);
    }
    if in_word && (blank_ok || !word.is_empty()) {
        words.push(Word {
            text: word,
            offset: offset + start,
        });
    }
    words
}

/// What a `[...]` argument turned out to be.
#[derive(Debug, PartialEq)]
pub(crate) enum Json {
    /// Not a JSON array: the shell form.
    No,
    /// A JSON array of strings.
    Strings(Vec<String>),
    /// A JSON array with something else than strings in it: an error.
    NotStrings,
}

/// `parseJSON`: a JSON array of strings, anything else is not JSON.
pub(crate) fn parse_json(rest: &str) -> Json {
    let rest = rest.trim_start();
    if !rest.starts_with('[') {
        return Json::No;
    }
    match serde_json::from_str::<Vec<serde_json::Value>>(rest) {
        Err(_) => Json::No,
        Ok(values) => {
            let strings: Option<Vec<String>> = values
                .into_iter()
                .map(|v| match v {
                    serde_json::Value::String(s) => Some(s),
                    _ => None,
                })
                .collect();
            strings.map_or(Json::NotStrings, Json::Strings)
        }
    }
}

/// The message of [`Json::NotStrings`].
pub(crate) const NOT_STRING_ARRAY: &str =
    "when using JSON array syntax, arrays must be comprised of strings only";

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(words: &[Word]) -> Vec<&str> {
        words.iter().map(|w| w.text.as_str()).collect()
    }

    #[test]
    fn split_command_separates_flags() {
        let s = split_command("COPY --from=build --chown=\"a b\" -- src dst ", 0);
        assert_eq!(s.keyword, "COPY");
        assert_eq!(texts(&s.flags), ["--from=build", "--chown=a b"]);
        assert_eq!(s.flags[1].offset, 18);
        assert_eq!(s.rest, "src dst");
        assert_eq!(s.rest_offset, 35);
    }

    #[test]
    fn flags_stop_at_first_plain_word() {
        let s = split_command("RUN echo --help", 0);
        assert!(s.flags.is_empty());
        assert_eq!(s.rest, "echo --help");
        let s = split_command("RUN --network=none", 0);
        assert_eq!(texts(&s.flags), ["--network=none"]);
        assert_eq!(s.rest, "");
    }

    #[test]
    fn parse_words_keeps_quotes_and_escapes() {
        let w = parse_words(r#"a="x y" b=c\ d 'e f'"#, 0, '\\');
        assert_eq!(texts(&w), [r#"a="x y""#, r"b=c\ d", "'e f'"]);
        assert_eq!(w[1].offset, 8);
        let w = parse_words("a=`\"b c`\"", 0, '`');
        assert_eq!(texts(&w), ["a=`\"b", "c`\""]);
    }

    #[test]
    fn json_or_not() {
        assert_eq!(
            parse_json(r#" ["a", "b c"] "#),
            Json::Strings(vec!["a".into(), "b c".into()])
        );
        assert_eq!(parse_json("[a"), Json::No);
        assert_eq!(parse_json("echo [a]"), Json::No);
        assert_eq!(parse_json("[1]"), Json::NotStrings);
    }

    #[test]
    fn split_blanks_tracks_offsets() {
        let w = split_blanks("80  443/tcp", 7);
        assert_eq!(texts(&w), ["80", "443/tcp"]);
        assert_eq!(w[1].offset, 11);
    }
}
