//! `test-stage`: building `--target <target>` passes on the context as it is, fails with
//! each of `faults` swapped in, and passes with each of `rewrites` swapped in (files relative
//! to the exercise folder, each swapped in for its `file`). Several faults, each breaking a
//! different behaviour, mean only running the tests catches them all; a rewrite (the same
//! behaviour written another way) means a stage that checks the source's text (a grep for
//! the line a fault changes, a checksum) instead of testing it refuses a correct program.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::probe::{first_line, with_fresh_tail, Plan};
use super::settings::check_relative;
use super::{Goal, Kind, Probe, Verdict};
use crate::error::CheckerError;
use crate::facts::{Measurements, ProbeOutcome, Swapped};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TestStage {
    pub target: String,
    /// Files with a bug the tests must catch: the build must fail with each.
    pub faults: Vec<Swap>,
    /// Correct rewrites: the build must pass with each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rewrites: Vec<Swap>,
}

/// `with` (relative to the exercise folder) in place of `file` (relative to the context).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Swap {
    pub file: String,
    pub with: String,
}

impl Kind for TestStage {
    fn validate(&self, at: &str) -> Result<(), String> {
        if self.faults.is_empty() {
            return Err(format!(
                "{at}: `faults` must list at least one file with a bug the tests catch"
            ));
        }
        for (key, swaps) in [("faults", &self.faults), ("rewrites", &self.rewrites)] {
            for (i, swap) in swaps.iter().enumerate() {
                check_relative(at, &format!("{key}[{i}].file"), &swap.file)?;
                check_relative(at, &format!("{key}[{i}].with"), &swap.with)?;
            }
        }
        Ok(())
    }
    fn target(&self) -> String {
        let faults = self.faults.len();
        let rewrites = match self.rewrites.len() {
            0 => String::new(),
            1 => ", passes with a correct rewrite".to_string(),
            n => format!(", passes with each of {n} correct rewrites"),
        };
        let faults = match faults {
            1 => "fails with the fault swapped in".to_string(),
            n => format!("fails with each of {n} faults swapped in"),
        };
        format!("--target {} passes, {faults}{rewrites}", self.target)
    }
    /// Builds the test target as it is, then once per fault and once per rewrite.
    async fn probe(
        &self,
        goal: &Goal,
        probe: &mut Probe<'_>,
    ) -> Result<Option<ProbeOutcome>, CheckerError> {
        let target = &self.target;
        probe.note(
            goal,
            &format!(
                "building --target {target}, then again with each of {} faults and {} rewrites swapped in",
                self.faults.len(),
                self.rewrites.len()
            ),
        );
        let (clean_passed, clean_error) = match self.build(probe, None, "test").await? {
            Ok(()) => (true, None),
            Err(e) => (false, Some(first_line(&e.to_string()))),
        };
        let mut faults = Vec::new();
        for (i, swap) in self.faults.iter().enumerate() {
            let content = probe.read(goal, &format!("faults[{i}].with"), &swap.with)?;
            faults.push(self.swapped(probe, swap, content, "test-fault").await?);
        }
        let mut rewrites = Vec::new();
        for (i, swap) in self.rewrites.iter().enumerate() {
            let content = probe.read(goal, &format!("rewrites[{i}].with"), &swap.with)?;
            rewrites.push(self.swapped(probe, swap, content, "test-rewrite").await?);
        }
        Ok(Some(ProbeOutcome::TestStage {
            clean_passed,
            clean_error,
            faults,
            rewrites,
        }))
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        let target = self.target();
        let Some(ProbeOutcome::TestStage {
            clean_passed,
            clean_error,
            faults,
            rewrites,
        }) = m.probes.get(&goal.id)
        else {
            return Verdict::new(goal, false, "not measured".into(), target);
        };
        if !clean_passed {
            let v = Verdict::new(
                goal,
                false,
                "--target build fails on the code as it is".into(),
                target,
            );
            return match clean_error {
                Some(e) => v.detail(e.clone()),
                None => v,
            };
        }
        let (caught, missed) = faults_caught(faults);
        let refused = rewrites_refused(rewrites);
        let met = missed.is_none() && refused.is_none();
        let mut measured = vec!["passes".to_string(), caught];
        let mut details: Vec<String> = missed.into_iter().collect();
        if let Some((what, why)) = refused {
            measured.push(what);
            details.push(why);
        }
        let v = Verdict::new(goal, met, measured.join(", "), target);
        if details.is_empty() {
            v
        } else {
            v.detail(details.join("; "))
        }
    }
}

