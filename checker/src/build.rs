//! The build layer: the labels every image and container of the checker carries, and one
//! build of an exercise's Dockerfile through the engine (as a `Plan` says: another target,
//! a changed file, no cache, more build arguments), its failure located on its line. Used
//! by `check` for the main build, and by the goals whose probes build again through
//! [`ExerciseBuilder`].
//!
//! `Plan`, `Built` and `Builder` are defined in `goals::probe` and re-exported here: the
//! goals sit below this layer and cannot import it, so they define what they need of a
//! build (the `Builder` trait, with what they ask, a `Plan`, and what they get back,
//! `Built`), and this layer implements it (dependency inversion, docs/architecture.md).

use std::collections::BTreeMap;

use crate::docker::api::{self, BuildFailure, BuildProgress, BuildRequest, BuildStep, EngineApi};
use crate::docker::context;
use crate::docker::dockerfile::{parse_stage_graph, StageGraph};
use crate::error::CheckerError;
use crate::workbook::exercise::{Exercise, Variant};

// The goals' port, implemented below by `ExerciseBuilder`; named here for the layers above.
pub use crate::goals::probe::{Builder, Built, Plan};

pub fn labels(exercise: &Exercise, variant: Variant) -> BTreeMap<String, String> {
    BTreeMap::from([
        (api::OWNER_LABEL.to_string(), "true".to_string()),
        (api::SCOPE_LABEL.to_string(), exercise.scope.clone()),
        (api::EXERCISE_LABEL.to_string(), exercise.name.clone()),
        (api::VARIANT_LABEL.to_string(), variant.as_str().to_string()),
    ])
}

/// Parses the Dockerfile, makes sure its base images exist, packs the context and builds
/// `workbook-<scope>/<exercise>:<variant>`.
pub async fn build(
    engine: &dyn EngineApi,
    exercise: &Exercise,
    variant: Variant,
    progress: &mut dyn BuildProgress,
) -> Result<Built, CheckerError> {
    build_plan(engine, exercise, variant, &Plan::default(), progress).await
}

pub async fn build_plan(
    engine: &dyn EngineApi,
    exercise: &Exercise,
    variant: Variant,
    plan: &Plan,
    progress: &mut dyn BuildProgress,
) -> Result<Built, CheckerError> {
    let file = exercise.dockerfile_path(variant);
    let mut build_args = exercise.file.exercise.build_args.clone();
    build_args.extend(plan.build_args.clone());
    let mut replacements = plan.replacements.clone();
    let text = planned_dockerfile(plan, &exercise.dir, &file, &build_args).await?;
    if let Some(text) = &text {
        replacements.insert(variant.dockerfile().to_string(), text.clone().into_bytes());
    }
    let text = match text {
        Some(text) => text,
        None => crate::docker::dockerfile::read_dockerfile(&exercise.dir, &file)?,
    };
    let graph = parse_off_the_runtime(&file, text, &build_args, plan.target.clone()).await?;
    // The engine reads the ignore file itself; reading it here first names the line of a
    // bad pattern, which the engine's message does not.
    context::load_dockerignore(&exercise.dir, variant.dockerfile())?;
    let tag = plan.tag(&exercise.image_tag(variant));
    // An image an earlier build replaced may be this build's again: removed first.
    engine.replaced_images_removed().await;
    // Independent questions to the engine, asked together: each round trip is time the
    // learner waits for on every save.
    let ((), previous) = tokio::try_join!(
        ensure_base_images(engine, &file, &graph),
        engine.image_id(&tag)
    )?;
    let request = BuildRequest {
        context: context::Folder::with_overlay(&exercise.dir, replacements),
        dockerfile: variant.dockerfile().to_string(),
        tag: tag.clone(),
        labels: labels(exercise, variant),
        build_args,
        secrets: exercise.secrets()?,
        target: plan.target.clone(),
        no_cache: plan.no_cache,
    };
    let image = engine.record_build(&tag, previous.clone());
    let outcome = build_again_if_the_engine_lost_it(engine, request, progress).await?;
    // The image's id: as the engine announced it, else asked.
    let image_id = match &outcome {
        Ok(o) if o.image_id.is_some() => o.image_id.clone(),
        _ => engine.image_id(&tag).await?,
    };
    // A rebuild moves the tag; the image it leaves behind is ours to remove.
    if let Some(previous) = previous {
        if image_id.as_deref() != Some(previous.as_str()) {
            engine.remove_replaced_image(&previous).await;
        }
    }
    match outcome {
        Ok(o) => Ok(Built {
            image,
            image_id,
            graph,
            steps: o.steps,
            warnings: o.warnings,
            seconds: o.seconds,
            context_bytes: o.context.bytes(),
            context_files: o.context.files.into_keys().collect(),
        }),
        Err(failure) => {
            // A failed build tags nothing.
            image.settle();
            Err(build_failed(file, &graph, failure))
        }
    }
}

