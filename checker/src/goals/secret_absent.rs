//! `secret-absent`: the bytes of a secret the build uses (a file of the exercise folder,
//! which `exercise.toml` also serves as a build secret) appear nowhere anyone with the image
//! or the build cache can read them: in no layer of the image nor of any stage it is built
//! from, in no history entry, not in the config. A stage's layers never ship in the final
//! image, but they are in the engine's build cache, in a `--target` image of that stage and
//! in every `--cache-to …,mode=max` export; `COPY` + `rm` leaves the file in the COPY's
//! layer, and an ARG's value is in the history of every RUN that sees it.

use serde::{Deserialize, Serialize};

use super::probe::{first_line, Plan};
use super::settings::check_relative;
use super::{Goal, Kind, Probe, Verdict};
use crate::docker::contents;
use crate::error::CheckerError;
use crate::facts::{Measurements, ProbeOutcome};

/// Shorter secrets would be found by chance in megabytes of binaries.
pub const MIN_SECRET_BYTES: usize = 12;

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SecretAbsent {
    /// The file of the exercise folder holding the secret; its content, surrounding
    /// whitespace left out (what `$(cat …)` reads), is what must not be found.
    pub file: String,
}

impl Kind for SecretAbsent {
    fn validate(&self, at: &str) -> Result<(), String> {
        check_relative(at, "file", &self.file)
    }
    fn target(&self) -> String {
        format!(
            "the content of {} in no layer of the image or its stages, nor in history or config",
            self.file
        )
    }
    /// Looks for the secret in the image, then builds each stage the image is built from as
    /// a target (from the cache: the main build just made them) and looks in it.
    async fn probe(
        &self,
        goal: &Goal,
        probe: &mut Probe<'_>,
    ) -> Result<Option<ProbeOutcome>, CheckerError> {
        let secret = probe.read(goal, "file", &self.file)?;
        let secret = secret.trim_ascii();
        if secret.len() < MIN_SECRET_BYTES {
            return Err(CheckerError::InvalidExercise {
                file: probe.dir.join("exercise.toml"),
                message: format!(
                    "key `goals` (id `{}`): `file` names {}, which holds {} bytes: a secret of fewer than {MIN_SECRET_BYTES} would be found by chance",
                    goal.id,
                    self.file,
                    secret.len()
                ),
            });
        }
        let mut found: Vec<String> = contents::find_bytes(probe.engine, probe.image, secret)
            .await?
            .into_iter()
            .map(|place| format!("the image: {place}"))
            .collect();
        let mut searched = vec!["the image".to_string()];
        let mut unbuilt = Vec::new();
        let graph = probe.graph;
        for stage in graph.dependencies(graph.target) {
            let name = graph.target_name(stage);
            probe.note(goal, &format!("looking for the secret in stage {name}"));
            let plan = Plan {
                target: Some(name.clone()),
                name_stages: true,
                tag_suffix: Some(format!("stage-{name}")),
                ..Plan::default()
            };
            let tag = probe.builder.tag(&plan);
            let result = probe.builder.build(&plan).await;
            match result {
                Ok(_) => {
                    let places = contents::find_bytes(probe.engine, &tag, secret).await;
                    probe.discard(&plan, &result).await;
                    found.extend(places?.into_iter().map(|p| format!("stage {name}: {p}")));
                    searched.push(format!("stage {name}"));
                }
                Err(e @ CheckerError::BuildFailed { .. }) => {
                    unbuilt.push((name, first_line(&e.to_string())));
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Some(ProbeOutcome::Secret {
            found,
            searched,
            unbuilt,
        }))
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        let target = self.target();
        let Some(ProbeOutcome::Secret {
            found,
            searched,
            unbuilt,
        }) = m.probes.get(&goal.id)
        else {
            return Verdict::new(goal, false, "not measured".into(), target);
        };
        if !found.is_empty() {
            let shown: Vec<&str> = found.iter().take(4).map(String::as_str).collect();
            let more = match found.len() - shown.len() {
                0 => String::new(),
                n => format!(" (and {n} more)"),
            };
            return Verdict::new(
                goal,
                false,
                format!("found in {} place{}", found.len(), plural(found.len())),
                target,
            )
            .detail(format!(
                "the content of {} is in {}{more}. A stage's layers never ship in the final image, but they stay in the build cache, in a `--target` image and in a `--cache-to …,mode=max` export; a file copied in and removed later stays in the COPY's layer; an ARG's value is in the history. Mount it for the one RUN that needs it: RUN --mount=type=secret,id=<id>,required=true …, which reads it from /run/secrets/<id>",
                self.file,
                shown.join("; ")
            ));
        }
        if let Some((stage, error)) = unbuilt.first() {
            return Verdict::new(goal, false, "a stage could not be searched".into(), target)
                .detail(format!(
                    "building stage {stage} on its own (`--target {stage}`) failed: {error}"
                ));
        }
        Verdict::new(
            goal,
            true,
            format!("not found ({})", searched.join(", ")),
            target,
        )
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn goal() -> (Goal, SecretAbsent) {
        let kind = SecretAbsent {
            file: "data.key".into(),
        };
        let goal = Goal {
            id: "secret".into(),
            kind: super::super::GoalKind::SecretAbsent(kind.clone()),
            advice: None,
        };
        (goal, kind)
    }

    fn judged(outcome: ProbeOutcome) -> Verdict {
        let (goal, kind) = goal();
        let mut m = Measurements::default();
        m.probes.insert("secret".into(), outcome);
        kind.judge(&goal, &[], &m)
    }

    #[test]
    fn a_secret_in_a_stage_layer_is_a_miss_that_names_the_layer_and_the_way_out() {
        let v = judged(ProbeOutcome::Secret {
            found: vec!["stage build: layer 7 of 9 (COPY data.key ./)".into()],
            searched: vec!["the image".into(), "stage build".into()],
            unbuilt: vec![],
        });
        assert!(!v.met);
        assert_eq!(v.measured, "found in 1 place");
        let detail = v.detail.unwrap();
        assert!(detail.contains("stage build: layer 7 of 9 (COPY data.key ./)"), "{detail}");
        assert!(detail.contains("--mount=type=secret"), "{detail}");
    }

    #[test]
    fn nowhere_is_met_and_says_where_it_looked() {
        let v = judged(ProbeOutcome::Secret {
            found: vec![],
            searched: vec!["the image".into(), "stage build".into()],
            unbuilt: vec![],
        });
        assert!(v.met);
        assert_eq!(v.measured, "not found (the image, stage build)");
    }

    #[test]
    fn a_stage_that_could_not_be_searched_is_not_a_pass() {
        let v = judged(ProbeOutcome::Secret {
            found: vec![],
            searched: vec!["the image".into()],
            unbuilt: vec![("build".into(), "RUN false failed".into())],
        });
        assert!(!v.met);
        assert!(v.detail.unwrap().contains("--target build"));
    }

    #[test]
    fn nothing_measured_is_not_a_pass() {
        let (goal, kind) = goal();
        assert!(!kind.judge(&goal, &[], &Measurements::default()).met);
    }
}