/// What the faults did to the test build: where each failed it; or which still passed, with
/// why that means the tests do not run, or not all of them (None: every fault failed it).
fn faults_caught(faults: &[Swapped]) -> (String, Option<String>) {
    let missed: Vec<&Swapped> = faults.iter().filter(|f| f.passed).collect();
    if missed.is_empty() {
        let steps: std::collections::BTreeSet<&str> = faults
            .iter()
            .filter_map(|f| f.failure.as_deref())
            .collect();
        let at = steps.into_iter().collect::<Vec<_>>().join("; ");
        let measured = match faults.len() {
            1 => format!("with the fault it fails at {at}"),
            n => format!("with each of {n} faults it fails at {at}"),
        };
        (measured, None)
    } else if missed.len() == faults.len() {
        (
            format!(
                "and still passes with {} of {} faults: the tests do not run",
                missed.len(),
                faults.len()
            ),
            Some(format!(
                "still passes with {}: each breaks what the program does, which only its tests see. Run them in the test stage (go test), with the test files copied in",
                names(&missed)
            )),
        )
    } else {
        (
            format!(
                "and still passes with {} of {} faults",
                missed.len(),
                faults.len()
            ),
            Some(format!(
                "still passes with {}: the test stage catches some bugs but not these. Run the tests themselves rather than checking for one bug",
                names(&missed)
            )),
        )
    }
}

/// The correct rewrites the test build refused, if any: what was measured, and why that means
/// the stage judges the source's text.
fn rewrites_refused(rewrites: &[Swapped]) -> Option<(String, String)> {
    let refused: Vec<&Swapped> = rewrites.iter().filter(|r| !r.passed).collect();
    if refused.is_empty() {
        return None;
    }
    let why: Vec<String> = refused
        .iter()
        .map(|r| match &r.failure {
            Some(f) => format!("{} ({f})", r.with),
            None => r.with.clone(),
        })
        .collect();
    Some((
        format!(
            "but fails on {} of {} correct rewrites",
            refused.len(),
            rewrites.len()
        ),
        format!(
            "fails with {}, which behaves exactly as the original: the test stage judges the source's text, not what it does. Run the tests instead",
            why.join(", ")
        ),
    ))
}

