//! `relative-size`: the final image is at most `max_percent` % of the starter's image.

use serde::{Deserialize, Serialize};

use super::settings::check_positive;
use super::{Goal, Kind, Verdict};
use crate::facts::{format_mb, Measurements};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RelativeSize {
    pub max_percent: f64,
}

impl Kind for RelativeSize {
    fn validate(&self, at: &str) -> Result<(), String> {
        check_positive(at, "max_percent", self.max_percent)
    }
    fn target(&self) -> String {
        format!("≤ {} %", self.max_percent)
    }
    fn threshold(&self) -> Option<String> {
        Some(format!("{} %", self.max_percent))
    }
    fn needs_starter_size(&self) -> bool {
        true
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        match m.starter_size {
            Some(starter) if starter > 0 => {
                let percent = 100.0 * m.image_size as f64 / starter as f64;
                Verdict::new(
                    goal,
                    percent <= self.max_percent,
                    format!("{percent:.1} % of the starter's {}", format_mb(starter)),
                    self.target(),
                )
                .values(percent, self.max_percent)
            }
            _ => Verdict::new(goal, false, "not measured".into(), self.target())
                .detail("the starter's image size is unknown (its build failed?)"),
        }
    }
}

#[cfg(test)]
mod judging {
    use crate::goals::verdict::testing::{goal, evaluate_goal, measured};
    use crate::goals::{GoalKind};

    #[test]
    fn relative_size_against_the_starter() {
        let mut m = measured();
        m.image_size = 800_000;
        m.starter_size = Some(646_000_000);
        let v = evaluate_goal(
            &goal(
                "rel",
                GoalKind::RelativeSize(crate::goals::relative_size::RelativeSize {
                    max_percent: 5.0,
                }),
            ),
            &m,
        );
        assert!(v.met, "{v:?}");
        assert!(
            v.measured.starts_with("0.1 % of the starter's 646.0 MB"),
            "{}",
            v.measured
        );
        m.starter_size = None;
        assert!(
            !evaluate_goal(
                &goal(
                    "rel",
                    GoalKind::RelativeSize(crate::goals::relative_size::RelativeSize {
                        max_percent: 5.0
                    })
                ),
                &m
            )
            .met
        );
        m.starter_size = Some(1_000_000);
        assert!(
            !evaluate_goal(
                &goal(
                    "rel",
                    GoalKind::RelativeSize(crate::goals::relative_size::RelativeSize {
                        max_percent: 5.0
                    })
                ),
                &m
            )
            .met
        );
    }
}
