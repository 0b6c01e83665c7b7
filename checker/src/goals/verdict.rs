//! A verdict: one goal judged, what was measured against what, and why it was missed; with
//! the wording helpers the kinds share. Pure: the tests below judge every kind.

use serde::Serialize;

use super::Goal;
use crate::facts::{format_mb, Measurements};

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Verdict {
    pub id: String,
    pub kind: &'static str,
    pub met: bool,
    /// What was measured, for people ("412.3 MB", "uid 10001").
    pub measured: String,
    /// What the goal asks, for people ("≤ 40 MB").
    pub target: String,
    /// Numbers for machines, where the goal is numeric.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measured_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_value: Option<f64>,
    /// Why it failed, or what else is worth knowing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Verdict {
    pub fn new(goal: &Goal, met: bool, measured: String, target: String) -> Verdict {
        Verdict {
            id: goal.id.clone(),
            kind: goal.kind.name(),
            met,
            measured,
            target,
            measured_value: None,
            target_value: None,
            detail: None,
        }
    }
    pub fn values(mut self, measured: f64, target: f64) -> Verdict {
        self.measured_value = Some(measured);
        self.target_value = Some(target);
        self
    }
    pub fn detail(mut self, detail: impl Into<String>) -> Verdict {
        self.detail = Some(detail.into());
        self
    }
}

/// The last 200 characters, quoted on one line, so a flood of output stays readable.
pub fn quote_tail(s: &str) -> String {
    let trimmed = s.trim();
    let chars: Vec<char> = trimmed.chars().collect();
    let tail: String = if chars.len() > 200 {
        format!("…{}", chars[chars.len() - 200..].iter().collect::<String>())
    } else {
        trimmed.to_string()
    };
    format!("{:?}", tail)
}

pub fn biggest_layer_hint(m: &Measurements) -> String {
    match m.largest_layers.first() {
        Some(l) => format!(
            "{} of it is layer {}: {}",
            format_mb(l.size),
            l.position,
            shorten(&l.created_by, 100)
        ),
        None => String::new(),
    }
}

