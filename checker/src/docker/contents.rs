//! What the final filesystem of an image holds, read from a `docker save` archive layer by
//! layer (whiteouts applied): every file with its size, mode, owner, the layer that wrote
//! it, the MD5 of its content (what dpkg's `*.md5sums` lists, so a file can be traced to
//! the package it came from under any name) and, for files small enough to be a source,
//! its SHA-256; the text of dpkg's package database (`var/lib/dpkg/status`, or the
//! one-file-per-package `status.d/` of distroless images) and every `*.md5sums` list any
//! layer held, also one a later layer deleted.
//! And where a secret is in an image, in any form (`find_secret`: the engine's side of
//! `secret_search`).

use std::collections::BTreeMap;
use std::io::{Read, Seek};
use std::sync::{Arc, Mutex, OnceLock};

use md5::Md5;
use sha2::{Digest, Sha256};

use crate::docker::api::{step_text, EngineApi};
use crate::docker::secret_search::{self, Budget, Findings, Needles, REDACTED};
use crate::error::CheckerError;

/// Files larger than this get no SHA-256: no exercise source comes near it. (Their MD5 is
/// taken as they stream past, as dpkg's lists need.)
pub const MAX_HASHED_BYTES: u64 = 4 * 1024 * 1024;

/// dpkg's database of installed packages, as one file or one file per package.
const DPKG_STATUS: &str = "var/lib/dpkg/status";
const DPKG_STATUS_D: &str = "var/lib/dpkg/status.d/";
/// Where dpkg keeps each package's file list with checksums (`<package>[:arch].md5sums`);
/// distroless keeps them beside its status files.
const DPKG_INFO: &str = "var/lib/dpkg/info/";

/// The tar PAX record of a file's capabilities (`setcap`), as BuildKit writes it.
const CAPABILITY_XATTR: &str = "SCHILY.xattr.security.capability";

/// What kind of entry a path is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Kind {
    #[default]
    Regular,
    /// A symbolic link, with where it points.
    Symlink(String),
    /// A device, a FIFO: no content.
    Other,
}

/// One file of the final filesystem.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct File {
    pub size: u64,
    /// The content's SHA-256, for regular files of at most [`MAX_HASHED_BYTES`].
    pub sha256: Option<[u8; 32]>,
    /// The content's MD5, for every regular file.
    pub md5: Option<[u8; 16]>,
    pub kind: Kind,
    /// The permission bits, setuid (0o4000) and setgid (0o2000) among them.
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    /// An ELF executable or library (its first bytes are `\x7fELF`).
    pub elf: bool,
    /// The raw `security.capability` attribute (file capabilities, `setcap`), if any.
    pub capabilities: Option<Vec<u8>>,
    /// The layer (0-based) that wrote it last; set when the layers are applied.
    pub layer: usize,
}

impl File {
    /// Set-user-id or set-group-id to root: whoever runs it gets root's uid or gid.
    pub fn raises_to_root(&self) -> bool {
        self.kind == Kind::Regular
            && ((self.mode & 0o4000 != 0 && self.uid == 0)
                || (self.mode & 0o2000 != 0 && self.gid == 0))
    }
}

/// The final filesystem, as far as the goals that judge what ships need it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filesystem {
    /// Path (without a leading `/`) → file; folders are not listed.
    pub files: BTreeMap<String, File>,
    /// The texts of dpkg's status database, in path order (empty: no dpkg database).
    pub dpkg_status: Vec<String>,
    /// Every `*.md5sums` list any layer wrote (path, text), also those a later layer
    /// deleted: what a package installed in the image shipped, whatever its status says now.
    pub md5sums: Vec<(String, String)>,
}

/// One layer's entries, in tar order: the one reading of a layer tar that the goals judging
/// files (what ships, sources, packages) and the wasted-bytes count share.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    Write {
        path: String,
        file: File,
        /// The text of a dpkg status file or of a `*.md5sums` list.
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
    (path == DPKG_STATUS
        || (path.starts_with(DPKG_STATUS_D) && !path[DPKG_STATUS_D.len()..].contains('/')))
        && !path.ends_with(".md5sums")
}

fn is_md5sums(path: &str) -> bool {
    path.ends_with(".md5sums")
        && [DPKG_INFO, DPKG_STATUS_D].iter().any(|dir| {
            path.strip_prefix(dir)
                .is_some_and(|name| !name.contains('/'))
        })
}

fn clean(path: &std::path::Path) -> String {
    path.to_string_lossy()
        .trim_start_matches("./")
        .trim_start_matches('/')
        .trim_end_matches('/')
        .to_string()
}

