//! `run`: run the image (with `command`, or its own ENTRYPOINT/CMD) and expect an exit code
//! and a stdout pattern within the time limit.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::settings::{check_capabilities, check_timeout, sandbox};
use super::verdict::quote_tail;
use super::verdict::program_must_be;
use super::{Goal, Kind, Pattern, Verdict};
use crate::facts::inventory::ProgramRule;
use crate::docker::api::EngineApi;
use crate::error::CheckerError;
use crate::facts::{AppOutcome, Measurements};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Run {
    #[serde(default)]
    pub command: Option<Vec<String>>,
    #[serde(default)]
    pub exit_code: i64,
    #[serde(default)]
    pub stdout: Option<Pattern>,
    #[serde(default = "default_run_timeout")]
    pub timeout_s: u64,
    /// The app writes beside its image; its root filesystem is read-only otherwise.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub writable: bool,
    /// Linux capabilities the app needs (`CHOWN`, …); every one is dropped otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub capabilities: Vec<String>,
    /// Where the program that answers must come from (`built` in a build stage, or the
    /// exercise's own `source`): a `sh -c 'echo …'` that prints the expected line is no app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<ProgramRule>,
}

fn default_run_timeout() -> u64 {
    10
}

/// Where a command asks for a word chosen afresh for every run, and its stdout pattern for
/// the answer that depends on it: a program that computes its output from its arguments
/// prints it; a command that echoes an answer written in advance cannot.
const WORD: &str = "@word@";

/// Eight lowercase letters, new for every run.
fn random_word() -> String {
    uuid::Uuid::new_v4()
        .as_bytes()
        .iter()
        .take(8)
        .map(|b| char::from(b'a' + b % 26))
        .collect()
}

/// The pattern with the run's word in place of `@word@`.
fn with_word(pattern: &Pattern, word: Option<&str>) -> Pattern {
    match word {
        Some(word) if pattern.as_str().contains(WORD) => {
            Pattern::new(pattern.as_str().replace(WORD, &regex::escape(word)))
        }
        _ => pattern.clone(),
    }
}

impl Kind for Run {
    fn validate(&self, at: &str) -> Result<(), String> {
        if let Some(pattern) = &self.stdout {
            pattern.check(at, "stdout")?;
        }
        check_capabilities(at, &self.capabilities)?;
        check_timeout(at, self.timeout_s)
    }
    fn target(&self) -> String {
        let (exit_code, timeout_s) = (self.exit_code, self.timeout_s);
        match &self.stdout {
            Some(p) => format!("exit {exit_code}, stdout matches /{p}/, within {timeout_s} s"),
            None => format!("exit {exit_code} within {timeout_s} s"),
        }
    }
    fn threshold(&self) -> Option<String> {
        Some(format!("{} s", self.timeout_s))
    }
    async fn app(
        &self,
        engine: &dyn EngineApi,
        image: &str,
        labels: &BTreeMap<String, String>,
    ) -> Result<Option<AppOutcome>, CheckerError> {
        let timeout = Duration::from_secs(self.timeout_s);
        let word = self
            .command
            .iter()
            .flatten()
            .any(|w| w.contains(WORD))
            .then(random_word);
        let command = self.command.as_ref().map(|words| {
            words
                .iter()
                .map(|w| w.replace(WORD, word.as_deref().unwrap_or_default()))
                .collect()
        });
        let mut outcome = engine
            .run_to_exit(
                image,
                command,
                labels,
                &sandbox(self.writable, &self.capabilities),
                timeout,
            )
            .await?;
        if let AppOutcome::Exited { word: chosen, .. } = &mut outcome {
            *chosen = word;
        }
        Ok(Some(outcome))
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        let v = self.judge_app(goal, m).naming_undeclared_args(&m.undeclared_args);
        program_must_be(v, self.program, m)
    }
}

impl Run {
    fn judge_app(&self, goal: &Goal, m: &Measurements) -> Verdict {
        let target = self.target();
        match m.apps.get(&goal.id) {
            Some(AppOutcome::Exited {
                exit_code: code,
                stdout: out,
                stderr,
                seconds,
                word,
            }) => {
                let code_ok = *code == self.exit_code;
                let out_ok = self
                    .stdout
                    .as_ref()
                    .is_none_or(|p| with_word(p, word.as_deref()).is_match(out));
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
            Some(AppOutcome::FailedToStart { message }) => Verdict::new(
                goal,
                false,
                format!("did not start: {}", super::verdict::start_failure(message)),
                target,
            )
            .detail(message.clone()),
            _ => Verdict::new(goal, false, "not measured".into(), target),
        }
    }
}

#[cfg(test)]
mod judging {
    use crate::facts::AppOutcome;
    use crate::goals::verdict::testing::{goal, evaluate_goal, measured};
    use crate::goals::{GoalKind};

    #[test]
    fn a_failing_run_names_the_args_a_stage_never_declared() {
        use crate::facts::UndeclaredArg;
        let g = goal(
            "runs",
            GoalKind::Run(crate::goals::run::Run {
                command: None,
                exit_code: 0,
                stdout: Some("^about ".into()),
                timeout_s: 10,
                writable: false,
                capabilities: vec![],
                program: None,
            }),
        );
        let mut m = measured();
        m.undeclared_args = vec![UndeclaredArg {
            stage: "build".into(),
            name: "APP_VERSION".into(),
            line: 9,
        }];
        m.apps.insert(
            "runs".into(),
            AppOutcome::Exited {
                exit_code: 1,
                stdout: String::new(),
                stderr: "about: no version compiled in\n".into(),
                seconds: 0.1,
                word: None,
            },
        );
        let v = evaluate_goal(&g, &m);
        assert_eq!(
            v.detail.as_deref(),
            Some("stderr: \"about: no version compiled in\". stage `build` uses $APP_VERSION (line 9) without declaring ARG APP_VERSION: a global ARG is empty inside a stage until the stage declares it again")
        );
        // A run that passes says nothing about them.
        m.apps.insert(
            "runs".into(),
            AppOutcome::Exited {
                exit_code: 0,
                stdout: "about 1.4.2".into(),
                stderr: String::new(),
                seconds: 0.1,
                word: None,
            },
        );
        assert_eq!(evaluate_goal(&g, &m).detail, None);
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
                writable: false,
                capabilities: vec![],
                program: None,
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
                word: None,
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
                word: None,
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
                word: None,
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
}
