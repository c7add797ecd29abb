//! Docker's `--format` handling on top of `gotmpl` (a port of Go's
//! `text/template`), following `docker/cli` `formatter.Context` and
//! `templates/templates.go`.

use std::fmt;

use gotmpl::{FuncMap, Template, TemplateError};

use super::{to_template_value, RenderError, TabWriter};
use functions::{docker_funcs, header_funcs, undefined_function};

mod functions;

/// A parsed `--format` value: a table with a header line, `json` lines, or a
/// raw Go template rendered once per item.
#[derive(Clone)]
pub struct Format {
    source: String,
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    /// `table` alone (or no format at all): the command's default table.
    DefaultTable,
    /// `table <row>`: the row template plus the same template compiled with
    /// Docker's header functions, run against the header labels.
    Table { row: Template, header: Template },
    /// `json` or a raw template: one rendering per item, each plus `\n`.
    Lines(Template),
    /// A built-in table template that failed to parse; reported on render.
    Broken(RenderError),
}

impl fmt::Debug for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::DefaultTable => "default table",
            Kind::Table { .. } => "table",
            Kind::Lines(_) => "lines",
            Kind::Broken(_) => "broken",
        };
        f.debug_struct("Format")
            .field("source", &self.source)
            .field("kind", &kind)
            .finish()
    }
}

/// A table format for a command's built-in row template, e.g.
/// `table_format("{{.Repository}}\t{{.Tag}}\t{{.ID}}")`. A template that
/// does not parse yields a format whose renders return the parse error.
pub fn table_format(row_template: &str) -> Format {
    let source = format!("table {row_template}");
    match Format::parse(&source) {
        Ok(format) => format,
        Err(error) => Format {
            source,
            kind: Kind::Broken(error),
        },
    }
}

impl Format {
    /// Parses a user's `--format` value the way Docker's `formatter.Context`
    /// does: a leading `table` selects table output (the rest is the row
    /// template; nothing after it means the command's default table), the
    /// exact string `json` means `{{json .}}`, anything else is a raw
    /// template. Surrounding spaces are trimmed and the two-character
    /// sequences `\t` and `\n` become a tab and a newline. An empty string
    /// also selects the default table.
    ///
    /// # Errors
    ///
    /// [`RenderError::Parse`] when the template has a syntax error or calls a
    /// function that does not exist.
    pub fn parse(s: &str) -> Result<Format, RenderError> {
        let (table, body) = match s.strip_prefix("table") {
            Some(rest) => (true, rest),
            None if s == "json" => (false, "{{json .}}"),
            None => (false, s),
        };
        let body = body
            .trim_matches(' ')
            .replace("\\t", "\t")
            .replace("\\n", "\n");
        let source = s.to_string();
        let kind = if s.is_empty() || (table && body.trim().is_empty()) {
            Kind::DefaultTable
        } else if table {
            let row = compile(s, &body, docker_funcs())?;
            let header = compile(s, &body, header_funcs())?;
            Kind::Table { row, header }
        } else {
            Kind::Lines(compile(s, &body, docker_funcs())?)
        };
        Ok(Format { source, kind })
    }

    /// Parses a template the way `docker inspect --format` does: no `table`
    /// handling, no trimming and no `\t` escapes; only `json` is special.
    ///
    /// # Errors
    ///
    /// [`RenderError::Parse`] as for [`Format::parse`].
    pub fn parse_raw(s: &str) -> Result<Format, RenderError> {
        let body = if s == "json" { "{{json .}}" } else { s };
        let template = compile(s, body, docker_funcs())?;
        Ok(Format {
            source: s.to_string(),
            kind: Kind::Lines(template),
        })
    }

    /// Replaces a bare `table` (or empty) format by the command's default
    /// row template; any other format is returned unchanged.
    pub fn with_default_table(self, row_template: &str) -> Format {
        match self.kind {
            Kind::DefaultTable => table_format(row_template),
            _ => self,
        }
    }

    /// Whether the output is a table with a header line.
    pub fn is_table(&self) -> bool {
        matches!(self.kind, Kind::Table { .. } | Kind::DefaultTable)
    }

