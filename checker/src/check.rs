//! One check, start to end: exercise → context → build (`build`) → measurements (`facts`)
//! → verdicts (`goals`). The engine does the Docker work; this module decides what to ask it.
//! Also `verify`, the authors' self-check of an exercise's starter and solution.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::build::{build, labels, Built, ExerciseBuilder, Quiet};
use crate::docker::api::{BuildProgress, BuildStep, EngineApi};
use crate::docker::dockerfile::{Base, StageGraph};
use crate::error::CheckerError;
use crate::facts::user::resolve_user;
use crate::facts::{AppOutcome, BaseLayers, Layer, Measurements, SlimSibling};
use crate::goals::{evaluate, probe_all, run_apps, Probe, Verdict};
use crate::workbook::exercise::{Exercise, Variant};
use crate::workbook::result_cache::{self, KeyInputs, ResultCache};

/// Everything one check found, as reports print it.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
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
    /// What Docker's own build checks said of the Dockerfile, beside the goals: advice
    /// from the engine, not a goal (engines before 27.0 have no build checks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub build_warnings: Vec<crate::docker::api::BuildWarning>,
    /// The result came from the result cache: nothing it depends on changed since the
    /// check at `checked_at`.
    #[serde(default)]
    pub from_cache: bool,
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

/// An exercise the checker could not check (its build failed, its Dockerfile does not
/// parse, the engine went away…): every report lists it beside the results, as an error.
#[derive(Debug, Clone, Serialize)]
pub struct CouldNotCheck {
    pub exercise: String,
    pub title: String,
    pub variant: Variant,
    pub dockerfile: PathBuf,
    /// Why, as the checker words the error: the file and line at fault, the build's log.
    pub error: String,
}

impl CouldNotCheck {
    pub fn new(exercise: &Exercise, variant: Variant, error: &CheckerError) -> CouldNotCheck {
        CouldNotCheck {
            exercise: exercise.name.clone(),
            title: exercise.title().to_string(),
            variant,
            dockerfile: exercise.dockerfile_path(variant),
            error: error.to_string(),
        }
    }
}

/// How the check of one exercise ended, as reports take it.
pub type Checked = Result<CheckResult, CouldNotCheck>;

/// Builds and judges one Dockerfile of `exercise`: build → facts → probes → verdicts.
/// Everything is measured afresh, the apps run too (see [`AppRuns`]).
pub async fn check(
    engine: &dyn EngineApi,
    exercise: &Exercise,
    variant: Variant,
    progress: &mut dyn BuildProgress,
) -> Result<CheckResult, CheckerError> {
    check_with(engine, exercise, variant, progress, AppRuns::Fresh).await
}

/// Whether the app goals' containers start for a check, or the outcomes of an earlier
/// check in this run of the checker stand, when that check's image has the same id.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AppRuns {
    Fresh,
    /// An image's id is the digest of its config, which names every layer by the digest of
    /// its contents: an image with the id of one already run is the same files and the same
    /// ENTRYPOINT, CMD, ENV, USER and WORKDIR, and runs alike in the same sandbox. A save
    /// that leaves the image as it was (a comment, an edit of a stage the final image does
    /// not use) is then judged without starting the app again, which is most of what a
    /// check adds to a build from the cache (0.25 s or more on every engine measured).
    /// The result cache's key is the check's inputs; this one is the image those inputs
    /// built, so it helps where that one cannot.
    ReuseSameImage,
}

async fn check_with(
    engine: &dyn EngineApi,
    exercise: &Exercise,
    variant: Variant,
    progress: &mut dyn BuildProgress,
    app_runs: AppRuns,
) -> Result<CheckResult, CheckerError> {
    let build = build(engine, exercise, variant, progress).await?;
    let tag = exercise.image_tag(variant);
    let labels = labels(exercise, variant);
    let goals = &exercise.file.goals;
    let (mut measurements, image_id, layers) =
        measure(engine, exercise, variant, &tag, &labels, &build, app_runs).await?;
    let mut stage_graph = build.graph.clone();
    stage_graph.attribute_copied_bytes(&layers);
    let builder = ExerciseBuilder {
        engine,
        exercise,
        variant,
    };
    let context = tokio::task::block_in_place(|| {
        crate::provenance::ContextIndex::of(&exercise.dir, &build.context_files)
    });
    let command = measurements.command.clone().unwrap_or_default();
    measurements.inventory = Some(
        crate::provenance::inventory(
            engine,
            &tag,
            &build.graph,
            &builder,
            &labels,
            &context,
            &command,
        )
        .await?,
    );
    measurements.probes = probe_all(&mut Probe {
        engine,
        exercise: &exercise.name,
        dir: &exercise.reference_dir,
        context: &exercise.dir,
        image: &tag,
        graph: &build.graph,
        labels: &labels,
        goals,
        builder: &builder,
        progress,
        inventory: measurements.inventory.as_ref(),
    })
    .await?;
    let verdicts = evaluate(goals, &measurements);
    // The check is complete: its image stays, as the result's.
    build.image.settle();
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
        mermaid: stage_graph.to_mermaid(),
        stage_graph,
        build_steps: build.steps,
        build_warnings: build.warnings,
        from_cache: false,
    })
}

