//! Apply, create and diff tested together: trees in, tars out, trees back.

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::Path;

use strata_testkit::{describe_tree, TarBuilder, TempDir};

use super::*;
use crate::create::{write_dir, CreateOptions};
use crate::diff::{write_overlay_upper, write_tree_diff};

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

fn tar_of(dir: &Path) -> Vec<u8> {
    write_dir(dir, Vec::new(), &CreateOptions::default()).unwrap()
}

fn apply_bytes(tar: &[u8], root: &Path, mode: WhiteoutMode) -> Result<ApplyStats> {
    apply_layer(tar, root, ApplyOptions::new(mode))
}

fn sample_tree(dir: &Path) {
    fs::create_dir_all(dir.join("etc/conf.d")).unwrap();
    fs::write(dir.join("etc/hostname"), b"strata\n").unwrap();
    fs::write(dir.join("etc/conf.d/a"), b"x".repeat(70_000)).unwrap();
    fs::set_permissions(dir.join("etc/conf.d"), fs::Permissions::from_mode(0o750)).unwrap();
    fs::create_dir_all(dir.join("bin")).unwrap();
    fs::write(dir.join("bin/tool"), b"#!/bin/sh\n").unwrap();
    fs::set_permissions(dir.join("bin/tool"), fs::Permissions::from_mode(0o4755)).unwrap();
    fs::hard_link(dir.join("bin/tool"), dir.join("bin/tool-again")).unwrap();
    symlink("tool", dir.join("bin/rel-link")).unwrap();
    symlink("/etc/hostname", dir.join("abs-link")).unwrap();
    fs::write(dir.join("empty"), b"").unwrap();
    let long = "d".repeat(120);
    fs::create_dir_all(dir.join(&long)).unwrap();
    fs::write(dir.join(&long).join("f".repeat(120)), b"long").unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        dir.join("fifo"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o644),
        0,
    )
    .unwrap();
    rustix::fs::setxattr(
        dir.join("etc/hostname"),
        "user.strata",
        b"v1",
        rustix::fs::XattrFlags::empty(),
    )
    .unwrap();
    if is_root() {
        rustix::fs::mknodat(
            rustix::fs::CWD,
            dir.join("null"),
            rustix::fs::FileType::CharacterDevice,
            rustix::fs::Mode::from_raw_mode(0o666),
            rustix::fs::makedev(1, 3),
        )
        .unwrap();
        std::os::unix::fs::lchown(dir.join("etc/conf.d"), Some(1000), Some(1001)).unwrap();
        std::os::unix::fs::lchown(dir.join("abs-link"), Some(7), Some(8)).unwrap();
    }
}

#[test]
fn create_then_apply_round_trips_every_entry_type() {
    let t = TempDir::new("apply");
    let (src, dst) = (t.join("src"), t.join("dst"));
    fs::create_dir_all(&src).unwrap();
    fs::create_dir_all(&dst).unwrap();
    sample_tree(&src);
    let tar = tar_of(&src);
    let stats = apply_bytes(&tar, &dst, WhiteoutMode::Apply).unwrap();
    assert!(stats.entries >= 14, "{stats:?}");
    assert_eq!(describe_tree(&src), describe_tree(&dst));
}

#[test]
fn create_is_deterministic_and_clamps_mtimes() {
    let t = TempDir::new("apply");
    let src = t.join("src");
    fs::create_dir_all(&src).unwrap();
    sample_tree(&src);
    assert_eq!(tar_of(&src), tar_of(&src));
    let opts = CreateOptions {
        clamp_mtime: Some(1000),
    };
    let tar = write_dir(&src, Vec::new(), &opts).unwrap();
    let mut a = tar::Archive::new(&tar[..]);
    for e in a.entries().unwrap() {
        assert!(e.unwrap().header().mtime().unwrap() <= 1000);
    }
}

