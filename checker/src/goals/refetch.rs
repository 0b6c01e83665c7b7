//! What the two cache goals measure, and how: `cache-reuse` (exercise 07: the layer order
//! keeps the download cached) and `cache-mount` (exercise 15: a cache mount keeps the
//! modules) both ask that after a source edit the dependencies are not fetched again. They
//! are judged by what the builds did, not by what the steps are called or print:
//!
//! 1. Every cache mount of the Dockerfile gets an id of the probe's own, made empty by a seed
//!    build (`Probe::own_cache_mounts`): what other builds left in shared mounts is not
//!    there, so a build that cannot fetch on its own fails here, and a cache that helps is
//!    one these builds filled themselves. The caches are removed at the end.
//! 2. The build before the edit: the Dockerfile as it is (with those ids), every stage the
//!    image is built from built as a target and tagged, so that its layers stay on the
//!    engine until the end (on the containerd store another checkout's `clean` can otherwise
//!    take them out of the build cache, moby/moby#48700).
//! 3. The build after the edit: a line of spaces appended to `change`, and for `cache-mount`
//!    every file of the context that is under the dependencies' folder or has the content of
//!    one of their files emptied (found by content: a copy under another name is emptied
//!    too), as if the proxy were out of reach.
//! 4. Every layer of the second build's stages that the first build did not make was made by
//!    a step that ran again. A `RUN` layer among them holding files of the dependencies
//!    (`dependencies::Dependencies`, by content: a module's files as the go command unpacks
//!    them) fetched them again, whatever the step prints or hides (`|| true`, `2>/dev/null`)
//!    and whichever step it is. A `COPY` of the context is a copy, not a fetch.
//!
//! The judging (`cache_reuse`, `cache_mount`) reads the facts this gathers; the wording
//! they share is here.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;

use super::dependencies::Dependencies;
use super::probe::{with_fresh_tail, Built, Plan};
use super::{Goal, Probe};
use crate::docker::contents::{self, Entry, ReadLayer};
use crate::docker::dockerfile::{Base, StageGraph, Step};
use crate::error::CheckerError;
use crate::facts::{FetchingStep, Rebuilt};

/// How many paths of a fetching step's layer the facts keep, as examples.
const PATHS_KEPT: usize = 3;

/// One probe of the cache goals: the file the edit changes, the dependencies' folder, and
/// whether their copies are emptied for the build after the edit.
pub(super) struct EditProbe<'s> {
    pub change: &'s str,
    pub dependencies: &'s str,
    pub withhold: bool,
}

/// The builds a probe made, each kept (tagged) until the probe is done.
type Kept = Vec<(Plan, Result<Built, CheckerError>)>;

