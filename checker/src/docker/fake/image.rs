//! The fake engine's images: a config, layers of tar entries and a history, like a real
//! image's, and what running it does ([`FakeApp`]), which a real image's binaries decide.
//! Ids, diff ids and sizes are worked out from the content the way an engine does, so the
//! pipeline's comparisons (same id, shared base layers, sizes) mean what they mean on one.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::docker::oci::Platform;
use crate::facts::Layer;

/// One entry of a layer tar.
#[derive(Debug, Clone, Serialize)]
pub enum FakeEntry {
    File {
        path: String,
        content: Vec<u8>,
    },
    Dir {
        path: String,
    },
    /// A whiteout: the path (and what it holds) is gone from the layers above.
    Deleted {
        path: String,
    },
}

/// A file at `path` (no leading `/`) holding `content`.
pub fn file(path: &str, content: impl Into<Vec<u8>>) -> FakeEntry {
    FakeEntry::File {
        path: path.trim_start_matches('/').to_string(),
        content: content.into(),
    }
}

/// A file at `path` of `size` bytes (zeros): a binary or a toolchain, by its size only.
pub fn sized(path: &str, size: usize) -> FakeEntry {
    file(path, vec![0u8; size])
}

pub fn dir(path: &str) -> FakeEntry {
    FakeEntry::Dir {
        path: path.trim_start_matches('/').to_string(),
    }
}

pub fn deleted(path: &str) -> FakeEntry {
    FakeEntry::Deleted {
        path: path.trim_start_matches('/').to_string(),
    }
}

/// What the image's program does when it runs: what its binary would.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum FakeApp {
    /// Prints and exits.
    Exits {
        exit_code: i64,
        stdout: String,
        stderr: String,
    },
    /// Serves HTTP on `port`: each page's path → (status, body); any other path is a 404.
    Serves {
        port: u16,
        pages: BTreeMap<String, (u16, String)>,
    },
    /// Runs until it is killed, saying nothing.
    Hangs,
}

impl FakeApp {
    /// Prints `stdout` and exits 0.
    pub fn prints(stdout: &str) -> FakeApp {
        FakeApp::Exits {
            exit_code: 0,
            stdout: stdout.to_string(),
            stderr: String::new(),
        }
    }

    /// Serves `pages` (path, status, body) on `port`.
    pub fn serves(port: u16, pages: &[(&str, u16, &str)]) -> FakeApp {
        FakeApp::Serves {
            port,
            pages: pages
                .iter()
                .map(|(path, status, body)| (path.to_string(), (*status, body.to_string())))
                .collect(),
        }
    }

    /// What the server answers to `GET path`.
    pub(super) fn answer(pages: &BTreeMap<String, (u16, String)>, path: &str) -> (u16, String) {
        pages
            .get(path)
            .cloned()
            .unwrap_or_else(|| (404, "404 page not found\n".to_string()))
    }
}

/// The config an image runs with, as `docker inspect` shows it.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct FakeConfig {
    pub user: String,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: String,
    pub labels: BTreeMap<String, String>,
}

/// One history entry; `empty_layer` for the instructions that only change the config.
#[derive(Debug, Clone, Serialize)]
pub struct FakeHistory {
    pub created_by: String,
    pub empty_layer: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FakeImage {
    pub config: FakeConfig,
    /// Base first; layer `i` is the `i`th history entry that is not an empty layer.
    pub layers: Vec<Vec<FakeEntry>>,
    pub history: Vec<FakeHistory>,
    /// None: the program prints nothing and exits 0.
    pub app: Option<FakeApp>,
}

impl FakeImage {
    /// An image of nothing: `FROM scratch`.
    pub fn scratch() -> FakeImage {
        FakeImage::default()
    }

    /// An image built on `base`: its layers, history and config to start with.
    pub fn on(base: &FakeImage) -> FakeImage {
        base.clone()
    }

    /// Adds a layer of `entries`, made by the instruction `created_by`.
    pub fn layer(mut self, created_by: &str, entries: impl IntoIterator<Item = FakeEntry>) -> Self {
        self.layers.push(entries.into_iter().collect());
        self.history.push(FakeHistory {
            created_by: created_by.to_string(),
            empty_layer: false,
        });
        self
    }

    fn config_step(mut self, created_by: String) -> Self {
        self.history.push(FakeHistory {
            created_by,
            empty_layer: true,
        });
        self
    }

    pub fn user(mut self, user: &str) -> Self {
        self.config.user = user.to_string();
        self.config_step(format!("USER {user}"))
    }

    pub fn entrypoint(mut self, argv: &[&str]) -> Self {
        self.config.entrypoint = argv.iter().map(|a| a.to_string()).collect();
        // A new ENTRYPOINT resets the CMD inherited from the base, as the builder does.
        self.config.cmd.clear();
        self.config_step(format!("ENTRYPOINT {argv:?}"))
    }

    pub fn cmd(mut self, argv: &[&str]) -> Self {
        self.config.cmd = argv.iter().map(|a| a.to_string()).collect();
        self.config_step(format!("CMD {argv:?}"))
    }

    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.config
            .env
            .retain(|e| !e.starts_with(&format!("{name}=")));
        self.config.env.push(format!("{name}={value}"));
        self.config_step(format!("ENV {name}={value}"))
    }