#[test]
fn whiteouts_delete_lower_content_in_apply_mode() {
    let t = TempDir::new("apply");
    let root = t.join("root");
    fs::create_dir_all(&root).unwrap();
    let base = TarBuilder::new()
        .dir("a")
        .file("a/keep", b"1")
        .file("a/gone", b"2")
        .dir("a/sub")
        .file("a/sub/deep", b"3")
        .finish();
    apply_bytes(&base, &root, WhiteoutMode::Apply).unwrap();
    let top = TarBuilder::new()
        .file("a/.wh.gone", b"")
        .file("a/.wh.sub", b"")
        .finish();
    apply_bytes(&top, &root, WhiteoutMode::Apply).unwrap();
    assert!(root.join("a/keep").exists());
    assert!(!root.join("a/gone").exists());
    assert!(!root.join("a/sub").exists());
}

#[test]
fn opaque_directories_keep_only_this_layers_content() {
    for marker_first in [true, false] {
        let t = TempDir::new("apply");
        let root = t.join("root");
        fs::create_dir_all(&root).unwrap();
        let base = TarBuilder::new()
            .dir("d")
            .file("d/old", b"1")
            .dir("d/x")
            .file("d/x/older", b"2")
            .file("outside", b"3")
            .finish();
        apply_bytes(&base, &root, WhiteoutMode::Apply).unwrap();
        let mut b = TarBuilder::new();
        b.dir("d");
        if marker_first {
            b.file("d/.wh..wh..opq", b"");
        }
        b.dir("d/x").file("d/x/new", b"4");
        if !marker_first {
            b.file("d/.wh..wh..opq", b"");
        }
        apply_bytes(&b.finish(), &root, WhiteoutMode::Apply).unwrap();
        assert!(!root.join("d/old").exists());
        assert!(!root.join("d/x/older").exists());
        assert!(root.join("d/x/new").exists());
        assert!(root.join("outside").exists());
    }
}

#[test]
fn overlay_mode_records_whiteouts_and_round_trips_through_the_upper_differ() {
    if !is_root() {
        return;
    }
    let t = TempDir::new("apply");
    let upper = t.join("upper");
    fs::create_dir_all(&upper).unwrap();
    let layer = TarBuilder::new()
        .dir("d")
        .file("d/.wh..wh..opq", b"")
        .file("d/new", b"n")
        .file("e/.wh.gone", b"")
        .finish();
    apply_bytes(&layer, &upper, WhiteoutMode::Overlay).unwrap();
    let m = fs::symlink_metadata(upper.join("e/gone")).unwrap();
    assert!(std::os::unix::fs::FileTypeExt::is_char_device(
        &m.file_type()
    ));
    assert_eq!(m.rdev(), 0);
    let mut v = [0u8; 4];
    let n = rustix::fs::lgetxattr(upper.join("d"), OVERLAY_OPAQUE, &mut v[..]).unwrap();
    assert_eq!(&v[..n], b"y");

    let tar = write_overlay_upper(&upper, Vec::new(), &CreateOptions::default()).unwrap();
    let names: Vec<String> = tar::Archive::new(&tar[..])
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert_eq!(names, ["d", "d/.wh..wh..opq", "d/new", "e", "e/.wh.gone"]);
}

