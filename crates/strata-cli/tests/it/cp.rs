//! `cp` between busybox containers (running, created, exited) and the host,
//! through the real runc (root; skipped locally without it).

use std::fs;
use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use strata_testkit::TarBuilder;

use crate::common::Strata;
use crate::containers::{code, setup, text};

/// A detached busybox that sleeps, with `/data/sub/f` made by `exec`.
fn running(s: &Strata, name: &str, extra: &[&str]) {
    let mut args = vec!["run", "-d", "--name", name];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["busybox", "sleep", "120"]);
    s.ok(&args);
    s.ok(&[
        "exec",
        name,
        "sh",
        "-c",
        "mkdir -p /data/sub && echo inside > /data/sub/f",
    ]);
}

fn read(p: impl AsRef<Path>) -> String {
    fs::read_to_string(p.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", p.as_ref().display()))
}

/// Runs `strata ARGS` with `input` on stdin.
fn with_stdin(s: &Strata, args: &[&str], input: &[u8]) -> std::process::Output {
    strata_testkit::run_with_stdin(&mut s.cmd(args), input)
}

/// True while the container's root file system is mounted on the host.
fn rootfs_mounted(s: &Strata, name: &str) -> bool {
    let id = s.ok(&["inspect", "-f", "{{.Id}}", name]);
    let rootfs = s.root().join("containers").join(id.trim()).join("rootfs");
    let want = rootfs.display().to_string();
    read("/proc/self/mountinfo")
        .lines()
        .any(|l| l.split(' ').nth(4) == Some(want.as_str()))
}

/// The copies `docker cp` makes, out of and into the container `name`.
fn copies_both_ways(s: &Strata, name: &str) {
    let host = s.dir.join(format!("host-{name}"));
    fs::create_dir_all(host.join("merged")).unwrap();
    let h = |p: &str| host.join(p).display().to_string();
    let c = |p: &str| format!("{name}:{p}");
    // Out: a file, a directory (missing, existing, `/.` contents).
    s.ok(&["cp", &c("/data/sub/f"), &h("f")]);
    assert_eq!(read(host.join("f")), "inside\n");
    s.ok(&["cp", &c("/data"), &h("out")]);
    assert_eq!(read(host.join("out/sub/f")), "inside\n");
    s.ok(&["cp", &c("/data"), &h("out")]);
    assert_eq!(read(host.join("out/data/sub/f")), "inside\n");
    s.ok(&["container", "cp", &c("data/."), &h("merged")]);
    assert_eq!(read(host.join("merged/sub/f")), "inside\n");
    let err = s.fails(&["cp", &c("/data/sub/f"), &format!("{}/", h("nodir"))]);
    assert!(err.contains("no such directory"), "{err}");
    // A directory to a missing `x/`: created, as Docker does.
    s.ok(&["cp", &c("/data"), &format!("{}/", h("slashdir"))]);
    assert_eq!(read(host.join("slashdir/sub/f")), "inside\n");
    let err = s.fails(&["cp", &c("/data"), &h("f")]);
    assert!(err.contains("cannot copy a directory to a file"), "{err}");
    let err = s.fails(&["cp", &c("/nope"), &h("x")]);
    assert!(
        err.contains(&format!(
            "Could not find the file /nope in container {name}"
        )),
        "{err}"
    );
    // In: a file into a directory, a directory to a new path, over a file.
    fs::write(host.join("in.txt"), "from host\n").unwrap();
    fs::create_dir_all(host.join("tree/deep")).unwrap();
    fs::write(host.join("tree/deep/x"), "x\n").unwrap();
    s.ok(&["cp", &h("in.txt"), &c("/tmp/")]);
    s.ok(&["cp", &h("tree"), &c("/tmp/newdir")]);
    s.ok(&["cp", &h("tree"), &c("/tmp/slashdir/")]);
    s.ok(&["cp", &h("f"), &c("/tmp/in.txt")]);
    let err = s.fails(&["cp", &h("in.txt"), &c("/no/such/dir/")]);
    assert!(err.contains("no such directory"), "{err}");
    // Read back through the container.
    s.ok(&["cp", &c("/tmp/newdir/deep/x"), &h("x-back")]);
    assert_eq!(read(host.join("x-back")), "x\n");
    s.ok(&["cp", &c("/tmp/slashdir/deep/x"), &h("slash-back")]);
    assert_eq!(read(host.join("slash-back")), "x\n");
    s.ok(&["cp", &c("/tmp/in.txt"), &h("in-back")]);
    assert_eq!(read(host.join("in-back")), "inside\n");
}

#[test]
fn cp_copies_files_and_directories_with_a_running_container() {
    let Some(s) = setup() else { return };
    running(&s, "box", &[]);
    copies_both_ways(&s, "box");
    assert_eq!(s.ok(&["exec", "box", "cat", "/tmp/newdir/deep/x"]), "x\n");
    let err = s.fails(&["cp", "nobox:/etc/passwd", "/tmp/x"]);
    assert!(err.contains("no such container: nobox"), "{err}");
    let err = s.fails(&["cp", "/etc/hostname", "/tmp/x"]);
    assert!(err.contains("must specify at least one container"), "{err}");
    s.ok(&["rm", "-f", "box"]);
}

#[test]
fn cp_copies_with_created_and_exited_containers_and_unmounts_after() {
    let Some(s) = setup() else { return };
    s.ok(&[
        "run",
        "--name",
        "exited",
        "busybox",
        "sh",
        "-c",
        "mkdir -p /data/sub && echo inside > /data/sub/f",
    ]);
    // The monitor unmounts it shortly after the exit.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while rootfs_mounted(&s, "exited") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!rootfs_mounted(&s, "exited"));
    copies_both_ways(&s, "exited");
    assert!(!rootfs_mounted(&s, "exited"), "cp unmounts what it mounted");
    // What was copied into the stopped container is there once it runs.
    s.ok(&["start", "exited"]);
    s.ok(&["wait", "exited"]);
    s.ok(&[
        "create",
        "--name",
        "created",
        "busybox",
        "cat",
        "/tmp/in.txt",
    ]);
    fs::write(s.dir.join("greeting"), "hello\n").unwrap();
    s.ok(&[
        "cp",
        s.dir.join("greeting").to_str().unwrap(),
        "created:/tmp/in.txt",
    ]);
    assert!(!rootfs_mounted(&s, "created"));
    let out = s.run(&["start", "-a", "created"]);
    assert_eq!(text(&out.stdout), "hello\n", "{}", text(&out.stderr));
    s.ok(&["rm", "-f", "exited", "created"]);
}

#[test]
fn cp_streams_tars_to_stdout_and_from_stdin() {
    let Some(s) = setup() else { return };
    running(&s, "stream", &[]);
    let out = s.run(&["cp", "stream:/data", "-"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let mut archive = tar::Archive::new(&out.stdout[..]);
    let mut seen = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().display().to_string();
        let mut data = String::new();
        std::io::Read::read_to_string(&mut entry, &mut data).unwrap();
        seen.push((name, data));
    }
    let names: Vec<&str> = seen.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["data", "data/sub", "data/sub/f"]);
    assert_eq!(seen[2].1, "inside\n");
    // From stdin into an existing directory; `.wh.` names are plain files.
    let tar = TarBuilder::new()
        .dir("./")
        .dir("pkg")
        .file("pkg/a", b"a\n")
        .file("pkg/.wh.a", b"not a whiteout\n")
        .finish();
    let out = with_stdin(&s, &["cp", "-", "stream:/tmp"], &tar);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let listing = s.ok(&[
        "exec",
        "stream",
        "sh",
        "-c",
        "cat /tmp/pkg/a /tmp/pkg/.wh.a",
    ]);
    assert_eq!(listing, "a\nnot a whiteout\n");
    // Climbing or absolute names: refused, nothing written outside.
    for name in ["../escaped", "/escaped-abs"] {
        let tar = TarBuilder::new().file(name, b"x").finish();
        let out = with_stdin(&s, &["cp", "-", "stream:/tmp"], &tar);
        assert_ne!(code(&out), 0, "{name} accepted");
        assert!(
            text(&out.stderr).contains("refusing"),
            "{}",
            text(&out.stderr)
        );
    }
    let out = s.run(&[
        "exec",
        "stream",
        "sh",
        "-c",
        "test ! -e /escaped && test ! -e /escaped-abs && test ! -e /tmp/escaped-abs",
    ]);
    assert_eq!(code(&out), 0, "a refused entry was written");
    let err = text(&with_stdin(&s, &["cp", "-", "stream:/tmp/pkg/a"], &tar).stderr);
    assert!(err.contains("not a directory"), "{err}");
    // A gzip-compressed archive is decompressed, as Docker does.
    let tar = TarBuilder::new().file("gz/a", b"gzipped\n").finish();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).unwrap();
    let out = with_stdin(&s, &["cp", "-", "stream:/tmp"], &gz.finish().unwrap());
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert_eq!(s.ok(&["exec", "stream", "cat", "/tmp/gz/a"]), "gzipped\n");
    // Something that is no archive is called so, not a layer.
    let out = with_stdin(&s, &["cp", "-", "stream:/tmp"], &[b'?'; 2048]);
    let err = text(&out.stderr);
    assert!(
        code(&out) != 0 && err.contains("invalid archive") && !err.contains("layer"),
        "{err}"
    );
    // One running container on both ends of a pipe (megabytes, more than a
    // pipe holds): the two copies share the container's lock.
    s.ok(&["exec", "stream", "mkdir", "/tmp/piped"]);
    let bin = crate::common::bin();
    let out = std::process::Command::new("timeout")
        .args(["60", "sh", "-c"])
        .arg(format!(
            "{bin} cp stream:/bin - | {bin} cp - stream:/tmp/piped"
        ))
        .env("STRATA_ROOT", s.root())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert_eq!(
        s.ok(&[
            "exec",
            "stream",
            "sh",
            "-c",
            "cmp /bin/busybox /tmp/piped/bin/busybox && echo same"
        ]),
        "same\n"
    );
    s.ok(&["rm", "-f", "stream"]);
}

