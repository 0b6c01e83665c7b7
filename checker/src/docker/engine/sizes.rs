//! Image sizes with one meaning on every image store.
//!
//! The classic store reports an image's size (`inspect .Size`, `docker history`) as the
//! uncompressed file bytes of its layers. The containerd store reports the compressed
//! content instead (`inspect .Size`) and snapshot disk usage (`docker history`), so there the
//! checker measures the layers itself from the image's `docker save`, the same way the
//! classic store's overlay2 driver does (see `oci::measure_layer`).

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use futures_util::StreamExt;

use super::Engine;
use crate::docker::api::EngineApi;
use crate::docker::oci::{self, LayerCache, MeasuredImage};
use crate::error::CheckerError;

/// Layer sizes by digest, for the process: base layers are measured once.
fn layer_cache() -> &'static LayerCache {
    static CACHE: OnceLock<LayerCache> = OnceLock::new();
    CACHE.get_or_init(LayerCache::default)
}

/// Measured images by image id (a content digest on the containerd store, so an entry never
/// goes stale), and a lock so that asking twice at once (the pipeline asks for the size and
/// the layers together) exports the image once.
fn measured_images() -> &'static tokio::sync::Mutex<BTreeMap<String, Arc<MeasuredImage>>> {
    static IMAGES: OnceLock<tokio::sync::Mutex<BTreeMap<String, Arc<MeasuredImage>>>> =
        OnceLock::new();
    IMAGES.get_or_init(Default::default)
}

impl Engine {
    /// Size and compressed size of `image`, whose layers have `diff_ids`: from the layers
    /// measured before when every one was (a starter measured again, a base image), else
    /// from the image's own layers.
    pub(super) async fn measured_sizes(
        &self,
        image: &str,
        id: &str,
        diff_ids: &[String],
    ) -> Result<(u64, Option<u64>), CheckerError> {
        let known = match layer_cache().image(diff_ids) {
            Some(known) if !diff_ids.is_empty() => Arc::new(known),
            _ => self.measure_from_layers(image, id).await?,
        };
        Ok((known.size(), known.compressed_size()))
    }

    /// Measures `image` (with id `id`) from its own layers: `docker save` streamed through
    /// the reader, nothing written to disk. Layers measured before are not decompressed again.
    pub(super) async fn measure_from_layers(
        &self,
        image: &str,
        id: &str,
    ) -> Result<Arc<MeasuredImage>, CheckerError> {
        let mut images = measured_images().lock().await;
        if let Some(known) = images.get(id) {
            return Ok(known.clone());
        }
        if let Some(known) = self.size_cache.as_ref().and_then(|c| c.get(id)) {
            let known = Arc::new(known);
            images.insert(id.to_string(), known.clone());
            return Ok(known);
        }
        let platform = self.platform().await?;
        // The export streams into a blocking reader over a small channel: the archive of a
        // toolchain image is hundreds of megabytes and is never held whole.
        let (sender, receiver) = tokio::sync::mpsc::channel::<std::io::Result<bytes::Bytes>>(16);
        let reader = tokio::task::spawn_blocking(move || {
            let stream = ChannelReader {
                receiver,
                chunk: bytes::Bytes::new(),
            };
            oci::measure_archive(stream, &platform, layer_cache())
        });
        let mut export = self.docker.export_image(image);
        while let Some(chunk) = export.next().await {
            let chunk = chunk.map_err(std::io::Error::other);
            let failed = chunk.is_err();
            if sender.send(chunk).await.is_err() || failed {
                // The reader stopped (it found an error of its own, reported below).
                break;
            }
        }
        drop(sender);
        let measured = reader
            .await
            .map_err(|source| CheckerError::Task {
                what: format!("measuring {image}"),
                source,
            })?
            .map_err(CheckerError::archive(format!(
                "measuring the layers of {image}"
            )))?;
        if let Some(cache) = &self.size_cache {
            cache.put(id, &measured);
        }
        let measured = Arc::new(measured);
        images.insert(id.to_string(), measured.clone());
        Ok(measured)
    }
}

