//! `.dockerignore` files: parsing and matching (Docker's rules).
//!
//! Reading follows BuildKit's `dockerignore.ReadAll` and then moby's
//! `patternmatcher.New`, in that order, because both touch the text:
//!
//! - a UTF-8 byte order mark at the start is dropped;
//! - a line whose first character is `#` is a comment (`  # x` is not: the
//!   check comes before trimming, as in Docker);
//! - the line is trimmed of whitespace and skipped when blank;
//! - a leading `!` marks an exception (whitespace after it is trimmed too);
//!   a `!` alone is an error;
//! - the pattern is cleaned like Go's `filepath.Clean` (`a/./b/../c` → `a/c`,
//!   `foo/` → `foo`, so a trailing `/` does not restrict a pattern to
//!   directories) and a leading `/` is dropped, so `/foo` and `foo` are the
//!   same rule. A pattern that still starts with `../` matches nothing in the
//!   context.
//!
//! Matching is moby's `MatchesOrParentMatches`: a rule matches a path when it
//! matches the whole path or any of its parent directories (so `node_modules`
//! excludes everything under it), and the last rule that matches decides: an
//! exception re-includes, a plain rule excludes. The pattern language is
//! [`crate::pattern`]'s (Go's `filepath.Match`) with `**`:
//!
//! - `**/` matches any number of directories, including none (`**/*.go`
//!   matches `a.go` and `x/y/a.go`); `**` at the end matches anything
//!   (`dir/**` matches everything below `dir`); `**` alone matches everything;
//! - a leading `**` followed only by plain characters matches any string
//!   ending in them (`**file` matches `myfile`), as moby's suffix shortcut
//!   does;
//! - `*.md` matches only at the context root: `*` never crosses a `/`;
//! - a character class whose range runs backwards (`[z-a]`) is refused, as
//!   Docker's regexp compiler refuses it when the build runs.
//!
//! Moby hands the translated pattern to Go's regexp, which gives a few rare
//! constructs a meaning `filepath.Match` does not (`\d` as a digit class, a `^`
//! outside a class as an anchor, a `*` or `?` inside a class). Here they keep
//! their `filepath.Match` meaning: `\d` is `d`, `^` is `^`, `[*]` is `*`.
//!
//! Docker still sends the `Dockerfile` and `.dockerignore` to the builder when
//! they are excluded (it needs them to build; only `COPY`/`ADD` stop seeing
//! them). That is the caller's concern: [`IgnoreRules::is_excluded`] answers
//! for them like for any other path.
//!
//! ```
//! use strata_dockerfile::ignore::IgnoreRules;
//!
//! let rules = IgnoreRules::parse("# docs\n*.md\n!README.md\n**/*.tmp\ntarget/\n")?;
//! assert!(rules.is_excluded("CHANGELOG.md"));
//! assert!(!rules.is_excluded("README.md"));
//! assert!(!rules.is_excluded("docs/guide.md"));
//! assert!(rules.is_excluded("src/cache/x.tmp"));
//! assert!(rules.is_excluded("target/debug/strata"));
//! # Ok::<(), strata_dockerfile::ignore::IgnoreError>(())
//! ```

use std::borrow::Cow;

use crate::pattern::{Class, PatternError, TRAILING_BACKSLASH};

/// A parsed `.dockerignore`: its rules in file order.
///
/// Lines are trimmed, `#` comment lines and blank lines dropped, a leading `!`
/// marks an exception, each pattern is cleaned like Go's `filepath.Clean` with
/// a leading `/` removed (so `/foo` is `foo`), `**` matches any number of
/// directories (including zero), and a trailing `/` is cleaned away as Docker
/// does. See the [module documentation](self) for the exact rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IgnoreRules {
    rules: Vec<Rule>,
}

/// A `.dockerignore` line Docker would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IgnoreError {
    /// The line is a `!` with no pattern after it.
    #[error(".dockerignore line {line}: illegal exclusion pattern \"!\"")]
    BareException {
        /// The 1-based line number in the file.
        line: usize,
    },
    /// The line's pattern is malformed.
    #[error(".dockerignore line {line}: {error}")]
    Pattern {
        /// The 1-based line number in the file.
        line: usize,
        /// What is wrong with the pattern (as cleaned).
        error: PatternError,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    /// The cleaned pattern, without the exception's `!`.
    text: String,
    exception: bool,
    steps: Vec<Step>,
    /// The string the pattern stands for when it has no wildcards at all: a
    /// plain comparison then does the matching.
    literal: Option<String>,
}

/// One element of a compiled pattern. The last three are the translation of
/// moby's regexps: `[^/]*`, `.*` and `(.*/)?`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Literal(char),
    AnyButSlash,
    Class(Class),
    Star,
    Anything,
    AnyDirs,
}

/// Characters after a leading `**` that make moby compile a regexp instead of
/// taking its suffix shortcut.
const REGEXP_TRIGGERS: [char; 5] = ['*', '?', '[', ']', '\\'];
const REVERSED_RANGE: &str = "character class range runs backwards";

