//! `checker hint`: the next hint of an exercise (or all of them), remembered in the progress file.

use std::process::ExitCode;

use super::Outcome;
use crate::workbook::progress::ProgressFile;
use crate::workbook::Workbook;

pub fn hint(workbook: &Workbook, name: &str, all: bool) -> Outcome {
    let exercise = workbook.exercise(name)?;
    let hints = &exercise.file.exercise.hints;
    if hints.is_empty() {
        println!(
            "{} has no hints; its README.md says what to aim for.",
            exercise.name
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut file = ProgressFile::load(&workbook.root)?;
    let shown = file.entry(&exercise.name).hints_shown;
    let upto = if all {
        hints.len()
    } else {
        (shown + 1).min(hints.len())
    };
    for (i, h) in hints
        .iter()
        .enumerate()
        .take(upto)
        .skip(if all { 0 } else { upto - 1 })
    {
        println!("Hint {} of {}: {h}", i + 1, hints.len());
    }
    if upto < hints.len() {
        println!("(run it again for a stronger hint)");
    }
    file.entry(&exercise.name).hints_shown = shown.max(upto);
    file.save()?;
    Ok(ExitCode::SUCCESS)
}
