//! An exercise on disk: `exercises/<NN-name>/` with its `exercise.toml`, the learner's
//! `Dockerfile`, the pristine `starter/Dockerfile` and the reference `solution/Dockerfile`.
//! The build context of all three is the exercise folder itself.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::CheckerError;
pub use crate::goals::{Goal, GoalKind};

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
    /// Secrets served to every build of this exercise, by id, each read from a file of the
    /// workbook's exercise folder: `docker build --secret id=<id>,src=<file>`.
    #[serde(default)]
    pub secrets: std::collections::BTreeMap<String, String>,
}

/// Which Dockerfile of an exercise is meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The folder the learner's Dockerfile is in, and the build context of every variant.
    pub dir: PathBuf,
    /// The workbook's own copy of the exercise: the pristine starter relative-size goals
    /// compare with and the files goals name (test faults, edits). The same as `dir` in a
    /// learner's checkout; when grading, the workbook's folder, never the learner's copy.
    pub reference_dir: PathBuf,
    pub file: ExerciseFile,
    /// Whose images these are: a short hash of the checkout's real path, so that two
    /// checkouts (two learners grading on one engine, or two people on one classroom engine)
    /// never share a tag. See [`checkout_scope`].
    pub scope: String,
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
            reference_dir: dir.to_path_buf(),
            file,
            scope: checkout_scope(dir),
        })
    }

    /// The exercise as a learner handed it in: their Dockerfile and context in `submission`
    /// (a folder of the learner's copy of the workbook), judged by this exercise's own
    /// goals, starter and files, under tags of that copy's own.
    pub fn submitted_in(&self, submission: &Path) -> Exercise {
        Exercise {
            name: self.name.clone(),
            dir: submission.to_path_buf(),
            reference_dir: self.reference_dir.clone(),
            file: self.file.clone(),
            scope: checkout_scope(submission),
        }
    }

    /// The workbook's own exercise (its pristine starter and solution), under its own tags.
    pub fn reference(&self) -> Exercise {
        Exercise {
            dir: self.reference_dir.clone(),
            scope: checkout_scope(&self.reference_dir),
            ..self.clone()
        }
    }

    pub fn title(&self) -> &str {
        &self.file.exercise.title
    }

    pub fn dockerfile_path(&self, variant: Variant) -> PathBuf {
        self.dir.join(variant.dockerfile())
    }

    /// The bytes of each secret `exercise.toml` declares, read from the workbook's own
    /// exercise folder (a hand-in's copy of the file is the learner's, not the key the
    /// exercise was made with).
    pub fn secrets(&self) -> Result<std::collections::BTreeMap<String, Vec<u8>>, CheckerError> {
        self.file
            .exercise
            .secrets
            .iter()
            .map(|(id, file)| {
                let path = self.reference_dir.join(file);
                let bytes = std::fs::read(&path).map_err(|e| CheckerError::InvalidExercise {
                    file: self.reference_dir.join("exercise.toml"),
                    message: format!(
                        "key `exercise.secrets.{id}` names {}, which cannot be read: {e}",
                        path.display()
                    ),
                })?;
                Ok((id.clone(), bytes))
            })
            .collect()
    }

    /// The tag every image of this exercise gets, e.g.
    /// `workbook-3f9a0c21d4/01-static-binary:solution`: the checkout's scope in the
    /// repository, so that no other checkout's check moves it.
    pub fn image_tag(&self, variant: Variant) -> String {
        format!(
            "{}-{}/{}:{}",
            crate::docker::api::IMAGE_REPOSITORY_PREFIX,
            self.scope,
            self.name,
            variant.as_str()
        )
    }

    pub fn lesson(&self) -> BTreeSet<String> {
        self.file.exercise.lesson.iter().cloned().collect()
    }
}

/// The scope of the checkout an exercise folder belongs to: the first ten hex digits of the
/// SHA-256 of its parent folder's real path (`…/exercises`, or a learner's hand-in folder).
/// Folder names are not used as they are: "Bob" and "bob", or "Ana María" and "ana_mar_a",
/// would share a tag once made image-name-safe.
pub fn checkout_scope(exercise_dir: &Path) -> String {
    folder_scope(exercise_dir.parent().unwrap_or(exercise_dir))
}

