//! Image sizes with one meaning on every image store.
//!
//! The classic store reports an image's size (`inspect .Size`, `docker history`) as the
//! uncompressed file bytes of its layers. The containerd store reports the compressed
//! content instead (`inspect .Size`) and snapshot disk usage (`docker history`), so there the
//! checker measures the layers itself from the image's `docker save`, the same way the
//! classic store's overlay2 driver does (see `oci::measure_layer`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use futures_util::StreamExt;

use super::Engine;
use crate::error::CheckerError;
use crate::oci::{self, LayerCache, MeasuredImage, Platform};

/// Where an engine keeps its images, which decides what its size figures mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImageStore {
    /// Graph drivers (overlay2): sizes are uncompressed layer bytes.
    Classic,
    /// containerd snapshotters (the default of Docker Desktop 4.34+ and Engine 29).
    Containerd,
}

impl ImageStore {
    /// From `docker info`'s `DriverStatus`: the containerd store lists
    /// `["driver-type", "io.containerd.snapshotter.v1"]`.
    pub fn from_driver_status(status: &[Vec<String>]) -> ImageStore {
        let containerd = status.iter().any(|pair| {
            pair.first().is_some_and(|k| k == "driver-type")
                && pair
                    .get(1)
                    .is_some_and(|v| v.starts_with("io.containerd.snapshotter"))
        });
        if containerd {
            ImageStore::Containerd
        } else {
            ImageStore::Classic
        }
    }
}

/// What an engine's `docker info` says that sizes depend on, per endpoint for the process.
/// Kept here rather than in `Engine` so this stays clear of how engines are connected.
fn engine_traits() -> &'static Mutex<HashMap<String, (ImageStore, Platform)>> {
    static TRAITS: OnceLock<Mutex<HashMap<String, (ImageStore, Platform)>>> = OnceLock::new();
    TRAITS.get_or_init(Default::default)
}

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
    /// Which image store the engine uses, from `docker info` (asked once per endpoint).
    pub async fn image_store(&self) -> Result<ImageStore, CheckerError> {
        Ok(self.store_and_platform().await?.0)
    }

    /// The platform the engine runs images for (`linux/amd64`), from `docker info`: which
    /// image of a multi-platform `docker save` archive is the one it runs.
    pub async fn platform(&self) -> Result<Platform, CheckerError> {
        Ok(self.store_and_platform().await?.1)
    }

    async fn store_and_platform(&self) -> Result<(ImageStore, Platform), CheckerError> {
        if let Some(known) = engine_traits()
            .lock()
            .expect("engine traits lock")
            .get(&self.host)
        {
            return Ok(known.clone());
        }
        let info = self
            .docker
            .info()
            .await
            .map_err(|e| CheckerError::Engine(format!("docker info: {e}")))?;
        let store = ImageStore::from_driver_status(&info.driver_status.unwrap_or_default());
        let platform = Platform::from_engine(
            info.os_type.as_deref().unwrap_or("linux"),
            info.architecture
                .as_deref()
                .unwrap_or(std::env::consts::ARCH),
        );
        engine_traits()
            .lock()
            .expect("engine traits lock")
            .insert(self.host.clone(), (store, platform.clone()));
        Ok((store, platform))
    }

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
        let (_, platform) = self.store_and_platform().await?;
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
            .map_err(|e| CheckerError::Other(format!("measuring {image}: {e}")))?
            .map_err(|e| CheckerError::Other(format!("measuring the layers of {image}: {e}")))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_containerd_store_is_told_by_its_driver_type() {
        let pair = |k: &str, v: &str| vec![k.to_string(), v.to_string()];
        assert_eq!(
            ImageStore::from_driver_status(&[pair("driver-type", "io.containerd.snapshotter.v1")]),
            ImageStore::Containerd
        );
        assert_eq!(
            ImageStore::from_driver_status(&[
                pair("Backing Filesystem", "extfs"),
                pair("Supports d_type", "true"),
                pair("Native Overlay Diff", "true"),
            ]),
            ImageStore::Classic
        );
        assert_eq!(ImageStore::from_driver_status(&[]), ImageStore::Classic);
    }
}
