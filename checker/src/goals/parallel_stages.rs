//! `parallel-stages`: the final stage depends on at least `min_independent` stages that do
//! not depend on each other, and (unless `require_overlap = false`) BuildKit's timings of a
//! build without cache show their work overlapping.

use serde::{Deserialize, Serialize};

use super::{Goal, Kind, Probe, Verdict};
use super::probe::Plan;
use crate::docker::api::BuildStep;
use crate::error::CheckerError;
use crate::facts::{Measurements, ProbeOutcome};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ParallelStages {
    #[serde(default = "default_min_independent")]
    pub min_independent: usize,
    #[serde(default = "default_true")]
    pub require_overlap: bool,
}

fn default_min_independent() -> usize {
    2
}
fn default_true() -> bool {
    true
}

impl Kind for ParallelStages {
    fn validate(&self, at: &str) -> Result<(), String> {
        if self.min_independent < 2 {
            return Err(format!("{at}: `min_independent` must be at least 2"));
        }
        Ok(())
    }
    fn target(&self) -> String {
        let min_independent = self.min_independent;
        if self.require_overlap {
            format!("final stage depends on ≥ {min_independent} independent stages that BuildKit builds at the same time")
        } else {
            format!("final stage depends on ≥ {min_independent} independent stages")
        }
    }
    /// The independent stages from the stage graph; their overlap from a build without cache.
    async fn probe(
        &self,
        goal: &Goal,
        probe: &mut Probe<'_>,
    ) -> Result<Option<ProbeOutcome>, CheckerError> {
        let graph = probe.graph;
        let independent: Vec<String> = graph
            .independent_dependencies(graph.target)
            .iter()
            .map(|&i| graph.stages[i].label())
            .collect();
        // A stage counts when the final image holds a program it built: a stage that only
        // sleeps and leaves a file "overlaps" the real build by doing nothing.
        let idle: Vec<String> = probe
            .inventory
            .map(|i| i.stages_without_programs())
            .unwrap_or_default()
            .into_iter()
            .filter(|s| independent.iter().any(|i| i == s))
            .map(str::to_string)
            .collect();
        let labels: Vec<String> = independent
            .iter()
            .filter(|s| !idle.contains(s))
            .cloned()
            .collect();
        let overlap_seconds = if self.require_overlap && labels.len() >= 2 {
            probe.note(goal, "building again without cache to time the stages");
            let plan = Plan {
                no_cache: true,
                tag_suffix: Some("probe".into()),
                ..Plan::default()
            };
            let result = probe.builder.build(&plan).await;
            probe.discard(&plan, &result).await;
            let built = result?;
            overlap_seconds(&built.steps, &labels)
        } else {
            None
        };
        Ok(Some(ProbeOutcome::Parallel {
            independent: labels,
            idle,
            overlap_seconds,
        }))
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        let target = self.target();
        let Some(ProbeOutcome::Parallel {
            independent,
            idle,
            overlap_seconds,
        }) = m.probes.get(&goal.id)
        else {
            return Verdict::new(goal, false, "not measured".into(), target);
        };
        let shape_ok = independent.len() >= self.min_independent;
        let overlap_ok = !self.require_overlap || overlap_seconds.is_some_and(|s| s > 0.0);
        let mut measured = if independent.is_empty() {
            "no independent stages".to_string()
        } else {
            format!("independent: {}", independent.join(", "))
        };
        if let Some(s) = overlap_seconds {
            measured.push_str(&format!("; overlapped {s:.1} s"));
        }
        if !idle.is_empty() {
            measured.push_str(&format!("; {} built no program the image holds", idle.join(", ")));
        }
        let v = Verdict::new(goal, shape_ok && overlap_ok, measured, target);
        if !shape_ok && !idle.is_empty() {
            v.detail(format!(
                "stage {} builds no program the image keeps: a stage counts when the final stage copies a program it compiled, not a file it waited to write",
                idle.join(", ")
            ))
        } else if !shape_ok {
            v.detail("split independent work into stages that share a base, and COPY --from each into the final stage")
        } else if !overlap_ok {
            v.detail("the stages did not run at the same time: does one wait for the other?")
        } else {
            v
        }
    }
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
            ..BuildStep::default()
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
}

#[cfg(test)]
mod judging {
    use crate::facts::ProbeOutcome;
    use crate::goals::verdict::testing::{goal, evaluate_goal, measured};
    use crate::goals::{GoalKind};

    #[test]
    fn parallel_stages_need_shape_and_overlap() {
        let g = goal(
            "par",
            GoalKind::ParallelStages(crate::goals::parallel_stages::ParallelStages {
                min_independent: 2,
                require_overlap: true,
            }),
        );
        let mut m = measured();
        let probe = |independent: &[&str], overlap: Option<f64>| ProbeOutcome::Parallel {
            independent: independent.iter().map(|s| s.to_string()).collect(),
            idle: vec![],
            overlap_seconds: overlap,
        };
        m.probes.insert("par".into(), probe(&["build"], None));
        assert!(!evaluate_goal(&g, &m).met);
        m.probes
            .insert("par".into(), probe(&["docs", "app"], Some(0.0)));
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert!(v.detail.unwrap().contains("did not run at the same time"));
        m.probes
            .insert("par".into(), probe(&["docs", "app"], Some(2.5)));
        let v = evaluate_goal(&g, &m);
        assert!(v.met, "{v:?}");
        assert_eq!(v.measured, "independent: docs, app; overlapped 2.5 s");
        let shape_only = goal(
            "par",
            GoalKind::ParallelStages(crate::goals::parallel_stages::ParallelStages {
                min_independent: 2,
                require_overlap: false,
            }),
        );
        m.probes.insert("par".into(), probe(&["docs", "app"], None));
        assert!(evaluate_goal(&shape_only, &m).met);
        // The red team's padding stage: it sleeps beside the real build and leaves an empty
        // file, so it is left out, and one stage doing work is no parallel build.
        m.probes.insert(
            "par".into(),
            ProbeOutcome::Parallel {
                independent: vec!["server".into()],
                idle: vec!["padding".into()],
                overlap_seconds: None,
            },
        );
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert_eq!(
            v.measured,
            "independent: server; padding built no program the image holds"
        );
        assert!(v.detail.unwrap().starts_with("stage padding builds no program the image keeps"));
    }
}
