//! The build context: a directory, what `.dockerignore` leaves out of it, COPY
//! source patterns expanded against a tree, and the digest of what a COPY takes.

use std::fs;
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rustix::fs::OFlags;

use strata_dockerfile::ignore::IgnoreRules;
use strata_dockerfile::pattern::{has_meta, Pattern};
use strata_oci::{Algorithm, Digest, Digester};

use crate::error::{Error, Result};

/// The most a `.dockerignore` may hold.
const IGNORE_LIMIT: u64 = 1 << 20;

/// Reads file `rel` of the context at `root`, resolved inside it (a symlink
/// there never reads a host file), refusing anything but a regular file (a
/// FIFO would block, a device would run its driver) and anything larger than
/// `limit`. `None` when it does not exist.
pub fn read_context_file(root: &Path, rel: &str, limit: u64) -> Result<Option<String>> {
    let path = root.join(rel);
    let Some((file, size)) = crate::inroot::open_file(root, rel).map_err(|e| match e.kind() {
        io::ErrorKind::InvalidInput => {
            Error::InvalidArgument(format!("{} is not a regular file", path.display()))
        }
        _ => Error::io("open", &path)(e),
    })?
    else {
        return Ok(None);
    };
    if size > limit {
        return Err(Error::InvalidArgument(format!(
            "{} is larger than {limit} bytes",
            path.display()
        )));
    }
    let mut text = String::new();
    file.take(limit)
        .read_to_string(&mut text)
        .map_err(Error::io("read", &path))?;
    Ok(Some(text))
}

/// A build context directory and its `.dockerignore`.
#[derive(Debug)]
pub struct Context {
    root: PathBuf,
    ignore: IgnoreRules,
}

impl Context {
    /// The context at `root` with its ignore rules: BuildKit's
    /// `DOCKERFILE.dockerignore` beside the Dockerfile when `dockerfile` is
    /// given and it exists, else the context's `.dockerignore` if there is one.
    pub fn open(root: &Path, dockerfile: Option<&Path>) -> Result<Context> {
        let root = fs::canonicalize(root).map_err(Error::io("open build context", root))?;
        if !root.is_dir() {
            return Err(Error::InvalidArgument(format!(
                "build context {} is not a directory",
                root.display()
            )));
        }
        // A Dockerfile inside the context has its NAME.dockerignore read
        // inside the context too; one the user named elsewhere (-f), beside it.
        let beside = dockerfile.and_then(|f| {
            let name = f.file_name()?.to_string_lossy().into_owned();
            Some(f.with_file_name(format!("{name}.dockerignore")))
        });
        let inside = |p: &Path| -> Option<String> {
            let p = fs::canonicalize(p.parent()?).ok()?.join(p.file_name()?);
            let rel = p.strip_prefix(&root).ok()?;
            Some(rel.to_string_lossy().into_owned())
        };
        let mut text = None;
        let mut ignore_file = root.join(".dockerignore");
        if let Some(b) = beside {
            let found = match inside(&b) {
                Some(rel) => read_context_file(&root, &rel, IGNORE_LIMIT)?,
                None if b.is_file() => Some(fs::read_to_string(&b).map_err(Error::io("read", &b))?),
                None => None,
            };
            if found.is_some() {
                text = found;
                ignore_file = b;
            }
        }
        let text = match text {
            Some(t) => t,
            None => read_context_file(&root, ".dockerignore", IGNORE_LIMIT)?.unwrap_or_default(),
        };
        let ignore = IgnoreRules::parse(&text)
            .map_err(|e| Error::InvalidArgument(format!("{}: {e}", ignore_file.display())))?;
        Ok(Context { root, ignore })
    }

    /// The context directory (absolute, resolved).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// True when `.dockerignore` leaves `rel` (context-relative) out.
    pub fn is_excluded(&self, rel: &str) -> bool {
        !rel.is_empty() && self.ignore.is_excluded(rel)
    }

    /// True when a walker must enter excluded directory `rel` because an
    /// exception may bring something below it back.
    pub fn may_include_below(&self, rel: &str) -> bool {
        self.ignore.may_include_below(rel)
    }
}