impl EditProbe<'_> {
    pub(super) async fn measure(
        &self,
        goal: &Goal,
        probe: &mut Probe<'_>,
    ) -> Result<Rebuilt, CheckerError> {
        let dependencies = Dependencies::read(probe, goal, self.dependencies)?;
        let edited = with_fresh_tail(probe.read(goal, "change", self.change)?);
        let mut edit = BTreeMap::from([(self.change.to_string(), edited)]);
        let withheld = match self.withhold {
            true => dependencies.copies_in(probe.context, self.dependencies)?,
            false => Vec::new(),
        };
        for path in &withheld {
            edit.entry(path.clone()).or_default();
        }
        let cache_ids = probe.own_cache_mounts(goal).await;
        let mut kept = Kept::new();
        // Measured again when the engine is seen losing cache between the builds (each
        // removal of an image elsewhere can take it, and a busy engine removes often), once at
        // most: a Dockerfile that fetches again does so every time, and its miss stands once
        // an unchanged build is seen fully cached, or after the second measure.
        let mut measures_again = 0;
        let outcome = loop {
            let outcome = self
                .before_and_after(
                    goal,
                    probe,
                    &dependencies,
                    cache_ids.as_deref(),
                    edit.clone(),
                    &mut kept,
                )
                .await;
            let missed = matches!(&outcome, Ok(rebuilt) if !rebuilt.fetched.is_empty());
            if !missed
                || measures_again == MEASURES_AFTER_A_LOST_CACHE
                || !unchanged_build_rebuilt(goal, probe, cache_ids.as_deref(), &mut kept).await?
            {
                break outcome;
            }
            measures_again += 1;
            probe.note(
                goal,
                "the unchanged Dockerfile rebuilt a step too: the engine lost build cache while another image was removed (moby/moby#48700 on the containerd image store), not the Dockerfile's doing; measuring again",
            );
            discard_all(probe, &mut kept).await;
        };
        discard_all(probe, &mut kept).await;
        if let Some(prefix) = &cache_ids {
            probe.remove_cache_mounts(prefix).await;
        }
        Ok(Rebuilt {
            own_cache_mounts: cache_ids.map_or(0, |_| probe.cache_mount_count()),
            dependency_files: dependencies.len(),
            withheld,
            ..outcome?
        })
    }

    async fn before_and_after(
        &self,
        goal: &Goal,
        probe: &mut Probe<'_>,
        dependencies: &Dependencies,
        cache_ids: Option<&str>,
        edit: BTreeMap<String, Vec<u8>>,
        kept: &mut Kept,
    ) -> Result<Rebuilt, CheckerError> {
        let graph = probe.graph;
        let stages: Vec<usize> = std::iter::once(graph.target)
            .chain(graph.dependencies(graph.target))
            .collect();
        probe.note(goal, "building as it is, to compare with");
        let before = Stages {
            cache_ids,
            stages: &stages,
            phase: "before",
        };
        if let Err(error) = before.build(probe, BTreeMap::new(), kept).await? {
            return Ok(Rebuilt {
                before_error: Some(error),
                ..Rebuilt::default()
            });
        }
        let mut known = BTreeSet::new();
        for (plan, _) in kept.iter() {
            known.extend(probe.engine.diff_ids(&probe.builder.tag(plan)).await?);
        }
        probe.note(goal, &self.what_changes(edit.len() - 1));
        let after = Stages {
            cache_ids,
            stages: &stages,
            phase: "after",
        };
        if let Err(error) = after.build(probe, edit, kept).await? {
            return Ok(Rebuilt {
                after_error: Some(error),
                ..Rebuilt::default()
            });
        }
        let mut new_layers = BTreeSet::new();
        let mut fetched = Vec::new();
        for (&stage, (plan, _)) in stages.iter().zip(&kept[stages.len()..]) {
            let tag = probe.builder.tag(plan);
            let new: BTreeSet<String> = probe
                .engine
                .diff_ids(&tag)
                .await?
                .into_iter()
                .filter(|d| !known.contains(d) && !new_layers.contains(d))
                .collect();
            if new.is_empty() {
                continue;
            }
            new_layers.extend(new.iter().cloned());
            let layers = contents::layers_of(probe.engine, &tag, &new).await?;
            fetched.extend(fetching_steps(graph, stage, &layers, dependencies));
        }
        Ok(Rebuilt {
            new_layers: new_layers.len(),
            fetched,
            ..Rebuilt::default()
        })
    }

    /// The note before the build after the edit.
    fn what_changes(&self, withheld: usize) -> String {
        let change = self.change;
        match withheld {
            0 => format!("rebuilding with {change} changed"),
            n => format!(
                "rebuilding with {change} changed and {n} file{} of the dependencies ({}/ and copies of its files) emptied",
                if n == 1 { "" } else { "s" },
                self.dependencies
            ),
        }
    }
}

