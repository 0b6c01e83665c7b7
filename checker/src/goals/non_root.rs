//! `non-root`: the final image's user resolves to a uid other than 0.

use serde::{Deserialize, Serialize};

use super::{Goal, Kind, Verdict};
use crate::facts::Measurements;

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NonRoot {}

impl Kind for NonRoot {
    fn target(&self) -> String {
        "uid ≠ 0".into()
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        let Some(user) = &m.user else {
            return Verdict::new(goal, false, "not measured".into(), self.target());
        };
        let v = Verdict::new(goal, user.is_non_root(), user.describe(), self.target());
        match (user.is_non_root(), m.users_outside_target.first()) {
            (false, Some((stage, u, line))) => v.detail(format!(
                "USER {u} is set in stage `{stage}` (line {line}), which does not end up in the final image: set USER in the final stage"
            )),
            _ => v,
        }
    }
}
