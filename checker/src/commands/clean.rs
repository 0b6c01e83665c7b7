//! `checker clean`: remove the images and containers the checker made for this checkout
//! (`--all`: for every checkout on the engine), or list them (`--dry-run`).

use std::process::ExitCode;

use super::Outcome;
use crate::docker::api::EngineApi;

/// `scope`: only this checkout's; `None`: everything the checker made.
pub async fn clean(scope: Option<&str>, dry_run: bool) -> Outcome {
    let engine = crate::commands::connect().await?;
    let (containers, images) = engine.owned(scope).await?;
    let verb = if dry_run { "would remove" } else { "removed" };
    for id in &containers {
        if !dry_run {
            engine.remove_container(id).await;
        }
        println!("{verb} container {id}");
    }
    for image in &images {
        if !dry_run {
            engine.remove_image(image).await?;
        }
        println!("{verb} image {image}");
    }
    if !dry_run {
        engine.prune_dangling(scope).await?;
    }
    if containers.is_empty() && images.is_empty() {
        println!("nothing to remove");
    }
    Ok(ExitCode::SUCCESS)
}