/// The scope of the exercises in `folder` (see [`checkout_scope`]).
pub fn folder_scope(parent: &Path) -> String {
    use sha2::{Digest, Sha256};
    let real = parent
        .canonicalize()
        .unwrap_or_else(|_| std::path::absolute(parent).unwrap_or(parent.to_path_buf()));
    let digest = Sha256::digest(real.as_os_str().as_encoded_bytes());
    digest[..5].iter().map(|b| format!("{b:02x}")).collect()
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
        goal.kind.validate(&at)?;
    }
    for (id, path) in &file.exercise.secrets {
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
        {
            return Err(format!(
                "key `exercise.secrets`: `{id}` is not a secret id (letters, digits, `_`, `-`, `.`)"
            ));
        }
        if !is_inside_the_folder(path) {
            return Err(format!(
                "key `exercise.secrets.{id}`: `{path}` must be a path inside the exercise folder"
            ));
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

/// A relative path that stays inside the folder it is relative to.
pub fn is_inside_the_folder(path: &str) -> bool {
    let path = Path::new(path);
    !path.as_os_str().is_empty()
        && path.components().all(|c| {
            matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_whose_names_fold_alike_get_scopes_of_their_own() {
        let class = tempfile::tempdir().unwrap();
        let scopes: BTreeSet<String> = ["Bob", "bob", "Ana María", "ana_mar_a", "ana-mar-a"]
            .iter()
            .map(|name| {
                let dir = class.path().join(name).join("01-static-binary");
                std::fs::create_dir_all(&dir).unwrap();
                checkout_scope(&dir)
            })
            .collect();
        assert_eq!(scopes.len(), 5, "{scopes:?}");
        let dir = class.path().join("Bob/01-static-binary");
        assert_eq!(
            checkout_scope(&dir),
            folder_scope(&class.path().join("Bob"))
        );
        assert_eq!(checkout_scope(&dir).len(), 10);
    }

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
        assert_eq!(
            f.goals[0].kind,
            GoalKind::ImageSize(crate::goals::image_size::ImageSize { max_mb: 2.0 })
        );
        match &f.goals[1].kind {
            GoalKind::Run(crate::goals::run::Run {
                exit_code,
                timeout_s,
                ..
            }) => {
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
    fn secrets_are_ids_with_files_inside_the_exercise_folder() {
        let file = |secrets: &str| {
            let text = VALID.replacen(
                "hints = [\"a\", \"b\"]",
                &format!("hints = [\"a\", \"b\"]\n[exercise.secrets]\n{secrets}"),
                1,
            );
            parse_exercise_toml(&text)
        };
        let ok = file("data_key = \"data.key\"").unwrap();
        assert_eq!(ok.exercise.secrets["data_key"], "data.key");
        let e = file("data_key = \"../../home/key\"").unwrap_err();
        assert!(e.contains("inside the exercise folder"), "{e}");
        let e = file("data_key = \"/etc/shadow\"").unwrap_err();
        assert!(e.contains("inside the exercise folder"), "{e}");
        let e = file("\"a b\" = \"data.key\"").unwrap_err();
        assert!(e.contains("not a secret id"), "{e}");
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
dependencies = "goproxy"

[[goals]]
id = "tests"
kind = "test-stage"
target = "test"
faults = [{ file = "calc.c", with = "faults/calc.c" }]
rewrites = [{ file = "calc.c", with = "rewrites/calc.c" }]
"#;
        let f = parse_exercise_toml(&format!("{VALID}{extra}")).unwrap();
        assert_eq!(
            f.goals[3].kind,
            GoalKind::ParallelStages(crate::goals::parallel_stages::ParallelStages {
                min_independent: 2,
                require_overlap: true
            })
        );
        assert_eq!(f.goals[5].kind.name(), "test-stage");
        let err = parse_exercise_toml(&format!(
            "{VALID}{}",
            extra.replace("faults/calc.c", "../calc.c")
        ))
        .unwrap_err();
        assert!(err.contains("faults[0].with"), "{err}");
        let err = parse_exercise_toml(&format!(
            "{VALID}{}",
            extra.replace("rewrites/calc.c", "/calc.c")
        ))
        .unwrap_err();
        assert!(err.contains("rewrites[0].with"), "{err}");
        let err = parse_exercise_toml(&format!(
            "{VALID}{}",
            extra.replace(r#"[{ file = "calc.c", with = "faults/calc.c" }]"#, "[]")
        ))
        .unwrap_err();
        assert!(
            err.contains("`faults` must list at least one file"),
            "{err}"
        );
        let err = parse_exercise_toml(&format!(
            "{VALID}{}",
            extra.replace(
                "dependencies = \"goproxy\"",
                "dependencies = \"../goproxy\""
            )
        ))
        .unwrap_err();
        assert!(err.contains("`dependencies`"), "{err}");
        // The settings the cache goal had before it judged what the rebuild wrote.
        let err = parse_exercise_toml(&format!(
            "{VALID}{}",
            extra.replace("dependencies = \"goproxy\"", "step = \"go mod download\"")
        ))
        .unwrap_err();
        assert!(err.contains("unknown field `step`"), "{err}");
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
