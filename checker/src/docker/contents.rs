//! What the final filesystem of an image holds, read from a `docker save` archive layer by
//! layer (whiteouts applied): every file with its size and, for files small enough to be a
//! source, the SHA-256 of its content; and the text of dpkg's package database
//! (`var/lib/dpkg/status`, or the one-file-per-package `status.d/` of distroless images).
//! And where a secret is in an image, in any form (`find_secret`: the engine's side of
//! `secret_search`).

use std::collections::BTreeMap;
use std::io::{Read, Seek};
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};

use crate::docker::engine::{step_text, Engine};
use crate::docker::secret_search::{self, Budget, Findings, Needles, REDACTED};
use crate::error::CheckerError;

/// Files larger than this are not hashed: no exercise source comes near it, and hashing a
/// JDK's hundreds of MB would cost seconds for nothing.
pub const MAX_HASHED_BYTES: u64 = 4 * 1024 * 1024;

/// dpkg's database of installed packages, as one file or one file per package.
const DPKG_STATUS: &str = "var/lib/dpkg/status";
const DPKG_STATUS_D: &str = "var/lib/dpkg/status.d/";

/// One file of the final filesystem.
#[derive(Debug, Clone, PartialEq)]
pub struct File {
    pub size: u64,
    /// The content's SHA-256, for regular files of at most [`MAX_HASHED_BYTES`].
    pub sha256: Option<[u8; 32]>,
}

/// The final filesystem, as far as the goals that judge what ships need it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filesystem {
    /// Path (without a leading `/`) → file; folders are not listed.
    pub files: BTreeMap<String, File>,
    /// The texts of dpkg's status database, in path order (empty: no dpkg database).
    pub dpkg_status: Vec<String>,
}

/// One layer's entries, in tar order: the one reading of a layer tar that the goals judging
/// files (what ships, sources, packages) and the wasted-bytes count share.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Write {
        path: String,
        file: File,
        dpkg_text: Option<String>,
    },
    /// A hard link: the same content as `target`, which an earlier entry wrote.
    Link {
        path: String,
        target: String,
    },
    Delete {
        path: String,
    },
    Opaque {
        dir: String,
    },
}

impl Entry {
    /// The entry as the wasted-bytes count sees it: a write of some bytes, or a whiteout.
    /// A hard link has no content of its own, but writing it touches its path.
    pub fn change(&self) -> crate::docker::waste::Change {
        use crate::docker::waste::Change;
        match self {
            Entry::Write { path, file, .. } => Change::Write {
                path: path.clone(),
                size: file.size,
            },
            Entry::Link { path, .. } => Change::Write {
                path: path.clone(),
                size: 0,
            },
            Entry::Delete { path } => Change::Delete { path: path.clone() },
            Entry::Opaque { dir } => Change::Opaque { dir: dir.clone() },
        }
    }
}

fn is_dpkg_status(path: &str) -> bool {
    path == DPKG_STATUS
        || (path.starts_with(DPKG_STATUS_D) && !path[DPKG_STATUS_D.len()..].contains('/'))
}

fn clean(path: &std::path::Path) -> String {
    path.to_string_lossy()
        .trim_start_matches("./")
        .trim_start_matches('/')
        .trim_end_matches('/')
        .to_string()
}

