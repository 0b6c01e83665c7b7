//! An exercise on disk: `exercises/<NN-name>/` with its `exercise.toml`, the learner's
//! `Dockerfile`, the pristine `starter/Dockerfile` and the reference `solution/Dockerfile`.
//! The build context of all three is the exercise folder itself.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::CheckerError;

/// The whole `exercise.toml`. Unknown keys are refused so that a typo (`max_mbb`) is reported
/// instead of silently dropping a goal.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExerciseFile {
    pub exercise: ExerciseMeta,
    #[serde(default)]
    pub goals: Vec<Goal>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExerciseMeta {
    pub title: String,
    /// Ids of the goals the starter is designed to miss. `checker verify` demands that the
    /// starter misses exactly these and the solution meets every goal.
    pub lesson: Vec<String>,
    #[serde(default)]
    pub hints: Vec<String>,
    /// Build arguments passed to every build of this exercise.
    #[serde(default)]
    pub build_args: std::collections::BTreeMap<String, String>,
}

/// One goal: an id the lesson and reports refer to, and what is measured against what.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Goal {
    pub id: String,
    /// What to tell the learner when the goal is missed, in place of the kind's generic
    /// advice ("build tools belong in a build stage" is wrong advice for recommends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advice: Option<String>,
    #[serde(flatten)]
    pub kind: GoalKind,
}

impl<'de> Deserialize<'de> for Goal {
    /// `id` and `advice` are taken out first and the rest must be exactly one goal kind's
    /// keys: serde's `flatten` would hand `advice` to the kind and refuse it, or (without
    /// `deny_unknown_fields`) let a misspelt key pass unnoticed.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Goal, D::Error> {
        use serde::de::Error;
        let mut table = toml::Table::deserialize(deserializer)?;
        let text = |table: &mut toml::Table, key: &str| match table.remove(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(D::Error::custom(format!(
                "`{key}` must be a string, not {}",
                other.type_str()
            ))),
        };
        let id = text(&mut table, "id")?.ok_or_else(|| D::Error::missing_field("id"))?;
        let advice = text(&mut table, "advice")?;
        let kind = GoalKind::deserialize(toml::Value::Table(table))
            .map_err(|e| D::Error::custom(e.message()))?;
        Ok(Goal { id, advice, kind })
    }
}

/// What a goal measures. Sizes are uncompressed layer bytes as `docker image inspect`
/// reports them (`.Size`), in decimal megabytes as `docker images` prints them.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum GoalKind {
    /// The final image is at most `max_mb` MB.
    ImageSize { max_mb: f64 },
    /// The final image is at most `max_percent` % of the starter's image.
    RelativeSize { max_percent: f64 },
    /// The Dockerfile has at least `min_stages` stages and the final stage depends on at
    /// least `min_final_depends_on` other stages (directly or through other stages).
    Stages {
        #[serde(default)]
        min_stages: Option<usize>,
        #[serde(default)]
        min_final_depends_on: Option<usize>,
    },
    /// The final image's user resolves to a uid other than 0.
    NonRoot,
    /// None of these paths exists in the final image.
    PathsAbsent { paths: Vec<String> },
    /// Every one of these paths exists in the final image.
    PathsPresent { paths: Vec<String> },
    /// Run the image (with `command`, or its own ENTRYPOINT/CMD) and expect an exit code and
    /// a stdout pattern within the time limit.
    Run {
        #[serde(default)]
        command: Option<Vec<String>>,
        #[serde(default)]
        exit_code: i64,
        #[serde(default)]
        stdout: Option<String>,
        #[serde(default = "default_run_timeout")]
        timeout_s: u64,
    },
    /// Start the image and expect an HTTP status (and body pattern) on a port.
    Http {
        port: u16,
        #[serde(default = "default_http_path")]
        path: String,
        #[serde(default = "default_http_status")]
        status: u16,
        #[serde(default)]
        body: Option<String>,
        #[serde(default = "default_http_timeout")]
        timeout_s: u64,
    },
    /// The build context (after `.dockerignore`) is at most `max_mb` MB, and none of the
    /// `forbidden` paths (relative to the exercise folder; a folder forbids what is in it)
    /// is in it.
    ContextSize {
        max_mb: f64,
        #[serde(default)]
        forbidden: Vec<String>,
    },
    /// The final stage depends on at least `min_independent` stages that do not depend on
    /// each other, and (unless `require_overlap = false`) BuildKit's timings of a build
    /// without cache show their work overlapping.
    ParallelStages {
        #[serde(default = "default_min_independent")]
        min_independent: usize,
        #[serde(default = "default_true")]
        require_overlap: bool,
    },
    /// After a line is appended to `change` (in a copy of the context), every build step
    /// whose name matches the regex `step` must come back from the cache.
    CacheReuse { change: String, step: String },
    /// Building `--target <target>` passes on the context as it is, and fails once the
    /// file `fault.file` is replaced by `fault.with` (both relative to the exercise folder),
    /// which proves the test stage really runs the tests.
    TestStage { target: String, fault: Fault },
    /// The ARG `name`, declared before the first FROM, has a pinned default (not empty, not
    /// `latest`), and the image also builds with `--build-arg name=<alternate>` and passes
    /// the exercise's run and http goals.
    BuildArg { name: String, alternate: String },
    /// Bytes that layers keep although a later layer overwrites or deletes them, counted as
    /// dive counts them, at most `max_mb` MB.
    WastedBytes { max_mb: f64 },
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    pub file: String,
    pub with: String,
}

