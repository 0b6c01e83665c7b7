//! `checker grade DIR`: a whole class at once. DIR holds one folder per learner, each a copy
//! of `exercises/` with that learner's Dockerfiles. Every learner's every exercise is built
//! and judged against the workbook's own goals (a learner's edited exercise.toml changes
//! nothing), several at a time; one submission that fails to build, never exits or floods
//! its output cannot block or crash the others; the images a grading run makes are removed
//! as it goes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::Semaphore;

use super::Outcome;
use crate::check;
use crate::docker::api::EngineApi;
use crate::error::CheckerError;
use crate::ui::Silent;
use crate::workbook::exercise::{Exercise, Variant};
use crate::workbook::Workbook;
use std::process::ExitCode;

#[derive(Debug, Clone, Serialize)]
pub struct Grade {
    pub learner: String,
    pub exercise: String,
    /// `passed` (every goal met), `failed` (a goal missed), `error` (could not be checked:
    /// no Dockerfile, does not parse, a step fails…), `timed-out`.
    pub status: GradeStatus,
    pub goals_met: usize,
    pub goals_total: usize,
    pub image_size: Option<u64>,
    /// The first line of the error, for `error` and `timed-out`.
    pub message: Option<String>,
    pub seconds: f64,
    /// Goal id → met.
    pub goals: BTreeMap<String, bool>,
}

/// How one submission went: `passed` (every goal met), `failed` (a goal missed), `error`
/// (could not be checked: no Dockerfile, does not parse, a step fails…), `timed-out`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GradeStatus {
    Passed,
    Failed,
    Error,
    TimedOut,
}

impl std::fmt::Display for GradeStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GradeStatus::Passed => "passed",
            GradeStatus::Failed => "failed",
            GradeStatus::Error => "error",
            GradeStatus::TimedOut => "timed-out",
        })
    }
}

pub struct GradeOptions {
    pub jobs: usize,
    pub timeout: Duration,
    pub keep_images: bool,
    /// Exercise names (or numbers) to grade; empty: all.
    pub only: Vec<String>,
}

/// Learner folders of DIR, sorted.
pub fn learners(dir: &Path) -> Result<Vec<(String, PathBuf)>, CheckerError> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .map_err(|e| CheckerError::io(dir, e))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(CheckerError::Usage(format!(
            "{}: no learner folders in it",
            dir.display()
        )));
    }
    Ok(out)
}

/// Builds and judges one submission within `timeout`, removes its images unless `keep`,
/// and says how it went on stderr.
async fn grade_one(
    engine: &dyn EngineApi,
    exercise: &Exercise,
    learner: String,
    name: String,
    timeout: Duration,
    keep: bool,
) -> Grade {
    let started = Instant::now();
    let outcome = tokio::time::timeout(timeout, judge(engine, exercise)).await;
    let seconds = started.elapsed().as_secs_f64();
    if !keep {
        let _ = engine
            .remove_image(&exercise.image_tag(Variant::Learner))
            .await;
    }
    let total = exercise.file.goals.len();
    let mut grade = Grade {
        learner,
        exercise: name,
        status: GradeStatus::Error,
        goals_met: 0,
        goals_total: total,
        image_size: None,
        message: None,
        seconds,
        goals: BTreeMap::new(),
    };
    match outcome {
        Err(_) => {
            grade.status = GradeStatus::TimedOut;
            grade.message = Some(format!("not finished within {} s", timeout.as_secs()));
        }
        Ok(Err(e)) => {
            grade.message = Some(e.to_string().lines().next().unwrap_or_default().to_string())
        }
        Ok(Ok(result)) => {
            grade.goals = result
                .verdicts
                .iter()
                .map(|v| (v.id.clone(), v.met))
                .collect();
            grade.goals_met = result.verdicts.iter().filter(|v| v.met).count();
            grade.status = if result.all_met() {
                GradeStatus::Passed
            } else {
                GradeStatus::Failed
            };
            grade.image_size = Some(result.measurements.image_size);
        }
    }
    eprintln!(
        "  {} {}: {} ({}/{} goals, {:.1} s)",
        grade.learner, grade.exercise, grade.status, grade.goals_met, total, seconds
    );
    grade
}

