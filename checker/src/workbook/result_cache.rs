//! The result cache: a check whose inputs did not change returns the stored result at once.
//! The key covers everything a check's result depends on: the checker itself, the engine,
//! the variant, the exercise's goals, every file of the exercise folder (the Dockerfile and
//! the context, and the files goals name) and the ids of the base images. Any change to one
//! of them is another key, so a stored result is never stale; it lives beside the progress
//! file in `.workbook-cache/results/` (git-ignored), one file a key, the oldest removed
//! past [`MAX_RESULTS`]. What it stores is the caller's: any result that serializes
//! (`check` stores its `CheckResult`), so the cache needs nothing of the layers above it.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::CheckerError;

/// How many results are kept: every variant of every exercise a few times over.
pub const MAX_RESULTS: usize = 100;

pub struct ResultCache {
    dir: PathBuf,
}

/// What a check's result depends on besides the exercise folders' files.
pub struct KeyInputs<'a> {
    /// The checker's version and which binary it is (a rebuilt checker may judge otherwise).
    pub checker: String,
    /// The engine's facts and endpoint, serialized.
    pub engine: String,
    pub variant: &'a str,
    /// The exercise's goals and settings, serialized.
    pub exercise: String,
    /// Every base image the Dockerfile names, with its id on the engine (None: missing).
    pub base_images: Vec<(String, Option<String>)>,
    /// Folders whose every file counts: the exercise folder, and the workbook's own copy of
    /// it when grading.
    pub folders: Vec<&'a Path>,
    /// Paths (relative to each folder) that do not count: files the result cannot depend on.
    pub left_out: &'a [&'a str],
}

impl KeyInputs<'_> {
    /// The key: a SHA-256 over every input, with each file's path, kind, mode and bytes.
    pub fn key(&self) -> Result<String, CheckerError> {
        let mut hasher = Sha256::new();
        for part in [&self.checker, &self.engine, self.variant, &self.exercise] {
            hash_field(&mut hasher, part.as_bytes());
        }
        for (image, id) in &self.base_images {
            hash_field(&mut hasher, image.as_bytes());
            hash_field(&mut hasher, id.as_deref().unwrap_or("missing").as_bytes());
        }
        for folder in &self.folders {
            hash_folder(&mut hasher, folder, self.left_out)?;
        }
        Ok(hex(&hasher.finalize()))
    }
}

/// The running checker: its version, and the size and time of its binary, so that a
/// checker rebuilt from changed sources (same version) does not reuse the old one's results.
pub fn checker_identity() -> String {
    let binary = std::env::current_exe()
        .and_then(std::fs::metadata)
        .map(|m| format!("{} {:?}", m.len(), m.modified().ok()))
        .unwrap_or_default();
    format!("{} {binary}", env!("CARGO_PKG_VERSION"))
}

impl ResultCache {
    pub fn in_workbook(root: &Path) -> ResultCache {
        ResultCache {
            dir: root.join(".workbook-cache/results"),
        }
    }

