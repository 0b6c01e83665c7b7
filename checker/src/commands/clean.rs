//! `checker clean`: remove every image and container the checker made.

use std::process::ExitCode;

use super::Outcome;

pub async fn clean() -> Outcome {
    let engine = crate::commands::connect().await?;
    let (containers, images) = engine.owned().await?;
    for id in &containers {
        engine.remove_container(id).await;
        println!("removed container {id}");
    }
    for image in &images {
        engine.remove_image(image).await?;
        println!("removed image {image}");
    }
    engine.prune_dangling().await?;
    Ok(ExitCode::SUCCESS)
}