/// A blocking `Read` over chunks sent from the async side.
struct ChannelReader {
    receiver: tokio::sync::mpsc::Receiver<std::io::Result<bytes::Bytes>>,
    chunk: bytes::Bytes,
}

impl std::io::Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            match self.receiver.blocking_recv() {
                Some(chunk) => self.chunk = chunk?,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
}

/// Images measured in earlier runs, by image id, in a file of the workbook (git-ignored):
/// on the containerd store a re-check of an image that did not change needs no export.
/// An image id is the digest of the image's config, which names every layer's content, so
/// an entry never goes stale; the file is bounded and a damaged one is started afresh.
pub struct SizeCache {
    file: std::path::PathBuf,
}

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct SizeCacheFile {
    schema: String,
    /// Oldest first.
    images: Vec<(String, MeasuredImage)>,
}

const SIZE_CACHE_SCHEMA: &str = "workbook-image-sizes/v1";
/// A few hundred images of a dozen layers each: well under a megabyte.
const SIZE_CACHE_ENTRIES: usize = 300;

impl SizeCache {
    pub fn new(file: std::path::PathBuf) -> SizeCache {
        SizeCache { file }
    }

    fn read(&self) -> SizeCacheFile {
        std::fs::read(&self.file)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<SizeCacheFile>(&bytes).ok())
            .filter(|f| f.schema == SIZE_CACHE_SCHEMA)
            .unwrap_or_default()
    }

    pub fn get(&self, id: &str) -> Option<MeasuredImage> {
        self.read()
            .images
            .into_iter()
            .find(|(known, _)| known == id)
            .map(|(_, image)| image)
    }

    /// Best effort: a cache that cannot be written costs time, never a result.
    pub fn put(&self, id: &str, image: &MeasuredImage) {
        let mut file = self.read();
        file.schema = SIZE_CACHE_SCHEMA.to_string();
        file.images.retain(|(known, _)| known != id);
        file.images.push((id.to_string(), image.clone()));
        let excess = file.images.len().saturating_sub(SIZE_CACHE_ENTRIES);
        file.images.drain(..excess);
        let Some(dir) = self.file.parent() else {
            return;
        };
        let Ok(bytes) = serde_json::to_vec(&file) else {
            return;
        };
        // Written whole, then renamed: a concurrent reader sees the old file or the new one.
        if std::fs::create_dir_all(dir).is_ok() {
            if let Ok(mut temp) = tempfile::NamedTempFile::new_in(dir) {
                if std::io::Write::write_all(&mut temp, &bytes).is_ok() {
                    let _ = temp.persist(&self.file);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::oci::{Compression, MeasuredLayer};

    fn image(size: u64) -> MeasuredImage {
        MeasuredImage {
            layers: vec![MeasuredLayer {
                size,
                blob_size: size / 2,
                compression: Compression::Gzip,
                created_by: Some("RUN true".into()),
            }],
            platform: None,
        }
    }

    #[test]
    fn the_size_cache_keeps_images_by_id_bounded_and_survives_damage() {
        let dir = tempfile::tempdir().unwrap();
        let cache = SizeCache::new(dir.path().join("cache/image-sizes.json"));
        assert_eq!(cache.get("sha256:a"), None);
        cache.put("sha256:a", &image(10));
        assert_eq!(cache.get("sha256:a"), Some(image(10)));
        for i in 0..SIZE_CACHE_ENTRIES {
            cache.put(&format!("sha256:{i}"), &image(i as u64));
        }
        assert_eq!(cache.get("sha256:a"), None, "the oldest entry goes first");
        assert_eq!(cache.get("sha256:7"), Some(image(7)));
        std::fs::write(dir.path().join("cache/image-sizes.json"), "{ damaged").unwrap();
        assert_eq!(cache.get("sha256:7"), None);
        cache.put("sha256:b", &image(3));
        assert_eq!(cache.get("sha256:b"), Some(image(3)));
    }
}
