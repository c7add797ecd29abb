//! The word lexer of BuildKit's `shell` package (`lex.go`): quotes, escapes and
//! `$var` / `${var...}` substitution, producing one word (ProcessWord) and the
//! whitespace-split words (ProcessWords) in one pass.

use super::substitute;

/// How a word is lexed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// The escape character (`\` or `` ` ``).
    pub(crate) escape: char,
    /// Keep quote characters in the result.
    pub(crate) raw_quotes: bool,
    /// Keep escape characters in the result.
    pub(crate) raw_escapes: bool,
    /// Leave references to unset variables as written.
    pub(crate) skip_unset: bool,
}

impl Options {
    /// Docker's expansion: quotes and escapes removed, unset variables empty.
    pub(crate) fn expand(escape: char) -> Options {
        Options {
            escape,
            raw_quotes: false,
            raw_escapes: false,
            skip_unset: false,
        }
    }
}

/// Variable lookup: a name to its value, `None` when unset.
pub(crate) type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Lexes `word`: the processed word and its whitespace-split words, or the reason it
/// is malformed (without the "failed to process" prefix).
pub(crate) fn process(
    word: &str,
    options: Options,
    lookup: Lookup<'_>,
) -> Result<(String, Vec<String>), String> {
    let mut lexer = Lexer {
        chars: word.chars().collect(),
        pos: 0,
        options,
        raw_escapes: options.raw_escapes,
        lookup,
    };
    lexer.stop_on(None, options.raw_escapes)
}

struct Lexer<'a> {
    chars: Vec<char>,
    pos: usize,
    options: Options,
    raw_escapes: bool,
    lookup: Lookup<'a>,
}

/// Word splitting as `wordsStruct`: unquoted whitespace (from the text or from a
/// variable's value) separates words; quoted text and escaped characters never do.
#[derive(Default)]
struct Words {
    word: String,
    words: Vec<String>,
    in_word: bool,
}

impl Words {
    fn add_char(&mut self, c: char) {
        if c.is_whitespace() && self.in_word {
            if !self.word.is_empty() {
                self.words.push(std::mem::take(&mut self.word));
                self.in_word = false;
            }
        } else if !c.is_whitespace() {
            self.add_raw_char(c);
        }
    }

    fn add_raw_char(&mut self, c: char) {
        self.word.push(c);
        self.in_word = true;
    }

    fn add_string(&mut self, s: &str) {
        s.chars().for_each(|c| self.add_char(c));
    }

    fn add_raw_string(&mut self, s: &str) {
        self.word.push_str(s);
        self.in_word = true;
    }

    fn finish(mut self) -> Vec<String> {
        if !self.word.is_empty() {
            self.words.push(self.word);
        }
        self.words
    }
}

