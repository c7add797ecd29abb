//! Docker's template function library (docker/cli `templates/templates.go`)
//! as `gotmpl` functions, Go's `encoding/json` output for `json`, and the
//! parse-time check for undefined functions that Go's parser performs.

use std::sync::Arc;

use gotmpl::parse::{Expr, ListNode, Node, Parser, PipeNode};
use gotmpl::{FuncMap, TemplateError, Value};

use super::super::encode_json;

/// Go's `text/template` builtins (all provided by gotmpl).
const GO_BUILTINS: [&str; 19] = [
    "and", "call", "eq", "ge", "gt", "html", "index", "js", "le", "len", "lt", "ne", "not", "or",
    "print", "printf", "println", "slice", "urlquery",
];

/// docker/cli `templates.basicFunctions`, registered on every template.
const DOCKER_FUNCS: [&str; 8] = [
    "json", "split", "join", "title", "lower", "upper", "pad", "truncate",
];

/// The first call of a function that is neither a Go builtin nor a Docker
/// function, with its line. Go's parser rejects those; gotmpl only notices
/// them when the call is executed, so formats are checked up front.
pub(super) fn undefined_function(body: &str) -> Result<Option<(String, usize)>, TemplateError> {
    let (tree, defines) = Parser::new(body, "{{", "}}")?.parse()?;
    let bodies = std::iter::once(&tree).chain(defines.iter().map(|d| &d.body));
    Ok(bodies.filter_map(unknown_in_list).next())
}

fn is_known_function(name: &str) -> bool {
    GO_BUILTINS.contains(&name) || DOCKER_FUNCS.contains(&name)
}

fn unknown_in_list(list: &ListNode) -> Option<(String, usize)> {
    list.nodes.iter().find_map(|node| match node {
        Node::List(list) => unknown_in_list(list),
        Node::Action(action) => unknown_in_pipe(&action.pipe),
        Node::If(branch) | Node::Range(branch) | Node::With(branch) => {
            unknown_in_pipe(&branch.pipe)
                .or_else(|| unknown_in_list(&branch.body))
                .or_else(|| branch.else_body.as_ref().and_then(unknown_in_list))
        }
        Node::Template(call) => call.pipe.as_ref().and_then(unknown_in_pipe),
        Node::Define(define) => unknown_in_list(&define.body),
        Node::Text(_) | Node::Break(_) | Node::Continue(_) => None,
    })
}

fn unknown_in_pipe(pipe: &PipeNode) -> Option<(String, usize)> {
    pipe.commands
        .iter()
        .flat_map(|command| &command.args)
        .find_map(unknown_in_expr)
}

fn unknown_in_expr(expr: &Expr) -> Option<(String, usize)> {
    match expr {
        Expr::Identifier(pos, name) if !is_known_function(name) => {
            Some((name.to_string(), pos.line))
        }
        Expr::Pipe(_, pipe) => unknown_in_pipe(pipe),
        Expr::Chain(_, inner, _) => unknown_in_expr(inner),
        _ => None,
    }
}

type FuncResult = Result<Value, TemplateError>;

/// The arguments of a call, checked to be exactly `N` as Go's typed
/// function signatures require.
fn exact<'a, const N: usize>(
    name: &str,
    args: &'a [Value],
) -> Result<&'a [Value; N], TemplateError> {
    args.try_into().map_err(|_| TemplateError::ArgCount {
        name: name.to_string(),
        expected: N,
        got: args.len(),
    })
}

/// Go's argument check for a `string` parameter.
fn string_arg<'a>(name: &str, value: &'a Value) -> Result<&'a str, TemplateError> {
    match value {
        Value::String(s) => Ok(s),
        Value::Nil => Err(TemplateError::Exec(format!(
            "{name}: invalid value; expected string"
        ))),
        other => Err(TemplateError::Exec(format!(
            "{name}: wrong type for value; expected string; got {}",
            other.type_name()
        ))),
    }
}

/// Go's argument check for an `int` parameter; negative counts are errors
/// (Go panics on them inside `strings.Repeat` or slicing).
fn count_arg(name: &str, value: &Value) -> Result<usize, TemplateError> {
    let count = match value {
        Value::Int(i) => usize::try_from(*i).ok(),
        Value::Uint(u) => usize::try_from(*u).ok(),
        other => {
            let got = other.type_name();
            return Err(TemplateError::Exec(format!(
                "{name}: wrong type for value; expected int; got {got}"
            )));
        }
    };
    count.ok_or_else(|| TemplateError::Exec(format!("{name}: count out of range: {value}")))
}

fn func(f: impl Fn(&[Value]) -> FuncResult + Send + Sync + 'static) -> gotmpl::ValueFunc {
    Arc::new(f)
}

