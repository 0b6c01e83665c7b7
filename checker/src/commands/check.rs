//! `checker check`: build and judge the named exercises (or the next pending one), record
//! the learner's progress, and print the report in the chosen format.

use std::process::ExitCode;

use super::Outcome;
use crate::docker::engine::Engine;
use crate::error::CheckerError;
use crate::report::{exporter, Format, RunInfo};
use crate::ui::TerminalProgress;
use crate::workbook::exercise::{Exercise, Variant};
use crate::workbook::progress::ProgressFile;
use crate::workbook::Workbook;

/// The named exercises, or the next pending one. Only the exercises chosen are loaded, so
/// a broken exercise.toml elsewhere in the workbook is no obstacle.
pub fn select(workbook: &Workbook, names: &[String]) -> Result<Vec<Exercise>, CheckerError> {
    if !names.is_empty() {
        return names.iter().map(|n| workbook.exercise(n)).collect();
    }
    let next = workbook.next_exercise()?;
    next.map(|n| workbook.exercise(&n)).into_iter().collect()
}

pub async fn run_info(engine: &Engine) -> RunInfo {
    RunInfo {
        checker_version: env!("CARGO_PKG_VERSION"),
        engine: engine.describe().await,
        engine_info: engine.info().await.ok().cloned(),
    }
}

pub async fn check(
    workbook: &Workbook,
    names: &[String],
    variant: Variant,
    format: Format,
) -> Outcome {
    if variant == Variant::Learner {
        // Before building: a damaged progress file would otherwise cost the result.
        if let (_, Some(aside)) = ProgressFile::load_or_set_aside(&workbook.root)? {
            eprintln!("warning: {aside}");
        }
    }
    let exercises = select(workbook, names)?;
    let engine = crate::commands::connect()
        .await?
        .with_size_cache(&workbook.root);
    let mut results = Vec::new();
    for exercise in &exercises {
        let mut progress =
            TerminalProgress::new(&format!("{} ({})", exercise.name, variant.as_str()));
        let result = crate::check::check(&engine, exercise, variant, &mut progress).await?;
        drop(progress);
        if variant == Variant::Learner {
            let (mut file, aside) = ProgressFile::load_or_set_aside(&workbook.root)?;
            if let Some(aside) = aside {
                eprintln!("warning: {aside}");
            }
            file.record(
                &result.exercise,
                result.checked_at,
                &result.verdicts,
                &result.measurements,
            );
            file.record_engine(&result.exercise, engine.info().await.ok());
            file.save()?;
        }
        results.push(result);
    }
    print!(
        "{}",
        exporter(format).check(&run_info(&engine).await, &results)
    );
    Ok(if results.iter().all(|r| r.all_met()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