/// Grades every learner's every exercise (or `options.only`), `options.jobs` at a time.
pub async fn grade(
    engine: Arc<dyn EngineApi>,
    workbook: &Workbook,
    dir: &Path,
    options: &GradeOptions,
) -> Result<Vec<Grade>, CheckerError> {
    let exercises = if options.only.is_empty() {
        workbook.exercises()?
    } else {
        options
            .only
            .iter()
            .map(|n| workbook.exercise(n))
            .collect::<Result<Vec<_>, _>>()?
    };
    let learners = learners(dir)?;
    // Relative-size goals compare with the workbook's own starter: built here once, before
    // the learners' builds (which then find it built), not by each of them at once.
    let mut starters = Vec::new();
    for exercise in &exercises {
        if exercise
            .file
            .goals
            .iter()
            .any(|g| g.kind.needs_starter_size())
        {
            check::build_starter(&*engine, exercise).await?;
            starters.push(exercise.image_tag(Variant::Starter));
        }
    }
    let permits = Arc::new(Semaphore::new(options.jobs.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (learner, folder) in &learners {
        for reference in &exercises {
            let submission = folder.join(&reference.name);
            // The workbook's goals, starter and files; the learner's Dockerfile and context;
            // tags of the learner's folder's own.
            let exercise = reference.submitted_in(&submission);
            let (engine, permits) = (engine.clone(), permits.clone());
            let (learner, name, timeout, keep) = (
                learner.clone(),
                reference.name.clone(),
                options.timeout,
                options.keep_images,
            );
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await.expect("semaphore stays open");
                grade_one(&*engine, &exercise, learner, name, timeout, keep).await
            });
        }
    }
    let mut grades = Vec::new();
    while let Some(done) = tasks.join_next().await {
        grades.push(done.map_err(|source| CheckerError::Task {
            what: "a grading task crashed".into(),
            source,
        })?);
    }
    // A timed-out check was dropped mid-way; its containers and unfinished images are being
    // removed on tasks of their own (see `ledger::Pending`): done before the grades are.
    crate::docker::ledger::wait_for_undoing().await;
    grades.sort_by(|a, b| (&a.learner, &a.exercise).cmp(&(&b.learner, &b.exercise)));
    if !options.keep_images {
        for starter in starters {
            let _ = engine.remove_image(&starter).await;
        }
    }
    Ok(grades)
}

async fn judge(
    engine: &dyn EngineApi,
    exercise: &Exercise,
) -> Result<check::CheckResult, CheckerError> {
    if !exercise.dockerfile_path(Variant::Learner).is_file() {
        return Err(CheckerError::NoDockerfile);
    }
    check::check(engine, exercise, Variant::Learner, &mut Silent).await
}

/// The scoreboard: one row per learner, one column per exercise, as Markdown.
pub fn scoreboard_markdown(grades: &[Grade]) -> String {
    let (learners, exercises) = axes(grades);
    let mut out = format!(
        "| Learner | {} | Passed |\n|---|{}---:|\n",
        exercises.join(" | "),
        "---|".repeat(exercises.len())
    );
    for learner in &learners {
        let row: Vec<&Grade> = exercises
            .iter()
            .filter_map(|e| {
                grades
                    .iter()
                    .find(|g| &g.learner == learner && &g.exercise == e)
            })
            .collect();
        let cells: Vec<String> = row
            .iter()
            .map(|g| match g.status {
                GradeStatus::Passed => format!("✔ {}/{}", g.goals_met, g.goals_total),
                GradeStatus::Failed => format!("✘ {}/{}", g.goals_met, g.goals_total),
                other => format!("⚠ {other}"),
            })
            .collect();
        let passed = row
            .iter()
            .filter(|g| g.status == GradeStatus::Passed)
            .count();
        out.push_str(&format!(
            "| {learner} | {} | {passed} |\n",
            cells.join(" | ")
        ));
    }
    out
}

