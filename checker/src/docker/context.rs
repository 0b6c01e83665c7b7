//! The build context as the engine sees it. With BuildKit the engine asks for files through
//! a session (see `session`): for each folder it names ("context", "dockerfile") it sends
//! include patterns (the paths the Dockerfile's COPY and ADD use), exclude patterns (the
//! `.dockerignore` it read) and paths whose symlinks to follow, and gets back a listing in
//! fsutil's walk order, then the content of the files it does not have yet. This module
//! computes that listing the way fsutil's `FilterFS` does (docker CLI and buildx alike); it
//! reads the folder and never writes to it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::docker::dockerignore::DockerIgnore;
use crate::error::CheckerError;

/// A folder served to the engine, with files swapped or added in memory only: the probes of
/// some goals build a variation of the exercise (a fault swapped in, a source edited)
/// without touching the learner's folder.
#[derive(Clone, Debug)]
pub struct Folder {
    pub root: PathBuf,
    pub overlay: Arc<BTreeMap<String, Vec<u8>>>,
}

/// What the engine asked for in one transfer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub follow: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Dir,
    File,
    Symlink { target: String },
}

/// One entry of the listing: what fsutil's `Stat` carries, and where its content comes from.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Relative to the folder, '/'-separated.
    pub path: String,
    pub kind: Kind,
    /// Permission and special bits (`0o7777` of the Unix mode).
    pub mode: u32,
    pub size: u64,
    pub modified_ns: i64,
    pub content: Content,
}

#[derive(Debug, Clone)]
pub enum Content {
    None,
    Disk(PathBuf),
    Overlay(String),
}

/// The files of the build context the engine was offered during one build (over every
/// transfer it asked for), with their sizes: what the context-size goal measures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Offered {
    pub files: BTreeMap<String, u64>,
}

impl Offered {
    pub fn add(&mut self, entries: &[Entry]) {
        for e in entries.iter().filter(|e| e.kind != Kind::Dir) {
            let size = if e.kind == Kind::File { e.size } else { 0 };
            self.files.insert(e.path.clone(), size);
        }
    }

    /// Bytes of file content.
    pub fn bytes(&self) -> u64 {
        self.files.values().sum()
    }
}

impl Folder {
    #[cfg(test)]
    pub fn new(root: &Path) -> Folder {
        Folder::with_overlay(root, BTreeMap::new())
    }

    pub fn with_overlay(root: &Path, overlay: BTreeMap<String, Vec<u8>>) -> Folder {
        Folder {
            root: root.to_path_buf(),
            overlay: Arc::new(overlay),
        }
    }

    /// The listing fsutil would send for `request`: entries in walk order, each directory
    /// before what it holds, a directory only when it is included itself or holds something
    /// that is. A named pipe, socket or device that would be sent is an error naming it.
    pub fn list(&self, request: &Request) -> Result<Vec<Entry>, CheckerError> {
        let exclude = self.matcher(&request.exclude, "exclude")?;
        let mut includes = request.include.clone();
        includes.extend(self.follow_links(&request.follow));
        let include = if includes.is_empty() {
            None
        } else {
            Some(self.matcher(&includes, "include")?)
        };

        let (mut candidates, specials) = self.walk(&exclude, include.as_ref())?;
        self.add_overlay(&mut candidates);
        // The walk gives each folder's names sorted, so this only places the overlay's;
        // by a key that sorts in fsutil's order with one memcmp (at the dev profile's
        // opt-level, the byte-by-byte comparison it replaces was about 7 % of the samples
        // of a 30,000-file check under perf).
        candidates.sort_by_cached_key(|e| path_sort_key(&e.path));

        let mut out = Vec::new();
        // Directories above the current entry: (index in `candidates`, already sent).
        let mut parents: Vec<(usize, bool)> = Vec::new();
        for (index, entry) in candidates.iter().enumerate() {
            while let Some(&(top, _)) = parents.last() {
                if is_below(&entry.path, &candidates[top].path) {
                    break;
                }
                parents.pop();
            }
            let included = include.as_ref().is_none_or(|m| m.excludes(&entry.path))
                && !exclude.excludes(&entry.path);
            if included {
                if let (Some(what), Content::Disk(path)) =
                    (specials.get(&entry.path), &entry.content)
                {
                    return Err(refuse_special(path, what));
                }
                for (parent, sent) in parents.iter_mut().filter(|(_, sent)| !*sent) {
                    out.push(candidates[*parent].clone());
                    *sent = true;
                }
                out.push(entry.clone());
            }
            if entry.kind == Kind::Dir {
                parents.push((index, included));
            }
        }
        Ok(out)
    }

