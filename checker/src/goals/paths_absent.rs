//! `paths-absent`: none of these paths exists in the final image.

use serde::{Deserialize, Serialize};

use super::{Goal, Kind, Verdict};
use crate::facts::Measurements;

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PathsAbsent {
    pub paths: Vec<String>,
}

/// Both path goals: at least one path, each absolute.
pub(super) fn check_paths(at: &str, paths: &[String]) -> Result<(), String> {
    if paths.is_empty() {
        return Err(format!("{at}: `paths` must list at least one path"));
    }
    if let Some(p) = paths.iter().find(|p| !p.starts_with('/')) {
        return Err(format!("{at}: path `{p}` must be absolute"));
    }
    Ok(())
}

impl Kind for PathsAbsent {
    fn validate(&self, at: &str) -> Result<(), String> {
        check_paths(at, &self.paths)
    }
    fn target(&self) -> String {
        format!("absent: {}", self.paths.join(", "))
    }
    fn paths(&self) -> &[String] {
        &self.paths
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        let present: Vec<&str> = self
            .paths
            .iter()
            .filter(|p| m.paths.get(*p).copied().unwrap_or(true))
            .map(String::as_str)
            .collect();
        let measured = if present.is_empty() {
            "all absent".to_string()
        } else {
            format!("present: {}", present.join(", "))
        };
        let v = Verdict::new(goal, present.is_empty(), measured, self.target());
        if present.is_empty() {
            v
        } else {
            v.detail("build tools belong in a build stage; copy only the result into the final image")
        }
    }
}
