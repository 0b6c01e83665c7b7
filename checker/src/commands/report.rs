//! `checker report`: the learner's whole progress as one JSON file to hand in
//! (schema `workbook-checker/report/v1`, docs/json-schema.md).

use std::path::PathBuf;
use std::process::ExitCode;

use super::Outcome;
use crate::error::CheckerError;
use crate::workbook::progress::ProgressFile;
use crate::workbook::Workbook;

/// What a report is worth, written into every report.
pub const SELF_REPORTED: &str = "self-reported: made from this checkout's progress file and result cache, which the learner can edit; to trust a result, grade the hand-in with `checker grade`, which builds and judges it anew";

pub fn report(workbook: &Workbook, output: Option<PathBuf>, name: Option<String>) -> Outcome {
    let progress = ProgressFile::load(&workbook.root)?;
    let learner = name
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_default();
    let exercises: Vec<serde_json::Value> = workbook
        .exercises()?
        .iter()
        .map(|e| {
            let p = progress
                .progress
                .exercises
                .get(&e.name)
                .cloned()
                .unwrap_or_default();
            serde_json::json!({
                "exercise": e.name,
                "title": e.title(),
                "done": p.done,
                "met_at": p.met_at,
                "state": p.state(),
                "last_checked": p.last_checked,
                "goals_met": p.goals_met,
                "goals_total": if p.goals_total > 0 { p.goals_total } else { e.file.goals.len() },
                "hints_shown": p.hints_shown,
                "last_result": p.last_result,
                "engine": p.engine,
                "engine_info": p.engine_info,
            })
        })
        .collect();
    let done = exercises.iter().filter(|e| e["done"] == true).count();
    let doc = serde_json::json!({
        "schema": "workbook-checker/report/v1",
        "learner": learner,
        "generated_at": chrono::Utc::now(),
        "checker_version": env!("CARGO_PKG_VERSION"),
        // The progress file and result cache it is made of are the learner's to edit: a
        // report says what their checker recorded, `grade` what the hand-in does.
        "self_reported": SELF_REPORTED,
        "exercises_done": done,
        "exercises_total": exercises.len(),
        "exercises": exercises,
    });
    let text = serde_json::to_string_pretty(&doc).expect("report serializes") + "\n";
    match output {
        Some(path) => {
            std::fs::write(&path, text).map_err(|e| CheckerError::io(&path, e))?;
            println!(
                "wrote {} ({done} of {} exercises done, self-reported)",
                path.display(),
                doc["exercises_total"]
            );
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