    fn matcher(&self, patterns: &[String], which: &str) -> Result<DockerIgnore, CheckerError> {
        DockerIgnore::from_patterns(patterns).map_err(|e| CheckerError::DockerIgnore {
            file: self
                .root
                .join(format!("({which} patterns sent by the engine)")),
            line: e.line,
            message: e.message,
        })
    }

    /// Every entry below the root that the patterns cannot rule out wholesale, each folder's
    /// names in byte order (so the whole is in fsutil's order), and which of them are pipes,
    /// sockets or devices (refused if sent; the walk's own stat tells).
    fn walk(
        &self,
        exclude: &DockerIgnore,
        include: Option<&DockerIgnore>,
    ) -> Result<(Vec<Entry>, HashMap<String, &'static str>), CheckerError> {
        let mut entries = Vec::new();
        let mut specials = HashMap::new();
        let mut it = walkdir::WalkDir::new(&self.root)
            .follow_links(false)
            .min_depth(1)
            .sort_by_file_name()
            .into_iter();
        while let Some(item) = it.next() {
            let item = item.map_err(|e| CheckerError::io(&self.root, e))?;
            let rel = relative(&self.root, item.path());
            let meta = item
                .path()
                .symlink_metadata()
                .map_err(|e| CheckerError::io(item.path(), e))?;
            if meta.is_dir()
                && (exclude.can_skip_dir(&rel)
                    || include.is_some_and(|i| i.includes_nothing_in(&rel)))
            {
                it.skip_current_dir();
                continue;
            }
            let kind = if meta.is_dir() {
                Kind::Dir
            } else if meta.file_type().is_symlink() {
                let target = std::fs::read_link(item.path())
                    .map_err(|e| CheckerError::io(item.path(), e))?;
                Kind::Symlink {
                    target: target.to_string_lossy().into_owned(),
                }
            } else {
                if let Some(what) = special(&meta) {
                    specials.insert(rel.clone(), what);
                }
                Kind::File
            };
            let content = match kind {
                Kind::Dir => Content::None,
                _ => Content::Disk(item.path().to_path_buf()),
            };
            entries.push(Entry {
                path: rel,
                size: if kind == Kind::Dir { 0 } else { meta.len() },
                modified_ns: changed_ns(&meta, &kind),
                kind,
                mode: meta.mode() & 0o7777,
                content,
            });
        }
        Ok((entries, specials))
    }

    /// Swaps overlaid files' content in, adds the files (and folders) that are only in the
    /// overlay. A swapped file keeps its place but never its metadata's identity: the engine
    /// decides what to ask for by size and time, and the session's shared key (see `session`)
    /// already keeps overlaid transfers apart from the folder's own.
    fn add_overlay(&self, entries: &mut Vec<Entry>) {
        let known: BTreeSet<String> = entries.iter().map(|e| e.path.clone()).collect();
        for (path, content) in self.overlay.iter() {
            let overlaid = Entry {
                path: path.clone(),
                kind: Kind::File,
                mode: 0o644,
                size: content.len() as u64,
                modified_ns: 0,
                content: Content::Overlay(path.clone()),
            };
            match entries.iter_mut().find(|e| e.path == *path) {
                Some(existing) => *existing = overlaid,
                None => {
                    let mut dir = path.as_str();
                    while let Some((parent, _)) = dir.rsplit_once('/') {
                        if !known.contains(parent) && !entries.iter().any(|e| e.path == parent) {
                            entries.push(Entry {
                                path: parent.to_string(),
                                kind: Kind::Dir,
                                mode: 0o755,
                                size: 0,
                                modified_ns: 0,
                                content: Content::None,
                            });
                        }
                        dir = parent;
                    }
                    entries.push(overlaid);
                }
            }
        }
    }