impl IgnoreRules {
    /// Parses the text of a `.dockerignore` file, refusing the lines Docker
    /// refuses: a bare `!` and a malformed pattern.
    pub fn parse(text: &str) -> Result<IgnoreRules, IgnoreError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut rules = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line_number = index + 1;
            let Some(pattern) = read_line(line) else {
                continue;
            };
            // What patternmatcher.New does with what ReadAll produced.
            let pattern = pattern.trim();
            if pattern.is_empty() {
                continue;
            }
            let pattern = clean(pattern);
            let (exception, text) = match pattern.strip_prefix('!') {
                Some("") => {
                    return Err(IgnoreError::BareException { line: line_number });
                }
                Some(rest) => (true, rest),
                None => (false, pattern.as_str()),
            };
            let steps = compile(text).map_err(|error| IgnoreError::Pattern {
                line: line_number,
                error,
            })?;
            rules.push(Rule::new(text, exception, steps));
        }
        Ok(IgnoreRules { rules })
    }

    /// True when the file has no rules (only comments and blank lines, or
    /// nothing).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Docker's `MatchesOrParentMatches`: whether `path` is left out of the
    /// build context.
    ///
    /// `path` is relative to the context root and `/`-separated; it is
    /// cleaned first (a leading `/` or `./` is ignored). It is excluded when
    /// the last rule that matches it or one of its parent directories is not
    /// an exception. The context root itself is never excluded.
    pub fn is_excluded(&self, path: &str) -> bool {
        let path = context_relative(path);
        if path.is_empty() || path == "." {
            return false;
        }
        let mut excluded = false;
        for rule in &self.rules {
            // Only a rule that would flip the answer needs to be tried.
            if rule.exception == excluded && rule.matches_or_parent_matches(&path) {
                excluded = !rule.exception;
            }
        }
        excluded
    }

    /// True when an exception could match something below `dir`, so a walker
    /// must still descend into `dir` even though `dir` itself is excluded.
    ///
    /// When this is false and `dir` is excluded, everything below `dir` is
    /// excluded too and the walker may skip it. The answer errs towards true:
    /// it only says that some exception's pattern can still match a path that
    /// starts with `dir/`. Docker's own walker is coarser (it descends into
    /// every excluded directory once any exception has a wildcard).
    pub fn may_include_below(&self, dir: &str) -> bool {
        let dir = context_relative(dir);
        let mut exceptions = self.rules.iter().filter(|rule| rule.exception);
        if dir.is_empty() || dir == "." {
            return exceptions.next().is_some();
        }
        let below = format!("{dir}/");
        exceptions.any(|rule| rule.may_match_below(&below))
    }

    /// The rules' patterns in file order, as cleaned, with exceptions
    /// prefixed by `!` (stable text for cache keys).
    pub fn patterns(&self) -> Vec<String> {
        self.rules
            .iter()
            .map(|rule| {
                if rule.exception {
                    format!("!{}", rule.text)
                } else {
                    rule.text.clone()
                }
            })
            .collect()
    }
}

impl Rule {
    fn new(text: &str, exception: bool, steps: Vec<Step>) -> Rule {
        let literal = steps
            .iter()
            .map(|step| match step {
                Step::Literal(c) => Some(*c),
                _ => None,
            })
            .collect();
        Rule {
            text: text.to_owned(),
            exception,
            steps,
            literal,
        }
    }

    /// Whether the rule matches `path` or one of its parents, in one pass:
    /// each parent is a prefix of `path` that ends before a `/`.
    fn matches_or_parent_matches(&self, path: &str) -> bool {
        if let Some(literal) = &self.literal {
            return path
                .strip_prefix(literal.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'));
        }
        let mut states = States::start(&self.steps);
        let mut next = States::new(self.steps.len());
        for c in path.chars() {
            if c == '/' && states.accepts() {
                return true;
            }
            states.advance(&self.steps, c, &mut next);
            std::mem::swap(&mut states, &mut next);
            if states.is_dead() {
                return false;
            }
        }
        states.accepts()
    }

    /// Whether some path starting with `prefix` could still match.
    fn may_match_below(&self, prefix: &str) -> bool {
        let mut states = States::start(&self.steps);
        let mut next = States::new(self.steps.len());
        for c in prefix.chars() {
            states.advance(&self.steps, c, &mut next);
            std::mem::swap(&mut states, &mut next);
            if states.is_dead() {
                return false;
            }
        }
        true
    }
}

/// The set of places a compiled pattern can be at while it reads a path (a
/// Thompson simulation, so matching is linear in the path's length).
///
/// `at[i]` is "about to match step `i`" (`at[len]` is "matched"); `inside[i]`
/// is "part way through the `(.*/)?` of step `i`", where stopping is not
/// allowed until the next `/`.
struct States {
    at: Vec<bool>,
    inside: Vec<bool>,
}

impl States {
    fn new(len: usize) -> States {
        States {
            at: vec![false; len + 1],
            inside: vec![false; len],
        }
    }

