//! `build-arg`: the ARG `name`, declared before the first FROM, has a pinned default (not
//! empty, not `latest`), and the image also builds with `--build-arg name=<alternate>` and
//! passes the exercise's run and http goals.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::probe::first_line;
use super::{judge, run_apps, Goal, GoalKind, Kind, Probe, Verdict};
use super::probe::Plan;
use crate::error::CheckerError;
use crate::facts::{AppOutcome, Measurements, ProbeOutcome};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BuildArg {
    pub name: String,
    pub alternate: String,
}

impl Kind for BuildArg {
    fn validate(&self, at: &str) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err(format!("{at}: `name` must name an ARG"));
        }
        Ok(())
    }
    fn target(&self) -> String {
        let (name, alternate) = (&self.name, &self.alternate);
        format!("ARG {name} pinned before FROM; builds and works with {name}={alternate}")
    }
    /// Reads the ARG's default, builds with the alternate value and runs the app goals on it.
    async fn probe(
        &self,
        goal: &Goal,
        probe: &mut Probe<'_>,
    ) -> Result<Option<ProbeOutcome>, CheckerError> {
        let (name, alternate) = (&self.name, &self.alternate);
        let default = probe
            .graph
            .global_args
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| d.clone().unwrap_or_default());
        probe.note(goal, &format!("building with --build-arg {name}={alternate}"));
        let plan = Plan {
            build_args: BTreeMap::from([(name.clone(), alternate.clone())]),
            tag_suffix: Some("alternate".into()),
            ..Plan::default()
        };
        let tag = probe.builder.tag(&plan);
        let (build_error, apps) = match probe.builder.build(&plan).await {
            Ok(_) => (
                None,
                run_apps(probe.engine, probe.goals, &tag, probe.labels).await?,
            ),
            Err(
                e @ (CheckerError::BuildFailed { .. }
                | CheckerError::MissingBaseImage { .. }
                | CheckerError::Dockerfile { .. }),
            ) => (Some(first_line(&e.to_string())), BTreeMap::new()),
            Err(e) => return Err(e),
        };
        probe.remove(&tag).await;
        Ok(Some(ProbeOutcome::BuildArg {
            default,
            build_error,
            apps,
        }))
    }
    fn judge(&self, goal: &Goal, all: &[Goal], m: &Measurements) -> Verdict {
        let Some(ProbeOutcome::BuildArg {
            default,
            build_error,
            apps,
        }) = m.probes.get(&goal.id)
        else {
            return Verdict::new(goal, false, "not measured".into(), self.target());
        };
        let pin_problem = self.pin_problem(default.as_deref());
        let app_failures = app_failures(all, apps);
        let measured = self.measured(default.as_deref(), &pin_problem, build_error, &app_failures);
        let met = pin_problem.is_none() && build_error.is_none() && app_failures.is_empty();
        let v = Verdict::new(goal, met, measured, self.target());
        match (build_error, app_failures.is_empty()) {
            (Some(e), _) => v.detail(e.clone()),
            (None, false) => v.detail(app_failures.join("; ")),
            _ => v,
        }
    }
}

impl BuildArg {
    /// What is wrong with the ARG's default (None: it is not declared before FROM).
    fn pin_problem(&self, default: Option<&str>) -> Option<String> {
        let name = &self.name;
        match default {
            None => Some(format!("no ARG {name} before the first FROM")),
            Some("") => Some(format!("ARG {name} has no default")),
            Some(d) if d == "latest" || d.ends_with(":latest") => {
                Some(format!("ARG {name} defaults to `{d}`, which is not pinned"))
            }
            Some(_) => None,
        }
    }

