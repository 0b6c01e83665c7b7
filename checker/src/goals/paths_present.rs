//! `paths-present`: every one of these paths exists in the final image.

use serde::{Deserialize, Serialize};

use super::paths_absent::check_paths;
use super::{Goal, Kind, Verdict};
use crate::facts::Measurements;

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PathsPresent {
    pub paths: Vec<String>,
}

impl Kind for PathsPresent {
    fn validate(&self, at: &str) -> Result<(), String> {
        check_paths(at, &self.paths)
    }
    fn target(&self) -> String {
        format!("present: {}", self.paths.join(", "))
    }
    fn paths(&self) -> &[String] {
        &self.paths
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        let missing: Vec<&str> = self
            .paths
            .iter()
            .filter(|p| !m.paths.get(*p).copied().unwrap_or(false))
            .map(String::as_str)
            .collect();
        let measured = if missing.is_empty() {
            "all present".to_string()
        } else {
            format!("missing: {}", missing.join(", "))
        };
        Verdict::new(goal, missing.is_empty(), measured, self.target())
    }
}