/// [`check`], unless the result cache holds the result of a check with the same inputs
/// (`workbook::result_cache`) whose image is still on the engine: then that result, at once.
/// A result checked afresh is stored.
pub async fn check_cached(
    engine: &dyn EngineApi,
    exercise: &Exercise,
    variant: Variant,
    progress: &mut dyn BuildProgress,
    cache: &ResultCache,
) -> Result<CheckResult, CheckerError> {
    let lookup = look_up(engine, &[exercise], variant, cache)
        .await
        .pop()
        .expect("one look-up per exercise");
    check_looked_up(engine, exercise, variant, progress, cache, lookup).await
}

/// [`check_cached`]; with `fresh`, checked afresh whatever the cache holds, and the result
/// still stored under its key, so that a later look-up with the same inputs finds it (the
/// test suite's `verify --fresh` then `measure`, which builds nothing again).
pub async fn check_stored(
    engine: &dyn EngineApi,
    exercise: &Exercise,
    variant: Variant,
    progress: &mut dyn BuildProgress,
    cache: &ResultCache,
    fresh: bool,
) -> Result<CheckResult, CheckerError> {
    let mut lookup = look_up(engine, &[exercise], variant, cache)
        .await
        .pop()
        .expect("one look-up per exercise");
    if fresh {
        lookup.stored = None;
    }
    check_looked_up(engine, exercise, variant, progress, cache, lookup).await
}

/// What the result cache holds for checking one exercise now.
pub struct Lookup {
    /// The key a check with today's inputs is stored under; None when it cannot be worked
    /// out (a Dockerfile that does not parse, an engine that does not answer): the check
    /// itself will say what is wrong.
    pub key: Option<String>,
    /// The stored result, when there is one and its image is still on the engine.
    pub stored: Option<CheckResult>,
    /// What the key was worked out from besides the folders' files, to work it out again
    /// once the check is done (see [`check_looked_up`]).
    pub inputs: Option<KeyParts>,
}

/// The parts of a result's key that are not the exercise's files: asked of the engine once.
#[derive(Clone)]
pub struct KeyParts {
    checker: String,
    engine_facts: String,
    base_images: Vec<(String, Option<String>)>,
}

/// The stored result of `lookup`, or [`check`] afresh, stored under its key.
pub async fn check_looked_up(
    engine: &dyn EngineApi,
    exercise: &Exercise,
    variant: Variant,
    progress: &mut dyn BuildProgress,
    cache: &ResultCache,
    lookup: Lookup,
) -> Result<CheckResult, CheckerError> {
    if let Some(stored) = lookup.stored {
        return Ok(stored);
    }
    let result = check_with(engine, exercise, variant, progress, AppRuns::ReuseSameImage).await?;
    let (Some(key), Some(inputs)) = (lookup.key, lookup.inputs) else {
        return Ok(result);
    };
    // The key was worked out before the build; a file saved while the engine read the
    // folder would store what the engine built under a key of content it never saw. The
    // result is stored only when the folder hashes to the same key after the build as
    // before it (the engine's own reads lie in between).
    let after = tokio::task::block_in_place(|| result_key(exercise, variant, inputs));
    if after.as_deref() != Some(key.as_str()) {
        progress.note(
            "the exercise's files changed while it was checked: this result is not kept, \
             the next check builds again",
        );
    } else if let Err(e) = cache.put(&key, &result) {
        progress.note(&format!("warning: the result could not be cached: {e}"));
    }
    Ok(result)
}

