//! `build-arg`: the ARG `name`, declared before the first FROM, has a pinned default (not
//! empty, not `latest`), the image also builds with `--build-arg name=<alternate>` and passes
//! the exercise's run and http goals, and the value really changes what it `changes`: the
//! final image's base (`base`: it no longer starts with the default build's base layers) or
//! the app's output (`output`: a run or http goal's output shows the alternate value).
//! When the app fails, the verdict names the global ARGs a stage uses without declaring them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::probe::first_line;
use super::probe::Plan;
use super::verdict::undeclared_args_hint;
use super::{judge, run_apps, Goal, Kind, Probe, Verdict};
use crate::docker::dockerfile::{Base, StageGraph};
use crate::docker::api::EngineApi;
use crate::error::CheckerError;
use crate::facts::{AppOutcome, AlternateBase, Measurements, ProbeOutcome};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BuildArg {
    pub name: String,
    pub alternate: String,
    /// What the alternate value must change.
    pub changes: Changes,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Changes {
    /// The final image's base layers.
    Base,
    /// What the app prints or answers (run and http goals).
    Output,
}

impl Kind for BuildArg {
    fn validate(&self, at: &str) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err(format!("{at}: `name` must name an ARG"));
        }
        if self.alternate.trim().is_empty() {
            return Err(format!("{at}: `alternate` must be a value other than the default"));
        }
        Ok(())
    }
    fn target(&self) -> String {
        let (name, alternate) = (&self.name, &self.alternate);
        let changes = match self.changes {
            Changes::Base => "its base image",
            Changes::Output => "the app's output",
        };
        format!("ARG {name} pinned before FROM; builds and works with {name}={alternate}, which changes {changes}")
    }
    /// Reads the ARG's default, builds with the alternate value, runs the app goals on it and
    /// compares its base layers with the default build's.
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
        let result = probe.builder.build(&plan).await;
        let (build_error, apps, base) = match &result {
            Ok(built) => {
                let apps = run_apps(probe.engine, probe.goals, &tag, probe.labels).await?;
                let base = match self.changes {
                    Changes::Base => {
                        Some(base_layers(probe.engine, probe.graph, &tag, &built.graph).await?)
                    }
                    Changes::Output => None,
                };
                (None, apps, base)
            }
            Err(
                e @ (CheckerError::BuildFailed { .. }
                | CheckerError::MissingBaseImage { .. }
                | CheckerError::Dockerfile { .. }),
            ) => (Some(first_line(&e.to_string())), BTreeMap::new(), None),
            Err(_) => return result.map(|_| None),
        };
        probe.discard(&plan, &result).await;
        Ok(Some(ProbeOutcome::BuildArg {
            default,
            build_error,
            apps,
            base,
        }))
    }
    fn judge(&self, goal: &Goal, all: &[Goal], m: &Measurements) -> Verdict {
        let Some(ProbeOutcome::BuildArg {
            default,
            build_error,
            apps,
            base,
        }) = m.probes.get(&goal.id)
        else {
            return Verdict::new(goal, false, "not measured".into(), self.target());
        };
        let (name, alternate) = (&self.name, &self.alternate);
        let target = self.target();
        let undeclared = &m.undeclared_args;
        if let Some(problem) = self.pin_problem(default.as_deref()) {
            return Verdict::new(goal, false, problem, target);
        }
        let default = default.as_deref().unwrap_or_default();
        if let Some(e) = build_error {
            let measured = format!("default `{default}`; the build with {name}={alternate} fails");
            return Verdict::new(goal, false, measured, target).detail(e.clone());
        }
        let failures = app_failures(all, apps);
        if !failures.is_empty() {
            let measured = format!("default `{default}`; with {name}={alternate} the app fails");
            let mut detail = failures.join("; ");
            if let Some(hint) = undeclared_args_hint(undeclared) {
                detail.push_str(&format!(". {hint}"));
            }
            return Verdict::new(goal, false, measured, target).detail(detail);
        }
        match (self.changes, base) {
            (Changes::Base, Some(base)) if base.kept => {
                let measured = format!(
                    "default `{default}`; with {name}={alternate} the image is still built on {}",
                    base.default_base
                );
                return Verdict::new(goal, false, measured, target).detail(format!(
                    "its first {} layers are still {}'s: the value changes what the app is told, not what it runs on. Use the ARG in the final stage's FROM line (FROM …:${{{name}}}), declared before the first FROM",
                    base.layers, base.default_base
                ));
            }
            (Changes::Base, None) => {
                return Verdict::new(goal, false, "not measured".into(), target);
            }
            _ => {}
        }
        if self.changes == Changes::Output && !shows(all, apps, alternate) {
            let measured = format!(
                "default `{default}`; with {name}={alternate} the app never shows `{alternate}`"
            );
            let mut detail = format!(
                "the value never reaches the program: it still prints {}. Use ${{{name}}} where the value is set, in a stage that declares ARG {name}",
                outputs(all, apps).join(", ")
            );
            if let Some(hint) = undeclared_args_hint(undeclared) {
                detail.push_str(&format!(". {hint}"));
            }
            return Verdict::new(goal, false, measured, target).detail(detail);
        }
        let measured = format!("default `{default}`; {name}={alternate} builds and works");
        Verdict::new(goal, true, measured, target)
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
}

