//! `docker cp`'s rules, and hostile roots and archives.

use std::fs;
use std::os::unix::fs::{symlink, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use strata_testkit::{describe_tree, TarBuilder, TempDir};

use super::*;

pub(super) fn root(dir: &Path) -> Root {
    Root::open(dir).unwrap()
}

/// `cp SRC DST` from the tree `from` to the tree `to`.
fn cp(from: &Path, src: &str, to: &Path, dst: &str, follow: bool) -> Result<ApplyStats> {
    let src = Source::locate(&root(from), Path::new(src), follow)?;
    let target = Target::plan(&root(to), Path::new(dst), &src)?;
    copy(&src, target, &CopyOptions::default())
}

/// Two trees: `src` with a file, a directory and links; an empty `dst`.
pub(super) fn trees(t: &TempDir) -> (std::path::PathBuf, std::path::PathBuf) {
    let (src, dst) = (t.join("src"), t.join("dst"));
    fs::create_dir_all(src.join("d/sub")).unwrap();
    fs::create_dir_all(&dst).unwrap();
    fs::write(src.join("f"), b"file").unwrap();
    fs::set_permissions(src.join("f"), fs::Permissions::from_mode(0o640)).unwrap();
    fs::write(src.join("d/a"), b"a").unwrap();
    fs::write(src.join("d/sub/b"), b"b").unwrap();
    fs::hard_link(src.join("d/a"), src.join("d/a-again")).unwrap();
    symlink("a", src.join("d/rel")).unwrap();
    symlink("d", src.join("to-d")).unwrap();
    symlink("/f", src.join("to-f")).unwrap();
    (src, dst)
}

pub(super) fn read(p: impl AsRef<Path>) -> String {
    fs::read_to_string(p).unwrap()
}

#[test]
fn a_file_to_a_missing_path_is_created_there_with_its_mode() {
    let t = TempDir::new("copy");
    let (src, dst) = trees(&t);
    cp(&src, "/f", &dst, "/g", false).unwrap();
    assert_eq!(read(dst.join("g")), "file");
    let meta = fs::metadata(dst.join("g")).unwrap();
    assert_eq!(meta.mode() & 0o7777, 0o640);
    assert_eq!(meta.mtime(), fs::metadata(src.join("f")).unwrap().mtime());
    let err = cp(&src, "/f", &dst, "/nope/g", false).unwrap_err();
    assert!(
        matches!(&err, Error::NotFound(p) if p == Path::new("/nope")),
        "{err}"
    );
}

#[test]
fn a_file_goes_into_a_directory_or_over_a_file() {
    let t = TempDir::new("copy");
    let (src, dst) = trees(&t);
    fs::create_dir(dst.join("dir")).unwrap();
    cp(&src, "f", &dst, "dir", false).unwrap();
    assert_eq!(read(dst.join("dir/f")), "file");
    fs::write(dst.join("old"), b"old content, longer").unwrap();
    cp(&src, "/d/a", &dst, "/old", false).unwrap();
    assert_eq!(read(dst.join("old")), "a");
}

#[test]
fn a_trailing_slash_asks_for_an_existing_directory() {
    let t = TempDir::new("copy");
    let (src, dst) = trees(&t);
    let err = cp(&src, "/f", &dst, "/newdir/", false).unwrap_err();
    assert!(err.to_string().contains("no such directory"), "{err}");
    assert!(!dst.join("newdir").exists());
    // A directory is created there, as Docker does (a missing parent is not).
    cp(&src, "/d", &dst, "/newdir//", false).unwrap();
    assert_eq!(
        describe_tree(&src.join("d")),
        describe_tree(&dst.join("newdir"))
    );
    let err = cp(&src, "/d", &dst, "/nope/newdir/", false).unwrap_err();
    assert!(err.to_string().contains("no such directory"), "{err}");
    fs::write(dst.join("file"), b"x").unwrap();
    let err = cp(&src, "/f", &dst, "/file/", false).unwrap_err();
    assert!(err.to_string().contains("not a directory"), "{err}");
    let err = cp(&src, "/f/", &dst, "/x", false).unwrap_err();
    assert!(err.to_string().contains("not a directory"), "{err}");
}

#[test]
fn a_directory_is_created_copied_into_or_merged_by_its_contents() {
    let t = TempDir::new("copy");
    let (src, dst) = trees(&t);
    // Missing: created with the source's contents.
    cp(&src, "/d", &dst, "/new", false).unwrap();
    assert_eq!(
        describe_tree(&src.join("d")),
        describe_tree(&dst.join("new"))
    );
    // Existing: copied into it under its own name.
    cp(&src, "/d", &dst, "/new", false).unwrap();
    assert_eq!(
        describe_tree(&src.join("d")),
        describe_tree(&dst.join("new/d"))
    );
    // `/.`: its contents merged into it.
    fs::create_dir(dst.join("merged")).unwrap();
    fs::write(dst.join("merged/kept"), b"kept").unwrap();
    fs::set_permissions(dst.join("merged"), fs::Permissions::from_mode(0o711)).unwrap();
    cp(&src, "/d/.", &dst, "/merged", false).unwrap();
    assert_eq!(read(dst.join("merged/kept")), "kept");
    assert_eq!(read(dst.join("merged/sub/b")), "b");
    assert_eq!(
        fs::read_link(dst.join("merged/rel")).unwrap(),
        Path::new("a")
    );
    let meta = fs::metadata(dst.join("merged")).unwrap();
    assert_eq!(
        meta.mode() & 0o777,
        0o711,
        "the destination keeps its own mode"
    );
    // Hard links stay links.
    let a = fs::metadata(dst.join("merged/a")).unwrap();
    assert_eq!(
        a.ino(),
        fs::metadata(dst.join("merged/a-again")).unwrap().ino()
    );
}

#[test]
fn a_directory_never_replaces_a_file_nor_the_reverse() {
    let t = TempDir::new("copy");
    let (src, dst) = trees(&t);
    fs::write(dst.join("file"), b"x").unwrap();
    let err = cp(&src, "/d", &dst, "/file", false).unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot copy a directory to a file"),
        "{err}"
    );
    // `f` into a directory that has a directory named `f`: refused, kept.
    fs::create_dir_all(dst.join("in/f/inner")).unwrap();
    let err = cp(&src, "/f", &dst, "/in", false).unwrap_err();
    assert!(err.to_string().contains("cannot overwrite"), "{err}");
    assert!(dst.join("in/f/inner").is_dir());
}