/// How many times a probe measures again when the engine lost cache between its builds.
/// Once: a right answer whose first measure the engine spoiled gets a second, and that is
/// all measuring again can do. In CI (28.5, beside the other tests), the unchanged build
/// rebuilt a step in every round: each of three wrong answers to 07 was measured four times,
/// 1277–1280 s each, and every fourth measure missed as the first had.
const MEASURES_AFTER_A_LOST_CACHE: usize = 1;

/// Removes what the probe built, newest first.
async fn discard_all(probe: &mut Probe<'_>, kept: &mut Kept) {
    for (plan, built) in kept.iter().rev() {
        probe.discard(plan, built).await;
    }
    kept.clear();
}

/// Whether the Dockerfile, built again unchanged after a probe saw a step fetch anew, gives
/// a layer the build before the edit did not have. A Dockerfile that fetches again after an
/// edit does not when nothing changed: then the engine itself lost the cache between the
/// builds (an image removed meanwhile took content the build cache pointed to, on the
/// containerd store), and the probe's miss was the engine's, not the learner's.
async fn unchanged_build_rebuilt(
    goal: &Goal,
    probe: &mut Probe<'_>,
    cache_ids: Option<&str>,
    kept: &mut Kept,
) -> Result<bool, CheckerError> {
    let graph = probe.graph;
    let stages: Vec<usize> = std::iter::once(graph.target)
        .chain(graph.dependencies(graph.target))
        .collect();
    let mut known = BTreeSet::new();
    for (plan, _) in kept.iter().take(stages.len()) {
        known.extend(probe.engine.diff_ids(&probe.builder.tag(plan)).await?);
    }
    probe.note(
        goal,
        "building it unchanged again, to tell a miss of the Dockerfile's from the engine's",
    );
    let control = Stages {
        cache_ids,
        stages: &stages,
        phase: "control",
    };
    let first = kept.len();
    if control.build(probe, BTreeMap::new(), kept).await?.is_err() {
        return Ok(false);
    }
    for (plan, _) in &kept[first..] {
        let layers = probe.engine.diff_ids(&probe.builder.tag(plan)).await?;
        if layers.iter().any(|layer| !known.contains(layer)) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// One phase's builds: every stage the image is built from, each as a target (the final
/// stage first, which builds the others on the way; they then come from the cache).
struct Stages<'a> {
    cache_ids: Option<&'a str>,
    stages: &'a [usize],
    phase: &'a str,
}

impl Stages<'_> {
    /// Builds each stage with `replacements`, keeping what was built in `kept`; the first
    /// failed build in words (`Ok(Err(…))`), or an error that stops the check.
    async fn build(
        &self,
        probe: &mut Probe<'_>,
        replacements: BTreeMap<String, Vec<u8>>,
        kept: &mut Kept,
    ) -> Result<Result<(), String>, CheckerError> {
        for &stage in self.stages {
            let name = probe.graph.target_name(stage);
            let plan = Plan {
                target: Some(name.clone()),
                name_stages: true,
                replacements: replacements.clone(),
                cache_ids: self.cache_ids.map(str::to_string),
                tag_suffix: Some(format!("probe-{}-{name}", self.phase)),
                ..Plan::default()
            };
            let built = probe.builder.build(&plan).await;
            if built.is_ok() {
                kept.push((plan, built));
                continue;
            }
            probe.discard(&plan, &built).await;
            let Err(error) = built else { continue };
            return match error {
                CheckerError::BuildFailed {
                    step, line, log, ..
                } => {
                    let step = as_written(probe.graph, &step, line);
                    Ok(Err(why_it_failed(&step, line, &log)))
                }
                other => Err(other),
            };
        }
        Ok(Ok(()))
    }
}