/// Looks up checks of `variant` of each of `exercises` in the result cache, all at once: a
/// re-check of the whole workbook is mostly waiting for the engine's answers, so what the
/// keys share is asked once (the engine's facts, each base image's id however many
/// exercises start from it) and the questions are asked together, not one after another.
pub async fn look_up(
    engine: &dyn EngineApi,
    exercises: &[&Exercise],
    variant: Variant,
    cache: &ResultCache,
) -> Vec<Lookup> {
    let engine_facts = engine
        .info()
        .await
        .ok()
        .map(|info| serde_json::to_string(info).expect("engine facts serialize"));
    let bases: Vec<Option<Vec<String>>> = exercises
        .iter()
        .map(|e| external_images(e, variant).ok())
        .collect();
    let wanted: Vec<&String> = bases
        .iter()
        .flatten()
        .flatten()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let ids = futures_util::future::join_all(wanted.iter().map(|image| engine.image_id(image)));
    let base_ids: BTreeMap<&String, Option<String>> = wanted
        .iter()
        .copied()
        .zip(ids.await)
        // An engine error leaves the image out: the keys that need it are not worked out.
        .filter_map(|(image, id)| Some((image, id.ok()?)))
        .collect();
    let checker = result_cache::checker_identity();
    // Hashing reads every file of each exercise: off the async runtime's workers.
    let inputs: Vec<Option<KeyParts>> = bases
        .iter()
        .map(|bases| {
            Some(KeyParts {
                checker: checker.clone(),
                engine_facts: engine_facts.clone()?,
                base_images: bases
                    .as_ref()?
                    .iter()
                    .map(|image| Some((image.clone(), base_ids.get(image)?.clone())))
                    .collect::<Option<Vec<_>>>()?,
            })
        })
        .collect();
    let keys: Vec<Option<String>> = tokio::task::block_in_place(|| {
        exercises
            .iter()
            .zip(&inputs)
            .map(|(exercise, inputs)| result_key(exercise, variant, inputs.clone()?))
            .collect()
    });
    let stored: Vec<Option<CheckResult>> =
        keys.iter().map(|key| cache.get(key.as_ref()?)).collect();
    // A stored result stands only while its image does (`checker clean` removes it).
    let images = futures_util::future::join_all(stored.iter().map(|stored| async move {
        match stored {
            Some(s) => engine.image_id(&s.image).await.ok().flatten(),
            None => None,
        }
    }))
    .await;
    exercises
        .iter()
        .zip(keys)
        .zip(stored)
        .zip(images)
        .zip(inputs)
        .map(|((((exercise, key), stored), image_id), inputs)| Lookup {
            key,
            stored: stored
                .filter(|s| image_id.as_deref() == Some(s.image_id.as_str()))
                .map(|s| from_cache(exercise, s)),
            inputs,
        })
        .collect()
}

/// The key a check of `variant` of `exercise` is stored under (None: a file cannot be read).
fn result_key(exercise: &Exercise, variant: Variant, parts: KeyParts) -> Option<String> {
    let KeyParts {
        checker,
        engine_facts,
        base_images,
    } = parts;
    let mut folders = vec![exercise.dir.as_path()];
    if exercise.reference_dir != exercise.dir {
        folders.push(exercise.reference_dir.as_path());
    }
    KeyInputs {
        checker,
        engine: engine_facts,
        variant: variant.as_str(),
        exercise: serde_json::to_string(&exercise.file).expect("exercise.toml serializes"),
        base_images,
        folders,
        left_out: &[],
    }
    .key()
    .ok()
}

/// A stored result as this check's: marked as from the cache, each verdict given its goal's
/// kind again (a result read back lacks it).
fn from_cache(exercise: &Exercise, mut stored: CheckResult) -> CheckResult {
    for verdict in &mut stored.verdicts {
        if let Some(goal) = exercise.file.goals.iter().find(|g| g.id == verdict.id) {
            verdict.kind = goal.kind.name();
        }
    }
    stored.from_cache = true;
    stored
}

/// The external images the Dockerfile of `variant` of `exercise` starts from or reads.
fn external_images(exercise: &Exercise, variant: Variant) -> Result<Vec<String>, CheckerError> {
    let file = exercise.dockerfile_path(variant);
    let text = crate::docker::dockerfile::read_dockerfile(&exercise.dir, &file)?;
    let graph = crate::docker::dockerfile::parse_stage_graph(
        &file,
        &text,
        &exercise.file.exercise.build_args,
        None,
    )?;
    Ok(graph
        .external_images()
        .into_iter()
        .map(|(image, _)| image)
        .collect())
}

