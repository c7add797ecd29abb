//! `kill -9` at any moment of import, load or prune leaves a store that passes
//! `system check`; several strata processes at once are safe.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::common::{sample_rootfs, Strata};

/// A tree big enough that import takes a while: many files, mixed content.
fn big_tree(dir: &Path) {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for d in 0..40 {
        let sub = dir.join(format!("d{d:02}"));
        fs::create_dir_all(&sub).unwrap();
        for f in 0..50 {
            let mut data = Vec::with_capacity(16 * 1024);
            for i in 0..2048u64 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Half random, half text: compressible like real binaries.
                let v = if i % 2 == 0 { x } else { 0x2020_6f6c_6c65_6820 };
                data.extend_from_slice(&v.to_le_bytes());
            }
            fs::write(sub.join(format!("f{f:02}")), data).unwrap();
        }
    }
}

/// Runs `args`, kills it with SIGKILL after `delay` (if still running), then
/// asserts the store is consistent.
fn kill_after(s: &Strata, args: &[&str], delay: Duration) {
    let mut child = s
        .cmd(args)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(delay);
    let _ = child.kill();
    let _ = child.wait();
    s.assert_consistent();
}

fn timed(s: &Strata, args: &[&str]) -> Duration {
    let t = Instant::now();
    s.ok(args);
    t.elapsed()
}

#[test]
fn kill_during_import_load_or_prune_leaves_a_consistent_store() {
    let s = Strata::new();
    let tree = s.dir.join("big");
    big_tree(&tree);
    let tree = tree.to_str().unwrap().to_owned();
    let full = timed(&s, &["import", &tree, "big:base"]);
    let archive = s.dir.join("big.tar");
    s.ok(&["save", "-o", archive.to_str().unwrap(), "big:base"]);
    s.ok(&["rmi", "big:base"]);

    let fractions = [0.0, 0.05, 0.15, 0.3, 0.5, 0.7, 0.9, 1.1];
    for (i, f) in fractions.iter().enumerate() {
        let name = format!("big:{i}");
        kill_after(&s, &["import", &tree, &name], full.mul_f64(*f));
    }
    let load_time = timed(&s, &["load", "-i", archive.to_str().unwrap()]);
    s.ok(&["rmi", "big:base"]);
    for f in fractions {
        kill_after(
            &s,
            &["load", "-i", archive.to_str().unwrap()],
            load_time.mul_f64(f),
        );
    }
    for f in [0.0, 0.3, 0.6, 1.0] {
        kill_after(
            &s,
            &["image", "prune", "-a", "-f"],
            Duration::from_millis((f * 50.0) as u64),
        );
    }
    // Whatever survived, a full run works afterwards and cleans the leftovers.
    s.ok(&["import", &tree, "big:final"]);
    s.ok(&["image", "prune", "-f"]);
    let check = s.ok(&["system", "check"]);
    assert!(
        !check.contains("leftovers"),
        "prune cleared interrupted work: {check}"
    );
    assert!(s.ok(&["images", "-q", "big:final"]).trim().len() == 12);
}

#[test]
fn concurrent_processes_keep_the_store_consistent() {
    let s = Strata::new();
    for i in 0..4 {
        sample_rootfs(&s.dir.join(format!("t{i}")), &format!("seed{i}"));
    }
    s.import_tree("victim:1", "victim");
    s.import_tree("dangling:1", "d1");
    s.import_tree("dangling:1", "d2");
    let mut children = Vec::new();
    for round in 0..3 {
        for i in 0..4 {
            let tree = s.dir.join(format!("t{i}"));
            children.push(
                s.cmd(&["import", tree.to_str().unwrap(), &format!("c{i}:{round}")])
                    .stdout(std::process::Stdio::null())
                    .spawn()
                    .unwrap(),
            );
        }
        children.push(
            s.cmd(&["image", "prune", "-f"])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
        children.push(
            s.cmd(&["images"])
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
    }
    children.push(
        s.cmd(&["rmi", "victim:1"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    s.assert_consistent();
    let names = s.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    for round in 0..3 {
        for i in 0..4 {
            assert!(
                names.contains(&format!("c{i}:{round}")),
                "c{i}:{round} missing from {names}"
            );
        }
    }
    assert!(!names.contains("victim"));
}
