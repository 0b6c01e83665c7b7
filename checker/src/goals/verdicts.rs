//! Judging measurements against an exercise's goals. Pure: no engine, no files, so every
//! rule is unit-tested here.

use regex::Regex;
use serde::Serialize;

use crate::facts::{format_mb, mb, AppOutcome, Measurements, ProbeOutcome};
use crate::workbook::exercise::{Goal, GoalKind};

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
    fn new(goal: &Goal, met: bool, measured: String, target: String) -> Verdict {
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
    fn values(mut self, measured: f64, target: f64) -> Verdict {
        self.measured_value = Some(measured);
        self.target_value = Some(target);
        self
    }
    fn detail(mut self, detail: impl Into<String>) -> Verdict {
        self.detail = Some(detail.into());
        self
    }
}

/// Judges every goal, in the order the exercise lists them.
pub fn evaluate(goals: &[Goal], m: &Measurements) -> Vec<Verdict> {
    goals
        .iter()
        .map(|g| {
            let v = judge(g, goals, m);
            match &g.advice {
                // The exercise's own advice replaces the generic one when the goal is missed.
                Some(advice) if !v.met => Verdict {
                    detail: Some(advice.clone()),
                    ..v
                },
                _ => v,
            }
        })
        .collect()
}

/// What a goal asks, in words ("≤ 2 MB"), as reports and the book print it: the target
/// `judge` states, which depends on the goal alone.
pub fn target_text(kind: &GoalKind) -> String {
    let goal = Goal {
        id: String::new(),
        advice: None,
        kind: kind.clone(),
    };
    judge(&goal, &[], &Measurements::default()).target
}

