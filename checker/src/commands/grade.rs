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

mod scoreboard;
pub use scoreboard::{learner_name, scoreboard_csv, scoreboard_markdown};

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
    /// What an instructor should look at, whatever the status: the exercise folder is a link
    /// (to another learner's?), the Dockerfile is byte for byte another learner's, the
    /// learner's name is another folder's in another Unicode form.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
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

/// Learner folders of DIR, sorted, each with its name as [`learner_name`] writes it.
pub fn learners(dir: &Path) -> Result<Vec<(String, PathBuf)>, CheckerError> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .map_err(|e| CheckerError::io(dir, e))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| (learner_name(&e.file_name()), e.path()))
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
        flags: Vec::new(),
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
    let mut linked_hand_ins = Vec::new();
    for (learner, folder) in &learners {
        for reference in &exercises {
            let submission = folder.join(&reference.name);
            if let Some(link) = linked(folder, &submission) {
                linked_hand_ins.push(not_handed_in(learner, reference, link));
                continue;
            }
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
    let mut grades = linked_hand_ins;
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
    flag_copies(&mut grades, &learners, &exercises);
    flag_names_alike(&mut grades);
    if !options.keep_images {
        for starter in starters {
            let _ = engine.remove_image(&starter).await;
        }
    }
    Ok(grades)
}

/// Where `submission` (or the learner's `folder` itself) is a link, what it links to: a link
/// is a hand-in of someone else's (`dave/02-go-api -> ../carol/02-go-api` gave dave carol's
/// grade), not graded as the learner's.
fn linked(folder: &Path, submission: &Path) -> Option<PathBuf> {
    [folder, submission].into_iter().find_map(|path| {
        let meta = std::fs::symlink_metadata(path).ok()?;
        meta.file_type()
            .is_symlink()
            .then(|| std::fs::read_link(path).unwrap_or_default())
    })
}

/// The grade of an exercise folder that is a link: an error, flagged, nothing built.
fn not_handed_in(learner: &str, reference: &Exercise, link: PathBuf) -> Grade {
    let why = format!(
        "the folder is a link to {}, not a hand-in of its own",
        link.display()
    );
    Grade {
        learner: learner.to_string(),
        exercise: reference.name.clone(),
        status: GradeStatus::Error,
        goals_met: 0,
        goals_total: reference.file.goals.len(),
        image_size: None,
        message: Some(why.clone()),
        seconds: 0.0,
        goals: BTreeMap::new(),
        flags: vec![why],
    }
}

/// Flags every Dockerfile that is byte for byte another learner's (and not the starter
/// everyone begins with): the grades stand, the instructor takes a look.
fn flag_copies(grades: &mut [Grade], learners: &[(String, PathBuf)], exercises: &[Exercise]) {
    const MOST: u64 = crate::docker::dockerfile::MAX_DOCKERFILE_BYTES;
    for exercise in exercises {
        let starter = std::fs::read(exercise.dockerfile_path(Variant::Starter)).ok();
        let mut by_text: BTreeMap<Vec<u8>, Vec<&str>> = BTreeMap::new();
        for (learner, folder) in learners {
            let submission = folder.join(&exercise.name);
            let file = submission.join(Variant::Learner.dockerfile());
            if linked(folder, &submission).is_some() {
                continue;
            }
            if let Ok(Some(text)) = crate::learner_file::read_inside(&submission, &file, MOST) {
                if Some(&text) != starter.as_ref() {
                    by_text.entry(text).or_default().push(learner);
                }
            }
        }
        for same in by_text.values().filter(|same| same.len() > 1) {
            for grade in grades.iter_mut() {
                if grade.exercise == exercise.name && same.contains(&grade.learner.as_str()) {
                    let others: Vec<&str> = same
                        .iter()
                        .copied()
                        .filter(|l| *l != grade.learner)
                        .collect();
                    grade.flags.push(format!(
                        "the same Dockerfile, byte for byte, as {}",
                        others.join(", ")
                    ));
                }
            }
        }
    }
}

/// Flags learners whose names are one name in two Unicode forms (`é` as one code point or
/// as `e` and an accent): they look the same on the scoreboard, yet are two folders.
fn flag_names_alike(grades: &mut [Grade]) {
    use unicode_normalization::UnicodeNormalization;
    let mut forms: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    for grade in grades.iter() {
        let normal: String = grade.learner.nfc().collect();
        forms
            .entry(normal)
            .or_default()
            .insert(grade.learner.clone());
    }
    for grade in grades.iter_mut() {
        let normal: String = grade.learner.nfc().collect();
        if forms[&normal].len() > 1 {
            grade.flags.push(
                "another learner's folder has this name in another Unicode form: two folders that look alike"
                    .into(),
            );
        }
    }
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
        write_new(out, name, &text)?;
    }
    print!("{}", scoreboard_markdown(&grades));
    let passed = grades
        .iter()
        .filter(|g| g.status == GradeStatus::Passed)
        .count();
    println!("\n{} submissions graded in {seconds:.1} s with --jobs {}: {passed} passed; scoreboard in {}", grades.len(), options.jobs, out.display());
    Ok(ExitCode::SUCCESS)
}

