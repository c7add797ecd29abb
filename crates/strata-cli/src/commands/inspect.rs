//! `inspect`: containers and images, Docker's JSON or a template.

use std::process::ExitCode;

use anyhow::{bail, Result};
use serde_json::Value;
use strata_host::{resolve, Host};

use super::util::print;
use crate::cli::InspectArgs;
use crate::render::Format;

/// What `inspect` may look for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Containers then images (`inspect`).
    Any,
    /// Only containers.
    Container,
    /// Only images.
    Image,
}

/// `inspect`, `container inspect`, `image inspect`.
pub fn run(host: &Host, args: &InspectArgs, kind: Kind) -> Result<ExitCode> {
    let kind = match (kind, args.kind.as_deref()) {
        (k, None) => k,
        (_, Some("container")) => Kind::Container,
        (_, Some("image")) => Kind::Image,
        (_, Some(other)) => {
            bail!("{other:?} is not a valid value for --type: use container or image")
        }
    };
    let _lock = host.store().lock_shared()?;
    let records = host.store().records()?;
    let mut views = Vec::new();
    let mut failed = false;
    for name in &args.names {
        let container = match kind {
            Kind::Image => None,
            _ => host.container(name).ok(),
        };
        let view = match container {
            Some(c) => serde_json::to_value(host.inspect_container(&c)?)?,
            None if kind == Kind::Container => {
                eprintln!("Error: no such container: {name}");
                failed = true;
                continue;
            }
            None => match resolve(&records, name).and_then(|r| host.image(&records, &r.target)) {
                Ok(image) => serde_json::to_value(host.inspect_image(&image)?)?,
                Err(e) => {
                    if kind == Kind::Any {
                        eprintln!("Error: no such object: {name}");
                    } else {
                        eprintln!("Error: {e}");
                    }
                    failed = true;
                    continue;
                }
            },
        };
        views.push(view);
    }
    match &args.format {
        Some(f) => {
            let format = Format::parse_raw(f)?;
            let mut out = String::new();
            for v in &views {
                out.push_str(&format.render_one(v)?);
            }
            print(&out)?;
        }
        None => print(&(to_docker_json(&Value::Array(views))? + "\n"))?,
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// JSON indented with four spaces, as Docker prints `inspect`.
fn to_docker_json(v: &Value) -> Result<String> {
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(v, &mut ser)?;
    Ok(String::from_utf8(buf)?)
}