/// Builds `request`, and again (twice at most) when the engine, not the Dockerfile, failed
/// it (see [`BuildFailure::lost_to_the_engine`]): nothing in the Dockerfile is at fault then,
/// and the learner is told why the build runs again.
pub(crate) async fn build_again_if_the_engine_lost_it(
    engine: &dyn EngineApi,
    request: BuildRequest,
    progress: &mut dyn BuildProgress,
) -> Result<Result<api::BuildOutcome, BuildFailure>, CheckerError> {
    let mut outcome = engine.build(request.clone(), progress).await?;
    for _ in 0..2 {
        match &outcome {
            Err(failure) if failure.lost_to_the_engine() => {
                let why = failure.message.trim().lines().last().unwrap_or_default();
                progress.note(&format!(
                    "the engine lost work this build needed to another build or an image removed beside it (\"{why}\"; engine races, moby/moby#48700); building again"
                ));
                outcome = engine.build(request.clone(), progress).await?;
            }
            _ => break,
        }
    }
    Ok(outcome)
}

/// The error of a failed build: the Dockerfile's line of the step that failed, and the tail
/// of its log with the engine's message.
fn build_failed(
    file: std::path::PathBuf,
    graph: &StageGraph,
    failure: BuildFailure,
) -> CheckerError {
    let line = failure.step.as_deref().and_then(|s| graph.locate_step(s));
    let step = failure.step.unwrap_or_else(|| "the build".into());
    let mut log = failure.log_tail.trim_end().to_string();
    if !failure.message.is_empty() {
        if !log.is_empty() {
            log.push('\n');
        }
        log.push_str(&failure.message);
    }
    CheckerError::BuildFailed {
        file,
        line,
        step,
        log: indent(&log),
    }
}

/// The Dockerfile's text as `plan` rewrites it (its cache mounts given a probe's ids, or the
/// seed that makes them; every stage named), to be served in its place; None: as written.
async fn planned_dockerfile(
    plan: &Plan,
    folder: &std::path::Path,
    file: &std::path::Path,
    build_args: &BTreeMap<String, String>,
) -> Result<Option<String>, CheckerError> {
    use crate::docker::dockerfile::cache_mounts;
    if plan.cache_ids.is_none() && !plan.name_stages {
        return Ok(None);
    }
    let mut text = crate::docker::dockerfile::read_dockerfile(folder, file)?;
    if let Some(prefix) = &plan.cache_ids {
        text = match plan.seed_caches {
            true => cache_mounts::cache_mount_seed(&text, prefix).unwrap_or_default(),
            false => cache_mounts::with_own_cache_ids(&text, prefix),
        };
    }
    if plan.name_stages {
        let graph = parse_off_the_runtime(file, text.clone(), build_args, None).await?;
        text = graph.with_every_stage_named(&text);
        // Not after a last line continued (`\` or the escape directive's character) to the
        // end of the file: the stage would become part of that instruction. The target it
        // names is then missing, a Dockerfile error the caller falls back on.
        let continued = text
            .lines()
            .rev()
            .find(|line| !line.trim().is_empty())
            .is_some_and(|line| line.trim_end().ends_with(['\\', '`']));
        if let (Some(stage), false) = (&plan.appended, continued) {
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(stage);
        }
    }
    Ok(Some(text))
}

/// Parses on the blocking pool: a huge Dockerfile takes its time there, while a grading
/// timeout (which can only stop a future when it yields) answers on time; the parse is then
/// left to finish on its own.
async fn parse_off_the_runtime(
    file: &std::path::Path,
    text: String,
    build_args: &BTreeMap<String, String>,
    target: Option<String>,
) -> Result<StageGraph, CheckerError> {
    let (path, args) = (file.to_path_buf(), build_args.clone());
    tokio::task::spawn_blocking(move || parse_stage_graph(&path, &text, &args, target.as_deref()))
        .await
        .map_err(|source| CheckerError::Task {
            what: format!("parsing {}", file.display()),
            source,
        })?
}

