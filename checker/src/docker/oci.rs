//! Reading `docker save` archives of every shape engines write, without a daemon:
//!
//! - the legacy layout of Docker ≤ 24 (`manifest.json` naming `<id>/layer.tar` files, the
//!   layers plain tars);
//! - the OCI layout of Docker 25+ (`oci-layout`, `index.json`, `blobs/sha256/…`, plus a
//!   `manifest.json` for older tools), where on the containerd image store the layers are the
//!   compressed blobs the registry served (gzip or zstd), indexes can nest (index → index →
//!   manifest), and BuildKit adds attestation manifests beside the image's own.
//!
//! It also measures a layer the way the classic store's overlay2 driver measures its diff
//! folder (moby's `DiffSize`), so an image's size means the same on every store.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::sync::Mutex;

use serde::Deserialize;

/// JSON files (index, manifests, configs) are small; anything larger is a layer or foreign
/// data, and is not held in memory.
const JSON_LIMIT: u64 = 16 * 1024 * 1024;
/// How deep indexes may nest before the archive is taken to be malformed.
const INDEX_DEPTH: usize = 8;

const INDEX_MEDIA_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// An OS/architecture pair as image indexes name it (`linux/amd64`, `linux/arm/v7`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// The platform of the machine the checker runs on: the engine's, for a local engine.
    #[cfg(test)] // the checker's own callers name the engine's platform
    pub fn host() -> Platform {
        // Containers are Linux ones even where the engine runs in a VM (Docker Desktop).
        Platform::from_engine("linux", std::env::consts::ARCH)
    }

    /// From what `docker info` reports (`OSType`, and `Architecture` as `uname -m` prints
    /// it, e.g. `x86_64`), in the names image indexes use (GOARCH: `amd64`).
    pub fn from_engine(os: &str, machine: &str) -> Platform {
        let (architecture, variant) = match machine {
            "x86_64" | "amd64" => ("amd64", None),
            "aarch64" | "arm64" => ("arm64", None),
            "armv7l" | "armhf" | "armv7" => ("arm", Some("v7")),
            "armv6l" | "armel" => ("arm", Some("v6")),
            "i386" | "i486" | "i586" | "i686" | "386" => ("386", None),
            other => (other, None),
        };
        Platform {
            os: if os.is_empty() { "linux" } else { os }.to_string(),
            architecture: architecture.to_string(),
            variant: variant.map(str::to_string),
        }
    }

    /// Whether an image for `other` runs here. A missing variant matches any (arm64's `v8`
    /// is usually left out).
    fn accepts(&self, other: &Platform) -> bool {
        self.os == other.os
            && self.architecture == other.architecture
            && match (&self.variant, &other.variant) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// How a layer blob is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// Tells by the first bytes, not the media type: engines label uncompressed layers
    /// `…tar.gzip` in legacy manifests and the other way round in some saves.
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
            || (head.len() >= 4
                && (0x50..=0x5f).contains(&head[0])
                && head[1..4] == [0x2a, 0x4d, 0x18])
        {
            // A zstd frame, or a skippable frame (magic 0x184D2A5?), which only zstd has.
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// The layer's tar, decompressed as its first bytes say.
pub fn decompress<'a>(blob: impl Read + 'a) -> io::Result<Box<dyn Read + 'a>> {
    let mut blob = BufReader::with_capacity(256 * 1024, blob);
    let compression = Compression::sniff(blob.fill_buf()?);
    Ok(match compression {
        // Multi-member gzip is valid (pigz writes it), so read every member.
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(blob)),
        Compression::Zstd => Box::new(ZstdFrames::new(blob)),
        Compression::None => Box::new(blob),
    })
}

/// Reads every frame of a zstd stream: ruzstd's `StreamingDecoder` stops after one, and
/// zstd allows several (and skippable frames, which zstd:chunked uses for its table of
/// contents).
pub(crate) struct ZstdFrames<R: BufRead> {
    source: R,
    decoder: ruzstd::decoding::FrameDecoder,
    in_frame: bool,
}

impl<R: BufRead> ZstdFrames<R> {
    pub(crate) fn new(source: R) -> Self {
        ZstdFrames {
            source,
            decoder: ruzstd::decoding::FrameDecoder::new(),
            in_frame: false,
        }
    }
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
        use ruzstd::decoding::BlockDecodingStrategy;
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.in_frame {
                let d = &mut self.decoder;
                while d.can_collect() == 0 && !d.is_finished() {
                    d.decode_blocks(&mut self.source, BlockDecodingStrategy::UptoBlocks(1))
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                }
                let n = d.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                self.in_frame = false;
            }
            if self.source.fill_buf()?.is_empty() {
                return Ok(0);
            }
            match self.decoder.reset(&mut self.source) {
                Ok(()) => self.in_frame = true,
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    // The frame's magic and length are read; its content is skipped.
                    let skipped =
                        io::copy(&mut (&mut self.source).take(length as u64), &mut io::sink())?;
                    if skipped < length as u64 {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "zstd: a skippable frame is cut short",
                        ));
                    }
                }
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
            }
        }
    }
}

/// What the classic store's overlay2 driver reports for a layer (`DiffSize`): the apparent
/// sizes of the non-directory files in its diff, a hard-linked file counted once, a symlink
/// counted as the length of its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LayerSize {
    pub bytes: u64,
    /// Non-directory entries, whiteouts included.
    pub entries: u64,
}

/// Measures one layer tar (uncompressed).
pub fn measure_layer(tar: impl Read) -> io::Result<LayerSize> {
    let mut archive = tar::Archive::new(tar);
    let mut size = LayerSize::default();
    for entry in archive.entries()? {
        let entry = entry?;
        let kind = entry.header().entry_type();
        if kind.is_dir() || kind.is_pax_global_extensions() {
            continue;
        }
        size.entries += 1;
        size.bytes += if kind.is_file() || kind.is_contiguous() {
            entry.size()
        } else if kind.is_gnu_sparse() {
            // The file's apparent size, not the bytes stored for its data.
            entry.header().size()?
        } else if kind.is_symlink() {
            entry.link_name_bytes().map(|l| l.len() as u64).unwrap_or(0)
        } else {
            // Hard links share the first copy's inode; devices, fifos and whiteouts are
            // empty.
            0
        };
    }
    Ok(size)
}

/// One layer of the chosen image.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerRef {
    /// Path of its blob in the archive.
    pub path: String,
    /// `sha256:…` of the blob, where the archive names blobs by digest.
    pub digest: Option<String>,
    /// Bytes of the blob as stored (compressed, where it is).
    pub blob_size: u64,
}

