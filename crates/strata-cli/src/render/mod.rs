//! The one place where Strata shapes what the user sees.
//!
//! Every command renders its output through this module so that the CLI keeps
//! the exact output shapes of the Docker CLI (`docker/cli`, Go):
//!
//! - [`human_size`], [`human_duration`] and [`parse_size`] reproduce
//!   `github.com/docker/go-units`: human sizes (`77.8MB`), human durations
//!   (`About an hour`) and size parsing for flags such as `--memory 64m`.
//! - [`TabWriter`] reproduces the `text/tabwriter` configuration Docker uses
//!   for every table (`minwidth 10, tabwidth 1, padding 3, padchar ' ',
//!   flags 0`).
//! - [`Format`] reproduces `--format` handling: `table …` with a header line,
//!   `json` (one object per line), and raw Go templates, with Docker's
//!   template functions (`json`, `join`, `split`, `title`, `lower`, `upper`,
//!   `pad`, `truncate`) on top of Go's builtins.
//!
//! Commands should never hand-format columns, sizes or durations themselves:
//! they build `serde_json::Value` rows and let this module print them.
//!
//! ```
//! use strata_cli::render::{Format, human_size_with_precision};
//! use serde_json::json;
//!
//! // `strata images` with no `--format`: the command's default table.
//! let format = Format::parse("")?.with_default_table("{{.Repository}}\t{{.Tag}}\t{{.Size}}");
//! let rows = [json!({
//!     "Repository": "alpine",
//!     "Tag": "3.20",
//!     "Size": human_size_with_precision(7_800_000, 3),
//! })];
//! let headers = json!({"Repository": "REPOSITORY", "Tag": "TAG", "Size": "SIZE"});
//! assert_eq!(
//!     format.render_list(&rows, &headers)?,
//!     "REPOSITORY   TAG       SIZE\nalpine       3.20      7.8MB\n",
//! );
//!
//! // `strata images --format '{{.Repository}}:{{.Tag}}'`
//! let format = Format::parse("{{.Repository}}:{{.Tag}}")?;
//! assert_eq!(format.render_list(&rows, &headers)?, "alpine:3.20\n");
//! # Ok::<(), strata_cli::render::RenderError>(())
//! ```

mod table;
mod template;
mod units;

pub use table::TabWriter;
pub use template::{table_format, Format};
pub use units::{human_duration, human_size, human_size_with_precision, parse_size};

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::Value;

/// Everything that can go wrong while shaping output.
///
/// Messages are lowercase and name the offending format string or value, so
/// the CLI can print them as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The `--format` string is not a valid template.
    #[error("template parsing error in {format:?}: {message}")]
    Parse {
        /// The format string as the user wrote it.
        format: String,
        /// What the template parser reported.
        message: String,
    },
    /// The template is valid but failed while rendering an item.
    #[error("template execution error in {format:?}: {message}")]
    Execute {
        /// The format string as the user wrote it.
        format: String,
        /// What the template engine reported.
        message: String,
    },
    /// A bare `table` format was rendered before the command supplied its
    /// default row template (see [`Format::with_default_table`]).
    #[error("format {format:?} needs the command's default table, but none was given")]
    NoDefaultTable {
        /// The format string as the user wrote it.
        format: String,
    },
    /// A size such as `--memory` could not be parsed.
    #[error("invalid size: '{0}'")]
    InvalidSize(String),
    /// A size had a unit suffix that is not one of `b`, `k`, `m`, `g`, `t`, `p`
    /// (optionally followed by `b` or `ib`).
    #[error("invalid suffix: '{0}'")]
    InvalidSuffix(String),
}

// Go's value model: how data reaches templates and how `json` prints it.

/// Converts JSON data to template data. Integral numbers become integers, as
/// Docker's int64 fields print (`1234567`, never `1.234567e+06`); objects
/// become sorted maps, so a missing key renders as `<no value>`. Fractional
/// numbers stay floats and print with gotmpl's formatting, which differs from
/// Go's `%v` for very small or large values (`0.00001` where Go prints `1e-05`).
fn to_template_value(value: &serde_json::Value) -> Value {
    use serde_json::Value as Json;
    match value {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::Int(i),
            (None, Some(u), _) => Value::Uint(u),
            (_, _, Some(f)) if f.fract() == 0.0 && f.abs() < 9.2e18 => Value::Int(f as i64),
            (_, _, f) => Value::Float(f.unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(items) => Value::List(items.iter().map(to_template_value).collect()),
        Json::Object(map) => {
            let entries: BTreeMap<Arc<str>, Value> = map
                .iter()
                .map(|(k, v)| (Arc::from(k.as_str()), to_template_value(v)))
                .collect();
            Value::Map(Arc::new(entries))
        }
    }
}

/// Go's `json.Marshal` (HTML escaping off, no trailing newline). Returns
/// `None` where Go's encoder fails (NaN, infinities, functions).
fn encode_json(value: &Value, out: &mut String) -> Option<()> {
    match value {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Uint(u) => out.push_str(&u.to_string()),
        Value::Float(f) if !f.is_finite() => return None,
        Value::Float(f) if *f != 0.0 && (f.abs() < 1e-6 || f.abs() >= 1e21) => {
            let text = format!("{f:e}");
            out.push_str(&text.replacen("e", if text.contains("e-") { "e" } else { "e+" }, 1));
        }
        Value::Float(f) => out.push_str(&f.to_string()),
        Value::String(s) => encode_json_string(s, out),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                encode_json(item, out)?;
            }
            out.push(']');
        }
        Value::Map(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                encode_json_string(key, out);
                out.push(':');
                encode_json(item, out)?;
            }
            out.push('}');
        }
        Value::Function(_) => return None,
    }
    Some(())
}

fn encode_json_string(s: &str, out: &mut String) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", u32::from(ch))),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_print_like_docker_int64_fields() {
        let item = json!({"Neg": -5, "Big": u64::MAX, "Frac": 0.25, "Whole": 3.0e10});
        let format = "{{.Neg}} {{.Big}} {{.Frac}} {{.Whole}} {{if eq .Whole 30000000000}}eq{{end}}";
        let rendered = Format::parse(format).and_then(|f| f.render_one(&item));
        assert_eq!(
            rendered,
            Ok("-5 18446744073709551615 0.25 30000000000 eq\n".into())
        );
    }

    #[test]
    fn go_json_matches_encoding_json_for_edge_values() {
        let value = to_template_value(&json!({"s": "<\u{8}\u{7f}\u{2029}>", "n": -0.5, "e": 1e-7}));
        let mut out = String::new();
        assert_eq!(encode_json(&value, &mut out), Some(()));
        assert_eq!(out, "{\"e\":1e-7,\"n\":-0.5,\"s\":\"<\\b\u{7f}\\u2029>\"}");
        assert_eq!(encode_json(&Value::Float(f64::NAN), &mut out), None);
    }
}
