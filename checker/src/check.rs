//! One check, start to end: exercise → context → build (`build`) → measurements (`facts`)
//! → verdicts (`goals`). The engine does the Docker work; this module decides what to ask it.
//! Also `verify`, the authors' self-check of an exercise's starter and solution.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::build::{build, labels, Built, ExerciseBuilder};
use crate::docker::dockerfile::{Base, StageGraph};
use crate::docker::engine::{BuildProgress, BuildStep, Engine};
use crate::error::CheckerError;
use crate::facts::user::resolve_user;
use crate::facts::{BaseLayers, Measurements};
use crate::goals::{evaluate, probe_all, run_apps, Probe, Verdict};
use crate::workbook::exercise::{Exercise, Variant};

/// Everything one check found, as reports print it.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub exercise: String,
    pub title: String,
    pub variant: Variant,
    pub dockerfile: PathBuf,
    pub image: String,
    pub image_id: String,
    pub checked_at: DateTime<Utc>,
    pub verdicts: Vec<Verdict>,
    pub measurements: Measurements,
    pub stage_graph: StageGraph,
    pub mermaid: String,
    pub build_steps: Vec<BuildStep>,
}

impl CheckResult {
    pub fn all_met(&self) -> bool {
        self.verdicts.iter().all(|v| v.met)
    }
    pub fn missed(&self) -> BTreeSet<String> {
        self.verdicts
            .iter()
            .filter(|v| !v.met)
            .map(|v| v.id.clone())
            .collect()
    }
}

/// Builds and judges one Dockerfile of `exercise`: build → facts → probes → verdicts.
pub async fn check(
    engine: &Engine,
    exercise: &Exercise,
    variant: Variant,
    progress: &mut dyn BuildProgress,
) -> Result<CheckResult, CheckerError> {
    let build = build(engine, exercise, variant, progress).await?;
    let tag = exercise.image_tag(variant);
    let labels = labels(exercise, variant);
    let goals = &exercise.file.goals;
    let (mut measurements, image_id) =
        measure(engine, exercise, variant, &tag, &labels, &build).await?;
    let builder = ExerciseBuilder {
        engine,
        exercise,
        variant,
    };
    measurements.probes = probe_all(&mut Probe {
        engine,
        exercise: &exercise.name,
        dir: &exercise.reference_dir,
        image: &tag,
        graph: &build.graph,
        labels: &labels,
        goals,
        builder: &builder,
        progress,
    })
    .await?;
    let verdicts = evaluate(goals, &measurements);
    Ok(CheckResult {
        exercise: exercise.name.clone(),
        title: exercise.title().to_string(),
        variant,
        dockerfile: exercise.dockerfile_path(variant),
        image: tag,
        image_id,
        checked_at: Utc::now(),
        verdicts,
        measurements,
        mermaid: build.graph.to_mermaid(),
        stage_graph: build.graph,
        build_steps: build.steps,
    })
}

