//! `checker list`: the exercises in order, each done (its latest check met every goal), next
//! or pending, with the goals its latest check met and when it was first done.

use std::process::ExitCode;

use super::Outcome;
use crate::error::CheckerError;
use crate::workbook::progress::{ExerciseProgress, ExerciseState, ProgressFile};
use crate::workbook::{first_pending, Workbook};

pub fn list(workbook: &Workbook) -> Outcome {
    let (lines, broken) = listing(workbook)?;
    for line in lines {
        println!("{line}");
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

/// A line an exercise, in order, and the errors of those whose exercise.toml does not load.
pub fn listing(workbook: &Workbook) -> Result<(Vec<String>, Vec<CheckerError>), CheckerError> {
    let mut lines = Vec::new();
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
                    lines.push(format!(
                        "broken   {name:<24} (its exercise.toml does not load; see below)"
                    ));
                }
                broken.push(e);
                continue;
            }
        };
        let p = progress.progress.exercises.get(&exercise.name);
        let state = progress.state(&exercise.name);
        let marker = if state == ExerciseState::Passing {
            "done   "
        } else if next.as_deref() == Some(exercise.name.as_str()) {
            "next → "
        } else {
            "pending"
        };
        lines.push(format!(
            "{marker}  {:<24} {}{}",
            exercise.name,
            exercise.title(),
            p.map(|p| how_it_stands(p, state)).unwrap_or_default()
        ));
    }
    Ok((lines, broken))
}

/// `  (3/5 goals; done on 30 Nov 14:02 before)`: the latest check's goals, and when every
/// goal was first met if that is not what the latest check says.
fn how_it_stands(p: &ExerciseProgress, state: ExerciseState) -> String {
    let first_done = p.met_at.map(|at| {
        at.with_timezone(&chrono::Local)
            .format("%-d %b %H:%M")
            .to_string()
    });
    let goals = format!("{}/{} goals", p.goals_met, p.goals_total);
    match (state, first_done) {
        (ExerciseState::Unchecked, _) => String::new(),
        (ExerciseState::Passing, Some(at)) => format!("  ({goals}; first done {at})"),
        (ExerciseState::Passing, None) => format!("  ({goals})"),
        (ExerciseState::Missing, Some(at)) => format!("  ({goals} now; done on {at} before)"),
        (ExerciseState::Missing, None) => format!("  ({goals})"),
        (ExerciseState::Reset, Some(at)) => {
            format!("  (reset to the starter; done on {at} before)")
        }
        (ExerciseState::Reset, None) => "  (reset to the starter)".to_string(),
    }
}
