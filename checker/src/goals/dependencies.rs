//! The dependencies' content, as the cache goals look for it: every file under the folder a
//! goal names (the exercises' `goproxy/`, a Go module proxy in a folder), and every file
//! inside a zip archive there (a proxy serves each module as one zip, which the go command
//! unpacks into its module cache). Found by content, these are the module's files whatever
//! a Dockerfile calls the folder it copies them to, and whatever step writes them.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use super::{Goal, Probe};
use crate::docker::contents::{self, MAX_HASHED_BYTES};
use crate::error::CheckerError;

/// Shorter files would be found by chance: the proxy's `list` is `v1.3.0\n`.
pub const MIN_DEPENDENCY_BYTES: u64 = 12;

/// The key of the goals' settings that names the folder.
const KEY: &str = "dependencies";

/// The dependencies' files, by content.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dependencies {
    /// SHA-256 of each file → where it is (`goproxy/…/v1.3.0.zip`, or
    /// `goproxy/…/v1.3.0.zip: example.com/slugify@v1.3.0/slugify.go` for a file in a zip).
    files: BTreeMap<[u8; 32], String>,
    /// Their sizes, to pass over other files without reading them.
    sizes: BTreeSet<u64>,
}

impl Dependencies {
    /// Reads the dependencies from `folder` of the exercise's own folder: files of at least
    /// [`MIN_DEPENDENCY_BYTES`] and at most [`MAX_HASHED_BYTES`] (the layers' files are
    /// hashed up to that size), and those inside its zip archives.
    pub fn read(
        probe: &Probe<'_>,
        goal: &Goal,
        folder: &str,
    ) -> Result<Dependencies, CheckerError> {
        let mut dependencies = Dependencies::default();
        for relative in probe.files_under(goal, KEY, folder)? {
            let bytes = probe.read(goal, KEY, &relative)?;
            for (name, content) in zip_members(&bytes).unwrap_or_default() {
                dependencies.add(format!("{relative}: {name}"), &content);
            }
            dependencies.add(relative, &bytes);
        }
        if dependencies.files.is_empty() {
            return Err(CheckerError::InvalidExercise {
                file: probe.dir.join("exercise.toml"),
                message: format!(
                    "key `goals` (id `{}`): `{KEY}` names `{folder}`, which holds no file of {MIN_DEPENDENCY_BYTES} bytes or more to look for",
                    goal.id
                ),
            });
        }
        Ok(dependencies)
    }

    fn add(&mut self, name: String, content: &[u8]) {
        let size = content.len() as u64;
        if (MIN_DEPENDENCY_BYTES..=MAX_HASHED_BYTES).contains(&size) {
            self.sizes.insert(size);
            self.files.entry(contents::sha256(content)).or_insert(name);
        }
    }

    /// How many distinct files the dependencies hold.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether a file with this SHA-256 is one of the dependencies' files.
    pub fn holds(&self, sha256: &[u8; 32]) -> bool {
        self.files.contains_key(sha256)
    }

    /// Every file of `context` (the build context's folder) that is under `folder` (the
    /// folder the goal names, every file of it), or whose content is a dependency file: any
    /// copy of the folder's files or of the modules inside its archives, under any name.
    /// Paths relative to `context`, in name order.
    pub fn copies_in(&self, context: &Path, folder: &str) -> Result<Vec<String>, CheckerError> {
        let folder = Path::new(folder);
        let mut copies = Vec::new();
        for entry in walkdir::WalkDir::new(context).sort_by_file_name() {
            // What cannot be read cannot be sent to the engine either.
            let Ok(entry) = entry else { continue };
            let Ok(metadata) = entry.metadata() else {
                continue;
            };
            if !entry.file_type().is_file() {
                continue;
            }
            let relative = entry.path().strip_prefix(context).unwrap_or(entry.path());
            let copy = relative.starts_with(folder)
                || (self.sizes.contains(&metadata.len())
                    && self.holds(&contents::sha256(
                        &std::fs::read(entry.path())
                            .map_err(|e| CheckerError::io(entry.path(), e))?,
                    )));
            if copy {
                copies.push(relative.to_string_lossy().replace('\\', "/"));
            }
        }
        Ok(copies)
    }

    /// For tests: dependencies of these contents.
    #[cfg(test)]
    pub fn of(files: &[(&str, &[u8])]) -> Dependencies {
        let mut dependencies = Dependencies::default();
        for (name, content) in files {
            dependencies.add(name.to_string(), content);
        }
        dependencies
    }
}