    /// The result stored under `key`, if any (an unreadable one, or one that does not read
    /// as a `T`, counts as none).
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        // A FIFO or a device put here would hang or flood the check: opened as what it claims
        // to be, and decompressed under a bound.
        let file =
            crate::learner_file::open_regular(&self.dir.join(format!("{key}.json.gz"))).ok()?;
        let json = std::io::Read::take(
            flate2::read::GzDecoder::new(file),
            crate::learner_file::MAX_STATE_FILE_BYTES * 4,
        );
        serde_json::from_reader(std::io::BufReader::new(json)).ok()
    }

    /// Stores `result` under `key`, written whole or not at all, and removes the oldest
    /// results past [`MAX_RESULTS`]. A cache that cannot be written costs only speed, so
    /// failures are returned for the caller to mention, never to stop the check.
    pub fn put<T: Serialize>(&self, key: &str, result: &T) -> Result<(), CheckerError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| CheckerError::io(&self.dir, e))?;
        // Compressed: a result's inventory lists every file of its image, about 1 MB of JSON
        // for a JDK's, a tenth of that gzipped.
        let file = self.dir.join(format!("{key}.json.gz"));
        let text = serde_json::to_string(result).expect("results serialize");
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir).map_err(CheckerError::TempFile)?;
        let mut gzip = flate2::write::GzEncoder::new(&mut tmp, flate2::Compression::fast());
        std::io::Write::write_all(&mut gzip, text.as_bytes())
            .and_then(|()| gzip.finish().map(|_| ()))
            .map_err(|e| CheckerError::io(&file, e))?;
        tmp.persist(&file)
            .map_err(|e| CheckerError::io(&file, e.error))?;
        self.trim();
        Ok(())
    }

    /// Removes the least recently written results past [`MAX_RESULTS`].
    fn trim(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut results: Vec<(std::time::SystemTime, PathBuf)> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().extension().is_some_and(|x| x == "gz"))
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
            .collect();
        if results.len() <= MAX_RESULTS {
            return;
        }
        results.sort();
        for (_, path) in &results[..results.len() - MAX_RESULTS] {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A length-prefixed field, so that two inputs can never run together into the same bytes.
fn hash_field(hasher: &mut Sha256, bytes: &[u8]) {
    hasher.update((bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

/// Every entry under `folder` in a fixed order: its relative path, kind and mode, and a
/// file's bytes or a link's target. Links are not followed (the build context does not
/// follow them either).
fn hash_folder(hasher: &mut Sha256, folder: &Path, left_out: &[&str]) -> Result<(), CheckerError> {
    use std::os::unix::fs::PermissionsExt;
    for entry in walkdir::WalkDir::new(folder)
        .follow_links(false)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| CheckerError::Io {
            path: e.path().unwrap_or(folder).to_path_buf(),
            message: e.to_string(),
            source: None,
        })?;
        let path = entry.path();
        let relative = path.strip_prefix(folder).unwrap_or(path);
        if left_out.iter().any(|l| relative == Path::new(l)) {
            continue;
        }
        hash_field(hasher, relative.as_os_str().as_encoded_bytes());
        let metadata = entry.metadata().map_err(|e| CheckerError::Io {
            path: path.to_path_buf(),
            message: e.to_string(),
            source: None,
        })?;
        hash_field(hasher, &metadata.permissions().mode().to_le_bytes());
        let kind = entry.file_type();
        if kind.is_file() {
            hash_field(hasher, b"file");
            let mut file = std::fs::File::open(path).map_err(|e| CheckerError::io(path, e))?;
            let mut content = Sha256::new();
            let mut buffer = vec![0u8; 64 * 1024];
            loop {
                let n = file
                    .read(&mut buffer)
                    .map_err(|e| CheckerError::io(path, e))?;
                if n == 0 {
                    break;
                }
                content.update(&buffer[..n]);
            }
            hash_field(hasher, &content.finalize());
        } else if kind.is_symlink() {
            let target = std::fs::read_link(path).map_err(|e| CheckerError::io(path, e))?;
            hash_field(hasher, b"link");
            hash_field(hasher, target.as_os_str().as_encoded_bytes());
        } else if kind.is_dir() {
            hash_field(hasher, b"dir");
        } else {
            // A FIFO or socket: its kind is all there is (the build refuses it anyway).
            hash_field(hasher, b"other");
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs<'a>(folder: &'a Path, base_id: &str) -> KeyInputs<'a> {
        KeyInputs {
            checker: "0.1.0 binary".into(),
            engine: "Docker Engine 28.5.2".into(),
            variant: "learner",
            exercise: "[exercise]\ntitle = \"t\"\n".into(),
            base_images: vec![("debian:bookworm".into(), Some(base_id.into()))],
            folders: vec![folder],
            left_out: &[],
        }
    }

    #[test]
    fn any_changed_input_is_another_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Dockerfile"), "FROM debian:bookworm\n").unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/main.c"), "int main(){}\n").unwrap();
        let key = inputs(dir.path(), "sha256:a").key().unwrap();
        assert_eq!(key, inputs(dir.path(), "sha256:a").key().unwrap(), "stable");
        let mut keys = std::collections::BTreeSet::from([key]);
        // The base image, the engine, the goals, the variant, the checker.
        assert!(keys.insert(inputs(dir.path(), "sha256:b").key().unwrap()));
        let mut other = inputs(dir.path(), "sha256:a");
        other.engine = "Docker Engine 26.1.5".into();
        assert!(keys.insert(other.key().unwrap()));
        let mut other = inputs(dir.path(), "sha256:a");
        other.exercise.push_str("[[goals]]\n");
        assert!(keys.insert(other.key().unwrap()));
        let mut other = inputs(dir.path(), "sha256:a");
        other.variant = "solution";
        assert!(keys.insert(other.key().unwrap()));
        let mut other = inputs(dir.path(), "sha256:a");
        other.checker = "0.1.0 rebuilt".into();
        assert!(keys.insert(other.key().unwrap()));
        // A context file's bytes, a new file, a mode, a link.
        std::fs::write(dir.path().join("src/main.c"), "int main(){return 1;}\n").unwrap();
        assert!(keys.insert(inputs(dir.path(), "sha256:a").key().unwrap()));
        std::fs::write(dir.path().join(".dockerignore"), "*.md\n").unwrap();
        assert!(keys.insert(inputs(dir.path(), "sha256:a").key().unwrap()));
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.path().join("Dockerfile"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        assert!(keys.insert(inputs(dir.path(), "sha256:a").key().unwrap()));
        std::os::unix::fs::symlink("main.c", dir.path().join("src/link")).unwrap();
        assert!(keys.insert(inputs(dir.path(), "sha256:a").key().unwrap()));
    }

    #[test]
    fn a_left_out_file_changes_no_key_and_every_other_file_still_does() {
        // The starter's size is keyed without the learner's Dockerfile: a save of it is no
        // reason to build the pristine starter again; a change to the starter's is.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("starter")).unwrap();
        std::fs::write(dir.path().join("Dockerfile"), "FROM debian:bookworm\n").unwrap();
        std::fs::write(
            dir.path().join("starter/Dockerfile"),
            "FROM debian:bookworm\n",
        )
        .unwrap();
        let key = |dir: &Path| {
            KeyInputs {
                left_out: &["Dockerfile", "Dockerfile.dockerignore"],
                ..inputs(dir, "sha256:a")
            }
            .key()
            .unwrap()
        };
        let before = key(dir.path());
        std::fs::write(dir.path().join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::write(dir.path().join("Dockerfile.dockerignore"), "*\n").unwrap();
        assert_eq!(key(dir.path()), before);
        std::fs::write(dir.path().join("starter/Dockerfile"), "FROM scratch\n").unwrap();
        assert_ne!(key(dir.path()), before);
    }

    #[test]
    fn the_cache_keeps_the_newest_results_only() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ResultCache::in_workbook(dir.path());
        assert!(cache.get::<serde_json::Value>("nothing").is_none());
        std::fs::create_dir_all(&cache.dir).unwrap();
        for n in 0..MAX_RESULTS + 5 {
            std::fs::write(cache.dir.join(format!("{n:04}.json.gz")), "{}").unwrap();
        }
        cache.trim();
        assert_eq!(std::fs::read_dir(&cache.dir).unwrap().count(), MAX_RESULTS);
    }
}
