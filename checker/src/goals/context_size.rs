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

#[cfg(test)]
mod judging {
    use crate::goals::verdict::testing::{goal, evaluate_goal, measured};
    use crate::goals::{GoalKind};

    #[test]
    fn context_size_and_forbidden_paths() {
        let g = goal(
            "ctx",
            GoalKind::ContextSize(crate::goals::context_size::ContextSize {
                max_mb: 1.0,
                forbidden: vec!["secrets".into(), "api.key".into()],
            }),
        );
        let mut m = measured();
        m.context_bytes = 300_000;
        m.context_files = 2;
        m.context_paths = ["main.go".to_string(), "go.mod".to_string()].into();
        let v = evaluate_goal(&g, &m);
        assert!(v.met, "{v:?}");
        assert_eq!(v.measured, "0.30 MB in 2 files");
        m.context_paths.insert("secrets/token".into());
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert!(v.detail.unwrap().contains("secrets"));
        m.context_paths.remove("secrets/token");
        m.context_paths.insert("secretsafe.txt".into());
        assert!(
            evaluate_goal(&g, &m).met,
            "a prefix of a name is not the folder"
        );
        m.context_bytes = 80_000_000;
        assert!(!evaluate_goal(&g, &m).met);
    }
}