/// Reads one layer tar: every entry with its whiteouts, each file's content hashed.
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
        } else if !kind.is_dir() {
            entries.push(read_file(&mut entry, path)?);
        }
    }
    Ok(entries)
}

/// One regular file, link or device of a layer, its content hashed as it streams past.
fn read_file(entry: &mut tar::Entry<'_, &mut dyn Read>, path: String) -> std::io::Result<Entry> {
    let header = entry.header();
    let kind = header.entry_type();
    let mut file = File {
        mode: header.mode().unwrap_or(0) & 0o7777,
        uid: header.uid().unwrap_or(0),
        gid: header.gid().unwrap_or(0),
        capabilities: capabilities(entry)?,
        ..File::default()
    };
    if kind.is_symlink() {
        let target = entry.link_name()?.map(|t| t.to_string_lossy().into_owned());
        file.kind = Kind::Symlink(target.unwrap_or_default());
        return Ok(Entry::Write {
            path,
            file,
            dpkg_text: None,
        });
    }
    if !(kind.is_file() || kind.is_contiguous()) {
        file.kind = Kind::Other;
        return Ok(Entry::Write {
            path,
            file,
            dpkg_text: None,
        });
    }
    // A PAX header may carry the size (files over 8 GB); a GNU sparse file's apparent size
    // is in its header.
    file.size = if kind.is_gnu_sparse() {
        entry.header().size()?
    } else {
        entry.size()
    };
    let dpkg = is_dpkg_status(&path) || is_md5sums(&path);
    let mut dpkg_text = None;
    if file.size <= MAX_HASHED_BYTES || dpkg {
        let mut content = Vec::with_capacity(file.size.min(MAX_HASHED_BYTES) as usize);
        entry.read_to_end(&mut content)?;
        file.elf = content.starts_with(b"\x7fELF");
        file.sha256 = Some(Sha256::digest(&content).into());
        file.md5 = Some(Md5::digest(&content).into());
        dpkg_text = dpkg.then(|| String::from_utf8_lossy(&content).into_owned());
    } else {
        let mut head = [0u8; 4];
        let read = read_up_to(entry, &mut head)?;
        file.elf = read == 4 && &head == b"\x7fELF";
        let mut md5 = Md5::new();
        md5.update(&head[..read]);
        std::io::copy(entry, &mut md5)?;
        file.md5 = Some(md5.finalize().into());
    }
    Ok(Entry::Write {
        path,
        file,
        dpkg_text,
    })
}

/// Reads until `buffer` is full or the stream ends; how many bytes were read.
fn read_up_to(stream: &mut impl Read, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match stream.read(&mut buffer[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// The file's `security.capability` attribute, from its PAX header.
fn capabilities(entry: &mut tar::Entry<'_, &mut dyn Read>) -> std::io::Result<Option<Vec<u8>>> {
    let Some(extensions) = entry.pax_extensions()? else {
        return Ok(None);
    };
    for extension in extensions {
        let extension = extension?;
        if extension.key_bytes() == CAPABILITY_XATTR.as_bytes() {
            return Ok(Some(extension.value_bytes().to_vec()));
        }
    }
    Ok(None)
}

/// Applies layers (base first) into the final filesystem.
fn apply(layers: &[Vec<Entry>]) -> Filesystem {
    let mut files: BTreeMap<String, File> = BTreeMap::new();
    let mut dpkg: BTreeMap<String, String> = BTreeMap::new();
    let mut md5sums = Vec::new();
    for (index, layer) in layers.iter().enumerate() {
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
                        Some(text) if is_md5sums(path) => {
                            md5sums.push((path.clone(), text.clone()));
                        }
                        Some(text) => {
                            dpkg.insert(path.clone(), text.clone());
                        }
                        None => {
                            dpkg.remove(path);
                        }
                    };
                    files.insert(
                        path.clone(),
                        File {
                            layer: index,
                            ..file.clone()
                        },
                    );
                }
                Entry::Link { path, target } => {
                    let file = files.get(target).cloned().unwrap_or_default();
                    if let Some(text) = dpkg.get(target).cloned().filter(|_| is_dpkg_status(path)) {
                        dpkg.insert(path.clone(), text);
                    }
                    files.insert(
                        path.clone(),
                        File {
                            layer: index,
                            ..file
                        },
                    );
                }
                Entry::Delete { .. } | Entry::Opaque { .. } => {}
            }
        }
    }
    Filesystem {
        files,
        dpkg_status: dpkg.into_values().collect(),
        md5sums,
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
    /// The history entry (`created_by`) that made each layer, where the config says.
    pub commands: Vec<Option<String>>,
    filesystem: OnceLock<Filesystem>,
}