/// The facts about the built image that every goal may judge (all but the probes'), the
/// image's id, and its layers with content (size, history entry), oldest first.
#[allow(clippy::type_complexity)]
async fn measure(
    engine: &dyn EngineApi,
    exercise: &Exercise,
    variant: Variant,
    tag: &str,
    labels: &BTreeMap<String, String>,
    build: &Built,
    app_runs: AppRuns,
) -> Result<(Measurements, String, Vec<(u64, String)>), CheckerError> {
    let goals = &exercise.file.goals;
    let paths = goal_paths(goals);
    let needs_starter_size = goals.iter().any(|g| g.kind.needs_starter_size());
    let graph = &build.graph;
    // These ask the engine independent questions about the same image (and build the
    // pristine starter to compare with): asked at once, what the checker adds to a build
    // stays close to the slowest of them (usually the app check), not their sum. The apps
    // come first: their containers are made before the others' (see `Engine::app_starts`).
    let answers = tokio::try_join!(
        apps(
            engine,
            goals,
            (tag, build.image_id.as_deref()),
            labels,
            app_runs
        ),
        engine.inspect(tag),
        engine.layers(tag),
        engine.inspect_files(tag, labels, &paths),
        compared_starter_size(engine, exercise, variant, needs_starter_size),
        base_layers(engine, graph, tag),
    )?;
    let ((apps, apps_ran_at), facts, layers, (users, found_paths), compared_size, base) = answers;
    let layer_count = layers.len();
    let (history, largest_layers) = history_and_largest(layers);

    let starter_size = needs_starter_size.then(|| compared_size.unwrap_or(facts.size));
    let measurements = Measurements {
        image_size: facts.size,
        compressed_size: facts.compressed_size,
        starter_size,
        layer_count: facts.layer_count.max(layer_count),
        stage_count: graph.stages.len(),
        final_depends_on: graph.dependencies(graph.target).len(),
        user: Some(resolve_user(
            &facts.user,
            users.passwd.as_deref(),
            users.group.as_deref(),
        )),
        users_outside_target: graph.users_outside_target(),
        paths: found_paths,
        apps,
        apps_ran_at,
        largest_layers,
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
        undeclared_args: graph.undeclared_args(),
        base,
        command: Some(facts.command.clone()),
        inventory: None,
    };
    Ok((measurements, facts.id, history))
}

/// The starter's image size to compare with, when a goal needs it and this image is not
/// the starter's (whose own size is the image's, measured with the others).
async fn compared_starter_size(
    engine: &dyn EngineApi,
    exercise: &Exercise,
    variant: Variant,
    needed: bool,
) -> Result<Option<u64>, CheckerError> {
    match variant {
        _ if !needed => Ok(None),
        Variant::Starter => Ok(None),
        _ => starter_size(engine, exercise).await.map(Some),
    }
}

/// The image's layers as a check keeps them: every one's size and instruction, oldest
/// first (the stage graph's copied bytes are read from them), and the five largest,
/// largest first (the report's).
fn history_and_largest(mut layers: Vec<Layer>) -> (Vec<(u64, String)>, Vec<Layer>) {
    let history = layers
        .iter()
        .map(|l| (l.size, l.created_by.clone()))
        .collect();
    layers.sort_by_key(|l| std::cmp::Reverse(l.size));
    layers.truncate(5);
    (history, layers)
}

/// Every path a goal judges the presence of, once each, in order.
fn goal_paths(goals: &[crate::goals::Goal]) -> Vec<String> {
    let paths: BTreeSet<String> = goals
        .iter()
        .flat_map(|g| g.kind.paths().iter().cloned())
        // Relative paths are the app's, judged from the inventory in its working folder.
        .filter(|p| p.starts_with('/'))
        .collect();
    paths.into_iter().collect()
}