/// A source tree (the context, or a stage's root file system) whose paths
/// resolve inside it as if it were `/`, the way BuildKit scopes COPY sources:
/// a symlink, absolute or not, never leads out of it, so no host path is
/// ever looked at or read through one.
#[derive(Debug)]
pub(crate) struct Tree {
    dir: OwnedFd,
    path: PathBuf,
}

impl Tree {
    pub(crate) fn open(root: &Path) -> Result<Tree> {
        let dir = crate::inroot::open_root(root).map_err(Error::io("open", root))?;
        Ok(Tree {
            dir,
            path: root.to_path_buf(),
        })
    }

    /// The host path `rel` stands for, for messages only.
    pub(crate) fn display(&self, rel: &str) -> PathBuf {
        self.path.join(rel)
    }

    /// `rel` pinned `O_PATH` inside the tree (`extra`: `NOFOLLOW`, `DIRECTORY`).
    fn open_at(&self, rel: &str, extra: OFlags) -> io::Result<OwnedFd> {
        crate::inroot::pin(&self.dir, rel, extra)
    }

    /// The metadata of `rel`, following a last symlink (inside the tree).
    pub(crate) fn metadata(&self, rel: &str) -> io::Result<fs::Metadata> {
        fs::File::from(self.open_at(rel, OFlags::empty())?).metadata()
    }

    /// The metadata of `rel` itself (a last symlink is not followed).
    pub(crate) fn symlink_metadata(&self, rel: &str) -> io::Result<fs::Metadata> {
        fs::File::from(self.open_at(rel, OFlags::NOFOLLOW)?).metadata()
    }

    /// Opens regular file `rel` for reading (never a device or FIFO).
    pub(crate) fn open_file(&self, rel: &str) -> io::Result<fs::File> {
        // Checked before it is opened: opening a device would run its driver.
        crate::inroot::open_regular(&self.open_at(rel, OFlags::empty())?).map(|(f, _)| f)
    }

    /// The target of symlink `rel`.
    pub(crate) fn read_link(&self, rel: &str) -> io::Result<PathBuf> {
        let fd = self.open_at(rel, OFlags::NOFOLLOW)?;
        let target = rustix::fs::readlinkat(&fd, "", Vec::new())?;
        Ok(PathBuf::from(std::ffi::OsStr::from_bytes(
            target.as_bytes(),
        )))
    }

    /// The names in directory `rel` (following symlinks inside the tree).
    pub(crate) fn read_dir(&self, rel: &str) -> io::Result<Vec<String>> {
        let dir = crate::inroot::reopen(&self.open_at(rel, OFlags::DIRECTORY)?)?;
        let mut names = Vec::new();
        for entry in rustix::fs::Dir::new(OwnedFd::from(dir))? {
            let entry = entry?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            if let Ok(n) = std::str::from_utf8(name) {
                names.push(n.to_owned());
            }
        }
        Ok(names)
    }
}

/// A COPY source made relative to its tree's root: `/a/../b` → `b`, `.` → ``.
/// `None` when it climbs out of the root.
pub(crate) fn relative(source: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in source.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

/// Expands a COPY source pattern against the tree at `root`: the paths (relative
/// to `root`, sorted) it names that exist and that `keep` accepts. A pattern
/// without wildcards names one path, which must exist.
pub(crate) fn expand(
    root: &Path,
    source: &str,
    keep: &dyn Fn(&str) -> bool,
) -> Result<Vec<String>> {
    let rel = relative(source).ok_or_else(|| {
        Error::InvalidArgument(format!(
            "COPY source {source:?} is outside the build context"
        ))
    })?;
    let not_found = || {
        Error::NotFound(format!(
            "COPY source {source:?}: no such file or directory in the build context"
        ))
    };
    let tree = Tree::open(root)?;
    if !has_meta(&rel) {
        if tree.symlink_metadata(&rel).is_err() || !keep(&rel) {
            return Err(not_found());
        }
        return Ok(vec![rel]);
    }
    let mut found = vec![String::new()];
    for part in rel.split('/') {
        let mut next = Vec::new();
        if has_meta(part) {
            let pattern = Pattern::new(part)
                .map_err(|e| Error::InvalidArgument(format!("COPY source {source:?}: {e}")))?;
            for dir in &found {
                let Ok(entries) = tree.read_dir(dir) else {
                    continue;
                };
                let mut names: Vec<String> =
                    entries.into_iter().filter(|n| pattern.matches(n)).collect();
                names.sort();
                next.extend(names.into_iter().map(|n| join(dir, &n)));
            }
        } else {
            next = found
                .iter()
                .map(|d| join(d, part))
                .filter(|p| tree.symlink_metadata(p).is_ok())
                .collect();
        }
        found = next;
    }
    found.retain(|p| keep(p));
    if found.is_empty() {
        return Err(not_found());
    }
    Ok(found)
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        format!("{dir}/{name}")
    }
}

