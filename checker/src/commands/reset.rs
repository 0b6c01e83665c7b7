//! `checker reset`: the starter Dockerfile again, the learner's kept as a backup beside it
//! (the file work itself is `workbook::reset`).

use std::process::ExitCode;

use super::Outcome;
use crate::workbook::exercise::Variant;
use crate::workbook::progress::ProgressFile;
use crate::workbook::reset::{self, Reset};
use crate::workbook::Workbook;

pub fn reset_command(workbook: &Workbook, name: &str) -> Outcome {
    for line in reset_lines(workbook, name)? {
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Puts the starter back as the learner's Dockerfile; what happened, as lines to show.
pub fn reset_lines(
    workbook: &Workbook,
    name: &str,
) -> Result<Vec<String>, crate::error::CheckerError> {
    let exercise = workbook.exercise(name)?;
    let learner = exercise.dockerfile_path(Variant::Learner);
    let starter = exercise.dockerfile_path(Variant::Starter);
    let mut lines = Vec::new();
    match reset::reset(&learner, &starter)? {
        Reset::AlreadyStarter => {
            return Ok(vec![format!(
                "{} is already the starter; nothing to reset.",
                learner.display()
            )]);
        }
        Reset::Restored { backup } => {
            if let Some(backup) = backup {
                lines.push(format!("Your Dockerfile is kept as {}", backup.display()));
            }
        }
    }
    let mut file = ProgressFile::load(&workbook.root)?;
    let entry = file.entry(&exercise.name);
    entry.hints_shown = 0;
    entry.reset_at = Some(chrono::Utc::now());
    file.save()?;
    lines.push(format!("{} is the starter again.", learner.display()));
    Ok(lines)
}
