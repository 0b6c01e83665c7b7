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
