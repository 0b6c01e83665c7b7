//! `cache-reuse`: after a line of spaces is appended to `change` (in a copy of the context),
//! no step fetches the dependencies again. Judged by what the rebuild wrote, not by step
//! names or logs (see `refetch`): a `RUN` that ran again and wrote files of the dependencies
//! into its layer fetched them, however it is spelt (exec form, `|| true`, `2>/dev/null`,
//! `GOFLAGS=-mod=mod`) and whichever step it is. A download step kept in the cache by the
//! layer order passes; so does a cache mount that the probe's own builds filled (Docker's Go
//! guide mounts the module cache on `go build` instead of a download step).

use serde::{Deserialize, Serialize};

use super::refetch::{before_failure, fetched_in_numbers, fetching_in_words, EditProbe};
use super::settings::check_relative;
use super::{Goal, Kind, Probe, Verdict};
use crate::error::CheckerError;
use crate::facts::{Measurements, ProbeOutcome};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CacheReuse {
    /// A source file of the exercise folder; a line of spaces is appended to it.
    pub change: String,
    /// The file or folder of the exercise folder the dependencies are fetched from (a module
    /// proxy): its files, and those inside its zip archives, are what a fetch writes.
    pub dependencies: String,
}

impl Kind for CacheReuse {
    fn validate(&self, at: &str) -> Result<(), String> {
        check_relative(at, "change", &self.change)?;
        check_relative(at, "dependencies", &self.dependencies)
    }
    fn target(&self) -> String {
        format!(
            "after {} changes, no step fetches the dependencies ({}) again",
            self.change, self.dependencies
        )
    }
    async fn probe(
        &self,
        goal: &Goal,
        probe: &mut Probe<'_>,
    ) -> Result<Option<ProbeOutcome>, CheckerError> {
        let edit = EditProbe {
            change: &self.change,
            dependencies: &self.dependencies,
            withhold: false,
        };
        Ok(Some(ProbeOutcome::CacheReuse(edit.measure(goal, probe).await?)))
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        let target = self.target();
        let Some(ProbeOutcome::CacheReuse(rebuilt)) = m.probes.get(&goal.id) else {
            return Verdict::new(goal, false, "not measured".into(), target);
        };
        let change = &self.change;
        if let Some(error) = &rebuilt.before_error {
            let (measured, detail) = before_failure(rebuilt, error);
            return Verdict::new(goal, false, measured, target).detail(detail);
        }
        if let Some(error) = &rebuilt.after_error {
            return Verdict::new(goal, false, "the rebuild failed".into(), target)
                .detail(format!("after {change} changed, the build failed at {error}"));
        }
        if !rebuilt.fetched.is_empty() {
            let advice = if rebuilt.fetched.iter().all(|f| f.cached_elsewhere.is_empty()) {
                ". A step runs again when anything before it in its stage changed, and every edit changes the sources: copy only what the download reads (the dependency list: go.mod and go.sum, package.json and its lock file…) before the step that downloads, and the sources after it"
            } else {
                ""
            };
            return Verdict::new(
                goal,
                false,
                format!("fetched again: {}", fetched_in_numbers(&rebuilt.fetched)),
                target,
            )
            .detail(format!(
                "after {change} changed, {}{advice}",
                fetching_in_words(&rebuilt.fetched)
            ));
        }
        Verdict::new(goal, true, nothing_fetched(rebuilt), target)
    }
}

/// What a rebuild that fetched nothing measured, in numbers.
fn nothing_fetched(rebuilt: &crate::facts::Rebuilt) -> String {
    match rebuilt.new_layers {
        0 => "nothing fetched again: no layer rebuilt after the edit".into(),
        n => format!(
            "nothing fetched again: {n} layer{} rebuilt after the edit, none holding a file of the dependencies ({} looked for)",
            if n == 1 { "" } else { "s" },
            rebuilt.dependency_files
        ),
    }
}

#[cfg(test)]
mod judging {
    use super::*;
    use crate::facts::{FetchingStep, Rebuilt};
    use crate::goals::verdict::testing::{evaluate_goal, goal, measured};
    use crate::goals::GoalKind;

    fn judged(rebuilt: Rebuilt) -> Verdict {
        let g = goal(
            "cache",
            GoalKind::CacheReuse(CacheReuse {
                change: "src/main.go".into(),
                dependencies: "goproxy".into(),
            }),
        );
        let mut m = measured();
        m.probes.insert("cache".into(), ProbeOutcome::CacheReuse(rebuilt));
        evaluate_goal(&g, &m)
    }

