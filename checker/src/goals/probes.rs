//! Goals that need more than the one build: a build without cache to see stages run in
//! parallel, a rebuild after a source change to see what the cache kept, a test target built
//! with and without a planted fault. Each probe builds under a tag of its own and removes it.

use std::collections::BTreeMap;

use regex::Regex;

use crate::build::{build_plan, labels, Built, Plan};
use crate::check::run_apps;
use crate::docker::engine::{BuildStep, Engine};
use crate::docker::waste;
use crate::error::CheckerError;
use crate::facts::ProbeOutcome;
use crate::ui::Silent;
use crate::workbook::exercise::{Exercise, GoalKind, Variant};

/// Runs the probe of every goal that has one.
pub(crate) async fn run(
    engine: &Engine,
    exercise: &Exercise,
    variant: Variant,
    built: &Built,
) -> Result<BTreeMap<String, ProbeOutcome>, CheckerError> {
    let mut outcomes = BTreeMap::new();
    for goal in &exercise.file.goals {
        let outcome = match &goal.kind {
            GoalKind::ParallelStages {
                require_overlap, ..
            } => {
                let graph = &built.graph;
                let independent = graph.independent_dependencies(graph.target);
                let labels: Vec<String> = independent
                    .iter()
                    .map(|&i| graph.stages[i].label())
                    .collect();
                let overlap_seconds = if *require_overlap && labels.len() >= 2 {
                    eprintln!(
                        "  {}: building again without cache to time the stages ({})",
                        exercise.name, goal.id
                    );
                    let plan = Plan {
                        no_cache: true,
                        tag_suffix: Some("probe".into()),
                        ..Plan::default()
                    };
                    let probe = build_plan(engine, exercise, variant, &plan, &mut Silent).await?;
                    remove(engine, &plan.tag(exercise, variant)).await;
                    overlap_seconds(&probe.steps, &labels)
                } else {
                    None
                };
                ProbeOutcome::Parallel {
                    independent: labels,
                    overlap_seconds,
                }
            }
            GoalKind::CacheReuse { change, step } => {
                let path = exercise.dir.join(change);
                let mut content =
                    std::fs::read(&path).map_err(|e| CheckerError::InvalidExercise {
                        file: exercise.dir.join("exercise.toml"),
                        message: format!(
                            "key `goals` (id `{}`): `change` names {}, which cannot be read: {e}",
                            goal.id,
                            path.display()
                        ),
                    })?;
                // The change must be new to the build cache every time (an identical change
                // would be a cache hit from the last probe), and harmless in any language:
                // a trailing line of whitespace of varying length does both.
                let nonce = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.subsec_nanos())
                    .unwrap_or(0);
                content.push(b'\n');
                content.extend(std::iter::repeat_n(b' ', 1 + (nonce % 100_000) as usize));
                content.push(b'\n');
                eprintln!(
                    "  {}: rebuilding with {change} changed ({})",
                    exercise.name, goal.id
                );
                let plan = Plan {
                    replacements: BTreeMap::from([(change.clone(), content)]),
                    tag_suffix: Some("probe".into()),
                    ..Plan::default()
                };
                let result = build_plan(engine, exercise, variant, &plan, &mut Silent).await;
                remove(engine, &plan.tag(exercise, variant)).await;
                let pattern = Regex::new(step).expect("validated when exercise.toml was loaded");
                let steps = match result {
                    Ok(probe) => matching_steps(&probe.steps, &pattern),
                    Err(CheckerError::BuildFailed { .. }) => vec![],
                    Err(e) => return Err(e),
                };
                ProbeOutcome::CacheReuse { steps }
            }
            GoalKind::TestStage { target, fault } => {
                let with = exercise.dir.join(&fault.with);
                let faulty = std::fs::read(&with).map_err(|e| CheckerError::InvalidExercise {
                    file: exercise.dir.join("exercise.toml"),
                    message: format!(
                        "key `goals` (id `{}`): `fault.with` names {}, which cannot be read: {e}",
                        goal.id,
                        with.display()
                    ),
                })?;
                eprintln!(
                    "  {}: building --target {target}, then again with {} swapped in ({})",
                    exercise.name, fault.file, goal.id
                );
                let clean = Plan {
                    target: Some(target.clone()),
                    tag_suffix: Some("test".into()),
                    ..Plan::default()
                };
                let clean_result = build_plan(engine, exercise, variant, &clean, &mut Silent).await;
                remove(engine, &clean.tag(exercise, variant)).await;
                let broken = Plan {
                    target: Some(target.clone()),
                    replacements: BTreeMap::from([(fault.file.clone(), faulty)]),
                    tag_suffix: Some("test-fault".into()),
                    ..Plan::default()
                };
                let fault_result =
                    build_plan(engine, exercise, variant, &broken, &mut Silent).await;
                remove(engine, &broken.tag(exercise, variant)).await;
                let (clean_passed, clean_error) = match clean_result {
                    Ok(_) => (true, None),
                    Err(
                        e @ (CheckerError::BuildFailed { .. } | CheckerError::Dockerfile { .. }),
                    ) => (false, Some(first_line(&e.to_string()))),
                    Err(e) => return Err(e),
                };
                let (fault_failed, fault_step) = match fault_result {
                    Ok(_) => (false, None),
                    Err(CheckerError::BuildFailed { step, .. }) => (true, Some(step)),
                    Err(CheckerError::Dockerfile { .. }) => (false, None),
                    Err(e) => return Err(e),
                };
                ProbeOutcome::TestStage {
                    clean_passed,
                    clean_error,
                    fault_failed,
                    fault_step,
                }
            }
            GoalKind::BuildArg { name, alternate } => {
                let default = built
                    .graph
                    .global_args
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, d)| d.clone().unwrap_or_default());
                eprintln!(
                    "  {}: building with --build-arg {name}={alternate} ({})",
                    exercise.name, goal.id
                );
                let plan = Plan {
                    build_args: BTreeMap::from([(name.clone(), alternate.clone())]),
                    tag_suffix: Some("alternate".into()),
                    ..Plan::default()
                };
                let tag = plan.tag(exercise, variant);
                let (build_error, apps) =
                    match build_plan(engine, exercise, variant, &plan, &mut Silent).await {
                        Ok(_) => (
                            None,
                            run_apps(engine, exercise, &tag, &labels(exercise, variant)).await?,
                        ),
                        Err(
                            e @ (CheckerError::BuildFailed { .. }
                            | CheckerError::MissingBaseImage { .. }
                            | CheckerError::Dockerfile { .. }),
                        ) => (Some(first_line(&e.to_string())), BTreeMap::new()),
                        Err(e) => return Err(e),
                    };
                remove(engine, &tag).await;
                ProbeOutcome::BuildArg {
                    default,
                    build_error,
                    apps,
                }
            }
            GoalKind::WastedBytes { .. } => {
                let tag = exercise.image_tag(variant);
                let mut file = tempfile::tempfile()
                    .map_err(|e| CheckerError::Other(format!("a temporary file: {e}")))?;
                engine.export_image(&tag, &mut file).await?;
                let platform = engine.platform().await?;
                let layers =
                    tokio::task::spawn_blocking(move || waste::image_changes_for(file, &platform))
                        .await
                        .map_err(|e| CheckerError::Other(e.to_string()))?
                        .map_err(|e| {
                            CheckerError::Other(format!("reading the layers of {tag}: {e}"))
                        })?;
                let w = waste::count(&layers);
                ProbeOutcome::WastedBytes {
                    bytes: w.bytes,
                    top: w.top,
                }
            }
            _ => continue,
        };
        outcomes.insert(goal.id.clone(), outcome);
    }
    Ok(outcomes)
}

