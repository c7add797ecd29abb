//! What a copy may carry: no privileges unless `archive`; archives from
//! elsewhere, compressed or broken.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use rustix::fs::{FileType, Mode, XattrFlags};
use strata_testkit::{TarBuilder, TempDir};

use super::tests::{extract, read, root, trees};
use super::*;

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// A `security.capability` value (VFS_CAP_REVISION_2, effective) granting
/// CAP_NET_RAW, as `setcap cap_net_raw+ep` writes it.
const CAP_NET_RAW: [u8; 20] = [
    1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

fn xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 256];
    let n = rustix::fs::lgetxattr(path, name, &mut buf[..]).ok()?;
    buf.truncate(n);
    Some(buf)
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().mode() & 0o7777
}

fn mknod(path: &Path, ft: FileType, dev: u64) {
    rustix::fs::mknodat(rustix::fs::CWD, path, ft, Mode::from_raw_mode(0o666), dev).unwrap();
}

/// `src/p` with set-id files, privileged xattrs (as root), a device node (as
/// root) and a FIFO.
fn privileged_tree(src: &Path) {
    let p = src.join("p");
    fs::create_dir_all(&p).unwrap();
    for (name, m) in [("su", 0o4755), ("sg", 0o2755)] {
        fs::write(p.join(name), b"#!/bin/sh\n").unwrap();
        fs::set_permissions(p.join(name), fs::Permissions::from_mode(m)).unwrap();
    }
    fs::write(p.join("ping"), b"ping").unwrap();
    let set = |name: &str, value: &[u8]| {
        rustix::fs::setxattr(p.join("ping"), name, value, XattrFlags::empty()).unwrap()
    };
    set("user.kept", b"v");
    mknod(&p.join("fifo"), FileType::Fifo, 0);
    if is_root() {
        set("security.capability", &CAP_NET_RAW);
        set("trusted.strata", b"t");
        mknod(
            &p.join("null"),
            FileType::CharacterDevice,
            rustix::fs::makedev(1, 3),
        );
    }
}

fn cp_tree(src: &Path, dst: &Path, dest: &str, archive: bool) -> ApplyStats {
    let s = Source::locate(&root(src), Path::new("/p"), false).unwrap();
    let target = Target::plan(&root(dst), Path::new(dest), &s).unwrap();
    let opts = CopyOptions {
        archive,
        ..CopyOptions::default()
    };
    copy(&s, target, &opts).unwrap()
}

fn is_fifo(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_fifo())
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

#[test]
fn a_copy_carries_no_set_id_bits_capabilities_nor_devices_unless_archive() {
    let t = TempDir::new("copy-priv");
    let (src, dst) = trees(&t);
    privileged_tree(&src);
    let stats = cp_tree(&src, &dst, "/plain", false);
    let out = dst.join("plain");
    let ping = out.join("ping");
    assert_eq!(mode(&out.join("su")), 0o755);
    assert_eq!(mode(&out.join("sg")), 0o755);
    assert_eq!(xattr(&ping, "user.kept").as_deref(), Some(&b"v"[..]));
    assert_eq!(xattr(&ping, "security.capability"), None);
    assert_eq!(xattr(&ping, "trusted.strata"), None);
    assert!(is_fifo(&out.join("fifo")));
    assert!(fs::symlink_metadata(out.join("null")).is_err());
    assert_eq!(stats.skipped_devices, u64::from(is_root()));
    if !is_root() {
        return;
    }
    let stats = cp_tree(&src, &dst, "/kept", true);
    let out = dst.join("kept");
    let ping = out.join("ping");
    assert_eq!(mode(&out.join("su")), 0o4755);
    assert_eq!(mode(&out.join("sg")), 0o2755);
    let cap = xattr(&ping, "security.capability");
    assert_eq!(cap.as_deref(), Some(&CAP_NET_RAW[..]));
    assert_eq!(xattr(&ping, "trusted.strata").as_deref(), Some(&b"t"[..]));
    let null = fs::symlink_metadata(out.join("null")).unwrap();
    assert!(null.file_type().is_char_device());
    assert_eq!(null.rdev(), rustix::fs::makedev(1, 3));
    assert_eq!(stats.skipped_devices, 0);
}

