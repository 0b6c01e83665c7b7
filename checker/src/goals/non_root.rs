//! `non-root`: the final image's user resolves to a uid other than 0 (exactly as Docker
//! resolves it, see `facts::user`), the app's processes really run as that uid when it
//! runs (`docker top` on a served app), and nothing the Dockerfile adds raises whoever runs
//! it back to root (a setuid or setgid root file, file capabilities).

use serde::{Deserialize, Serialize};

use super::{Goal, Kind, Verdict};
use crate::facts::inventory::LayerSource;
use crate::facts::{AppOutcome, Measurements};

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
        if !user.is_non_root() {
            let v = Verdict::new(goal, false, user.describe(), self.target());
            return match m.users_outside_target.first() {
                Some((stage, u, line)) => v.detail(format!(
                    "USER {u} is set in stage `{stage}` (line {line}), which does not end up in the final image: set USER in the final stage"
                )),
                None => v,
            };
        }
        if let Some((goal_id, uid)) = root_process(m) {
            return Verdict::new(
                goal,
                false,
                format!("{}, yet the app ran as uid {uid}", user.describe()),
                self.target(),
            )
            .detail(format!(
                "`{goal_id}`'s container had a process of uid {uid} (docker top): the image's user does not hold once it runs"
            ));
        }
        if let Some((file, how)) = raising_file(m) {
            return Verdict::new(
                goal,
                false,
                format!("{}, but {file} is {how}", user.describe()),
                self.target(),
            )
            .detail(format!(
                "whoever runs {file} gets root's powers ({how}), whatever USER says; Docker's default sandbox lets it. Remove the bit or the capability (chmod u-s,g-s; setcap -r), or leave the file out"
            ));
        }
        Verdict::new(goal, true, user.describe(), self.target())
    }
}

/// An app goal whose container had a process running as root.
fn root_process(m: &Measurements) -> Option<(&str, u32)> {
    m.apps.iter().find_map(|(id, outcome)| match outcome {
        AppOutcome::Answered { uids, .. } => uids.contains(&0).then_some((id.as_str(), 0)),
        _ => None,
    })
}

/// A file the Dockerfile's own layers put in the image that raises whoever runs it to root:
/// setuid or setgid root, or capabilities beyond binding low ports. The base image's own
/// (Debian's `su`, `passwd`, `mount`) are the base's choice, not the learner's.
fn raising_file(m: &Measurements) -> Option<(&str, &str)> {
    let inventory = m.inventory.as_ref()?;
    inventory.files.iter().find_map(|f| {
        let how = f.raises.as_deref()?;
        let own = !matches!(inventory.layer(f.layer), Some(LayerSource::Base { .. }));
        own.then_some((f.path.as_str(), how))
    })
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

    #[test]
    fn root_by_another_route_misses() {
        use crate::facts::inventory::{Content, FileOrigin, Inventory, LayerOrigin, LayerSource};
        use crate::facts::AppOutcome;
        let g = goal(
            "non-root",
            GoalKind::NonRoot(crate::goals::non_root::NonRoot {}),
        );
        let mut m = measured();
        m.user = Some(ResolvedUser::NonRoot {
            uid: 10001,
            written: "10001".into(),
            gid: Some(0),
        });
        assert!(evaluate_goal(&g, &m).met);
        // The app's process was root when it answered (a passwd quirk, a setuid entrypoint).
        m.apps.insert(
            "serves".into(),
            AppOutcome::Answered {
                status: 200,
                body: "ok".into(),
                seconds: 0.2,
                uids: vec![0, 10001],
            },
        );
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert_eq!(v.measured, "uid 10001, yet the app ran as uid 0");
        m.apps.clear();
        // A setuid root file of the Dockerfile's: missed. The base image's own: its choice.
        let file = |layer: usize| FileOrigin {
            path: "/usr/local/bin/app".into(),
            size: 10,
            layer,
            content: Content::Built,
            elf: true,
            raises: Some("setuid root".into()),
        };
        m.inventory = Some(Inventory {
            layers: vec![
                LayerOrigin {
                    position: 1,
                    source: LayerSource::Base {
                        image: "debian:bookworm-slim".into(),
                    },
                },
                LayerOrigin {
                    position: 2,
                    source: LayerSource::Instruction {
                        stage: "stage-1".into(),
                        line: 7,
                        keyword: "RUN".into(),
                        text: "RUN chmod 4755 /usr/local/bin/app".into(),
                        from: None,
                    },
                },
            ],
            files: vec![file(1)],
            ..Inventory::default()
        });
        assert!(evaluate_goal(&g, &m).met, "the base's own su and passwd are the base's");
        m.inventory.as_mut().unwrap().files = vec![file(2)];
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert_eq!(v.measured, "uid 10001, but /usr/local/bin/app is setuid root");
    }
}