#[test]
fn tree_diff_applied_to_lower_gives_upper() {
    let t = TempDir::new("apply");
    let (src, lower, upper, work) = (
        t.join("src"),
        t.join("lower"),
        t.join("upper"),
        t.join("work"),
    );
    for d in [&src, &lower, &upper, &work] {
        fs::create_dir_all(d).unwrap();
    }
    // All three trees from the same tar, so unchanged entries compare equal
    // (tar keeps whole seconds; the source tree has nanoseconds).
    sample_tree(&src);
    let lower_tar = tar_of(&src);
    apply_bytes(&lower_tar, &lower, WhiteoutMode::Apply).unwrap();
    apply_bytes(&lower_tar, &upper, WhiteoutMode::Apply).unwrap();
    apply_bytes(&lower_tar, &work, WhiteoutMode::Apply).unwrap();
    // Change the upper tree: modify, add, delete a file and a directory, retype.
    fs::write(upper.join("etc/hostname"), b"changed\n").unwrap();
    fs::write(upper.join("etc/conf.d/new"), b"new").unwrap();
    fs::remove_file(upper.join("empty")).unwrap();
    fs::remove_dir_all(upper.join("d".repeat(120))).unwrap();
    fs::remove_file(upper.join("abs-link")).unwrap();
    fs::create_dir(upper.join("abs-link")).unwrap();
    fs::set_permissions(upper.join("bin"), fs::Permissions::from_mode(0o700)).unwrap();

    let diff = write_tree_diff(&lower, &upper, Vec::new(), &CreateOptions::default()).unwrap();
    apply_bytes(&diff, &work, WhiteoutMode::Apply).unwrap();
    assert_eq!(describe_tree(&upper), describe_tree(&work));
    let names: Vec<String> = tar::Archive::new(&diff[..])
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert!(
        names.contains(&"etc".to_owned()),
        "parent of a change is included: {names:?}"
    );
    assert!(
        !names.contains(&"bin/tool".to_owned()),
        "unchanged files are not: {names:?}"
    );
}

#[test]
fn escaping_entries_are_refused_and_touch_nothing_outside() {
    let t = TempDir::new("apply");
    let root = t.join("root");
    fs::create_dir_all(&root).unwrap();
    for bad in [
        TarBuilder::new().file("../escaped", b"x").finish(),
        TarBuilder::new().file("a/../../escaped", b"x").finish(),
        TarBuilder::new()
            .symlink("l", "/")
            .file("l/escaped", b"x")
            .finish(),
        TarBuilder::new().hardlink("h", "../escaped").finish(),
    ] {
        let err = apply_bytes(&bad, &root, WhiteoutMode::Apply).unwrap_err();
        assert!(matches!(err, Error::Hostile { .. }), "{err}");
    }
    assert!(!t.join("escaped").exists());
}

#[test]
fn symlinks_from_a_lower_layer_cannot_redirect_writes_to_the_host() {
    let t = TempDir::new("apply");
    let root = t.join("root");
    let canary = t.join("canary");
    fs::create_dir_all(&root).unwrap();
    fs::create_dir_all(&canary).unwrap();
    let canary_abs = canary.to_str().unwrap();
    let lower = TarBuilder::new()
        .symlink("abs", canary_abs)
        .symlink("up", "../../../../../../../..")
        .symlink("etc", "/etc")
        .finish();
    apply_bytes(&lower, &root, WhiteoutMode::Apply).unwrap();
    let upper = TarBuilder::new()
        .file("abs/pwned", b"x")
        .file("up/pwned-too", b"y")
        .finish();
    apply_bytes(&upper, &root, WhiteoutMode::Apply).unwrap();
    assert_eq!(
        fs::read_dir(&canary).unwrap().count(),
        0,
        "host canary untouched"
    );
    assert!(root
        .join(canary.strip_prefix("/").unwrap())
        .join("pwned")
        .exists());
    assert!(root.join("pwned-too").exists());
    assert!(!Path::new("/pwned-too").exists());

    // A hard link through a lower symlink resolves inside the root too.
    let link = TarBuilder::new().hardlink("shadow", "etc/passwd").finish();
    assert!(apply_bytes(&link, &root, WhiteoutMode::Apply).is_err());
    assert!(!root.join("shadow").exists());
}

#[test]
fn entries_over_the_size_limit_are_refused() {
    let t = TempDir::new("apply");
    let root = t.join("root");
    fs::create_dir_all(&root).unwrap();
    let tar = TarBuilder::new().file_header_only("huge", 1 << 40).finish();
    let mut opts = ApplyOptions::new(WhiteoutMode::Apply);
    opts.max_entry_size = 1 << 30;
    let err = apply_layer(&tar[..], &root, opts).unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err}");
    assert!(!root.join("huge").exists());
}

