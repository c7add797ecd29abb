//! Output shapes pinned in golden files (`UPDATE_GOLDEN=1` rewrites them; review
//! the diff). The image is reproducible: a crafted tar with fixed times, imported
//! with `SOURCE_DATE_EPOCH`.

use std::path::PathBuf;

use strata_testkit::{assert_golden, TarBuilder};

use crate::common::Strata;

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

fn reproducible_image(s: &Strata) {
    let tar = TarBuilder::new()
        .dir("bin")
        .file_with("bin/tool", b"#!/bin/sh\necho tool\n", 0o755, 0, 0)
        .dir("etc")
        .file("etc/os-release", b"NAME=golden\n")
        .symlink("usr", ".")
        .finish();
    let path = s.dir.join("golden.tar");
    std::fs::write(&path, tar).unwrap();
    let out = s
        .cmd(&[
            "import",
            "-c",
            r#"CMD ["/bin/tool"]"#,
            "-c",
            "ENV PATH=/bin",
            "-c",
            "LABEL org.example.golden=yes",
            "-m",
            "golden image",
            path.to_str().unwrap(),
            "golden:1",
        ])
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn inspect_output_matches_the_golden_file() {
    let s = Strata::new();
    reproducible_image(&s);
    let mut v: serde_json::Value =
        serde_json::from_str(&s.ok(&["image", "inspect", "golden:1"])).unwrap();
    // Paths under the temp store and the tagging time vary; everything else is pinned.
    v[0]["GraphDriver"]["Data"] = serde_json::json!("<store paths>");
    v[0]["Metadata"]["LastTagTime"] = serde_json::json!("<tag time>");
    assert_golden(
        golden("inspect.json"),
        &(serde_json::to_string_pretty(&v).unwrap() + "\n"),
    );
}

#[test]
fn list_and_history_formats_match_the_golden_file() {
    let s = Strata::new();
    reproducible_image(&s);
    s.ok(&["tag", "golden:1", "localhost:5000/team/golden:v1"]);
    let mut out = String::new();
    out += &s.ok(&[
        "images",
        "--digests",
        "--format",
        "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.Size}}",
    ]);
    out += &s.ok(&["images", "--format", "{{json .Repository}} {{.CreatedAt}}"]);
    out += &s.ok(&[
        "history",
        "--no-trunc",
        "--format",
        "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
        "golden:1",
    ]);
    out += &s.ok(&[
        "system",
        "df",
        "--format",
        "{{.Type}} {{.TotalCount}} {{.Size}}",
    ]);
    assert_golden(golden("list-history.txt"), &out);
}