    /// fsutil's `FollowLinks`: each path asked for, plus where the symlinks on its way lead
    /// (so `COPY link/ ./` sends what the link points at). Wildcard components are kept as
    /// patterns and not resolved.
    fn follow_links(&self, paths: &[String]) -> Vec<String> {
        let mut resolved = BTreeSet::new();
        let mut queue: Vec<(String, usize)> = paths.iter().map(|p| (clean(p), 0)).collect();
        while let Some((path, depth)) = queue.pop() {
            if path.is_empty() || depth > 40 {
                continue;
            }
            let parts: Vec<&str> = path.split('/').collect();
            let mut current = String::new();
            let mut followed = false;
            for (i, part) in parts.iter().enumerate() {
                if !current.is_empty() {
                    current.push('/');
                }
                current.push_str(part);
                if part.contains(['*', '?', '[', '\\']) {
                    break;
                }
                let on_disk = self.root.join(&current);
                let Ok(target) = std::fs::read_link(&on_disk) else {
                    continue;
                };
                let target = target.to_string_lossy().into_owned();
                let base = if target.starts_with('/') {
                    target
                } else {
                    match current.rsplit_once('/') {
                        Some((dir, _)) => format!("{dir}/{target}"),
                        None => target,
                    }
                };
                let rest = parts[i + 1..].join("/");
                resolved.insert(current.clone());
                queue.push((clean(&format!("{base}/{rest}")), depth + 1));
                followed = true;
                break;
            }
            if !followed {
                resolved.insert(path);
            }
        }
        resolved.into_iter().collect()
    }
}

/// The most an ignore file may weigh: real ones are a few dozen lines.
pub const MAX_DOCKERIGNORE_BYTES: u64 = 1024 * 1024;

/// Reads the ignore file that applies to `dockerfile`, as the engine picks it: a
/// Dockerfile-specific `<dockerfile>.dockerignore` beside it, else `.dockerignore` at the
/// context root. Returns its context-relative path (None when there is none) and the
/// matcher; a bad pattern is an error naming the file and line, found before the build
/// starts (the engine's own message names neither).
pub fn load_dockerignore(
    dir: &Path,
    dockerfile: &str,
) -> Result<(Option<String>, DockerIgnore), CheckerError> {
    for rel in [
        format!("{dockerfile}.dockerignore"),
        ".dockerignore".to_string(),
    ] {
        let path = dir.join(&rel);
        // Opened as a learner's file: a FIFO here blocked a grading worker for good, a link
        // to /dev/zero was read without end.
        match crate::learner_file::read_inside(dir, &path, MAX_DOCKERIGNORE_BYTES)? {
            Some(bytes) => {
                let text = crate::learner_file::text(&path, bytes)?;
                let ignore =
                    DockerIgnore::parse(&text).map_err(|e| CheckerError::DockerIgnore {
                        file: path,
                        line: e.line,
                        message: e.message,
                    })?;
                return Ok((Some(rel), ignore));
            }
            None => continue,
        }
    }
    Ok((None, DockerIgnore::empty()))
}

/// The time a file is offered with: its mtime, or its ctime when that is later. The engine
/// sends again only the files whose size, mode or time changed since the last build; a
/// file rewritten with the same size and its mtime put back (`touch -r`, an editor or a
/// `git checkout` that keeps times) kept its old content in the image, and the verdict was
/// stored under the new content's key. The ctime cannot be set back: any write moves it.
fn changed_ns(meta: &std::fs::Metadata, kind: &Kind) -> i64 {
    let modified = meta.mtime() * 1_000_000_000 + meta.mtime_nsec();
    match kind {
        Kind::File => modified.max(meta.ctime() * 1_000_000_000 + meta.ctime_nsec()),
        _ => modified,
    }
}

/// What a pipe, socket or device is, to name it: such files cannot be sent, and the engine
/// would wait on a pipe forever.
fn special(meta: &std::fs::Metadata) -> Option<&'static str> {
    let t = meta.file_type();
    if t.is_fifo() {
        Some("a named pipe (FIFO)")
    } else if t.is_socket() {
        Some("a socket")
    } else if t.is_block_device() || t.is_char_device() {
        Some("a device")
    } else {
        None
    }
}

/// Naming the file is the useful answer.
fn refuse_special(path: &Path, what: &str) -> CheckerError {
    CheckerError::Io {
        path: path.to_path_buf(),
        message: format!(
            "{what} cannot be sent in the build context: remove it, or add it to .dockerignore"
        ),
        source: None,
    }
}

/// fsutil's order (`ComparePath`) as a key: byte order, except that '/' sorts before
/// everything, so a folder's contents come right after it (`a`, `a/b`, `a.txt`); the engine
/// rejects a listing in any other order. '/' becomes NUL, which no path holds.
fn path_sort_key(path: &str) -> Vec<u8> {
    path.bytes()
        .map(|b| if b == b'/' { 0 } else { b })
        .collect()
}

/// Whether `path` lies inside the folder `parent`.
fn is_below(path: &str, parent: &str) -> bool {
    path.strip_prefix(parent)
        .is_some_and(|rest| rest.starts_with('/'))
}

