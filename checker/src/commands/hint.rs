//! `checker hint`: the next hint of an exercise (or all of them), remembered in the progress file.

use std::process::ExitCode;

use super::Outcome;
use crate::workbook::progress::ProgressFile;
use crate::workbook::Workbook;

/// The hints of `name`, or of the exercise you are on (the next pending one, as `check`
/// takes it) when none is named.
pub fn hint(workbook: &Workbook, name: Option<&str>, all: bool) -> Outcome {
    let name = match name {
        Some(n) => n.to_string(),
        None => match workbook.next_exercise()? {
            Some(n) => n,
            None => {
                eprintln!("error: the workbook has no exercises");
                return Ok(ExitCode::from(2));
            }
        },
    };
    for line in hint_lines(workbook, &name, all)? {
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// The next hint of `name` (or all of them), as lines to show; remembers what was shown.
pub fn hint_lines(
    workbook: &Workbook,
    name: &str,
    all: bool,
) -> Result<Vec<String>, crate::error::CheckerError> {
    let exercise = workbook.exercise(name)?;
    let hints = &exercise.file.exercise.hints;
    if hints.is_empty() {
        return Ok(vec![format!(
            "{} has no hints; its README.md says what to aim for.",
            exercise.name
        )]);
    }
    let mut lines = Vec::new();
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
        lines.push(format!("Hint {} of {}: {h}", i + 1, hints.len()));
    }
    if upto < hints.len() {
        lines.push("(ask again for a stronger hint)".to_string());
    }
    file.entry(&exercise.name).hints_shown = shown.max(upto);
    file.save()?;
    Ok(lines)
}
