//! What the probes of goals work with: a `Plan` (the variation of the exercise's build a
//! probe asks for), what was `Built`, the `Builder` that builds it, and the `Probe` context
//! with the main build and where notes go.
//!
//! `Builder` is the goals' port to the build layer, which knows the exercise and implements
//! it (`build::ExerciseBuilder`): the goals sit below `build` and cannot import it, so the
//! trait and its words (`Plan`, `Built`) are defined here, where they are used, and `build`
//! re-exports them (dependency inversion; see docs/architecture.md).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use std::path::Path;

use super::Goal;
use crate::docker::api::SCOPE_LABEL;
use crate::docker::api::{BuildProgress, BuildStep, EngineApi};
use crate::docker::dockerfile::StageGraph;
use crate::error::CheckerError;
use crate::facts::ProbeOutcome;

pub struct Built {
    /// The image built, until the caller keeps it (`settle`) or removes it; dropped
    /// unsettled (the check was interrupted), the build is undone.
    pub image: crate::docker::ledger::Pending,
    /// The id of the image built (None: the engine did not say and has no such tag).
    pub image_id: Option<String>,
    pub graph: StageGraph,
    pub steps: Vec<BuildStep>,
    /// BuildKit's build-check findings (none on engines before 27.0).
    pub warnings: Vec<crate::docker::api::BuildWarning>,
    pub seconds: f64,
    pub context_bytes: u64,
    /// Context-relative paths of everything sent as the build context.
    pub context_files: Vec<String>,
}

/// What to build, beyond the exercise and variant: the probes of some goals build a
/// variation (another target, a changed file, no cache) under a tag of their own.
#[derive(Default)]
pub struct Plan {
    pub target: Option<String>,
    pub replacements: BTreeMap<String, Vec<u8>>,
    pub no_cache: bool,
    /// Appended to the variant in the tag (`workbook-<scope>/<exercise>:<variant>-<suffix>`).
    pub tag_suffix: Option<String>,
    /// Build arguments on top of the exercise's own.
    pub build_args: BTreeMap<String, String>,
    /// Gives every stage without a name one (`StageGraph::target_name`), so that `target`
    /// can name any stage.
    pub name_stages: bool,
    /// Gives every cache mount the id `<prefix><its id>` (`cache_mounts::with_own_cache_ids`):
    /// the build sees only what builds with the same prefix left in its caches.
    pub cache_ids: Option<String>,
    /// With `cache_ids`: builds, in place of the Dockerfile, the one that creates those
    /// caches empty (`cache_mounts::cache_mount_seed`), a build that fails by design.
    pub seed_caches: bool,
    /// With `name_stages`: Dockerfile text added after the last stage, a stage of the
    /// probe's own that `target` then names.
    pub appended: Option<String>,
}

impl Plan {
    /// The tag this plan builds under, given the exercise's own tag for the variant.
    pub fn tag(&self, image: &str) -> String {
        match &self.tag_suffix {
            Some(suffix) => format!("{image}-{suffix}"),
            None => image.to_string(),
        }
    }
}

/// Builds variations of one exercise's Dockerfile (the probes of some goals need them).
pub trait Builder: Sync {
    /// The tag `plan` builds under.
    fn tag(&self, plan: &Plan) -> String;
    /// Builds `plan` (quietly: the caller reports what it builds and why).
    fn build<'a>(
        &'a self,
        plan: &'a Plan,
    ) -> Pin<Box<dyn Future<Output = Result<Built, CheckerError>> + Send + 'a>>;
}

/// What a probe works with: the main build, a way to build variations of it, and where to
/// say what it builds and why.
pub struct Probe<'a> {
    pub engine: &'a dyn EngineApi,
    /// The exercise's name, for the notes.
    pub exercise: &'a str,
    /// The workbook's own exercise folder, whose files some goals name (never a learner's
    /// copy of them when grading).
    pub dir: &'a Path,
    /// The build context: the exercise's folder as it is built (a learner's copy when
    /// grading).
    pub context: &'a Path,
    /// The main build's image and stage graph.
    pub image: &'a str,
    pub graph: &'a StageGraph,
    pub labels: &'a BTreeMap<String, String>,
    pub goals: &'a [Goal],
    pub builder: &'a dyn Builder,
    pub progress: &'a mut dyn BuildProgress,
    /// What the main image holds and where each file came from (None: not measured).
    pub inventory: Option<&'a crate::facts::inventory::Inventory>,
}

