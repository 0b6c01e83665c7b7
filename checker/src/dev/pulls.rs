//! `checker pulls`: time pulling every starter and solution image from a registry into an
//! empty engine, optionally adding the times to the measurements file.

use std::path::PathBuf;
use std::process::ExitCode;

use super::book;
use crate::commands::Outcome;
use crate::docker::engine::Engine;
use crate::error::CheckerError;
use crate::workbook::Workbook;

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
    let times = book::measure_pulls(&source, &target, workbook, registry, target_registry).await?;
    for (name, (starter, solution)) in &times {
        println!("{name}: starter {starter:.2} s, solution {solution:.2} s");
    }
    if let Some(path) = write {
        let mut numbers = book::MeasuredResults::load(&path)?;
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