/// The app goals' outcomes on the image `tag`, and when they are an earlier check's (see
/// [`AppRuns::ReuseSameImage`]): the time of that check.
async fn apps(
    engine: &dyn EngineApi,
    goals: &[crate::goals::Goal],
    (tag, image_id): (&str, Option<&str>),
    labels: &BTreeMap<String, String>,
    app_runs: AppRuns,
) -> Result<(BTreeMap<String, AppOutcome>, Option<DateTime<Utc>>), CheckerError> {
    /// Kept: the latest images of a session's saves, whatever the exercise.
    const KEPT: usize = 64;
    type Runs = BTreeMap<String, (DateTime<Utc>, BTreeMap<String, AppOutcome>)>;
    static RUNS: std::sync::Mutex<Runs> = std::sync::Mutex::new(BTreeMap::new());
    if app_runs == AppRuns::Fresh || !goals.iter().any(|g| g.kind.has_app()) {
        return Ok((run_apps(engine, goals, tag, labels).await?, None));
    }
    // The same image on the same engine, judged by the same goals (their sandboxes, commands
    // and requests are part of them).
    let key = match (image_id, engine.info().await) {
        (Some(id), Ok(info)) => serde_json::to_string(&(id, info, goals)).ok(),
        _ => None,
    };
    let earlier = key
        .as_ref()
        .and_then(|k| RUNS.lock().expect("not poisoned").get(k).cloned());
    if let Some((ran_at, outcomes)) = earlier {
        return Ok((outcomes, Some(ran_at)));
    }
    let outcomes = run_apps(engine, goals, tag, labels).await?;
    if let Some(key) = key {
        let mut runs = RUNS.lock().expect("not poisoned");
        runs.insert(key, (Utc::now(), outcomes.clone()));
        while runs.len() > KEPT {
            let oldest = runs
                .iter()
                .min_by_key(|(_, (at, _))| *at)
                .map(|(k, _)| k.clone())
                .expect("not empty");
            runs.remove(&oldest);
        }
    }
    Ok((outcomes, None))
}

/// The image the target stage starts from (through the stages it is built on), when the
/// final image `tag` begins with every layer of it: what the size advice counts as the base.
async fn base_layers(
    engine: &dyn EngineApi,
    graph: &StageGraph,
    tag: &str,
) -> Result<Option<BaseLayers>, CheckerError> {
    let mut stage = graph.target;
    let image = loop {
        match &graph.stages[stage].base {
            Base::Stage(i) => stage = *i,
            Base::Image(image) => break image.clone(),
            Base::Scratch => return Ok(None),
        }
    };
    let (base_ids, diff_ids) = tokio::try_join!(engine.diff_ids(&image), engine.diff_ids(tag))?;
    if base_ids.is_empty() || !diff_ids.starts_with(&base_ids) {
        return Ok(None);
    }
    let layers = engine.layers(&image).await?;
    let slim = match slim_tag(&image) {
        // Only an image already on the engine: advice never pulls.
        Some(tag) if engine.image_exists(&tag).await? => Some(SlimSibling {
            size: engine.inspect(&tag).await?.size,
            image: tag,
        }),
        _ => None,
    };
    Ok(Some(BaseLayers {
        image,
        layers: layers.len(),
        size: layers.iter().map(|l| l.size).sum(),
        slim,
    }))
}

/// `debian:bookworm` → `debian:bookworm-slim` (and `python:3.12` → `python:3.12-slim`):
/// the naming Docker Official Images use for the variant without compilers and docs.
/// None for a digest, an untagged name or a tag that is already slim.
fn slim_tag(image: &str) -> Option<String> {
    if image.contains('@') {
        return None;
    }
    let (repo, tag) = image.rsplit_once(':').filter(|(_, t)| !t.contains('/'))?;
    (!tag.contains("slim")).then(|| format!("{repo}:{tag}-slim"))
}

/// BuildKit steps that stand for Dockerfile instructions (`[2/3] RUN …`), not its internal
/// work (`[internal] load build context`).
fn is_dockerfile_step(step: &BuildStep) -> bool {
    step.name.starts_with('[') && !step.name.starts_with("[internal]")
}

/// The starter's image size, for relative-size goals: builds the workbook's own pristine
/// starter, never a learner's copy of it. A learner's every save asks for it again, while
/// the starter's inputs hardly ever change; even from the build cache its build took longer
/// than the rest of the measurements together (0.73 of 0.92 s on Docker 28.5), so the size
/// is kept for the run under the key of those inputs: the exercise folder without the
/// learner's own Dockerfile, the starter's base images' ids, the engine.
async fn starter_size(engine: &dyn EngineApi, exercise: &Exercise) -> Result<u64, CheckerError> {
    static SIZES: std::sync::Mutex<BTreeMap<String, u64>> = std::sync::Mutex::new(BTreeMap::new());
    let key = starter_key(engine, exercise).await;
    if let Some(size) = key
        .as_ref()
        .and_then(|k| SIZES.lock().expect("not poisoned").get(k).copied())
    {
        return Ok(size);
    }
    let tag = build_starter(engine, exercise).await?;
    let size = engine.inspect(&tag).await?.size;
    if let Some(key) = key {
        SIZES.lock().expect("not poisoned").insert(key, size);
    }
    Ok(size)
}

