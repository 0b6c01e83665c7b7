//! `test-stage`: building `--target <target>` passes on the context as it is, and fails once
//! the file `fault.file` is replaced by `fault.with` (both relative to the exercise folder),
//! which proves the test stage really runs the tests.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::settings::check_relative;
use super::probe::first_line;
use super::{Goal, Kind, Probe, Verdict};
use super::probe::Plan;
use crate::error::CheckerError;
use crate::facts::{Measurements, ProbeOutcome};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TestStage {
    pub target: String,
    pub fault: Fault,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    pub file: String,
    pub with: String,
}

impl Kind for TestStage {
    fn validate(&self, at: &str) -> Result<(), String> {
        check_relative(at, "fault.file", &self.fault.file)?;
        check_relative(at, "fault.with", &self.fault.with)
    }
    fn target(&self) -> String {
        format!(
            "--target {} passes, and fails with {} swapped in",
            self.target, self.fault.file
        )
    }
    /// Builds the test target as it is, then with the fault swapped in.
    async fn probe(
        &self,
        goal: &Goal,
        probe: &mut Probe<'_>,
    ) -> Result<Option<ProbeOutcome>, CheckerError> {
        let (target, fault) = (&self.target, &self.fault);
        let faulty = probe.read(goal, "fault.with", &fault.with)?;
        probe.note(
            goal,
            &format!(
                "building --target {target}, then again with {} swapped in",
                fault.file
            ),
        );
        let clean = Plan {
            target: Some(target.clone()),
            tag_suffix: Some("test".into()),
            ..Plan::default()
        };
        let clean_result = probe.builder.build(&clean).await;
        probe.remove(&probe.builder.tag(&clean)).await;
        let broken = Plan {
            target: Some(target.clone()),
            replacements: BTreeMap::from([(fault.file.clone(), faulty)]),
            tag_suffix: Some("test-fault".into()),
            ..Plan::default()
        };
        let fault_result = probe.builder.build(&broken).await;
        probe.remove(&probe.builder.tag(&broken)).await;
        let (clean_passed, clean_error) = match clean_result {
            Ok(_) => (true, None),
            Err(e @ (CheckerError::BuildFailed { .. } | CheckerError::Dockerfile { .. })) => {
                (false, Some(first_line(&e.to_string())))
            }
            Err(e) => return Err(e),
        };
        let (fault_failed, fault_step) = match fault_result {
            Ok(_) => (false, None),
            Err(CheckerError::BuildFailed { step, .. }) => (true, Some(step)),
            Err(CheckerError::Dockerfile { .. }) => (false, None),
            Err(e) => return Err(e),
        };
        Ok(Some(ProbeOutcome::TestStage {
            clean_passed,
            clean_error,
            fault_failed,
            fault_step,
        }))
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        let target = self.target();
        let Some(ProbeOutcome::TestStage {
            clean_passed,
            clean_error,
            fault_failed,
            fault_step,
        }) = m.probes.get(&goal.id)
        else {
            return Verdict::new(goal, false, "not measured".into(), target);
        };
        let measured = match (clean_passed, fault_failed) {
            (true, true) => format!(
                "passes; with the fault it fails at {}",
                fault_step.as_deref().unwrap_or("a step")
            ),
            (true, false) => {
                "passes, and still passes with the fault: the tests do not run".to_string()
            }
            (false, _) => "--target build fails on the code as it is".to_string(),
        };
        let v = Verdict::new(goal, *clean_passed && *fault_failed, measured, target);
        match clean_error {
            Some(e) if !clean_passed => v.detail(e.clone()),
            _ => v,
        }
    }
}

#[cfg(test)]
mod judging {
    use crate::facts::ProbeOutcome;
    use crate::goals::verdict::testing::{goal, evaluate_goal, measured};
    use crate::goals::{GoalKind};

    #[test]
    fn a_test_stage_must_pass_clean_and_fail_with_the_fault() {
        let g = goal(
            "tests",
            GoalKind::TestStage(crate::goals::test_stage::TestStage {
                target: "test".into(),
                fault: crate::goals::test_stage::Fault {
                    file: "a.c".into(),
                    with: "faults/a.c".into(),
                },
            }),
        );
        let mut m = measured();
        let probe = |clean_passed, fault_failed| ProbeOutcome::TestStage {
            clean_passed,
            clean_error: (!clean_passed).then(|| "no stage named `test`".to_string()),
            fault_failed,
            fault_step: fault_failed.then(|| "[test 3/3] RUN make check".to_string()),
        };
        m.probes.insert("tests".into(), probe(true, true));
        assert!(evaluate_goal(&g, &m).met);
        m.probes.insert("tests".into(), probe(true, false));
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert!(v.measured.contains("the tests do not run"));
        m.probes.insert("tests".into(), probe(false, true));
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert_eq!(v.detail.as_deref(), Some("no stage named `test`"));
    }
}
