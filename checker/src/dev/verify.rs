//! `checker verify`: the authors' self-check of every exercise (starter misses exactly its
//! lesson, solution meets every goal), printed in the chosen format.

use std::process::ExitCode;

use crate::check::VerifyResult;
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
        // The engine failing one exercise (it went away, say) still gives a whole report.
        let result = match crate::check::verify(&engine, exercise, &mut progress).await {
            Ok(result) => result,
            Err(e) => {
                eprintln!("error: {e}");
                VerifyResult {
                    exercise: exercise.name.clone(),
                    lesson: exercise.lesson().into_iter().collect(),
                    starter: None,
                    solution: None,
                    problems: vec![format!("could not be checked: {e}")],
                }
            }
        };
        results.push(result);
    }
    print!(
        "{}",
        exporter(format).verify(&run_info(Ok(&engine)).await, &results)
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
