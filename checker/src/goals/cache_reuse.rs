//! `cache-reuse`: after a line is appended to `change` (in a copy of the context), every
//! build step whose instruction matches the regex `step` (its flags, such as `--mount=…`,
//! left out) must come back from the cache, and, with `downloads`, no step of that rebuild
//! may print a line matching it: a cached step that did nothing useful (`go mod download ||
//! true` before go.mod is copied) leaves the download to the compile step, on every edit.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::probe::{first_line, with_fresh_tail};
use super::settings::check_relative;
use super::{Goal, Kind, Pattern, Probe, Verdict};
use super::probe::Plan;
use crate::docker::api::BuildStep;
use crate::error::CheckerError;
use crate::facts::{Measurements, ProbeOutcome};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CacheReuse {
    pub change: String,
    pub step: Pattern,
    /// A line a step prints when it fetches dependencies (`^go: downloading `).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downloads: Option<Pattern>,
}

impl Kind for CacheReuse {
    fn validate(&self, at: &str) -> Result<(), String> {
        self.step.check(at, "step")?;
        if let Some(downloads) = &self.downloads {
            downloads.check(at, "downloads")?;
        }
        check_relative(at, "change", &self.change)
    }
    fn target(&self) -> String {
        let cached = format!(
            "steps matching /{}/ cached after {} changes",
            self.step, self.change
        );
        match &self.downloads {
            Some(d) => format!("{cached}, and no step downloading again (/{d}/)"),
            None => cached,
        }
    }
    /// Rebuilds with `change` changed and reads which steps were cached and what the others
    /// printed.
    async fn probe(
        &self,
        goal: &Goal,
        probe: &mut Probe<'_>,
    ) -> Result<Option<ProbeOutcome>, CheckerError> {
        let change = &self.change;
        // The change must be new to the build cache every time, and harmless.
        let content = with_fresh_tail(probe.read(goal, "change", change)?);
        probe.note(goal, &format!("rebuilding with {change} changed"));
        let plan = Plan {
            replacements: BTreeMap::from([(change.clone(), content)]),
            tag_suffix: Some("probe".into()),
            ..Plan::default()
        };
        let result = probe.builder.build(&plan).await;
        probe.discard(&plan, &result).await;
        let built = match result {
            Ok(built) => built,
            Err(e @ CheckerError::BuildFailed { .. }) => {
                return Ok(Some(ProbeOutcome::CacheReuse {
                    steps: vec![],
                    seen: vec![],
                    downloads: vec![],
                    build_error: Some(first_line(&e.to_string())),
                }))
            }
            Err(e) => return Err(e),
        };
        let downloads = match &self.downloads {
            Some(pattern) => download_lines(&built.steps, &self.step, pattern),
            None => vec![],
        };
        Ok(Some(ProbeOutcome::CacheReuse {
            steps: matching_steps(&built.steps, &self.step),
            seen: dockerfile_steps(&built.steps)
                .map(|s| s.name.clone())
                .collect(),
            downloads,
            build_error: None,
        }))
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        let target = self.target();
        let Some(ProbeOutcome::CacheReuse {
            steps,
            seen,
            downloads,
            build_error,
        }) = m.probes.get(&goal.id)
        else {
            return Verdict::new(goal, false, "not measured".into(), target);
        };
        if let Some(error) = build_error {
            return Verdict::new(goal, false, "the rebuild failed".into(), target).detail(
                format!("after {} changed, the build failed: {error}", self.change),
            );
        }
        if steps.is_empty() {
            return Verdict::new(goal, false, "no step matches".into(), target).detail(format!(
                "no step of the rebuild matches /{}/ (flags such as --mount are left out when matching); its steps: {}",
                self.step,
                if seen.is_empty() { "none".to_string() } else { seen.join("; ") }
            ));
        }
        let rebuilt: Vec<&str> = steps
            .iter()
            .filter(|(_, c)| !c)
            .map(|(n, _)| n.as_str())
            .collect();
        let cached = format!("{} of {} cached", steps.len() - rebuilt.len(), steps.len());
        if !rebuilt.is_empty() {
            return Verdict::new(goal, false, cached, target).detail(format!(
                "rebuilt: {}: every edit of {} runs it again. Copy only what that step needs before it, and the sources after",
                rebuilt.join("; "),
                self.change
            ));
        }
        match downloads.first() {
            None => Verdict::new(goal, true, cached, target),
            Some((step, line)) => Verdict::new(
                goal,
                false,
                format!("{cached}, but another step downloads again"),
                target,
            )
            .detail(format!(
                "after {} changed, {step} printed `{line}`: the cached step left the download to it, so every edit downloads again. Copy the dependency list (go.mod, go.sum) before the cached step, and let nothing there hide a failure (`|| true`)",
                self.change
            )),
        }
    }
}