/// The files swapped in, as the exercise names them: `a.c, b.c`.
fn names(swaps: &[&Swapped]) -> String {
    swaps
        .iter()
        .map(|s| s.with.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl TestStage {
    /// Builds the test target with `replacements`: Ok, or the build's failure (a Dockerfile
    /// the checker refuses is one too); any other error stops the check.
    async fn build(
        &self,
        probe: &mut Probe<'_>,
        replacements: Option<(String, Vec<u8>)>,
        suffix: &str,
    ) -> Result<Result<(), CheckerError>, CheckerError> {
        let plan = Plan {
            target: Some(self.target.clone()),
            replacements: replacements.into_iter().collect::<BTreeMap<_, _>>(),
            tag_suffix: Some(suffix.into()),
            ..Plan::default()
        };
        let result = probe.builder.build(&plan).await;
        probe.discard(&plan, &result).await;
        match result {
            Ok(_) => Ok(Ok(())),
            Err(e @ (CheckerError::BuildFailed { .. } | CheckerError::Dockerfile { .. })) => {
                Ok(Err(e))
            }
            Err(e) => Err(e),
        }
    }

    /// Builds the test target with `swap` in place: how it went.
    async fn swapped(
        &self,
        probe: &mut Probe<'_>,
        swap: &Swap,
        content: Vec<u8>,
        suffix: &str,
    ) -> Result<Swapped, CheckerError> {
        // Fresh every time: no cache hit from the last probe, no checksum known in advance.
        let content = with_fresh_tail(content);
        let outcome = self
            .build(probe, Some((swap.file.clone(), content)), suffix)
            .await?;
        Ok(Swapped {
            with: swap.with.clone(),
            passed: outcome.is_ok(),
            // Where it failed is what tells a test from a compile error.
            failure: outcome.err().map(|e| match e {
                CheckerError::BuildFailed { step, .. } => step,
                other => first_line(&other.to_string()),
            }),
        })
    }
}

#[cfg(test)]
mod judging {
    use crate::facts::{ProbeOutcome, Swapped};
    use crate::goals::test_stage::{Swap, TestStage};
    use crate::goals::verdict::testing::{evaluate_goal, goal, measured};
    use crate::goals::GoalKind;

    fn tests_goal() -> crate::goals::Goal {
        let swap = |with: &str| Swap {
            file: "a.c".into(),
            with: with.into(),
        };
        goal(
            "tests",
            GoalKind::TestStage(TestStage {
                target: "test".into(),
                faults: vec![swap("faults/one.c"), swap("faults/two.c")],
                rewrites: vec![swap("rewrites/a.c")],
            }),
        )
    }

    fn swapped(with: &str, passed: bool) -> Swapped {
        Swapped {
            with: with.into(),
            passed,
            failure: (!passed).then(|| "[test 3/3] RUN make check".to_string()),
        }
    }

    fn outcome(one: bool, two: bool, rewrite: bool) -> ProbeOutcome {
        ProbeOutcome::TestStage {
            clean_passed: true,
            clean_error: None,
            faults: vec![swapped("faults/one.c", one), swapped("faults/two.c", two)],
            rewrites: vec![swapped("rewrites/a.c", rewrite)],
        }
    }

    #[test]
    fn a_test_stage_must_fail_with_every_fault_and_pass_with_every_rewrite() {
        let g = tests_goal();
        let mut m = measured();
        m.probes.insert("tests".into(), outcome(false, false, true));
        let v = evaluate_goal(&g, &m);
        assert!(v.met, "{v:?}");
        assert_eq!(
            v.measured,
            "passes, with each of 2 faults it fails at [test 3/3] RUN make check"
        );
        m.probes.insert("tests".into(), outcome(true, true, true));
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert!(v.measured.contains("the tests do not run"), "{}", v.measured);
    }

    #[test]
    fn a_stage_that_greps_for_one_fault_misses() {
        let g = tests_goal();
        let mut m = measured();
        // A grep for the line one fault changes: that fault fails the build, the other
        // does not, and the rewrite (which has no such line) fails it too.
        m.probes.insert("tests".into(), outcome(false, true, false));
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert_eq!(
            v.measured,
            "passes, and still passes with 1 of 2 faults, but fails on 1 of 1 correct rewrites"
        );
        let detail = v.detail.unwrap();
        assert!(detail.starts_with("still passes with faults/two.c"), "{detail}");
        assert!(
            detail.contains("fails with rewrites/a.c ([test 3/3] RUN make check), which behaves exactly as the original"),
            "{detail}"
        );
        // Catching every fault is not enough when a correct rewrite is refused.
        m.probes.insert("tests".into(), outcome(false, false, false));
        assert!(!evaluate_goal(&g, &m).met);
    }

    #[test]
    fn a_test_target_that_does_not_build_says_why() {
        let g = tests_goal();
        let mut m = measured();
        m.probes.insert(
            "tests".into(),
            ProbeOutcome::TestStage {
                clean_passed: false,
                clean_error: Some("no stage named `test`".into()),
                faults: vec![],
                rewrites: vec![],
            },
        );
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert_eq!(v.detail.as_deref(), Some("no stage named `test`"));
    }
}