/// One entry of what a COPY takes, as hashed.
enum Hashed {
    /// A line describing the entry fully (directories, links, devices).
    Line(String),
    /// A regular file: the line's start, and its path for the content hash.
    File(String, String),
}

/// Hashes what copying `paths` (relative to `root`) would take: each entry's
/// relative path, type, permission bits, link target and content, in a
/// fixed order; entries `keep` rejects are left out (and not entered). A
/// source that is a symlink is followed (inside the tree), as COPY follows
/// it. File contents are hashed on every core.
pub(crate) fn digest(root: &Path, paths: &[String], keep: &dyn Fn(&str) -> bool) -> Result<Digest> {
    let tree = Tree::open(root)?;
    let mut entries = Vec::new();
    for p in paths {
        entries.push(Hashed::Line(format!("source {p}\n")));
        list_entry(&tree, p, keep, &mut entries)?;
    }
    let files: Vec<&str> = entries
        .iter()
        .filter_map(|e| match e {
            Hashed::File(_, rel) => Some(rel.as_str()),
            Hashed::Line(_) => None,
        })
        .collect();
    let sums = hash_files(&tree, &files)?;
    let mut sums = sums.into_iter();
    let mut d = Digester::new(Algorithm::Sha256);
    for e in &entries {
        match e {
            Hashed::Line(l) => d.update(l.as_bytes()),
            Hashed::File(head, _) => {
                let sum = sums.next().unwrap_or_default();
                d.update(format!("{head} {sum}\n").as_bytes());
            }
        }
    }
    Ok(d.finish())
}

fn list_entry(
    tree: &Tree,
    top: &str,
    keep: &dyn Fn(&str) -> bool,
    out: &mut Vec<Hashed>,
) -> Result<()> {
    // Depth first with an explicit stack (a context any depth deep cannot
    // overflow ours); the source itself is followed if a symlink.
    let mut todo = vec![(top.to_owned(), true)];
    while let Some((rel, follow)) = todo.pop() {
        let path = tree.display(&rel);
        let meta = if follow {
            tree.metadata(&rel)
        } else {
            tree.symlink_metadata(&rel)
        }
        .map_err(Error::io("read", &path))?;
        let ft = meta.file_type();
        let mode = meta.permissions().mode() & 0o7777;
        if ft.is_symlink() {
            let target = tree
                .read_link(&rel)
                .map_err(Error::io("read link", &path))?;
            out.push(Hashed::Line(format!(
                "l {rel} {mode:o} {}\n",
                target.display()
            )));
        } else if ft.is_file() {
            out.push(Hashed::File(
                format!("f {rel} {mode:o} {}", meta.len()),
                rel.clone(),
            ));
        } else if ft.is_dir() {
            out.push(Hashed::Line(format!("d {rel} {mode:o}\n")));
            let mut names = tree.read_dir(&rel).map_err(Error::io("read", &path))?;
            names.sort();
            // Pushed in reverse so that they come off the stack in order.
            for n in names.iter().rev() {
                let child = join(&rel, n);
                if keep(&child) {
                    todo.push((child, false));
                }
            }
        } else {
            out.push(Hashed::Line(format!("s {rel} {mode:o} {}\n", meta.rdev())));
        }
    }
    Ok(())
}

/// The SHA-256 of each file's content, in order, on every core.
fn hash_files(tree: &Tree, files: &[&str]) -> Result<Vec<String>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(8);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let sums: Vec<std::sync::Mutex<Option<Result<String>>>> =
        files.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut buf = vec![0u8; 256 * 1024];
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(rel) = files.get(i) else { break };
                    let sum = hash_file(tree, rel, &mut buf);
                    if let Ok(mut slot) = sums[i].lock() {
                        *slot = Some(sum);
                    }
                }
            });
        }
    });
    sums.into_iter()
        .map(|m| {
            m.into_inner().ok().flatten().unwrap_or_else(|| {
                Err(Error::InvalidArgument(
                    "hashing the build context stopped".into(),
                ))
            })
        })
        .collect()
}