/// `/escape -> /` in the container: paths through it stay in the container.
fn symlinks_stay_inside(s: &Strata, name: &str, tag: &str) {
    let host = s.dir.join(format!("esc-{name}-{tag}"));
    fs::create_dir_all(&host).unwrap();
    let passwd = host.join("passwd");
    s.ok(&[
        "cp",
        &format!("{name}:/escape/etc/passwd"),
        passwd.to_str().unwrap(),
    ]);
    assert!(read(&passwd).starts_with("root:x:0:0:root:/root:/bin/sh\napp:x:1000"));
    // Without `-L` a link is copied as a link; with it, its target (inside the
    // container) under the link's name.
    let etc = host.join("etc");
    s.ok(&["cp", &format!("{name}:/etc-link"), etc.to_str().unwrap()]);
    assert_eq!(fs::read_link(&etc).unwrap(), Path::new("/etc"));
    fs::remove_file(&etc).unwrap();
    s.ok(&[
        "cp",
        "-L",
        &format!("{name}:/etc-link"),
        etc.to_str().unwrap(),
    ]);
    assert_eq!(read(etc.join("passwd")), read(&passwd));
    let marker = format!("strata-cp-escape-{}-{name}-{tag}", std::process::id());
    fs::write(host.join("m"), "in the container\n").unwrap();
    s.ok(&[
        "cp",
        host.join("m").to_str().unwrap(),
        &format!("{name}:/escape/tmp/{marker}"),
    ]);
    assert!(
        !Path::new("/tmp").join(&marker).exists(),
        "written on the host"
    );
    s.ok(&[
        "cp",
        &format!("{name}:/tmp/{marker}"),
        host.join("back").to_str().unwrap(),
    ]);
    assert_eq!(read(host.join("back")), "in the container\n");
}