#[test]
fn a_fifo_device_or_socket_is_no_destination() {
    let t = TempDir::new("copy");
    let (src, dst) = trees(&t);
    let fifo = dst.join("fifo");
    rustix::fs::mknodat(
        rustix::fs::CWD,
        &fifo,
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o600),
        0,
    )
    .unwrap();
    let _socket = std::os::unix::net::UnixListener::bind(dst.join("socket")).unwrap();
    for dest in ["/fifo", "/socket"] {
        let err = cp(&src, "/f", &dst, dest, false).unwrap_err();
        let want = "destination must be a directory or a regular file";
        assert!(err.to_string().contains(want), "{dest}: {err}");
    }
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
}

#[test]
fn a_symlink_is_copied_as_a_link_unless_followed() {
    let t = TempDir::new("copy");
    let (src, dst) = trees(&t);
    cp(&src, "/to-f", &dst, "/", false).unwrap();
    assert_eq!(fs::read_link(dst.join("to-f")).unwrap(), Path::new("/f"));
    cp(&src, "/to-d", &dst, "/", false).unwrap();
    assert_eq!(fs::read_link(dst.join("to-d")).unwrap(), Path::new("d"));
}

#[test]
fn following_a_symlink_copies_its_target_under_the_links_name() {
    let t = TempDir::new("copy");
    let (src, dst) = trees(&t);
    cp(&src, "/to-f", &dst, "/", true).unwrap();
    assert_eq!(read(dst.join("to-f")), "file");
    cp(&src, "/to-d", &dst, "/", true).unwrap();
    assert_eq!(read(dst.join("to-d/sub/b")), "b");
    // A trailing slash follows too.
    cp(&src, "/to-d/", &dst, "/slash", false).unwrap();
    assert_eq!(read(dst.join("slash/a")), "a");
}

#[test]
fn symlinks_in_a_root_resolve_inside_it() {
    let t = TempDir::new("copy");
    let (src, dst) = trees(&t);
    fs::create_dir_all(src.join("etc")).unwrap();
    fs::write(src.join("etc/hostname"), b"inside").unwrap();
    symlink("/", src.join("escape")).unwrap();
    symlink("../../../../../..", src.join("up")).unwrap();
    for path in [
        "/escape/etc/hostname",
        "/up/etc/hostname",
        "/../../etc/hostname",
    ] {
        cp(&src, path, &dst, "/h", false).unwrap();
        assert_eq!(read(dst.join("h")), "inside", "{path}");
    }
    // Writing through them lands inside the destination root too.
    fs::create_dir_all(dst.join("tmp")).unwrap();
    symlink("/", dst.join("escape")).unwrap();
    symlink("/tmp", dst.join("tmp-link")).unwrap();
    cp(&src, "/f", &dst, "/escape/tmp/x", false).unwrap();
    assert_eq!(read(dst.join("tmp/x")), "file");
    cp(&src, "/f", &dst, "/tmp-link", false).unwrap();
    assert_eq!(
        read(dst.join("tmp/f")),
        "file",
        "a link to a directory is followed"
    );
    let err = Source::locate(&root(&src), Path::new("/escape/nope"), false).unwrap_err();
    assert!(matches!(&err, Error::NotFound(p) if p == Path::new("/escape/nope")));
}

#[test]
fn whiteout_names_are_copied_literally() {
    let t = TempDir::new("copy");
    let (src, dst) = trees(&t);
    fs::write(src.join("d/.wh.a"), b"not a whiteout").unwrap();
    fs::write(src.join("d/.wh..wh..opq"), b"nor this").unwrap();
    cp(&src, "/d", &dst, "/copy", false).unwrap();
    assert_eq!(
        describe_tree(&src.join("d")),
        describe_tree(&dst.join("copy"))
    );
    assert_eq!(read(dst.join("copy/a")), "a");
}