/// Reads one layer tar: every entry with its whiteouts, the content of small files hashed.
pub fn read_layer(tar: &mut dyn Read) -> std::io::Result<Vec<Entry>> {
    let mut archive = tar::Archive::new(tar);
    let mut entries = Vec::new();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = clean(&entry.path()?);
        let (dir, name) = match path.rsplit_once('/') {
            Some((d, n)) => (d.to_string(), n.to_string()),
            None => (String::new(), path.clone()),
        };
        let join = |n: &str| {
            if dir.is_empty() {
                n.to_string()
            } else {
                format!("{dir}/{n}")
            }
        };
        let kind = entry.header().entry_type();
        if name == ".wh..wh..opq" {
            entries.push(Entry::Opaque { dir });
        } else if let Some(deleted) = name.strip_prefix(".wh.") {
            entries.push(Entry::Delete {
                path: join(deleted),
            });
        } else if kind.is_hard_link() {
            let target = entry.link_name()?.map(|t| clean(&t)).unwrap_or_default();
            entries.push(Entry::Link { path, target });
        } else if kind.is_file() || kind.is_contiguous() {
            // A PAX header may carry the size (files over 8 GB); a GNU sparse file's
            // apparent size is in its header.
            let size = if kind.is_gnu_sparse() {
                entry.header().size()?
            } else {
                entry.size()
            };
            let dpkg = is_dpkg_status(&path);
            let (sha256, dpkg_text) = if size <= MAX_HASHED_BYTES || dpkg {
                let mut content = Vec::with_capacity(size as usize);
                entry.read_to_end(&mut content)?;
                let text = dpkg.then(|| String::from_utf8_lossy(&content).into_owned());
                (Some(Sha256::digest(&content).into()), text)
            } else {
                (None, None)
            };
            entries.push(Entry::Write {
                path,
                file: File { size, sha256 },
                dpkg_text,
            });
        } else if !kind.is_dir() {
            // Symlinks and devices hold no content of their own.
            entries.push(Entry::Write {
                path,
                file: File {
                    size: 0,
                    sha256: None,
                },
                dpkg_text: None,
            });
        }
    }
    Ok(entries)
}

/// Applies layers (base first) into the final filesystem.
fn apply(layers: &[Vec<Entry>]) -> Filesystem {
    let mut files: BTreeMap<String, File> = BTreeMap::new();
    let mut dpkg: BTreeMap<String, String> = BTreeMap::new();
    for layer in layers {
        // A layer's whiteouts hide what lower layers had, whatever their order in its tar.
        for entry in layer {
            if let Entry::Delete { path } | Entry::Opaque { dir: path } = entry {
                let prefix = format!("{path}/");
                let hidden = |p: &String| {
                    p.starts_with(&prefix) || (p == path && matches!(entry, Entry::Delete { .. }))
                };
                files.retain(|p, _| !hidden(p));
                dpkg.retain(|p, _| !hidden(p));
            }
        }
        for entry in layer {
            match entry {
                Entry::Write {
                    path,
                    file,
                    dpkg_text,
                } => {
                    match dpkg_text {
                        Some(text) => dpkg.insert(path.clone(), text.clone()),
                        None => dpkg.remove(path),
                    };
                    files.insert(path.clone(), file.clone());
                }
                Entry::Link { path, target } => {
                    let file = files.get(target).cloned().unwrap_or(File {
                        size: 0,
                        sha256: None,
                    });
                    if let Some(text) = dpkg.get(target).cloned().filter(|_| is_dpkg_status(path)) {
                        dpkg.insert(path.clone(), text);
                    }
                    files.insert(path.clone(), file);
                }
                Entry::Delete { .. } | Entry::Opaque { .. } => {}
            }
        }
    }
    Filesystem {
        files,
        dpkg_status: dpkg.into_values().collect(),
    }
}

/// Every layer of the image of `platform` in a `docker save` archive, base first, of any
/// shape engines write (legacy, or OCI layout with gzip/zstd layers; see `oci`).
pub fn read_layers<F: Read + Seek>(
    file: F,
    platform: &crate::docker::oci::Platform,
) -> std::io::Result<Vec<Vec<Entry>>> {
    crate::docker::oci::read_layers(file, platform, read_layer)
}

/// An image's layers as read once, and its final filesystem once some goal asks for it.
pub struct ImageContents {
    pub layers: Vec<Vec<Entry>>,
    filesystem: OnceLock<Filesystem>,
}

impl ImageContents {
    pub fn new(layers: Vec<Vec<Entry>>) -> ImageContents {
        ImageContents {
            layers,
            filesystem: OnceLock::new(),
        }
    }

    /// The final filesystem: every layer applied, whiteouts and all.
    pub fn filesystem(&self) -> &Filesystem {
        self.filesystem.get_or_init(|| apply(&self.layers))
    }
}

/// The last image read, by image id: several goals (packages, sources, wasted bytes) and
/// `checker measure` read the same image, and one `docker save` serves them all. An id
/// names the content, so the entry never goes stale.
static LAST_READ: Mutex<Option<(String, Arc<ImageContents>)>> = Mutex::new(None);