impl Probe<'_> {
    /// Says what the probe builds and why: `  <exercise>: <what> (<goal id>)`.
    pub(super) fn note(&mut self, goal: &Goal, what: &str) {
        let message = format!("  {}: {what} ({})", self.exercise, goal.id);
        self.progress.note(&message);
    }

    /// Removes what a probe built under `plan`'s tag and settles the build's guard. The guard
    /// must not be left to its drop: its undoing runs on a task of its own, and a probe that
    /// builds the same tag next (exercise 11's two build-arg goals both use `-alternate`)
    /// had its fresh image removed under it ("No such image: …:learner-alternate").
    /// An image left behind is worth a warning, not a failed check.
    pub(super) async fn discard(&mut self, plan: &Plan, built: &Result<Built, CheckerError>) {
        let tag = self.builder.tag(plan);
        if let Err(e) = self.engine.remove_image(&tag).await {
            let message = format!("warning: could not remove the probe image {tag}: {e}");
            self.progress.note(&message);
        }
        if let Ok(built) = built {
            built.image.settle();
        }
    }

    /// Gives the probe's builds cache mounts of their own, empty: returns the id prefix for
    /// [`Plan::cache_ids`] (the checkout's scope and a nonce, so no other build's), after a
    /// seed build has made every cache the Dockerfile mounts under it, empty, named after
    /// the prefix (see `cache_mounts::cache_mount_seed`; that build fails by design, and
    /// whatever it says is of no concern). None: the Dockerfile mounts no cache.
    pub(super) async fn own_cache_mounts(&mut self, goal: &Goal) -> Option<String> {
        let count = self.cache_mount_count();
        if count == 0 {
            return None;
        }
        let scope = self.labels.get(SCOPE_LABEL).map_or("", String::as_str);
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let prefix = format!("{OWN_CACHE_PREFIX}{scope}-{}-", &nonce[..12]);
        let mounts = if count == 1 { "mount" } else { "mounts" };
        self.note(
            goal,
            &format!("giving its builds {count} cache {mounts} of their own, empty"),
        );
        let seed = Plan {
            cache_ids: Some(prefix.clone()),
            seed_caches: true,
            tag_suffix: Some("probe-seed".into()),
            ..Plan::default()
        };
        let result = self.builder.build(&seed).await;
        self.discard(&seed, &result).await;
        Some(prefix)
    }

    /// The cache mounts of the Dockerfile's `RUN` steps.
    pub(super) fn cache_mount_count(&self) -> usize {
        self.graph
            .stages
            .iter()
            .flat_map(|s| &s.steps)
            .map(|s| s.cache_mounts.len())
            .sum()
    }

    /// Removes from the build cache the caches [`Probe::own_cache_mounts`] made under
    /// `prefix`. One left behind is worth a warning, not a failed check (`checker clean`
    /// removes it later).
    pub(super) async fn remove_cache_mounts(&mut self, prefix: &str) {
        let removed = match self.engine.build_cache_records(prefix).await {
            Ok(records) => {
                let mut outcome = Ok(());
                for (id, _) in records {
                    outcome = outcome.and(self.engine.remove_build_cache(&id).await);
                }
                outcome
            }
            Err(e) => Err(e),
        };
        if let Err(e) = removed {
            let message =
                format!("warning: could not remove the probe's cache mounts ({prefix}…): {e}");
            self.progress.note(&message);
        }
    }

    /// Every file under `folder` (a file or folder the goal's `key` names in the exercise
    /// folder), as paths relative to the exercise folder, in name order; an error naming the
    /// key when it cannot be read or holds no file.
    pub(super) fn files_under(
        &self,
        goal: &Goal,
        key: &str,
        folder: &str,
    ) -> Result<Vec<String>, CheckerError> {
        let invalid = |message: String| CheckerError::InvalidExercise {
            file: self.dir.join("exercise.toml"),
            message: format!("key `goals` (id `{}`): `{key}` names {message}", goal.id),
        };
        let root = self.dir.join(folder);
        let mut files = Vec::new();
        for entry in walkdir::WalkDir::new(&root).sort_by_file_name() {
            let entry = entry
                .map_err(|e| invalid(format!("{}, which cannot be read: {e}", root.display())))?;
            if entry.file_type().is_file() {
                files.push(
                    entry
                        .path()
                        .strip_prefix(self.dir)
                        .unwrap_or(entry.path())
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
        if files.is_empty() {
            return Err(invalid(format!("`{folder}`, which holds no file")));
        }
        Ok(files)
    }

    /// A file the goal names in the exercise folder, or the error naming the goal's key.
    pub(super) fn read(&self, goal: &Goal, key: &str, file: &str) -> Result<Vec<u8>, CheckerError> {
        let path = self.dir.join(file);
        std::fs::read(&path).map_err(|e| CheckerError::InvalidExercise {
            file: self.dir.join("exercise.toml"),
            message: format!(
                "key `goals` (id `{}`): `{key}` names {}, which cannot be read: {e}",
                goal.id,
                path.display()
            ),
        })
    }
}

/// Where the ids a probe gives cache mounts begin (then the checkout's scope and a nonce):
/// `checker clean` removes the caches of a probe that was interrupted by it.
pub const OWN_CACHE_PREFIX: &str = "workbook-probe-";

/// Runs the probe of every goal that has one.
pub async fn probe_all(
    probe: &mut Probe<'_>,
) -> Result<BTreeMap<String, ProbeOutcome>, CheckerError> {
    let mut outcomes = BTreeMap::new();
    for goal in probe.goals {
        if let Some(outcome) = goal.kind.probe(goal, probe).await? {
            outcomes.insert(goal.id.clone(), outcome);
        }
    }
    Ok(outcomes)
}

/// `content` with a line of whitespace of varying length appended: new to the build cache
/// every time (an identical change would be a cache hit from the last probe, and a checksum
/// of the file cannot know it in advance), and harmless in any language.
pub(super) fn with_fresh_tail(mut content: Vec<u8>) -> Vec<u8> {
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as usize)
        .unwrap_or(0);
    content.push(b'\n');
    content.extend(std::iter::repeat_n(b' ', 1 + nonce % 100_000));
    content.push(b'\n');
    content
}

/// The first line of an error, as a verdict's detail quotes it.
pub(super) fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}