/// Judges one goal; `all` are the exercise's goals, for goals that judge others again (the
/// app goals on a build-arg's alternate image).
fn judge(goal: &Goal, all: &[Goal], m: &Measurements) -> Verdict {
    match &goal.kind {
        GoalKind::ImageSize { max_mb } => {
            let size = mb(m.image_size);
            let v = Verdict::new(
                goal,
                size <= *max_mb,
                format_mb(m.image_size),
                format!("≤ {max_mb} MB"),
            )
            .values(size, *max_mb);
            if size <= *max_mb {
                v
            } else {
                v.detail(biggest_layer_hint(m))
            }
        }
        GoalKind::RelativeSize { max_percent } => match m.starter_size {
            Some(starter) if starter > 0 => {
                let percent = 100.0 * m.image_size as f64 / starter as f64;
                Verdict::new(
                    goal,
                    percent <= *max_percent,
                    format!("{percent:.1} % of the starter's {}", format_mb(starter)),
                    format!("≤ {max_percent} %"),
                )
                .values(percent, *max_percent)
            }
            _ => Verdict::new(
                goal,
                false,
                "not measured".into(),
                format!("≤ {max_percent} %"),
            )
            .detail("the starter's image size is unknown (its build failed?)"),
        },
        GoalKind::Stages {
            min_stages,
            min_final_depends_on,
        } => {
            let stages_ok = min_stages.is_none_or(|n| m.stage_count >= n);
            let deps_ok = min_final_depends_on.is_none_or(|n| m.final_depends_on >= n);
            let mut target = Vec::new();
            if let Some(n) = min_stages {
                target.push(format!("≥ {n} stages"));
            }
            if let Some(n) = min_final_depends_on {
                target.push(format!("final stage depends on ≥ {n}"));
            }
            let v = Verdict::new(
                goal,
                stages_ok && deps_ok,
                format!(
                    "{} stage{}, final stage depends on {}",
                    m.stage_count,
                    if m.stage_count == 1 { "" } else { "s" },
                    m.final_depends_on
                ),
                target.join(", "),
            );
            match (stages_ok, deps_ok) {
                (true, true) => v,
                (false, _) => v.detail(
                    "build in one stage, then start a fresh FROM and COPY --from only what runs",
                ),
                (true, false) => v.detail("the final stage copies nothing from the other stages"),
            }
        }
        GoalKind::NonRoot => match &m.user {
            None => Verdict::new(goal, false, "not measured".into(), "uid ≠ 0".into()),
            Some(user) => {
                let v = Verdict::new(goal, user.is_non_root(), user.describe(), "uid ≠ 0".into());
                match (user.is_non_root(), m.users_outside_target.first()) {
                    (false, Some((stage, u, line))) => v.detail(format!(
                        "USER {u} is set in stage `{stage}` (line {line}), which does not end up in the final image: set USER in the final stage"
                    )),
                    _ => v,
                }
            }
        },
        GoalKind::PathsAbsent { paths } => {
            let present: Vec<&str> = paths
                .iter()
                .filter(|p| m.paths.get(*p).copied().unwrap_or(true))
                .map(String::as_str)
                .collect();
            let measured = if present.is_empty() {
                "all absent".to_string()
            } else {
                format!("present: {}", present.join(", "))
            };
            let v = Verdict::new(
                goal,
                present.is_empty(),
                measured,
                format!("absent: {}", paths.join(", ")),
            );
            if present.is_empty() {
                v
            } else {
                v.detail("build tools belong in a build stage; copy only the result into the final image")
            }
        }
        GoalKind::PathsPresent { paths } => {
            let missing: Vec<&str> = paths
                .iter()
                .filter(|p| !m.paths.get(*p).copied().unwrap_or(false))
                .map(String::as_str)
                .collect();
            let measured = if missing.is_empty() {
                "all present".to_string()
            } else {
                format!("missing: {}", missing.join(", "))
            };
            Verdict::new(
                goal,
                missing.is_empty(),
                measured,
                format!("present: {}", paths.join(", ")),
            )
        }
        GoalKind::Run {
            exit_code,
            stdout,
            timeout_s,
            ..
        } => {
            let target = match stdout {
                Some(p) => format!("exit {exit_code}, stdout matches /{p}/, within {timeout_s} s"),
                None => format!("exit {exit_code} within {timeout_s} s"),
            };
            match m.apps.get(&goal.id) {
                Some(AppOutcome::Exited {
                    exit_code: code,
                    stdout: out,
                    stderr,
                    seconds,
                }) => {
                    let code_ok = code == exit_code;
                    let out_ok = stdout.as_deref().is_none_or(|p| matches(p, out));
                    let v = Verdict::new(
                        goal,
                        code_ok && out_ok,
                        format!(
                            "exit {code} after {seconds:.2} s, stdout {}",
                            quote_tail(out)
                        ),
                        target,
                    );
                    if code_ok && out_ok {
                        v
                    } else if !stderr.trim().is_empty() {
                        v.detail(format!("stderr: {}", quote_tail(stderr)))
                    } else {
                        v
                    }
                }
                Some(AppOutcome::TimedOut {
                    after_seconds,
                    stdout: out,
                }) => Verdict::new(
                    goal,
                    false,
                    format!(
                        "still running after {after_seconds} s (killed), stdout {}",
                        quote_tail(out)
                    ),
                    target,
                ),
                Some(AppOutcome::FailedToStart { message }) => {
                    Verdict::new(goal, false, "did not start".into(), target)
                        .detail(message.clone())
                }
                _ => Verdict::new(goal, false, "not measured".into(), target),
            }
        }
        GoalKind::Http {
            port,
            path,
            status,
            body,
            timeout_s,
        } => {
            let target = match body {
                Some(p) => format!(
                    "GET :{port}{path} → {status}, body matches /{p}/, within {timeout_s} s"
                ),
                None => format!("GET :{port}{path} → {status} within {timeout_s} s"),
            };
            match m.apps.get(&goal.id) {
                Some(AppOutcome::Answered {
                    status: got,
                    body: text,
                    seconds,
                }) => {
                    let ok = got == status && body.as_deref().is_none_or(|p| matches(p, text));
                    Verdict::new(
                        goal,
                        ok,
                        format!("{got} after {seconds:.2} s, body {}", quote_tail(text)),
                        target,
                    )
                }
                Some(AppOutcome::NeverAnswered {
                    after_seconds,
                    exited_with,
                    logs,
                }) => {
                    let measured = match exited_with {
                        Some(code) => format!("the container exited with {code} before answering"),
                        None => format!("no answer within {after_seconds:.0} s"),
                    };
                    let v = Verdict::new(goal, false, measured, target);
                    if logs.trim().is_empty() {
                        v
                    } else {
                        v.detail(format!("its output: {}", quote_tail(logs)))
                    }
                }
                Some(AppOutcome::FailedToStart { message }) => {
                    Verdict::new(goal, false, "did not start".into(), target)
                        .detail(message.clone())
                }
                _ => Verdict::new(goal, false, "not measured".into(), target),
            }
        }

        GoalKind::ContextSize { max_mb, forbidden } => {
            let size = mb(m.context_bytes);
            let leaked: Vec<&str> = forbidden
                .iter()
                .filter(|f| {
                    let dir = format!("{}/", f.trim_end_matches('/'));
                    m.context_paths
                        .iter()
                        .any(|p| p == *f || p.starts_with(&dir))
                })
                .map(String::as_str)
                .collect();
            let met = size <= *max_mb && leaked.is_empty();
            let mut target = format!("≤ {max_mb} MB");
            if !forbidden.is_empty() {
                target.push_str(&format!(", without {}", forbidden.join(", ")));
            }
            let v = Verdict::new(
                goal,
                met,
                format!(
                    "{} in {} files",
                    format_mb(m.context_bytes),
                    m.context_files
                ),
                target,
            )
            .values(size, *max_mb);
            if !leaked.is_empty() {
                v.detail(format!(
                    "sent to the engine: {} — add it to .dockerignore",
                    leaked.join(", ")
                ))
            } else if size > *max_mb {
                v.detail("everything in the folder is sent to the engine unless .dockerignore excludes it")
            } else {
                v
            }
        }
        GoalKind::ParallelStages {
            min_independent,
            require_overlap,
        } => {
            let target = if *require_overlap {
                format!("final stage depends on ≥ {min_independent} independent stages that BuildKit builds at the same time")
            } else {
                format!("final stage depends on ≥ {min_independent} independent stages")
            };
            match m.probes.get(&goal.id) {
                Some(ProbeOutcome::Parallel {
                    independent,
                    overlap_seconds,
                }) => {
                    let shape_ok = independent.len() >= *min_independent;
                    let overlap_ok = !*require_overlap || overlap_seconds.is_some_and(|s| s > 0.0);
                    let mut measured = if independent.is_empty() {
                        "no independent stages".to_string()
                    } else {
                        format!("independent: {}", independent.join(", "))
                    };
                    if let Some(s) = overlap_seconds {
                        measured.push_str(&format!("; overlapped {s:.1} s"));
                    }
                    let v = Verdict::new(goal, shape_ok && overlap_ok, measured, target);
                    if !shape_ok {
                        v.detail("split independent work into stages that share a base, and COPY --from each into the final stage")
                    } else if !overlap_ok {
                        v.detail(
                            "the stages did not run at the same time: does one wait for the other?",
                        )
                    } else {
                        v
                    }
                }
                _ => Verdict::new(goal, false, "not measured".into(), target),
            }
        }
        GoalKind::CacheReuse { change, step } => {
            let target = format!("steps matching /{step}/ cached after {change} changes");
            match m.probes.get(&goal.id) {
                Some(ProbeOutcome::CacheReuse { steps }) if !steps.is_empty() => {
                    let rebuilt: Vec<&str> = steps
                        .iter()
                        .filter(|(_, c)| !c)
                        .map(|(n, _)| n.as_str())
                        .collect();
                    let v = Verdict::new(
                        goal,
                        rebuilt.is_empty(),
                        format!("{} of {} cached", steps.len() - rebuilt.len(), steps.len()),
                        target,
                    );
                    if rebuilt.is_empty() {
                        v
                    } else {
                        v.detail(format!(
                            "rebuilt: {} — copy only what that step needs before it, and the sources after",
                            rebuilt.join("; ")
                        ))
                    }
                }
                Some(ProbeOutcome::CacheReuse { .. }) => {
                    Verdict::new(goal, false, "no step matches".into(), target)
                        .detail("no build step matched the pattern (or the rebuild failed)")
                }
                _ => Verdict::new(goal, false, "not measured".into(), target),
            }
        }
        GoalKind::TestStage {
            target: stage,
            fault,
        } => {
            let target = format!(
                "--target {stage} passes, and fails with {} swapped in",
                fault.file
            );
            match m.probes.get(&goal.id) {
                Some(ProbeOutcome::TestStage {
                    clean_passed,
                    clean_error,
                    fault_failed,
                    fault_step,
                }) => {
                    let measured = match (clean_passed, fault_failed) {
                        (true, true) => format!(
                            "passes; with the fault it fails at {}",
                            fault_step.as_deref().unwrap_or("a step")
                        ),
                        (true, false) => {
                            "passes, and still passes with the fault: the tests do not run"
                                .to_string()
                        }
                        (false, _) => "--target build fails on the code as it is".to_string(),
                    };
                    let v = Verdict::new(goal, *clean_passed && *fault_failed, measured, target);
                    match clean_error {
                        Some(e) if !clean_passed => v.detail(e.clone()),
                        _ => v,
                    }
                }
                _ => Verdict::new(goal, false, "not measured".into(), target),
            }
        }

        GoalKind::BuildArg { name, alternate } => {
            let target =
                format!("ARG {name} pinned before FROM; builds and works with {name}={alternate}");
            match m.probes.get(&goal.id) {
                Some(ProbeOutcome::BuildArg {
                    default,
                    build_error,
                    apps,
                }) => {
                    let pin_problem = match default.as_deref() {
                        None => Some(format!("no ARG {name} before the first FROM")),
                        Some("") => Some(format!("ARG {name} has no default")),
                        Some(d) if d == "latest" || d.ends_with(":latest") => {
                            Some(format!("ARG {name} defaults to `{d}`, which is not pinned"))
                        }
                        Some(_) => None,
                    };
                    // The app goals, judged on the alternate image exactly as on the main one.
                    let alternate_measurements = Measurements {
                        apps: apps.clone(),
                        ..Default::default()
                    };
                    let app_failures: Vec<String> = all
                        .iter()
                        .filter(|g| matches!(g.kind, GoalKind::Run { .. } | GoalKind::Http { .. }))
                        .map(|g| judge(g, all, &alternate_measurements))
                        .filter(|v| !v.met)
                        .map(|v| format!("{}: {}", v.id, v.measured))
                        .collect();
                    let measured = match (&pin_problem, build_error) {
                        (Some(p), _) => p.clone(),
                        (None, Some(_)) => format!(
                            "default `{}`; the build with {name}={alternate} fails",
                            default.as_deref().unwrap_or("")
                        ),
                        (None, None) if !app_failures.is_empty() => format!(
                            "default `{}`; with {name}={alternate} the app fails",
                            default.as_deref().unwrap_or("")
                        ),
                        (None, None) => format!(
                            "default `{}`; {name}={alternate} builds and works",
                            default.as_deref().unwrap_or("")
                        ),
                    };
                    let met =
                        pin_problem.is_none() && build_error.is_none() && app_failures.is_empty();
                    let v = Verdict::new(goal, met, measured, target);
                    match (build_error, app_failures.is_empty()) {
                        (Some(e), _) => v.detail(e.clone()),
                        (None, false) => v.detail(app_failures.join("; ")),
                        _ => v,
                    }
                }
                _ => Verdict::new(goal, false, "not measured".into(), target),
            }
        }
        GoalKind::WastedBytes { max_mb } => {
            let target = format!("≤ {max_mb} MB wasted");
            match m.probes.get(&goal.id) {
                Some(ProbeOutcome::WastedBytes { bytes, top }) => {
                    let wasted = mb(*bytes);
                    let v = Verdict::new(
                        goal,
                        wasted <= *max_mb,
                        format!("{} wasted", format_mb(*bytes)),
                        target,
                    )
                    .values(wasted, *max_mb);
                    if wasted <= *max_mb || top.is_empty() {
                        v
                    } else {
                        let list: Vec<String> = top
                            .iter()
                            .take(3)
                            .map(|(p, b)| format!("/{p} ({})", format_mb(*b)))
                            .collect();
                        v.detail(format!(
                            "kept in one layer, hidden by a later one: {} — clean up in the same RUN that made them",
                            list.join(", ")
                        ))
                    }
                }
                _ => Verdict::new(goal, false, "not measured".into(), target),
            }
        }
    }
}