/// A layer's `created_by` as the Dockerfile line it came from: BuildKit writes
/// `RUN /bin/sh -c make # buildkit`, the classic builder `/bin/sh -c #(nop)  CMD …`; an
/// imported base image has none.
pub fn shorten(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.is_empty() {
        return "(base image)".into();
    }
    let s = s.strip_suffix("# buildkit").unwrap_or(s).trim_end();
    let owned;
    let s = match s.strip_prefix("RUN /bin/sh -c ") {
        Some(rest) => {
            owned = format!("RUN {rest}");
            owned.as_str()
        }
        None => s,
    };
    let s = s.strip_prefix("/bin/sh -c ").unwrap_or(s);
    let s = s.strip_prefix("#(nop) ").unwrap_or(s).trim();
    if s.chars().count() > max {
        format!("{}…", s.chars().take(max).collect::<String>())
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::user::ResolvedUser;
    use crate::facts::Layer;
    use crate::facts::{AppOutcome, ProbeOutcome};
    use crate::goals::*;
    use std::collections::BTreeMap;

    fn goal(id: &str, kind: GoalKind) -> Goal {
        Goal {
            id: id.into(),
            advice: None,
            kind,
        }
    }

    fn evaluate_goal(g: &Goal, m: &Measurements) -> Verdict {
        judge(g, std::slice::from_ref(g), m)
    }

    fn measured() -> Measurements {
        Measurements {
            image_size: 412_300_000,
            stage_count: 1,
            ..Default::default()
        }
    }

    #[test]
    fn image_size_names_the_biggest_layer_when_missed() {
        let mut m = measured();
        m.largest_layers = vec![Layer {
            position: 3,
            size: 380_000_000,
            created_by: "/bin/sh -c apt-get install -y golang-go".into(),
        }];
        let v = evaluate_goal(
            &goal(
                "size",
                GoalKind::ImageSize(crate::goals::image_size::ImageSize { max_mb: 40.0 }),
            ),
            &m,
        );
        assert!(!v.met);
        assert_eq!(v.measured, "412.3 MB");
        assert_eq!(v.target, "≤ 40 MB");
        assert_eq!(
            (v.measured_value, v.target_value),
            (Some(412.3), Some(40.0))
        );
        assert_eq!(
            v.detail.as_deref(),
            Some("380.0 MB of it is layer 3: apt-get install -y golang-go")
        );
        assert_eq!(
            shorten("RUN /bin/sh -c gcc -o /hello hello.c # buildkit", 100),
            "RUN gcc -o /hello hello.c"
        );
        assert_eq!(
            shorten("COPY /hello /hello # buildkit", 100),
            "COPY /hello /hello"
        );
        assert_eq!(shorten("", 100), "(base image)");
        assert_eq!(
            shorten("/bin/sh -c #(nop)  CMD [\"bash\"]", 100),
            "CMD [\"bash\"]"
        );
        assert_eq!(shorten("RUN make all", 4), "RUN …");
        m.image_size = 40_000_000;
        assert!(
            evaluate_goal(
                &goal(
                    "size",
                    GoalKind::ImageSize(crate::goals::image_size::ImageSize { max_mb: 40.0 })
                ),
                &m
            )
            .met,
            "the limit is inclusive"
        );
    }

    #[test]
    fn relative_size_against_the_starter() {
        let mut m = measured();
        m.image_size = 800_000;
        m.starter_size = Some(646_000_000);
        let v = evaluate_goal(
            &goal(
                "rel",
                GoalKind::RelativeSize(crate::goals::relative_size::RelativeSize {
                    max_percent: 5.0,
                }),
            ),
            &m,
        );
        assert!(v.met, "{v:?}");
        assert!(
            v.measured.starts_with("0.1 % of the starter's 646.0 MB"),
            "{}",
            v.measured
        );
        m.starter_size = None;
        assert!(
            !evaluate_goal(
                &goal(
                    "rel",
                    GoalKind::RelativeSize(crate::goals::relative_size::RelativeSize {
                        max_percent: 5.0
                    })
                ),
                &m
            )
            .met
        );
        m.starter_size = Some(1_000_000);
        assert!(
            !evaluate_goal(
                &goal(
                    "rel",
                    GoalKind::RelativeSize(crate::goals::relative_size::RelativeSize {
                        max_percent: 5.0
                    })
                ),
                &m
            )
            .met
        );
    }

    #[test]
    fn stages_both_counts() {
        let kind = GoalKind::Stages(crate::goals::stages::Stages {
            min_stages: Some(2),
            min_final_depends_on: Some(1),
        });
        let mut m = measured();
        assert!(!evaluate_goal(&goal("stages", kind.clone()), &m).met);
        m.stage_count = 2;
        let v = evaluate_goal(&goal("stages", kind.clone()), &m);
        assert!(!v.met);
        assert!(v.detail.unwrap().contains("copies nothing"));
        m.final_depends_on = 1;
        let v = evaluate_goal(&goal("stages", kind), &m);
        assert!(v.met);
        assert_eq!(v.measured, "2 stages, final stage depends on 1");
    }

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
        });
        let v = evaluate_goal(&g, &m);
        assert!(v.met);
        assert_eq!(v.measured, "`10001:10001` = uid 10001");
    }

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

    #[test]
    fn run_checks_exit_code_and_stdout() {
        let g = goal(
            "runs",
            GoalKind::Run(crate::goals::run::Run {
                command: None,
                exit_code: 0,
                stdout: Some("^Hello, class".into()),
                timeout_s: 10,
            }),
        );
        let mut m = measured();
        assert!(!evaluate_goal(&g, &m).met);
        m.apps.insert(
            "runs".into(),
            AppOutcome::Exited {
                exit_code: 0,
                stdout: "Hello, class\n".into(),
                stderr: String::new(),
                seconds: 0.3,
            },
        );
        assert!(evaluate_goal(&g, &m).met);
        m.apps.insert(
            "runs".into(),
            AppOutcome::Exited {
                exit_code: 0,
                stdout: "Bye".into(),
                stderr: String::new(),
                seconds: 0.3,
            },
        );
        assert!(!evaluate_goal(&g, &m).met);
        m.apps.insert(
            "runs".into(),
            AppOutcome::Exited {
                exit_code: 127,
                stdout: String::new(),
                stderr: "exec /hello: no such file".into(),
                seconds: 0.1,
            },
        );
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert!(v.detail.unwrap().contains("no such file"));
        m.apps.insert(
            "runs".into(),
            AppOutcome::TimedOut {
                after_seconds: 10,
                stdout: "x".repeat(5000),
            },
        );
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert!(
            v.measured.len() < 400,
            "a flood of output is cut: {}",
            v.measured.len()
        );
    }

    #[test]
    fn http_checks_status_and_body() {
        let g = goal(
            "serves",
            GoalKind::Http(crate::goals::http::Http {
                port: 8080,
                path: "/healthz".into(),
                status: 200,
                body: Some("ok".into()),
                timeout_s: 20,
            }),
        );
        let mut m = measured();
        m.apps.insert(
            "serves".into(),
            AppOutcome::Answered {
                status: 200,
                body: "ok\n".into(),
                seconds: 0.4,
            },
        );
        assert!(evaluate_goal(&g, &m).met);
        m.apps.insert(
            "serves".into(),
            AppOutcome::Answered {
                status: 404,
                body: "ok".into(),
                seconds: 0.4,
            },
        );
        assert!(!evaluate_goal(&g, &m).met);
        m.apps.insert(
            "serves".into(),
            AppOutcome::NeverAnswered {
                after_seconds: 1.2,
                exited_with: Some(2),
                logs: "listen tcp :8080: bind: permission denied".into(),
            },
        );
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert_eq!(v.measured, "the container exited with 2 before answering");
        assert!(v.detail.unwrap().contains("permission denied"));
    }

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

    #[test]
    fn parallel_stages_need_shape_and_overlap() {
        let g = goal(
            "par",
            GoalKind::ParallelStages(crate::goals::parallel_stages::ParallelStages {
                min_independent: 2,
                require_overlap: true,
            }),
        );
        let mut m = measured();
        let probe = |independent: &[&str], overlap: Option<f64>| ProbeOutcome::Parallel {
            independent: independent.iter().map(|s| s.to_string()).collect(),
            overlap_seconds: overlap,
        };
        m.probes.insert("par".into(), probe(&["build"], None));
        assert!(!evaluate_goal(&g, &m).met);
        m.probes
            .insert("par".into(), probe(&["docs", "app"], Some(0.0)));
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert!(v.detail.unwrap().contains("did not run at the same time"));
        m.probes
            .insert("par".into(), probe(&["docs", "app"], Some(2.5)));
        let v = evaluate_goal(&g, &m);
        assert!(v.met, "{v:?}");
        assert_eq!(v.measured, "independent: docs, app; overlapped 2.5 s");
        let shape_only = goal(
            "par",
            GoalKind::ParallelStages(crate::goals::parallel_stages::ParallelStages {
                min_independent: 2,
                require_overlap: false,
            }),
        );
        m.probes.insert("par".into(), probe(&["docs", "app"], None));
        assert!(evaluate_goal(&shape_only, &m).met);
    }

    #[test]
    fn cache_reuse_names_the_rebuilt_steps() {
        let g = goal(
            "cache",
            GoalKind::CacheReuse(crate::goals::cache_reuse::CacheReuse {
                change: "main.go".into(),
                step: "apt-get".into(),
            }),
        );
        let mut m = measured();
        m.probes.insert(
            "cache".into(),
            ProbeOutcome::CacheReuse {
                steps: vec![("[2/4] RUN apt-get install".into(), false)],
            },
        );
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert!(v
            .detail
            .unwrap()
            .starts_with("rebuilt: [2/4] RUN apt-get install"));
        m.probes.insert(
            "cache".into(),
            ProbeOutcome::CacheReuse {
                steps: vec![("[2/4] RUN apt-get install".into(), true)],
            },
        );
        assert!(evaluate_goal(&g, &m).met);
        m.probes
            .insert("cache".into(), ProbeOutcome::CacheReuse { steps: vec![] });
        assert!(
            !evaluate_goal(&g, &m).met,
            "a pattern that matches nothing proves nothing"
        );
    }

    #[test]
    fn a_test_stage_must_pass_clean_and_fail_with_the_fault() {
        let g = goal(
            "tests",
            GoalKind::TestStage(crate::goals::test_stage::TestStage {
                target: "test".into(),
                fault: crate::goals::test_stage::Fault {
                    file: "a.c".into(),
                    with: "faults/a.c".into(),
                },
            }),
        );
        let mut m = measured();
        let probe = |clean_passed, fault_failed| ProbeOutcome::TestStage {
            clean_passed,
            clean_error: (!clean_passed).then(|| "no stage named `test`".to_string()),
            fault_failed,
            fault_step: fault_failed.then(|| "[test 3/3] RUN make check".to_string()),
        };
        m.probes.insert("tests".into(), probe(true, true));
        assert!(evaluate_goal(&g, &m).met);
        m.probes.insert("tests".into(), probe(true, false));
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert!(v.measured.contains("the tests do not run"));
        m.probes.insert("tests".into(), probe(false, true));
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert_eq!(v.detail.as_deref(), Some("no stage named `test`"));
    }

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

    #[test]
    fn wasted_bytes_name_the_worst_paths() {
        let g = goal(
            "waste",
            GoalKind::WastedBytes(crate::goals::wasted_bytes::WastedBytes { max_mb: 1.0 }),
        );
        let mut m = measured();
        m.probes.insert(
            "waste".into(),
            ProbeOutcome::WastedBytes {
                bytes: 45_000_000,
                top: vec![("var/lib/apt/lists/x_Packages".into(), 40_000_000)],
            },
        );
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert_eq!(v.measured, "45.0 MB wasted");
        assert!(v.detail.unwrap().starts_with(
            "kept in one layer, hidden by a later one: /var/lib/apt/lists/x_Packages (40.0 MB)"
        ));
        m.probes.insert(
            "waste".into(),
            ProbeOutcome::WastedBytes {
                bytes: 20_000,
                top: vec![],
            },
        );
        assert!(evaluate_goal(&g, &m).met);
    }

    #[test]
    fn an_exercises_own_advice_replaces_the_generic_one_on_a_miss() {
        let mut g = goal(
            "no-recommends",
            GoalKind::PathsAbsent(crate::goals::paths_absent::PathsAbsent {
                paths: vec!["/usr/bin/openssl".into()],
            }),
        );
        g.advice = Some("install with --no-install-recommends".into());
        let mut m = measured();
        m.paths.insert("/usr/bin/openssl".into(), true);
        assert_eq!(
            evaluate(std::slice::from_ref(&g), &m)[0].detail.as_deref(),
            Some("install with --no-install-recommends")
        );
        m.paths.insert("/usr/bin/openssl".into(), false);
        assert_eq!(evaluate(std::slice::from_ref(&g), &m)[0].detail, None);
    }

    #[test]
    fn targets_read_the_same_in_reports_and_the_book() {
        assert_eq!(
            target_text(&GoalKind::ImageSize(crate::goals::image_size::ImageSize {
                max_mb: 2.0
            })),
            "≤ 2 MB"
        );
        assert_eq!(
            target_text(&GoalKind::NonRoot(crate::goals::non_root::NonRoot {})),
            "uid ≠ 0"
        );
        assert_eq!(
            target_text(&GoalKind::Stages(crate::goals::stages::Stages {
                min_stages: Some(2),
                min_final_depends_on: Some(1)
            })),
            "≥ 2 stages, final stage depends on ≥ 1"
        );
    }

    #[test]
    fn evaluate_keeps_goal_order() {
        let goals = vec![
            goal("b", GoalKind::NonRoot(crate::goals::non_root::NonRoot {})),
            goal(
                "a",
                GoalKind::ImageSize(crate::goals::image_size::ImageSize { max_mb: 1000.0 }),
            ),
        ];
        let ids: Vec<String> = evaluate(&goals, &measured())
            .into_iter()
            .map(|v| v.id)
            .collect();
        assert_eq!(ids, vec!["b", "a"]);
    }
}