/// The layers and final filesystem of `image` (pulled first if the engine lacks it, as a
/// goal's base image may be one the Dockerfile never names).
pub async fn contents_of(engine: &Engine, image: &str) -> Result<Arc<ImageContents>, CheckerError> {
    if !engine.image_exists(image).await? {
        engine
            .pull(image, |_| {})
            .await
            .map_err(|detail| CheckerError::EngineReply(format!("pulling {image}: {detail}")))?;
    }
    let id = engine
        .image_id(image)
        .await?
        .ok_or_else(|| CheckerError::EngineReply(format!("no image {image}")))?;
    if let Some((last, contents)) = LAST_READ.lock().expect("not poisoned").as_ref() {
        if *last == id {
            return Ok(contents.clone());
        }
    }
    let mut file = tempfile::tempfile().map_err(CheckerError::TempFile)?;
    engine.export_image(image, &mut file).await?;
    let platform = engine.platform().await?;
    let layers = tokio::task::spawn_blocking(move || {
        file.rewind()?;
        read_layers(file, &platform)
    })
    .await?
    .map_err(CheckerError::archive(format!(
        "reading the layers of {image}"
    )))?;
    let contents = Arc::new(ImageContents::new(layers));
    *LAST_READ.lock().expect("not poisoned") = Some((id, contents.clone()));
    Ok(contents)
}

/// Where a secret was found in one image, and what could not be searched.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SecretSearch {
    /// Each place in words: "layer 5 of 9 (RUN printf …): base64 in app/.env.production",
    /// "config: ENV PAYMENTS_API_TOKEN: raw".
    pub found: Vec<String>,
    /// What the search's bounds left unopened: "layer 3 of 9 (COPY …): data/big.gz (gzip):
    /// more than 1024 MiB uncompressed, the rest not searched".
    pub unsearched: Vec<String>,
}

/// Looks for every form of a secret (`secret_search`) in `image`: in each layer (any file,
/// also one a later layer deletes: the layer still ships it, and inside compressed files
/// and archives), in each history entry, in the config. Places that quote an instruction
/// or a path show the secret as `‹secret›`.
pub async fn find_secret(
    engine: &Engine,
    image: &str,
    needles: &Arc<Needles>,
) -> Result<SecretSearch, CheckerError> {
    let mut file = tempfile::tempfile().map_err(CheckerError::TempFile)?;
    engine.export_image(image, &mut file).await?;
    let platform = engine.platform().await?;
    let searching = needles.clone();
    let layers = tokio::task::spawn_blocking(move || {
        file.rewind()?;
        let budget = Budget::new(secret_search::BOUNDS);
        crate::docker::oci::read_layers(file, &platform, |tar| {
            secret_search::search_layer(tar, &searching, &budget)
        })
    })
    .await?
    .map_err(CheckerError::archive(format!(
        "reading the layers of {image}"
    )))?;
    let mut search = SecretSearch::default();
    if layers.iter().any(|l| *l != Findings::default()) {
        // Which instruction made each layer: only worth asking when one is to be named.
        let made = engine.layers(image).await?;
        let count = layers.len();
        for (i, findings) in layers.iter().enumerate() {
            let made_by = made
                .iter()
                .find(|l| l.position == i + 1)
                .map(|l| {
                    let step = needles.redact(&step_text(&l.created_by));
                    format!(" ({})", shorten(&step, STEP_CHARS))
                })
                .unwrap_or_default();
            let layer = format!("layer {} of {count}{made_by}", i + 1);
            search.add_layer(&layer, findings);
        }
    }
    for (place, text) in engine.metadata_texts(image).await? {
        let forms = needles.find(text.as_bytes());
        if !forms.is_empty() {
            let place = shorten(&needles.redact(&place), PLACE_CHARS);
            search.found.push(format!(
                "{place}: {}",
                secret_search::forms_in_words(&forms)
            ));
        }
    }
    Ok(search)
}

impl SecretSearch {
    fn add_layer(&mut self, layer: &str, findings: &Findings) {
        let more = |n: usize, what: &str| format!("{layer}: {n} more {what}");
        for hit in &findings.hits {
            self.found.push(format!("{layer}: {hit}"));
        }
        if findings.more_hits > 0 {
            self.found.push(more(findings.more_hits, "places"));
        }
        for why in &findings.unsearched {
            self.unsearched.push(format!("{layer}: {why}"));
        }
        if findings.more_unsearched > 0 {
            self.unsearched.push(more(
                findings.more_unsearched,
                "files not searched to their end",
            ));
        }
    }
}