/// The image the final stage of `graph` is built on, through the stages it is built FROM
/// (None: scratch).
fn root_image(graph: &StageGraph) -> Option<String> {
    let mut base = &graph.stages[graph.target].base;
    loop {
        match base {
            Base::Stage(i) => base = &graph.stages[*i].base,
            Base::Image(image) => return Some(image.clone()),
            Base::Scratch => return None,
        }
    }
}

/// Whether the alternate image (`tag`, built from `alternate`) still sits on the default
/// build's base: its layers start with that base image's.
async fn base_layers(
    engine: &dyn EngineApi,
    default: &StageGraph,
    tag: &str,
    alternate: &StageGraph,
) -> Result<AlternateBase, CheckerError> {
    let Some(default_base) = root_image(default) else {
        // Built FROM scratch by default: only another FROM tells the bases apart.
        return Ok(AlternateBase {
            default_base: "scratch".into(),
            layers: 0,
            kept: root_image(alternate).is_none(),
        });
    };
    let base = engine.diff_ids(&default_base).await?;
    let image = engine.diff_ids(tag).await?;
    Ok(AlternateBase {
        layers: base.len(),
        kept: image.starts_with(&base),
        default_base,
    })
}

/// The app goals (run, http) of the exercise.
fn app_goals(all: &[Goal]) -> impl Iterator<Item = &Goal> {
    all.iter().filter(|g| g.kind.has_app())
}

/// What the app printed or answered, per app goal.
fn output(outcome: &AppOutcome) -> &str {
    match outcome {
        AppOutcome::Exited { stdout, .. } | AppOutcome::TimedOut { stdout, .. } => stdout,
        AppOutcome::Answered { body, .. } => body,
        AppOutcome::NeverAnswered { logs, .. } => logs,
        AppOutcome::FailedToStart { message } => message,
    }
}

/// Whether an app goal's output on the alternate image shows `value`.
fn shows(all: &[Goal], apps: &BTreeMap<String, AppOutcome>, value: &str) -> bool {
    app_goals(all)
        .filter_map(|g| apps.get(&g.id))
        .any(|o| output(o).contains(value))
}

fn outputs(all: &[Goal], apps: &BTreeMap<String, AppOutcome>) -> Vec<String> {
    app_goals(all)
        .filter_map(|g| apps.get(&g.id))
        .map(|o| super::verdict::quote_tail(output(o)))
        .collect()
}

/// The app goals, judged on the alternate image exactly as on the main one.
fn app_failures(all: &[Goal], apps: &BTreeMap<String, AppOutcome>) -> Vec<String> {
    let alternate_measurements = Measurements {
        apps: apps.clone(),
        ..Default::default()
    };
    app_goals(all)
        .map(|g| judge(g, all, &alternate_measurements))
        .filter(|v| !v.met)
        .map(|v| format!("{}: {}", v.id, v.measured))
        .collect()
}

#[cfg(test)]
mod judging {
    use crate::facts::{AppOutcome, AlternateBase, ProbeOutcome, UndeclaredArg};
    use crate::goals::build_arg::{BuildArg, Changes};
    use crate::goals::verdict::testing::{goal, measured};
    use crate::goals::{judge, Goal, GoalKind};
    use std::collections::BTreeMap;

    fn arg_goal(name: &str, alternate: &str, changes: Changes) -> Goal {
        goal(
            "alt",
            GoalKind::BuildArg(BuildArg {
                name: name.into(),
                alternate: alternate.into(),
                changes,
            }),
        )
    }

    fn runs() -> Goal {
        goal(
            "runs",
            GoalKind::Run(crate::goals::run::Run {
                command: None,
                exit_code: 0,
                stdout: Some("^ok".into()),
                timeout_s: 10,
                writable: false,
                capabilities: vec![],
                program: None,
            }),
        )
    }

    fn printed(exit_code: i64, stdout: &str) -> AppOutcome {
        AppOutcome::Exited {
            exit_code,
            stdout: stdout.into(),
            stderr: String::new(),
            seconds: 0.1,
            word: None,
        }
    }

