//! Instruction flags (`--name=value`), checked against what each instruction accepts,
//! as BuildKit's `BFlags`.

use crate::words::Word;

/// The type of a flag.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Kind {
    /// `--link`, `--link=true|false`.
    Bool,
    /// `--from=x`, given at most once.
    String,
    /// `--mount=x`, repeatable.
    Strings,
}

/// The flags of one instruction, after checking.
#[derive(Debug, Default)]
pub(crate) struct Flags {
    values: Vec<(&'static str, Value)>,
}

#[derive(Debug)]
enum Value {
    Bool(bool),
    String(String),
    Strings(Vec<String>),
}

impl Flags {
    /// A string flag's value, if given.
    pub(crate) fn string(&self, name: &str) -> Option<String> {
        self.values.iter().find_map(|(n, v)| match v {
            Value::String(s) if *n == name => Some(s.clone()),
            _ => None,
        })
    }

    /// A bool flag's value (false when not given).
    pub(crate) fn bool(&self, name: &str) -> bool {
        self.values
            .iter()
            .any(|(n, v)| *n == name && matches!(v, Value::Bool(true)))
    }

    /// A repeatable flag's values, in order.
    pub(crate) fn strings(&self, name: &str) -> Vec<String> {
        self.values
            .iter()
            .find_map(|(n, v)| match v {
                Value::Strings(s) if *n == name => Some(s.clone()),
                _ => None,
            })
            .unwrap_or_default()
    }
}

/// A flag error: the offset of the offending flag and the message.
pub(crate) type FlagError = (usize, String);

/// Checks `words` against `spec` (name and kind of each accepted flag).
pub(crate) fn parse(words: &[Word], spec: &[(&'static str, Kind)]) -> Result<Flags, FlagError> {
    let mut flags = Flags::default();
    for word in words {
        let fail = |message: String| Err((word.offset, message));
        let Some(arg) = word.text.strip_prefix("--") else {
            return fail(format!("arg should start with -- : {}", word.text));
        };
        if arg.is_empty() {
            break;
        }
        let (name, value) = match arg.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (arg, None),
        };
        let Some(&(name, kind)) = spec.iter().find(|(n, _)| *n == name) else {
            return fail(format!("unknown flag: {name}"));
        };
        let existing = flags.values.iter_mut().find(|(n, _)| *n == name);
        match (kind, existing, value) {
            (Kind::Strings, _, None) | (Kind::String, None, None) => {
                return fail(format!("missing a value on flag: {name}"));
            }
            (Kind::Strings, Some((_, Value::Strings(values))), Some(value)) => {
                values.push(value.to_string());
            }
            (Kind::Strings, _, Some(value)) => {
                flags
                    .values
                    .push((name, Value::Strings(vec![value.to_string()])));
            }
            (_, Some(_), _) => return fail(format!("duplicate flag specified: {name}")),
            (Kind::String, None, Some(value)) => {
                flags.values.push((name, Value::String(value.to_string())));
            }
            (Kind::Bool, None, value) => {
                let on = match value.map(str::to_ascii_lowercase).as_deref() {
                    None | Some("true") => true,
                    Some("false") => false,
                    Some("") => return fail(format!("missing a value on flag: {name}")),
                    Some(_) => {
                        return fail(format!(
                            "expecting boolean value for flag {name}, not: {}",
                            value.unwrap_or_default()
                        ))
                    }
                };
                flags.values.push((name, Value::Bool(on)));
            }
        }
    }
    Ok(flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &[(&str, Kind)] = &[
        ("from", Kind::String),
        ("link", Kind::Bool),
        ("exclude", Kind::Strings),
    ];

    fn words(list: &[&str]) -> Vec<Word> {
        list.iter()
            .enumerate()
            .map(|(i, t)| Word {
                text: t.to_string(),
                offset: i,
            })
            .collect()
    }

    #[test]
    fn values_of_each_kind() {
        let f = parse(
            &words(&["--from=a", "--link", "--exclude=x", "--exclude=y"]),
            SPEC,
        )
        .unwrap();
        assert_eq!(f.string("from").as_deref(), Some("a"));
        assert!(f.bool("link"));
        assert_eq!(f.strings("exclude"), ["x", "y"]);
        let f = parse(&words(&["--link=FALSE", "--from="]), SPEC).unwrap();
        assert!(!f.bool("link"));
        assert_eq!(f.string("from").as_deref(), Some(""));
    }

    #[test]
    fn errors_name_the_flag() {
        let cases = [
            (&["--frm=a"][..], "unknown flag: frm"),
            (
                &["--from=a", "--from=b"][..],
                "duplicate flag specified: from",
            ),
            (&["--from"][..], "missing a value on flag: from"),
            (&["--link="][..], "missing a value on flag: link"),
            (
                &["--link=maybe"][..],
                "expecting boolean value for flag link, not: maybe",
            ),
        ];
        for (input, message) in cases {
            let (_, got) = parse(&words(input), SPEC).unwrap_err();
            assert_eq!(got, message);
        }
    }
}