async fn remove(engine: &Engine, tag: &str) {
    if let Err(e) = engine.remove_image(tag).await {
        eprintln!("warning: could not remove the probe image {tag}: {e}");
    }
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}

/// Dockerfile steps (`[label n/m] …`) whose name matches, with whether each was cached.
fn matching_steps(steps: &[BuildStep], pattern: &Regex) -> Vec<(String, bool)> {
    steps
        .iter()
        .filter(|s| {
            s.name.starts_with('[')
                && !s.name.starts_with("[internal]")
                && pattern.is_match(&s.name)
        })
        .map(|s| (s.name.clone(), s.cached))
        .collect()
}

/// The longest time two of the stages were at work at once, from BuildKit's step timings.
/// A stage's work spans from the start of its first step to the end of its last, FROM
/// excepted (resolving a base image is no work of the stage's). None when fewer than two
/// of the stages ran anything.
fn overlap_seconds(steps: &[BuildStep], labels: &[String]) -> Option<f64> {
    let spans: Vec<(f64, f64)> = labels
        .iter()
        .filter_map(|label| {
            let prefix = format!("[{label} ");
            let own: Vec<&BuildStep> = steps
                .iter()
                .filter(|s| s.name.starts_with(&prefix) && !s.name.contains("] FROM ") && !s.cached)
                .collect();
            let start = own.iter().filter_map(|s| s.started).reduce(f64::min)?;
            let end = own.iter().filter_map(|s| s.completed).reduce(f64::max)?;
            Some((start, end))
        })
        .collect();
    if spans.len() < 2 {
        return None;
    }
    let mut best = 0.0_f64;
    for (i, a) in spans.iter().enumerate() {
        for b in &spans[i + 1..] {
            best = best.max(a.1.min(b.1) - a.0.max(b.0));
        }
    }
    Some(best.max(0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &str, started: f64, completed: f64, cached: bool) -> BuildStep {
        BuildStep {
            name: name.into(),
            cached,
            started: Some(started),
            completed: Some(completed),
            error: None,
        }
    }

    #[test]
    fn overlap_is_the_longest_shared_time_of_two_stages() {
        let steps = vec![
            step(
                "[base 1/2] FROM docker.io/library/debian:bookworm",
                0.0,
                0.1,
                false,
            ),
            step("[base 2/2] RUN apt-get install gcc", 0.1, 5.0, false),
            step(
                "[docs 1/2] FROM docker.io/library/debian:bookworm",
                0.0,
                0.1,
                false,
            ),
            step("[docs 2/2] RUN make docs", 5.0, 8.0, false),
            step("[app 2/3] COPY . .", 5.0, 5.2, false),
            step("[app 3/3] RUN make", 5.2, 9.0, false),
        ];
        let overlap = overlap_seconds(&steps, &["docs".into(), "app".into()]).unwrap();
        assert!((overlap - 3.0).abs() < 1e-9, "{overlap}");
    }

    #[test]
    fn one_after_the_other_is_no_overlap_and_cached_stages_are_not_compared() {
        let steps = vec![
            step("[a 2/2] RUN x", 0.0, 2.0, false),
            step("[b 2/2] RUN y", 2.0, 4.0, false),
        ];
        assert_eq!(
            overlap_seconds(&steps, &["a".into(), "b".into()]),
            Some(0.0)
        );
        let cached = vec![
            step("[a 2/2] RUN x", 0.0, 2.0, false),
            step("[b 2/2] RUN y", 0.0, 0.0, true),
        ];
        assert_eq!(overlap_seconds(&cached, &["a".into(), "b".into()]), None);
    }

    #[test]
    fn matching_steps_keep_the_cache_flag() {
        let steps = vec![
            step("[internal] load build context", 0.0, 0.1, false),
            step("[build 2/4] RUN apt-get install golang-go", 0.0, 1.0, true),
            step("[build 3/4] COPY . .", 1.0, 1.1, false),
        ];
        let pattern = Regex::new("apt-get|COPY").unwrap();
        assert_eq!(
            matching_steps(&steps, &pattern),
            vec![
                ("[build 2/4] RUN apt-get install golang-go".into(), true),
                ("[build 3/4] COPY . .".into(), false)
            ]
        );
    }
}
