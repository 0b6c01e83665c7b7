//! `stages`: the Dockerfile has at least `min_stages` stages and the final stage depends on
//! at least `min_final_depends_on` other stages (directly or through other stages) that do
//! work for it: a stage counts when it runs something (RUN, or ADD of remote content) or
//! builds on a stage that does. A `FROM scratch AS dummy` with a COPY from the context
//! splits nothing: the work still happens in the final stage.

use serde::{Deserialize, Serialize};

use super::{Goal, Kind, Verdict};
use crate::facts::Measurements;

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Stages {
    #[serde(default)]
    pub min_stages: Option<usize>,
    #[serde(default)]
    pub min_final_depends_on: Option<usize>,
}

impl Kind for Stages {
    fn validate(&self, at: &str) -> Result<(), String> {
        if self.min_stages.is_none() && self.min_final_depends_on.is_none() {
            return Err(format!(
                "{at}: set `min_stages`, `min_final_depends_on` or both"
            ));
        }
        Ok(())
    }
    fn target(&self) -> String {
        let mut target = Vec::new();
        if let Some(n) = self.min_stages {
            target.push(format!("≥ {n} stages"));
        }
        if let Some(n) = self.min_final_depends_on {
            target.push(format!("final stage depends on ≥ {n}"));
        }
        target.join(", ")
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        let stages_ok = self.min_stages.is_none_or(|n| m.stage_count >= n);
        let working = m.final_depends_on.saturating_sub(m.idle_dependencies.len());
        let deps_ok = self.min_final_depends_on.is_none_or(|n| working >= n);
        let v = Verdict::new(
            goal,
            stages_ok && deps_ok,
            format!(
                "{} stage{}, final stage depends on {}{}",
                m.stage_count,
                if m.stage_count == 1 { "" } else { "s" },
                m.final_depends_on,
                if m.idle_dependencies.is_empty() {
                    String::new()
                } else {
                    format!(" ({} of them idle: {})", m.idle_dependencies.len(), m.idle_dependencies.join(", "))
                }
            ),
            self.target(),
        );
        match (stages_ok, deps_ok) {
            (true, true) => v,
            (false, _) => v.detail(
                "build in one stage, then start a fresh FROM and COPY --from only what runs",
            ),
            (true, false) if !m.idle_dependencies.is_empty() => v.detail(format!(
                "stage {} runs nothing: the final stage must COPY --from a stage whose RUN built what it copies (compile, install, generate there), not files passed through from the context",
                m.idle_dependencies.join(", ")
            )),
            (true, false) => v.detail("the final stage copies nothing from the other stages"),
        }
    }
}

#[cfg(test)]
mod judging {
    use crate::goals::verdict::testing::{goal, evaluate_goal, measured};
    use crate::goals::{GoalKind};

    #[test]
    fn stages_both_counts() {
        let kind = GoalKind::Stages(crate::goals::stages::Stages {
            min_stages: Some(2),
            min_final_depends_on: Some(1),
        });
        let mut m = measured();
        assert!(!evaluate_goal(&goal("stages", kind.clone()), &m).met);
        m.stage_count = 2;
        let v = evaluate_goal(&goal("stages", kind.clone()), &m);
        assert!(!v.met);
        assert!(v.detail.unwrap().contains("copies nothing"));
        m.final_depends_on = 1;
        let v = evaluate_goal(&goal("stages", kind.clone()), &m);
        assert!(v.met);
        assert_eq!(v.measured, "2 stages, final stage depends on 1");
        m.idle_dependencies = vec!["dummy".into()];
        let v = evaluate_goal(&goal("stages", kind), &m);
        assert!(!v.met, "a stage that runs nothing splits no work");
        assert_eq!(v.measured, "2 stages, final stage depends on 1 (1 of them idle: dummy)");
        assert!(v.detail.unwrap().starts_with("stage dummy runs nothing"));
    }
}