#[test]
fn cp_resolves_container_symlinks_inside_the_container() {
    let Some(s) = setup() else { return };
    running(&s, "links", &[]);
    s.ok(&[
        "exec",
        "links",
        "sh",
        "-c",
        "ln -s / /escape && ln -s /etc /etc-link",
    ]);
    symlinks_stay_inside(&s, "links", "running");
    s.ok(&["stop", "-t", "0", "links"]);
    symlinks_stay_inside(&s, "links", "stopped");
    s.ok(&["rm", "-f", "links"]);
}

#[test]
fn cp_reaches_tmpfs_and_volumes_of_a_running_container() {
    let Some(s) = setup() else { return };
    let volume = s.dir.join("volume");
    fs::create_dir_all(&volume).unwrap();
    let bind = format!("{}:/vol", volume.display());
    running(&s, "mounts", &["--tmpfs", "/scratch", "-v", &bind]);
    let file = s.dir.join("payload");
    fs::write(&file, "payload\n").unwrap();
    s.ok(&["cp", file.to_str().unwrap(), "mounts:/scratch/"]);
    s.ok(&["cp", file.to_str().unwrap(), "mounts:/vol/copied"]);
    assert_eq!(
        s.ok(&["exec", "mounts", "cat", "/scratch/payload"]),
        "payload\n"
    );
    assert_eq!(s.ok(&["exec", "mounts", "cat", "/vol/copied"]), "payload\n");
    assert_eq!(read(volume.join("copied")), "payload\n");
    s.ok(&["rm", "-f", "mounts"]);
}