/// One history entry of the image's config, base first.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HistoryEntry {
    pub created_by: String,
    pub empty_layer: bool,
}

/// The image an archive holds for the platform asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedImage {
    pub layers: Vec<LayerRef>,
    /// The config's `rootfs.diff_ids`: digests of the uncompressed layers.
    pub diff_ids: Vec<String>,
    pub history: Vec<HistoryEntry>,
    pub platform: Option<Platform>,
}

impl SavedImage {
    /// The instruction that made each layer, from the config's history entries that made a
    /// layer, in order; None where history does not account for every layer.
    pub fn layer_commands(&self) -> Vec<Option<String>> {
        let made: Vec<&HistoryEntry> = self.history.iter().filter(|h| !h.empty_layer).collect();
        if made.len() == self.layers.len() {
            made.into_iter()
                .map(|h| Some(h.created_by.clone()))
                .collect()
        } else {
            vec![None; self.layers.len()]
        }
    }
}

/// What the archive's tar holds, as far as finding the image goes.
pub trait ArchiveFiles {
    /// The contents of a small (JSON) file, if the archive has it.
    fn json(&mut self, path: &str) -> io::Result<Option<Vec<u8>>>;
    /// Size of a file's contents, if the archive has it.
    fn size_of(&self, path: &str) -> Option<u64>;
}

#[derive(Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    size: u64,
    #[serde(default)]
    platform: Option<DescriptorPlatform>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct DescriptorPlatform {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

impl DescriptorPlatform {
    fn to_platform(&self) -> Platform {
        Platform {
            os: self.os.clone(),
            architecture: self.architecture.clone(),
            variant: self.variant.clone().filter(|v| !v.is_empty()),
        }
    }
}

/// An index or a manifest: both have a media type; which fields are set tells them apart
/// where the media type is missing (it is optional in OCI).
#[derive(Deserialize)]
struct Document {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    #[serde(default)]
    manifests: Option<Vec<Descriptor>>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Option<Vec<Descriptor>>,
}

#[derive(Deserialize, Default)]
struct Config {
    #[serde(default)]
    os: String,
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    rootfs: RootFs,
    #[serde(default)]
    history: Vec<ConfigHistory>,
}

#[derive(Deserialize, Default)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

#[derive(Deserialize)]
struct ConfigHistory {
    #[serde(default)]
    created_by: String,
    #[serde(default)]
    empty_layer: bool,
}

#[derive(Deserialize)]
struct LegacyEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

/// `sha256:abc…` → `blobs/sha256/abc…`.
fn blob_path(digest: &str) -> io::Result<String> {
    match digest.split_once(':') {
        Some((algorithm, hex))
            if !algorithm.is_empty()
                && !hex.is_empty()
                && hex.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            Ok(format!("blobs/{algorithm}/{hex}"))
        }
        _ => Err(invalid(format!("`{digest}` is not a digest"))),
    }
}

