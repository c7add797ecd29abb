//! Golden cases: `testdata/parse/<case>/Dockerfile` parses to `expected` (pretty JSON),
//! `testdata/parse-invalid/<case>/Dockerfile` fails with the error in `expected`.
//! `UPDATE_GOLDEN=1` rewrites the expected files.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};

use strata_testkit::assert_golden;

fn cases(kind: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(kind);
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.join("Dockerfile").is_file())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn dockerfiles_parse_as_recorded() {
    let valid = cases("parse");
    assert!(valid.len() >= 40, "only {} valid cases", valid.len());
    for dir in &valid {
        let text = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
        let parsed =
            strata_dockerfile::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let json = serde_json::to_string_pretty(&parsed).unwrap() + "\n";
        assert_golden(dir.join("expected"), &json);
    }

    let invalid = cases("parse-invalid");
    assert!(invalid.len() >= 12, "only {} invalid cases", invalid.len());
    for dir in &invalid {
        let text = std::fs::read_to_string(dir.join("Dockerfile")).unwrap();
        let error = match strata_dockerfile::parse(&text) {
            Ok(_) => panic!("{}: parsed, expected an error", dir.display()),
            Err(e) => e,
        };
        assert_golden(dir.join("expected"), &format!("{error}\n"));
    }
}
