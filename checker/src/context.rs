//! The build context: the exercise folder packed as the tar the engine receives, filtered by
//! its `.dockerignore` exactly as the docker CLI filters it. Never writes to the folder.

use std::collections::BTreeMap;
use std::path::Path;

use crate::dockerignore::DockerIgnore;
use crate::error::CheckerError;

pub struct BuildContext {
    /// The uncompressed tar sent to the engine.
    pub tar: Vec<u8>,
    /// Context-relative paths of the files and links in it, sorted.
    pub files: Vec<String>,
    /// Bytes of file content in it (what `.dockerignore` is meant to keep small).
    pub content_bytes: u64,
}

/// Packs `dir` (honouring `dir/.dockerignore`). The Dockerfile being built and the
/// `.dockerignore` itself always go in, as the docker CLI does, even when a pattern excludes
/// them. `replacements` swap a file's content (or add a file) in the packed copy only: the
/// folder on disk is untouched.
pub fn pack(
    dir: &Path,
    dockerfile: &str,
    replacements: &BTreeMap<String, Vec<u8>>,
) -> Result<BuildContext, CheckerError> {
    let (ignore_file, ignore) = load_dockerignore(dir, dockerfile)?;
    let mut paths = Vec::new();
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .min_depth(1);
    let mut it = walker.into_iter();
    while let Some(entry) = it.next() {
        let entry = entry.map_err(|e| CheckerError::io(dir, e))?;
        let rel = relative(dir, entry.path());
        let always = rel == dockerfile || Some(rel.as_str()) == ignore_file.as_deref();
        if entry.file_type().is_dir() {
            if ignore.can_skip_dir(&rel) && !dockerfile.starts_with(&format!("{rel}/")) {
                it.skip_current_dir();
            }
            continue;
        }
        if always || !ignore.excludes(&rel) {
            paths.push((rel, entry.path().to_path_buf()));
        }
    }

    let mut builder = tar::Builder::new(Vec::new());
    builder.follow_symlinks(false);
    builder.mode(tar::HeaderMode::Deterministic);
    let mut files = Vec::new();
    let mut content_bytes = 0;
    for (rel, path) in &paths {
        if let Some(content) = replacements.get(rel) {
            append_bytes(&mut builder, rel, content).map_err(|e| CheckerError::io(path, e))?;
            content_bytes += content.len() as u64;
        } else {
            let meta = std::fs::symlink_metadata(path).map_err(|e| CheckerError::io(path, e))?;
            if meta.is_file() {
                content_bytes += meta.len();
            }
            builder
                .append_path_with_name(path, rel)
                .map_err(|e| CheckerError::io(path, e))?;
        }
        files.push(rel.clone());
    }
    for (rel, content) in replacements {
        if !files.contains(rel) {
            append_bytes(&mut builder, rel, content)
                .map_err(|e| CheckerError::io(dir.join(rel), e))?;
            content_bytes += content.len() as u64;
            files.push(rel.clone());
        }
    }
    files.sort();
    let tar = builder.into_inner().map_err(|e| CheckerError::io(dir, e))?;
    Ok(BuildContext {
        tar,
        files,
        content_bytes,
    })
}

fn append_bytes(
    builder: &mut tar::Builder<Vec<u8>>,
    rel: &str,
    content: &[u8],
) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder.append_data(&mut header, rel, content)
}