/// The facts about the built image that every goal may judge (all but the probes'), and
/// the image's id.
async fn measure(
    engine: &Engine,
    exercise: &Exercise,
    variant: Variant,
    tag: &str,
    labels: &BTreeMap<String, String>,
    build: &Built,
) -> Result<(Measurements, String), CheckerError> {
    let goals = &exercise.file.goals;
    let paths: Vec<String> = goals
        .iter()
        .flat_map(|g| g.kind.paths().iter().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // These ask the engine independent questions about the same image: asked at once, what
    // the checker adds to a build stays close to the slowest of them (usually the app check).
    let (facts, mut layers, (passwd, found_paths), apps) = tokio::try_join!(
        engine.inspect(tag),
        engine.layers(tag),
        engine.inspect_files(tag, labels, &paths),
        run_apps(engine, goals, tag, labels),
    )?;
    let layer_count = layers.len();
    layers.sort_by_key(|l| std::cmp::Reverse(l.size));
    layers.truncate(5);

    let starter_size = if goals.iter().any(|g| g.kind.needs_starter_size()) {
        Some(match variant {
            Variant::Starter => facts.size,
            _ => starter_size(engine, exercise).await?,
        })
    } else {
        None
    };
    let graph = &build.graph;
    let base = base_layers(engine, graph, &facts.diff_ids).await?;
    let measurements = Measurements {
        image_size: facts.size,
        compressed_size: facts.compressed_size,
        starter_size,
        layer_count: facts.layer_count.max(layer_count),
        stage_count: graph.stages.len(),
        final_depends_on: graph.dependencies(graph.target).len(),
        user: Some(resolve_user(&facts.user, passwd.as_deref())),
        users_outside_target: graph.users_outside_target(),
        paths: found_paths,
        apps,
        largest_layers: layers,
        build_seconds: build.seconds,
        cached_steps: build
            .steps
            .iter()
            .filter(|s| s.cached && is_dockerfile_step(s))
            .count(),
        total_steps: build.steps.iter().filter(|s| is_dockerfile_step(s)).count(),
        context_bytes: build.context_bytes,
        context_files: build.context_files.len(),
        context_paths: build.context_files.iter().cloned().collect(),
        probes: BTreeMap::new(),
        idle_dependencies: graph.idle_dependencies(graph.target),
        base,
    };
    Ok((measurements, facts.id))
}

/// The image the target stage starts from (through the stages it is built on), when the
/// final image begins with every layer of it: what the size advice counts as the base.
async fn base_layers(
    engine: &Engine,
    graph: &StageGraph,
    diff_ids: &[String],
) -> Result<Option<BaseLayers>, CheckerError> {
    let mut stage = graph.target;
    let image = loop {
        match &graph.stages[stage].base {
            Base::Stage(i) => stage = *i,
            Base::Image(image) => break image.clone(),
            Base::Scratch => return Ok(None),
        }
    };
    let base_ids = engine.inspect(&image).await?.diff_ids;
    if base_ids.is_empty() || !diff_ids.starts_with(&base_ids) {
        return Ok(None);
    }
    let layers = engine.layers(&image).await?;
    Ok(Some(BaseLayers {
        image,
        layers: layers.len(),
        size: layers.iter().map(|l| l.size).sum(),
    }))
}

/// BuildKit steps that stand for Dockerfile instructions (`[2/3] RUN …`), not its internal
/// work (`[internal] load build context`).
fn is_dockerfile_step(step: &BuildStep) -> bool {
    step.name.starts_with('[') && !step.name.starts_with("[internal]")
}

/// The starter's image size, for relative-size goals: builds the workbook's own pristine
/// starter, never a learner's copy of it (the build cache makes this quick after the first
/// time).
async fn starter_size(engine: &Engine, exercise: &Exercise) -> Result<u64, CheckerError> {
    let tag = build_starter(engine, exercise).await?;
    Ok(engine.inspect(&tag).await?.size)
}

/// Builds the workbook's own starter of `exercise`; its tag.
pub async fn build_starter(engine: &Engine, exercise: &Exercise) -> Result<String, CheckerError> {
    let reference = exercise.reference();
    build(engine, &reference, Variant::Starter, &mut crate::ui::Silent).await?;
    Ok(reference.image_tag(Variant::Starter))
}

/// The outcome of `checker verify` for one exercise.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyResult {
    pub exercise: String,
    /// The goals the starter is designed to miss.
    pub lesson: Vec<String>,
    pub starter: Option<CheckResult>,
    pub solution: Option<CheckResult>,
    /// Why the exercise does not verify; empty when it does.
    pub problems: Vec<String>,
}

impl VerifyResult {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The authors' self-check: the starter builds and misses exactly the lesson's goals; the
/// solution meets every goal.
pub async fn verify(
    engine: &Engine,
    exercise: &Exercise,
    progress: &mut dyn BuildProgress,
) -> Result<VerifyResult, CheckerError> {
    let mut problems = Vec::new();
    let lesson = exercise.lesson();
    let starter = match check(engine, exercise, Variant::Starter, progress).await {
        Ok(r) => {
            let missed = r.missed();
            for id in lesson.difference(&missed) {
                problems.push(format!(
                    "the starter meets `{id}`, which its lesson says it must miss"
                ));
            }
            for id in missed.difference(&lesson) {
                problems.push(format!(
                    "the starter misses `{id}`, which is not part of its lesson"
                ));
            }
            Some(r)
        }
        Err(e) if is_about_the_exercise(&e) => {
            problems.push(format!("the starter could not be checked: {e}"));
            None
        }
        Err(e) => return Err(e),
    };
    let solution = match check(engine, exercise, Variant::Solution, progress).await {
        Ok(r) => {
            for v in r.verdicts.iter().filter(|v| !v.met) {
                problems.push(format!(
                    "the solution misses `{}`: {} (goal {})",
                    v.id, v.measured, v.target
                ));
            }
            Some(r)
        }
        Err(e) if is_about_the_exercise(&e) => {
            problems.push(format!("the solution could not be checked: {e}"));
            None
        }
        Err(e) => return Err(e),
    };
    let learner = exercise.dockerfile_path(Variant::Learner);
    let pristine = exercise.dockerfile_path(Variant::Starter);
    if std::fs::read(&learner).ok() != std::fs::read(&pristine).ok() {
        problems.push(format!(
            "{} differs from {} (the starter learners begin with)",
            learner.display(),
            pristine.display()
        ));
    }
    Ok(VerifyResult {
        exercise: exercise.name.clone(),
        lesson: exercise.lesson().into_iter().collect(),
        starter,
        solution,
        problems,
    })
}

/// Errors that belong to one exercise's files (so verify goes on with the others), as
/// opposed to the engine being gone.
fn is_about_the_exercise(e: &CheckerError) -> bool {
    !matches!(
        e,
        CheckerError::EngineUnreachable { .. }
            | CheckerError::Engine { .. }
            | CheckerError::EngineReply(_)
            | CheckerError::EngineArchive(_)
    )
}
