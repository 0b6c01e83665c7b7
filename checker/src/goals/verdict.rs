//! A verdict: one goal judged, what was measured against what, and why it was missed; with
//! the wording helpers the kinds share, and (`testing`) what the kinds' judging tests share.

use serde::{Deserialize, Serialize};

use super::Goal;
use crate::facts::inventory::ProgramRule;
use crate::facts::{Measurements, UndeclaredArg};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Verdict {
    pub id: String,
    /// The goal's kind; a verdict read back from the result cache gets it from its goal.
    #[serde(skip_deserializing)]
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

/// An app goal met by the wrong program misses: `rule` says where the program that answers
/// must come from, the image's inventory says where it came from.
pub fn program_must_be(v: Verdict, rule: Option<ProgramRule>, m: &Measurements) -> Verdict {
    let problem = match (v.met, rule, &m.inventory) {
        (true, Some(rule), Some(inventory)) => inventory.program_problem(rule),
        _ => None,
    };
    match problem {
        Some(why) => Verdict {
            met: false,
            measured: format!("{}, but not from the exercise's program", v.measured),
            detail: Some(why),
            ..v
        },
        None => v,
    }
}

/// Why the engine could not start a container, in its own words without its wrapping
/// ("Docker responded with status code 500: …", "Error response from daemon: …"): the part
/// a learner can act on, such as "unable to find user nonroot: no matching entries in passwd
/// file". An exercise's advice replaces a verdict's detail, so this goes in what was measured.
pub fn start_failure(message: &str) -> String {
    let mut reason = message.trim();
    for wrapper in [
        "Error response from daemon:",
        "Docker responded with status code",
    ] {
        if let Some(at) = reason.rfind(wrapper) {
            reason = reason[at + wrapper.len()..]
                .trim_start_matches(|c: char| c.is_ascii_digit() || c == ':' || c == ' ');
        }
    }
    let short: String = reason.chars().take(160).collect();
    if short.len() < reason.len() {
        format!("{short}…")
    } else {
        short
    }
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

    /// A missed app goal also names the global ARGs a stage uses without declaring them:
    /// the app then fails on an empty value, and its own message ("version missing") does
    /// not say that the Dockerfile is why.
    pub fn naming_undeclared_args(mut self, undeclared: &[UndeclaredArg]) -> Verdict {
        if let (false, Some(hint)) = (self.met, undeclared_args_hint(undeclared)) {
            self.detail = Some(match self.detail.take() {
                Some(d) => format!("{d}. {hint}"),
                None => hint,
            });
        }
        self
    }
}

/// "stage `build` uses $APP_VERSION (line 27) without declaring ARG APP_VERSION: …", when
/// some stage does.
pub fn undeclared_args_hint(undeclared: &[UndeclaredArg]) -> Option<String> {
    if undeclared.is_empty() {
        return None;
    }
    let uses: Vec<String> = undeclared
        .iter()
        .map(|u| {
            format!(
                "stage `{}` uses ${} (line {}) without declaring ARG {}",
                u.stage, u.name, u.line, u.name
            )
        })
        .collect();
    Some(format!(
        "{}: a global ARG is empty inside a stage until the stage declares it again",
        uses.join("; ")
    ))
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

/// What the judging tests of every kind share.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::facts::Measurements;
    use crate::goals::{judge, GoalKind};

    pub fn goal(id: &str, kind: GoalKind) -> Goal {
        Goal {
            id: id.into(),
            advice: None,
            kind,
        }
    }

    pub fn evaluate_goal(g: &Goal, m: &Measurements) -> Verdict {
        judge(g, std::slice::from_ref(g), m)
    }

    pub fn measured() -> Measurements {
        Measurements {
            image_size: 412_300_000,
            stage_count: 1,
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::goals::verdict::testing::{goal, measured};
    use crate::goals::{evaluate, target_text, GoalKind};

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

#[cfg(test)]
mod start_failures {
    #[test]
    fn the_engines_reason_is_kept_without_its_wrapping() {
        assert_eq!(
            super::start_failure("starting a container from workbook-x/14-distroless:learner: Docker responded with status code 400: unable to find user nonroot: no matching entries in passwd file"),
            "unable to find user nonroot: no matching entries in passwd file"
        );
        assert_eq!(
            super::start_failure("Error response from daemon: exec: \"/app\": permission denied"),
            "exec: \"/app\": permission denied"
        );
        assert_eq!(super::start_failure("no such image"), "no such image");
    }
}
