//! images, inspect, history, tag, rmi, image prune.

use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use strata_host::images::{ImageFilter, RemoveEvent};
use strata_host::{resolve, Host};

use super::util::{confirm, go_time, id, print, since};
use crate::cli::{HistoryArgs, ImagesArgs, PruneArgs, RmiArgs, TagArgs};
use crate::render::{human_size, human_size_with_precision, Format};

const IMAGES_TABLE: &str = "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
const IMAGES_TABLE_DIGESTS: &str =
    "{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";

fn image_headers() -> Value {
    json!({
        "Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "Digest": "DIGEST",
        "CreatedSince": "CREATED", "CreatedAt": "CREATED AT", "Size": "SIZE",
        "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE", "VirtualSize": "VIRTUAL SIZE",
        "Containers": "CONTAINERS",
    })
}

/// `images`.
pub fn list(host: &Host, args: &ImagesArgs) -> Result<ExitCode> {
    let mut filter = ImageFilter {
        reference: args.reference.clone(),
        dangling: None,
    };
    for f in &args.filters {
        match f.split_once('=') {
            Some(("dangling", v)) => {
                filter.dangling = Some(match v {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => bail!("invalid filter 'dangling={v}': use true or false"),
                })
            }
            Some(("reference", v)) => filter.reference = Some(v.to_owned()),
            _ => bail!("invalid filter '{f}': supported are dangling=BOOL and reference=PATTERN"),
        }
    }
    let rows = host.list_images(&filter)?;
    if args.quiet {
        let mut out = String::new();
        let mut seen = std::collections::HashSet::new();
        for r in &rows {
            if seen.insert(r.id.clone()) {
                out.push_str(&id(&r.id, args.no_trunc));
                out.push('\n');
            }
        }
        return print(&out).map(|()| ExitCode::SUCCESS);
    }
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            let (repo, tag) = match &r.name {
                Some(n) => (
                    n.familiar_repository(),
                    n.tag().unwrap_or("<none>").to_owned(),
                ),
                None => ("<none>".to_owned(), "<none>".to_owned()),
            };
            let size = human_size_with_precision(r.size, 3);
            json!({
                "Containers": "N/A",
                "CreatedAt": go_time(r.created),
                "CreatedSince": since(r.created),
                "Digest": r.digest.to_string(),
                "ID": id(&r.id, args.no_trunc),
                "Repository": repo,
                "SharedSize": "N/A",
                "Size": size,
                "Tag": tag,
                "UniqueSize": "N/A",
                "VirtualSize": size,
            })
        })
        .collect();
    let default = if args.digests {
        IMAGES_TABLE_DIGESTS
    } else {
        IMAGES_TABLE
    };
    let format = Format::parse(args.format.as_deref().unwrap_or(""))?.with_default_table(default);
    print(&format.render_list(&items, &image_headers())?)?;
    Ok(ExitCode::SUCCESS)
}

/// `history`.
pub fn history(host: &Host, args: &HistoryArgs) -> Result<ExitCode> {
    let _lock = host.store().lock_shared()?;
    let records = host.store().records()?;
    let found = resolve(&records, &args.image)?;
    let image = host.image(&records, &found.target)?;
    let rows = host.history(&image)?;
    let show_id = |d: &Option<strata_oci::Digest>| {
        d.as_ref()
            .map_or_else(|| "<missing>".to_owned(), |d| id(d, args.no_trunc))
    };
    if args.quiet {
        let out: String = rows.iter().map(|r| show_id(&r.id) + "\n").collect();
        return print(&out).map(|()| ExitCode::SUCCESS);
    }
    let items: Vec<Value> = rows
        .iter()
        .map(|r| {
            let created_by = if args.no_trunc {
                r.created_by.clone()
            } else {
                ellipsis(&r.created_by, 45)
            };
            json!({
                "ID": show_id(&r.id),
                "CreatedSince": if args.human { since(r.created) } else { go_time(r.created) },
                "CreatedAt": r.created.map(|t| t.to_rfc3339()).unwrap_or_default(),
                "CreatedBy": created_by,
                "Size": if args.human { human_size_with_precision(r.size, 3) } else { r.size.to_string() },
                "Comment": r.comment,
            })
        })
        .collect();
    let headers = json!({
        "ID": "IMAGE", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT",
        "CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT",
    });
    let format = Format::parse(args.format.as_deref().unwrap_or(""))?
        .with_default_table("{{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}");
    print(&format.render_list(&items, &headers)?)?;
    Ok(ExitCode::SUCCESS)
}

/// Docker's `stringutils.Ellipsis`: at most `max` characters, the last one `…`.
fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}

/// `tag`.
pub fn tag(host: &Host, args: &TagArgs) -> Result<ExitCode> {
    host.tag(&args.source, &args.target)?;
    Ok(ExitCode::SUCCESS)
}

fn render_events(events: &[RemoveEvent], lowercase: bool) -> String {
    let (u, d) = if lowercase {
        ("untagged", "deleted")
    } else {
        ("Untagged", "Deleted")
    };
    events
        .iter()
        .map(|e| match e {
            RemoveEvent::Untagged(n) => format!("{u}: {}\n", n.familiar()),
            RemoveEvent::Deleted(id) | RemoveEvent::DeletedLayer(id) => format!("{d}: {id}\n"),
        })
        .collect()
}

/// `rmi`.
pub fn rmi(host: &Host, args: &RmiArgs) -> Result<ExitCode> {
    let removal = host.remove_images(&args.images, args.force)?;
    print(&render_events(&removal.events, false))?;
    for e in &removal.errors {
        eprintln!("Error: {e}");
    }
    Ok(if removal.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `image prune`.
pub fn prune(host: &Host, args: &PruneArgs) -> Result<ExitCode> {
    let warning = if args.all {
        "WARNING! This will remove all images without at least one container associated to them."
    } else {
        "WARNING! This will remove all dangling images."
    };
    if !args.force {
        eprintln!("{warning}");
        if !confirm("Are you sure you want to continue?").context("reading the answer")? {
            return Ok(ExitCode::SUCCESS);
        }
    }
    let removal = host.prune_images(args.all)?;
    let mut out = String::new();
    if !removal.events.is_empty() {
        out.push_str("Deleted Images:\n");
        out.push_str(&render_events(&removal.events, true));
        out.push('\n');
    }
    out.push_str(&format!(
        "Total reclaimed space: {}\n",
        human_size(removal.reclaimed.bytes)
    ));
    print(&out)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ellipsis_matches_docker() {
        assert_eq!(ellipsis("short", 45), "short");
        let long = "/bin/sh -c #(nop) ADD file:1234567890abcdef in / ";
        let e = ellipsis(long, 45);
        assert_eq!(e.chars().count(), 45);
        assert!(e.ends_with('…'));
    }
}