/// The same as CSV, one row per learner and exercise, for spreadsheets.
pub fn scoreboard_csv(grades: &[Grade]) -> String {
    let mut out =
        String::from("learner,exercise,status,goals_met,goals_total,image_bytes,seconds,message\n");
    for g in grades {
        out.push_str(&format!(
            "{},{},{},{},{},{},{:.1},{}\n",
            csv(&g.learner),
            csv(&g.exercise),
            g.status,
            g.goals_met,
            g.goals_total,
            g.image_size.map(|s| s.to_string()).unwrap_or_default(),
            g.seconds,
            csv(g.message.as_deref().unwrap_or(""))
        ));
    }
    out
}

fn csv(field: &str) -> String {
    if field.contains([',', '"', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

fn axes(grades: &[Grade]) -> (Vec<String>, Vec<String>) {
    let mut learners: Vec<String> = grades.iter().map(|g| g.learner.clone()).collect();
    learners.dedup();
    let mut exercises: Vec<String> = grades.iter().map(|g| g.exercise.clone()).collect();
    exercises.sort();
    exercises.dedup();
    (learners, exercises)
}

pub async fn grade_class(
    workbook: &Workbook,
    dir: &std::path::Path,
    options: &GradeOptions,
    out: &std::path::Path,
) -> Outcome {
    let engine = std::sync::Arc::new(
        crate::commands::connect()
            .await?
            .with_size_cache(&workbook.root),
    );
    let started = std::time::Instant::now();
    let grades = grade(engine.clone(), workbook, dir, options).await?;
    let seconds = started.elapsed().as_secs_f64();
    std::fs::create_dir_all(out).map_err(|e| CheckerError::io(out, e))?;
    let doc = serde_json::json!({
        "schema": "workbook-checker/grades/v1",
        "graded_at": chrono::Utc::now(),
        "engine": engine.describe().await,
        "engine_info": engine.info().await.ok(),
        "jobs": options.jobs,
        "seconds": seconds,
        "grades": grades,
    });
    let files = [
        ("scoreboard.md", scoreboard_markdown(&grades)),
        ("scoreboard.csv", scoreboard_csv(&grades)),
        (
            "grades.json",
            serde_json::to_string_pretty(&doc).expect("grades serialize") + "\n",
        ),
    ];
    for (name, text) in files {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|e| CheckerError::io(&path, e))?;
    }
    print!("{}", scoreboard_markdown(&grades));
    let passed = grades
        .iter()
        .filter(|g| g.status == GradeStatus::Passed)
        .count();
    println!("\n{} submissions graded in {seconds:.1} s with --jobs {}: {passed} passed; scoreboard in {}", grades.len(), options.jobs, out.display());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grade(learner: &str, exercise: &str, status: GradeStatus, met: usize) -> Grade {
        Grade {
            learner: learner.into(),
            exercise: exercise.into(),
            status,
            goals_met: met,
            goals_total: 5,
            image_size: None,
            message: (status == GradeStatus::Error)
                .then(|| "Dockerfile:3: does not parse, \"FORM\"".to_string()),
            seconds: 1.0,
            goals: BTreeMap::new(),
        }
    }

    #[test]
    fn scoreboards_have_a_row_per_learner_and_quote_csv() {
        let grades = vec![
            grade("alice", "01-a", GradeStatus::Passed, 5),
            grade("alice", "02-b", GradeStatus::Failed, 3),
            grade("bob", "01-a", GradeStatus::Error, 0),
            grade("bob", "02-b", GradeStatus::TimedOut, 0),
        ];
        let md = scoreboard_markdown(&grades);
        assert!(md.contains("| alice | ✔ 5/5 | ✘ 3/5 | 1 |"), "{md}");
        assert!(md.contains("| bob | ⚠ error | ⚠ timed-out | 0 |"), "{md}");
        let csv = scoreboard_csv(&grades);
        assert!(
            csv.contains(
                "bob,01-a,error,0,5,,1.0,\"Dockerfile:3: does not parse, \"\"FORM\"\"\"\n"
            ),
            "{csv}"
        );
    }
}

/// A class graded on the fake engine.
#[cfg(test)]
mod on_a_fake_engine {
    use super::*;
    use crate::docker::fake::{exercises, Call, FakeEngine, ScriptedBuild};

    /// A learner's copy of exercise 01 in `class`, with `dockerfile` (None: none handed in).
    fn hand_in(class: &Path, learner: &str, dockerfile: Option<Variant>) -> PathBuf {
        let folder = class.join(learner).join("01-static-binary");
        std::fs::create_dir_all(&folder).unwrap();
        let exercise = exercises::exercise("01-static-binary");
        std::fs::copy(exercise.dir.join("hello.c"), folder.join("hello.c")).unwrap();
        if let Some(variant) = dockerfile {
            std::fs::copy(exercise.dockerfile_path(variant), folder.join("Dockerfile")).unwrap();
        }
        folder
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_submission_is_graded_on_its_own_and_nothing_is_left_behind() {
        let fake = FakeEngine::new();
        exercises::static_binary(&fake);
        let (_folder, workbook) = exercises::workbook_with(&["01-static-binary"]);
        let class = tempfile::tempdir().unwrap();
        hand_in(class.path(), "alice", Some(Variant::Solution));
        hand_in(class.path(), "bob", Some(Variant::Starter));
        hand_in(class.path(), "carol", None);
        // Dave's build never ends within the grading's time limit.
        let dave = hand_in(class.path(), "dave", Some(Variant::Solution));
        let slow = ScriptedBuild::fails("[build 5/5] RUN gcc", "never gets here", "");
        fake.on_build(move |request| {
            (request.context.root == dave).then(|| slow.clone().taking(Duration::from_secs(60)))
        });
        let options = GradeOptions {
            jobs: 4,
            timeout: Duration::from_secs(2),
            keep_images: false,
            only: vec![],
        };
        let engine: Arc<dyn EngineApi> = Arc::new(fake.clone());
        let grades = grade(engine, &workbook, class.path(), &options)
            .await
            .unwrap();
        let status: Vec<(&str, GradeStatus)> = grades
            .iter()
            .map(|g| (g.learner.as_str(), g.status))
            .collect();
        use GradeStatus::*;
        assert_eq!(
            status,
            [
                ("alice", Passed),
                ("bob", Failed),
                ("carol", Error),
                ("dave", TimedOut)
            ]
        );
        assert_eq!(grades[0].goals_met, grades[0].goals_total);
        assert_eq!(grades[1].goals_met, grades[1].goals_total - 5);
        assert_eq!(
            grades[3].message.as_deref(),
            Some("not finished within 2 s")
        );
        // Dave's check was cut off mid-build: its unfinished build was undone.
        let dave_tag = workbook
            .exercise("01")
            .unwrap()
            .submitted_in(&class.path().join("dave/01-static-binary"))
            .image_tag(Variant::Learner);
        let undone = fake
            .calls()
            .into_iter()
            .any(|c| matches!(c, Call::RestoreTag { tag, before: None } if tag == dave_tag));
        assert!(undone, "{:#?}", fake.calls());
        // No learner's image, nor the starter built for the relative size, is left.
        for learner in ["alice", "bob", "dave"] {
            let submission = class.path().join(learner).join("01-static-binary");
            let exercise = workbook.exercise("01").unwrap().submitted_in(&submission);
            assert_eq!(fake.id_of(&exercise.image_tag(Variant::Learner)), None);
        }
        let starter = workbook.exercise("01").unwrap().image_tag(Variant::Starter);
        assert_eq!(fake.id_of(&starter), None);
    }
}
