//! The learner's progress, kept in `.workbook-progress.json` at the workbook root (ignored by
//! git): which exercises are done, when, and the last verdicts. Written atomically so an
//! interrupted check never leaves a half-written file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::CheckerError;
use crate::pipeline::CheckResult;

pub const FILE_NAME: &str = ".workbook-progress.json";
const SCHEMA: &str = "workbook-progress/v1";

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Progress {
    #[serde(default)]
    pub schema: String,
    #[serde(default)]
    pub exercises: BTreeMap<String, ExerciseProgress>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct ExerciseProgress {
    /// Every goal met at least once (by the learner's Dockerfile).
    pub done: bool,
    /// When every goal was first met.
    pub met_at: Option<DateTime<Utc>>,
    pub last_checked: Option<DateTime<Utc>>,
    pub goals_met: usize,
    pub goals_total: usize,
    /// How many hints `checker hint` has shown.
    #[serde(default)]
    pub hints_shown: usize,
    /// The last check's verdicts and measurements, as the JSON report has them.
    #[serde(default)]
    pub last_result: Option<serde_json::Value>,
    /// The engine of the last check ("Docker Engine 28.5.2 (API 1.51, containerd image
    /// store)") and its facts: sizes depend on the image store, so a result says where it
    /// was measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_info: Option<crate::engine_info::EngineInfo>,
}

pub struct ProgressFile {
    path: PathBuf,
    pub progress: Progress,
}

impl ProgressFile {
    pub fn load(root: &Path) -> Result<ProgressFile, CheckerError> {
        let path = root.join(FILE_NAME);
        let progress = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| CheckerError::Io {
                path: path.clone(),
                message: format!(
                    "the progress file is damaged ({e}); move it away to start afresh"
                ),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Progress::default(),
            Err(e) => return Err(CheckerError::io(&path, e)),
        };
        Ok(ProgressFile { path, progress })
    }

    pub fn entry(&mut self, exercise: &str) -> &mut ExerciseProgress {
        self.progress
            .exercises
            .entry(exercise.to_string())
            .or_default()
    }

    pub fn is_done(&self, exercise: &str) -> bool {
        self.progress
            .exercises
            .get(exercise)
            .is_some_and(|e| e.done)
    }

    /// Records a check of the learner's Dockerfile.
    pub fn record(&mut self, result: &CheckResult) {
        let now = result.checked_at;
        let met = result.verdicts.iter().filter(|v| v.met).count();
        let entry = self.entry(&result.exercise);
        entry.last_checked = Some(now);
        entry.goals_met = met;
        entry.goals_total = result.verdicts.len();
        if result.all_met() && !entry.done {
            entry.done = true;
            entry.met_at = Some(now);
        }
        entry.last_result = serde_json::to_value(serde_json::json!({
            "verdicts": result.verdicts,
            "measurements": result.measurements,
        }))
        .ok();
    }

    /// Records the engine a check of `exercise` ran on.
    pub fn record_engine(&mut self, exercise: &str, info: Option<&crate::engine_info::EngineInfo>) {
        let entry = self.entry(exercise);
        entry.engine = info.map(|i| i.describe());
        entry.engine_info = info.cloned();
    }

    pub fn save(&mut self) -> Result<(), CheckerError> {
        self.progress.schema = SCHEMA.into();
        let text = serde_json::to_string_pretty(&self.progress).expect("progress serializes");
        let tmp = self.path.with_extension("json.tmp");
        std::fs::write(&tmp, text).map_err(|e| CheckerError::io(&tmp, e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| CheckerError::io(&self.path, e))
    }
}
