//! `cache-reuse`: after a line is appended to `change` (in a copy of the context), every
//! build step whose name matches the regex `step` must come back from the cache.

use std::collections::BTreeMap;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::settings::check_relative;
use super::{Goal, Kind, Pattern, Probe, Verdict};
use super::probe::Plan;
use crate::docker::engine::BuildStep;
use crate::error::CheckerError;
use crate::facts::{Measurements, ProbeOutcome};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CacheReuse {
    pub change: String,
    pub step: Pattern,
}

impl Kind for CacheReuse {
    fn validate(&self, at: &str) -> Result<(), String> {
        self.step.check(at, "step")?;
        check_relative(at, "change", &self.change)
    }
    fn target(&self) -> String {
        format!(
            "steps matching /{}/ cached after {} changes",
            self.step, self.change
        )
    }
    /// Rebuilds with `change` changed and reads which matching steps were cached.
    async fn probe(
        &self,
        goal: &Goal,
        probe: &mut Probe<'_>,
    ) -> Result<Option<ProbeOutcome>, CheckerError> {
        let change = &self.change;
        let mut content = probe.read(goal, "change", change)?;
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
        probe.note(goal, &format!("rebuilding with {change} changed"));
        let plan = Plan {
            replacements: BTreeMap::from([(change.clone(), content)]),
            tag_suffix: Some("probe".into()),
            ..Plan::default()
        };
        let result = probe.builder.build(&plan).await;
        probe.remove(&probe.builder.tag(&plan)).await;
        let pattern = self
            .step
            .regex()
            .expect("validated when exercise.toml was loaded");
        let steps = match result {
            Ok(built) => matching_steps(&built.steps, pattern),
            Err(CheckerError::BuildFailed { .. }) => vec![],
            Err(e) => return Err(e),
        };
        Ok(Some(ProbeOutcome::CacheReuse { steps }))
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        let target = self.target();
        match m.probes.get(&goal.id) {
            Some(ProbeOutcome::CacheReuse { steps }) if !steps.is_empty() => {
                let rebuilt: Vec<&str> = steps
                    .iter()
                    .filter(|(_, c)| !c)
                    .map(|(n, _)| n.as_str())
                    .collect();
                let v = Verdict::new(
                    goal,
                    rebuilt.is_empty(),
                    format!("{} of {} cached", steps.len() - rebuilt.len(), steps.len()),
                    target,
                );
                if rebuilt.is_empty() {
                    v
                } else {
                    v.detail(format!(
                        "rebuilt: {} — copy only what that step needs before it, and the sources after",
                        rebuilt.join("; ")
                    ))
                }
            }
            Some(ProbeOutcome::CacheReuse { .. }) => {
                Verdict::new(goal, false, "no step matches".into(), target)
                    .detail("no build step matched the pattern (or the rebuild failed)")
            }
            _ => Verdict::new(goal, false, "not measured".into(), target),
        }
    }
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

#[cfg(test)]
mod judging {
    use crate::facts::ProbeOutcome;
    use crate::goals::verdict::testing::{goal, evaluate_goal, measured};
    use crate::goals::{GoalKind};

    #[test]
    fn cache_reuse_names_the_rebuilt_steps() {
        let g = goal(
            "cache",
            GoalKind::CacheReuse(crate::goals::cache_reuse::CacheReuse {
                change: "main.go".into(),
                step: "apt-get".into(),
            }),
        );
        let mut m = measured();
        m.probes.insert(
            "cache".into(),
            ProbeOutcome::CacheReuse {
                steps: vec![("[2/4] RUN apt-get install".into(), false)],
            },
        );
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert!(v
            .detail
            .unwrap()
            .starts_with("rebuilt: [2/4] RUN apt-get install"));
        m.probes.insert(
            "cache".into(),
            ProbeOutcome::CacheReuse {
                steps: vec![("[2/4] RUN apt-get install".into(), true)],
            },
        );
        assert!(evaluate_goal(&g, &m).met);
        m.probes
            .insert("cache".into(), ProbeOutcome::CacheReuse { steps: vec![] });
        assert!(
            !evaluate_goal(&g, &m).met,
            "a pattern that matches nothing proves nothing"
        );
    }
}