/// Probes on the fake engine: what they build, what they decide, and what they leave.
#[cfg(test)]
mod on_a_fake_engine {
    use crate::check::{check, CheckResult};
    use crate::docker::api::EngineApi;
    use crate::docker::fake::exercises;
    use crate::docker::fake::{Call, FakeEngine, Recorded, ScriptedBuild};
    use crate::facts::ProbeOutcome;
    use crate::goals::Verdict;
    use crate::workbook::exercise::{Exercise, Variant};

    async fn checked(fake: &FakeEngine, exercise: &Exercise, variant: Variant) -> CheckResult {
        check(fake, exercise, variant, &mut Recorded::default())
            .await
            .unwrap()
    }

    fn verdict<'a>(result: &'a CheckResult, id: &str) -> &'a Verdict {
        result.verdicts.iter().find(|v| v.id == id).unwrap()
    }

    /// Regression: exercise 11's two build-arg goals both build `:…-alternate`, one after
    /// the other. The first probe's build guard, left unsettled, was undone on a task of its
    /// own after the second probe had built the same tag, and removed the second image under
    /// its app ("No such image: …:learner-alternate").
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_probes_building_one_tag_leave_each_other_s_image_alone() {
        let fake = FakeEngine::new();
        exercises::build_args(&fake);
        let exercise = exercises::exercise("11-build-args");
        let result = checked(&fake, &exercise, Variant::Solution).await;
        assert!(result.all_met(), "{:#?}", result.verdicts);
        let alternate = format!("{}-alternate", exercise.image_tag(Variant::Solution));
        // Each probe built the tag, ran the app on its own image, and removed it.
        let on_alternate: Vec<&str> = fake
            .calls()
            .iter()
            .filter_map(|call| match call {
                Call::Build { tag, .. } if *tag == alternate => Some("build"),
                Call::Run { image, .. } if *image == alternate => Some("run"),
                Call::RemoveImage { image } if *image == alternate => Some("remove"),
                Call::RestoreTag { tag, .. } if *tag == alternate => Some("undo"),
                _ => None,
            })
            .collect();
        assert_eq!(on_alternate, ["build", "run", "remove"].repeat(2));
        // Every guard was settled, not dropped: nothing is left for the ledger to undo.
        fake.replaced_images_removed().await;
        assert!(!fake
            .calls()
            .iter()
            .any(|c| matches!(c, Call::RestoreTag { .. })));
        assert_eq!(fake.id_of(&alternate), None);
        assert!(fake.id_of(&exercise.image_tag(Variant::Solution)).is_some());
        let Some(ProbeOutcome::BuildArg { apps, .. }) = result.measurements.probes.get("version")
        else {
            panic!("the version probe ran: {:?}", result.measurements.probes)
        };
        assert!(format!("{:?}", apps["runs"]).contains("about 2.0.0-rc1 on debian:bookworm-slim"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_probe_build_that_fails_is_an_outcome_not_an_error() {
        let fake = FakeEngine::new();
        exercises::build_args(&fake);
        fake.on_build(|request| {
            (request.build_args.get("DEBIAN_TAG").map(String::as_str) == Some("bookworm")).then(
                || {
                    ScriptedBuild::fails(
                        "[stage-1 1/3] FROM docker.io/library/debian:bookworm",
                        "failed to resolve source metadata",
                        "",
                    )
                },
            )
        });
        let exercise = exercises::exercise("11-build-args");
        let result = checked(&fake, &exercise, Variant::Solution).await;
        let base = verdict(&result, "base");
        assert!(!base.met);
        assert!(
            base.measured
                .contains("the build with DEBIAN_TAG=bookworm fails"),
            "{base:?}"
        );
        // The other goals stand; the version probe's build went on after the failed one.
        assert!(verdict(&result, "version").met);
        assert!(verdict(&result, "runs").met);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_app_fails_on_the_alternate_build_when_a_stage_does_not_declare_the_arg() {
        let fake = FakeEngine::new();
        exercises::build_args(&fake);
        let (_folder, workbook) = exercises::workbook_with(&["11-build-args"]);
        let exercise = workbook.exercise("11").unwrap();
        // The solution without the build stage's own `ARG APP_VERSION`.
        let solution =
            std::fs::read_to_string(exercise.dockerfile_path(Variant::Solution)).unwrap();
        let undeclared = solution.replace("\nARG APP_VERSION\n", "\n");
        std::fs::write(exercise.dockerfile_path(Variant::Learner), undeclared).unwrap();
        let result = checked(&fake, &exercise, Variant::Learner).await;
        let version = verdict(&result, "version");
        assert!(!version.met);
        assert!(version.measured.contains("the app fails"), "{version:?}");
        assert!(!verdict(&result, "runs").met);
    }

    /// A probe build that fails is the goal's miss, not the check's error. (What a rebuild
    /// writes and fetches is judged on the engine: `tests/engine/cache_probes.rs`.)
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_probe_build_that_fails_misses_cache_reuse_and_the_check_goes_on() {
        let fake = FakeEngine::new();
        exercises::cache_order(&fake);
        fake.on_build(|request| {
            request.tag.contains("-probe").then(|| {
                ScriptedBuild::fails(
                    "[build 9/9] RUN go build ./src",
                    "exit code: 1",
                    "src/main.go:3: syntax error",
                )
            })
        });
        let (_folder, workbook) = exercises::workbook_with(&["07-cache-order"]);
        let exercise = workbook.exercise("07").unwrap();
        let solution = std::fs::read(exercise.dockerfile_path(Variant::Solution)).unwrap();
        std::fs::write(exercise.dockerfile_path(Variant::Learner), solution).unwrap();
        let result = checked(&fake, &exercise, Variant::Learner).await;
        let cache = verdict(&result, "cache");
        assert!(!cache.met, "{cache:?}");
        assert!(
            matches!(&result.measurements.probes["cache"],
                ProbeOutcome::CacheReuse(r) if r.before_error.as_deref().is_some_and(|e| e.contains("syntax error"))),
            "{:?}",
            result.measurements.probes["cache"]
        );
        // The other goals were judged all the same.
        assert!(verdict(&result, "serves").met);
    }
}
