//! `cache-mount`: a build whose dependencies come from a cache mount, not a download, after a
//! source edit. Two rebuilds in a copy of the context: one with `change` edited (what a
//! learner does all day; it also fills the cache mounts), then one with another edit and
//! every file under `withhold` (the dependencies' source, such as a module proxy folder)
//! emptied, as if the network were down. A layer that holds downloaded dependencies is
//! rebuilt, downloading again, whenever anything before it changes; only a cache mount
//! (`RUN --mount=type=cache,target=…`) keeps them between builds, so only then does the
//! second rebuild succeed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::probe::{with_fresh_tail, Plan};
use super::settings::check_relative;
use super::{Goal, Kind, Probe, Verdict};
use crate::error::CheckerError;
use crate::facts::{Measurements, ProbeOutcome};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CacheMount {
    /// A source file of the exercise folder; a line of spaces is appended to it.
    pub change: String,
    /// A folder of the exercise folder the dependencies are downloaded from.
    pub withhold: String,
}

impl Kind for CacheMount {
    fn validate(&self, at: &str) -> Result<(), String> {
        check_relative(at, "change", &self.change)?;
        check_relative(at, "withhold", &self.withhold)
    }
    fn target(&self) -> String {
        format!(
            "builds after {} changes with {}/ emptied: the dependencies come from a cache mount",
            self.change, self.withhold
        )
    }
    async fn probe(
        &self,
        goal: &Goal,
        probe: &mut Probe<'_>,
    ) -> Result<Option<ProbeOutcome>, CheckerError> {
        let edited = with_fresh_tail(probe.read(goal, "change", &self.change)?);
        // Another edit for the second rebuild, so that it cannot come from the first's cache.
        let edited_again = with_fresh_tail(edited.clone());
        let emptied: BTreeMap<String, Vec<u8>> = probe
            .files_under(goal, "withhold", &self.withhold)?
            .into_iter()
            .map(|file| (file, Vec::new()))
            .collect();
        let change = &self.change;
        probe.note(goal, &format!("rebuilding with {change} changed"));
        let warm = Plan {
            replacements: BTreeMap::from([(change.clone(), edited)]),
            tag_suffix: Some("probe".into()),
            ..Plan::default()
        };
        let warm_error = self.rebuild(probe, &warm).await?;
        let withheld_error = if warm_error.is_none() {
            probe.note(
                goal,
                &format!(
                    "rebuilding with {change} changed again and {}/ emptied",
                    self.withhold
                ),
            );
            let mut replacements = emptied;
            replacements.insert(change.clone(), edited_again);
            let cold = Plan {
                replacements,
                tag_suffix: Some("probe".into()),
                ..Plan::default()
            };
            self.rebuild(probe, &cold).await?
        } else {
            None
        };
        Ok(Some(ProbeOutcome::CacheMount {
            warm_error,
            withheld_error,
        }))
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        let target = self.target();
        let Some(ProbeOutcome::CacheMount {
            warm_error,
            withheld_error,
        }) = m.probes.get(&goal.id)
        else {
            return Verdict::new(goal, false, "not measured".into(), target);
        };
        if let Some(error) = warm_error {
            return Verdict::new(goal, false, "the rebuild failed".into(), target).detail(
                format!("after {} changed, the build failed: {error}", self.change),
            );
        }
        match withheld_error {
            None => Verdict::new(
                goal,
                true,
                format!("built without {}/", self.withhold),
                target,
            ),
            Some(error) => Verdict::new(
                goal,
                false,
                format!("downloads again: failed without {}/", self.withhold),
                target,
            )
            .detail(format!(
                "after {} changed, with {}/ emptied, the build failed: {error}. The dependencies were fetched again, not taken from a cache: a layer's content is rebuilt whenever a step before it changes, a cache mount's stays from build to build. Mount one where the tool keeps what it downloads, on every step that downloads: RUN --mount=type=cache,target=<that folder> …",
                self.change, self.withhold
            )),
        }
    }
}

impl CacheMount {
    /// Builds `plan`; a failed build is the outcome's business, not an error of the check.
    async fn rebuild(
        &self,
        probe: &mut Probe<'_>,
        plan: &Plan,
    ) -> Result<Option<String>, CheckerError> {
        let result = probe.builder.build(plan).await;
        probe.discard(plan, &result).await;
        match result {
            Ok(_) => Ok(None),
            Err(CheckerError::BuildFailed {
                line, step, log, ..
            }) => Ok(Some(why_it_failed(&step, line, &log))),
            Err(e) => Err(e),
        }
    }
}

/// The failed step and the last thing it printed (the tool's own error, such as Go's
/// "zip: not a valid zip file"), not BuildKit's "did not complete successfully" after it.
fn why_it_failed(step: &str, line: Option<usize>, log: &str) -> String {
    let said = log
        .lines()
        .rev()
        .map(|l| l.trim_start().trim_start_matches('|').trim())
        .find(|l| {
            !l.is_empty()
                && !l.contains("did not complete successfully")
                && !l.starts_with("executor failed")
        });
    let at = line.map(|l| format!(" (line {l})")).unwrap_or_default();
    match said {
        Some(said) => format!("{step}{at}: {said}"),
        None => format!("{step}{at}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(outcome: ProbeOutcome) -> Verdict {
        let kind = CacheMount {
            change: "src/main.go".into(),
            withhold: "goproxy".into(),
        };
        let goal = Goal {
            id: "module-cache".into(),
            kind: super::super::GoalKind::CacheMount(kind.clone()),
            advice: None,
        };
        let mut m = Measurements::default();
        m.probes.insert(goal.id.clone(), outcome);
        kind.judge(&goal, &[], &m)
    }

    #[test]
    fn a_failure_is_told_by_what_the_tool_said() {
        let log = "  | go: downloading example.com/slugify v1.3.0\n  | go: example.com/slugify@v1.3.0: zip: not a valid zip file\n  | process \"/bin/sh -c go build\" did not complete successfully: exit code: 1";
        assert_eq!(
            why_it_failed("[build 8/10] RUN go build", Some(29), log),
            "[build 8/10] RUN go build (line 29): go: example.com/slugify@v1.3.0: zip: not a valid zip file"
        );
    }

    #[test]
    fn building_without_the_download_source_is_met() {
        let v = judged(ProbeOutcome::CacheMount {
            warm_error: None,
            withheld_error: None,
        });
        assert!(v.met);
        assert_eq!(v.measured, "built without goproxy/");
    }

    #[test]
    fn failing_without_it_is_a_miss_that_says_to_mount_a_cache() {
        let v = judged(ProbeOutcome::CacheMount {
            warm_error: None,
            withheld_error: Some("RUN go build failed: zip: not a valid zip file".into()),
        });
        assert!(!v.met);
        let detail = v.detail.unwrap();
        assert!(detail.contains("not a valid zip file"), "{detail}");
        assert!(detail.contains("--mount=type=cache"), "{detail}");
    }

    #[test]
    fn a_rebuild_that_fails_anyway_is_named_as_that() {
        let v = judged(ProbeOutcome::CacheMount {
            warm_error: Some("COPY src/main.go: not found".into()),
            withheld_error: None,
        });
        assert!(!v.met);
        assert_eq!(v.measured, "the rebuild failed");
    }
}