fn matches(pattern: &str, text: &str) -> bool {
    // Patterns were validated when exercise.toml was loaded.
    Regex::new(pattern)
        .map(|r| r.is_match(text))
        .unwrap_or(false)
}

/// The last 200 characters, quoted on one line, so a flood of output stays readable.
fn quote_tail(s: &str) -> String {
    let trimmed = s.trim();
    let chars: Vec<char> = trimmed.chars().collect();
    let tail: String = if chars.len() > 200 {
        format!("…{}", chars[chars.len() - 200..].iter().collect::<String>())
    } else {
        trimmed.to_string()
    };
    format!("{:?}", tail)
}

fn biggest_layer_hint(m: &Measurements) -> String {
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
        let v = evaluate_goal(&goal("size", GoalKind::ImageSize { max_mb: 40.0 }), &m);
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
            evaluate_goal(&goal("size", GoalKind::ImageSize { max_mb: 40.0 }), &m).met,
            "the limit is inclusive"
        );
    }

    #[test]
    fn relative_size_against_the_starter() {
        let mut m = measured();
        m.image_size = 800_000;
        m.starter_size = Some(646_000_000);
        let v = evaluate_goal(
            &goal("rel", GoalKind::RelativeSize { max_percent: 5.0 }),
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
                &goal("rel", GoalKind::RelativeSize { max_percent: 5.0 }),
                &m
            )
            .met
        );
        m.starter_size = Some(1_000_000);
        assert!(
            !evaluate_goal(
                &goal("rel", GoalKind::RelativeSize { max_percent: 5.0 }),
                &m
            )
            .met
        );
    }

    #[test]
    fn stages_both_counts() {
        let kind = GoalKind::Stages {
            min_stages: Some(2),
            min_final_depends_on: Some(1),
        };
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
        let g = goal("non-root", GoalKind::NonRoot);
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
            GoalKind::PathsAbsent {
                paths: vec!["/usr/bin/gcc".into(), "/usr/bin/cc".into()],
            },
        );
        let v = evaluate_goal(&absent, &m);
        assert!(!v.met);
        assert_eq!(v.measured, "present: /usr/bin/gcc");
        m.paths.insert("/usr/bin/gcc".into(), false);
        assert!(evaluate_goal(&absent, &m).met);
        let present = goal(
            "bin",
            GoalKind::PathsPresent {
                paths: vec!["/hello".into(), "/etc/app.conf".into()],
            },
        );
        let v = evaluate_goal(&present, &m);
        assert!(!v.met, "an unmeasured path counts as missing");
        assert_eq!(v.measured, "missing: /etc/app.conf");
    }

    #[test]
    fn run_checks_exit_code_and_stdout() {
        let g = goal(
            "runs",
            GoalKind::Run {
                command: None,
                exit_code: 0,
                stdout: Some("^Hello, class".into()),
                timeout_s: 10,
            },
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
            GoalKind::Http {
                port: 8080,
                path: "/healthz".into(),
                status: 200,
                body: Some("ok".into()),
                timeout_s: 20,
            },
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
            GoalKind::ContextSize {
                max_mb: 1.0,
                forbidden: vec!["secrets".into(), "api.key".into()],
            },
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
            GoalKind::ParallelStages {
                min_independent: 2,
                require_overlap: true,
            },
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
            GoalKind::ParallelStages {
                min_independent: 2,
                require_overlap: false,
            },
        );
        m.probes.insert("par".into(), probe(&["docs", "app"], None));
        assert!(evaluate_goal(&shape_only, &m).met);
    }

    #[test]
    fn cache_reuse_names_the_rebuilt_steps() {
        let g = goal(
            "cache",
            GoalKind::CacheReuse {
                change: "main.go".into(),
                step: "apt-get".into(),
            },
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
            GoalKind::TestStage {
                target: "test".into(),
                fault: crate::workbook::exercise::Fault {
                    file: "a.c".into(),
                    with: "faults/a.c".into(),
                },
            },
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
            GoalKind::BuildArg {
                name: "SUITE".into(),
                alternate: "bookworm-slim".into(),
            },
        );
        let runs = goal(
            "runs",
            GoalKind::Run {
                command: None,
                exit_code: 0,
                stdout: Some("^ok".into()),
                timeout_s: 10,
            },
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
        let g = goal("waste", GoalKind::WastedBytes { max_mb: 1.0 });
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
            GoalKind::PathsAbsent {
                paths: vec!["/usr/bin/openssl".into()],
            },
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
        assert_eq!(target_text(&GoalKind::ImageSize { max_mb: 2.0 }), "≤ 2 MB");
        assert_eq!(target_text(&GoalKind::NonRoot), "uid ≠ 0");
        assert_eq!(
            target_text(&GoalKind::Stages {
                min_stages: Some(2),
                min_final_depends_on: Some(1)
            }),
            "≥ 2 stages, final stage depends on ≥ 1"
        );
    }

    #[test]
    fn evaluate_keeps_goal_order() {
        let goals = vec![
            goal("b", GoalKind::NonRoot),
            goal("a", GoalKind::ImageSize { max_mb: 1000.0 }),
        ];
        let ids: Vec<String> = evaluate(&goals, &measured())
            .into_iter()
            .map(|v| v.id)
            .collect();
        assert_eq!(ids, vec!["b", "a"]);
    }
}