fn string_func(name: &'static str, f: fn(&str) -> String) -> gotmpl::ValueFunc {
    func(move |args| {
        let [s] = exact(name, args)?;
        Ok(Value::from(f(string_arg(name, s)?)))
    })
}

/// docker/cli `templates.basicFunctions`.
pub(super) fn docker_funcs() -> FuncMap {
    let mut funcs = FuncMap::new();
    let json = func(|args| {
        let [value] = exact("json", args)?;
        let mut out = String::new();
        // Go's template function ignores encoder errors and prints nothing.
        Ok(Value::from(
            encode_json(value, &mut out).map_or(String::new(), |()| out),
        ))
    });
    let split = func(|args| {
        let [s, sep] = exact("split", args)?;
        let (s, sep) = (string_arg("split", s)?, string_arg("split", sep)?);
        let parts: Vec<Value> = match sep {
            "" => s.chars().map(|c| Value::from(c.to_string())).collect(),
            _ => s.split(sep).map(Value::from).collect(),
        };
        Ok(Value::List(parts.into()))
    });
    let join = func(|args| {
        let [list, sep] = exact("join", args)?;
        let sep = string_arg("join", sep)?;
        let joined = match list {
            Value::List(items) => items
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(sep),
            Value::Nil => String::new(),
            other => {
                return Err(TemplateError::Exec(format!(
                    "join: wrong type for value; expected []string; got {}",
                    other.type_name()
                )));
            }
        };
        Ok(Value::from(joined))
    });
    let truncate = func(|args| {
        let [s, n] = exact("truncate", args)?;
        let (s, n) = (string_arg("truncate", s)?, count_arg("truncate", n)?);
        Ok(Value::from(s.chars().take(n).collect::<String>()))
    });
    let pad = func(|args| {
        let [s, left, right] = exact("pad", args)?;
        let s = string_arg("pad", s)?;
        let (left, right) = (count_arg("pad", left)?, count_arg("pad", right)?);
        Ok(Value::from(match s {
            "" => String::new(),
            _ => format!("{}{s}{}", " ".repeat(left), " ".repeat(right)),
        }))
    });
    funcs.insert("json".into(), json);
    funcs.insert("split".into(), split);
    funcs.insert("join".into(), join);
    funcs.insert("title".into(), string_func("title", title_case));
    funcs.insert("lower".into(), string_func("lower", str::to_lowercase));
    funcs.insert("upper".into(), string_func("upper", str::to_uppercase));
    funcs.insert("truncate".into(), truncate);
    funcs.insert("pad".into(), pad);
    funcs
}

/// docker/cli `templates.HeaderFunctions`: the same names, but returning the
/// header label untouched so `{{upper .Name}}` still prints `NAME`. `pad` is
/// deliberately not overridden, to keep headers aligned with padded columns.
pub(super) fn header_funcs() -> FuncMap {
    fn label(name: &str, args: &[Value], count: usize) -> FuncResult {
        match args.first() {
            Some(first) if args.len() == count => Ok(Value::from(string_arg(name, first)?)),
            _ => Err(TemplateError::ArgCount {
                name: name.to_string(),
                expected: count,
                got: args.len(),
            }),
        }
    }
    let mut funcs = docker_funcs();
    let overridden = [
        ("json", 1),
        ("split", 2),
        ("join", 2),
        ("title", 1),
        ("lower", 1),
        ("upper", 1),
        ("truncate", 2),
    ];
    for (name, count) in overridden {
        funcs.insert(name.into(), func(move |args| label(name, args, count)));
    }
    funcs
}