    fn probe(
        default: Option<&str>,
        build_error: Option<&str>,
        app: AppOutcome,
        kept: Option<bool>,
    ) -> ProbeOutcome {
        ProbeOutcome::BuildArg {
            default: default.map(str::to_string),
            build_error: build_error.map(str::to_string),
            apps: BTreeMap::from([("runs".to_string(), app)]),
            base: kept.map(|kept| AlternateBase {
                default_base: "debian:bookworm".into(),
                layers: 1,
                kept,
            }),
        }
    }

    #[test]
    fn a_build_arg_must_be_pinned_and_the_alternate_must_work() {
        let arg = arg_goal("SUITE", "bookworm-slim", Changes::Base);
        let goals = vec![arg.clone(), runs()];
        let ok = printed(0, "ok");
        let mut m = measured();
        let mut judged = |outcome| {
            m.probes.insert("alt".into(), outcome);
            judge(&arg, &goals, &m)
        };
        let v = judged(probe(Some("bookworm"), None, ok.clone(), Some(false)));
        assert!(v.met, "{v:?}");
        assert_eq!(
            v.measured,
            "default `bookworm`; SUITE=bookworm-slim builds and works"
        );
        let v = judged(probe(Some("latest"), None, ok.clone(), Some(false)));
        assert!(v.measured.contains("not pinned"));
        let v = judged(probe(None, None, ok.clone(), Some(false)));
        assert_eq!(v.measured, "no ARG SUITE before the first FROM");
        assert!(!judged(probe(Some(""), None, ok.clone(), Some(false))).met);
        let v = judged(probe(
            Some("bookworm"),
            Some("the build failed at [2/2] RUN x"),
            ok,
            None,
        ));
        assert!(!v.met);
        assert_eq!(v.detail.as_deref(), Some("the build failed at [2/2] RUN x"));
        let v = judged(probe(Some("bookworm"), None, printed(127, ""), Some(false)));
        assert!(!v.met);
        assert!(v.detail.unwrap().starts_with("runs: exit 127"));
    }

    #[test]
    fn a_base_arg_whose_image_keeps_the_default_base_misses() {
        let arg = arg_goal("SUITE", "bookworm-slim", Changes::Base);
        let goals = vec![arg.clone(), runs()];
        let mut m = measured();
        m.probes.insert(
            "alt".into(),
            probe(Some("bookworm"), None, printed(0, "ok"), Some(true)),
        );
        let v = judge(&arg, &goals, &m);
        assert!(!v.met, "the app works, but the base never changed");
        assert_eq!(
            v.measured,
            "default `bookworm`; with SUITE=bookworm-slim the image is still built on debian:bookworm"
        );
        assert!(
            v.detail.unwrap().contains("Use the ARG in the final stage's FROM line (FROM …:${SUITE})")
        );
    }

    #[test]
    fn an_output_arg_must_show_in_the_output() {
        let arg = arg_goal("VERSION", "2.0.0-rc1", Changes::Output);
        let goals = vec![arg.clone(), runs()];
        let mut m = measured();
        m.probes.insert(
            "alt".into(),
            probe(Some("1.4.2"), None, printed(0, "ok 1.4.2\n"), None),
        );
        let v = judge(&arg, &goals, &m);
        assert!(!v.met, "a hard-coded version still prints the default");
        assert_eq!(
            v.measured,
            "default `1.4.2`; with VERSION=2.0.0-rc1 the app never shows `2.0.0-rc1`"
        );
        assert!(v.detail.unwrap().contains(r#"it still prints "ok 1.4.2""#));
        m.probes.insert(
            "alt".into(),
            probe(Some("1.4.2"), None, printed(0, "ok 2.0.0-rc1\n"), None),
        );
        assert!(judge(&arg, &goals, &m).met);
    }

    #[test]
    fn an_app_failure_names_the_arg_a_stage_never_declared() {
        let arg = arg_goal("SUITE", "bookworm-slim", Changes::Base);
        let goals = vec![arg.clone(), runs()];
        let mut m = measured();
        let outcome = probe(Some("bookworm"), None, printed(1, "version empty"), Some(false));
        m.undeclared_args.push(UndeclaredArg {
            stage: "build".into(),
            name: "APP_VERSION".into(),
            line: 27,
        });
        m.probes.insert("alt".into(), outcome);
        let detail = judge(&arg, &goals, &m).detail.unwrap();
        assert!(
            detail.ends_with(
                "stage `build` uses $APP_VERSION (line 27) without declaring ARG APP_VERSION: a global ARG is empty inside a stage until the stage declares it again"
            ),
            "{detail}"
        );
    }
}