    pub fn app(mut self, app: FakeApp) -> Self {
        self.app = Some(app);
        self
    }

    /// The layer's tar, as `docker save` holds it.
    pub(super) fn layer_tar(entries: &[FakeEntry]) -> Vec<u8> {
        let mut tar = tar::Builder::new(Vec::new());
        for entry in entries {
            let mut header = tar::Header::new_gnu();
            header.set_mode(0o755);
            header.set_mtime(0);
            let (path, data): (String, &[u8]) = match entry {
                FakeEntry::File { path, content } => (path.clone(), content),
                FakeEntry::Dir { path } => {
                    header.set_entry_type(tar::EntryType::Directory);
                    (format!("{path}/"), &[])
                }
                FakeEntry::Deleted { path } => (whiteout(path), &[]),
            };
            header.set_size(data.len() as u64);
            tar.append_data(&mut header, path, data)
                .expect("a tar in memory");
        }
        tar.into_inner().expect("a tar in memory")
    }

    /// The layers' digests (`RootFS.Layers`): of their uncompressed tars.
    pub fn diff_ids(&self) -> Vec<String> {
        self.layers
            .iter()
            .map(|l| digest(&FakeImage::layer_tar(l)))
            .collect()
    }

    /// The image's id: the digest of its config, which names every layer by its digest, as
    /// an engine's is (the app stands for the binaries' content).
    pub fn id(&self) -> String {
        let config = serde_json::json!({
            "config": self.config,
            "diff_ids": self.diff_ids(),
            "history": self.history,
            "app": self.app,
        });
        digest(config.to_string().as_bytes())
    }

    /// Each layer's size as the classic store's overlay2 driver measures it.
    fn layer_sizes(&self) -> Vec<u64> {
        self.layers
            .iter()
            .map(|l| {
                let tar = FakeImage::layer_tar(l);
                crate::docker::oci::measure_layer(tar.as_slice())
                    .expect("a tar in memory")
                    .bytes
            })
            .collect()
    }

    pub fn size(&self) -> u64 {
        self.layer_sizes().iter().sum()
    }

    /// The layers with content, numbered as the filesystem's layers count.
    pub fn layers_with_content(&self) -> Vec<Layer> {
        let made: Vec<&FakeHistory> = self.history.iter().filter(|h| !h.empty_layer).collect();
        self.layer_sizes()
            .into_iter()
            .enumerate()
            .filter(|(_, size)| *size > 0)
            .map(|(i, size)| Layer {
                position: i + 1,
                size,
                created_by: made
                    .get(i)
                    .map(|h| h.created_by.clone())
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// The final filesystem, every layer applied: path → the file's content (None: a folder).
    pub fn filesystem(&self) -> BTreeMap<String, Option<Vec<u8>>> {
        let mut fs: BTreeMap<String, Option<Vec<u8>>> = BTreeMap::new();
        for entry in self.layers.iter().flatten() {
            match entry {
                FakeEntry::File { path, content } => {
                    fs.insert(path.clone(), Some(content.clone()));
                }
                FakeEntry::Dir { path } => {
                    fs.insert(path.clone(), None);
                }
                FakeEntry::Deleted { path } => {
                    let inside = format!("{path}/");
                    fs.retain(|p, _| p != path && !p.starts_with(&inside));
                }
            }
        }
        let folders: BTreeSet<String> = fs.keys().flat_map(|p| parents(p)).collect();
        for folder in folders {
            fs.entry(folder).or_insert(None);
        }
        fs
    }

    /// Writes the image as Docker 24's `docker save` does (legacy layout, plain layer tars).
    pub(super) fn save(&self, platform: &Platform, out: &mut impl Write) -> std::io::Result<()> {
        let mut archive = tar::Builder::new(out);
        let mut paths = Vec::new();
        for (i, layer) in self.layers.iter().enumerate() {
            let path = format!("{i}/layer.tar");
            append(&mut archive, &path, &FakeImage::layer_tar(layer))?;
            paths.push(path);
        }
        let config = serde_json::json!({
            "os": platform.os,
            "architecture": platform.architecture,
            "config": self.config,
            "rootfs": { "type": "layers", "diff_ids": self.diff_ids() },
            "history": self.history,
        });
        append(&mut archive, "config.json", config.to_string().as_bytes())?;
        let manifest = serde_json::json!([{ "Config": "config.json", "Layers": paths }]);
        append(
            &mut archive,
            "manifest.json",
            manifest.to_string().as_bytes(),
        )?;
        archive.finish()
    }
}

fn append(archive: &mut tar::Builder<impl Write>, path: &str, data: &[u8]) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_mode(0o644);
    header.set_size(data.len() as u64);
    archive.append_data(&mut header, path, data)
}

/// `usr/bin/gcc` → `usr/bin/.wh.gcc`.
fn whiteout(path: &str) -> String {
    match path.rsplit_once('/') {
        Some((folder, name)) => format!("{folder}/.wh.{name}"),
        None => format!(".wh.{path}"),
    }
}

/// `a/b/c` → `a`, `a/b`.
fn parents(path: &str) -> Vec<String> {
    let parts: Vec<&str> = path.split('/').collect();
    (1..parts.len()).map(|n| parts[..n].join("/")).collect()
}

pub(super) fn digest(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}
