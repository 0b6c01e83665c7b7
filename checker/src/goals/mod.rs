//! The goals an exercise sets, one file per kind. Each kind's file holds its settings (as
//! `exercise.toml` spells them, regexes compiled once at load), their validation, the
//! target in words, what it asks of the engine (an app run, or a probe: extra builds
//! through the build layer) and its pure judgement of the measurements.
//!
//! Adding a kind: a new file here that implements [`Kind`], and one line in `goal_kinds!`
//! below. A kind with a probe also adds the variant of [`ProbeOutcome`] it records.

mod dependencies;
pub mod probe;
mod refetch;
mod settings;
pub mod verdict;

use std::collections::BTreeMap;
use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::docker::api::EngineApi;
use crate::error::CheckerError;
use crate::facts::{AppOutcome, Measurements, ProbeOutcome};
pub use probe::{probe_all, Probe};
pub use settings::Pattern;
pub use verdict::Verdict;

/// What every goal kind knows about itself. Only `target` and `judge` are required.
pub trait Kind {
    /// Refuses settings that cannot work; `at` names the goal (`key `goals[2]` (id `x`)`).
    fn validate(&self, _at: &str) -> Result<(), String> {
        Ok(())
    }
    /// What the goal asks, in words ("≤ 2 MB"), as reports and the book print it.
    fn target(&self) -> String;
    /// The goal's size or time threshold as the book's prose uses it ("2 MB", "10 s").
    fn threshold(&self) -> Option<String> {
        None
    }
    /// Paths whose presence in the final image the goal judges.
    fn paths(&self) -> &[String] {
        &[]
    }
    /// Whether the goal compares with the starter's image size.
    fn needs_starter_size(&self) -> bool {
        false
    }
    /// Runs the image the way the goal needs (run, http), on the main image and on others.
    fn app(
        &self,
        _engine: &dyn EngineApi,
        _image: &str,
        _labels: &BTreeMap<String, String>,
    ) -> impl Future<Output = Result<Option<AppOutcome>, CheckerError>> + Send {
        async { Ok(None) }
    }
    /// The extra builds the goal needs, after the main build.
    fn probe(
        &self,
        _goal: &Goal,
        _probe: &mut Probe<'_>,
    ) -> impl Future<Output = Result<Option<ProbeOutcome>, CheckerError>> + Send {
        async { Ok(None) }
    }
    /// Judges the goal; `all` are the exercise's goals (build-arg judges the app goals again).
    fn judge(&self, goal: &Goal, all: &[Goal], m: &Measurements) -> Verdict;
}

/// Declares the kinds: `Variant(module) = "name in exercise.toml"`.
macro_rules! goal_kinds {
    ($($variant:ident($module:ident) = $name:literal,)*) => {
        $(pub mod $module;)*

        /// What a goal measures, tagged by `kind` in `exercise.toml`.
        #[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
        #[serde(tag = "kind")]
        pub enum GoalKind {
            $(#[serde(rename = $name)] $variant($module::$variant),)*
        }

        impl GoalKind {
            /// The short name used in reports and the JSON schema.
            pub fn name(&self) -> &'static str {
                match self { $(GoalKind::$variant(_) => $name,)* }
            }
            fn kind(&self) -> &dyn KindInfo {
                match self { $(GoalKind::$variant(k) => k,)* }
            }
            pub async fn app(
                &self,
                engine: &dyn EngineApi,
                image: &str,
                labels: &BTreeMap<String, String>,
            ) -> Result<Option<AppOutcome>, CheckerError> {
                match self { $(GoalKind::$variant(k) => k.app(engine, image, labels).await,)* }
            }
            pub async fn probe(
                &self,
                goal: &Goal,
                probe: &mut Probe<'_>,
            ) -> Result<Option<ProbeOutcome>, CheckerError> {
                match self { $(GoalKind::$variant(k) => k.probe(goal, probe).await,)* }
            }
        }
    };
}

goal_kinds! {
    ImageSize(image_size) = "image-size",
    RelativeSize(relative_size) = "relative-size",
    Stages(stages) = "stages",
    NonRoot(non_root) = "non-root",
    PathsAbsent(paths_absent) = "paths-absent",
    PathsPresent(paths_present) = "paths-present",
    Run(run) = "run",
    Http(http) = "http",
    ContextSize(context_size) = "context-size",
    ParallelStages(parallel_stages) = "parallel-stages",
    CacheReuse(cache_reuse) = "cache-reuse",
    TestStage(test_stage) = "test-stage",
    BuildArg(build_arg) = "build-arg",
    WastedBytes(wasted_bytes) = "wasted-bytes",
    Packages(packages) = "packages",
    SourcesAbsent(sources_absent) = "sources-absent",
    BaseImage(base_image) = "base-image",
    SecretAbsent(secret_absent) = "secret-absent",
    CacheMount(cache_mount) = "cache-mount",
}

