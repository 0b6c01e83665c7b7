//! `checker verify`: the authors' self-check of every exercise (starter misses exactly its
//! lesson, solution meets every goal), printed in the chosen format.

use std::process::ExitCode;

use crate::commands::check::{run_info, select};
use crate::commands::Outcome;
use crate::report::{exporter, Format};
use crate::ui::TerminalProgress;
use crate::workbook::Workbook;

pub async fn verify(workbook: &Workbook, names: &[String], format: Format) -> Outcome {
    let exercises = if names.is_empty() {
        workbook.exercises()?
    } else {
        select(workbook, names)?
    };
    let engine = crate::commands::connect()
        .await?
        .with_size_cache(&workbook.root);
    let mut results = Vec::new();
    for exercise in &exercises {
        let mut progress = TerminalProgress::new(&exercise.name);
        results.push(crate::check::verify(&engine, exercise, &mut progress).await?);
    }
    print!(
        "{}",
        exporter(format).verify(&run_info(&engine).await, &results)
    );
    Ok(if results.iter().all(|r| r.ok()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