/// Each external image the Dockerfile reads must be on the engine; a missing one is pulled
/// once, and if that fails the error names the line and the way out.
pub async fn ensure_base_images(
    engine: &dyn EngineApi,
    file: &std::path::Path,
    graph: &StageGraph,
) -> Result<(), CheckerError> {
    let images = graph.external_images();
    let present = futures_util::future::try_join_all(
        images.iter().map(|(image, _)| engine.image_exists(image)),
    )
    .await?;
    for ((image, line), present) in images.into_iter().zip(present) {
        if present {
            continue;
        }
        if let Err(detail) = engine.pull(&image, &mut |_| {}).await {
            return Err(CheckerError::MissingBaseImage {
                file: file.to_path_buf(),
                line,
                image,
                detail,
            });
        }
    }
    Ok(())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The progress of a build nobody watches (the pristine starter a relative size compares
/// with, a probe's variation, which the probe's own note announces): its steps go nowhere.
/// A build notes nothing of its own; the notes of a check go to the check's progress. Core
/// code never prints: the terminal's progress is `ui`'s, which the commands choose.
pub struct Quiet;

impl BuildProgress for Quiet {
    fn step(&mut self, _: &BuildStep) {}
    fn note(&mut self, _: &str) {}
}

/// Builds variations of one exercise's Dockerfile for one variant, quietly.
pub struct ExerciseBuilder<'a> {
    pub engine: &'a dyn EngineApi,
    pub exercise: &'a Exercise,
    pub variant: Variant,
}

impl Builder for ExerciseBuilder<'_> {
    fn tag(&self, plan: &Plan) -> String {
        plan.tag(&self.exercise.image_tag(self.variant))
    }
    fn build<'a>(
        &'a self,
        plan: &'a Plan,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Built, CheckerError>> + Send + 'a>>
    {
        Box::pin(async move {
            build_plan(self.engine, self.exercise, self.variant, plan, &mut Quiet).await
        })
    }
}

/// Builds on the fake engine: what a build leaves on the engine, and when.
#[cfg(test)]
mod on_a_fake_engine {
    use std::time::Duration;

    use super::*;
    use crate::docker::fake::exercises;
    use crate::docker::fake::{sized, Call, FakeEngine, FakeImage, Recorded, ScriptedBuild};

    fn alternate(version: &str) -> Plan {
        Plan {
            build_args: BTreeMap::from([("APP_VERSION".into(), version.into())]),
            tag_suffix: Some("alternate".into()),
            ..Plan::default()
        }
    }

