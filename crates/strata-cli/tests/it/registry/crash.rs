//! A pull killed at any moment leaves no partial image; the next one completes.

use std::time::Duration;

use super::{image_id, Proxy, Registry, Setup};
use crate::common::Strata;

#[test]
fn kill_during_pull_leaves_no_image_and_the_next_pull_completes() {
    let Some(reg) = Registry::start(Setup::Plain) else {
        return;
    };
    // A slow link, so the kill lands mid-transfer.
    let Some(proxy) = Proxy::start(&reg, &["--delay-ms", "2"]) else {
        return;
    };
    let s = Strata::new();
    let tree = s.dir.join("big");
    std::fs::create_dir_all(&tree).unwrap();
    // 24 MiB that gzip cannot shrink.
    let mut data = vec![0u8; 24 << 20];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for chunk in data.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    std::fs::write(tree.join("random"), &data).unwrap();
    let name = format!("{}/big:1", proxy.addr);
    s.ok(&["import", tree.to_str().unwrap(), &name]);
    s.ok(&["push", &name]);

    let t = Strata::new();
    for delay in [150, 400] {
        let mut child = t.cmd(&["pull", "-q", &name]).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        let status = child.wait().unwrap();
        if status.success() {
            continue;
        }
        assert!(
            t.ok(&["images", "-q"]).trim().is_empty(),
            "a killed pull names no image"
        );
        t.assert_consistent();
    }
    t.ok(&["pull", &name]);
    assert_eq!(image_id(&s, &name), image_id(&t, &name));
    t.assert_consistent();
    t.ok(&["rmi", &name]);
    t.assert_consistent();
}