/// `path.Clean` relative to the root: no leading '/', no `.` parts, `..` resolved (above
/// the root stays at the root).
pub(crate) fn clean(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (path, content) in files {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, content).unwrap();
        }
        dir
    }

    fn paths(entries: &[Entry]) -> Vec<&str> {
        entries.iter().map(|e| e.path.as_str()).collect()
    }

    fn excluding(patterns: &str) -> Request {
        Request {
            exclude: patterns.lines().map(str::to_string).collect(),
            ..Request::default()
        }
    }

    #[test]
    fn exclude_patterns_filter_like_dockerignore_with_folders_listed_before_their_files() {
        let dir = tree(&[
            ("Dockerfile", "FROM scratch\n"),
            ("solution/Dockerfile", "FROM scratch\n"),
            ("junk/big.bin", "xxxxxxxxxx"),
            ("README.md", "r"),
            ("KEEP.md", "k"),
            ("docs/deep.md", "d"),
            ("src/main.c", "int main(){}"),
            ("src.txt", "s"),
        ]);
        let listing = Folder::new(dir.path())
            .list(&excluding("Dockerfile*\nsolution\njunk/\n*.md\n!KEEP.md"))
            .unwrap();
        assert_eq!(
            paths(&listing),
            vec![
                "KEEP.md",
                "docs",
                "docs/deep.md",
                "src",
                "src/main.c",
                "src.txt"
            ]
        );
        let mut offered = Offered::default();
        offered.add(&listing);
        assert_eq!(
            offered.files.keys().collect::<Vec<_>>(),
            vec!["KEEP.md", "docs/deep.md", "src.txt", "src/main.c"]
        );
        assert_eq!(offered.bytes(), 1 + 1 + 1 + 12);
    }

    #[test]
    fn without_patterns_everything_goes() {
        let dir = tree(&[("Dockerfile", "FROM scratch\n"), ("a/b/c.txt", "c")]);
        let listing = Folder::new(dir.path()).list(&Request::default()).unwrap();
        assert_eq!(paths(&listing), vec!["Dockerfile", "a", "a/b", "a/b/c.txt"]);
        assert_eq!(listing[1].kind, Kind::Dir);
    }

    #[test]
    fn include_patterns_send_only_what_copy_uses_with_the_folders_on_its_way() {
        let dir = tree(&[
            ("go.mod", "module x\n"),
            ("main.go", "package main\n"),
            ("node_modules/x/index.js", "big"),
            ("public/index.html", "<p>"),
            ("public/style.css", "p{}"),
            ("secrets/.env", "TOKEN"),
        ]);
        let request = Request {
            include: vec!["go.mod".into(), "main.go".into()],
            follow: vec!["public".into()],
            exclude: vec!["public/style.css".into()],
        };
        let listing = Folder::new(dir.path()).list(&request).unwrap();
        assert_eq!(
            paths(&listing),
            vec!["go.mod", "main.go", "public", "public/index.html"]
        );
    }

    #[test]
    fn include_patterns_with_wildcards_reach_into_the_folders_they_can_match() {
        let dir = tree(&[
            ("Dockerfile", "FROM scratch\n"),
            ("node_modules/x/index.js", "big"),
            ("src/a/main.go", "package main\n"),
            ("src/b.go", "package b\n"),
            ("deep/er/x.txt", "x"),
            ("other/x.txt", "x"),
        ]);
        let request = Request {
            include: vec!["src/*/*.go".into(), "**/x.txt".into(), "Dockerfile".into()],
            ..Request::default()
        };
        let listing = Folder::new(dir.path()).list(&request).unwrap();
        assert_eq!(
            paths(&listing),
            vec![
                "Dockerfile",
                "deep",
                "deep/er",
                "deep/er/x.txt",
                "other",
                "other/x.txt",
                "src",
                "src/a",
                "src/a/main.go"
            ]
        );
    }

    #[test]
    fn an_excluded_folder_is_listed_only_for_what_an_exception_brings_back() {
        let dir = tree(&[("a/keep.txt", "k"), ("a/drop.txt", "d"), ("b.txt", "b")]);
        let listing = Folder::new(dir.path())
            .list(&excluding("a\n!a/keep.txt"))
            .unwrap();
        assert_eq!(paths(&listing), vec!["a", "a/keep.txt", "b.txt"]);
    }

    #[test]
    fn overlay_changes_the_served_copy_only() {
        let dir = tree(&[("Dockerfile", "FROM scratch\n"), ("src/app.c", "good")]);
        let folder = Folder::with_overlay(
            dir.path(),
            BTreeMap::from([
                ("src/app.c".to_string(), b"faulty".to_vec()),
                (
                    ".doctest/Dockerfile".to_string(),
                    b"FROM scratch\n".to_vec(),
                ),
            ]),
        );
        let listing = folder.list(&Request::default()).unwrap();
        assert_eq!(
            paths(&listing),
            vec![
                ".doctest",
                ".doctest/Dockerfile",
                "Dockerfile",
                "src",
                "src/app.c"
            ]
        );
        let app = &listing[4];
        assert_eq!(app.size, 6);
        assert!(matches!(&app.content, Content::Overlay(p) if p == "src/app.c"));
        assert_eq!(
            std::fs::read_to_string(dir.path().join("src/app.c")).unwrap(),
            "good"
        );
    }

    #[test]
    fn symlinks_are_listed_as_links_and_followed_when_asked() {
        let dir = tree(&[("real/file.txt", "f"), ("other.txt", "o")]);
        std::os::unix::fs::symlink("real", dir.path().join("link")).unwrap();
        let folder = Folder::new(dir.path());
        let listing = folder
            .list(&Request {
                follow: vec!["link/file.txt".into()],
                ..Request::default()
            })
            .unwrap();
        assert_eq!(paths(&listing), vec!["link", "real", "real/file.txt"]);
        assert_eq!(
            listing[0].kind,
            Kind::Symlink {
                target: "real".into()
            }
        );
    }

    #[test]
    fn a_named_pipe_that_would_be_sent_is_named() {
        let dir = tree(&[("Dockerfile", "FROM scratch\n")]);
        let fifo = dir.path().join("pipe");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let err = Folder::new(dir.path())
            .list(&Request::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("pipe") && err.contains("named pipe"), "{err}");
        // Ignored, it is no problem.
        let listing = Folder::new(dir.path()).list(&excluding("pipe")).unwrap();
        assert_eq!(paths(&listing), vec!["Dockerfile"]);
    }

    /// fsutil's `ComparePath`: byte order, except that '/' sorts before everything, so a
    /// folder's contents come right after it (`a`, `a/b`, `a.txt`). The engine rejects a
    /// listing in any other order.
    fn compare_path(a: &str, b: &str) -> std::cmp::Ordering {
        for (x, y) in a.bytes().zip(b.bytes()) {
            if x == y {
                continue;
            }
            return match (x, y) {
                (b'/', _) => std::cmp::Ordering::Less,
                (_, b'/') => std::cmp::Ordering::Greater,
                _ => x.cmp(&y),
            };
        }
        a.len().cmp(&b.len())
    }

    #[test]
    fn paths_sort_as_fsutil_walks_them() {
        let mut v = vec!["a.txt", "a/b", "a", "a-b", "ab"];
        v.sort_by(|a, b| compare_path(a, b));
        assert_eq!(v, vec!["a", "a/b", "a-b", "a.txt", "ab"]);
        let mut keyed = vec!["a.txt", "a/b", "a", "a-b", "ab", "a/b/c", "a/ b", "a\u{7f}"];
        keyed.sort_by_cached_key(|p| path_sort_key(p));
        let mut compared = keyed.clone();
        compared.sort_by(|a, b| compare_path(a, b));
        assert_eq!(keyed, compared);
    }

    #[test]
    fn a_dockerfile_specific_ignore_file_takes_precedence() {
        let dir = tree(&[
            (".dockerignore", "nothing-matches\n"),
            ("solution/Dockerfile", "FROM scratch\n"),
            ("solution/Dockerfile.dockerignore", "secrets\n"),
        ]);
        let (file, ignore) = load_dockerignore(dir.path(), "solution/Dockerfile").unwrap();
        assert_eq!(file.as_deref(), Some("solution/Dockerfile.dockerignore"));
        assert!(ignore.excludes("secrets/token"));
        let (file, ignore) = load_dockerignore(dir.path(), "Dockerfile").unwrap();
        assert_eq!(file.as_deref(), Some(".dockerignore"));
        assert!(!ignore.excludes("secrets/token"));
    }

    #[test]
    fn a_bad_pattern_names_file_and_line() {
        let dir = tree(&[
            (".dockerignore", "ok\n!\n"),
            ("Dockerfile", "FROM scratch\n"),
        ]);
        let err = load_dockerignore(dir.path(), "Dockerfile")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains(".dockerignore:2"), "{err}");
    }
}
