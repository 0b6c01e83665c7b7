//! What the probes of goals work with: a `Plan` (the variation of the exercise's build a
//! probe asks for), what was `Built`, the `Builder` that builds it (the build layer, which
//! knows the exercise), and the `Probe` context with the main build and where notes go.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use std::path::Path;

use super::Goal;
use crate::docker::dockerfile::StageGraph;
use crate::docker::engine::{BuildProgress, BuildStep, Engine, SCOPE_LABEL};
use crate::error::CheckerError;
use crate::facts::ProbeOutcome;

pub struct Built {
    /// The image built, until the caller keeps it (`settle`) or removes it; dropped
    /// unsettled (the check was interrupted), the build is undone.
    pub image: crate::docker::engine::Pending,
    /// The id of the image built (None: the engine did not say and has no such tag).
    pub image_id: Option<String>,
    pub graph: StageGraph,
    pub steps: Vec<BuildStep>,
    /// BuildKit's build-check findings (none on engines before 27.1).
    pub warnings: Vec<crate::docker::engine::BuildWarning>,
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
    pub engine: &'a Engine,
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
