//! system df, system check, info, version.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::{json, Value};
use strata_host::containers::Phase;
use strata_host::images::ContainerUsage;
use strata_host::Host;

use super::top::{ellipsis, status};
use super::util::{id, print, since};
use crate::cli::{CheckArgs, DfArgs};
use crate::render::{human_size, human_size_with_precision, Format};

/// `version`.
pub fn version() -> Result<ExitCode> {
    print(&format!(
        "Strata:\n Version:    {}\n OS/Arch:    {}\n Store:      format {}\n",
        env!("CARGO_PKG_VERSION"),
        strata_oci::Platform::host(),
        strata_store_version(),
    ))?;
    Ok(ExitCode::SUCCESS)
}

fn strata_store_version() -> u32 {
    strata_host::STORE_VERSION
}

/// `info`.
pub fn info(host: &Host) -> Result<ExitCode> {
    let records = host.store().records()?;
    let mode = match host.snapshots().mode() {
        strata_snapshot::snapshots::SnapshotMode::Overlay => "overlay",
        strata_snapshot::snapshots::SnapshotMode::Copy => "copy",
    };
    print(&format!(
        "Images: {}\nNames: {}\nSnapshotter: {mode}\nRoot Dir: {}\nArchitecture: {}\nCPUs: {}\n",
        records.images.len(),
        records.tags.len(),
        host.store().paths().root().display(),
        strata_oci::Platform::host(),
        std::thread::available_parallelism().map_or(1, usize::from),
    ))?;
    let registries = strata_host::registry::RegistryOptions::from_env()?;
    let mut text = format!("Registries Config: {}\n", registries.conf_path.display());
    let with_mirrors: Vec<_> = registries
        .conf
        .registries
        .iter()
        .filter(|r| !r.mirrors.is_empty())
        .collect();
    if !with_mirrors.is_empty() {
        text.push_str("Registry Mirrors:\n");
        for r in with_mirrors {
            let list: Vec<&str> = r.mirrors.iter().map(|m| m.location.as_str()).collect();
            text.push_str(&format!(" {}: {}\n", r.location, list.join(", ")));
        }
    }
    let insecure: Vec<&str> = registries
        .conf
        .registries
        .iter()
        .filter(|r| r.insecure)
        .map(|r| r.location.as_str())
        .collect();
    if !insecure.is_empty() {
        text.push_str(&format!("Insecure Registries: {}\n", insecure.join(", ")));
    }
    print(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// `system df`.
pub fn df(host: &Host, args: &DfArgs) -> Result<ExitCode> {
    let usage = host.disk_usage()?;
    let pct = |part: u64, whole: u64| (part * 100).checked_div(whole).unwrap_or(0);
    let running = |c: &&ContainerUsage| c.summary.phase == Phase::Running;
    let containers_size: u64 = usage.containers.iter().map(|c| c.size).sum();
    let stopped_size: u64 = usage
        .containers
        .iter()
        .filter(|c| !running(c))
        .map(|c| c.size)
        .sum();
    let rows = vec![
        json!({
            "Type": "Images",
            "TotalCount": usage.images.len().to_string(),
            "Active": usage.active.to_string(),
            "Size": human_size(usage.layers_size),
            "Reclaimable": format!("{} ({}%)", human_size(usage.reclaimable), pct(usage.reclaimable, usage.layers_size)),
        }),
        json!({
            "Type": "Containers",
            "TotalCount": usage.containers.len().to_string(),
            "Active": usage.containers.iter().filter(running).count().to_string(),
            "Size": human_size(containers_size),
            "Reclaimable": format!("{} ({}%)", human_size(stopped_size), pct(stopped_size, containers_size)),
        }),
        json!({
            "Type": "Build Cache",
            "TotalCount": usage.build_cache.entries.to_string(),
            "Active": "0",
            "Size": human_size(usage.build_cache.size),
            "Reclaimable": human_size(usage.build_cache.size),
        }),
    ];
    let headers = json!({"Type": "TYPE", "TotalCount": "TOTAL", "Active": "ACTIVE", "Size": "SIZE", "Reclaimable": "RECLAIMABLE"});
    let format = Format::parse(args.format.as_deref().unwrap_or(""))?
        .with_default_table("{{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}");
    if !args.verbose {
        print(&format.render_list(&rows, &headers)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut items: Vec<Value> = Vec::new();
    for img in &usage.images {
        let names: Vec<(String, String)> = if img.names.is_empty() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            img.names
                .iter()
                .map(|n| {
                    (
                        n.familiar_repository(),
                        n.tag().unwrap_or("<none>").to_owned(),
                    )
                })
                .collect()
        };
        for (repo, tag) in names {
            items.push(json!({
                "Repository": repo, "Tag": tag, "ID": id(&img.id, false),
                "CreatedSince": since(img.created),
                "Size": human_size_with_precision(img.size, 3),
                "SharedSize": human_size_with_precision(img.shared_size, 3),
                "UniqueSize": human_size_with_precision(img.unique_size, 3),
                "Containers": img.containers.to_string(),
            }));
        }
    }
    let headers = json!({
        "Repository": "REPOSITORY", "Tag": "TAG", "ID": "IMAGE ID", "CreatedSince": "CREATED",
        "Size": "SIZE", "SharedSize": "SHARED SIZE", "UniqueSize": "UNIQUE SIZE", "Containers": "CONTAINERS",
    });
    section(
        "Images space usage:",
        &items,
        &headers,
        "{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}",
    )?;
    let items: Vec<Value> = usage
        .containers
        .iter()
        .map(|c| {
            let s = &c.summary;
            json!({
                "ID": &s.id[..12], "Image": s.image,
                "Command": format!("\"{}\"", ellipsis(&s.command, 20)),
                "LocalVolumes": "0", "Size": human_size(c.size),
                "RunningFor": since(s.created), "Status": status(s), "Names": s.name,
            })
        })
        .collect();
    let headers = json!({
        "ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "LocalVolumes": "LOCAL VOLUMES",
        "Size": "SIZE", "RunningFor": "CREATED", "Status": "STATUS", "Names": "NAMES",
    });
    section(
        "\nContainers space usage:",
        &items,
        &headers,
        "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}",
    )?;
    Ok(ExitCode::SUCCESS)
}

/// One titled table of `system df -v`.
fn section(title: &str, items: &[Value], headers: &Value, template: &str) -> Result<()> {
    let table = Format::parse("")?.with_default_table(template);
    print(&format!(
        "{title}\n\n{}",
        table.render_list(items, headers)?
    ))
}

/// `system check`.
pub fn check(host: &Host, args: &CheckArgs) -> Result<ExitCode> {
    let report = host.check(args.repair)?;
    let s = &report.store;
    let mut out = format!(
        "checked {} blobs ({}), {} images\n",
        s.blobs,
        human_size(s.bytes),
        s.images
    );
    for p in &s.problems {
        out.push_str(&format!("problem: {}\n", p.message));
    }
    for (image, chain) in &report.missing_snapshots {
        out.push_str(&format!(
            "problem: image {image}: snapshot {chain} is missing\n"
        ));
    }
    if s.unreferenced > 0 {
        out.push_str(&format!(
            "{} unreferenced blobs ({}): reclaimable with `strata image prune`\n",
            s.unreferenced,
            human_size(s.unreferenced_bytes)
        ));
    }
    if report.leftovers > 0 {
        out.push_str(&format!(
            "{} leftovers of interrupted or running operations{}\n",
            report.leftovers,
            if args.repair { " (removed)" } else { "" }
        ));
    }
    if args.repair {
        out.push_str(&format!("repaired {} problems\n", report.repaired));
    } else if report.is_clean() {
        out.push_str("store is consistent\n");
    }
    print(&out)?;
    Ok(if report.is_clean() || args.repair {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