/// Go's (deprecated) `strings.Title`: upper-cases every letter that follows
/// a separator (anything but ASCII alphanumerics, `_`, and non-ASCII
/// letters/digits; non-ASCII spaces are separators).
fn title_case(s: &str) -> String {
    let is_separator = |c: char| match c {
        '0'..='9' | 'a'..='z' | 'A'..='Z' | '_' => false,
        c if c.is_ascii() => true,
        c => !c.is_alphanumeric() && c.is_whitespace(),
    };
    let mut out = String::with_capacity(s.len());
    let mut prev = ' ';
    for c in s.chars() {
        if is_separator(prev) {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev = c;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::Format;
    use serde_json::json;

    /// Renders `format` once against a fixed item; errors become their message.
    fn one(format: &str) -> String {
        let item = json!({"S": "text:with:colon", "T": "hello wORLD-x_y élan", "N": 3,
                          "L": ["x", "y"], "Name": "a\"b<", "Ctl": "\t\u{1}\u{2028}",
                          "F": 1.5e-7, "G": 2.5e21, "H": 0.25});
        let rendered = Format::parse(format).and_then(|f| f.render_one(&item));
        rendered.map_or_else(|e| e.to_string(), |s| s.trim_end_matches('\n').to_string())
    }

    fn table(format: &str, item: serde_json::Value) -> String {
        let headers = json!({"ID": "IMAGE ID", "Repository": "REPOSITORY", "Size": "SIZE"});
        let rendered = Format::parse(format).and_then(|f| f.render_list(&[item], &headers));
        rendered.unwrap_or_else(|e| e.to_string())
    }

    #[test]
    fn json_function_prints_compact_go_json() {
        let items = [
            json!({"b": "x<y", "a": [1, 2.5, null], "c": {"d": true}}),
            json!("s"),
        ];
        let lines = Format::parse("json").and_then(|f| f.render_list(&items, &json!({})));
        let expected = "{\"a\":[1,2.5,null],\"b\":\"x<y\",\"c\":{\"d\":true}}\n\"s\"\n";
        assert_eq!(lines, Ok(expected.to_string()));
        assert_eq!(one("{{json .Name}} {{json .Missing}}"), r#""a\"b<" null"#);
        assert_eq!(one("{{json .Ctl}}"), r#""\t\u0001\u2028""#);
        assert_eq!(
            one("{{json .F}} {{json .G}} {{json .H}} {{json .L}}"),
            r#"1.5e-7 2.5e+21 0.25 ["x","y"]"#
        );
    }

    #[test]
    fn docker_string_functions_match_templates_go() {
        let cases = [
            (r#"{{join (split .S ":") "/"}}"#, "text/with/colon"),
            (r#"{{join .L ","}}|{{join .Missing ","}}"#, "x,y|"),
            (r#"{{join (split "abc" "") "-"}}"#, "a-b-c"),
            ("{{title .T}}", "Hello WORLD-X_y Élan"),
            (
                "{{upper .T}}|{{lower .T}}",
                "HELLO WORLD-X_Y ÉLAN|hello world-x_y élan",
            ),
            (
                r#"{{truncate .S 4}}|{{truncate .S 99}}|{{truncate "été" 2}}"#,
                "text|text:with:colon|ét",
            ),
            (
                r#"[{{pad .S 1 2}}][{{pad "" 3 3}}]"#,
                "[ text:with:colon  ][]",
            ),
            ("{{println .S .N}}", "text:with:colon 3"),
        ];
        for (format, expected) in cases {
            assert_eq!(one(format), expected, "{format}");
        }
    }

    #[test]
    fn function_argument_errors_read_like_go() {
        let prefix = |format: &str| format!("template execution error in {format:?}: ");
        let cases = [
            (
                "{{upper .N}}",
                "upper: wrong type for value; expected string; got int",
            ),
            (
                "{{lower .Missing}}",
                "lower: invalid value; expected string",
            ),
            ("{{pad .S -1 0}}", "pad: count out of range: -1"),
            (
                r#"{{truncate .S "2"}}"#,
                "truncate: wrong type for value; expected int; got string",
            ),
            (
                r#"{{join .S ","}}"#,
                "join: wrong type for value; expected []string; got string",
            ),
            (
                "{{upper}}",
                "wrong number of arguments: upper expects 1, got 0",
            ),
        ];
        for (format, message) in cases {
            assert_eq!(one(format), prefix(format) + message);
        }
    }

    #[test]
    fn header_functions_leave_labels_untouched_except_pad() {
        let item = json!({"ID": "abc", "Repository": "alpine", "Size": 5});
        let format =
            r#"table {{upper .Repository}}\t{{pad .ID 1 1}}\t{{json .Size}}\t{{split .ID "b"}}"#;
        let expected = "REPOSITORY    IMAGE ID    SIZE      IMAGE ID\n\
                        ALPINE        abc         5         [a c]\n";
        assert_eq!(table(format, item), expected);
    }

    #[test]
    fn a_header_that_fails_keeps_what_was_written_like_docker() {
        let expected = "IMAGE ID   \nabc        {\"ID\":\"abc\"}\n";
        assert_eq!(
            table(r"table {{.ID}}\t{{json .}}", json!({"ID": "abc"})),
            expected
        );
    }

    #[test]
    fn undefined_functions_are_found_in_every_kind_of_node() {
        for format in [
            "{{range .L}}{{foo}}{{end}}",
            "{{with .X}}{{else}}{{(foo 1)}}{{end}}",
            r#"{{define "x"}}{{.A | foo}}{{end}}"#,
            "{{(foo).Field}}",
        ] {
            let expected = format!(
                "template parsing error in {format:?}: template: :1: function \"foo\" not defined"
            );
            assert_eq!(one(format), expected);
        }
        assert!(Format::parse(r#"{{printf "%s" .A | len | eq 1 | not}}"#).is_ok());
    }
}