    /// The ledger's half of exercise 11's race fix: an unfinished build's undoing, still
    /// running when the next build of its tag starts, must not remove that build's image.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_build_waits_for_the_undoing_of_an_unfinished_build_of_its_tag() {
        let fake = FakeEngine::new();
        exercises::build_args(&fake);
        fake.undo_takes(Duration::from_millis(100));
        let exercise = exercises::exercise("11-build-args");
        let (variant, progress) = (Variant::Solution, &mut Recorded::default());
        let tag = alternate("").tag(&exercise.image_tag(variant));
        let interrupted = build_plan(&fake, &exercise, variant, &alternate("2.0.0"), progress)
            .await
            .unwrap();
        // Dropped unsettled, as a check cut off by a grading timeout drops it: undone.
        drop(interrupted);
        let next = build_plan(&fake, &exercise, variant, &alternate("3.0.0"), progress)
            .await
            .unwrap();
        let undone = Call::RestoreTag {
            tag: tag.clone(),
            before: None,
        };
        let started = std::time::Instant::now();
        while !fake.calls().contains(&undone) {
            assert!(started.elapsed() < Duration::from_secs(10), "never undone");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            fake.id_of(&tag),
            next.image_id,
            "the next build's image stays"
        );
        next.image.settle();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_build_that_lost_a_snapshot_to_the_engine_is_built_again() {
        let fake = FakeEngine::new();
        exercises::static_binary(&fake);
        let exercise = exercises::exercise("01-static-binary");
        let lost = ScriptedBuild::fails(
            "exporting to image",
            "failed to prepare extraction snapshot \"extract-1 sha256:3b\": parent snapshot sha256:9e does not exist: not found",
            "",
        );
        let failures = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(1));
        let left = failures.clone();
        fake.on_build(move |_| {
            use std::sync::atomic::Ordering::SeqCst;
            (left
                .fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1))
                .is_ok())
            .then(|| lost.clone())
        });
        let mut progress = Recorded::default();
        let built = build(&fake, &exercise, Variant::Solution, &mut progress)
            .await
            .expect("built on the second try");
        assert!(built.image_id.is_some());
        assert!(
            progress.notes.iter().any(|n| n.contains("moby/moby#48700")),
            "{:?}",
            progress.notes
        );
        // A failure of the Dockerfile's own is not tried again.
        let gcc = ScriptedBuild::fails("[build 5/5] RUN gcc", "exit code: 1", "error");
        fake.on_build_of("solution", gcc);
        let builds_before = fake.calls().len();
        assert!(build(&fake, &exercise, Variant::Solution, &mut progress)
            .await
            .is_err());
        let builds = fake.calls()[builds_before..]
            .iter()
            .filter(|c| matches!(c, Call::Build { .. }))
            .count();
        assert_eq!(builds, 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_build_tags_nothing_and_names_the_line_of_its_step() {
        let fake = FakeEngine::new();
        exercises::static_binary(&fake);
        let exercise = exercises::exercise("01-static-binary");
        let tag = exercise.image_tag(Variant::Solution);
        let earlier = fake.add_image(&tag, FakeImage::scratch().cmd(&["/earlier"]));
        let step = "[build 5/5] RUN gcc -static -O2 -s -Wall -o /hello hello.c";
        let log = "hello.c:3:1: error: expected ';' before '}' token";
        fake.on_build_of("solution", ScriptedBuild::fails(step, "exit code: 1", log));
        let failed = build(
            &fake,
            &exercise,
            Variant::Solution,
            &mut Recorded::default(),
        )
        .await;
        let Err(CheckerError::BuildFailed {
            line,
            step: failed_step,
            log: failed_log,
            ..
        }) = failed
        else {
            panic!("a failed build: {:?}", failed.err())
        };
        let text = std::fs::read_to_string(exercise.dockerfile_path(Variant::Solution)).unwrap();
        let gcc_line = text.lines().position(|l| l.starts_with("RUN gcc")).unwrap() + 1;
        assert_eq!(line, Some(gcc_line));
        assert_eq!(failed_step, step);
        assert!(failed_log.contains(log) && failed_log.contains("exit code: 1"));
        assert_eq!(fake.id_of(&tag), Some(earlier));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_rebuild_removes_the_image_it_replaced_and_only_that() {
        let fake = FakeEngine::new();
        exercises::static_binary(&fake);
        let exercise = exercises::exercise("01-static-binary");
        let rebuild = || async {
            let built = build(
                &fake,
                &exercise,
                Variant::Solution,
                &mut Recorded::default(),
            )
            .await
            .unwrap();
            built.image.settle();
            fake.replaced_images_removed().await;
            built.image_id.unwrap()
        };
        let first = rebuild().await;
        // The same image again: nothing is replaced.
        assert_eq!(rebuild().await, first);
        assert!(fake.image_exists(&first).await.unwrap());
        let bigger = FakeImage::scratch().layer("COPY /hello /hello", [sized("hello", 30_000)]);
        fake.on_build_of("solution", ScriptedBuild::image(bigger, &[]));
        let second = rebuild().await;
        assert_ne!(second, first);
        assert!(!fake.image_exists(&first).await.unwrap());
        let removed: Vec<Call> = fake
            .calls()
            .into_iter()
            .filter(|c| matches!(c, Call::RemoveReplacedImage { .. }))
            .collect();
        assert_eq!(removed, [Call::RemoveReplacedImage { id: first }]);
    }
}

/// The Dockerfile a plan serves in place of the learner's.
#[cfg(test)]
mod planned {
    use super::*;

    async fn planned(dockerfile: &str, appended: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("Dockerfile");
        std::fs::write(&file, dockerfile).unwrap();
        let plan = Plan {
            name_stages: true,
            appended: Some(appended.to_string()),
            ..Plan::default()
        };
        planned_dockerfile(&plan, dir.path(), &file, &BTreeMap::new())
            .await
            .unwrap()
            .unwrap()
    }

    #[tokio::test]
    async fn the_appended_stage_comes_after_every_stage_named() {
        let text = planned(
            "FROM debian:bookworm\nRUN true\nFROM scratch",
            "FROM scratch AS own\n",
        )
        .await;
        assert_eq!(
            text,
            "FROM debian:bookworm AS checker-stage-0\nRUN true\nFROM scratch AS checker-stage-1\nFROM scratch AS own\n"
        );
    }

    /// After a last line continued to the end of the file, the stage would be read as part
    /// of that instruction: it is left out, and its target is missing.
    #[tokio::test]
    async fn no_stage_is_appended_to_a_continued_last_line() {
        for dockerfile in [
            "FROM debian:bookworm AS build\nRUN true \\\n",
            "# escape=`\nFROM debian:bookworm AS build\nRUN true `\n\n",
        ] {
            let text = planned(dockerfile, "FROM scratch AS own\n").await;
            assert!(!text.contains("AS own"), "{text}");
            // As `build_plan` parses it: no stage `own` to build, a Dockerfile error.
            let parsed = crate::docker::dockerfile::parse_stage_graph(
                std::path::Path::new("Dockerfile"),
                &text,
                &BTreeMap::new(),
                Some("own"),
            );
            assert!(
                matches!(parsed, Err(CheckerError::Dockerfile { .. })),
                "{parsed:?}"
            );
        }
    }
}
