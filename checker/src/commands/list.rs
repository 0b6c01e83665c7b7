//! `checker list`: the exercises in order, each done, next or pending, with its goals met.

use std::process::ExitCode;

use super::Outcome;
use crate::error::CheckerError;
use crate::workbook::progress::ProgressFile;
use crate::workbook::{first_pending, Workbook};

pub fn list(workbook: &Workbook) -> Outcome {
    let progress = ProgressFile::load(&workbook.root)?;
    let exercises = workbook.each_exercise()?;
    let loaded = exercises.iter().filter_map(|e| e.as_ref().ok());
    let next = first_pending(&progress, loaded.map(|e| e.name.as_str())).map(str::to_string);
    let mut broken = Vec::new();
    for exercise in exercises {
        let exercise = match exercise {
            Ok(e) => e,
            Err(e) => {
                // One broken exercise.toml is named, and the others are still listed.
                if let CheckerError::InvalidExercise { file, .. } = &e {
                    let name = file.parent().and_then(|d| d.file_name());
                    let name = name.map(|n| n.to_string_lossy()).unwrap_or_default();
                    println!("broken   {name:<24} (its exercise.toml does not load; see below)");
                }
                broken.push(e);
                continue;
            }
        };
        let done = progress.is_done(&exercise.name);
        let marker = if done {
            "done   "
        } else if next.as_deref() == Some(exercise.name.as_str()) {
            "next → "
        } else {
            "pending"
        };
        let p = progress.progress.exercises.get(&exercise.name);
        let goals = p
            .filter(|p| p.goals_total > 0)
            .map(|p| format!("  ({}/{} goals)", p.goals_met, p.goals_total))
            .unwrap_or_default();
        println!(
            "{marker}  {:<24} {}{goals}",
            exercise.name,
            exercise.title()
        );
    }
    for e in &broken {
        eprintln!("error: {e}");
    }
    Ok(if broken.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
