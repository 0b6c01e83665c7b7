//! The learner's progress, kept in `.workbook-progress.json` at the workbook root (ignored by
//! git): which exercises are done, when, and the last verdicts. Written atomically so an
//! interrupted check never leaves a half-written file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::CheckerError;
use crate::facts::Measurements;
use crate::goals::Verdict;

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
    /// Every goal met at least once (by the learner's Dockerfile). Whether they are met now
    /// is [`ExerciseProgress::state`].
    pub done: bool,
    /// When every goal was first met.
    pub met_at: Option<DateTime<Utc>>,
    pub last_checked: Option<DateTime<Utc>>,
    /// When `checker reset` last put the starter back: a result older than that is not the
    /// Dockerfile's any more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_at: Option<DateTime<Utc>>,
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
    pub engine_info: Option<crate::docker::engine_info::EngineInfo>,
}

/// Where an exercise stands, by its latest check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExerciseState {
    /// Never checked.
    Unchecked,
    /// The latest check met every goal.
    Passing,
    /// The latest check missed a goal (after having met them all before, if `done`).
    Missing,
    /// Reset to the starter since the latest check.
    Reset,
}

impl ExerciseProgress {
    pub fn state(&self) -> ExerciseState {
        match (self.last_checked, self.reset_at) {
            (None, _) => ExerciseState::Unchecked,
            (Some(checked), Some(reset)) if reset >= checked => ExerciseState::Reset,
            _ if self.goals_total > 0 && self.goals_met == self.goals_total => {
                ExerciseState::Passing
            }
            _ => ExerciseState::Missing,
        }
    }
}

/// A damaged progress file that was moved aside.
#[derive(Debug)]
pub struct SetAside {
    pub file: PathBuf,
    pub moved_to: PathBuf,
    /// What was wrong with it (the JSON error, with its line).
    pub damage: String,
}

impl std::fmt::Display for SetAside {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is damaged ({}); it is kept as {} and your progress starts afresh",
            self.file.display(),
            self.damage,
            self.moved_to.display()
        )
    }
}

pub struct ProgressFile {
    path: PathBuf,
    pub progress: Progress,
}

impl ProgressFile {
    pub fn load(root: &Path) -> Result<ProgressFile, CheckerError> {
        let path = root.join(FILE_NAME);
        let progress = match crate::learner_file::read_to_string(&path, crate::learner_file::MAX_STATE_FILE_BYTES) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| CheckerError::Io {
                path: path.clone(),
                message: format!(
                    "the progress file is damaged ({e}); move it away to start afresh (`checker check` keeps it aside for you)"
                ),
                source: Some(Box::new(e)),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Progress::default(),
            Err(e) => return Err(CheckerError::io(&path, e)),
        };
        Ok(ProgressFile { path, progress })
    }

