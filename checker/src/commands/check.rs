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
use crate::workbook::result_cache::ResultCache;
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

/// Checks one exercise (through the result cache unless `fresh`) and records a check of the
/// learner's Dockerfile in the progress file.
pub async fn check_and_record(
    workbook: &Workbook,
    engine: &Engine,
    exercise: &Exercise,
    variant: Variant,
    fresh: bool,
    progress: &mut dyn crate::docker::engine::BuildProgress,
) -> Result<crate::check::CheckResult, CheckerError> {
    let result = if fresh {
        crate::check::check(engine, exercise, variant, progress).await?
    } else {
        let cache = ResultCache::in_workbook(&workbook.root);
        crate::check::check_cached(engine, exercise, variant, progress, &cache).await?
    };
    if variant == Variant::Learner {
        let (mut file, aside) = ProgressFile::load_or_set_aside(&workbook.root)?;
        if let Some(aside) = aside {
            progress.note(&format!("warning: {aside}"));
        }
        // A stored result is the Dockerfile's result now: recorded as checked now.
        let checked_at = if result.from_cache {
            chrono::Utc::now()
        } else {
            result.checked_at
        };
        file.record(
            &result.exercise,
            checked_at,
            &result.verdicts,
            &result.measurements,
        );
        file.record_engine(&result.exercise, engine.info().await.ok());
        file.save()?;
    }
    Ok(result)
}

pub async fn check(
    workbook: &Workbook,
    names: &[String],
    variant: Variant,
    format: Format,
    fresh: bool,
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
        let result =
            check_and_record(workbook, &engine, exercise, variant, fresh, &mut progress).await?;
        drop(progress);
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