    /// Renders items. For tables, the header line comes from executing the
    /// row template against `headers` (e.g. `{"ID": "IMAGE ID"}`) with
    /// Docker's header functions, then every row follows, all aligned by a
    /// [`TabWriter`]. Other formats print each item followed by a newline.
    ///
    /// # Errors
    ///
    /// [`RenderError::Execute`] when a row fails to render (a header failure
    /// is ignored, as Docker does); [`RenderError::NoDefaultTable`] for a
    /// bare `table` not resolved with [`Format::with_default_table`].
    pub fn render_list(
        &self,
        items: &[serde_json::Value],
        headers: &serde_json::Value,
    ) -> Result<String, RenderError> {
        let template = match &self.kind {
            Kind::Table { row, .. } | Kind::Lines(row) => row,
            Kind::DefaultTable => {
                return Err(RenderError::NoDefaultTable {
                    format: self.source.clone(),
                });
            }
            Kind::Broken(error) => return Err(error.clone()),
        };
        let mut rows = String::new();
        for item in items {
            rows.push_str(&self.execute(template, item)?);
            rows.push('\n');
        }
        let Kind::Table { header, .. } = &self.kind else {
            return Ok(rows);
        };
        // Docker ignores header errors and keeps whatever was written.
        let mut header_line = String::new();
        let _ignored = header.execute_fmt(&mut header_line, &to_template_value(headers));
        let mut writer = TabWriter::new();
        writer.write_str(&header_line);
        writer.write_str("\n");
        writer.write_str(&rows);
        Ok(writer.finish())
    }

    /// Renders a single object followed by a newline, as `docker inspect
    /// --format` does. A table format renders its row template, without header.
    ///
    /// # Errors
    ///
    /// As for [`Format::render_list`].
    pub fn render_one(&self, item: &serde_json::Value) -> Result<String, RenderError> {
        match &self.kind {
            Kind::Table { row: template, .. } | Kind::Lines(template) => {
                Ok(self.execute(template, item)? + "\n")
            }
            Kind::DefaultTable => Err(RenderError::NoDefaultTable {
                format: self.source.clone(),
            }),
            Kind::Broken(error) => Err(error.clone()),
        }
    }

    fn execute(
        &self,
        template: &Template,
        item: &serde_json::Value,
    ) -> Result<String, RenderError> {
        template
            .execute_to_string(&to_template_value(item))
            .map_err(|error| RenderError::Execute {
                format: self.source.clone(),
                message: match error {
                    TemplateError::Exec(message) => message,
                    other => other.to_string(),
                },
            })
    }
}

