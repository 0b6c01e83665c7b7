//! JUnit XML, as CI test-report readers (Jenkins, GitLab, GitHub actions' reporters) read it:
//! one testsuite per exercise and variant, one testcase per goal; a missed goal is a
//! `<failure>` whose message carries measured vs target.

use std::fmt::Write;

use quick_xml::escape::escape;

use super::{Exporter, RunInfo};
use crate::check::{CheckResult, VerifyResult};
use crate::goals::verdict::Verdict;

pub struct Junit;

impl Exporter for Junit {
    fn check(&self, info: &RunInfo, results: &[CheckResult]) -> String {
        let suites: Vec<Suite> = results.iter().map(|r| Suite::of(r, |v| v.met)).collect();
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
    failure: Option<(String, String)>,
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
                    failure: (!passes(v)).then(|| {
                        (
                            format!("measured {}, target {}", v.measured, v.target),
                            v.detail.clone().unwrap_or_default(),
                        )
                    }),
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
                failure: Some(("could not be checked".into(), message.to_string())),
            }],
        }
    }
}

fn document(info: &RunInfo, suites: &[Suite]) -> String {
    let tests: usize = suites.iter().map(|s| s.cases.len()).sum();
    let failures: usize = suites
        .iter()
        .flat_map(|s| &s.cases)
        .filter(|c| c.failure.is_some())
        .count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"workbook checker\" tests=\"{tests}\" failures=\"{failures}\">"
    );
    for s in suites {
        let f = s.cases.iter().filter(|c| c.failure.is_some()).count();
        let _ = write!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"0\" skipped=\"0\" time=\"{:.3}\"",
            escape(&s.name),
            s.cases.len(),
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
            match &c.failure {
                None => out.push_str("/>\n"),
                Some((message, detail)) => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                        escape(message),
                        escape(&c.kind),
                        escape(detail)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
