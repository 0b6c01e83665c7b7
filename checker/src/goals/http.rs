//! `http`: start the image and expect an HTTP status (and body pattern) on a port.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::settings::{check_capabilities, check_timeout, sandbox};
use super::verdict::quote_tail;
use super::verdict::program_must_be;
use super::{Goal, Kind, Pattern, Verdict};
use crate::facts::inventory::ProgramRule;
use crate::docker::api::{EngineApi, HttpRequest};
use crate::error::CheckerError;
use crate::facts::{AppOutcome, Measurements};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Http {
    pub port: u16,
    #[serde(default = "default_http_path")]
    pub path: String,
    #[serde(default = "default_http_status")]
    pub status: u16,
    #[serde(default)]
    pub body: Option<Pattern>,
    #[serde(default = "default_http_timeout")]
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

fn default_http_timeout() -> u64 {
    20
}
fn default_http_path() -> String {
    "/".to_string()
}
fn default_http_status() -> u16 {
    200
}

impl Kind for Http {
    fn validate(&self, at: &str) -> Result<(), String> {
        // Port 0 asks the kernel for any port: nothing the app can be listening on.
        if self.port == 0 {
            return Err(format!("{at}: `port` must be between 1 and 65535, not 0"));
        }
        if !(100..=599).contains(&self.status) {
            return Err(format!(
                "{at}: `status` must be an HTTP status (100 to 599), not {}",
                self.status
            ));
        }
        if let Some(pattern) = &self.body {
            pattern.check(at, "body")?;
        }
        if !self.path.starts_with('/') {
            return Err(format!("{at}: `path` must start with `/`"));
        }
        check_capabilities(at, &self.capabilities)?;
        check_timeout(at, self.timeout_s)
    }
    fn target(&self) -> String {
        let Http {
            port,
            path,
            status,
            timeout_s,
            ..
        } = self;
        match &self.body {
            Some(p) => {
                format!("GET :{port}{path} → {status}, body matches /{p}/, within {timeout_s} s")
            }
            None => format!("GET :{port}{path} → {status} within {timeout_s} s"),
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
        let outcome = engine
            .serve_and_get(
                image,
                &HttpRequest {
                    port: self.port,
                    path: &self.path,
                    expected_status: self.status,
                },
                labels,
                &sandbox(self.writable, &self.capabilities),
                timeout,
            )
            .await?;
        Ok(Some(outcome))
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        let v = self.judge_app(goal, m).naming_undeclared_args(&m.undeclared_args);
        program_must_be(v, self.program, m)
    }
}

impl Http {
    fn judge_app(&self, goal: &Goal, m: &Measurements) -> Verdict {
        let target = self.target();
        match m.apps.get(&goal.id) {
            Some(AppOutcome::Answered {
                status: got,
                body: text,
                seconds,
                ..
            }) => {
                let ok = *got == self.status && self.body.as_ref().is_none_or(|p| p.is_match(text));
                let quoted = match &self.body {
                    Some(pattern) => quote_where_pattern_looks(pattern, text),
                    None => quote_tail(text),
                };
                Verdict::new(goal, ok, format!("{got} after {seconds:.2} s, body {quoted}"), target)
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

/// The part of a page a body pattern is about, quoted: where it matched; else where the
/// longest start of the text it looks for is (`href="/assets/site.` of
/// `href="/assets/site\.[0-9a-f]{8}\.css"`), so the learner sees what the page has in its
/// place; else the page's start. Not its end: a page's end (`</body></html>`) says nothing.
fn quote_where_pattern_looks(pattern: &Pattern, body: &str) -> String {
    const AROUND: usize = 80;
    let found = pattern
        .regex()
        .and_then(|r| r.find(body))
        .map(|m| m.start())
        .or_else(|| {
            literal_prefixes(pattern.as_str())
                .iter()
                .filter_map(|literal| longest_start_found(literal, body))
                .max_by_key(|(len, _)| *len)
                .map(|(_, at)| at)
        });
    let chars: Vec<(usize, char)> = body.char_indices().collect();
    let start_char = match found {
        Some(at) => chars.partition_point(|(i, _)| *i < at).saturating_sub(AROUND / 2),
        None => 0,
    };
    let excerpt: String = chars[start_char..]
        .iter()
        .take(2 * AROUND)
        .map(|(_, c)| c)
        .collect();
    let before = if start_char > 0 { "…" } else { "" };
    let after = if start_char + 2 * AROUND < chars.len() { "…" } else { "" };
    format!("{:?}", format!("{before}{}{after}", excerpt.trim()))
}

/// The literal texts a match of `pattern` starts with (none when it starts with a class or
/// can start anywhere).
fn literal_prefixes(pattern: &str) -> Vec<String> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let Ok(hir) = regex_syntax::parse(pattern) else {
        return Vec::new();
    };
    let mut extractor = Extractor::new();
    extractor.kind(ExtractKind::Prefix);
    extractor
        .extract(&hir)
        .literals()
        .unwrap_or_default()
        .iter()
        .map(|l| String::from_utf8_lossy(l.as_bytes()).into_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

/// The longest start of `literal` (at least 4 characters) found in `body`: its length and
/// where it is.
fn longest_start_found(literal: &str, body: &str) -> Option<(usize, usize)> {
    let ends: Vec<usize> = literal
        .char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .collect();
    ends.iter()
        .rev()
        .filter(|end| literal[..**end].chars().count() >= 4)
        .find_map(|end| body.find(&literal[..*end]).map(|at| (*end, at)))
}

#[cfg(test)]
mod quoting {
    use super::*;

    #[test]
    fn a_missed_pattern_quotes_where_the_page_differs() {
        let pattern = Pattern::new(r#"href="/assets/site\.[0-9a-f]{8}\.css""#);
        let page = format!(
            "<!doctype html><html><head><title>Site</title>{}<link rel=\"stylesheet\" href=\"/assets/site.css\"></head><body>{}</body></html>",
            " ".repeat(300),
            "text ".repeat(200)
        );
        let quoted = quote_where_pattern_looks(&pattern, &page);
        assert!(quoted.contains(r#"href=\"/assets/site.css\""#), "{quoted}");
        assert!(!quoted.contains("</html>"), "{quoted}");
        let good = page.replace("site.css", "site.0123abcd.css");
        assert!(quote_where_pattern_looks(&pattern, &good).contains("site.0123abcd.css"));
        let other = Pattern::new("[0-9]+ items");
        assert!(quote_where_pattern_looks(&other, &page).starts_with("\"<!doctype html>"));
    }
}

#[cfg(test)]
mod judging {
    use crate::facts::AppOutcome;
    use crate::goals::verdict::testing::{goal, evaluate_goal, measured};
    use crate::goals::{GoalKind};

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
                writable: false,
                capabilities: vec![],
                program: None,
            }),
        );
        let mut m = measured();
        m.apps.insert(
            "serves".into(),
            AppOutcome::Answered {
                status: 200,
                body: "ok\n".into(),
                seconds: 0.4,
                uids: vec![],
            },
        );
        assert!(evaluate_goal(&g, &m).met);
        m.apps.insert(
            "serves".into(),
            AppOutcome::Answered {
                status: 404,
                body: "ok".into(),
                seconds: 0.4,
                uids: vec![],
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
}