/// Parses `body` with `funcs`, rejecting unknown functions at parse time as
/// Go does (gotmpl only notices them when the call is executed).
fn compile(source: &str, body: &str, funcs: FuncMap) -> Result<Template, RenderError> {
    let error = |message: String| RenderError::Parse {
        format: source.to_string(),
        message,
    };
    let template = Template::new("")
        .funcs(funcs)
        .parse(body)
        .map_err(|e| error(e.to_string()))?;
    if let Some((name, line)) = undefined_function(body).map_err(|e| error(e.to_string()))? {
        return Err(error(format!(
            "template: :{line}: function {name:?} not defined"
        )));
    }
    Ok(template)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn list(format: &str, items: &[serde_json::Value]) -> String {
        let headers = json!({"ID": "IMAGE ID", "Repository": "REPOSITORY", "Size": "SIZE"});
        let rendered = Format::parse(format).and_then(|f| f.render_list(items, &headers));
        rendered.unwrap_or_else(|e| format!("error: {e}"))
    }

    fn one(format: &str, item: serde_json::Value) -> String {
        Format::parse(format)
            .and_then(|f| f.render_one(&item))
            .unwrap_or_else(|e| format!("error: {e}"))
    }

    fn images() -> Vec<serde_json::Value> {
        vec![
            json!({"ID": "a1b2c3d4e5f6", "Repository": "alpine", "Size": 7_800_000}),
            json!({"ID": "0123456789ab", "Repository": "registry.example.com/team/app", "Size": 1_234_567}),
        ]
    }

    #[test]
    fn table_format_prints_an_aligned_header_then_rows() {
        let expected = "IMAGE ID       REPOSITORY\n\
                        a1b2c3d4e5f6   alpine\n\
                        0123456789ab   registry.example.com/team/app\n";
        assert_eq!(list("table {{.ID}}\\t{{.Repository}}", &images()), expected);
        assert_eq!(list("table {{.ID}}", &[]), "IMAGE ID\n");
    }

    #[test]
    fn header_keeps_labels_through_header_functions_and_missing_keys_show_no_value() {
        let rendered = list(
            "table {{lower .Repository}}\\t{{truncate .ID 4}}\\t{{.Other}}",
            &images()[..1],
        );
        assert_eq!(
            rendered,
            "REPOSITORY   IMAGE ID   <no value>\nalpine       a1b2       <no value>\n"
        );
    }

    #[test]
    fn default_table_is_used_for_bare_table_and_empty_format() {
        for user in ["table", "", "table  "] {
            let format =
                Format::parse(user).map(|f| f.with_default_table("{{.Repository}}\t{{.Size}}"));
            let rendered = format
                .and_then(|f| f.render_list(&images()[..1], &json!({"Repository": "REPOSITORY"})));
            assert_eq!(
                rendered,
                Ok("REPOSITORY   <no value>\nalpine       7800000\n".into()),
                "{user:?}"
            );
        }
        let unresolved = Format::parse("table").and_then(|f| f.render_list(&[], &json!({})));
        assert_eq!(
            unresolved,
            Err(RenderError::NoDefaultTable {
                format: "table".into()
            })
        );
        assert!(table_format("{{.ID}}").is_table());
        let broken = table_format("{{.ID")
            .render_list(&[], &json!({}))
            .map_err(|e| e.to_string());
        assert_eq!(
            broken,
            Err("template parsing error in \"table {{.ID\": template: 1:6: unclosed action".into())
        );
    }

    #[test]
    fn raw_templates_render_go_values_the_go_way() {
        let item = json!({"Items": ["a", "b"], "Config": {"Cmd": ["sh", "-c", "echo"]}, "Labels": {"a": "1"},
                          "Size": 1_234_567_890_123u64, "Whole": 1_234_567.0, "X": true, "List": ["x", "y"]});
        assert_eq!(one("{{range .Items}}{{.}} {{end}}", item.clone()), "a b \n");
        assert_eq!(one("{{join .List \",\"}}", item.clone()), "x,y\n");
        assert_eq!(
            one("{{.Config.Cmd}} {{.Labels}}", item.clone()),
            "[sh -c echo] map[a:1]\n"
        );
        assert_eq!(
            one(
                "{{index .Labels \"a\"}}|{{index .Labels \"b\"}}",
                item.clone()
            ),
            "1|<no value>\n"
        );
        assert_eq!(
            one(
                "{{if .X}}yes{{else}}no{{end}} {{if .Nope}}yes{{end}}",
                item.clone()
            ),
            "yes \n"
        );
        assert_eq!(
            one(
                "{{.Size}} {{.Whole}} {{.Missing}} {{.Missing.Deeper}}",
                item
            ),
            "1234567890123 1234567 <no value> <no value>\n"
        );
    }

    #[test]
    fn escapes_become_tabs_and_newlines_and_each_item_ends_with_a_newline() {
        assert_eq!(
            list(" {{.ID}}\\t{{.Size}}\\n ", &images()),
            "a1b2c3d4e5f6\t7800000\n\n0123456789ab\t1234567\n\n"
        );
        let raw = Format::parse_raw("{{.ID}}\\t").and_then(|f| f.render_one(&images()[0]));
        assert_eq!(raw, Ok("a1b2c3d4e5f6\\t\n".into()));
    }

    #[test]
    fn errors_name_the_format_and_the_problem() {
        let error = |format: &str| one(format, json!({"S": "x", "N": 3}));
        assert_eq!(
            error("{{.S"),
            "error: template parsing error in \"{{.S\": template: 1:5: unclosed action"
        );
        assert_eq!(
            error("{{if .S}}{{nope .S}}{{end}}"),
            "error: template parsing error in \"{{if .S}}{{nope .S}}{{end}}\": template: :1: function \"nope\" not defined"
        );
        assert_eq!(
            error("{{.S.Field}}"),
            "error: template execution error in \"{{.S.Field}}\": can't evaluate field Field in type string"
        );
        assert!(list("table {{.ID.X}}", &images()).starts_with("error: template execution error"));
    }
}
