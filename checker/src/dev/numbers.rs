//! The numbers the book prints, as `checker measure` writes them to `src/measurements.json`
//! (and `checker pulls` adds the pull times): per exercise and variant, per base image, the
//! engine they were measured on, and how far two measurements may drift apart.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::check::CheckResult;
use crate::error::CheckerError;
use crate::facts::{AppOutcome, ProbeOutcome};

/// Where the measured numbers live, relative to the workbook root.
pub const MEASUREMENTS_FILE: &str = "src/measurements.json";
const SCHEMA: &str = "workbook-measurements/v1";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MeasuredResults {
    pub schema: String,
    pub measured_at: DateTime<Utc>,
    pub engine: String,
    /// The engine's facts (version, API, image store, BuildKit), without its endpoint; absent
    /// in files measured before the checker recorded them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_info: Option<crate::docker::engine_info::EngineInfo>,
    /// Base image → size in bytes.
    pub bases: BTreeMap<String, u64>,
    pub exercises: BTreeMap<String, ExerciseNumbers>,
    /// Figures of grading a synthetic class (`bench/classroom.sh`, from `checker grade`'s
    /// own timings); kept when `checker measure` rewrites the file.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub classroom: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExerciseNumbers {
    pub title: String,
    pub starter: VariantNumbers,
    pub solution: VariantNumbers,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VariantNumbers {
    /// Bytes, as `docker image inspect` `.Size`.
    pub size: u64,
    pub layers: usize,
    /// Files (anything but folders) in the final filesystem.
    pub files: usize,
    /// Seconds from starting the container until the app answered or exited.
    pub start_seconds: Option<f64>,
    /// Seconds to pull the image from a registry on loopback into an engine that had none of
    /// its layers (`checker pulls`); kept when `checker measure` rewrites the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_seconds: Option<f64>,
    /// Bytes of every layer with content, base first, as `docker history` lists the
    /// non-empty ones. The book's `<!-- measure … layer N -->` is the Nth of these, which is
    /// not always the checker's "layer N" (that counts zero-byte layers too, as
    /// `docker inspect` does).
    #[serde(default)]
    pub layer_sizes: Vec<u64>,
    /// Bytes of the build context after `.dockerignore`.
    #[serde(default)]
    pub context_bytes: u64,
    /// Bytes wasted as dive counts them, for exercises with a `wasted-bytes` goal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wasted_bytes: Option<u64>,
}

/// Seconds from starting the container until the first app answered or exited, if one did.
pub fn start_seconds(apps: &BTreeMap<String, AppOutcome>) -> Option<f64> {
    apps.values().find_map(|a| match a {
        AppOutcome::Exited { seconds, .. } | AppOutcome::Answered { seconds, .. } => Some(*seconds),
        _ => None,
    })
}

impl VariantNumbers {
    pub fn from_check(result: &CheckResult, files: usize, layer_sizes: Vec<u64>) -> VariantNumbers {
        let start_seconds = start_seconds(&result.measurements.apps);
        VariantNumbers {
            size: result.measurements.image_size,
            layers: result.measurements.layer_count,
            files,
            start_seconds,
            pull_seconds: None,
            layer_sizes,
            context_bytes: result.measurements.context_bytes,
            wasted_bytes: result.measurements.probes.values().find_map(|p| match p {
                ProbeOutcome::WastedBytes { bytes, .. } => Some(*bytes),
                _ => None,
            }),
        }
    }
}

impl MeasuredResults {
    pub fn new(engine: String) -> MeasuredResults {
        MeasuredResults {
            schema: SCHEMA.into(),
            measured_at: Utc::now(),
            engine,
            engine_info: None,
            bases: BTreeMap::new(),
            exercises: BTreeMap::new(),
            classroom: BTreeMap::new(),
        }
    }

    /// The engine as the book names it: with the image store when the file records it
    /// ("Docker Engine 28.5.2 (API 1.51, containerd image store)").
    pub fn engine_line(&self) -> String {
        match &self.engine_info {
            Some(info) => info.describe(),
            None => self.engine.clone(),
        }
    }

    pub fn load(path: &Path) -> Result<MeasuredResults, CheckerError> {
        let text = std::fs::read_to_string(path).map_err(|e| CheckerError::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| CheckerError::Io {
            path: path.to_path_buf(),
            message: format!("not a measurements file ({e}); regenerate it with `checker measure --write {MEASUREMENTS_FILE}`"),
            source: Some(Box::new(e)),
        })
    }

    /// Where a fresh measurement differs from this one by more than `tolerance` (0.1 = 10 %)
    /// in size, layers or files, or by a factor of two and half a second in start time.
    pub fn drift(&self, fresh: &MeasuredResults, tolerance: f64) -> Vec<String> {
        let mut out = Vec::new();
        let far = |a: f64, b: f64| (a - b).abs() > tolerance * a.abs().max(b.abs());
        for (name, old) in &self.exercises {
            let Some(new) = fresh.exercises.get(name) else {
                out.push(format!("{name}: not in the fresh measurement"));
                continue;
            };
            for (variant, o, n) in [
                ("starter", &old.starter, &new.starter),
                ("solution", &old.solution, &new.solution),
            ] {
                let layer =
                    |v: &VariantNumbers, i: usize| v.layer_sizes.get(i).copied().unwrap_or(0);
                let figures = [
                    ("size".to_string(), o.size as f64, n.size as f64),
                    ("layers".to_string(), o.layers as f64, n.layers as f64),
                    ("files".to_string(), o.files as f64, n.files as f64),
                    (
                        "context".to_string(),
                        o.context_bytes as f64,
                        n.context_bytes as f64,
                    ),
                    (
                        "wasted".to_string(),
                        o.wasted_bytes.unwrap_or(0) as f64,
                        n.wasted_bytes.unwrap_or(0) as f64,
                    ),
                ]
                .into_iter()
                .chain((0..o.layer_sizes.len().max(n.layer_sizes.len())).map(|i| {
                    (
                        format!("layer {}", i + 1),
                        layer(o, i) as f64,
                        layer(n, i) as f64,
                    )
                }));
                for (field, a, b) in figures {
                    if far(a, b) {
                        out.push(format!(
                            "{name} {variant} {field}: committed {a}, measured {b}"
                        ));
                    }
                }
                if let (Some(a), Some(b)) = (o.start_seconds, n.start_seconds) {
                    // Sizes are the same on every engine of a kind; a start time depends on
                    // the machine and what else runs on it (a JVM started in 0.40 s alone
                    // and 0.90 s beside two builds). Drift means twice as slow or fast and
                    // half a second apart: an app that changed, not a busy machine.
                    if a.max(b) > 2.0 * a.min(b) && (a - b).abs() > 0.5 {
                        out.push(format!(
                            "{name} {variant} start: committed {a:.2} s, measured {b:.2} s"
                        ));
                    }
                }
            }
        }
        for name in fresh
            .exercises
            .keys()
            .filter(|n| !self.exercises.contains_key(*n))
        {
            out.push(format!("{name}: measured but not committed"));
        }
        for (image, size) in &self.bases {
            if let Some(new) = fresh.bases.get(image) {
                if far(*size as f64, *new as f64) {
                    out.push(format!("base {image}: committed {size}, measured {new}"));
                }
            }
        }
        out
    }
}

#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    pub fn numbers() -> MeasuredResults {
        let v = |size, layers, files, start| VariantNumbers {
            size,
            layers,
            files,
            start_seconds: start,
            pull_seconds: None,
            layer_sizes: vec![116_000_000, 209_000_000, 16_000],
            context_bytes: 4_000,
            wasted_bytes: None,
        };
        MeasuredResults {
            schema: SCHEMA.into(),
            measured_at: "2026-11-23T08:00:00Z".parse().unwrap(),
            engine: "Docker Engine 20.10.24+dfsg1 (API 1.41)".into(),
            engine_info: None,
            bases: BTreeMap::from([("debian:bookworm".to_string(), 116_600_000)]),
            classroom: BTreeMap::from([("jobs_2_seconds".to_string(), serde_json::json!(61.23))]),
            exercises: BTreeMap::from([(
                "01-static-binary".to_string(),
                ExerciseNumbers {
                    title: "t".into(),
                    starter: v(326_000_000, 5, 9000, Some(0.36)),
                    solution: v(680_000, 1, 1, Some(0.31)),
                },
            )]),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::numbers;

    #[test]
    fn drift_beyond_ten_percent_is_reported() {
        let old = numbers();
        let mut new = numbers();
        assert!(old.drift(&new, 0.1).is_empty());
        new.exercises
            .get_mut("01-static-binary")
            .unwrap()
            .starter
            .size = 300_000_000; // -8 %
        assert!(old.drift(&new, 0.1).is_empty());
        new.exercises
            .get_mut("01-static-binary")
            .unwrap()
            .starter
            .size = 280_000_000; // -14 %
        assert_eq!(
            old.drift(&new, 0.1),
            vec!["01-static-binary starter size: committed 326000000, measured 280000000"]
        );
        let mut slow = numbers();
        slow.exercises
            .get_mut("01-static-binary")
            .unwrap()
            .solution
            .start_seconds = Some(0.6);
        assert!(
            old.drift(&slow, 0.1).is_empty(),
            "start times jitter: half a second of slack"
        );
        // The CI failure of stop 16: a JVM measured 0.90 s on a busy machine and 0.40 s on
        // a quiet one. That is the machine, not the app.
        let mut busy = numbers();
        busy.exercises
            .get_mut("01-static-binary")
            .unwrap()
            .starter
            .start_seconds = Some(0.90);
        let mut quiet = numbers();
        quiet
            .exercises
            .get_mut("01-static-binary")
            .unwrap()
            .starter
            .start_seconds = Some(0.40);
        assert!(busy.drift(&quiet, 0.1).is_empty());
        // An app that now takes three seconds to answer has changed.
        let mut changed = numbers();
        changed
            .exercises
            .get_mut("01-static-binary")
            .unwrap()
            .starter
            .start_seconds = Some(3.0);
        assert_eq!(
            old.drift(&changed, 0.1),
            vec!["01-static-binary starter start: committed 0.36 s, measured 3.00 s"]
        );
    }
}