#[test]
fn written_tars_name_the_top_entry_as_asked() {
    let t = TempDir::new("copy");
    let (src, _) = trees(&t);
    let names = |path: &str, name: &str| -> Vec<String> {
        let s = Source::locate(&root(&src), Path::new(path), false).unwrap();
        let tar = s.write_tar(Path::new(name), Vec::new()).unwrap();
        let mut a = tar::Archive::new(&tar[..]);
        let entries = a.entries().unwrap();
        entries
            .map(|e| String::from_utf8_lossy(&e.unwrap().path_bytes()).into_owned())
            .collect()
    };
    assert_eq!(names("/f", "g"), ["g"]);
    assert_eq!(names("/d/sub", "sub"), ["sub", "sub/b"]);
    assert_eq!(names("/d/sub/.", "."), [".", "b"]);
    assert_eq!(names("/d/sub/.", ""), [".", "b"]);
}

#[test]
fn kernel_file_systems_are_copied_as_empty_directories() {
    let s = Source::locate(&root(Path::new("/")), Path::new("/proc"), false).unwrap();
    let tar = s.write_tar(s.name(), Vec::new()).unwrap();
    let mut a = tar::Archive::new(&tar[..]);
    let names: Vec<String> = a
        .entries()
        .unwrap()
        .map(|e| String::from_utf8_lossy(&e.unwrap().path_bytes()).into_owned())
        .collect();
    assert_eq!(names, ["proc"]);
}

/// Extracts `tar` into `dir` (inside `root`) as `cp - CONTAINER:DIR` does.
pub(super) fn extract(root_dir: &Path, dir: &str, tar: &[u8]) -> Result<ApplyStats> {
    Target::directory(&root(root_dir), Path::new(dir))?
        .extract_archive(tar, &CopyOptions::default())
}

#[test]
fn an_archive_with_climbing_or_absolute_names_is_refused() {
    let t = TempDir::new("copy");
    let (_, dst) = trees(&t);
    fs::create_dir(dst.join("in")).unwrap();
    for name in ["../outside", "a/../../outside", "/outside", "/in/abs"] {
        let tar = TarBuilder::new().file(name, b"x").finish();
        let err = extract(&dst, "/in", &tar).unwrap_err();
        assert!(matches!(err, Error::Archive(_)), "{name}: {err}");
        let msg = err.to_string();
        assert!(msg.contains("archive") && !msg.contains("layer"), "{msg}");
    }
    let tar = TarBuilder::new()
        .file("ok", b"x")
        .hardlink("h", "/etc/passwd")
        .finish();
    assert!(matches!(extract(&dst, "/in", &tar), Err(Error::Archive(_))));
    assert!(!dst.join("outside").exists());
    assert!(!t.join("outside").exists());
    assert!(!dst.join("in/abs").exists());
}

#[test]
fn an_archive_goes_into_an_existing_directory_through_its_links() {
    let t = TempDir::new("copy");
    let (_, dst) = trees(&t);
    fs::create_dir(dst.join("in")).unwrap();
    symlink("/", dst.join("in/escape")).unwrap();
    let tar = TarBuilder::new()
        .dir("./")
        .file("./.wh.kept", b"literal")
        .file("escape/x", b"x")
        .finish();
    extract(&dst, "/in", &tar).unwrap();
    assert_eq!(read(dst.join("in/.wh.kept")), "literal");
    // A symlink in the destination resolves inside the destination directory:
    // nothing lands outside it.
    assert_eq!(read(dst.join("in/x")), "x");
    assert!(!dst.join("x").exists());
    let err = extract(&dst, "/missing", &tar).unwrap_err();
    assert!(err.to_string().contains("no such directory"), "{err}");
    fs::write(dst.join("file"), b"").unwrap();
    let err = extract(&dst, "/file", &tar).unwrap_err();
    assert!(err.to_string().contains("not a directory"), "{err}");
}

#[test]
fn owners_are_overridden_unless_kept() {
    if !rustix::process::geteuid().is_root() {
        return;
    }
    let t = TempDir::new("copy");
    let (src, dst) = trees(&t);
    std::os::unix::fs::lchown(src.join("f"), Some(1234), Some(4321)).unwrap();
    cp(&src, "/f", &dst, "/kept", false).unwrap();
    let kept = fs::metadata(dst.join("kept")).unwrap();
    assert_eq!((kept.uid(), kept.gid()), (1234, 4321));
    let s = Source::locate(&root(&src), Path::new("/f"), false).unwrap();
    let target = Target::plan(&root(&dst), Path::new("/owned"), &s).unwrap();
    let opts = CopyOptions {
        owner: Some((7, 8)),
        ..CopyOptions::default()
    };
    copy(&s, target, &opts).unwrap();
    let owned = fs::metadata(dst.join("owned")).unwrap();
    assert_eq!((owned.uid(), owned.gid()), (7, 8));
}
