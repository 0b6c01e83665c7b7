//! `checker clean`: remove the images and containers the checker made for this checkout
//! (`--all`: for every checkout on the engine), and the build cache's cache mounts a probe
//! made under ids of its own and could not remove (it was interrupted), or list them
//! (`--dry-run`).

use std::process::ExitCode;

use super::Outcome;
use crate::docker::api::EngineApi;
use crate::goals::probe::OWN_CACHE_PREFIX;

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
    let prefix = match scope {
        Some(scope) => format!("{OWN_CACHE_PREFIX}{scope}-"),
        None => OWN_CACHE_PREFIX.to_string(),
    };
    let caches = engine.build_cache_records(&prefix).await?;
    for (id, description) in &caches {
        if !dry_run {
            engine.remove_build_cache(id).await?;
        }
        println!("{verb} build cache {id} ({description})");
    }
    if containers.is_empty() && images.is_empty() && caches.is_empty() {
        println!("nothing to remove");
    }
    Ok(ExitCode::SUCCESS)
}
