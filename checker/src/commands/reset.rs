//! `checker reset`: the starter Dockerfile again, the learner's kept as a backup beside it
//! (the file work itself is `workbook::reset`).

use std::process::ExitCode;

use super::Outcome;
use crate::workbook::exercise::Variant;
use crate::workbook::progress::ProgressFile;
use crate::workbook::reset::{self, Reset};
use crate::workbook::Workbook;

pub fn reset_command(workbook: &Workbook, name: &str) -> Outcome {
    let exercise = workbook.exercise(name)?;
    let learner = exercise.dockerfile_path(Variant::Learner);
    let starter = exercise.dockerfile_path(Variant::Starter);
    match reset::reset(&learner, &starter)? {
        Reset::AlreadyStarter => {
            println!(
                "{} is already the starter; nothing to reset.",
                learner.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        Reset::Restored { backup } => {
            if let Some(backup) = backup {
                println!("Your Dockerfile is kept as {}", backup.display());
            }
        }
    }
    let mut file = ProgressFile::load(&workbook.root)?;
    let entry = file.entry(&exercise.name);
    entry.hints_shown = 0;
    entry.reset_at = Some(chrono::Utc::now());
    file.save()?;
    println!("{} is the starter again.", learner.display());
    Ok(ExitCode::SUCCESS)
}
