//! `checker check`: build and judge the named exercises (or the next pending one), record
//! the learner's progress, and print the report in the chosen format.

use std::process::ExitCode;

use super::Outcome;
use crate::check::{check_looked_up, look_up, CheckResult, Checked, CouldNotCheck, Lookup};
use crate::docker::api::EngineApi;
use crate::error::CheckerError;
use crate::report::{exporter_for, Format, RunInfo};
use crate::ui::TerminalProgress;
use crate::workbook::exercise::{Exercise, Variant};
use crate::workbook::progress::ProgressFile;
use crate::workbook::result_cache::ResultCache;
use crate::workbook::Workbook;

/// The named exercises, or the next pending one. Only the exercises chosen are loaded, so
/// a broken exercise.toml elsewhere in the workbook is no obstacle.
pub fn select(workbook: &Workbook, names: &[String]) -> Result<Vec<Exercise>, CheckerError> {
    if !names.is_empty() {
        return names.iter().map(|n| workbook.exercise(n)).collect();
    }
    let next = workbook.next_exercise()?;
    next.map(|n| workbook.exercise(&n)).into_iter().collect()
}

/// Facts about the run for the report; with no engine (it could not be reached) the report
/// says so where the engine's name would be.
pub async fn run_info(engine: Result<&dyn EngineApi, &CheckerError>) -> RunInfo {
    match engine {
        Ok(engine) => RunInfo {
            checker_version: env!("CARGO_PKG_VERSION"),
            engine: engine.describe().await,
            engine_info: engine.info().await.ok().cloned(),
        },
        Err(e) => RunInfo {
            checker_version: env!("CARGO_PKG_VERSION"),
            engine: format!(
                "unknown engine ({})",
                e.to_string().lines().next().unwrap_or_default()
            ),
            engine_info: None,
        },
    }
}

/// Checks one exercise (through the result cache unless `fresh`) and records a check of the
/// learner's Dockerfile in the progress file.
pub async fn check_and_record(
    workbook: &Workbook,
    engine: &dyn EngineApi,
    exercise: &Exercise,
    variant: Variant,
    fresh: bool,
    progress: &mut dyn crate::docker::api::BuildProgress,
) -> Result<crate::check::CheckResult, CheckerError> {
    let result = if fresh {
        crate::check::check(engine, exercise, variant, progress).await?
    } else {
        let cache = ResultCache::in_workbook(&workbook.root);
        crate::check::check_cached(engine, exercise, variant, progress, &cache).await?
    };
    record(workbook, engine, variant, &result, progress).await?;
    Ok(result)
}

/// Records a check of the learner's Dockerfile in the progress file.
async fn record(
    workbook: &Workbook,
    engine: &dyn EngineApi,
    variant: Variant,
    result: &CheckResult,
    progress: &mut dyn crate::docker::api::BuildProgress,
) -> Result<(), CheckerError> {
    if variant != Variant::Learner {
        return Ok(());
    }
    let (mut file, aside) = ProgressFile::load_or_set_aside(&workbook.root)?;
    if let Some(aside) = aside {
        progress.note(&format!("warning: {aside}"));
    }
    // A stored result is the Dockerfile's result now: recorded as checked now.
    let checked_at = if result.from_cache {
        chrono::Utc::now()
    } else {
        result.checked_at
    };
    file.record(
        &result.exercise,
        checked_at,
        &result.verdicts,
        &result.measurements,
    );
    file.record_engine(&result.exercise, engine.info().await.ok());
    file.save()
}

/// Checks every exercise named, whatever happens to one of them: one that cannot be checked
/// (its build fails, no engine answers…) is an error entry of the report, which is always a
/// whole document. Exit code 2 when any could not be checked, else 1 when a goal was missed.
pub async fn check(
    workbook: &Workbook,
    names: &[String],
    variant: Variant,
    format: Format,
    fresh: bool,
) -> Outcome {
    // A damaged progress file is reported (and set aside) before anything else is said:
    // with no engine the learner must still learn that the file was damaged.
    set_aside_damaged_progress(workbook, variant)?;
    // A mistyped name (and its "did you mean") is said before an engine is looked for.
    select(workbook, names)?;
    let engine = connect(workbook).await;
    let engine = engine.as_ref().map(|e| e as &dyn EngineApi);
    check_on(workbook, engine, names, variant, format, fresh).await
}

