//! `checker list`: the exercises in order, each done (its latest check met every goal), next
//! or pending, with the goals its latest check met and when it was first done.

use std::process::ExitCode;

use super::Outcome;
use crate::error::CheckerError;
use crate::workbook::progress::{ExerciseProgress, ExerciseState, ProgressFile};
use crate::workbook::{first_pending, Workbook};

/// How `checker list` prints: a line an exercise, or one JSON document
/// (`workbook-checker/list/v1`, docs/json-schema.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

pub fn list(workbook: &Workbook, format: ListFormat) -> Outcome {
    let broken = match format {
        ListFormat::Text => {
            let (lines, broken) = listing(workbook)?;
            for line in lines {
                println!("{line}");
            }
            broken
        }
        ListFormat::Json => {
            let (document, broken) = listing_json(workbook)?;
            println!("{document:#}");
            broken
        }
    };
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

/// The schema of `checker list --format json`.
pub const LIST_SCHEMA: &str = "workbook-checker/list/v1";

/// `checker list --format json`: every exercise in order, where it stands and whether it is
/// the next, as one document; and the errors of those whose exercise.toml does not load
/// (each also an entry of state `broken`, with its message).
pub fn listing_json(
    workbook: &Workbook,
) -> Result<(serde_json::Value, Vec<CheckerError>), CheckerError> {
    let progress = ProgressFile::load(&workbook.root)?;
    let exercises = workbook.each_exercise()?;
    let loaded = exercises.iter().filter_map(|e| e.as_ref().ok());
    let next = first_pending(&progress, loaded.map(|e| e.name.as_str())).map(str::to_string);
    let mut entries = Vec::new();
    let mut broken = Vec::new();
    for exercise in exercises {
        match exercise {
            Ok(exercise) => entries.push(json_entry(&progress, &exercise, next.as_deref())),
            Err(e) => {
                if let CheckerError::InvalidExercise { file, .. } = &e {
                    let name = file.parent().and_then(|d| d.file_name());
                    let name = name.map(|n| n.to_string_lossy()).unwrap_or_default();
                    entries.push(serde_json::json!({
                        "exercise": name, "title": null, "state": "broken", "next": false,
                        "done": false, "goals_met": null, "goals_total": null,
                        "met_at": null, "last_checked": null, "hints_shown": 0,
                        "error": e.to_string(),
                    }));
                }
                broken.push(e);
            }
        }
    }
    let document = serde_json::json!({
        "schema": LIST_SCHEMA,
        "checker_version": env!("CARGO_PKG_VERSION"),
        "next": next,
        "exercises": entries,
    });
    Ok((document, broken))
}

/// One exercise of the JSON listing; the goals are null until it has been checked.
fn json_entry(
    progress: &ProgressFile,
    exercise: &crate::workbook::exercise::Exercise,
    next: Option<&str>,
) -> serde_json::Value {
    let p = progress.progress.exercises.get(&exercise.name);
    let state = progress.state(&exercise.name);
    let checked = state != ExerciseState::Unchecked;
    serde_json::json!({
        "exercise": exercise.name,
        "title": exercise.title(),
        "state": state,
        "next": next == Some(exercise.name.as_str()),
        "done": p.is_some_and(|p| p.done),
        "goals_met": p.filter(|_| checked).map(|p| p.goals_met),
        "goals_total": p.filter(|_| checked).map(|p| p.goals_total),
        "met_at": p.and_then(|p| p.met_at),
        "last_checked": p.and_then(|p| p.last_checked),
        "hints_shown": p.map_or(0, |p| p.hints_shown),
        "error": null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::fake::exercises;

    /// The keys every entry has, whatever its state: the schema readers rely on.
    const KEYS: [&str; 11] = [
        "exercise",
        "title",
        "state",
        "next",
        "done",
        "goals_met",
        "goals_total",
        "met_at",
        "last_checked",
        "hints_shown",
        "error",
    ];

    fn keys(value: &serde_json::Value) -> Vec<&str> {
        let mut keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        keys
    }

    #[test]
    fn the_json_listing_has_its_schema_and_every_exercise_in_order() {
        let (_folder, workbook) = exercises::workbook_with(&["01-static-binary", "11-build-args"]);
        let mut file = ProgressFile::load(&workbook.root).unwrap();
        file.entry("11-build-args").hints_shown = 2;
        file.save().unwrap();
        let (document, broken) = listing_json(&workbook).unwrap();
        assert!(broken.is_empty());
        let mut top = keys(&document);
        top.sort();
        assert_eq!(top, ["checker_version", "exercises", "next", "schema"]);
        assert_eq!(document["schema"], "workbook-checker/list/v1");
        assert_eq!(document["next"], "01-static-binary");
        let entries = document["exercises"].as_array().unwrap();
        let mut expected = KEYS.to_vec();
        expected.sort();
        for entry in entries {
            assert_eq!(keys(entry), expected);
        }
        assert_eq!(entries[0]["exercise"], "01-static-binary");
        assert_eq!(entries[0]["state"], "unchecked");
        assert_eq!(entries[0]["next"], true);
        assert_eq!(entries[0]["goals_met"], serde_json::Value::Null);
        assert_eq!(entries[1]["exercise"], "11-build-args");
        assert_eq!(entries[1]["next"], false);
        assert_eq!(entries[1]["hints_shown"], 2);
        assert!(entries[1]["title"].as_str().is_some_and(|t| !t.is_empty()));
    }

    #[test]
    fn a_broken_exercise_is_an_entry_with_its_error() {
        let (_folder, workbook) = exercises::workbook_with(&["01-static-binary", "11-build-args"]);
        let toml = workbook.exercises_dir().join("11-build-args/exercise.toml");
        std::fs::write(toml, "not = [valid").unwrap();
        let (document, broken) = listing_json(&workbook).unwrap();
        assert_eq!(broken.len(), 1);
        let entry = &document["exercises"][1];
        let mut expected = KEYS.to_vec();
        expected.sort();
        assert_eq!(keys(entry), expected);
        assert_eq!(entry["exercise"], "11-build-args");
        assert_eq!(entry["state"], "broken");
        assert!(entry["error"].as_str().unwrap().contains("exercise.toml"));
    }
}
