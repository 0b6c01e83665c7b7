//! `secret-absent`: a secret the build uses (a file of the exercise folder, which
//! `exercise.toml` may also serve as a build secret, or one value of a `KEY=value` file
//! such as `.env`) appears, in no form, anywhere anyone with the image or the build cache
//! can read it: in no layer of the image nor of any stage it is built from, in no history
//! entry, not in the config. Its bytes are looked for as they are, in base64 and in hex,
//! in plain files and inside compressed files and archives (`docker::secret_search`). A
//! stage's layers never ship in the final image, but they are in the engine's build cache,
//! in a `--target` image of that stage and in every `--cache-to …,mode=max` export;
//! `COPY` + `rm` leaves the file in the COPY's layer, and an ARG's value is in the history
//! of every RUN that sees it.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::probe::{first_line, Plan};
use super::settings::check_relative;
use super::{Goal, Kind, Probe, Verdict};
use crate::docker::contents::{self, SecretSearch};
use crate::docker::secret_search::{Needles, TooShort, MIN_SECRET_BYTES};
use crate::error::CheckerError;
use crate::facts::{Measurements, ProbeOutcome};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SecretAbsent {
    /// The file of the exercise folder holding the secret; its content, surrounding
    /// whitespace left out (what `$(cat …)` reads), is what must not be found.
    pub file: String,
    /// In a `KEY=value` file (a `.env`), the key whose value alone is the secret: the rest
    /// of the file (a URL, comments) may ship.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

impl SecretAbsent {
    /// The secret, in words: "the content of data.key", "the value of TOKEN in .env".
    fn what(&self) -> String {
        match &self.key {
            Some(key) => format!("the value of {key} in {}", self.file),
            None => format!("the content of {}", self.file),
        }
    }

    /// The secret's bytes in `content` (the file's), or why there are none.
    fn secret(&self, content: &[u8]) -> Result<Vec<u8>, String> {
        let Some(key) = &self.key else {
            return Ok(content.trim_ascii().to_vec());
        };
        let text = String::from_utf8_lossy(content);
        match env_value(&text, key) {
            Some(value) => Ok(value.into_bytes()),
            None => Err(format!("no line `{key}=…`")),
        }
    }

    /// The needles of the secret `file` holds, or the error naming the goal's key.
    fn needles(&self, goal: &Goal, probe: &Probe<'_>) -> Result<Arc<Needles>, CheckerError> {
        let invalid = |message: String| CheckerError::InvalidExercise {
            file: probe.dir.join("exercise.toml"),
            message: format!("key `goals` (id `{}`): `file` names {}, {message}", goal.id, self.file),
        };
        let content = probe.read(goal, "file", &self.file)?;
        let secret = self
            .secret(&content)
            .map_err(|why| invalid(format!("which has {why}")))?;
        let needles = Needles::new(&secret).map_err(|TooShort { bytes }| {
            invalid(format!(
                "whose secret is {bytes} bytes (whitespace left out): a secret of fewer than {MIN_SECRET_BYTES} would be found by chance"
            ))
        })?;
        Ok(Arc::new(needles))
    }
}

/// The value `key` is given in a `KEY=value` file, as docker compose and a shell read a
/// `.env`: `export ` may come first, quotes around the value are left out, and so is a
/// ` #` comment after an unquoted one; the last line that sets the key wins.
fn env_value(text: &str, key: &str) -> Option<String> {
    text.lines().rev().find_map(|line| {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let (name, value) = line.split_once('=')?;
        (name.trim_end() == key).then(|| unquote(value.trim()))
    })
}

fn unquote(value: &str) -> String {
    for quote in ['"', '\''] {
        if let Some(inner) = value.strip_prefix(quote) {
            if let Some(end) = inner.find(quote) {
                return inner[..end].to_string();
            }
        }
    }
    match value.find(" #") {
        Some(at) => value[..at].trim_end().to_string(),
        None => value.to_string(),
    }
}

/// A key of a `KEY=value` file: what a shell accepts as a variable name, and dots.
fn check_key(at: &str, key: &str) -> Result<(), String> {
    let valid = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{at}: `key` must name a variable of the file (letters, digits, `_`, `.`, `-`), not `{key}`"
        ))
    }
}

