//! How the bollard engine takes back what an interrupted run made (see `docker::ledger`).

use std::time::Duration;

use bollard::query_parameters::{
    RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder, TagImageOptionsBuilder,
};
use bollard::Docker;

use crate::docker::ledger::Undo;

/// The engine's client, as the ledger's entries keep it.
pub(super) struct Undoer(pub(super) Docker);

#[async_trait::async_trait]
impl Undo for Undoer {
    /// Its creation may have been asked an instant before the run was dropped and land after
    /// this first attempt: one more, a moment later.
    async fn remove_container(&self, name: &str) {
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        for attempt in 0..2 {
            match self.0.remove_container(name, Some(options.clone())).await {
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                }) if attempt == 0 => tokio::time::sleep(Duration::from_millis(500)).await,
                // Removed, already gone, or an engine that refuses: nothing more to try.
                _ => return,
            }
        }
    }

    /// The image the build made is removed (once the containers of it are gone), and the
    /// earlier image tagged again.
    async fn restore_tag(&self, tag: &str, before: Option<&str>) {
        let docker = &self.0;
        let now = match docker.inspect_image(tag).await {
            Ok(info) => info.id,
            Err(_) => None,
        };
        if now.as_deref() == before {
            return;
        }
        if now.is_some() {
            let options = RemoveImageOptionsBuilder::default().force(false).build();
            // 409: a container of the image is still being removed (its own guard's undoing).
            for _ in 0..40 {
                match docker.remove_image(tag, Some(options.clone()), None).await {
                    Err(bollard::errors::Error::DockerResponseServerError {
                        status_code: 409,
                        ..
                    }) => tokio::time::sleep(Duration::from_millis(250)).await,
                    _ => break,
                }
            }
        }
        if let Some(before) = before {
            let (repo, version) = super::split_tag(tag);
            let options = TagImageOptionsBuilder::default()
                .repo(repo)
                .tag(version)
                .build();
            let _ = docker.tag_image(before, Some(options)).await;
        }
    }
}
