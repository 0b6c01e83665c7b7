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
    /// BuildKit's build-check findings (none on engines before 27.1).
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
    use crate::docker::fake::exercises::{self, GO_MOD_DOWNLOAD};
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

    /// Exercise 07's cache-reuse goal: `go mod download` must come from the cache after a
    /// change to src/main.go.
    async fn cache_verdict(
        fake: &FakeEngine,
        dockerfile: Option<Variant>,
    ) -> (Verdict, ProbeOutcome) {
        let (_folder, workbook) = exercises::workbook_with(&["07-cache-order"]);
        let exercise = workbook.exercise("07").unwrap();
        if let Some(variant) = dockerfile {
            let text = std::fs::read(exercise.dockerfile_path(variant)).unwrap();
            std::fs::write(exercise.dockerfile_path(Variant::Learner), text).unwrap();
        }
        let result = checked(fake, &exercise, Variant::Learner).await;
        let probe = exercise.image_tag(Variant::Learner) + "-probe";
        assert_eq!(fake.builds_of(&probe), 1);
        assert_eq!(fake.id_of(&probe), None, "the probe's image is removed");
        let outcome = result.measurements.probes["cache"].clone();
        (verdict(&result, "cache").clone(), outcome)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cache_reuse_judges_the_rebuild_after_the_change() {
        // The solution copies go.mod and go.sum before the download: cached.
        let fake = FakeEngine::new();
        exercises::cache_order(&fake);
        let (met, _) = cache_verdict(&fake, Some(Variant::Solution)).await;
        assert!(met.met, "{met:?}");
        assert_eq!(met.measured, "1 of 1 cached");
        // The starter copies everything first: the download runs again on every edit.
        let (missed, outcome) = cache_verdict(&fake, None).await;
        assert!(!missed.met);
        assert!(
            missed
                .detail
                .as_deref()
                .unwrap_or_default()
                .contains(GO_MOD_DOWNLOAD),
            "{missed:?}"
        );
        let ProbeOutcome::CacheReuse { steps, .. } = outcome else {
            panic!("{outcome:?}")
        };
        assert_eq!(steps, [(GO_MOD_DOWNLOAD.to_string(), false)]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cache_reuse_sees_a_cached_download_that_left_the_work_to_the_compile() {
        let fake = FakeEngine::new();
        exercises::cache_order(&fake);
        // `go mod download || true` before go.mod is copied: cached, and useless.
        fake.on_build(|request| {
            if !request.tag.ends_with("-probe") {
                return None;
            }
            let mut build = ScriptedBuild::image(
                crate::docker::fake::FakeImage::scratch(),
                &[
                    (GO_MOD_DOWNLOAD, true),
                    ("[build 9/9] RUN go build ./src", false),
                ],
            );
            if let ScriptedBuild::Image { steps, .. } = &mut build {
                steps[1].log = "go: downloading example.com/slug v1.0.0\n".into();
            }
            Some(build)
        });
        let (verdict, outcome) = cache_verdict(&fake, Some(Variant::Solution)).await;
        assert!(!verdict.met);
        assert_eq!(
            verdict.measured,
            "1 of 1 cached, but another step downloads again"
        );
        let ProbeOutcome::CacheReuse { downloads, .. } = outcome else {
            panic!("{outcome:?}")
        };
        let line = "go: downloading example.com/slug v1.0.0".to_string();
        assert_eq!(
            downloads,
            [("[build 9/9] RUN go build ./src".to_string(), line)]
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_rebuild_that_fails_misses_cache_reuse_and_the_check_goes_on() {
        let fake = FakeEngine::new();
        exercises::cache_order(&fake);
        fake.on_build(|request| {
            request.tag.ends_with("-probe").then(|| {
                ScriptedBuild::fails(
                    "[build 9/9] RUN go build ./src",
                    "exit code: 1",
                    "src/main.go:3: syntax error",
                )
            })
        });
        let (verdict, outcome) = cache_verdict(&fake, Some(Variant::Solution)).await;
        assert!(!verdict.met);
        assert_eq!(verdict.measured, "the rebuild failed");
        assert!(matches!(
            outcome,
            ProbeOutcome::CacheReuse { build_error: Some(e), .. } if e.contains("RUN go build")
        ));
    }
}