/// Before building: a damaged progress file would otherwise cost the result.
fn set_aside_damaged_progress(workbook: &Workbook, variant: Variant) -> Result<(), CheckerError> {
    if variant == Variant::Learner {
        if let (_, Some(aside)) = ProgressFile::load_or_set_aside(&workbook.root)? {
            eprintln!("warning: {aside}");
        }
    }
    Ok(())
}

/// The engine for checks of `workbook`; a failure is said on stderr, and each exercise's
/// entry of the report says it again.
pub async fn connect(workbook: &Workbook) -> Result<crate::docker::engine::Engine, CheckerError> {
    let engine = crate::commands::connect()
        .await
        .map(|engine| engine.with_size_cache(&workbook.root));
    if let Err(e) = &engine {
        eprintln!("error: {e}");
    }
    engine
}

/// [`check`] on an engine already connected (or the error of connecting to it): `watch`
/// keeps one for every re-check instead of connecting again on each save.
pub async fn check_on(
    workbook: &Workbook,
    engine: Result<&dyn EngineApi, &CheckerError>,
    names: &[String],
    variant: Variant,
    format: Format,
    fresh: bool,
) -> Outcome {
    set_aside_damaged_progress(workbook, variant)?;
    let exercises = select(workbook, names)?;
    let cache = ResultCache::in_workbook(&workbook.root);
    // Every exercise is looked up in the result cache at once (see `check::look_up`): a
    // re-check with nothing changed is then a few round trips to the engine in all.
    let mut lookups: Vec<Option<Lookup>> = match engine {
        Ok(engine) if !fresh => {
            let all: Vec<&Exercise> = exercises.iter().collect();
            look_up(engine, &all, variant, &cache)
                .await
                .into_iter()
                .map(Some)
                .collect()
        }
        _ => exercises.iter().map(|_| None).collect(),
    };
    let mut outcomes: Vec<Checked> = Vec::new();
    for (exercise, lookup) in exercises.iter().zip(lookups.iter_mut()) {
        outcomes.push(match engine {
            Ok(engine) => check_one(workbook, engine, exercise, variant, &cache, lookup.take())
                .await
                .map_err(|e| {
                    eprintln!("error: {e}");
                    CouldNotCheck::new(exercise, variant, &e)
                }),
            Err(e) => Err(CouldNotCheck::new(exercise, variant, e)),
        });
    }
    print!(
        "{}",
        exporter_for(format, crate::ui::stdout_layout()).check(&run_info(engine).await, &outcomes)
    );
    Ok(if outcomes.iter().any(|o| o.is_err()) {
        ExitCode::from(2)
    } else if outcomes.iter().flatten().all(|r| r.all_met()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Checks one exercise, the stored result of `lookup` when it holds one (None: afresh),
/// with a progress line on the terminal while it builds, and records the learner's
/// progress.
async fn check_one(
    workbook: &Workbook,
    engine: &dyn EngineApi,
    exercise: &Exercise,
    variant: Variant,
    cache: &ResultCache,
    lookup: Option<Lookup>,
) -> Result<CheckResult, CheckerError> {
    let result = match lookup {
        // Nothing is built: no progress line to show.
        Some(Lookup {
            stored: Some(stored),
            ..
        }) => stored,
        lookup => {
            let mut progress =
                TerminalProgress::new(&format!("{} ({})", exercise.name, variant.as_str()));
            let result = match lookup {
                Some(lookup) => {
                    check_looked_up(engine, exercise, variant, &mut progress, cache, lookup).await
                }
                None => crate::check::check(engine, exercise, variant, &mut progress).await,
            };
            drop(progress);
            result?
        }
    };
    record(workbook, engine, variant, &result, &mut crate::ui::Silent).await?;
    Ok(result)
}

/// `checker check`'s path for one exercise, on the fake engine: the check, the result cache
/// and the learner's progress file.
#[cfg(test)]
mod on_a_fake_engine {
    use super::*;
    use crate::docker::fake::{exercises, FakeEngine, Recorded};
    use crate::workbook::progress::ExerciseState;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_learner_s_checks_are_recorded_and_the_solution_moves_on_to_the_next() {
        let fake = FakeEngine::new();
        exercises::static_binary(&fake);
        let (_folder, workbook) = exercises::workbook_with(&["01-static-binary", "11-build-args"]);
        let exercise = workbook.exercise("01").unwrap();
        let state = || {
            ProgressFile::load(&workbook.root)
                .unwrap()
                .state(&exercise.name)
        };
        let check = || async {
            let progress = &mut Recorded::default();
            check_and_record(
                &workbook,
                &fake,
                &exercise,
                Variant::Learner,
                false,
                progress,
            )
            .await
            .unwrap()
        };
        assert_eq!(workbook.next_exercise().unwrap().unwrap(), exercise.name);
        let starter = check().await;
        assert_eq!(starter.missed(), exercise.lesson());
        assert_eq!(state(), ExerciseState::Missing);

        // The learner saves the solution.
        let solution = std::fs::read(exercise.dockerfile_path(Variant::Solution)).unwrap();
        std::fs::write(exercise.dockerfile_path(Variant::Learner), solution).unwrap();
        let solved = check().await;
        assert!(solved.all_met(), "{:#?}", solved.verdicts);
        assert_eq!(state(), ExerciseState::Passing);
        let file = ProgressFile::load(&workbook.root).unwrap();
        let recorded = file.progress.exercises[&exercise.name].clone();
        assert_eq!(recorded.engine, Some(fake.describe().await));
        assert_eq!(workbook.next_exercise().unwrap().unwrap(), "11-build-args");

        // Checked again with nothing changed: the stored result, recorded as checked now.
        let again = check().await;
        assert!(again.from_cache);
        assert_eq!(fake.builds_of(&exercise.image_tag(Variant::Learner)), 2);
        let file = ProgressFile::load(&workbook.root).unwrap();
        let rechecked = file.progress.exercises[&exercise.name].last_checked;
        assert!(rechecked > recorded.last_checked);
    }

    /// A save while the engine builds: what was built is not what the folder holds after,
    /// so the result is not stored under either content's key (issue 21, case 10's cousin).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_file_saved_during_the_build_keeps_the_result_out_of_the_cache() {
        let fake = FakeEngine::new();
        exercises::static_binary(&fake);
        let (_folder, workbook) = exercises::workbook_with(&["01-static-binary"]);
        let exercise = workbook.exercise("01").unwrap();
        let dockerfile = exercise.dockerfile_path(Variant::Learner);
        let saved_once = std::sync::atomic::AtomicBool::new(false);
        let path = dockerfile.clone();
        // Looked up before the exercise's own script: it saves, then lets that one build.
        fake.on_build(move |_| {
            if !saved_once.swap(true, std::sync::atomic::Ordering::SeqCst) {
                let mut text = std::fs::read_to_string(&path).unwrap();
                text.push_str("# saved while the engine read the folder\n");
                std::fs::write(&path, text).unwrap();
            }
            None
        });
        let check = || async {
            let mut progress = Recorded::default();
            let result = check_and_record(
                &workbook,
                &fake,
                &exercise,
                Variant::Learner,
                false,
                &mut progress,
            )
            .await
            .unwrap();
            (result, progress.notes)
        };
        let tag = exercise.image_tag(Variant::Learner);
        let (first, notes) = check().await;
        assert!(!first.from_cache);
        assert!(
            notes
                .iter()
                .any(|n| n.contains("changed while it was checked")),
            "{notes:?}"
        );
        // Nothing was stored: the saved content is built.
        let (second, notes) = check().await;
        assert!(!second.from_cache, "{notes:?}");
        assert_eq!(fake.builds_of(&tag), 2);
        // That build's inputs held still: its result is the one a third check reuses.
        let (third, _) = check().await;
        assert!(third.from_cache);
        assert_eq!(fake.builds_of(&tag), 2);
    }
}