/// What an archive from elsewhere may try to plant.
fn hostile_archive() -> Vec<u8> {
    TarBuilder::new()
        .file_with("su", b"#!/bin/sh\n", 0o6755, 0, 0)
        .pax(&[
            ("SCHILY.xattr.security.capability", &CAP_NET_RAW[..]),
            ("SCHILY.xattr.user.kept", b"v"),
        ])
        .file("ping", b"ping")
        .char_device("mem", 1, 3)
        .hardlink("mem-again", "mem")
        .fifo("fifo")
        .finish()
}

#[test]
fn an_archive_copied_in_plants_no_privileges_unless_archive() {
    let t = TempDir::new("copy-priv");
    let (_, dst) = trees(&t);
    fs::create_dir_all(dst.join("plain")).unwrap();
    let stats = extract(&dst, "/plain", &hostile_archive()).unwrap();
    let out = dst.join("plain");
    assert_eq!(mode(&out.join("su")), 0o755);
    assert_eq!(xattr(&out.join("ping"), "security.capability"), None);
    assert_eq!(
        xattr(&out.join("ping"), "user.kept").as_deref(),
        Some(&b"v"[..])
    );
    assert!(fs::symlink_metadata(out.join("mem")).is_err());
    assert!(fs::symlink_metadata(out.join("mem-again")).is_err());
    assert!(is_fifo(&out.join("fifo")));
    assert_eq!(stats.skipped_devices, 2, "the device and its hard link");
    if !is_root() {
        return;
    }
    fs::create_dir_all(dst.join("kept")).unwrap();
    let opts = CopyOptions {
        archive: true,
        ..CopyOptions::default()
    };
    let stats = Target::directory(&root(&dst), Path::new("/kept"))
        .unwrap()
        .extract_archive(&hostile_archive()[..], &opts)
        .unwrap();
    let out = dst.join("kept");
    assert_eq!(mode(&out.join("su")), 0o6755);
    let cap = xattr(&out.join("ping"), "security.capability");
    assert_eq!(cap.as_deref(), Some(&CAP_NET_RAW[..]));
    let mem = fs::symlink_metadata(out.join("mem")).unwrap();
    assert!(mem.file_type().is_char_device());
    assert_eq!(
        mem.ino(),
        fs::symlink_metadata(out.join("mem-again")).unwrap().ino()
    );
    assert_eq!(stats.skipped_devices, 0);
}

#[test]
fn compressed_archives_are_decompressed() {
    let t = TempDir::new("copy-priv");
    let (_, dst) = trees(&t);
    let tar = TarBuilder::new().dir("pkg").file("pkg/a", b"a\n").finish();
    let gz = gzip(&tar);
    let zst = zstd::encode_all(&tar[..], 3).unwrap();
    for (name, archive) in [("gz", gz), ("zst", zst)] {
        fs::create_dir_all(dst.join(name)).unwrap();
        extract(&dst, &format!("/{name}"), &archive).unwrap();
        assert_eq!(read(dst.join(name).join("pkg/a")), "a\n", "{name}");
    }
}

#[test]
fn a_broken_archive_is_called_an_archive() {
    let t = TempDir::new("copy-priv");
    let (_, dst) = trees(&t);
    fs::create_dir_all(dst.join("in")).unwrap();
    let tar = TarBuilder::new().file("a", &[b'x'; 4096]).finish();
    let gz = gzip(&tar);
    let garbage = vec![b'?'; 2048];
    for (name, bytes) in [("garbage", &garbage[..]), ("truncated gzip", &gz[..20])] {
        let err = extract(&dst, "/in", bytes).unwrap_err().to_string();
        assert!(
            err.contains("invalid archive") && !err.contains("layer"),
            "{name}: {err}"
        );
    }
}