/// `text` cut to at most `chars` characters (and the `‹secret›` it cuts into), with `…`
/// and the closing parenthesis it had. Places quote whole instructions, and are shortened
/// only once the secret in them is redacted: cut first, the secret's beginning would show.
fn shorten(text: &str, chars: usize) -> String {
    let Some((mut at, _)) = text.char_indices().nth(chars) else {
        return text.to_string();
    };
    if let Some((marker, _)) = text
        .match_indices(REDACTED)
        .find(|(start, _)| *start < at && at < start + REDACTED.len())
    {
        at = marker + REDACTED.len();
    }
    if at >= text.len() {
        return text.to_string();
    }
    let closing = if text.ends_with(')') { ")" } else { "" };
    format!("{}…{closing}", &text[..at])
}

/// The characters of an instruction a layer's name quotes, as `short_step` does.
const STEP_CHARS: usize = 60;
/// The characters of a history entry's or a config part's name.
const PLACE_CHARS: usize = 90;

/// The SHA-256 of `bytes`, as [`File::sha256`] holds it.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_is_shortened_after_redaction_and_never_inside_the_marker() {
        let step = "RUN mkdir -p /app && printf 'PAYMENTS_API_TOKEN=%s\\n' '‹secret›' > /app/.env.production";
        assert_eq!(
            shorten(step, 60),
            "RUN mkdir -p /app && printf 'PAYMENTS_API_TOKEN=%s\\n' '‹secret›…"
        );
        assert_eq!(
            shorten("history entry 3 (ENV A=b)", 90),
            "history entry 3 (ENV A=b)"
        );
        assert_eq!(
            shorten("history entry 3 (ENV A=bcdef)", 21),
            "history entry 3 (ENV …)"
        );
        // A marker that ends the text is kept whole, with nothing cut after it.
        assert_eq!(shorten("ENV TOKEN=‹secret›", 12), "ENV TOKEN=‹secret›");
    }

    fn layer(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, path, *data).unwrap();
        }
        builder.into_inner().unwrap()
    }

    fn read(layers: &[Vec<u8>]) -> Filesystem {
        apply(
            &layers
                .iter()
                .map(|l| read_layer(&mut l.as_slice()).unwrap())
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn the_final_filesystem_follows_whiteouts_and_keeps_dpkg_status() {
        let fs = read(&[
            layer(&[
                ("var/lib/dpkg/status", b"Package: base-files\n"),
                ("src/build.js", b"console.log(1)"),
                ("usr/bin/javac", b"x"),
            ]),
            layer(&[
                (
                    "var/lib/dpkg/status",
                    b"Package: base-files\n\nPackage: nodejs\n",
                ),
                ("usr/bin/.wh.javac", b""),
                ("src/.wh..wh..opq", b""),
                ("srv/copy.js", b"console.log(1)"),
            ]),
        ]);
        assert_eq!(
            fs.files.keys().collect::<Vec<_>>(),
            vec!["srv/copy.js", "var/lib/dpkg/status"]
        );
        assert_eq!(
            fs.files["srv/copy.js"].sha256,
            Some(sha256(b"console.log(1)"))
        );
        assert_eq!(
            fs.dpkg_status,
            vec!["Package: base-files\n\nPackage: nodejs\n"]
        );
    }

    #[test]
    fn a_deleted_dpkg_database_is_gone_and_status_d_is_read() {
        let fs = read(&[
            layer(&[
                ("var/lib/dpkg/status", b"Package: a\n"),
                ("var/lib/dpkg/status.d/libc6", b"Package: libc6\n"),
                ("var/lib/dpkg/status.d/libc6.md5sums", b"x"),
            ]),
            layer(&[("var/lib/dpkg/.wh.status", b"")]),
        ]);
        // status.d holds one stanza per package (distroless); its md5sums are no stanza
        // but harmless: they parse to no package.
        assert_eq!(fs.dpkg_status, vec!["Package: libc6\n", "x"]);
    }
}
