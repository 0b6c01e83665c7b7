//! `checker measure`: build every starter and solution and write (or compare) the numbers
//! the book prints, `src/measurements.json`.

use std::path::PathBuf;
use std::process::ExitCode;

use super::book;
use crate::commands::Outcome;
use crate::error::CheckerError;
use crate::workbook::Workbook;

pub async fn measure(
    workbook: &Workbook,
    write: Option<PathBuf>,
    compare: Option<PathBuf>,
) -> Outcome {
    let engine = crate::commands::connect()
        .await?
        .with_size_cache(&workbook.root);
    let mut fresh = book::measure_all(&engine, workbook).await?;
    // Pull times come from `checker pulls`, which needs a second engine, and the classroom
    // figures from `bench/classroom.sh`, which grades a synthetic class: keep both.
    if let Some(old) = write
        .as_ref()
        .and_then(|p| book::MeasuredResults::load(p).ok())
    {
        fresh.classroom = old.classroom;
        for (name, e) in fresh.exercises.iter_mut() {
            if let Some(o) = old.exercises.get(name) {
                e.starter.pull_seconds = o.starter.pull_seconds;
                e.solution.pull_seconds = o.solution.pull_seconds;
            }
        }
    }
    let text = serde_json::to_string_pretty(&fresh).expect("measurements serialize") + "\n";
    if let Some(committed) = compare {
        let old = book::MeasuredResults::load(&committed)?;
        let drift = old.drift(&fresh, 0.10);
        for d in &drift {
            println!("drifted: {d}");
        }
        if drift.is_empty() {
            println!("every committed number is within 10 % of a fresh measurement");
            return Ok(ExitCode::SUCCESS);
        }
        println!(
            "regenerate with `checker measure --write {}`",
            book::MEASUREMENTS_FILE
        );
        return Ok(ExitCode::from(1));
    }
    match write {
        Some(path) => {
            std::fs::write(&path, text).map_err(|e| CheckerError::io(&path, e))?;
            println!("wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
