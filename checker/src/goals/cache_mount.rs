//! `cache-mount`: after a source edit, the build still succeeds with the dependencies' source
//! out of reach, and fetches nothing again: the dependencies come from a cache mount. In a
//! copy of the context (see `refetch`), the probe builds once with cache mounts of its own,
//! empty, then again after a line of spaces is appended to `change` and every file under
//! `dependencies`, and every copy of one of their files anywhere in the context (found by
//! content: a proxy copied to `deps/` is emptied too), emptied. A layer that holds
//! downloaded dependencies is rebuilt, downloading again, whenever anything before it
//! changes; only a cache mount (`RUN --mount=type=cache,target=…`) keeps them between
//! builds, so only then does that build succeed. A rebuilt step that still wrote the
//! dependencies' files fetched them from a copy the probe did not find, and misses too.

use serde::{Deserialize, Serialize};

use super::refetch::{before_failure, fetched_in_numbers, fetching_in_words, EditProbe};
use super::settings::check_relative;
use super::{Goal, Kind, Probe, Verdict};
use crate::error::CheckerError;
use crate::facts::{Measurements, ProbeOutcome, Rebuilt};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CacheMount {
    /// A source file of the exercise folder; a line of spaces is appended to it.
    pub change: String,
    /// The file or folder of the exercise folder the dependencies are fetched from (a module
    /// proxy): withheld, with every copy of its files, for the build after the edit.
    pub dependencies: String,
}

impl Kind for CacheMount {
    fn validate(&self, at: &str) -> Result<(), String> {
        check_relative(at, "change", &self.change)?;
        check_relative(at, "dependencies", &self.dependencies)
    }
    fn target(&self) -> String {
        format!(
            "builds after {} changes with every copy of {}'s files emptied, and fetches nothing again: the dependencies come from a cache mount",
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
            withhold: true,
        };
        Ok(Some(ProbeOutcome::CacheMount(edit.measure(goal, probe).await?)))
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        let target = self.target();
        let Some(ProbeOutcome::CacheMount(rebuilt)) = m.probes.get(&goal.id) else {
            return Verdict::new(goal, false, "not measured".into(), target);
        };
        let (change, emptied) = (&self.change, emptied(rebuilt));
        if let Some(error) = &rebuilt.before_error {
            let (measured, detail) = before_failure(rebuilt, error);
            return Verdict::new(goal, false, measured, target).detail(detail);
        }
        if let Some(error) = &rebuilt.after_error {
            return Verdict::new(
                goal,
                false,
                format!("failed with {emptied} emptied"),
                target,
            )
            .detail(format!(
                "after {change} changed, with {emptied} emptied ({}), the build failed at {error}. The dependencies were fetched again, not taken from a cache: a layer's content is rebuilt whenever a step before it changes, a cache mount's stays from build to build. Mount one where the tool keeps what it downloads, on every step that downloads: RUN --mount=type=cache,target=<that folder> …",
                withheld_in_words(&rebuilt.withheld)
            ));
        }
        if !rebuilt.fetched.is_empty() {
            return Verdict::new(
                goal,
                false,
                format!("fetched again: {}", fetched_in_numbers(&rebuilt.fetched)),
                target,
            )
            .detail(format!(
                "after {change} changed, with {emptied} emptied, {}. They came from a copy of the dependencies that is not a cache mount: fetch them from {} into a cache mount",
                fetching_in_words(&rebuilt.fetched),
                self.dependencies
            ));
        }
        Verdict::new(
            goal,
            true,
            format!("built with {emptied} emptied; nothing fetched again"),
            target,
        )
    }
}

/// How many files were emptied: "4 of the dependencies' files".
fn emptied(rebuilt: &Rebuilt) -> String {
    format!("{} of the dependencies' files", rebuilt.withheld.len())
}