/// The key of what the pristine starter's image is made of (None when a part of it cannot
/// be known: then the starter is built).
async fn starter_key(engine: &dyn EngineApi, exercise: &Exercise) -> Option<String> {
    let reference = exercise.reference();
    let bases = external_images(&reference, Variant::Starter).ok()?;
    let ids = futures_util::future::join_all(bases.iter().map(|b| engine.image_id(b))).await;
    let base_images = bases
        .into_iter()
        .zip(ids)
        .map(|(image, id)| Some((image, id.ok()?)))
        .collect::<Option<Vec<_>>>()?;
    let engine_facts = serde_json::to_string(engine.info().await.ok()?).ok()?;
    tokio::task::block_in_place(|| {
        KeyInputs {
            checker: String::new(),
            engine: engine_facts,
            variant: "starter-size",
            exercise: String::new(),
            base_images,
            folders: vec![reference.dir.as_path()],
            // The learner's file (and its own ignore file) are not the starter's.
            left_out: &["Dockerfile", "Dockerfile.dockerignore"],
        }
        .key()
        .ok()
    })
}

/// Builds the workbook's own starter of `exercise`; its tag.
pub async fn build_starter(
    engine: &dyn EngineApi,
    exercise: &Exercise,
) -> Result<String, CheckerError> {
    let reference = exercise.reference();
    build(engine, &reference, Variant::Starter, &mut Quiet)
        .await?
        .image
        .settle();
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
    engine: &dyn EngineApi,
    exercise: &Exercise,
    progress: &mut dyn BuildProgress,
    cache: &ResultCache,
    fresh: bool,
) -> Result<VerifyResult, CheckerError> {
    let mut problems = Vec::new();
    let lesson = exercise.lesson();
    let starter =
        match check_stored(engine, exercise, Variant::Starter, progress, cache, fresh).await {
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
    let solution =
        match check_stored(engine, exercise, Variant::Solution, progress, cache, fresh).await {
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

#[cfg(test)]
mod tests {
    #[test]
    fn the_slim_tag_of_an_official_image() {
        use super::slim_tag;
        assert_eq!(
            slim_tag("debian:bookworm").as_deref(),
            Some("debian:bookworm-slim")
        );
        assert_eq!(slim_tag("python:3.12").as_deref(), Some("python:3.12-slim"));
        assert_eq!(
            slim_tag("localhost:5000/app:1").as_deref(),
            Some("localhost:5000/app:1-slim")
        );
        assert_eq!(slim_tag("debian:bookworm-slim"), None);
        assert_eq!(slim_tag("localhost:5000/app"), None);
        assert_eq!(slim_tag("debian"), None);
        assert_eq!(slim_tag("debian@sha256:0123"), None);
    }

    #[test]
    fn results_read_back_what_they_wrote() {
        // Fields a report leaves out when empty must read back, or the result cache
        // (`workbook::result_cache`) never reuses a result: a result with every kind of stage
        // step, edge and fact, written and read.
        let graph = crate::docker::dockerfile::parse_stage_graph(
            std::path::Path::new("Dockerfile"),
            "FROM debian:bookworm AS build\nRUN make\nADD https://example.com/x /x\n\
             FROM scratch\nCOPY --from=build /x /x\nUSER 1\n",
            &Default::default(),
            None,
        )
        .unwrap();
        let written = serde_json::json!({
            "exercise": "01", "title": "t", "variant": "learner", "dockerfile": "Dockerfile",
            "image": "i", "image_id": "sha256:1", "checked_at": "2026-11-30T14:00:00Z",
            "verdicts": [], "measurements": crate::facts::Measurements::default(),
            "stage_graph": graph, "mermaid": "", "build_steps": [],
        })
        .to_string();
        let read: Result<super::CheckResult, _> = serde_json::from_str(&written);
        assert!(read.is_ok(), "{read:?}");
        let again = serde_json::to_string(&read.unwrap()).unwrap();
        assert!(serde_json::from_str::<super::CheckResult>(&again).is_ok());
    }
}

/// The pipeline end to end on the fake engine: real exercises, no daemon.
#[cfg(test)]
mod on_a_fake_engine {
    use super::*;
    use crate::docker::fake::exercises::{self, debian};
    use crate::docker::fake::{file, FakeEngine, FakeImage, Recorded};
    use crate::facts::user::ResolvedUser;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_starter_misses_its_lesson_and_the_solution_meets_every_goal() {
        let fake = FakeEngine::new();
        exercises::static_binary(&fake);
        let exercise = exercises::exercise("01-static-binary");
        let workbook = tempfile::tempdir().unwrap();
        let cache = ResultCache::in_workbook(workbook.path());
        let verified = verify(&fake, &exercise, &mut Recorded::default(), &cache, true)
            .await
            .unwrap();
        assert!(verified.ok(), "{:?}", verified.problems);
        let starter = verified.starter.unwrap();
        assert_eq!(starter.missed(), exercise.lesson());
        let solution = verified.solution.unwrap();
        let m = &solution.measurements;
        // What the image holds, as the engine answered: its size (the 20 kB binary), who it
        // runs as, which paths it lacks, what its program printed, its steps from the cache.
        assert_eq!(m.image_size, 20_000);
        assert_eq!(m.starter_size, Some(starter.measurements.image_size));
        assert!(
            matches!(m.user, Some(ResolvedUser::NonRoot { uid: 10001, .. })),
            "{:?}",
            m.user
        );
        assert_eq!(m.paths.values().filter(|present| **present).count(), 0);
        assert!(matches!(
            &m.apps["runs"],
            AppOutcome::Exited { exit_code: 0, stdout, .. } if stdout.starts_with("Hello, ")
        ));
        assert_eq!((m.cached_steps, m.total_steps), (4, 6));
        assert_eq!(m.stage_count, 2);
        assert_eq!(fake.runs_of(&exercise.image_tag(Variant::Solution)), 1);
        // The starter checked, and built once more for the solution's relative size.
        assert_eq!(fake.builds_of(&exercise.image_tag(Variant::Starter)), 2);
        assert_eq!(fake.builds_of(&exercise.image_tag(Variant::Solution)), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_same_inputs_reuse_the_stored_result_and_any_change_checks_afresh() {
        let fake = FakeEngine::new();
        exercises::static_binary(&fake);
        let (_folder, workbook) = exercises::workbook_with(&["01-static-binary"]);
        let exercise = workbook.exercise("01").unwrap();
        let tag = exercise.image_tag(Variant::Solution);
        let cache = ResultCache::in_workbook(&workbook.root);
        let check = || async {
            let mut progress = Recorded::default();
            check_cached(&fake, &exercise, Variant::Solution, &mut progress, &cache)
                .await
                .unwrap()
        };
        let first = check().await;
        assert!(!first.from_cache && first.all_met());
        let again = check().await;
        assert!(again.from_cache);
        assert_eq!(again.image_id, first.image_id);
        assert_eq!(again.missed(), first.missed());
        assert_eq!(fake.builds_of(&tag), 1, "nothing changed: nothing built");

        // A file of the context: built again. The image is the same (the binary did not
        // change), so its app's earlier run stands.
        let source = exercise.dir.join("hello.c");
        let text = std::fs::read_to_string(&source).unwrap() + "\n";
        std::fs::write(&source, text).unwrap();
        let edited = check().await;
        assert!(!edited.from_cache);
        assert_eq!(fake.builds_of(&tag), 2);
        assert!(edited.measurements.apps_ran_at.is_some());
        assert_eq!(fake.runs_of(&tag), 1);

        // The image gone from the engine (`checker clean`): the stored result no longer stands.
        fake.remove_image(&tag).await.unwrap();
        assert!(!check().await.from_cache);
        assert_eq!(fake.builds_of(&tag), 3);

        // Another base image under the same tag (a pull of a newer debian:bookworm).
        let newer =
            FakeImage::on(&debian("bookworm")).layer("security update", [file("etc/x", "1")]);
        fake.add_image("debian:bookworm", newer);
        assert!(!check().await.from_cache);
        assert_eq!(fake.builds_of(&tag), 4);
        assert!(check().await.from_cache);
    }
}