#[test]
fn cp_refuses_a_read_only_root_file_system() {
    let Some(s) = setup() else { return };
    let file = s.dir.join("payload");
    fs::write(&file, "payload\n").unwrap();
    running(&s, "ro", &["--read-only", "--tmpfs", "/data"]);
    let err = s.fails(&["cp", file.to_str().unwrap(), "ro:/etc/"]);
    assert!(err.contains("read-only"), "{err}");
    // Its tmpfs is writable, as for its processes.
    s.ok(&["cp", file.to_str().unwrap(), "ro:/data/"]);
    assert_eq!(s.ok(&["exec", "ro", "cat", "/data/payload"]), "payload\n");
    s.ok(&[
        "create",
        "--read-only",
        "--name",
        "ro-stopped",
        "busybox",
        "true",
    ]);
    let err = s.fails(&["cp", file.to_str().unwrap(), "ro-stopped:/tmp/"]);
    assert!(err.contains("read-only"), "{err}");
    // Reading out of either is fine.
    let out = s.dir.join("hostname-out");
    s.ok(&["cp", "ro-stopped:/etc/passwd", out.to_str().unwrap()]);
    s.ok(&["rm", "-f", "ro", "ro-stopped"]);
}

#[test]
fn cp_owns_copies_by_root_or_the_caller_unless_archive() {
    let Some(s) = setup() else { return };
    running(&s, "owners", &[]);
    let file = s.dir.join("owned");
    fs::write(&file, "x\n").unwrap();
    std::os::unix::fs::chown(&file, Some(1234), Some(4321)).unwrap();
    s.ok(&["cp", file.to_str().unwrap(), "owners:/tmp/plain"]);
    s.ok(&["cp", "-a", file.to_str().unwrap(), "owners:/tmp/kept"]);
    let owners = s.ok(&[
        "exec",
        "owners",
        "stat",
        "-c",
        "%u:%g",
        "/tmp/plain",
        "/tmp/kept",
    ]);
    assert_eq!(owners, "0:0\n1234:4321\n");
    // Out: the caller's, or with -a the container's.
    s.ok(&["exec", "owners", "chown", "555:666", "/data/sub/f"]);
    let (plain, kept) = (s.dir.join("out-plain"), s.dir.join("out-kept"));
    s.ok(&["cp", "owners:/data/sub/f", plain.to_str().unwrap()]);
    s.ok(&["cp", "-a", "owners:/data/sub/f", kept.to_str().unwrap()]);
    let meta = fs::metadata(&plain).unwrap();
    let me = (
        rustix::process::geteuid().as_raw(),
        rustix::process::getegid().as_raw(),
    );
    assert_eq!((meta.uid(), meta.gid()), me);
    let meta = fs::metadata(&kept).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (555, 666));
    s.ok(&["rm", "-f", "owners"]);
}

#[test]
fn cp_copies_no_device_nodes_nor_set_id_bits_unless_archive() {
    let Some(s) = setup() else { return };
    running(&s, "privs", &[]);
    s.ok(&[
        "exec",
        "privs",
        "sh",
        "-c",
        "mknod /data/d c 1 3 && echo sh > /data/suid && chmod 4755 /data/suid && mkfifo /data/p",
    ]);
    let (plain, kept) = (s.dir.join("privs-plain"), s.dir.join("privs-kept"));
    // Out: no device on the host, no setuid bit, one warning line.
    let out = s.run(&["cp", "privs:/data", plain.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr),
        "strata cp: skipped 1 device node (use -a to copy them)\n"
    );
    assert!(fs::symlink_metadata(plain.join("d")).is_err());
    let mode = |p: &Path| fs::symlink_metadata(p).unwrap().mode() & 0o7777;
    assert_eq!(mode(&plain.join("suid")), 0o755);
    assert!(fs::symlink_metadata(plain.join("p"))
        .unwrap()
        .file_type()
        .is_fifo());
    // With -a both are kept, and nothing is said.
    let out = s.run(&["cp", "-a", "privs:/data", kept.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
    let d = fs::symlink_metadata(kept.join("d")).unwrap();
    assert!(d.file_type().is_char_device());
    assert_eq!(d.rdev(), rustix::fs::makedev(1, 3));
    assert_eq!(mode(&kept.join("suid")), 0o4755);
    // In: the same.
    let suid = s.dir.join("host-suid");
    fs::write(&suid, "sh\n").unwrap();
    fs::set_permissions(&suid, fs::Permissions::from_mode(0o4755)).unwrap();
    s.ok(&["cp", suid.to_str().unwrap(), "privs:/tmp/plain"]);
    s.ok(&["cp", "-a", suid.to_str().unwrap(), "privs:/tmp/kept"]);
    let modes = s.ok(&[
        "exec",
        "privs",
        "stat",
        "-c",
        "%a",
        "/tmp/plain",
        "/tmp/kept",
    ]);
    assert_eq!(modes, "755\n4755\n");
    s.ok(&["rm", "-f", "privs"]);
}