/// A failed step's name with its instruction as the Dockerfile writes it (`[build 4/4] RUN
/// --mount=type=cache,target=/root/go/pkg/mod go build`), not as the probe rewrote it to
/// build (its cache mounts' ids are the probe's); the engine's name where the line is not
/// known.
fn as_written(graph: &StageGraph, step: &str, line: Option<usize>) -> String {
    let written = line.and_then(|line| {
        graph
            .stages
            .iter()
            .flat_map(|s| &s.steps)
            .find(|s| s.line == line)
    });
    match (step.split_once("] "), written) {
        (Some((label, _)), Some(written)) => {
            let text: Vec<&str> = written
                .text
                .lines()
                .map(|l| l.trim_end().trim_end_matches('\\'))
                .collect();
            format!("{label}] {}", collapse(&text.join(" ")))
        }
        _ => step.to_string(),
    }
}

/// The `RUN` layers among `layers` (new layers of `stage`'s image, base first) that hold
/// files of the dependencies, each named by the step whose command its history records.
pub(super) fn fetching_steps(
    graph: &StageGraph,
    stage: usize,
    layers: &[ReadLayer],
    dependencies: &Dependencies,
) -> Vec<FetchingStep> {
    let chain = run_steps_of(graph, stage);
    // Layers and steps come in the same order: each layer is matched after the last one's.
    let mut next = 0;
    let mut found = Vec::new();
    for layer in layers {
        let Some(command) = layer.created_by.as_deref().and_then(run_command_of) else {
            continue;
        };
        let matched = chain[next..]
            .iter()
            .position(|(_, step)| records(&command, step))
            .map(|i| next + i);
        if let Some(i) = matched {
            next = i + 1;
        }
        let paths: Vec<String> = layer
            .entries
            .iter()
            .filter_map(|entry| match entry {
                Entry::Write { path, file, .. }
                    if file.sha256.as_ref().is_some_and(|h| dependencies.holds(h)) =>
                {
                    Some(format!("/{path}"))
                }
                _ => None,
            })
            .collect();
        if paths.is_empty() {
            continue;
        }
        let step = matched.map(|i| chain[i]);
        found.push(FetchingStep {
            stage: graph.stages[step.map_or(stage, |(s, _)| s)].label(),
            step: shortened(&format!(
                "RUN {}",
                step.and_then(|(_, s)| s.command.as_deref())
                    .map_or(command.clone(), collapse)
            )),
            line: step.map(|(_, s)| s.line),
            files: paths.len(),
            cached_elsewhere: cached_elsewhere(graph, &paths, step.map(|(_, s)| s.line)),
            paths: paths.into_iter().take(PATHS_KEPT).collect(),
        });
    }
    found
}

/// The `RUN` steps whose layers `stage`'s image holds: those of the stages it is built on
/// (`FROM <stage>`), then its own, each with its stage.
fn run_steps_of(graph: &StageGraph, stage: usize) -> Vec<(usize, &Step)> {
    let mut chain = match graph.stages[stage].base {
        Base::Stage(base) if base < stage => run_steps_of(graph, base),
        _ => Vec::new(),
    };
    chain.extend(
        graph.stages[stage]
            .steps
            .iter()
            .filter(|s| s.keyword == "RUN")
            .map(|s| (stage, s)),
    );
    chain
}

/// The command of a history entry made by a `RUN` (`RUN |1 V=x /bin/sh -c make # buildkit`),
/// whitespace collapsed; None for any other instruction.
fn run_command_of(created_by: &str) -> Option<String> {
    let entry = created_by.trim().trim_end_matches("# buildkit").trim();
    entry.strip_prefix("RUN ").map(collapse)
}

/// Whether a `RUN` layer's recorded command is `step`'s: the history writes the shell
/// (`/bin/sh -c`, or SHELL's) and the build arguments in scope before it.
fn records(command: &str, step: &Step) -> bool {
    let Some(own) = step.command.as_deref().map(collapse) else {
        return false;
    };
    !own.is_empty() && (command == own || command.ends_with(&format!(" {own}")))
}

fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most 80 characters of an instruction, for a message.
fn shortened(step: &str) -> String {
    match step.char_indices().nth(80) {
        Some((at, _)) => format!("{}…", &step[..at]),
        None => step.to_string(),
    }
}