    fn measured(
        &self,
        default: Option<&str>,
        pin_problem: &Option<String>,
        build_error: &Option<String>,
        app_failures: &[String],
    ) -> String {
        let (name, alternate) = (&self.name, &self.alternate);
        let default = default.unwrap_or("");
        match (pin_problem, build_error) {
            (Some(p), _) => p.clone(),
            (None, Some(_)) => {
                format!("default `{default}`; the build with {name}={alternate} fails")
            }
            (None, None) if !app_failures.is_empty() => {
                format!("default `{default}`; with {name}={alternate} the app fails")
            }
            (None, None) => format!("default `{default}`; {name}={alternate} builds and works"),
        }
    }
}

/// The app goals, judged on the alternate image exactly as on the main one.
fn app_failures(all: &[Goal], apps: &BTreeMap<String, AppOutcome>) -> Vec<String> {
    let alternate_measurements = Measurements {
        apps: apps.clone(),
        ..Default::default()
    };
    all.iter()
        .filter(|g| matches!(g.kind, GoalKind::Run(_) | GoalKind::Http(_)))
        .map(|g| judge(g, all, &alternate_measurements))
        .filter(|v| !v.met)
        .map(|v| format!("{}: {}", v.id, v.measured))
        .collect()
}

#[cfg(test)]
mod judging {
    use crate::facts::AppOutcome;
    use crate::facts::ProbeOutcome;
    use crate::goals::verdict::testing::{goal, measured};
    use crate::goals::{GoalKind, judge};
    use std::collections::BTreeMap;

    #[test]
    fn a_build_arg_must_be_pinned_and_the_alternate_must_work() {
        let arg = goal(
            "alt",
            GoalKind::BuildArg(crate::goals::build_arg::BuildArg {
                name: "SUITE".into(),
                alternate: "bookworm-slim".into(),
            }),
        );
        let runs = goal(
            "runs",
            GoalKind::Run(crate::goals::run::Run {
                command: None,
                exit_code: 0,
                stdout: Some("^ok".into()),
                timeout_s: 10,
                writable: false,
                capabilities: vec![],
            }),
        );
        let goals = vec![arg.clone(), runs];
        let ok = AppOutcome::Exited {
            exit_code: 0,
            stdout: "ok".into(),
            stderr: String::new(),
            seconds: 0.1,
        };
        let probe = |default: Option<&str>, build_error: Option<&str>, app: AppOutcome| {
            ProbeOutcome::BuildArg {
                default: default.map(str::to_string),
                build_error: build_error.map(str::to_string),
                apps: BTreeMap::from([("runs".to_string(), app)]),
            }
        };
        let mut m = measured();
        m.probes
            .insert("alt".into(), probe(Some("bookworm"), None, ok.clone()));
        let v = judge(&arg, &goals, &m);
        assert!(v.met, "{v:?}");
        assert_eq!(
            v.measured,
            "default `bookworm`; SUITE=bookworm-slim builds and works"
        );
        m.probes
            .insert("alt".into(), probe(Some("latest"), None, ok.clone()));
        assert!(judge(&arg, &goals, &m).measured.contains("not pinned"));
        m.probes.insert("alt".into(), probe(None, None, ok.clone()));
        assert_eq!(
            judge(&arg, &goals, &m).measured,
            "no ARG SUITE before the first FROM"
        );
        m.probes
            .insert("alt".into(), probe(Some(""), None, ok.clone()));
        assert!(!judge(&arg, &goals, &m).met);
        m.probes.insert(
            "alt".into(),
            probe(
                Some("bookworm"),
                Some("the build failed at [2/2] RUN x"),
                ok,
            ),
        );
        let v = judge(&arg, &goals, &m);
        assert!(!v.met);
        assert_eq!(v.detail.as_deref(), Some("the build failed at [2/2] RUN x"));
        let broken = AppOutcome::Exited {
            exit_code: 127,
            stdout: String::new(),
            stderr: "not found".into(),
            seconds: 0.1,
        };
        m.probes
            .insert("alt".into(), probe(Some("bookworm"), None, broken));
        let v = judge(&arg, &goals, &m);
        assert!(!v.met);
        assert!(v.detail.unwrap().starts_with("runs: exit 127"));
    }
}