    fn download_step() -> FetchingStep {
        FetchingStep {
            stage: "build".into(),
            step: "RUN go mod download".into(),
            line: Some(19),
            files: 5,
            paths: vec![
                "/root/go/pkg/mod/cache/download/example.com/slugify/@v/v1.3.0.mod".into(),
                "/root/go/pkg/mod/cache/download/example.com/slugify/@v/v1.3.0.zip".into(),
                "/root/go/pkg/mod/example.com/slugify@v1.3.0/go.mod".into(),
            ],
            cached_elsewhere: vec![],
        }
    }

    #[test]
    fn a_step_that_wrote_the_modules_again_is_named_with_its_line_and_the_way_out() {
        let v = judged(Rebuilt {
            dependency_files: 5,
            new_layers: 3,
            fetched: vec![download_step()],
            ..Rebuilt::default()
        });
        assert!(!v.met);
        assert_eq!(
            v.measured,
            "fetched again: 5 of the dependencies' files, by 1 step"
        );
        let detail = v.detail.unwrap();
        assert!(
            detail.starts_with("after src/main.go changed, `RUN go mod download` (line 19, stage build) ran again and wrote 5 of the dependencies' files into its layer (/root/go/pkg/mod/cache/download/example.com/slugify/@v/v1.3.0.mod, "),
            "{detail}"
        );
        assert!(detail.contains(", …)"), "more files than shown: {detail}");
        assert!(detail.ends_with("before the step that downloads, and the sources after it"));
    }

    #[test]
    fn a_step_without_the_cache_mount_another_step_fills_is_told_to_mount_it() {
        // The README's next step half done: the module cache mounted on the download only.
        let fetched = FetchingStep {
            step: "RUN CGO_ENABLED=0 go build ./src".into(),
            line: Some(22),
            cached_elsewhere: vec![("/root/go/pkg/mod".into(), 19)],
            ..download_step()
        };
        let v = judged(Rebuilt {
            fetched: vec![fetched],
            ..Rebuilt::default()
        });
        let detail = v.detail.unwrap();
        assert!(detail.contains("(line 22, stage build)"), "{detail}");
        assert!(
            detail.ends_with("they belong in /root/go/pkg/mod, the cache mount of line 19's step, which this step does not mount, so it fetched them again. Mount the same cache on every step that reads them"),
            "no blame on the copy order: {detail}"
        );
    }

    #[test]
    fn nothing_written_again_is_met_and_says_how_much_was_looked_at() {
        let v = judged(Rebuilt {
            dependency_files: 5,
            new_layers: 2,
            ..Rebuilt::default()
        });
        assert!(v.met);
        assert_eq!(
            v.measured,
            "nothing fetched again: 2 layers rebuilt after the edit, none holding a file of the dependencies (5 looked for)"
        );
    }

    #[test]
    fn failed_builds_are_misses_that_say_which_and_why() {
        let v = judged(Rebuilt {
            own_cache_mounts: 1,
            before_error: Some("[build 4/6] RUN go build (line 12): go: example.com/slugify@v1.3.0: module lookup disabled by GOPROXY=off".into()),
            ..Rebuilt::default()
        });
        assert!(!v.met);
        assert_eq!(v.measured, "the build failed with empty cache mounts");
        let detail = v.detail.unwrap();
        assert!(detail.starts_with("with its 1 cache mount empty"), "{detail}");
        assert!(detail.contains("at [build 4/6] RUN go build (line 12): go: example.com/slugify@v1.3.0: module lookup disabled by GOPROXY=off. A cache mount starts empty"));
        let v = judged(Rebuilt {
            after_error: Some("[build 5/6] COPY src/ src/ (line 14): not found".into()),
            ..Rebuilt::default()
        });
        assert_eq!(v.measured, "the rebuild failed");
        assert_eq!(
            v.detail.unwrap(),
            "after src/main.go changed, the build failed at [build 5/6] COPY src/ src/ (line 14): not found"
        );
    }

    #[test]
    fn nothing_measured_is_not_a_pass() {
        let g = goal(
            "cache",
            GoalKind::CacheReuse(CacheReuse {
                change: "src/main.go".into(),
                dependencies: "goproxy".into(),
            }),
        );
        assert!(!evaluate_goal(&g, &measured()).met);
    }
}
