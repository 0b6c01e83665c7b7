//! One check, start to end: exercise → context → build → measurements → verdicts.
//! The engine does the Docker work; this module decides what to ask it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::context;
use crate::dockerfile::{parse_stage_graph, StageGraph};
use crate::engine::{self, BuildProgress, BuildRequest, BuildStep, Engine};
use crate::error::CheckerError;
use crate::exercise::{Exercise, GoalKind, Variant};
use crate::measurements::{AppOutcome, Measurements};
use crate::user::resolve_user;
use crate::verdicts::{evaluate, Verdict};

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

/// Builds and judges one Dockerfile of `exercise`.
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

    let paths: Vec<String> = goals
        .iter()
        .flat_map(|g| match &g.kind {
            GoalKind::PathsAbsent { paths } | GoalKind::PathsPresent { paths } => paths.clone(),
            _ => vec![],
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // These ask the engine independent questions about the same image: asked at once, what
    // the checker adds to a build stays close to the slowest of them (usually the app check).
    let (facts, mut layers, (passwd, found_paths), apps) = tokio::try_join!(
        engine.inspect(&tag),
        engine.layers(&tag),
        engine.inspect_files(&tag, &labels, &paths),
        run_apps(engine, exercise, &tag, &labels),
    )?;
    let layer_count = layers.len();
    layers.sort_by(|a, b| b.size.cmp(&a.size));
    layers.truncate(5);

    let starter_size = if goals
        .iter()
        .any(|g| matches!(g.kind, GoalKind::RelativeSize { .. }))
    {
        Some(match variant {
            Variant::Starter => facts.size,
            _ => starter_size(engine, exercise).await?,
        })
    } else {
        None
    };

    let probes = crate::probes::run(engine, exercise, variant, &build).await?;
    let graph = build.graph;
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
        probes,
    };
    let verdicts = evaluate(goals, &measurements);
    Ok(CheckResult {
        exercise: exercise.name.clone(),
        title: exercise.title().to_string(),
        variant,
        dockerfile: exercise.dockerfile_path(variant),
        image: tag,
        image_id: facts.id,
        checked_at: Utc::now(),
        verdicts,
        measurements,
        mermaid: graph.to_mermaid(),
        stage_graph: graph,
        build_steps: build.steps,
    })
}