/// `blobs/sha256/abc…` → `sha256:abc…`.
fn digest_of(path: &str) -> Option<String> {
    let rest = path.strip_prefix("blobs/")?;
    let (algorithm, hex) = rest.split_once('/')?;
    (!hex.contains('/')).then(|| format!("{algorithm}:{hex}"))
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

fn parse<T: serde::de::DeserializeOwned>(path: &str, bytes: &[u8]) -> io::Result<T> {
    serde_json::from_slice(bytes).map_err(|e| invalid(format!("{path}: {e}")))
}

fn is_attestation(d: &Descriptor) -> bool {
    d.annotations
        .get("vnd.docker.reference.type")
        .is_some_and(|t| t == "attestation-manifest")
        || d.platform
            .as_ref()
            .is_some_and(|p| p.os == "unknown" && p.architecture == "unknown")
}

/// A manifest an index leads to, with the platform the index gives it.
struct Candidate {
    path: String,
    platform: Option<Platform>,
}

fn collect_manifests(
    files: &mut dyn ArchiveFiles,
    path: &str,
    depth: usize,
    out: &mut Vec<Candidate>,
) -> io::Result<()> {
    if depth > INDEX_DEPTH {
        return Err(invalid(format!(
            "{path}: indexes nest more than {INDEX_DEPTH} deep"
        )));
    }
    let bytes = files
        .json(path)?
        .ok_or_else(|| invalid(format!("{path} is not in the archive")))?;
    let index: Document = parse(path, &bytes)?;
    for d in index.manifests.unwrap_or_default() {
        if is_attestation(&d) {
            continue;
        }
        let child = blob_path(&d.digest).map_err(|e| invalid(format!("{path}: {e}")))?;
        // A save holds only the platforms the engine has; the others are named, not there.
        if files.size_of(&child).is_none() {
            continue;
        }
        if INDEX_MEDIA_TYPES.contains(&d.media_type.as_str()) {
            collect_manifests(files, &child, depth + 1, out)?;
        } else if d.media_type.is_empty() {
            // No media type: look inside to tell an index from a manifest.
            let bytes = files.json(&child)?.unwrap_or_default();
            let doc: Document = parse(&child, &bytes)?;
            if doc.manifests.is_some() || INDEX_MEDIA_TYPES.contains(&doc.media_type.as_str()) {
                collect_manifests(files, &child, depth + 1, out)?;
            } else {
                out.push(Candidate {
                    path: child,
                    platform: d.platform.as_ref().map(DescriptorPlatform::to_platform),
                });
            }
        } else {
            out.push(Candidate {
                path: child,
                platform: d.platform.as_ref().map(DescriptorPlatform::to_platform),
            });
        }
    }
    Ok(())
}

fn read_config(files: &mut dyn ArchiveFiles, path: &str) -> io::Result<Config> {
    let bytes = files
        .json(path)?
        .ok_or_else(|| invalid(format!("the image config {path} is not in the archive")))?;
    parse(path, &bytes)
}

fn history(config: &Config) -> Vec<HistoryEntry> {
    config
        .history
        .iter()
        .map(|h| HistoryEntry {
            created_by: h.created_by.clone(),
            empty_layer: h.empty_layer,
        })
        .collect()
}

fn config_platform(config: &Config) -> Option<Platform> {
    (!config.architecture.is_empty()).then(|| Platform {
        os: config.os.clone(),
        architecture: config.architecture.clone(),
        variant: config.variant.clone().filter(|v| !v.is_empty()),
    })
}

fn image_from_manifest(
    files: &mut dyn ArchiveFiles,
    candidate: &Candidate,
) -> io::Result<SavedImage> {
    let bytes = files
        .json(&candidate.path)?
        .ok_or_else(|| invalid(format!("{} is not in the archive", candidate.path)))?;
    let manifest: Document = parse(&candidate.path, &bytes)?;
    let config_descriptor = manifest
        .config
        .ok_or_else(|| invalid(format!("{}: a manifest without a config", candidate.path)))?;
    let config = read_config(files, &blob_path(&config_descriptor.digest)?)?;
    let mut layers = Vec::new();
    for d in manifest.layers.unwrap_or_default() {
        let path = blob_path(&d.digest)?;
        let Some(stored) = files.size_of(&path) else {
            return Err(invalid(format!(
                "layer {} of {} is not in the archive",
                d.digest, candidate.path
            )));
        };
        layers.push(LayerRef {
            path,
            digest: Some(d.digest.clone()),
            blob_size: if d.size > 0 { d.size } else { stored },
        });
    }
    Ok(SavedImage {
        layers,
        diff_ids: config.rootfs.diff_ids.clone(),
        history: history(&config),
        platform: candidate
            .platform
            .clone()
            .or_else(|| config_platform(&config)),
    })
}

/// Finds the image for `platform` in an archive: through `index.json` where there is one
/// (nested indexes followed, attestation manifests and platforms the archive lacks
/// skipped), else the first image of a legacy `manifest.json`.
pub fn find_image(files: &mut dyn ArchiveFiles, platform: &Platform) -> io::Result<SavedImage> {
    if files.size_of("index.json").is_some() {
        let mut candidates = Vec::new();
        collect_manifests(files, "index.json", 0, &mut candidates)?;
        let mut images = Vec::new();
        for candidate in &candidates {
            images.push(image_from_manifest(files, candidate)?);
        }
        if images.is_empty() {
            // Docker 25+ also writes manifest.json; an index of nothing usable may still
            // leave that.
            if files.size_of("manifest.json").is_none() {
                return Err(invalid(
                    "index.json leads to no image manifest in the archive".into(),
                ));
            }
        } else {
            let matching = images
                .iter()
                .position(|i| i.platform.as_ref().is_none_or(|p| platform.accepts(p)));
            return match (matching, images.len()) {
                (Some(i), _) => Ok(images.swap_remove(i)),
                // One image, built for another platform (under emulation): it is the image.
                (None, 1) => Ok(images.swap_remove(0)),
                (None, _) => Err(invalid(format!(
                    "no image for {platform} in the archive (it has {})",
                    images
                        .iter()
                        .filter_map(|i| i.platform.as_ref().map(ToString::to_string))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))),
            };
        }
    }
    let bytes = files.json("manifest.json")?.ok_or_else(|| {
        invalid(
            "neither index.json nor manifest.json is in the archive: not a `docker save`".into(),
        )
    })?;
    let entries: Vec<LegacyEntry> = parse("manifest.json", &bytes)?;
    let entry = entries
        .into_iter()
        .next()
        .ok_or_else(|| invalid("manifest.json lists no image".into()))?;
    let config = read_config(files, &entry.config)?;
    let mut layers = Vec::new();
    for path in entry.layers {
        let Some(stored) = files.size_of(&path) else {
            return Err(invalid(format!("layer {path} is not in the archive")));
        };
        layers.push(LayerRef {
            digest: digest_of(&path),
            path,
            blob_size: stored,
        });
    }
    Ok(SavedImage {
        layers,
        diff_ids: config.rootfs.diff_ids.clone(),
        history: history(&config),
        platform: config_platform(&config),
    })
}

/// Resolves `..` and `.` in a symlink target relative to the link's folder.
fn resolve_link(link: &str, target: &str) -> String {
    if target.starts_with('/') {
        return super::context::clean(target);
    }
    let folder = link.rsplit_once('/').map_or("", |(folder, _)| folder);
    super::context::clean(&format!("{folder}/{target}"))
}

fn entry_path(entry: &tar::Entry<impl Read>) -> io::Result<String> {
    Ok(entry
        .path()?
        .to_string_lossy()
        .trim_start_matches("./")
        .to_string())
}

/// A `docker save` archive on disk: where each file's contents start, read on demand.
pub struct SeekableArchive<F: Read + Seek> {
    file: F,
    files: HashMap<String, (u64, u64)>,
    links: HashMap<String, String>,
}

impl<F: Read + Seek> SeekableArchive<F> {
    pub fn open(mut file: F) -> io::Result<Self> {
        let mut files = HashMap::new();
        let mut links = HashMap::new();
        file.seek(SeekFrom::Start(0))?;
        {
            let mut archive = tar::Archive::new(&mut file);
            for entry in archive.entries_with_seek()? {
                let entry = entry?;
                let path = entry_path(&entry)?;
                let kind = entry.header().entry_type();
                if kind.is_symlink() || kind.is_hard_link() {
                    if let Some(target) = entry.link_name()? {
                        let target = target.to_string_lossy().into_owned();
                        let resolved = if kind.is_symlink() {
                            resolve_link(&path, &target)
                        } else {
                            target.trim_start_matches("./").to_string()
                        };
                        links.insert(path, resolved);
                    }
                } else if kind.is_file() {
                    files.insert(path, (entry.raw_file_position(), entry.size()));
                }
            }
        }
        Ok(SeekableArchive { file, files, links })
    }

    fn locate(&self, path: &str) -> Option<(u64, u64)> {
        let mut path = path.to_string();
        for _ in 0..8 {
            if let Some(found) = self.files.get(&path) {
                return Some(*found);
            }
            path = self.links.get(&path)?.clone();
        }
        None
    }

    /// The contents of a file of the archive, as a reader.
    pub fn open_file(&mut self, path: &str) -> io::Result<impl Read + '_> {
        let (position, size) = self
            .locate(path)
            .ok_or_else(|| invalid(format!("{path} is not in the archive")))?;
        self.file.seek(SeekFrom::Start(position))?;
        Ok((&mut self.file).take(size))
    }
}