/// The cache mounts that steps other than the one on `line` put on a folder that holds one
/// of `paths`: (target, line of that step), in Dockerfile order.
fn cached_elsewhere(
    graph: &StageGraph,
    paths: &[String],
    line: Option<usize>,
) -> Vec<(String, usize)> {
    let mut found: Vec<(String, usize)> = Vec::new();
    for step in graph.stages.iter().flat_map(|s| &s.steps) {
        if Some(step.line) == line {
            continue;
        }
        for target in &step.cache_mounts {
            let folder = format!("{}/", target.trim_end_matches('/'));
            let holds = paths.iter().any(|p| p.starts_with(&folder));
            if holds && !found.iter().any(|(t, _)| t == target) {
                found.push((target.clone(), step.line));
            }
        }
    }
    found
}

/// A failed build in words: the step, its line, and what the tool said. That is the first
/// line of the output's tail that reads as a diagnosis (Go's `verifying …: checksum
/// mismatch`, not the `For more information, see 'go help module-auth'.` it ends with),
/// else its last line, BuildKit's own "did not complete successfully" left out.
pub(super) fn why_it_failed(step: &str, line: Option<usize>, log: &str) -> String {
    static DIAGNOSIS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)\b(error|mismatch|not found|no such|cannot|can't|could not|failed|invalid|not a valid|denied|missing|refused|unexpected|fatal|panic)\b")
            .expect("a valid regex")
    });
    let said: Vec<&str> = log
        .lines()
        .map(|l| l.trim_start().trim_start_matches('|').trim())
        .filter(|l| {
            !l.is_empty()
                && !l.contains("did not complete successfully")
                && !l.starts_with("executor failed")
        })
        .collect();
    let said = said
        .iter()
        .find(|l| DIAGNOSIS.is_match(l))
        .or(said.last())
        .map(|l| l.trim_end_matches('.'));
    let at = line.map(|l| format!(" (line {l})")).unwrap_or_default();
    match said {
        Some(said) => format!("{step}{at}: {said}"),
        None => format!("{step}{at}"),
    }
}

/// The wording both cache goals use for a build that failed before the edit: with cache
/// mounts of its own, it names them.
pub(super) fn before_failure(rebuilt: &Rebuilt, error: &str) -> (String, String) {
    match rebuilt.own_cache_mounts {
        0 => (
            "the build failed".into(),
            format!("building it as it is, the build failed at {error}"),
        ),
        n => (
            "the build failed with empty cache mounts".into(),
            format!(
                "with its {n} cache mount{} empty (ids of the checker's own, so that nothing another build left in them counts), the build failed at {error}. A cache mount starts empty on every other machine, on a fresh CI runner and after `docker builder prune`: the build must fetch what it needs itself",
                if n == 1 { "" } else { "s" }
            ),
        ),
    }
}