    fn start(steps: &[Step]) -> States {
        let mut states = States::new(steps.len());
        states.enter(steps, 0);
        states
    }

    /// Marks step `index` reached, and the steps after it that the ones
    /// which can match nothing let through.
    fn enter(&mut self, steps: &[Step], mut index: usize) {
        while let Some(reached) = self.at.get_mut(index) {
            if *reached {
                return;
            }
            *reached = true;
            match steps.get(index) {
                Some(Step::Star | Step::Anything | Step::AnyDirs) => index += 1,
                _ => return,
            }
        }
    }

    /// Fills `next` with where reading `c` leads from here.
    fn advance(&self, steps: &[Step], c: char, next: &mut States) {
        next.at.fill(false);
        next.inside.fill(false);
        for (index, step) in steps.iter().enumerate() {
            let at = self.at.get(index).copied().unwrap_or(false);
            let inside = self.inside.get(index).copied().unwrap_or(false);
            if inside || (at && matches!(step, Step::AnyDirs)) {
                if let Some(slot) = next.inside.get_mut(index) {
                    *slot = true;
                }
                if c == '/' {
                    next.enter(steps, index + 1);
                }
                continue;
            }
            if !at {
                continue;
            }
            match step {
                Step::Literal(literal) if c == *literal => next.enter(steps, index + 1),
                Step::AnyButSlash if c != '/' => next.enter(steps, index + 1),
                Step::Class(class) if class.contains(c) => next.enter(steps, index + 1),
                Step::Star if c != '/' => next.enter(steps, index),
                Step::Anything => next.enter(steps, index),
                _ => {}
            }
        }
    }

    fn accepts(&self) -> bool {
        self.at.last().copied().unwrap_or(false)
    }

    fn is_dead(&self) -> bool {
        !self.at.contains(&true) && !self.inside.contains(&true)
    }
}

/// BuildKit's per-line reading: `None` for comments and blank lines, else the
/// pattern with `!` kept in front of an exception.
fn read_line(line: &str) -> Option<String> {
    if line.starts_with('#') {
        return None;
    }
    let pattern = line.trim();
    if pattern.is_empty() {
        return None;
    }
    let (exception, pattern) = match pattern.strip_prefix('!') {
        Some(rest) => (true, rest.trim()),
        None => (false, pattern),
    };
    let mut cleaned = String::new();
    if !pattern.is_empty() {
        cleaned = clean(pattern);
        if cleaned.len() > 1 {
            if let Some(relative) = cleaned.strip_prefix('/') {
                cleaned = relative.to_owned();
            }
        }
    }
    Some(if exception {
        format!("!{cleaned}")
    } else {
        cleaned
    })
}

/// Compiles a cleaned pattern the way moby's `Pattern.compile` translates it
/// to a regexp, with `filepath.Match`'s syntax checks.
fn compile(text: &str) -> Result<Vec<Step>, PatternError> {
    let error = |reason| PatternError::new(text, reason);
    let mut steps = Vec::new();
    let mut chars = text.chars();
    let mut first = true;
    while let Some(c) = chars.next() {
        let step = match c {
            '*' if chars.clone().next() == Some('*') => {
                chars.next();
                let slash = chars.clone().next() == Some('/');
                if slash {
                    chars.next();
                }
                let rest = chars.as_str();
                if rest.is_empty() || (first && !slash && !rest.contains(REGEXP_TRIGGERS)) {
                    Step::Anything
                } else {
                    Step::AnyDirs
                }
            }
            '*' => Step::Star,
            '?' => Step::AnyButSlash,
            '[' => {
                let class = Class::parse(&mut chars).map_err(error)?;
                if class.has_reversed_range() {
                    return Err(error(REVERSED_RANGE));
                }
                Step::Class(class)
            }
            '\\' => Step::Literal(chars.next().ok_or_else(|| error(TRAILING_BACKSLASH))?),
            c => Step::Literal(c),
        };
        steps.push(step);
        first = false;
    }
    Ok(steps)
}

/// `path` cleaned and without a leading `/`; borrowed when already so.
fn context_relative(path: &str) -> Cow<'_, str> {
    let is_clean = !path.is_empty()
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
    if is_clean {
        return Cow::Borrowed(path);
    }
    let cleaned = clean(path);
    match cleaned.strip_prefix('/') {
        Some(relative) => Cow::Owned(relative.to_owned()),
        None => Cow::Owned(cleaned),
    }
}

/// Go's `path.Clean`: the shortest path naming the same file by pure lexical
/// processing (`.` and empty elements dropped, `x/..` folded, `..` at the
/// root of a rooted path dropped, `.` for nothing).
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            part => parts.push(part),
        }
    }
    let joined = parts.join("/");
    if rooted {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".to_owned()
    } else {
        joined
    }
}

#[cfg(test)]
mod tests;
