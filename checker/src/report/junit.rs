//! JUnit XML, as CI test-report readers (Jenkins, GitLab, GitHub actions' reporters) read it:
//! one testsuite per exercise and variant, one testcase per goal; a missed goal is a
//! `<failure>` whose message carries measured vs target.

use std::fmt::Write;

use super::{Exporter, RunInfo};
use crate::check::{CheckResult, Checked, VerifyResult};
use crate::goals::verdict::Verdict;

pub struct Junit;

impl Exporter for Junit {
    fn check(&self, info: &RunInfo, outcomes: &[Checked]) -> String {
        let suites: Vec<Suite> = outcomes
            .iter()
            .map(|o| match o {
                Ok(r) => Suite::of(r, |v| v.met),
                Err(e) => Suite::error(&format!("{}.{}", e.exercise, e.variant.as_str()), &e.error),
            })
            .collect();
        document(info, &suites)
    }

    fn verify(&self, info: &RunInfo, results: &[VerifyResult]) -> String {
        let mut suites = Vec::new();
        for r in results {
            match &r.starter {
                // In the starter a goal passes when it does what the lesson says: missed if it
                // is a lesson goal, met otherwise.
                Some(starter) => {
                    suites.push(Suite::of(starter, |v| v.met != r.lesson.contains(&v.id)))
                }
                None => suites.push(Suite::error(
                    &format!("{}.starter", r.exercise),
                    &r.problems.join("\n"),
                )),
            }
            match &r.solution {
                Some(solution) => suites.push(Suite::of(solution, |v| v.met)),
                None => suites.push(Suite::error(
                    &format!("{}.solution", r.exercise),
                    &r.problems.join("\n"),
                )),
            }
        }
        document(info, &suites)
    }
}

struct Suite {
    name: String,
    seconds: f64,
    timestamp: String,
    cases: Vec<Case>,
}

struct Case {
    name: String,
    kind: String,
    outcome: CaseOutcome,
}

/// JUnit's three ends of a test: passed; `<failure>` (the goal was judged and missed);
/// `<error>` (it could not be judged at all).
enum CaseOutcome {
    Passed,
    Failure { message: String, detail: String },
    Error { message: String, detail: String },
}

impl Suite {
    fn of(r: &CheckResult, passes: impl Fn(&Verdict) -> bool) -> Suite {
        Suite {
            name: format!("{}.{}", r.exercise, r.variant.as_str()),
            seconds: r.measurements.build_seconds,
            timestamp: r.checked_at.format("%Y-%m-%dT%H:%M:%S").to_string(),
            cases: r
                .verdicts
                .iter()
                .map(|v| Case {
                    name: v.id.clone(),
                    kind: v.kind.to_string(),
                    outcome: if passes(v) {
                        CaseOutcome::Passed
                    } else {
                        CaseOutcome::Failure {
                            message: format!("measured {}, target {}", v.measured, v.target),
                            detail: v.detail.clone().unwrap_or_default(),
                        }
                    },
                })
                .collect(),
        }
    }

    fn error(name: &str, message: &str) -> Suite {
        Suite {
            name: name.to_string(),
            seconds: 0.0,
            timestamp: String::new(),
            cases: vec![Case {
                name: "build".into(),
                kind: "build".into(),
                outcome: CaseOutcome::Error {
                    message: "could not check".into(),
                    detail: message.to_string(),
                },
            }],
        }
    }
}

fn document(info: &RunInfo, suites: &[Suite]) -> String {
    let count = |cases: &mut dyn Iterator<Item = &Case>, failure: bool| {
        cases
            .filter(|c| match c.outcome {
                CaseOutcome::Passed => false,
                CaseOutcome::Failure { .. } => failure,
                CaseOutcome::Error { .. } => !failure,
            })
            .count()
    };
    let all = || suites.iter().flat_map(|s| &s.cases);
    let tests = all().count();
    let failures = count(&mut all(), true);
    let errors = count(&mut all(), false);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"workbook checker\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">"
    );
    for s in suites {
        let _ = write!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" time=\"{:.3}\"",
            escape(&s.name),
            s.cases.len(),
            count(&mut s.cases.iter(), true),
            count(&mut s.cases.iter(), false),
            s.seconds
        );
        if !s.timestamp.is_empty() {
            let _ = write!(out, " timestamp=\"{}\"", s.timestamp);
        }
        out.push_str(">\n");
        let _ = writeln!(
            out,
            "    <properties><property name=\"engine\" value=\"{}\"/><property name=\"checker\" value=\"{}\"/></properties>",
            escape(&info.engine),
            info.checker_version
        );
        for c in &s.cases {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
                escape(&s.name),
                escape(&c.name)
            );
            let (element, message, detail) = match &c.outcome {
                CaseOutcome::Passed => {
                    out.push_str("/>\n");
                    continue;
                }
                CaseOutcome::Failure { message, detail } => ("failure", message, detail),
                CaseOutcome::Error { message, detail } => ("error", message, detail),
            };
            let _ = writeln!(
                out,
                ">\n      <{element} message=\"{}\" type=\"{}\">{}</{element}>\n    </testcase>",
                escape(message),
                escape(&c.kind),
                escape(detail)
            );
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Text as XML 1.0 may hold it: markup escaped, and the characters it forbids (the control
/// characters of a build's colours and progress bars, lone surrogates cannot occur in a
/// `str`) shown as `\u{…}` escapes instead of making the document unreadable.
fn escape(text: &str) -> String {
    let allowed = |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..);
    if text.chars().all(allowed) {
        return quick_xml::escape::escape(text).into_owned();
    }
    let shown: String = text
        .chars()
        .map(|c| {
            if allowed(c) {
                c.to_string()
            } else {
                c.escape_unicode().to_string()
            }
        })
        .collect();
    quick_xml::escape::escape(&shown).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_visible_escapes() {
        assert_eq!(escape("a\u{1b}[31m<b>\u{7}"), "a\\u{1b}[31m&lt;b&gt;\\u{7}");
        assert_eq!(escape("tab\tline\n"), "tab\tline\n");
    }
}