    /// Like [`ProgressFile::load`], but a damaged file does not stop a check: it is renamed
    /// to `.workbook-progress.json.damaged-<time>` (kept for the learner, never deleted) and
    /// the progress starts afresh, so the result of the check about to run is not lost. The
    /// caller tells the learner, before building, through the returned [`SetAside`].
    pub fn load_or_set_aside(
        root: &Path,
    ) -> Result<(ProgressFile, Option<SetAside>), CheckerError> {
        let path = root.join(FILE_NAME);
        let text = match crate::learner_file::read_to_string(
            &path,
            crate::learner_file::MAX_STATE_FILE_BYTES,
        ) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok((
                    ProgressFile {
                        path,
                        progress: Progress::default(),
                    },
                    None,
                ))
            }
            // Not UTF-8 is damage too; anything else (permissions) is the learner's to fix.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                return Self::set_aside(path, e.to_string())
            }
            Err(e) => return Err(CheckerError::io(&path, e)),
        };
        match serde_json::from_str(&text) {
            Ok(progress) => Ok((ProgressFile { path, progress }, None)),
            Err(e) => Self::set_aside(path, e.to_string()),
        }
    }

    fn set_aside(
        path: PathBuf,
        damage: String,
    ) -> Result<(ProgressFile, Option<SetAside>), CheckerError> {
        let stamp = Utc::now().format("%Y%m%d-%H%M%S");
        let mut moved_to = path.with_file_name(format!("{FILE_NAME}.damaged-{stamp}"));
        let mut n = 1;
        while moved_to.exists() {
            n += 1;
            moved_to = path.with_file_name(format!("{FILE_NAME}.damaged-{stamp}-{n}"));
        }
        std::fs::rename(&path, &moved_to).map_err(|e| CheckerError::io(&path, e))?;
        Ok((
            ProgressFile {
                path: path.clone(),
                progress: Progress::default(),
            },
            Some(SetAside {
                file: path,
                moved_to,
                damage,
            }),
        ))
    }

    pub fn entry(&mut self, exercise: &str) -> &mut ExerciseProgress {
        self.progress
            .exercises
            .entry(exercise.to_string())
            .or_default()
    }

    /// Whether the latest check of `exercise` met every goal (and no reset came since).
    pub fn is_passing(&self, exercise: &str) -> bool {
        self.state(exercise) == ExerciseState::Passing
    }

    pub fn state(&self, exercise: &str) -> ExerciseState {
        self.progress
            .exercises
            .get(exercise)
            .map_or(ExerciseState::Unchecked, ExerciseProgress::state)
    }

    /// Records a check of the learner's Dockerfile.
    pub fn record(
        &mut self,
        exercise: &str,
        now: DateTime<Utc>,
        verdicts: &[Verdict],
        measurements: &Measurements,
    ) {
        let met = verdicts.iter().filter(|v| v.met).count();
        let entry = self.entry(exercise);
        entry.last_checked = Some(now);
        entry.goals_met = met;
        entry.goals_total = verdicts.len();
        if met == verdicts.len() && !entry.done {
            entry.done = true;
            entry.met_at = Some(now);
        }
        // The inventory lists every file of the image (thousands for a JDK): the progress
        // file, read on every `list` and by `serve` on every poll, keeps its summary.
        let summary = measurements.inventory.as_ref().map(|i| i.by_origin());
        let measurements = Measurements {
            inventory: None,
            ..measurements.clone()
        };
        entry.last_result = serde_json::to_value(serde_json::json!({
            "verdicts": verdicts,
            "measurements": measurements,
            "by_origin": summary,
        }))
        .ok();
    }

    /// Records the engine a check of `exercise` ran on.
    pub fn record_engine(
        &mut self,
        exercise: &str,
        info: Option<&crate::docker::engine_info::EngineInfo>,
    ) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_is_the_latest_checks_and_a_reset_outdates_it() {
        let at = |minute: u32| {
            DateTime::parse_from_rfc3339(&format!("2026-11-30T14:{minute:02}:00Z"))
                .unwrap()
                .with_timezone(&Utc)
        };
        let mut p = ExerciseProgress::default();
        assert_eq!(p.state(), ExerciseState::Unchecked);
        (p.last_checked, p.goals_met, p.goals_total, p.done) = (Some(at(1)), 5, 5, true);
        assert_eq!(p.state(), ExerciseState::Passing);
        (p.last_checked, p.goals_met) = (Some(at(2)), 3);
        assert_eq!(
            p.state(),
            ExerciseState::Missing,
            "a regression: done before, not now"
        );
        (p.last_checked, p.goals_met) = (Some(at(3)), 5);
        p.reset_at = Some(at(4));
        assert_eq!(p.state(), ExerciseState::Reset);
        p.last_checked = Some(at(5));
        assert_eq!(
            p.state(),
            ExerciseState::Passing,
            "checked again after the reset"
        );
    }

    #[test]
    fn a_damaged_file_is_moved_aside_and_a_good_one_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let (_, none) = ProgressFile::load_or_set_aside(dir.path()).unwrap();
        assert!(none.is_none());
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, "{\"exercises\": {}}").unwrap();
        let (_, none) = ProgressFile::load_or_set_aside(dir.path()).unwrap();
        assert!(none.is_none() && path.exists());
        for damaged in [&b"{ nope"[..], &b"\xff\xfe"[..]] {
            std::fs::write(&path, damaged).unwrap();
            let (mut file, aside) = ProgressFile::load_or_set_aside(dir.path()).unwrap();
            let aside = aside.expect("set aside");
            assert!(!path.exists());
            assert_eq!(std::fs::read(&aside.moved_to).unwrap(), damaged);
            assert!(aside
                .to_string()
                .contains(&aside.moved_to.display().to_string()));
            file.entry("01").hints_shown = 1;
            file.save().unwrap();
            assert!(ProgressFile::load(dir.path()).is_ok());
        }
    }
}