fn default_min_independent() -> usize {
    2
}
fn default_true() -> bool {
    true
}
fn default_run_timeout() -> u64 {
    10
}
fn default_http_timeout() -> u64 {
    20
}
fn default_http_path() -> String {
    "/".to_string()
}
fn default_http_status() -> u16 {
    200
}

impl GoalKind {
    /// The short name used in reports and the JSON schema.
    pub fn name(&self) -> &'static str {
        match self {
            GoalKind::ImageSize { .. } => "image-size",
            GoalKind::RelativeSize { .. } => "relative-size",
            GoalKind::Stages { .. } => "stages",
            GoalKind::NonRoot => "non-root",
            GoalKind::PathsAbsent { .. } => "paths-absent",
            GoalKind::PathsPresent { .. } => "paths-present",
            GoalKind::Run { .. } => "run",
            GoalKind::Http { .. } => "http",
            GoalKind::ContextSize { .. } => "context-size",
            GoalKind::ParallelStages { .. } => "parallel-stages",
            GoalKind::CacheReuse { .. } => "cache-reuse",
            GoalKind::TestStage { .. } => "test-stage",
            GoalKind::BuildArg { .. } => "build-arg",
            GoalKind::WastedBytes { .. } => "wasted-bytes",
        }
    }
}

/// Which Dockerfile of an exercise is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Variant {
    /// `Dockerfile`, the file the learner edits.
    Learner,
    /// `starter/Dockerfile`, the pristine starter.
    Starter,
    /// `solution/Dockerfile`, the reference.
    Solution,
}

impl Variant {
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Learner => "learner",
            Variant::Starter => "starter",
            Variant::Solution => "solution",
        }
    }
    /// The Dockerfile's path relative to the exercise folder (which is the build context).
    pub fn dockerfile(self) -> &'static str {
        match self {
            Variant::Learner => "Dockerfile",
            Variant::Starter => "starter/Dockerfile",
            Variant::Solution => "solution/Dockerfile",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Exercise {
    /// The folder name, e.g. `01-static-binary`; also the image repository suffix.
    pub name: String,
    pub dir: PathBuf,
    pub file: ExerciseFile,
}

impl Exercise {
    /// Loads and validates `DIR/exercise.toml`.
    pub fn load(dir: &Path) -> Result<Exercise, CheckerError> {
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| CheckerError::InvalidExercise {
                file: dir.to_path_buf(),
                message: "the folder name is not valid UTF-8".into(),
            })?
            .to_string();
        let toml_path = dir.join("exercise.toml");
        let text =
            std::fs::read_to_string(&toml_path).map_err(|e| CheckerError::InvalidExercise {
                file: toml_path.clone(),
                message: format!("cannot read it: {e}"),
            })?;
        let file = parse_exercise_toml(&text).map_err(|message| CheckerError::InvalidExercise {
            file: toml_path.clone(),
            message,
        })?;
        Ok(Exercise {
            name,
            dir: dir.to_path_buf(),
            file,
        })
    }

    pub fn title(&self) -> &str {
        &self.file.exercise.title
    }

    pub fn dockerfile_path(&self, variant: Variant) -> PathBuf {
        self.dir.join(variant.dockerfile())
    }

    /// The tag every image of this exercise gets, e.g. `workbook/01-static-binary:solution`.
    pub fn image_tag(&self, variant: Variant) -> String {
        format!(
            "{}/{}:{}",
            crate::docker::engine::IMAGE_REPOSITORY_PREFIX,
            self.name,
            variant.as_str()
        )
    }

    pub fn lesson(&self) -> BTreeSet<String> {
        self.file.exercise.lesson.iter().cloned().collect()
    }
}