impl ImageContents {
    pub fn new(layers: Vec<Vec<Entry>>, commands: Vec<Option<String>>) -> ImageContents {
        ImageContents {
            layers,
            commands,
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
pub async fn contents_of(
    engine: &dyn EngineApi,
    image: &str,
) -> Result<Arc<ImageContents>, CheckerError> {
    if !engine.image_exists(image).await? {
        engine
            .pull(image, &mut |_| {})
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
    let (commands, layers) = tokio::task::spawn_blocking(move || {
        file.rewind()?;
        crate::docker::oci::read_image_layers(file, &platform, read_layer)
    })
    .await?
    .map_err(CheckerError::archive(format!(
        "reading the layers of {image}"
    )))?;
    let contents = Arc::new(ImageContents::new(layers, commands));
    *LAST_READ.lock().expect("not poisoned") = Some((id, contents.clone()));
    Ok(contents)
}

/// One layer of an image, read: its diff id, the instruction that made it (the image's
/// history: `RUN /bin/sh -c go mod download # buildkit`), and what it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadLayer {
    pub diff_id: String,
    pub created_by: Option<String>,
    pub entries: Vec<Entry>,
}

/// The layers of `image` that `wanted` names by diff id, read from its `docker save`, base
/// first; the others are not decompressed.
pub async fn layers_of(
    engine: &dyn EngineApi,
    image: &str,
    wanted: &std::collections::BTreeSet<String>,
) -> Result<Vec<ReadLayer>, CheckerError> {
    let mut file = tempfile::tempfile().map_err(CheckerError::TempFile)?;
    engine.export_image(image, &mut file).await?;
    let platform = engine.platform().await?;
    let wanted = wanted.clone();
    let layers = tokio::task::spawn_blocking(move || {
        file.rewind()?;
        crate::docker::oci::read_some_layers(
            file,
            &platform,
            |diff_id| wanted.contains(diff_id),
            read_layer,
        )
    })
    .await?
    .map_err(CheckerError::archive(format!(
        "reading the layers of {image}"
    )))?;
    Ok(layers
        .into_iter()
        .map(|(diff_id, created_by, entries)| ReadLayer {
            diff_id,
            created_by,
            entries,
        })
        .collect())
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
    engine: &dyn EngineApi,
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
        // status.d holds one stanza per package (distroless), and beside them each
        // package's md5sums, which are file lists, not stanzas.
        assert_eq!(fs.dpkg_status, vec!["Package: libc6\n"]);
        assert_eq!(
            fs.md5sums,
            vec![(
                "var/lib/dpkg/status.d/libc6.md5sums".to_string(),
                "x".to_string()
            )]
        );
    }
}

/// Reading an image's contents through the engine seam, on the fake engine.
#[cfg(test)]
mod on_a_fake_engine {
    use super::*;
    use crate::docker::fake::{deleted, file, Call, FakeEngine, FakeImage};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn contents_come_from_the_export_and_bytes_are_found_where_they_ship() {
        let fake = FakeEngine::new();
        let secret = "wb-0123456789abcdef";
        let image = FakeImage::scratch()
            .layer(
                "COPY secret.key main /app/ # buildkit",
                [file("app/secret.key", secret), file("app/main", "binary")],
            )
            .layer(
                "RUN /bin/sh -c rm /app/secret.key # buildkit",
                [deleted("app/secret.key")],
            )
            .env("TOKEN", secret);
        // Not on the engine: a goal's base image the Dockerfile never names is pulled.
        fake.publish("example/app:1", image);
        let contents = contents_of(&fake, "example/app:1").await.unwrap();
        let files: Vec<&String> = contents.filesystem().files.keys().collect();
        assert_eq!(files, ["app/main"]);
        let calls = fake.calls();
        assert!(calls.contains(&Call::Pull {
            image: "example/app:1".into()
        }));
        assert!(calls.contains(&Call::Export {
            image: "example/app:1".into()
        }));
        // The deleted file still ships in the layer that copied it; the ENV in the history
        // and the config.
        let needles = Arc::new(Needles::new(secret.as_bytes()).unwrap());
        let search = find_secret(&fake, "example/app:1", &needles).await.unwrap();
        let expected = [
            "layer 1 of 2 (COPY secret.key main /app/): raw in app/secret.key".to_string(),
            format!("history entry 3 (ENV TOKEN={REDACTED}): raw"),
            "config: ENV TOKEN: raw".to_string(),
        ];
        assert_eq!(search.found, expected);
        let elsewhere = Arc::new(Needles::new(b"not in it, nowhere").unwrap());
        let search = find_secret(&fake, "example/app:1", &elsewhere)
            .await
            .unwrap();
        assert!(search.found.is_empty());
    }
}