fn hash_file(tree: &Tree, rel: &str, buf: &mut [u8]) -> Result<String> {
    let path = tree.display(rel);
    let mut f = tree.open_file(rel).map_err(Error::io("open", &path))?;
    let mut h = Digester::new(Algorithm::Sha256);
    loop {
        let n = f.read(buf).map_err(Error::io("read", &path))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finish().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_symlinked_source_is_hashed_by_what_it_points_to() {
        let t = strata_testkit::TempDir::new("ctx-digest-link");
        fs::write(t.join("real"), "one").unwrap();
        std::os::unix::fs::symlink("real", t.join("link")).unwrap();
        let all = |_: &str| true;
        let paths = vec!["link".to_owned()];
        let first = digest(t.path(), &paths, &all).unwrap();
        fs::write(t.join("real"), "two").unwrap();
        assert_ne!(first, digest(t.path(), &paths, &all).unwrap());
    }

    #[test]
    fn relative_sources_stay_inside_the_root() {
        assert_eq!(relative("/a/../b").as_deref(), Some("b"));
        assert_eq!(relative(".").as_deref(), Some(""));
        assert_eq!(relative("./x/").as_deref(), Some("x"));
        assert_eq!(relative("../x"), None);
    }

    #[test]
    fn expand_matches_wildcards_per_component_and_sorts() {
        let t = strata_testkit::TempDir::new("ctx-expand");
        for f in ["a.txt", "b.txt", "c.md", "sub/d.txt"] {
            let p = t.join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, f).unwrap();
        }
        let all = |_: &str| true;
        assert_eq!(expand(t.path(), "*.txt", &all).unwrap(), ["a.txt", "b.txt"]);
        assert_eq!(expand(t.path(), "*/d.txt", &all).unwrap(), ["sub/d.txt"]);
        assert_eq!(expand(t.path(), "c.md", &all).unwrap(), ["c.md"]);
        assert!(expand(t.path(), "nope", &all).is_err());
        assert!(expand(t.path(), "*.rs", &all).is_err());
        assert!(expand(t.path(), "c.md", &|p: &str| p != "c.md").is_err());
    }

    #[test]
    fn symlinks_resolve_inside_the_tree_never_on_the_host() {
        let t = strata_testkit::TempDir::new("ctx-in-root");
        fs::create_dir_all(t.join("inner")).unwrap();
        fs::write(t.join("inner/file"), "in the tree").unwrap();
        std::os::unix::fs::symlink("/inner", t.join("abs")).unwrap();
        // On the host, /etc/passwd exists; inside the tree, /etc does not.
        std::os::unix::fs::symlink("/etc", t.join("host-etc")).unwrap();
        let all = |_: &str| true;
        assert_eq!(expand(t.path(), "abs/file", &all).unwrap(), ["abs/file"]);
        assert_eq!(expand(t.path(), "abs/*", &all).unwrap(), ["abs/file"]);
        assert!(expand(t.path(), "host-etc/passwd", &all).is_err());
        assert!(expand(t.path(), "host-etc/pass*", &all).is_err());
        let tree = Tree::open(t.path()).unwrap();
        let mut text = String::new();
        tree.open_file("abs/file")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "in the tree");
        assert!(tree.open_file("host-etc/passwd").is_err());
        assert!(tree.metadata("host-etc/passwd").is_err());
        let paths = vec!["abs".to_owned()];
        assert!(digest(t.path(), &paths, &all).is_ok());
    }

    #[test]
    fn digest_changes_with_content_and_mode_but_not_mtime() {
        let t = strata_testkit::TempDir::new("ctx-digest");
        fs::write(t.join("f"), "one").unwrap();
        let all = |_: &str| true;
        let paths = vec!["f".to_owned()];
        let first = digest(t.path(), &paths, &all).unwrap();
        fs::write(t.join("f"), "two").unwrap();
        let second = digest(t.path(), &paths, &all).unwrap();
        assert_ne!(first, second);
        fs::set_permissions(t.join("f"), fs::Permissions::from_mode(0o700)).unwrap();
        assert_ne!(second, digest(t.path(), &paths, &all).unwrap());
    }
}
