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

#[cfg(test)]
mod judging {
    use crate::goals::verdict::testing::{goal, evaluate_goal, measured};
    use crate::goals::{GoalKind};

    #[test]
    fn paths_absent_and_present() {
        let mut m = measured();
        m.paths.insert("/usr/bin/gcc".into(), true);
        m.paths.insert("/usr/bin/cc".into(), false);
        m.paths.insert("/hello".into(), true);
        let absent = goal(
            "tools",
            GoalKind::PathsAbsent(crate::goals::paths_absent::PathsAbsent {
                paths: vec!["/usr/bin/gcc".into(), "/usr/bin/cc".into()],
            }),
        );
        let v = evaluate_goal(&absent, &m);
        assert!(!v.met);
        assert_eq!(v.measured, "present: /usr/bin/gcc");
        m.paths.insert("/usr/bin/gcc".into(), false);
        assert!(evaluate_goal(&absent, &m).met);
        let present = goal(
            "bin",
            GoalKind::PathsPresent(crate::goals::paths_present::PathsPresent {
                paths: vec!["/hello".into(), "/etc/app.conf".into()],
            }),
        );
        let v = evaluate_goal(&present, &m);
        assert!(!v.met, "an unmeasured path counts as missing");
        assert_eq!(v.measured, "missing: /etc/app.conf");
    }
}