/// Runs the app goals (run, http) of `exercise` against `image`.
pub(crate) async fn run_apps(
    engine: &Engine,
    exercise: &Exercise,
    image: &str,
    labels: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, AppOutcome>, CheckerError> {
    let mut apps = BTreeMap::new();
    for goal in &exercise.file.goals {
        let outcome = match &goal.kind {
            GoalKind::Run {
                command, timeout_s, ..
            } => {
                engine
                    .run_to_exit(
                        image,
                        command.clone(),
                        labels,
                        Duration::from_secs(*timeout_s),
                    )
                    .await?
            }
            GoalKind::Http {
                port,
                path,
                status,
                timeout_s,
                ..
            } => {
                engine
                    .serve_and_get(
                        image,
                        *port,
                        path,
                        *status,
                        labels,
                        Duration::from_secs(*timeout_s),
                    )
                    .await?
            }
            _ => continue,
        };
        apps.insert(goal.id.clone(), outcome);
    }
    Ok(apps)
}

/// BuildKit steps that stand for Dockerfile instructions (`[2/3] RUN …`), not its internal
/// work (`[internal] load build context`).
fn is_dockerfile_step(step: &BuildStep) -> bool {
    step.name.starts_with('[') && !step.name.starts_with("[internal]")
}

pub(crate) struct Built {
    pub graph: StageGraph,
    pub steps: Vec<BuildStep>,
    pub seconds: f64,
    pub context_bytes: u64,
    /// Context-relative paths of everything sent as the build context.
    pub context_files: Vec<String>,
}

pub(crate) fn labels(exercise: &Exercise, variant: Variant) -> BTreeMap<String, String> {
    BTreeMap::from([
        (engine::OWNER_LABEL.to_string(), "true".to_string()),
        (engine::EXERCISE_LABEL.to_string(), exercise.name.clone()),
        (
            engine::VARIANT_LABEL.to_string(),
            variant.as_str().to_string(),
        ),
    ])
}

/// What to build, beyond the exercise and variant: the probes of some goals build a
/// variation (another target, a changed file, no cache) under a tag of their own.
#[derive(Default)]
pub(crate) struct Plan {
    pub target: Option<String>,
    pub replacements: BTreeMap<String, Vec<u8>>,
    pub no_cache: bool,
    /// Appended to the variant in the tag (`workbook/<exercise>:<variant>-<suffix>`).
    pub tag_suffix: Option<String>,
    /// Build arguments on top of the exercise's own.
    pub build_args: BTreeMap<String, String>,
}

impl Plan {
    pub fn tag(&self, exercise: &Exercise, variant: Variant) -> String {
        match &self.tag_suffix {
            Some(suffix) => format!("{}-{suffix}", exercise.image_tag(variant)),
            None => exercise.image_tag(variant),
        }
    }
}

/// Parses the Dockerfile, makes sure its base images exist, packs the context and builds
/// `workbook/<exercise>:<variant>`.
async fn build(
    engine: &Engine,
    exercise: &Exercise,
    variant: Variant,
    progress: &mut dyn BuildProgress,
) -> Result<Built, CheckerError> {
    build_plan(engine, exercise, variant, &Plan::default(), progress).await
}

pub(crate) async fn build_plan(
    engine: &Engine,
    exercise: &Exercise,
    variant: Variant,
    plan: &Plan,
    progress: &mut dyn BuildProgress,
) -> Result<Built, CheckerError> {
    let file = exercise.dockerfile_path(variant);
    let text = crate::dockerfile::read_dockerfile(&file)?;
    let mut build_args = exercise.file.exercise.build_args.clone();
    build_args.extend(plan.build_args.clone());
    let graph = parse_stage_graph(&file, &text, &build_args, plan.target.as_deref())?;
    ensure_base_images(engine, &file, &graph).await?;
    // The engine reads the ignore file itself; reading it here first names the line of a
    // bad pattern, which the engine's message does not.
    context::load_dockerignore(&exercise.dir, variant.dockerfile())?;
    let tag = plan.tag(exercise, variant);
    let request = BuildRequest {
        context: context::Folder::with_overlay(&exercise.dir, plan.replacements.clone()),
        dockerfile: variant.dockerfile().to_string(),
        tag: tag.clone(),
        labels: labels(exercise, variant),
        build_args,
        target: plan.target.clone(),
        no_cache: plan.no_cache,
    };
    let previous = engine.image_id(&tag).await?;
    let outcome = engine.build(request, progress).await?;
    // A rebuild moves the tag; the image it leaves behind is ours to remove.
    if let Some(previous) = previous {
        if engine.image_id(&tag).await?.as_deref() != Some(previous.as_str()) {
            engine.remove_replaced_image(&previous).await;
        }
    }
    match outcome {
        Ok(o) => Ok(Built {
            graph,
            steps: o.steps,
            seconds: o.seconds,
            context_bytes: o.context.bytes(),
            context_files: o.context.files.into_keys().collect(),
        }),
        Err(failure) => {
            let line = failure.step.as_deref().and_then(|s| graph.locate_step(s));
            let step = failure.step.clone().unwrap_or_else(|| "the build".into());
            let mut log = failure.log_tail.trim_end().to_string();
            if !failure.message.is_empty() {
                if !log.is_empty() {
                    log.push('\n');
                }
                log.push_str(&failure.message);
            }
            Err(CheckerError::BuildFailed {
                file,
                line,
                step,
                log: indent(&log),
            })
        }
    }
}

/// Each external image the Dockerfile reads must be on the engine; a missing one is pulled
/// once, and if that fails the error names the line and the way out.
pub(crate) async fn ensure_base_images(
    engine: &Engine,
    file: &std::path::Path,
    graph: &StageGraph,
) -> Result<(), CheckerError> {
    for (image, line) in graph.external_images() {
        if engine.image_exists(&image).await? {
            continue;
        }
        if let Err(detail) = engine.pull(&image, |_| {}).await {
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

/// The starter's image size, for relative-size goals: builds the pristine starter (the
/// build cache makes this quick after the first time).
async fn starter_size(engine: &Engine, exercise: &Exercise) -> Result<u64, CheckerError> {
    build(engine, exercise, Variant::Starter, &mut crate::ui::Silent).await?;
    Ok(engine
        .inspect(&exercise.image_tag(Variant::Starter))
        .await?
        .size)
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  | {l}"))
        .collect::<Vec<_>>()
        .join("\n")
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
        CheckerError::EngineUnreachable { .. } | CheckerError::Engine(_)
    )
}