/// Each fetching step in words: `RUN go mod download (line 19, stage build) wrote 5 of the
/// dependencies' files into its layer (/root/go/pkg/mod/…, …)`, and why when the facts say.
pub(super) fn fetching_in_words(fetched: &[FetchingStep]) -> String {
    fetched
        .iter()
        .map(|f| {
            let at = match f.line {
                Some(line) => format!("line {line}, stage {}", f.stage),
                None => format!("stage {}", f.stage),
            };
            let more = if f.files > f.paths.len() { ", …" } else { "" };
            let mut words = format!(
                "`{}` ({at}) ran again and wrote {} of the dependencies' files into its layer ({}{more})",
                f.step,
                f.files,
                f.paths.join(", ")
            );
            if let Some((target, line)) = f.cached_elsewhere.first() {
                words.push_str(&format!(
                    ": they belong in {target}, the cache mount of line {line}'s step, which this step does not mount, so it fetched them again. Mount the same cache on every step that reads them"
                ));
            }
            words
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The number of dependency files the fetching steps wrote, and of steps.
pub(super) fn fetched_in_numbers(fetched: &[FetchingStep]) -> String {
    let files: usize = fetched.iter().map(|f| f.files).sum();
    let steps = fetched.len();
    format!(
        "{files} of the dependencies' files, by {steps} step{}",
        if steps == 1 { "" } else { "s" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docker::contents::File;
    use crate::docker::dockerfile::parse_stage_graph;

    fn graph(text: &str) -> StageGraph {
        parse_stage_graph(
            std::path::Path::new("Dockerfile"),
            text,
            &BTreeMap::new(),
            None,
        )
        .unwrap()
    }

    const MODULE: &[u8] = b"package slugify\n\nfunc Make(s string) string { return s }\n";

    fn write(path: &str, content: &[u8]) -> Entry {
        Entry::Write {
            path: path.into(),
            file: File {
                size: content.len() as u64,
                sha256: Some(contents::sha256(content)),
                ..File::default()
            },
            dpkg_text: None,
        }
    }

    fn layer(created_by: &str, entries: Vec<Entry>) -> ReadLayer {
        ReadLayer {
            diff_id: format!("sha256:{created_by}"),
            created_by: Some(created_by.into()),
            entries,
        }
    }

    fn dependencies() -> Dependencies {
        Dependencies::of(&[("goproxy/…/v1.3.0.zip: slugify.go", MODULE)])
    }

    #[test]
    fn a_run_layer_with_the_modules_fetched_them_and_names_its_step_and_line() {
        let g = graph("FROM debian AS build\nARG V=1\nCOPY . .\nRUN go mod download || true\nRUN go build \\\n    -o /server 2>/dev/null\nFROM scratch\nCOPY --from=build /server /server\n");
        let layers = vec![
            // The context copied again holds the proxy: a copy, not a fetch.
            layer(
                "COPY . . # buildkit",
                vec![write("src/goproxy/slugify.go", MODULE)],
            ),
            layer(
                "RUN |1 V=1 /bin/sh -c go build     -o /server 2>/dev/null # buildkit",
                vec![
                    write("server", b"binary"),
                    write(
                        "root/go/pkg/mod/example.com/slugify@v1.3.0/slugify.go",
                        MODULE,
                    ),
                ],
            ),
        ];
        let fetched = fetching_steps(&g, 0, &layers, &dependencies());
        assert_eq!(
            fetched,
            vec![FetchingStep {
                stage: "build".into(),
                step: "RUN go build -o /server 2>/dev/null".into(),
                line: Some(5),
                files: 1,
                paths: vec!["/root/go/pkg/mod/example.com/slugify@v1.3.0/slugify.go".into()],
                cached_elsewhere: vec![],
            }]
        );
    }

    #[test]
    fn exec_form_and_a_stage_built_on_another_are_matched_in_order() {
        let g = graph("FROM debian AS deps\nRUN [\"go\", \"mod\", \"download\"]\nFROM deps AS build\nRUN make\nRUN [\"go\", \"mod\", \"download\"]\n");
        let layers = vec![
            layer(
                "RUN go mod download # buildkit",
                vec![write("m/a.go", MODULE)],
            ),
            layer("RUN /bin/sh -c make # buildkit", vec![]),
            layer(
                "RUN go mod download # buildkit",
                vec![write("m/b.go", MODULE)],
            ),
        ];
        let fetched = fetching_steps(&g, 1, &layers, &dependencies());
        let at: Vec<(Option<usize>, &str)> =
            fetched.iter().map(|f| (f.line, f.stage.as_str())).collect();
        assert_eq!(at, vec![(Some(2), "deps"), (Some(5), "build")]);
        assert_eq!(fetched[0].step, "RUN go mod download");
    }

    #[test]
    fn modules_outside_the_cache_another_step_mounts_say_so() {
        let g = graph("FROM debian AS build\nRUN --mount=type=cache,target=/root/go/pkg/mod go mod download\nCOPY src/ src/\nRUN go build ./src\n");
        let layers = vec![layer(
            "RUN /bin/sh -c go build ./src # buildkit",
            vec![write(
                "root/go/pkg/mod/example.com/slugify@v1.3.0/slugify.go",
                MODULE,
            )],
        )];
        let fetched = fetching_steps(&g, 0, &layers, &dependencies());
        assert_eq!(fetched[0].line, Some(4));
        assert_eq!(
            fetched[0].cached_elsewhere,
            vec![("/root/go/pkg/mod".to_string(), 2)]
        );
        let words = fetching_in_words(&fetched);
        assert!(
            words.contains("they belong in /root/go/pkg/mod, the cache mount of line 2's step, which this step does not mount"),
            "{words}"
        );
        assert_eq!(
            fetched_in_numbers(&fetched),
            "1 of the dependencies' files, by 1 step"
        );
    }

    #[test]
    fn a_layer_no_step_accounts_for_is_named_by_its_history() {
        let g = graph("FROM debian\nRUN make\n");
        let layers = vec![layer(
            "RUN /bin/sh -c unzip /deps.zip # buildkit",
            vec![
                write("m/slugify.go", MODULE),
                write("m/other", b"other content"),
            ],
        )];
        let fetched = fetching_steps(&g, 0, &layers, &dependencies());
        assert_eq!(fetched[0].line, None);
        assert_eq!(fetched[0].step, "RUN /bin/sh -c unzip /deps.zip");
        assert_eq!(fetched[0].files, 1);
    }

    #[test]
    fn a_failed_step_is_named_as_the_dockerfile_writes_it() {
        let g = graph("FROM debian AS build\nRUN --mount=type=cache,target=/root/go/pkg/mod \\\n    go build\n");
        assert_eq!(
            as_written(
                &g,
                "[build 2/2] RUN --mount=type=cache,target=/root/go/pkg/mod,id=workbook-probe-s-n-/root/go/pkg/mod     go build",
                Some(2)
            ),
            "[build 2/2] RUN --mount=type=cache,target=/root/go/pkg/mod go build"
        );
        assert_eq!(
            as_written(&g, "[internal] load metadata", None),
            "[internal] load metadata"
        );
    }

    #[test]
    fn a_failure_is_told_by_the_line_that_says_what_went_wrong() {
        let mismatch = "  | go: downloading example.com/slugify v1.3.0\n  | verifying example.com/slugify@v1.3.0: checksum mismatch\n  | \tdownloaded: h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n  | \tgo.sum:     h1:Uxej8AFCreHGduW5+X4z3w1VPTOutiT/ADqMAe6Rzd0=\n  | \n  | SECURITY ERROR\n  | This download does NOT match an earlier download recorded in go.sum.\n  | \n  | For more information, see 'go help module-auth'.\n  | process \"/bin/sh -c go build\" did not complete successfully: exit code: 1";
        assert_eq!(
            why_it_failed("[build 8/10] RUN go build", Some(29), mismatch),
            "[build 8/10] RUN go build (line 29): verifying example.com/slugify@v1.3.0: checksum mismatch"
        );
        let zip = "  | go: downloading example.com/slugify v1.3.0\n  | go: example.com/slugify@v1.3.0: zip: not a valid zip file\n  | executor failed running [/bin/sh -c go build]: exit code: 1";
        assert_eq!(
            why_it_failed("[build 8/10] RUN go build", None, zip),
            "[build 8/10] RUN go build: go: example.com/slugify@v1.3.0: zip: not a valid zip file"
        );
        assert_eq!(
            why_it_failed("[2/2] RUN ./x", Some(2), "  | it went wrong somehow.\n"),
            "[2/2] RUN ./x (line 2): it went wrong somehow",
            "no line reads as a diagnosis: the last, without its full stop"
        );
    }
}