const MISSING_BRACE: &str = "syntax error: missing '}'";

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    /// Lexes up to `stop` (consumed) or the end of the input.
    fn stop_on(
        &mut self,
        stop: Option<char>,
        raw_escapes: bool,
    ) -> Result<(String, Vec<String>), String> {
        let saved = self.raw_escapes;
        self.raw_escapes = raw_escapes;
        let result = self.stop_on_inner(stop);
        self.raw_escapes = saved;
        result
    }

    fn stop_on_inner(&mut self, stop: Option<char>) -> Result<(String, Vec<String>), String> {
        let mut result = String::new();
        let mut words = Words::default();
        while let Some(c) = self.peek() {
            if Some(c) == stop {
                self.pos += 1;
                return Ok((result, words.finish()));
            }
            match c {
                '$' => {
                    let value = self.dollar()?;
                    result.push_str(&value);
                    words.add_string(&value);
                }
                '\'' => {
                    let value = self.single_quote()?;
                    result.push_str(&value);
                    words.add_raw_string(&value);
                }
                '"' => {
                    let value = self.double_quote()?;
                    result.push_str(&value);
                    words.add_raw_string(&value);
                }
                _ => {
                    self.pos += 1;
                    let mut c = c;
                    if c == self.options.escape {
                        if self.raw_escapes {
                            words.add_raw_char(c);
                            result.push(c);
                        }
                        match self.next() {
                            Some(escaped) => c = escaped,
                            None => break,
                        }
                        words.add_raw_char(c);
                    } else {
                        words.add_char(c);
                    }
                    result.push(c);
                }
            }
        }
        match stop {
            Some(stop) => Err(format!(
                "unexpected end of statement while looking for matching {stop}"
            )),
            None => Ok((result, words.finish())),
        }
    }

    fn single_quote(&mut self) -> Result<String, String> {
        let mut result = String::new();
        let quote = self.next();
        if self.options.raw_quotes {
            result.extend(quote);
        }
        loop {
            match self.next() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching single-quote"
                            .into(),
                    )
                }
                Some('\'') => {
                    if self.options.raw_quotes {
                        result.push('\'');
                    }
                    return Ok(result);
                }
                Some(c) => result.push(c),
            }
        }
    }

    fn double_quote(&mut self) -> Result<String, String> {
        let mut result = String::new();
        let quote = self.next();
        if self.options.raw_quotes {
            result.extend(quote);
        }
        loop {
            match self.peek() {
                None => {
                    return Err(
                        "unexpected end of statement while looking for matching double-quote"
                            .into(),
                    )
                }
                Some('"') => {
                    self.pos += 1;
                    if self.options.raw_quotes {
                        result.push('"');
                    }
                    return Ok(result);
                }
                Some('$') => result.push_str(&self.dollar()?),
                Some(mut c) => {
                    self.pos += 1;
                    if c == self.options.escape {
                        if self.raw_escapes {
                            result.push(c);
                        }
                        match self.peek() {
                            // An escape at the very end is dropped (and the quote is unterminated).
                            None => continue,
                            Some(next)
                                if next == '"' || next == '$' || next == self.options.escape =>
                            {
                                self.pos += 1;
                                c = next;
                            }
                            // Other escapes stay literal inside double quotes.
                            Some(_) => {}
                        }
                    }
                    result.push(c);
                }
            }
        }
    }

    fn dollar(&mut self) -> Result<String, String> {
        self.pos += 1;
        if self.peek() != Some('{') {
            let name = self.name();
            if name.is_empty() {
                return Ok("$".into());
            }
            return Ok(match (self.lookup)(&name) {
                Some(value) => value,
                None if self.options.skip_unset => format!("${name}"),
                None => String::new(),
            });
        }
        self.pos += 1;
        match self.peek() {
            None => return Err(MISSING_BRACE.into()),
            Some('{' | '}' | ':') => return Err("syntax error: bad substitution".into()),
            Some(_) => {}
        }
        let name = self.name();
        match self.next() {
            // BuildKit says "unsupported modifier" for `${name` at the end; this says what is missing.
            None => Err(MISSING_BRACE.into()),
            Some('}') => Ok(match (self.lookup)(&name) {
                Some(value) => value,
                None if self.options.skip_unset => format!("${{{name}}}"),
                None => String::new(),
            }),
            Some(':') => {
                let modifier = self.next();
                let written = format!(":{}", modifier.map(String::from).unwrap_or_default());
                self.modifier(&name, modifier, &written, true)
            }
            Some(c @ ('+' | '-' | '?' | '#' | '%')) => {
                self.modifier(&name, Some(c), &c.to_string(), false)
            }
            Some('/') => self.replace(&name),
            Some(c) => Err(format!("unsupported modifier ({c}) in substitution")),
        }
    }

    /// `${name<op>word}` and `${name:<op>word}`.
    fn modifier(
        &mut self,
        name: &str,
        op: Option<char>,
        written: &str,
        null_is_unset: bool,
    ) -> Result<String, String> {
        let raw = matches!(op, Some('#' | '%'));
        let word = self.word_to_brace(raw)?;
        let value = (self.lookup)(name);
        if self.options.skip_unset && value.is_none() {
            return Ok(format!("${{{name}{written}{word}}}"));
        }
        let set = value.is_some();
        let value = value.unwrap_or_default();
        let unset = !set || (null_is_unset && value.is_empty());
        match op {
            Some('-') => Ok(if unset { word } else { value }),
            Some('+') => Ok(if unset { String::new() } else { word }),
            Some('?') => {
                if !set || (null_is_unset && value.is_empty()) {
                    let default = if set {
                        "is not allowed to be empty"
                    } else {
                        "is not allowed to be unset"
                    };
                    let message = if word.is_empty() {
                        default
                    } else {
                        word.as_str()
                    };
                    return Err(format!("{name}: {message}"));
                }
                Ok(value)
            }
            Some(op @ ('#' | '%')) => {
                let (greedy, pattern) = match word.strip_prefix(op) {
                    Some(rest) => (true, rest),
                    None => (false, word.as_str()),
                };
                if op == '%' {
                    substitute::trim_suffix(pattern, &value, greedy)
                } else {
                    substitute::trim_prefix(pattern, &value, greedy)
                }
            }
            _ => Err(format!("unsupported modifier ({written}) in substitution")),
        }
    }

    /// `${name/pattern/replacement}` and `${name//pattern/replacement}`.
    fn replace(&mut self, name: &str) -> Result<String, String> {
        let all = self.peek() == Some('/');
        if all {
            self.pos += 1;
        }
        let pattern = match self.stop_on(Some('/'), true) {
            Ok((pattern, _)) => pattern,
            Err(_) if self.peek().is_none() => {
                return Err("syntax error: missing '/' in ${}".into())
            }
            Err(e) => return Err(e),
        };
        let replacement = self.word_to_brace(true)?;
        match (self.lookup)(name) {
            None if self.options.skip_unset => Ok(format!("${{{name}/{pattern}/{replacement}}}")),
            value => substitute::replace(&pattern, &value.unwrap_or_default(), &replacement, all),
        }
    }

    fn word_to_brace(&mut self, raw_escapes: bool) -> Result<String, String> {
        match self.stop_on(Some('}'), raw_escapes) {
            Ok((word, _)) => Ok(word),
            Err(_) if self.peek().is_none() => Err(MISSING_BRACE.into()),
            Err(e) => Err(e),
        }
    }

    /// A variable name: letters, digits and `_`; or all the digits of a positional
    /// parameter; or one special parameter character.
    fn name(&mut self) -> String {
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if name.is_empty() && c.is_numeric() {
                while let Some(d) = self.peek().filter(|d| d.is_numeric()) {
                    self.pos += 1;
                    name.push(d);
                }
                return name;
            }
            if name.is_empty() && matches!(c, '@' | '*' | '#' | '?' | '-' | '$' | '!' | '0') {
                self.pos += 1;
                return c.to_string();
            }
            if !(c.is_alphabetic() || c.is_numeric() || c == '_') {
                break;
            }
            self.pos += 1;
            name.push(c);
        }
        name
    }
}