/// A class graded on the fake engine.
/// Writes `out/name` as a new file renamed into place: whatever was at that path (a link
/// to a file elsewhere, put there by a learner whose folder is named like `out`) is
/// replaced, never written through.
fn write_new(out: &Path, name: &str, text: &str) -> Result<(), CheckerError> {
    let path = out.join(name);
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .tempfile_in(out)
        .map_err(|e| CheckerError::io(out, e))?;
    std::io::Write::write_all(&mut temp, text.as_bytes())
        .map_err(|e| CheckerError::io(temp.path(), e))?;
    // A temporary file is private (0600); a scoreboard is for sharing.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = temp
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644));
    }
    temp.persist(&path)
        .map_err(|e| CheckerError::io(&path, e.error))?;
    Ok(())
}

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

    #[cfg(unix)]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hostile_hand_ins_are_errors_that_quote_nothing_and_the_class_is_graded() {
        use std::os::unix::fs::symlink;
        let fake = FakeEngine::new();
        exercises::static_binary(&fake);
        let (_folder, workbook) = exercises::workbook_with(&["01-static-binary"]);
        let class = tempfile::tempdir().unwrap();
        hand_in(class.path(), "alice", Some(Variant::Solution));
        // Dave's exercise folder is Alice's.
        std::fs::create_dir(class.path().join("dave")).unwrap();
        symlink(
            "../alice/01-static-binary",
            class.path().join("dave/01-static-binary"),
        )
        .unwrap();
        // Erin's Dockerfile is the grader's environment.
        let erin = hand_in(class.path(), "erin", None);
        symlink("/proc/self/environ", erin.join("Dockerfile")).unwrap();
        // Fred's .dockerignore is a FIFO nobody writes to: opening it used to block for good.
        let fred = hand_in(class.path(), "fred", Some(Variant::Solution));
        let fifo = fred.join(".dockerignore");
        rustix::fs::mkfifoat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::Mode::from_raw_mode(0o644),
        )
        .unwrap();
        // Gina's is endless.
        let gina = hand_in(class.path(), "gina", Some(Variant::Solution));
        symlink("/dev/zero", gina.join(".dockerignore")).unwrap();
        // Hank handed in Alice's Dockerfile, byte for byte.
        hand_in(class.path(), "hank", Some(Variant::Solution));
        let options = GradeOptions {
            jobs: 3,
            timeout: Duration::from_secs(20),
            keep_images: false,
            only: vec![],
        };
        let engine: Arc<dyn EngineApi> = Arc::new(fake.clone());
        let graded = grade(engine, &workbook, class.path(), &options);
        let grades = tokio::time::timeout(Duration::from_secs(60), graded)
            .await
            .expect("no hand-in blocks the class")
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
                ("dave", Error),
                ("erin", Error),
                ("fred", Error),
                ("gina", Error),
                ("hank", Passed)
            ]
        );
        let message = |i: usize| grades[i].message.clone().unwrap_or_default();
        assert!(
            message(1).contains("is a link to ../alice/01-static-binary"),
            "{}",
            message(1)
        );
        assert!(
            message(2).contains("outside") && !message(2).contains("PATH="),
            "{}",
            message(2)
        );
        assert!(message(3).contains("FIFO"), "{}", message(3));
        assert!(message(4).contains("outside"), "{}", message(4));
        assert_eq!(
            grades[0].flags,
            ["the same Dockerfile, byte for byte, as fred, gina, hank"]
        );
        assert!(grades[1].flags[0].contains("link"), "{:?}", grades[1].flags);
        let markdown = scoreboard_markdown(&grades);
        let total = grades[0].goals_total;
        assert!(
            markdown.contains(&format!("| alice | ✔ {total}/{total} ⚑ | 1 |")),
            "{markdown}"
        );
        assert!(!markdown.contains("PATH=") && !scoreboard_csv(&grades).contains("PATH="));
    }

    #[test]
    fn one_name_in_two_unicode_forms_is_flagged_on_both_rows() {
        let row = |learner: &str| scoreboard::sample_grade(learner, "01-a", GradeStatus::Passed, 5);
        // "José" with é as one code point, and as e + a combining accent.
        let mut grades = vec![row("Jos\u{e9}"), row("Jose\u{301}"), row("ana")];
        flag_names_alike(&mut grades);
        assert!(
            grades[0].flags[0].contains("another Unicode form"),
            "{:?}",
            grades[0]
        );
        assert!(
            grades[1].flags[0].contains("another Unicode form"),
            "{:?}",
            grades[1]
        );
        assert!(grades[2].flags.is_empty());
        assert_eq!(
            scoreboard_markdown(&grades)
                .matches("another Unicode form")
                .count(),
            2
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_scoreboard_replaces_a_link_in_its_place_and_never_writes_through_it() {
        let out = tempfile::tempdir().unwrap();
        let victim = out.path().join("victim");
        std::fs::write(&victim, "keep me").unwrap();
        std::os::unix::fs::symlink(&victim, out.path().join("scoreboard.md")).unwrap();
        write_new(out.path(), "scoreboard.md", "| Learner |\n").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        let written = out.path().join("scoreboard.md");
        assert!(std::fs::symlink_metadata(&written).unwrap().is_file());
        assert_eq!(std::fs::read_to_string(written).unwrap(), "| Learner |\n");
    }
}