impl Kind for SecretAbsent {
    fn validate(&self, at: &str) -> Result<(), String> {
        check_relative(at, "file", &self.file)?;
        match &self.key {
            Some(key) => check_key(at, key),
            None => Ok(()),
        }
    }
    fn target(&self) -> String {
        format!(
            "{} in no form (as is, base64, hex, compressed) in any layer of the image or its stages, nor in history or config",
            self.what()
        )
    }
    /// Looks for the secret in the image, then builds each stage the image is built from as
    /// a target (from the cache: the main build just made them) and looks in it.
    async fn probe(
        &self,
        goal: &Goal,
        probe: &mut Probe<'_>,
    ) -> Result<Option<ProbeOutcome>, CheckerError> {
        let needles = self.needles(goal, probe)?;
        let image = contents::find_secret(probe.engine, probe.image, &needles).await?;
        let mut outcome = Searched::default();
        outcome.add("the image", image);
        let graph = probe.graph;
        for stage in graph.dependencies(graph.target) {
            let name = graph.target_name(stage);
            probe.note(goal, &format!("looking for the secret in stage {name}"));
            match search_stage(probe, &name, &needles).await? {
                Ok(search) => outcome.add(&format!("stage {name}"), search),
                Err(why) => outcome.unbuilt.push((name, why)),
            }
        }
        Ok(Some(ProbeOutcome::Secret {
            found: outcome.found,
            searched: outcome.searched,
            unbuilt: outcome.unbuilt,
            unsearched: outcome.unsearched,
        }))
    }
    fn judge(&self, goal: &Goal, _: &[Goal], m: &Measurements) -> Verdict {
        let target = self.target();
        let Some(ProbeOutcome::Secret {
            found,
            searched,
            unbuilt,
            unsearched,
        }) = m.probes.get(&goal.id)
        else {
            return Verdict::new(goal, false, "not measured".into(), target);
        };
        if !found.is_empty() {
            return Verdict::new(
                goal,
                false,
                format!("found in {} place{}", found.len(), plural(found.len())),
                target,
            )
            .detail(format!(
                "{} is in {}. Encoding or compressing it hides nothing: base64, hex and a compressed copy are read back as easily. A stage's layers never ship in the final image, but they stay in the build cache, in a `--target` image and in a `--cache-to …,mode=max` export; a file copied in and removed later stays in the COPY's layer; ENV, LABEL and ARG values are in the config and the history. Keep it out of the build context (.dockerignore), or mount it for the one RUN that needs it: RUN --mount=type=secret,id=<id>,required=true …, which reads it from /run/secrets/<id>",
                self.what(),
                listed(found)
            ));
        }
        if let Some((stage, error)) = unbuilt.first() {
            return Verdict::new(goal, false, "a stage could not be searched".into(), target)
                .detail(format!(
                    "building stage {stage} on its own (`--target {stage}`) failed: {error}"
                ));
        }
        if !unsearched.is_empty() {
            return Verdict::new(goal, false, "not everything could be searched".into(), target)
                .detail(format!(
                    "{} was not found, but the search could not open {}. What it does not read could hold the secret: leave such files out of the image",
                    self.what(),
                    listed(unsearched)
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

/// What the searches of the image and its stages found, as the outcome records it.
#[derive(Default)]
struct Searched {
    found: Vec<String>,
    searched: Vec<String>,
    unbuilt: Vec<(String, String)>,
    unsearched: Vec<String>,
}

impl Searched {
    fn add(&mut self, what: &str, search: SecretSearch) {
        let placed = |place: String| format!("{what}: {place}");
        self.found.extend(search.found.into_iter().map(placed));
        self.unsearched.extend(search.unsearched.into_iter().map(placed));
        self.searched.push(what.to_string());
    }
}

/// Builds stage `name` as a target (from the cache: the main build just made it) and
/// searches it; `Err(why)` when the stage does not build on its own.
async fn search_stage(
    probe: &mut Probe<'_>,
    name: &str,
    needles: &Arc<Needles>,
) -> Result<Result<SecretSearch, String>, CheckerError> {
    let plan = Plan {
        target: Some(name.to_string()),
        name_stages: true,
        tag_suffix: Some(format!("stage-{name}")),
        ..Plan::default()
    };
    let tag = probe.builder.tag(&plan);
    let result = probe.builder.build(&plan).await;
    match result {
        Ok(_) => {
            let search = contents::find_secret(probe.engine, &tag, needles).await;
            probe.discard(&plan, &result).await;
            Ok(Ok(search?))
        }
        Err(e @ CheckerError::BuildFailed { .. }) => Ok(Err(first_line(&e.to_string()))),
        Err(e) => Err(e),
    }
}

/// The first few of `places`, and how many more: a verdict names a few.
fn listed(places: &[String]) -> String {
    let shown: Vec<&str> = places.iter().take(4).map(String::as_str).collect();
    match places.len() - shown.len() {
        0 => shown.join("; "),
        n => format!("{} (and {n} more)", shown.join("; ")),
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

    fn goal_with(kind: SecretAbsent) -> (Goal, SecretAbsent) {
        let goal = Goal {
            id: "secret".into(),
            kind: super::super::GoalKind::SecretAbsent(kind.clone()),
            advice: None,
        };
        (goal, kind)
    }

    fn goal() -> (Goal, SecretAbsent) {
        goal_with(SecretAbsent {
            file: "data.key".into(),
            key: None,
        })
    }

    fn token() -> SecretAbsent {
        SecretAbsent {
            file: ".env".into(),
            key: Some("PAYMENTS_API_TOKEN".into()),
        }
    }

    fn outcome(found: &[&str], unsearched: &[&str]) -> ProbeOutcome {
        ProbeOutcome::Secret {
            found: found.iter().map(|s| s.to_string()).collect(),
            searched: vec!["the image".into(), "stage build".into()],
            unbuilt: vec![],
            unsearched: unsearched.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn judged(outcome: ProbeOutcome) -> Verdict {
        let (goal, kind) = goal();
        let mut m = Measurements::default();
        m.probes.insert("secret".into(), outcome);
        kind.judge(&goal, &[], &m)
    }

    #[test]
    fn a_secret_in_a_stage_layer_is_a_miss_that_names_the_layer_and_the_way_out() {
        let v = judged(outcome(
            &["stage build: layer 7 of 9 (COPY data.key ./): raw in src/data.key"],
            &[],
        ));
        assert!(!v.met);
        assert_eq!(v.measured, "found in 1 place");
        let detail = v.detail.unwrap();
        assert!(
            detail.starts_with(
                "the content of data.key is in stage build: layer 7 of 9 (COPY data.key ./): raw in src/data.key. Encoding or compressing it hides nothing"
            ),
            "{detail}"
        );
        assert!(detail.contains("--mount=type=secret"), "{detail}");
    }

    #[test]
    fn many_places_are_a_few_named_and_the_rest_counted() {
        let places: Vec<String> = (1..=6).map(|i| format!("the image: layer {i} of 6")).collect();
        let places: Vec<&str> = places.iter().map(String::as_str).collect();
        let v = judged(outcome(&places, &[]));
        assert_eq!(v.measured, "found in 6 places");
        assert!(
            v.detail.unwrap().contains("the image: layer 4 of 6 (and 2 more)"),
        );
    }

    #[test]
    fn nowhere_is_met_and_says_where_it_looked() {
        let v = judged(outcome(&[], &[]));
        assert!(v.met);
        assert_eq!(v.measured, "not found (the image, stage build)");
    }

    #[test]
    fn what_the_search_could_not_open_is_not_a_pass() {
        let v = judged(outcome(
            &[],
            &["the image: layer 2 of 3 (COPY …): bomb.gz (gzip): more than 1024 MiB uncompressed, the rest not searched"],
        ));
        assert!(!v.met);
        assert_eq!(v.measured, "not everything could be searched");
        let detail = v.detail.unwrap();
        assert!(
            detail.starts_with("the content of data.key was not found, but the search could not open the image: layer 2 of 3 (COPY …): bomb.gz (gzip)"),
            "{detail}"
        );
    }

    #[test]
    fn a_stage_that_could_not_be_searched_is_not_a_pass() {
        let v = judged(ProbeOutcome::Secret {
            found: vec![],
            searched: vec!["the image".into()],
            unbuilt: vec![("build".into(), "RUN false failed".into())],
            unsearched: vec![],
        });
        assert!(!v.met);
        assert!(v.detail.unwrap().contains("--target build"));
    }

    #[test]
    fn nothing_measured_is_not_a_pass() {
        let (goal, kind) = goal();
        assert!(!kind.judge(&goal, &[], &Measurements::default()).met);
    }

    #[test]
    fn a_key_names_one_value_of_an_env_file_and_the_verdict_says_so() {
        let env = b"# local settings\nPAYMENTS_API_URL=https://payments.example.com/sandbox\nPAYMENTS_API_TOKEN=FAKE-tok-8f3a-0000-not-a-real-secret\n";
        assert_eq!(
            token().secret(env).unwrap(),
            b"FAKE-tok-8f3a-0000-not-a-real-secret"
        );
        assert_eq!(
            token().secret(b"PAYMENTS_API_URL=x\n").unwrap_err(),
            "no line `PAYMENTS_API_TOKEN=…`"
        );
        let (goal, kind) = goal_with(token());
        let mut m = Measurements::default();
        m.probes.insert(
            "secret".into(),
            outcome(&["the image: config: ENV PAYMENTS_API_TOKEN: raw"], &[]),
        );
        let detail = kind.judge(&goal, &[], &m).detail.unwrap();
        assert!(
            detail.starts_with("the value of PAYMENTS_API_TOKEN in .env is in the image: config: ENV PAYMENTS_API_TOKEN: raw."),
            "{detail}"
        );
        assert!(kind.target().starts_with("the value of PAYMENTS_API_TOKEN in .env in no form"));
    }

    #[test]
    fn env_values_are_read_as_compose_and_a_shell_read_them() {
        let text = "export A=1\nB = spaced \nC=\"quoted # not a comment\"\nD='single' # note\nE=bare # comment\n# F=commented\nA=last\n";
        assert_eq!(env_value(text, "A").as_deref(), Some("last"));
        assert_eq!(env_value(text, "B").as_deref(), Some("spaced"));
        assert_eq!(env_value(text, "C").as_deref(), Some("quoted # not a comment"));
        assert_eq!(env_value(text, "D").as_deref(), Some("single"));
        assert_eq!(env_value(text, "E").as_deref(), Some("bare"));
        assert_eq!(env_value(text, "F"), None);
    }

    #[test]
    fn without_a_key_the_whole_file_trimmed_is_the_secret() {
        let (_, kind) = goal();
        assert_eq!(kind.secret(b"  wb15-abc\n").unwrap(), b"wb15-abc");
    }

    #[test]
    fn a_key_must_be_a_variable_name() {
        assert!(token().validate("goal `s`").is_ok());
        let bad = SecretAbsent {
            key: Some("TOKEN=x".into()),
            ..token()
        };
        assert_eq!(
            bad.validate("goal `s`").unwrap_err(),
            "goal `s`: `key` must name a variable of the file (letters, digits, `_`, `.`, `-`), not `TOKEN=x`"
        );
    }
}