#[test]
fn a_later_entry_replaces_an_earlier_one_of_another_type() {
    let t = TempDir::new("apply");
    let root = t.join("root");
    fs::create_dir_all(&root).unwrap();
    let tar = TarBuilder::new()
        .dir("x")
        .file("x/inner", b"1")
        .file("x", b"now a file")
        .symlink("y", "x")
        .dir("y")
        .finish();
    apply_bytes(&tar, &root, WhiteoutMode::Apply).unwrap();
    assert_eq!(fs::read(root.join("x")).unwrap(), b"now a file");
    assert!(fs::symlink_metadata(root.join("y")).unwrap().is_dir());
}

/// A live tree's swap: the node just made becomes a symlink to `../victim`,
/// a file outside the root.
fn swap_for_symlink(parent: &std::os::fd::OwnedFd, name: &std::ffi::OsStr) {
    rustix::fs::unlinkat(parent, name, rustix::fs::AtFlags::empty()).unwrap();
    rustix::fs::symlinkat("../victim", parent, name).unwrap();
}

#[test]
fn a_node_swapped_for_a_symlink_is_never_changed_through_it() {
    let t = TempDir::new("apply");
    let root = t.join("root");
    fs::create_dir_all(&root).unwrap();
    let victim = t.join("victim");
    let mut nodes = vec![("fifo", TarBuilder::new().fifo("fifo").finish())];
    if is_root() {
        nodes.push(("null", TarBuilder::new().char_device("null", 1, 3).finish()));
    }
    for (name, tar) in nodes {
        fs::write(&victim, b"host file").unwrap();
        fs::set_permissions(&victim, fs::Permissions::from_mode(0o600)).unwrap();
        let mut applier = Applier::new(&root, ApplyOptions::new(WhiteoutMode::Literal)).unwrap();
        applier.after_mknod = Some(swap_for_symlink);
        let mut archive = tar::Archive::new(&tar[..]);
        let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
        let err = applier.apply(&mut entry).unwrap_err();
        assert!(err.to_string().contains("set metadata of"), "{name}: {err}");
        let meta = fs::metadata(&victim).unwrap();
        assert_eq!(
            meta.mode() & 0o7777,
            0o600,
            "{name}: chmod followed the link"
        );
        assert_ne!(
            meta.mtime(),
            1_700_000_000,
            "{name}: times followed the link"
        );
    }
}

#[test]
fn a_hard_link_into_a_lower_layer_copies_up_with_the_lower_directories() {
    let lower = TempDir::new("copyup-lower");
    let app = lower.join("home/app");
    fs::create_dir_all(&app).unwrap();
    fs::write(app.join("f"), b"shared").unwrap();
    fs::set_permissions(&app, fs::Permissions::from_mode(0o700)).unwrap();
    if is_root() {
        rustix::fs::chown(
            &app,
            Some(rustix::fs::Uid::from_raw(1000)),
            Some(rustix::fs::Gid::from_raw(1000)),
        )
        .unwrap();
    }
    let upper = TempDir::new("copyup-upper");
    // The layer holds only the link: no entries for its directories.
    let tar = TarBuilder::new()
        .hardlink("home/app/g", "home/app/f")
        .file("home/app/new", b"new")
        .finish();
    let mut opts = ApplyOptions::new(WhiteoutMode::Overlay);
    opts.lowers = vec![lower.path().to_path_buf()];
    apply_layer(&tar[..], upper.path(), opts).unwrap();
    assert_eq!(fs::read(upper.join("home/app/g")).unwrap(), b"shared");
    let meta = fs::metadata(upper.join("home/app")).unwrap();
    assert_eq!(
        meta.mode() & 0o7777,
        0o700,
        "the lower directory's mode, as overlayfs copies up"
    );
    if is_root() {
        assert_eq!((meta.uid(), meta.gid()), (1000, 1000));
    }
}