/// The synchronous part of [`Kind`], as a trait object.
trait KindInfo {
    fn validate(&self, at: &str) -> Result<(), String>;
    fn target(&self) -> String;
    fn threshold(&self) -> Option<String>;
    fn paths(&self) -> &[String];
    fn needs_starter_size(&self) -> bool;
    fn judge(&self, goal: &Goal, all: &[Goal], m: &Measurements) -> Verdict;
}

impl<K: Kind> KindInfo for K {
    fn validate(&self, at: &str) -> Result<(), String> {
        Kind::validate(self, at)
    }
    fn target(&self) -> String {
        Kind::target(self)
    }
    fn threshold(&self) -> Option<String> {
        Kind::threshold(self)
    }
    fn paths(&self) -> &[String] {
        Kind::paths(self)
    }
    fn needs_starter_size(&self) -> bool {
        Kind::needs_starter_size(self)
    }
    fn judge(&self, goal: &Goal, all: &[Goal], m: &Measurements) -> Verdict {
        Kind::judge(self, goal, all, m)
    }
}

impl GoalKind {
    pub fn validate(&self, at: &str) -> Result<(), String> {
        self.kind().validate(at)
    }
    /// What the goal asks, in words ("≤ 2 MB"), as reports and the book print it.
    pub fn target(&self) -> String {
        self.kind().target()
    }
    pub fn threshold(&self) -> Option<String> {
        self.kind().threshold()
    }
    pub fn paths(&self) -> &[String] {
        self.kind().paths()
    }
    pub fn needs_starter_size(&self) -> bool {
        self.kind().needs_starter_size()
    }
    /// Whether the goal runs the image (`app` gives an outcome).
    pub fn has_app(&self) -> bool {
        matches!(self, GoalKind::Run(_) | GoalKind::Http(_))
    }
}

/// One goal: an id the lesson and reports refer to, and what is measured against what.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Goal {
    pub id: String,
    /// What to tell the learner when the goal is missed, in place of the kind's generic
    /// advice ("build tools belong in a build stage" is wrong advice for recommends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advice: Option<String>,
    #[serde(flatten)]
    pub kind: GoalKind,
}

impl<'de> Deserialize<'de> for Goal {
    /// `id` and `advice` are taken out first and the rest must be exactly one goal kind's
    /// keys: serde's `flatten` would hand `advice` to the kind and refuse it, or (without
    /// `deny_unknown_fields`) let a misspelt key pass unnoticed.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Goal, D::Error> {
        use serde::de::Error;
        let mut table = toml::Table::deserialize(deserializer)?;
        let text = |table: &mut toml::Table, key: &str| match table.remove(key) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(D::Error::custom(format!(
                "`{key}` must be a string, not {}",
                other.type_str()
            ))),
        };
        let id = text(&mut table, "id")?.ok_or_else(|| D::Error::missing_field("id"))?;
        let advice = text(&mut table, "advice")?;
        let kind = GoalKind::deserialize(toml::Value::Table(table))
            .map_err(|e| D::Error::custom(e.message()))?;
        Ok(Goal { id, advice, kind })
    }
}

/// Judges every goal, in the order the exercise lists them.
pub fn evaluate(goals: &[Goal], m: &Measurements) -> Vec<Verdict> {
    goals
        .iter()
        .map(|g| {
            let v = judge(g, goals, m);
            match &g.advice {
                // The exercise's own advice replaces the generic one when the goal is missed.
                Some(advice) if !v.met => Verdict {
                    detail: Some(advice.clone()),
                    ..v
                },
                _ => v,
            }
        })
        .collect()
}

/// Judges one goal; `all` are the exercise's goals, for goals that judge others again (the
/// app goals on a build-arg's alternate image).
pub fn judge(goal: &Goal, all: &[Goal], m: &Measurements) -> Verdict {
    goal.kind.kind().judge(goal, all, m)
}

/// What a goal asks, in words ("≤ 2 MB"), as reports and the book print it.
pub fn target_text(kind: &GoalKind) -> String {
    kind.target()
}

/// Runs the app goals (run, http) of `goals` against `image`.
pub async fn run_apps(
    engine: &dyn EngineApi,
    goals: &[Goal],
    image: &str,
    labels: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, AppOutcome>, CheckerError> {
    let mut apps = BTreeMap::new();
    for goal in goals {
        if let Some(outcome) = goal.kind.app(engine, image, labels).await? {
            apps.insert(goal.id.clone(), outcome);
        }
    }
    Ok(apps)
}