/// Where the emptied files were, by top folder: "3 in deps/, 4 in goproxy/".
fn withheld_in_words(withheld: &[String]) -> String {
    let mut folders: Vec<(String, usize)> = Vec::new();
    for path in withheld {
        let folder = match path.split_once('/') {
            Some((top, _)) => format!("{top}/"),
            None => path.clone(),
        };
        match folders.iter_mut().find(|(f, _)| *f == folder) {
            Some((_, n)) => *n += 1,
            None => folders.push((folder, 1)),
        }
    }
    folders
        .iter()
        .map(|(f, n)| format!("{n} in {f}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::FetchingStep;

    fn judged(rebuilt: Rebuilt) -> Verdict {
        let kind = CacheMount {
            change: "src/main.go".into(),
            dependencies: "goproxy".into(),
        };
        let goal = Goal {
            id: "module-cache".into(),
            kind: super::super::GoalKind::CacheMount(kind.clone()),
            advice: None,
        };
        let mut m = Measurements::default();
        m.probes
            .insert(goal.id.clone(), ProbeOutcome::CacheMount(rebuilt));
        kind.judge(&goal, &[], &m)
    }

    fn withheld() -> Vec<String> {
        [
            "deps/example.com/slugify/@v/v1.3.0.zip",
            "goproxy/example.com/slugify/@v/list",
            "goproxy/example.com/slugify/@v/v1.3.0.info",
            "goproxy/example.com/slugify/@v/v1.3.0.mod",
            "goproxy/example.com/slugify/@v/v1.3.0.zip",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn building_without_any_copy_of_the_source_is_met() {
        let v = judged(Rebuilt {
            own_cache_mounts: 3,
            withheld: withheld(),
            new_layers: 2,
            ..Rebuilt::default()
        });
        assert!(v.met);
        assert_eq!(
            v.measured,
            "built with 5 of the dependencies' files emptied; nothing fetched again"
        );
    }

    #[test]
    fn failing_without_it_is_a_miss_that_says_where_and_to_mount_a_cache() {
        let v = judged(Rebuilt {
            withheld: withheld(),
            after_error: Some("[build 8/10] RUN go build (line 29): verifying example.com/slugify@v1.3.0: checksum mismatch".into()),
            ..Rebuilt::default()
        });
        assert!(!v.met);
        assert_eq!(v.measured, "failed with 5 of the dependencies' files emptied");
        let detail = v.detail.unwrap();
        assert!(
            detail.starts_with("after src/main.go changed, with 5 of the dependencies' files emptied (1 in deps/, 4 in goproxy/), the build failed at [build 8/10] RUN go build (line 29): verifying example.com/slugify@v1.3.0: checksum mismatch. The dependencies"),
            "{detail}"
        );
        assert!(detail.contains("--mount=type=cache"), "{detail}");
    }

    #[test]
    fn a_step_that_still_wrote_the_modules_fetched_them_from_somewhere_else() {
        let v = judged(Rebuilt {
            withheld: withheld(),
            fetched: vec![FetchingStep {
                stage: "build".into(),
                step: "RUN go build ./src".into(),
                line: Some(12),
                files: 3,
                paths: vec!["/root/go/pkg/mod/example.com/slugify@v1.3.0/slugify.go".into()],
                cached_elsewhere: vec![],
            }],
            ..Rebuilt::default()
        });
        assert!(!v.met);
        assert_eq!(
            v.measured,
            "fetched again: 3 of the dependencies' files, by 1 step"
        );
        let detail = v.detail.unwrap();
        assert!(detail.contains("`RUN go build ./src` (line 12, stage build) ran again"), "{detail}");
        assert!(detail.ends_with("fetch them from goproxy into a cache mount"), "{detail}");
    }

    #[test]
    fn a_build_that_fails_with_empty_caches_is_named_as_that() {
        let v = judged(Rebuilt {
            own_cache_mounts: 2,
            before_error: Some("[build 7/7] RUN go build (line 9): go: module lookup disabled by GOPROXY=off".into()),
            ..Rebuilt::default()
        });
        assert!(!v.met);
        assert_eq!(v.measured, "the build failed with empty cache mounts");
        assert!(v.detail.unwrap().starts_with("with its 2 cache mounts empty"));
    }
}
