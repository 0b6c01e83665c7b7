//! `checker pulls`: time pulling every starter and solution image from a registry into an
//! empty engine, optionally adding the times to the measurements file.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::commands::Outcome;
use crate::docker::api::EngineApi;
use crate::docker::engine::Engine;
use crate::error::CheckerError;
use crate::workbook::Workbook;
use std::collections::BTreeMap;

pub async fn pulls(
    workbook: &Workbook,
    registry: &str,
    target_registry: &str,
    target_host: &str,
    write: Option<PathBuf>,
) -> Outcome {
    let source = crate::commands::connect().await?;
    let target = Engine::connect_to(target_host)
        .await?
        .with_warnings(std::sync::Arc::new(crate::ui::Stderr));
    let times = measure_pulls(&source, &target, workbook, registry, target_registry).await?;
    for (name, (starter, solution)) in &times {
        println!("{name}: starter {starter:.2} s, solution {solution:.2} s");
    }
    if let Some(path) = write {
        let mut numbers = super::numbers::MeasuredResults::load(&path)?;
        for (name, (starter, solution)) in times {
            if let Some(e) = numbers.exercises.get_mut(&name) {
                e.starter.pull_seconds = Some(starter);
                e.solution.pull_seconds = Some(solution);
            }
        }
        let text = serde_json::to_string_pretty(&numbers).expect("measurements serialize") + "\n";
        std::fs::write(&path, text).map_err(|e| CheckerError::io(&path, e))?;
        println!("added the pull times to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `checker pulls`: pushes every exercise's starter and solution image to `registry`, then
/// times pulling each (through `target_registry`, the same registry as the target engine
/// reaches it) into `target`, an engine that must hold no images at all, so every
/// layer really travels (a layer the engine still has would make a pull look instant). Each
/// pulled image is removed before the next pull.
pub async fn measure_pulls(
    source: &crate::docker::engine::Engine,
    target: &crate::docker::engine::Engine,
    workbook: &Workbook,
    registry: &str,
    target_registry: &str,
) -> Result<BTreeMap<String, (f64, f64)>, CheckerError> {
    use crate::workbook::exercise::Variant;
    let mut out = BTreeMap::new();
    for exercise in workbook.exercises()? {
        let mut seconds = Vec::new();
        for variant in [Variant::Starter, Variant::Solution] {
            let local = exercise.image_tag(variant);
            if !source.image_exists(&local).await? {
                crate::build::build_plan(
                    source,
                    &exercise,
                    variant,
                    &crate::build::Plan::default(),
                    &mut crate::ui::Silent,
                )
                .await?;
            }
            let remote = format!("{}/{local}", registry.trim_end_matches('/'));
            source.tag(&local, &remote).await?;
            source
                .push(&remote, |_| {})
                .await
                .map_err(|e| CheckerError::EngineReply(format!("pushing {remote}: {e}")))?;
            source.remove_image(&remote).await?;
            // The same image, named by the address the target engine reaches the registry at.
            let remote = format!("{}/{local}", target_registry.trim_end_matches('/'));
            let held = target.image_count().await?;
            if held > 0 {
                return Err(CheckerError::Usage(format!(
                    "the target engine holds {held} images; pull times mean something only on an engine without any layers"
                )));
            }
            let started = std::time::Instant::now();
            target
                .pull(&remote, &mut |_| {})
                .await
                .map_err(|e| CheckerError::EngineReply(format!("pulling {remote}: {e}")))?;
            let s = started.elapsed().as_secs_f64();
            eprintln!(
                "  {} {}: pulled in {s:.2} s",
                exercise.name,
                variant.as_str()
            );
            target.remove_image(&remote).await?;
            seconds.push(s);
        }
        out.insert(exercise.name.clone(), (seconds[0], seconds[1]));
    }
    Ok(out)
}