impl<F: Read + Seek> ArchiveFiles for SeekableArchive<F> {
    fn json(&mut self, path: &str) -> io::Result<Option<Vec<u8>>> {
        match self.locate(path) {
            Some((_, size)) if size > JSON_LIMIT => Err(invalid(format!(
                "{path} is {size} bytes, too large for an index, manifest or config"
            ))),
            Some(_) => {
                let mut bytes = Vec::new();
                self.open_file(path)?.read_to_end(&mut bytes)?;
                Ok(Some(bytes))
            }
            None => Ok(None),
        }
    }
    fn size_of(&self, path: &str) -> Option<u64> {
        self.locate(path).map(|(_, size)| size)
    }
}

/// Reads each layer of the image for `platform` in a `docker save` archive on disk, base
/// first, handing `read` its uncompressed tar.
pub fn read_layers<F, T>(
    file: F,
    platform: &Platform,
    read: impl FnMut(&mut dyn Read) -> io::Result<T>,
) -> io::Result<Vec<T>>
where
    F: Read + Seek,
{
    read_image_layers(file, platform, read).map(|(_, layers)| layers)
}

/// [`read_layers`], with the history entry (`created_by`) that made each layer, where the
/// image's config says (None: its history does not line up with its layers).
pub fn read_image_layers<F, T>(
    file: F,
    platform: &Platform,
    mut read: impl FnMut(&mut dyn Read) -> io::Result<T>,
) -> io::Result<(Vec<Option<String>>, Vec<T>)>
where
    F: Read + Seek,
{
    let mut archive = SeekableArchive::open(file)?;
    let image = find_image(&mut archive, platform)?;
    let commands = image.layer_commands();
    let mut out = Vec::new();
    for layer in &image.layers {
        let blob = archive.open_file(&layer.path)?;
        let mut tar = decompress(blob)?;
        out.push(
            read(&mut tar).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", layer.path)))?,
        );
    }
    Ok((commands, out))
}

/// Reads the layers of the image for `platform` whose diff id `keep` accepts, base first,
/// handing `read` each one's uncompressed tar; the others are not decompressed. Each comes
/// with its diff id and the instruction that made it (None where history does not say).
#[allow(clippy::type_complexity)]
pub fn read_some_layers<F, T>(
    file: F,
    platform: &Platform,
    keep: impl Fn(&str) -> bool,
    mut read: impl FnMut(&mut dyn Read) -> io::Result<T>,
) -> io::Result<Vec<(String, Option<String>, T)>>
where
    F: Read + Seek,
{
    let mut archive = SeekableArchive::open(file)?;
    let image = find_image(&mut archive, platform)?;
    let commands = image.layer_commands();
    let mut out = Vec::new();
    for ((layer, diff_id), command) in image.layers.iter().zip(&image.diff_ids).zip(commands) {
        if !keep(diff_id) {
            continue;
        }
        let blob = archive.open_file(&layer.path)?;
        let mut tar = decompress(blob)?;
        let read =
            read(&mut tar).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", layer.path)))?;
        out.push((diff_id.clone(), command, read));
    }
    Ok(out)
}

