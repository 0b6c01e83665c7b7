//! `http`: start the image and expect an HTTP status (and body pattern) on a port.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::settings::{check_capabilities, check_timeout, sandbox};
use super::verdict::quote_tail;
use super::{Goal, Kind, Pattern, Verdict};
use crate::docker::engine::{Engine, HttpRequest};
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
        engine: &Engine,
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
        let target = self.target();
        match m.apps.get(&goal.id) {
            Some(AppOutcome::Answered {
                status: got,
                body: text,
                seconds,
            }) => {
                let ok = *got == self.status && self.body.as_ref().is_none_or(|p| p.is_match(text));
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
                Verdict::new(goal, false, "did not start".into(), target).detail(message.clone())
            }
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
}