/// The files of a zip archive (name, content), stored or deflated, as Go module zips are;
/// None: not a zip archive this reads (encrypted, ZIP64, another method, damaged). Members
/// larger than [`MAX_HASHED_BYTES`] are left out: a layer's files are hashed up to that.
pub fn zip_members(bytes: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    const END: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    const CENTRAL: [u8; 4] = [0x50, 0x4b, 0x01, 0x02];
    const LOCAL: [u8; 4] = [0x50, 0x4b, 0x03, 0x04];
    let u16_at = |at: usize| Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?));
    let u32_at = |at: usize| Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?));
    // The end record is the last 22 bytes, unless a comment (up to 64 KiB) follows it.
    let search_from = bytes.len().saturating_sub(22 + 0xffff);
    let end = (search_from..=bytes.len().checked_sub(22)?)
        .rev()
        .find(|&at| bytes[at..at + 4] == END)?;
    let count = u16_at(end + 10)? as usize;
    let mut at = u32_at(end + 16)? as usize;
    let mut members = Vec::new();
    for _ in 0..count {
        if bytes.get(at..at + 4)? != CENTRAL {
            return None;
        }
        let (flags, method) = (u16_at(at + 8)?, u16_at(at + 10)?);
        let (packed, size) = (u32_at(at + 20)? as usize, u32_at(at + 24)? as u64);
        let name_len = u16_at(at + 28)? as usize;
        let skip = name_len + u16_at(at + 30)? as usize + u16_at(at + 32)? as usize;
        let local = u32_at(at + 42)? as usize;
        let name = String::from_utf8_lossy(bytes.get(at + 46..at + 46 + name_len)?).into_owned();
        at += 46 + skip;
        // Bit 0: encrypted. Folders hold nothing.
        if flags & 1 == 1 || name.ends_with('/') || size > MAX_HASHED_BYTES {
            continue;
        }
        if bytes.get(local..local + 4)? != LOCAL {
            return None;
        }
        let start = local + 30 + u16_at(local + 26)? as usize + u16_at(local + 28)? as usize;
        let data = bytes.get(start..start + packed)?;
        let content = match method {
            0 => data.to_vec(),
            8 => {
                let mut out = Vec::with_capacity(size as usize);
                flate2::read::DeflateDecoder::new(data)
                    .take(size)
                    .read_to_end(&mut out)
                    .ok()?;
                out
            }
            _ => return None,
        };
        members.push((name, content));
    }
    Some(members)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Exercise 07's module, as its proxy serves it.
    fn module_zip() -> Vec<u8> {
        let root = env!("CARGO_MANIFEST_DIR");
        std::fs::read(format!(
            "{root}/../exercises/07-cache-order/goproxy/example.com/slugify/@v/v1.3.0.zip"
        ))
        .unwrap()
    }

    #[test]
    fn a_go_module_zip_gives_its_files() {
        let members = zip_members(&module_zip()).unwrap();
        let names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "example.com/slugify@v1.3.0/go.mod",
                "example.com/slugify@v1.3.0/slugify.go",
                "example.com/slugify@v1.3.0/slugify_test.go"
            ]
        );
        assert_eq!(members[0].1, b"module example.com/slugify\n\ngo 1.19\n");
        assert_eq!(members[1].1.len(), 2237, "unpacked");
        assert!(String::from_utf8_lossy(&members[1].1).contains("package slugify"));
    }

    #[test]
    fn what_is_not_a_zip_gives_nothing() {
        assert_eq!(zip_members(b"v1.3.0\n"), None);
        assert_eq!(zip_members(b""), None);
        let mut cut = module_zip();
        cut.truncate(cut.len() - 30);
        assert_eq!(zip_members(&cut), None, "no end record");
        let mut damaged = module_zip();
        let end = damaged.len() - 22;
        damaged[end + 16] = 0xff;
        assert_eq!(
            zip_members(&damaged),
            None,
            "the central directory is not where it says"
        );
    }

    #[test]
    fn copies_are_found_by_content_whatever_their_name() {
        let context = tempfile::tempdir().unwrap();
        let write = |path: &str, content: &[u8]| {
            let path = context.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        };
        let zip = module_zip();
        let members = zip_members(&zip).unwrap();
        write("goproxy/example.com/slugify/@v/v1.3.0.zip", &zip);
        write("goproxy/example.com/slugify/@v/list", b"v1.3.0\n");
        write("deps/m.zip", &zip);
        write("vendor/example.com/slugify/slugify.go", &members[1].1);
        write("src/main.go", b"package main\n\nfunc main() {}\n");
        let mut dependencies = Dependencies::default();
        dependencies.add("v1.3.0.zip".into(), &zip);
        dependencies.add("list".into(), b"v1.3.0\n");
        for (name, content) in &members {
            dependencies.add(name.clone(), content);
        }
        assert_eq!(
            dependencies.len(),
            4,
            "the zip and its 3 files; `list` is too short"
        );
        assert_eq!(
            dependencies.copies_in(context.path(), "goproxy").unwrap(),
            vec![
                "deps/m.zip",
                "goproxy/example.com/slugify/@v/list",
                "goproxy/example.com/slugify/@v/v1.3.0.zip",
                "vendor/example.com/slugify/slugify.go"
            ],
            "the named folder whole, and copies elsewhere by content"
        );
    }
}