/// Layers already measured, by digest: of the blob as stored and of the uncompressed tar
/// (`diff_id`). Both are content addresses, so an entry never goes stale.
#[derive(Default)]
pub struct LayerCache {
    layers: Mutex<HashMap<String, CachedLayer>>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CachedLayer {
    pub size: LayerSize,
    /// The blob it was measured from. Under a diff_id, the first blob seen: the same
    /// content may be stored compressed otherwise elsewhere.
    pub blob_size: u64,
    pub compression: Compression,
}

impl LayerCache {
    pub fn get(&self, digest: &str) -> Option<CachedLayer> {
        self.layers.lock().expect("cache lock").get(digest).copied()
    }
    pub fn insert(&self, digest: &str, layer: CachedLayer) {
        self.layers
            .lock()
            .expect("cache lock")
            .entry(digest.to_string())
            .or_insert(layer);
    }
    /// The image whose layers have these diff_ids (`inspect`'s `RootFS.Layers`), if every
    /// one was measured before: no need to export it. Without the instructions that made
    /// the layers, which only the image's config has.
    pub fn image(&self, diff_ids: &[String]) -> Option<MeasuredImage> {
        let layers = diff_ids
            .iter()
            .map(|d| {
                self.get(d).map(|c| MeasuredLayer {
                    size: c.size.bytes,
                    blob_size: c.blob_size,
                    compression: c.compression,
                    created_by: None,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(MeasuredImage {
            layers,
            platform: None,
        })
    }
    #[cfg(test)]
    fn len(&self) -> usize {
        self.layers.lock().expect("cache lock").len()
    }
}

/// One layer of a measured image.
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
pub struct MeasuredLayer {
    /// Uncompressed file bytes (what the classic store calls the layer's size).
    pub size: u64,
    /// Bytes of the blob as the archive stores it.
    pub blob_size: u64,
    pub compression: Compression,
    /// The instruction that made it, from the image's history.
    pub created_by: Option<String>,
}

/// An image measured from its `docker save` archive.
#[derive(Debug, Clone, PartialEq, serde::Serialize, Deserialize)]
pub struct MeasuredImage {
    pub layers: Vec<MeasuredLayer>,
    pub platform: Option<Platform>,
}

impl MeasuredImage {
    /// Uncompressed file bytes of all layers: the classic store's image size.
    pub fn size(&self) -> u64 {
        self.layers.iter().map(|l| l.size).sum()
    }
    /// What a pull transfers: the compressed blobs' bytes, where the layers are compressed.
    pub fn compressed_size(&self) -> Option<u64> {
        self.layers
            .iter()
            .any(|l| l.compression != Compression::None)
            .then(|| self.layers.iter().map(|l| l.blob_size).sum())
    }
}

/// An archive read once, front to back, as it streams from the engine: small files are
/// kept, layer blobs measured (or their size taken from `cache`) and dropped.
struct StreamedArchive {
    json: HashMap<String, Vec<u8>>,
    sizes: HashMap<String, u64>,
    links: HashMap<String, String>,
    measured: HashMap<String, (LayerSize, Compression)>,
}

impl StreamedArchive {
    fn resolve(&self, path: &str) -> Option<String> {
        let mut path = path.to_string();
        for _ in 0..8 {
            if self.sizes.contains_key(&path) {
                return Some(path);
            }
            path = self.links.get(&path)?.clone();
        }
        None
    }
}

impl ArchiveFiles for StreamedArchive {
    fn json(&mut self, path: &str) -> io::Result<Option<Vec<u8>>> {
        Ok(self.resolve(path).and_then(|p| self.json.get(&p).cloned()))
    }
    fn size_of(&self, path: &str) -> Option<u64> {
        self.resolve(path).and_then(|p| self.sizes.get(&p).copied())
    }
}

/// Whether a blob's first bytes look like a tar (the `ustar` magic at 257) or a
/// compressed stream: a layer.
fn looks_like_layer(head: &[u8], path: &str) -> bool {
    Compression::sniff(head) != Compression::None
        || head.get(257..262) == Some(b"ustar")
        || path.ends_with("layer.tar")
        // An empty layer is the tar's two zero blocks and nothing else.
        || (head.len() >= 512 && head.iter().all(|&b| b == 0))
}

/// Measures the image for `platform` in a `docker save` archive read as a stream (the
/// engine's export, never written to disk or held whole in memory). Layers whose blob
/// digest `cache` knows are skipped unread; the ones measured are added to it, under their
/// blob digest and their diff_id.
/// One pass over a `docker save` stream: every layer measured as it goes by (or taken from
/// `cache` by its digest), the small JSON files kept, links noted.
fn read_entries(stream: impl Read, cache: &LayerCache) -> io::Result<StreamedArchive> {
    let mut archive = tar::Archive::new(stream);
    let mut seen = StreamedArchive {
        json: HashMap::new(),
        sizes: HashMap::new(),
        links: HashMap::new(),
        measured: HashMap::new(),
    };
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry_path(&entry)?;
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            if let Some(target) = entry.link_name()? {
                let target = target.to_string_lossy().into_owned();
                let resolved = if kind.is_symlink() {
                    resolve_link(&path, &target)
                } else {
                    target.trim_start_matches("./").to_string()
                };
                seen.links.insert(path, resolved);
            }
            continue;
        }
        if !kind.is_file() {
            continue;
        }
        let size = entry.size();
        seen.sizes.insert(path.clone(), size);
        if let Some(known) = digest_of(&path).and_then(|d| cache.get(&d)) {
            // Measured before (its digest names its content): skipped unread.
            seen.measured.insert(path, (known.size, known.compression));
            continue;
        }
        let mut head = Vec::with_capacity(512);
        (&mut entry).take(512).read_to_end(&mut head)?;
        if looks_like_layer(&head, &path) {
            let compression = Compression::sniff(&head);
            let tar = decompress(io::Cursor::new(head).chain(&mut entry))?;
            let measured =
                measure_layer(tar).map_err(|e| io::Error::new(e.kind(), format!("{path}: {e}")))?;
            seen.measured.insert(path, (measured, compression));
        } else if size <= JSON_LIMIT {
            let mut bytes = head;
            entry.read_to_end(&mut bytes)?;
            seen.json.insert(path, bytes);
        }
    }
    Ok(seen)
}

pub fn measure_archive(
    stream: impl Read,
    platform: &Platform,
    cache: &LayerCache,
) -> io::Result<MeasuredImage> {
    let mut seen = read_entries(stream, cache)?;
    let image = find_image(&mut seen, platform)?;
    let commands = image.layer_commands();
    let mut layers = Vec::new();
    for (i, layer) in image.layers.iter().enumerate() {
        let stored = seen
            .resolve(&layer.path)
            .unwrap_or_else(|| layer.path.clone());
        let Some(&(size, compression)) = seen.measured.get(&stored) else {
            return Err(invalid(format!(
                "{} is not a layer tar (neither a tar nor gzip nor zstd)",
                layer.path
            )));
        };
        let cached = CachedLayer {
            size,
            blob_size: layer.blob_size,
            compression,
        };
        if let Some(digest) = &layer.digest {
            cache.insert(digest, cached);
        }
        if let Some(diff_id) = image.diff_ids.get(i) {
            cache.insert(diff_id, cached);
        }
        layers.push(MeasuredLayer {
            size: size.bytes,
            blob_size: layer.blob_size,
            compression,
            created_by: commands[i].clone(),
        });
    }
    Ok(MeasuredImage {
        layers,
        platform: image.platform,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::waste::{self, Change};
    use std::io::Write;

    enum E<'a> {
        File(&'a str, &'a [u8]),
        Dir(&'a str),
        Symlink(&'a str, &'a str),
        HardLink(&'a str, &'a str),
    }

    fn tar_of(entries: &[E]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for e in entries {
            let mut header = tar::Header::new_gnu();
            header.set_mode(0o644);
            match e {
                E::File(path, data) => {
                    header.set_size(data.len() as u64);
                    header.set_cksum();
                    builder.append_data(&mut header, path, *data).unwrap();
                }
                E::Dir(path) => {
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_size(0);
                    header.set_cksum();
                    builder.append_data(&mut header, path, &[][..]).unwrap();
                }
                E::Symlink(path, target) | E::HardLink(path, target) => {
                    header.set_entry_type(if matches!(e, E::Symlink(..)) {
                        tar::EntryType::Symlink
                    } else {
                        tar::EntryType::Link
                    });
                    header.set_size(0);
                    builder.append_link(&mut header, path, target).unwrap();
                }
            }
        }
        builder.into_inner().unwrap()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn zstd(bytes: &[u8]) -> Vec<u8> {
        ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
    }

    /// A content address that is unique per content; the reader never checks it.
    fn digest(bytes: &[u8]) -> String {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        bytes.hash(&mut h);
        format!("sha256:{}", format!("{:016x}", h.finish()).repeat(4))
    }

    /// Blobs and top-level files of an archive, written as `docker save` does.
    #[derive(Default)]
    struct Save {
        files: Vec<(String, Vec<u8>)>,
    }

    impl Save {
        fn blob(&mut self, bytes: Vec<u8>) -> serde_json::Value {
            let d = digest(&bytes);
            let size = bytes.len();
            let path = blob_path(&d).unwrap();
            if !self.files.iter().any(|(p, _)| *p == path) {
                self.files.push((path, bytes));
            }
            serde_json::json!({"digest": d, "size": size})
        }
        fn json_blob(&mut self, media_type: &str, value: serde_json::Value) -> serde_json::Value {
            let mut d = self.blob(serde_json::to_vec(&value).unwrap());
            d["mediaType"] = media_type.into();
            d
        }
        /// An image manifest (and its config) for `layers` (blob bytes, uncompressed tar).
        fn image(
            &mut self,
            platform: (&str, &str),
            layers: &[(Vec<u8>, &[u8])],
        ) -> serde_json::Value {
            let descriptors: Vec<_> = layers
                .iter()
                .map(|(blob, _)| {
                    let mut d = self.blob(blob.clone());
                    d["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip".into();
                    d
                })
                .collect();
            let config = serde_json::json!({
                "os": platform.0, "architecture": platform.1,
                "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|(_, tar)| digest(tar)).collect::<Vec<_>>()},
                "history": (0..layers.len()).flat_map(|i| [
                    serde_json::json!({"created_by": format!("ENV step={i}"), "empty_layer": true}),
                    serde_json::json!({"created_by": format!("RUN step {i}")}),
                ]).collect::<Vec<_>>(),
            });
            let config = self.json_blob("application/vnd.oci.image.config.v1+json", config);
            self.json_blob(
                "application/vnd.oci.image.manifest.v1+json",
                serde_json::json!({"schemaVersion": 2, "config": config, "layers": descriptors}),
            )
        }
        fn file(&mut self, path: &str, bytes: Vec<u8>) {
            self.files.push((path.to_string(), bytes));
        }
        fn index(&mut self, manifests: Vec<serde_json::Value>) -> serde_json::Value {
            serde_json::json!({"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPES[0], "manifests": manifests})
        }
        fn into_tar(self) -> Vec<u8> {
            let entries: Vec<E> = self.files.iter().map(|(p, b)| E::File(p, b)).collect();
            tar_of(&entries)
        }
    }

    fn with_platform(mut d: serde_json::Value, os: &str, arch: &str) -> serde_json::Value {
        d["platform"] = serde_json::json!({"os": os, "architecture": arch});
        d
    }

    fn amd64() -> Platform {
        Platform::from_engine("linux", "x86_64")
    }

    fn changes_of(archive: &[u8], platform: &Platform) -> io::Result<Vec<Vec<Change>>> {
        let layers = crate::docker::contents::read_layers(io::Cursor::new(archive), platform)?;
        Ok(waste::changes(
            &layers,
            crate::docker::contents::Entry::change,
        ))
    }

    fn sizes(image: &MeasuredImage) -> Vec<u64> {
        image.layers.iter().map(|l| l.size).collect()
    }

    fn write(path: &str, size: u64) -> Change {
        Change::Write {
            path: path.into(),
            size,
        }
    }

    fn base_layer() -> Vec<u8> {
        tar_of(&[
            E::Dir("etc/"),
            E::File("etc/os-release", b"ID=test\n"),
            E::File("bin/tool", &[7u8; 1000]),
            E::HardLink("bin/tool-again", "bin/tool"),
            E::Symlink("bin/t", "tool"),
        ])
    }

    fn app_layer() -> Vec<u8> {
        tar_of(&[
            E::File("app/main", &[1u8; 300]),
            E::File("bin/.wh.tool", b""),
            E::File("app/.wh..wh..opq", b""),
        ])
    }

    #[test]
    fn layers_are_measured_like_overlay2_diffsize() {
        // Directories count nothing, the hard link shares the file's bytes, the symlink
        // counts its target's length ("tool": 4), whiteouts are empty.
        assert_eq!(
            measure_layer(base_layer().as_slice()).unwrap(),
            LayerSize {
                bytes: 8 + 1000 + 4,
                entries: 4
            }
        );
        assert_eq!(measure_layer(app_layer().as_slice()).unwrap().bytes, 300);
        assert_eq!(
            measure_layer(&[0u8; 1024][..]).unwrap(),
            LayerSize::default()
        );
    }

    #[test]
    fn compression_is_told_by_magic_bytes() {
        let tar = base_layer();
        assert_eq!(Compression::sniff(&gzip(&tar)), Compression::Gzip);
        assert_eq!(Compression::sniff(&zstd(&tar)), Compression::Zstd);
        assert_eq!(Compression::sniff(&tar), Compression::None);
        for blob in [gzip(&tar), zstd(&tar), tar.clone()] {
            let mut out = Vec::new();
            decompress(blob.as_slice())
                .unwrap()
                .read_to_end(&mut out)
                .unwrap();
            assert_eq!(out, tar);
        }
    }

    #[test]
    fn zstd_streams_of_several_frames_and_skippable_frames_are_read_whole() {
        let tar = base_layer();
        let (a, b) = tar.split_at(700);
        let mut blob = zstd(a);
        // A skippable frame (magic 0x184D2A50, length 3) between the two.
        blob.extend_from_slice(&[0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 9, 9, 9]);
        blob.extend_from_slice(&zstd(b));
        let mut out = Vec::new();
        decompress(blob.as_slice())
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, tar);
        // One starting with a skippable frame is still zstd.
        let mut skip_first = vec![0x5f, 0x2a, 0x4d, 0x18, 0, 0, 0, 0];
        skip_first.extend_from_slice(&zstd(&tar));
        let mut out = Vec::new();
        decompress(skip_first.as_slice())
            .unwrap()
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, tar);
    }

    #[test]
    fn gzip_of_several_members_is_read_whole() {
        let tar = base_layer();
        let (a, b) = tar.split_at(1000);
        let mut blob = gzip(a);
        blob.extend_from_slice(&gzip(b));
        assert_eq!(
            measure_layer(decompress(blob.as_slice()).unwrap())
                .unwrap()
                .bytes,
            1012
        );
    }

    fn legacy_save() -> Vec<u8> {
        let (base, app) = (base_layer(), app_layer());
        let config = serde_json::json!({
            "os": "linux", "architecture": "amd64",
            "rootfs": {"type": "layers", "diff_ids": [digest(&base), digest(&app)]},
            "history": [
                {"created_by": "ADD base"},
                {"created_by": "CMD [\"x\"]", "empty_layer": true},
                {"created_by": "COPY app"},
            ],
        });
        let manifest = serde_json::json!([{
            "Config": "c0ffee.json", "RepoTags": ["x:y"],
            "Layers": ["aaa/layer.tar", "bbb/layer.tar"],
        }]);
        let mut save = Save::default();
        save.file("aaa/VERSION", b"1.0".to_vec());
        save.file("aaa/layer.tar", base);
        save.file("bbb/layer.tar", app);
        save.file("c0ffee.json", serde_json::to_vec(&config).unwrap());
        save.file("manifest.json", serde_json::to_vec(&manifest).unwrap());
        save.into_tar()
    }

    fn expected_changes() -> Vec<Vec<Change>> {
        vec![
            vec![
                write("etc/os-release", 8),
                write("bin/tool", 1000),
                write("bin/tool-again", 0),
                write("bin/t", 0),
            ],
            vec![
                write("app/main", 300),
                Change::Delete {
                    path: "bin/tool".into(),
                },
                Change::Opaque { dir: "app".into() },
            ],
        ]
    }

    #[test]
    fn legacy_saves_are_read_through_manifest_json() {
        let archive = legacy_save();
        assert_eq!(changes_of(&archive, &amd64()).unwrap(), expected_changes());
        let measured =
            measure_archive(archive.as_slice(), &amd64(), &LayerCache::default()).unwrap();
        assert_eq!(sizes(&measured), vec![1012, 300]);
        assert_eq!(measured.size(), 1312);
        assert_eq!(measured.compressed_size(), None);
        assert_eq!(
            measured
                .layers
                .iter()
                .map(|l| l.created_by.clone())
                .collect::<Vec<_>>(),
            vec![Some("ADD base".into()), Some("COPY app".into())]
        );
    }

    /// Docker 25+ on the containerd store: index.json → manifest, compressed blobs, and
    /// the manifest.json kept for older tools.
    #[test]
    fn oci_layouts_with_gzip_zstd_and_plain_layers_are_read() {
        let (base, app) = (base_layer(), app_layer());
        for (first, second) in [
            (gzip(&base), gzip(&app)),
            (zstd(&base), zstd(&app)),
            // Plain tars under a `+gzip` media type: the bytes decide.
            (base.clone(), app.clone()),
        ] {
            let blob_bytes = (first.len() + second.len()) as u64;
            let compressed = Compression::sniff(&first) != Compression::None;
            let mut save = Save::default();
            let manifest = save.image(("linux", "amd64"), &[(first, &base), (second, &app)]);
            let index = save.index(vec![manifest]);
            save.file("index.json", serde_json::to_vec(&index).unwrap());
            save.file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec());
            let archive = save.into_tar();
            assert_eq!(changes_of(&archive, &amd64()).unwrap(), expected_changes());
            let measured =
                measure_archive(archive.as_slice(), &amd64(), &LayerCache::default()).unwrap();
            assert_eq!(sizes(&measured), vec![1012, 300]);
            assert_eq!(measured.compressed_size(), compressed.then_some(blob_bytes));
            assert_eq!(measured.layers[1].created_by.as_deref(), Some("RUN step 1"));
        }
    }

    /// index.json → index → manifests for two platforms, an attestation manifest, and a
    /// platform the save does not hold.
    fn multi_platform_save() -> Vec<u8> {
        let (base, app) = (base_layer(), app_layer());
        let arm_layer = tar_of(&[E::File("arm-only", &[2u8; 77])]);
        let mut save = Save::default();
        let amd = save.image(
            ("linux", "amd64"),
            &[(gzip(&base), &base), (gzip(&app), &app)],
        );
        let arm = save.image(("linux", "arm64"), &[(zstd(&arm_layer), &arm_layer)]);
        let statement = br#"{"_type":"https://in-toto.io/Statement/v0.1"}"#.to_vec();
        let mut attestation = save.image(("unknown", "unknown"), &[]);
        let mut statement_layer = save.blob(statement);
        statement_layer["mediaType"] = "application/vnd.in-toto+json".into();
        attestation["annotations"] = serde_json::json!({
            "vnd.docker.reference.type": "attestation-manifest",
            "vnd.docker.reference.digest": amd["digest"],
        });
        let absent = serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{}", "e".repeat(64)), "size": 500,
        });
        let inner = save.index(vec![
            with_platform(attestation, "unknown", "unknown"),
            with_platform(absent, "linux", "s390x"),
            with_platform(arm, "linux", "arm64"),
            with_platform(amd, "linux", "amd64"),
        ]);
        let inner = save.json_blob(INDEX_MEDIA_TYPES[0], inner);
        let top = save.index(vec![inner]);
        save.file("index.json", serde_json::to_vec(&top).unwrap());
        save.into_tar()
    }

    #[test]
    fn nested_indexes_give_the_engines_platform_and_skip_attestations() {
        let archive = multi_platform_save();
        assert_eq!(changes_of(&archive, &amd64()).unwrap(), expected_changes());
        let arm = Platform::from_engine("linux", "aarch64");
        assert_eq!(
            changes_of(&archive, &arm).unwrap(),
            vec![vec![write("arm-only", 77)]]
        );
        let measured = measure_archive(archive.as_slice(), &arm, &LayerCache::default()).unwrap();
        assert_eq!(sizes(&measured), vec![77]);
        assert_eq!(measured.platform, Some(arm.clone()));
        // s390x is named but not in the save, and two others are: no guessing.
        let s390x = Platform::from_engine("linux", "s390x");
        let err = changes_of(&archive, &s390x).unwrap_err().to_string();
        assert!(err.contains("no image for linux/s390x"), "{err}");
        assert!(
            err.contains("linux/arm64") && err.contains("linux/amd64"),
            "{err}"
        );
    }

    #[test]
    fn a_single_image_of_another_platform_is_the_image() {
        // An image built under emulation; the index gives no platform, its config does.
        let layer = base_layer();
        let mut save = Save::default();
        let manifest = save.image(("linux", "arm64"), &[(gzip(&layer), &layer)]);
        let index = save.index(vec![manifest]);
        save.file("index.json", serde_json::to_vec(&index).unwrap());
        let measured =
            measure_archive(save.into_tar().as_slice(), &amd64(), &LayerCache::default()).unwrap();
        assert_eq!(sizes(&measured), vec![1012]);
        assert_eq!(measured.platform.unwrap().architecture, "arm64");
    }

    #[test]
    fn measured_layers_are_not_decompressed_again() {
        let (base, app) = (base_layer(), app_layer());
        let cache = LayerCache::default();
        let mut save = Save::default();
        let manifest = save.image(
            ("linux", "amd64"),
            &[(gzip(&base), &base), (gzip(&app), &app)],
        );
        let index = save.index(vec![manifest]);
        save.file("index.json", serde_json::to_vec(&index).unwrap());
        let blob_path_of_base = save.files[0].0.clone();
        let first = measure_archive(save.into_tar().as_slice(), &amd64(), &cache).unwrap();
        // Each layer under its blob digest and its diff_id.
        assert_eq!(cache.len(), 4);
        // The same digests with garbage behind them: had the blobs been read, this would fail.
        let mut save = Save::default();
        let manifest = save.image(
            ("linux", "amd64"),
            &[(gzip(&base), &base), (gzip(&app), &app)],
        );
        let index = save.index(vec![manifest]);
        save.file("index.json", serde_json::to_vec(&index).unwrap());
        for (path, bytes) in &mut save.files {
            if *path == blob_path_of_base {
                *bytes = vec![0x1f, 0x8b, 0xff, 0xff];
            }
        }
        let second = measure_archive(save.into_tar().as_slice(), &amd64(), &cache).unwrap();
        assert_eq!(second, first);
        // An image of known diff_ids needs no archive at all.
        let known = cache.image(&[digest(&base), digest(&app)]).unwrap();
        assert_eq!(sizes(&known), sizes(&first));
        assert_eq!(known.compressed_size(), first.compressed_size());
        assert!(cache.image(&[digest(&base), digest(b"unknown")]).is_none());
    }

    #[test]
    fn archives_that_are_not_saves_or_lack_a_layer_say_so() {
        let err = changes_of(&tar_of(&[E::File("x", b"y")]), &amd64()).unwrap_err();
        assert!(err.to_string().contains("not a `docker save`"), "{err}");
        let mut save = Save::default();
        let base = base_layer();
        let manifest = save.image(("linux", "amd64"), &[(gzip(&base), &base)]);
        let index = save.index(vec![manifest]);
        save.file("index.json", serde_json::to_vec(&index).unwrap());
        let layer = save.files.remove(0).0;
        let err = changes_of(&save.into_tar(), &amd64())
            .unwrap_err()
            .to_string();
        assert!(err.contains("is not in the archive"), "{err}");
        assert!(
            err.contains(&layer.replace("blobs/sha256/", "sha256:")),
            "{err}"
        );
    }

    #[test]
    fn platforms_use_index_names() {
        assert_eq!(amd64().to_string(), "linux/amd64");
        assert_eq!(
            Platform::from_engine("linux", "armv7l").to_string(),
            "linux/arm/v7"
        );
        assert!(
            Platform::from_engine("linux", "aarch64").accepts(&Platform {
                os: "linux".into(),
                architecture: "arm64".into(),
                variant: Some("v8".into()),
            })
        );
    }

    // The same image saved by three real engines (see tests/fixtures/saves/README.md).

    fn fixture(name: &str) -> std::fs::File {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/saves")
            .join(name);
        std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    const SAVES: [&str; 3] = [
        "engine-20.10-classic.tar",
        "engine-28.5-containerd-gzip.tar",
        "engine-28.5-containerd-zstd.tar",
    ];

    #[test]
    fn real_saves_of_every_store_measure_the_same() {
        for name in SAVES {
            let measured = measure_archive(fixture(name), &amd64(), &LayerCache::default())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            // a.txt + b.txt; the whiteout; the symlink "a.txt"; the hard-linked copy.
            assert_eq!(sizes(&measured), vec![78, 0, 5, 25], "{name}");
            assert_eq!(measured.size(), 108, "{name}");
            let commands: Vec<String> = measured
                .layers
                .iter()
                .map(|l| l.created_by.clone().unwrap_or_default())
                .collect();
            assert!(
                commands[0].starts_with("COPY a.txt b.txt /"),
                "{name}: {commands:?}"
            );
            assert!(
                commands[3].contains("/d/usr/bin/ln /a.txt /hard"),
                "{name}: {commands:?}"
            );
            assert_eq!(measured.platform, Some(amd64()), "{name}");
        }
    }

    #[test]
    fn real_saves_give_the_compressed_size_where_layers_are_compressed() {
        let compressed = |name| {
            let m = measure_archive(fixture(name), &amd64(), &LayerCache::default()).unwrap();
            (
                m.compressed_size(),
                m.layers.iter().map(|l| l.compression).collect::<Vec<_>>(),
            )
        };
        assert_eq!(compressed(SAVES[0]), (None, vec![Compression::None; 4]));
        let (gzip_bytes, kinds) = compressed(SAVES[1]);
        assert_eq!(kinds, vec![Compression::Gzip; 4]);
        let (zstd_bytes, kinds) = compressed(SAVES[2]);
        assert_eq!(kinds, vec![Compression::Zstd; 4]);
        // The blobs' bytes as the manifests give them.
        assert_eq!(gzip_bytes, Some(GZIP_BLOB_BYTES));
        assert_eq!(zstd_bytes, Some(ZSTD_BLOB_BYTES));
    }
    const GZIP_BLOB_BYTES: u64 = 542;
    const ZSTD_BLOB_BYTES: u64 = 520;

    #[test]
    fn real_saves_give_each_stores_changes() {
        let b_deleted = Change::Delete {
            path: "b.txt".into(),
        };
        let copy = vec![write("a.txt", 25), write("b.txt", 53)];
        let link = vec![write("link", 0)];
        // 20.10's differ copies a.txt up beside its new hard link.
        let classic = changes_of_file(SAVES[0]);
        assert_eq!(classic[0], copy);
        assert!(classic[1].contains(&b_deleted));
        assert_eq!(classic[2], link);
        assert_eq!(classic[3], vec![write("a.txt", 25), write("hard", 0)]);
        assert_eq!(waste::count(&classic).bytes, 53 + 25 + 25);
        assert_eq!(waste::visible_files(&classic), 3);
        // containerd's differ writes the link alone, as a file.
        for name in &SAVES[1..] {
            let layers = changes_of_file(name);
            assert_eq!(layers[0], copy, "{name}");
            assert!(layers[1].contains(&b_deleted), "{name}");
            assert_eq!(layers[2], link, "{name}");
            assert_eq!(layers[3], vec![write("hard", 25)], "{name}");
            assert_eq!(waste::count(&layers).bytes, 53, "{name}");
            assert_eq!(waste::visible_files(&layers), 3, "{name}");
        }
    }

    fn changes_of_file(name: &str) -> Vec<Vec<Change>> {
        let layers = crate::docker::contents::read_layers(fixture(name), &Platform::host())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        waste::changes(&layers, crate::docker::contents::Entry::change)
    }
}

#[cfg(test)]
mod timing {
    /// `OCI_ARCHIVE=path cargo test -p checker --bins oci::timing -- --ignored --nocapture`
    #[test]
    #[ignore = "needs a docker save archive named by OCI_ARCHIVE"]
    fn measure_a_real_archive() {
        let path = std::env::var("OCI_ARCHIVE").unwrap();
        let started = std::time::Instant::now();
        let file = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
        let m =
            super::measure_archive(file, &super::Platform::host(), &Default::default()).unwrap();
        println!("{path}: {} bytes in {:?}", m.size(), started.elapsed());
    }
}