/// Parses and validates the text of an `exercise.toml`; the error names the key at fault.
pub fn parse_exercise_toml(text: &str) -> Result<ExerciseFile, String> {
    let file: ExerciseFile = toml::from_str(text).map_err(|e| e.to_string())?;
    validate(&file)?;
    Ok(file)
}

fn validate(file: &ExerciseFile) -> Result<(), String> {
    if file.goals.is_empty() {
        return Err("key `goals`: an exercise needs at least one [[goals]] table".into());
    }
    let mut ids = BTreeSet::new();
    for (i, goal) in file.goals.iter().enumerate() {
        let at = format!("key `goals[{i}]` (id `{}`)", goal.id);
        if goal.id.trim().is_empty() {
            return Err(format!("key `goals[{i}].id`: must not be empty"));
        }
        if !ids.insert(goal.id.as_str()) {
            return Err(format!("{at}: the id is used twice"));
        }
        match &goal.kind {
            // `!(x > 0)` and `is_finite` because TOML has `nan` (a goal never met) and `inf`
            // (a goal always met), and every comparison with nan is false.
            GoalKind::ImageSize { max_mb } => check_positive(&at, "max_mb", *max_mb)?,
            GoalKind::RelativeSize { max_percent } => {
                check_positive(&at, "max_percent", *max_percent)?
            }
            GoalKind::Stages {
                min_stages: None,
                min_final_depends_on: None,
            } => {
                return Err(format!(
                    "{at}: set `min_stages`, `min_final_depends_on` or both"
                ))
            }
            GoalKind::PathsAbsent { paths } | GoalKind::PathsPresent { paths } => {
                if paths.is_empty() {
                    return Err(format!("{at}: `paths` must list at least one path"));
                }
                if let Some(p) = paths.iter().find(|p| !p.starts_with('/')) {
                    return Err(format!("{at}: path `{p}` must be absolute"));
                }
            }
            GoalKind::Run {
                stdout: Some(pattern),
                timeout_s,
                ..
            } => {
                check_regex(&at, "stdout", pattern)?;
                check_timeout(&at, *timeout_s)?;
            }
            GoalKind::Run { timeout_s, .. } => check_timeout(&at, *timeout_s)?,
            GoalKind::Http {
                body,
                timeout_s,
                path,
                port,
                status,
            } => {
                // Port 0 asks the kernel for any port: nothing the app can be listening on.
                if *port == 0 {
                    return Err(format!("{at}: `port` must be between 1 and 65535, not 0"));
                }
                if !(100..=599).contains(status) {
                    return Err(format!(
                        "{at}: `status` must be an HTTP status (100 to 599), not {status}"
                    ));
                }
                if let Some(pattern) = body {
                    check_regex(&at, "body", pattern)?;
                }
                if !path.starts_with('/') {
                    return Err(format!("{at}: `path` must start with `/`"));
                }
                check_timeout(&at, *timeout_s)?;
            }
            GoalKind::WastedBytes { max_mb } if !(max_mb.is_finite() && *max_mb >= 0.0) => {
                return Err(format!(
                    "{at}: `max_mb` must be a number of MB, 0 or more, not {max_mb}"
                ))
            }
            GoalKind::BuildArg { name, .. } if name.trim().is_empty() => {
                return Err(format!("{at}: `name` must name an ARG"))
            }
            GoalKind::ContextSize { max_mb, .. } => check_positive(&at, "max_mb", *max_mb)?,
            GoalKind::ParallelStages {
                min_independent, ..
            } if *min_independent < 2 => {
                return Err(format!("{at}: `min_independent` must be at least 2"))
            }
            GoalKind::CacheReuse { step, change } => {
                check_regex(&at, "step", step)?;
                check_relative(&at, "change", change)?;
            }
            GoalKind::TestStage { fault, .. } => {
                check_relative(&at, "fault.file", &fault.file)?;
                check_relative(&at, "fault.with", &fault.with)?;
            }
            _ => {}
        }
    }
    for id in &file.exercise.lesson {
        if !ids.contains(id.as_str()) {
            return Err(format!(
                "key `exercise.lesson`: `{id}` is not the id of any goal"
            ));
        }
    }
    Ok(())
}