/// The steps that stand for Dockerfile instructions (`[label n/m] …`), not BuildKit's own.
fn dockerfile_steps(steps: &[BuildStep]) -> impl Iterator<Item = &BuildStep> {
    steps
        .iter()
        .filter(|s| s.name.starts_with('[') && !s.name.starts_with("[internal]"))
}

/// A step's name without the instruction's flags: `[build 4/6] RUN
/// --mount=type=cache,target=/root/go/pkg/mod go mod download` → `[build 4/6] RUN go mod
/// download`, so a pattern names the command whatever mounts it runs with.
pub fn without_flags(name: &str) -> String {
    static FLAGS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(\[[^\]]*\]\s+)?(\S+)((?:\s+--\S+)+)").expect("a valid regex")
    });
    FLAGS.replace(name, "$1$2").into_owned()
}

/// Dockerfile steps whose name (without flags) matches, with whether each was cached.
fn matching_steps(steps: &[BuildStep], pattern: &Pattern) -> Vec<(String, bool)> {
    dockerfile_steps(steps)
        .filter(|s| pattern.is_match(&without_flags(&s.name)))
        .map(|s| (s.name.clone(), s.cached))
        .collect()
}

/// The steps other than the cached ones that printed a download line: (step, its first such
/// line).
fn download_lines(steps: &[BuildStep], step: &Pattern, downloads: &Pattern) -> Vec<(String, String)> {
    dockerfile_steps(steps)
        .filter(|s| !step.is_match(&without_flags(&s.name)))
        .filter_map(|s| {
            let line = s.log.lines().map(str::trim).find(|l| downloads.is_match(l))?;
            Some((s.name.clone(), line.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &str, cached: bool, log: &str) -> BuildStep {
        BuildStep {
            name: name.into(),
            cached,
            log: log.into(),
            ..BuildStep::default()
        }
    }

    #[test]
    fn matching_steps_keep_the_cache_flag() {
        let steps = vec![
            step("[internal] load build context", false, ""),
            step("[build 2/4] RUN apt-get install golang-go", true, ""),
            step("[build 3/4] COPY . .", false, ""),
        ];
        assert_eq!(
            matching_steps(&steps, &"apt-get|COPY".into()),
            vec![
                ("[build 2/4] RUN apt-get install golang-go".into(), true),
                ("[build 3/4] COPY . .".into(), false)
            ]
        );
    }

    #[test]
    fn flags_are_left_out_when_matching() {
        assert_eq!(
            without_flags(
                "[build 4/6] RUN --mount=type=cache,target=/root/go/pkg/mod go mod download"
            ),
            "[build 4/6] RUN go mod download"
        );
        assert_eq!(
            without_flags("[2/3] RUN --mount=type=cache,target=/a --network=none make --jobs=2"),
            "[2/3] RUN make --jobs=2",
            "only the instruction's flags, not the command's"
        );
        assert_eq!(without_flags("[build 3/4] COPY . ."), "[build 3/4] COPY . .");
        let steps = vec![step(
            "[build 4/6] RUN --mount=type=cache,target=/root/go/pkg/mod go mod download",
            true,
            "",
        )];
        assert_eq!(matching_steps(&steps, &"RUN go mod download".into()).len(), 1);
    }

    #[test]
    fn download_lines_come_from_the_other_steps() {
        let steps = vec![
            step("[build 5/7] RUN go mod download || true", true, ""),
            step(
                "[build 7/7] RUN go build ./src",
                false,
                "go: downloading example.com/slugify v1.3.0\n",
            ),
        ];
        assert_eq!(
            download_lines(&steps, &"RUN go mod download".into(), &"^go: downloading ".into()),
            vec![(
                "[build 7/7] RUN go build ./src".to_string(),
                "go: downloading example.com/slugify v1.3.0".to_string()
            )]
        );
    }
}

#[cfg(test)]
mod judging {
    use crate::facts::ProbeOutcome;
    use crate::goals::verdict::testing::{evaluate_goal, goal, measured};
    use crate::goals::GoalKind;

    fn cache_goal() -> crate::goals::Goal {
        goal(
            "cache",
            GoalKind::CacheReuse(crate::goals::cache_reuse::CacheReuse {
                change: "main.go".into(),
                step: "go mod download".into(),
                downloads: Some("^go: downloading ".into()),
            }),
        )
    }

    fn outcome(steps: Vec<(&str, bool)>, downloads: Vec<(&str, &str)>) -> ProbeOutcome {
        ProbeOutcome::CacheReuse {
            steps: steps.iter().map(|(n, c)| (n.to_string(), *c)).collect(),
            seen: vec!["[1/3] COPY . .".into(), "[2/3] RUN make".into()],
            downloads: downloads
                .iter()
                .map(|(s, l)| (s.to_string(), l.to_string()))
                .collect(),
            build_error: None,
        }
    }

    #[test]
    fn cache_reuse_names_the_rebuilt_steps() {
        let g = cache_goal();
        let mut m = measured();
        m.probes.insert(
            "cache".into(),
            outcome(vec![("[2/4] RUN go mod download", false)], vec![]),
        );
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert!(v
            .detail
            .unwrap()
            .starts_with("rebuilt: [2/4] RUN go mod download"));
        m.probes.insert(
            "cache".into(),
            outcome(vec![("[2/4] RUN go mod download", true)], vec![]),
        );
        assert!(evaluate_goal(&g, &m).met);
    }

    #[test]
    fn no_matching_step_lists_the_steps_seen() {
        let g = cache_goal();
        let mut m = measured();
        m.probes.insert("cache".into(), outcome(vec![], vec![]));
        let v = evaluate_goal(&g, &m);
        assert!(!v.met, "a pattern that matches nothing proves nothing");
        assert_eq!(v.measured, "no step matches");
        assert!(
            v.detail.unwrap().ends_with("its steps: [1/3] COPY . .; [2/3] RUN make"),
            "the steps it saw"
        );
        m.probes.insert(
            "cache".into(),
            ProbeOutcome::CacheReuse {
                steps: vec![],
                seen: vec![],
                downloads: vec![],
                build_error: Some("the build failed at [2/3] RUN make".into()),
            },
        );
        let v = evaluate_goal(&g, &m);
        assert_eq!(v.measured, "the rebuild failed");
        assert!(v.detail.unwrap().ends_with("the build failed at [2/3] RUN make"));
    }

    #[test]
    fn a_cached_step_that_left_the_download_to_another_misses() {
        let g = cache_goal();
        let mut m = measured();
        m.probes.insert(
            "cache".into(),
            outcome(
                vec![("[2/4] RUN go mod download || true", true)],
                vec![(
                    "[4/4] RUN go build",
                    "go: downloading example.com/slugify v1.3.0",
                )],
            ),
        );
        let v = evaluate_goal(&g, &m);
        assert!(!v.met);
        assert_eq!(v.measured, "1 of 1 cached, but another step downloads again");
        let detail = v.detail.unwrap();
        assert!(
            detail.contains("[4/4] RUN go build printed `go: downloading example.com/slugify v1.3.0`"),
            "{detail}"
        );
        assert!(detail.contains("Copy the dependency list (go.mod, go.sum) before"));
    }
}