/// Reads the ignore file that applies to `dockerfile`, as the docker CLI picks it: a
/// Dockerfile-specific `<dockerfile>.dockerignore` beside it, else `.dockerignore` at the
/// context root. Returns its context-relative path (None when there is none) and the
/// matcher; a bad pattern is an error naming the file and line.
pub fn load_dockerignore(
    dir: &Path,
    dockerfile: &str,
) -> Result<(Option<String>, DockerIgnore), CheckerError> {
    for rel in [
        format!("{dockerfile}.dockerignore"),
        ".dockerignore".to_string(),
    ] {
        let path = dir.join(&rel);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let ignore =
                    DockerIgnore::parse(&text).map_err(|e| CheckerError::DockerIgnore {
                        file: path,
                        line: e.line,
                        message: e.message,
                    })?;
                return Ok((Some(rel), ignore));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(CheckerError::io(path, e)),
        }
    }
    Ok((None, DockerIgnore::empty()))
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

    fn tar_names(tar: &[u8]) -> Vec<String> {
        let mut archive = tar::Archive::new(tar);
        let mut names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn dockerignore_filters_but_dockerfile_and_itself_stay() {
        let dir = tree(&[
            (
                ".dockerignore",
                "Dockerfile*\nsolution\njunk/\n*.md\n!KEEP.md\n",
            ),
            ("Dockerfile", "FROM scratch\n"),
            ("solution/Dockerfile", "FROM scratch\n"),
            ("junk/big.bin", "xxxxxxxxxx"),
            ("README.md", "r"),
            ("KEEP.md", "k"),
            ("docs/deep.md", "d"),
            ("src/main.c", "int main(){}"),
        ]);
        let ctx = pack(dir.path(), "solution/Dockerfile", &BTreeMap::new()).unwrap();
        assert_eq!(
            ctx.files,
            vec![
                ".dockerignore",
                "KEEP.md",
                "docs/deep.md",
                "solution/Dockerfile",
                "src/main.c"
            ]
        );
        assert_eq!(tar_names(&ctx.tar), ctx.files);
        let expected_bytes: u64 = [
            ".dockerignore",
            "KEEP.md",
            "docs/deep.md",
            "solution/Dockerfile",
            "src/main.c",
        ]
        .iter()
        .map(|f| std::fs::metadata(dir.path().join(f)).unwrap().len())
        .sum();
        assert_eq!(ctx.content_bytes, expected_bytes);
    }

    #[test]
    fn without_dockerignore_everything_goes() {
        let dir = tree(&[("Dockerfile", "FROM scratch\n"), ("a/b/c.txt", "c")]);
        let ctx = pack(dir.path(), "Dockerfile", &BTreeMap::new()).unwrap();
        assert_eq!(ctx.files, vec!["Dockerfile", "a/b/c.txt"]);
    }

    #[test]
    fn replacements_change_the_packed_copy_only() {
        let dir = tree(&[("Dockerfile", "FROM scratch\n"), ("src/app.c", "good")]);
        let replacements = BTreeMap::from([
            ("src/app.c".to_string(), b"faulty".to_vec()),
            ("src/new.c".to_string(), b"new".to_vec()),
        ]);
        let ctx = pack(dir.path(), "Dockerfile", &replacements).unwrap();
        assert_eq!(ctx.files, vec!["Dockerfile", "src/app.c", "src/new.c"]);
        let mut archive = tar::Archive::new(ctx.tar.as_slice());
        let mut contents = BTreeMap::new();
        for e in archive.entries().unwrap() {
            let mut e = e.unwrap();
            let mut s = String::new();
            std::io::Read::read_to_string(&mut e, &mut s).unwrap();
            contents.insert(e.path().unwrap().to_string_lossy().into_owned(), s);
        }
        assert_eq!(contents["src/app.c"], "faulty");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("src/app.c")).unwrap(),
            "good"
        );
    }

    #[test]
    fn a_dockerfile_specific_ignore_file_takes_precedence() {
        let dir = tree(&[
            (".dockerignore", "nothing-matches\n"),
            ("solution/Dockerfile", "FROM scratch\n"),
            ("solution/Dockerfile.dockerignore", "secrets\n"),
            ("secrets/token", "t"),
            ("app.txt", "a"),
        ]);
        let ctx = pack(dir.path(), "solution/Dockerfile", &BTreeMap::new()).unwrap();
        assert_eq!(
            ctx.files,
            vec![
                ".dockerignore",
                "app.txt",
                "solution/Dockerfile",
                "solution/Dockerfile.dockerignore"
            ]
        );
        let root = pack(dir.path(), "Dockerfile", &BTreeMap::new()).unwrap();
        assert!(
            root.files.contains(&"secrets/token".to_string()),
            "{:?}",
            root.files
        );
    }

    #[test]
    fn a_bad_pattern_names_file_and_line() {
        let dir = tree(&[
            (".dockerignore", "ok\n!\n"),
            ("Dockerfile", "FROM scratch\n"),
        ]);
        let err = pack(dir.path(), "Dockerfile", &BTreeMap::new())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains(".dockerignore:2"), "{err}");
    }
}
