//! `context-size`: the build context (after `.dockerignore`) is at most `max_mb` MB, and none
//! of the `forbidden` paths (relative to the exercise folder; a folder forbids what is in it)
//! is in it.

use serde::{Deserialize, Serialize};

use super::settings::check_positive;
use super::{Goal, Kind, Verdict};
use crate::facts::{format_mb, mb, Measurements};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ContextSize {
    pub max_mb: f64,
    #[serde(default)]
    pub forbidden: Vec<String>,
}

impl Kind for ContextSize {
    fn validate(&self, at: &str) -> Result<(), String> {
        check_positive(at, "max_mb", self.max_mb)
    }
    fn target(&self) -> String {
        let mut target = format!("≤ {} MB", self.max_mb);
        if !self.forbidden.is_empty() {
            target.push_str(&format!(", without {}", self.forbidden.join(", ")));
        }
        target
    }
    fn threshold(&self) -> Option<String> {
        Some(format!("{} MB", self.max_mb))
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        let size = mb(m.context_bytes);
        let leaked: Vec<&str> = self
            .forbidden
            .iter()
            .filter(|f| {
                let dir = format!("{}/", f.trim_end_matches('/'));
                m.context_paths
                    .iter()
                    .any(|p| p == *f || p.starts_with(&dir))
            })
            .map(String::as_str)
            .collect();
        let met = size <= self.max_mb && leaked.is_empty();
        let measured = format!(
            "{} in {} files",
            format_mb(m.context_bytes),
            m.context_files
        );
        let v = Verdict::new(goal, met, measured, self.target()).values(size, self.max_mb);
        if !leaked.is_empty() {
            v.detail(format!(
                "sent to the engine: {} — add it to .dockerignore",
                leaked.join(", ")
            ))
        } else if size > self.max_mb {
            v.detail("everything in the folder is sent to the engine unless .dockerignore excludes it")
        } else {
            v
        }
    }
}
