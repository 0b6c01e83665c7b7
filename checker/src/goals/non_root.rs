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

#[cfg(test)]
mod judging {
    use crate::facts::user::ResolvedUser;
    use crate::goals::verdict::testing::{goal, evaluate_goal, measured};
    use crate::goals::{GoalKind};

    #[test]
    fn non_root_reasons() {
        let g = goal(
            "non-root",
            GoalKind::NonRoot(crate::goals::non_root::NonRoot {}),
        );
        let mut m = measured();
        assert!(!evaluate_goal(&g, &m).met, "unmeasured is not met");
        m.user = Some(ResolvedUser::NoUser);
        m.users_outside_target = vec![("build".into(), "10001".into(), 4)];
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert!(v.detail.unwrap().contains("stage `build` (line 4)"));
        m.user = Some(ResolvedUser::NonRoot {
            uid: 10001,
            written: "10001:10001".into(),
            gid: Some(10001),
        });
        let v = evaluate_goal(&g, &m);
        assert!(v.met);
        assert_eq!(v.measured, "`10001:10001` = uid 10001");
    }
}