fn check_positive(at: &str, key: &str, value: f64) -> Result<(), String> {
    if !(value.is_finite() && value > 0.0) {
        return Err(format!(
            "{at}: `{key}` must be a positive, finite number, not {value}"
        ));
    }
    Ok(())
}

fn check_regex(at: &str, key: &str, pattern: &str) -> Result<(), String> {
    regex::Regex::new(pattern)
        .map(|_| ())
        .map_err(|e| format!("{at}: `{key}` is not a valid regex: {e}"))
}

fn check_relative(at: &str, key: &str, path: &str) -> Result<(), String> {
    if path.starts_with('/') || path.split('/').any(|c| c == "..") || path.is_empty() {
        return Err(format!(
            "{at}: `{key}` must be a path inside the exercise folder, not `{path}`"
        ));
    }
    Ok(())
}

fn check_timeout(at: &str, timeout_s: u64) -> Result<(), String> {
    if timeout_s == 0 || timeout_s > 600 {
        return Err(format!("{at}: `timeout_s` must be between 1 and 600"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = r#"
[exercise]
title = "t"
lesson = ["size"]
hints = ["a", "b"]

[[goals]]
id = "size"
kind = "image-size"
max_mb = 2.0

[[goals]]
id = "runs"
kind = "run"
command = ["/hello"]
stdout = "Hello"
"#;

    #[test]
    fn parses_a_valid_file_with_defaults() {
        let f = parse_exercise_toml(VALID).unwrap();
        assert_eq!(f.goals.len(), 2);
        assert_eq!(f.goals[0].kind, GoalKind::ImageSize { max_mb: 2.0 });
        match &f.goals[1].kind {
            GoalKind::Run {
                exit_code,
                timeout_s,
                ..
            } => {
                assert_eq!(*exit_code, 0);
                assert_eq!(*timeout_s, 10);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn a_misspelt_key_is_named_with_its_line() {
        let err = parse_exercise_toml(&VALID.replace("max_mb", "max_mbb")).unwrap_err();
        assert!(err.contains("max_mbb"), "{err}");
        assert!(err.contains("line"), "{err}");
    }

    #[test]
    fn advice_is_a_goal_key_and_typos_are_still_refused() {
        let f = parse_exercise_toml(
            &VALID.replace("max_mb = 2.0", "max_mb = 2.0\nadvice = \"smaller\""),
        )
        .unwrap();
        assert_eq!(f.goals[0].advice.as_deref(), Some("smaller"));
        let err = parse_exercise_toml(
            &VALID.replace("max_mb = 2.0", "max_mb = 2.0\nadvise = \"smaller\""),
        )
        .unwrap_err();
        assert!(err.contains("advise"), "{err}");
        let err = parse_exercise_toml(&VALID.replace("id = \"runs\"\n", "")).unwrap_err();
        assert!(err.contains("id"), "{err}");
    }

    #[test]
    fn an_unknown_goal_kind_is_named() {
        let err = parse_exercise_toml(&VALID.replace("image-size", "image-weight")).unwrap_err();
        assert!(err.contains("image-weight"), "{err}");
    }

    #[test]
    fn a_lesson_must_name_existing_goals() {
        let err =
            parse_exercise_toml(&VALID.replace(r#"lesson = ["size"]"#, r#"lesson = ["tiny"]"#))
                .unwrap_err();
        assert!(
            err.contains("exercise.lesson") && err.contains("tiny"),
            "{err}"
        );
    }

    #[test]
    fn probing_goal_kinds_parse_and_validate() {
        let extra = r#"
[[goals]]
id = "ctx"
kind = "context-size"
max_mb = 1.5
forbidden = ["secrets"]

[[goals]]
id = "par"
kind = "parallel-stages"

[[goals]]
id = "cache"
kind = "cache-reuse"
change = "src/main.go"
step = "apt-get"

[[goals]]
id = "tests"
kind = "test-stage"
target = "test"
fault = { file = "calc.c", with = "faults/calc.c" }
"#;
        let f = parse_exercise_toml(&format!("{VALID}{extra}")).unwrap();
        assert_eq!(
            f.goals[3].kind,
            GoalKind::ParallelStages {
                min_independent: 2,
                require_overlap: true
            }
        );
        assert_eq!(f.goals[5].kind.name(), "test-stage");
        let err = parse_exercise_toml(&format!(
            "{VALID}{}",
            extra.replace("faults/calc.c", "../calc.c")
        ))
        .unwrap_err();
        assert!(err.contains("fault.with"), "{err}");
        let err = parse_exercise_toml(&format!(
            "{VALID}{}",
            extra.replace("step = \"apt-get\"", "step = \"[\"")
        ))
        .unwrap_err();
        assert!(err.contains("`step` is not a valid regex"), "{err}");
    }

    #[test]
    fn port_zero_and_sizes_that_are_not_finite_positive_numbers_are_refused() {
        let http = "\n[[goals]]\nid = \"web\"\nkind = \"http\"\nport = 0\n";
        let err = parse_exercise_toml(&format!("{VALID}{http}")).unwrap_err();
        assert!(err.contains("goals[2]") && err.contains("`port`"), "{err}");
        for bad in ["nan", "inf", "-inf", "-1.0", "0.0"] {
            let err =
                parse_exercise_toml(&VALID.replace("max_mb = 2.0", &format!("max_mb = {bad}")))
                    .unwrap_err();
            assert!(
                err.contains("goals[0]") && err.contains("`max_mb`"),
                "{bad}: {err}"
            );
        }
        for (kind, key, bad) in [
            ("relative-size", "max_percent", "nan"),
            ("relative-size", "max_percent", "inf"),
            ("context-size", "max_mb", "nan"),
            ("context-size", "max_mb", "inf"),
            ("wasted-bytes", "max_mb", "nan"),
            ("wasted-bytes", "max_mb", "inf"),
            ("wasted-bytes", "max_mb", "-1.0"),
        ] {
            let goal = format!("\n[[goals]]\nid = \"g\"\nkind = \"{kind}\"\n{key} = {bad}\n");
            let err = parse_exercise_toml(&format!("{VALID}{goal}")).unwrap_err();
            assert!(
                err.contains("goals[2]") && err.contains(&format!("`{key}`")),
                "{kind} {bad}: {err}"
            );
        }
        // Zero wasted bytes is a goal one can meet.
        let zero = "\n[[goals]]\nid = \"g\"\nkind = \"wasted-bytes\"\nmax_mb = 0.0\n";
        parse_exercise_toml(&format!("{VALID}{zero}")).unwrap();
    }

    #[test]
    fn duplicate_ids_and_bad_regexes_are_refused() {
        let err =
            parse_exercise_toml(&VALID.replace(r#"id = "runs""#, r#"id = "size""#)).unwrap_err();
        assert!(err.contains("used twice"), "{err}");
        let err = parse_exercise_toml(&VALID.replace(r#"stdout = "Hello""#, r#"stdout = "(""#))
            .unwrap_err();
        assert!(err.contains("goals[1]") && err.contains("regex"), "{err}");
    }
}
