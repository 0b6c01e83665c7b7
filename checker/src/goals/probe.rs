//! What the probes of goals work with: a `Plan` (the variation of the exercise's build a
//! probe asks for), what was `Built`, the `Builder` that builds it (the build layer, which
//! knows the exercise), and the `Probe` context with the main build and where notes go.

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
