//! `checker verify`: the authors' self-check of every exercise (starter misses exactly its
//! lesson, solution meets every goal), printed in the chosen format.

use std::process::ExitCode;

use crate::check::VerifyResult;
use crate::commands::check::{run_info, select};
use crate::commands::Outcome;
use crate::report::{exporter_for, Format};
use crate::ui::TerminalProgress;
use crate::workbook::exercise::Exercise;
use crate::workbook::result_cache::ResultCache;
use crate::workbook::Workbook;
use futures_util::StreamExt;

pub async fn verify(
    workbook: &Workbook,
    names: &[String],
    format: Format,
    fresh: bool,
    jobs: usize,
) -> Outcome {
    let exercises = if names.is_empty() {
        workbook.exercises()?
    } else {
        select(workbook, names)?
    };
    let engine = crate::commands::connect()
        .await?
        .with_size_cache(&workbook.root);
    let cache = ResultCache::in_workbook(&workbook.root);
    // `jobs` exercises at a time, reported in the workbook's order.
    let results: Vec<VerifyResult> = futures_util::stream::iter(&exercises)
        .map(|exercise| verify_one(&engine, exercise, &cache, fresh))
        .buffered(jobs.max(1))
        .collect()
        .await;
    print!(
        "{}",
        exporter_for(format, crate::ui::stdout_layout())
            .verify(&run_info(Ok(&engine)).await, &results)
    );
    let could_not_check = |r: &VerifyResult| r.starter.is_none() && r.solution.is_none();
    Ok(if results.iter().any(could_not_check) {
        ExitCode::from(2)
    } else if results.iter().all(|r| r.ok()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// One exercise verified; the engine failing it (it went away, say) is a problem of that
/// exercise's entry, so the report is still whole.
async fn verify_one(
    engine: &crate::docker::engine::Engine,
    exercise: &Exercise,
    cache: &ResultCache,
    fresh: bool,
) -> VerifyResult {
    let mut progress = TerminalProgress::new(&exercise.name);
    match crate::check::verify(engine, exercise, &mut progress, cache, fresh).await {
        Ok(result) => result,
        Err(e) => {
            drop(progress);
            eprintln!("error: {e}");
            VerifyResult {
                exercise: exercise.name.clone(),
                lesson: exercise.lesson().into_iter().collect(),
                starter: None,
                solution: None,
                problems: vec![format!("could not be checked: {e}")],
            }
        }
    }
}
