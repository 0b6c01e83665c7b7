//! The checker's side of the book: the numbers the book prints (`checker measure`), the
//! mdBook preprocessor that puts them and the exercises' goals into the pages (`checker
//! mdbook`), and the check that every Dockerfile the book shows really builds (`checker
//! doctest`). One source for every goal and every number, so book and checker cannot disagree.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::check::CheckResult;
use crate::error::CheckerError;
use crate::facts::{format_mb, AppOutcome, ProbeOutcome};
use crate::workbook::exercise::Exercise;
use crate::workbook::Workbook;

/// Where the measured numbers live, relative to the workbook root.
pub const MEASUREMENTS_FILE: &str = "src/measurements.json";
const SCHEMA: &str = "workbook-measurements/v1";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MeasuredResults {
    pub schema: String,
    pub measured_at: DateTime<Utc>,
    pub engine: String,
    /// The engine's facts (version, API, image store, BuildKit), without its endpoint; absent
    /// in files measured before the checker recorded them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine_info: Option<crate::docker::engine_info::EngineInfo>,
    /// Base image → size in bytes.
    pub bases: BTreeMap<String, u64>,
    pub exercises: BTreeMap<String, ExerciseNumbers>,
    /// Figures of grading a synthetic class (`bench/classroom.sh`, from `checker grade`'s
    /// own timings); kept when `checker measure` rewrites the file.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub classroom: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ExerciseNumbers {
    pub title: String,
    pub starter: VariantNumbers,
    pub solution: VariantNumbers,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VariantNumbers {
    /// Bytes, as `docker image inspect` `.Size`.
    pub size: u64,
    pub layers: usize,
    /// Files (anything but folders) in the final filesystem.
    pub files: usize,
    /// Seconds from starting the container until the app answered or exited.
    pub start_seconds: Option<f64>,
    /// Seconds to pull the image from a registry on loopback into an engine that had none of
    /// its layers (`checker pulls`); kept when `checker measure` rewrites the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_seconds: Option<f64>,
    /// Bytes of every layer, base first, as `docker history` lists the non-empty ones (the
    /// checker's "layer N" counts the same way).
    #[serde(default)]
    pub layer_sizes: Vec<u64>,
    /// Bytes of the build context after `.dockerignore`.
    #[serde(default)]
    pub context_bytes: u64,
    /// Bytes wasted as dive counts them, for exercises with a `wasted-bytes` goal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wasted_bytes: Option<u64>,
}

impl VariantNumbers {
    pub fn from_check(result: &CheckResult, files: usize, layer_sizes: Vec<u64>) -> VariantNumbers {
        let start_seconds = result.measurements.apps.values().find_map(|a| match a {
            AppOutcome::Exited { seconds, .. } | AppOutcome::Answered { seconds, .. } => {
                Some(*seconds)
            }
            _ => None,
        });
        VariantNumbers {
            size: result.measurements.image_size,
            layers: result.measurements.layer_count,
            files,
            start_seconds,
            pull_seconds: None,
            layer_sizes,
            context_bytes: result.measurements.context_bytes,
            wasted_bytes: result.measurements.probes.values().find_map(|p| match p {
                ProbeOutcome::WastedBytes { bytes, .. } => Some(*bytes),
                _ => None,
            }),
        }
    }
}

impl MeasuredResults {
    pub fn new(engine: String) -> MeasuredResults {
        MeasuredResults {
            schema: SCHEMA.into(),
            measured_at: Utc::now(),
            engine,
            engine_info: None,
            bases: BTreeMap::new(),
            exercises: BTreeMap::new(),
            classroom: BTreeMap::new(),
        }
    }

    /// The engine as the book names it: with the image store when the file records it
    /// ("Docker Engine 28.5.2 (API 1.51, containerd image store)").
    pub fn engine_line(&self) -> String {
        match &self.engine_info {
            Some(info) => info.describe(),
            None => self.engine.clone(),
        }
    }

    pub fn load(path: &Path) -> Result<MeasuredResults, CheckerError> {
        let text = std::fs::read_to_string(path).map_err(|e| CheckerError::io(path, e))?;
        serde_json::from_str(&text).map_err(|e| CheckerError::Io {
            path: path.to_path_buf(),
            message: format!("not a measurements file ({e}); regenerate it with `checker measure --write {MEASUREMENTS_FILE}`"),
        })
    }

    /// Where a fresh measurement differs from this one by more than `tolerance` (0.1 = 10 %)
    /// in size, layers or files, or by more than that (or half a second) in start time.
    pub fn drift(&self, fresh: &MeasuredResults, tolerance: f64) -> Vec<String> {
        let mut out = Vec::new();
        let far = |a: f64, b: f64| (a - b).abs() > tolerance * a.abs().max(b.abs());
        for (name, old) in &self.exercises {
            let Some(new) = fresh.exercises.get(name) else {
                out.push(format!("{name}: not in the fresh measurement"));
                continue;
            };
            for (variant, o, n) in [
                ("starter", &old.starter, &new.starter),
                ("solution", &old.solution, &new.solution),
            ] {
                let layer =
                    |v: &VariantNumbers, i: usize| v.layer_sizes.get(i).copied().unwrap_or(0);
                let figures = [
                    ("size".to_string(), o.size as f64, n.size as f64),
                    ("layers".to_string(), o.layers as f64, n.layers as f64),
                    ("files".to_string(), o.files as f64, n.files as f64),
                    (
                        "context".to_string(),
                        o.context_bytes as f64,
                        n.context_bytes as f64,
                    ),
                    (
                        "wasted".to_string(),
                        o.wasted_bytes.unwrap_or(0) as f64,
                        n.wasted_bytes.unwrap_or(0) as f64,
                    ),
                ]
                .into_iter()
                .chain((0..o.layer_sizes.len().max(n.layer_sizes.len())).map(|i| {
                    (
                        format!("layer {}", i + 1),
                        layer(o, i) as f64,
                        layer(n, i) as f64,
                    )
                }));
                for (field, a, b) in figures {
                    if far(a, b) {
                        out.push(format!(
                            "{name} {variant} {field}: committed {a}, measured {b}"
                        ));
                    }
                }
                if let (Some(a), Some(b)) = (o.start_seconds, n.start_seconds) {
                    if far(a, b) && (a - b).abs() > 0.5 {
                        out.push(format!(
                            "{name} {variant} start: committed {a:.2} s, measured {b:.2} s"
                        ));
                    }
                }
            }
        }
        for name in fresh
            .exercises
            .keys()
            .filter(|n| !self.exercises.contains_key(*n))
        {
            out.push(format!("{name}: measured but not committed"));
        }
        for (image, size) in &self.bases {
            if let Some(new) = fresh.bases.get(image) {
                if far(*size as f64, *new as f64) {
                    out.push(format!("base {image}: committed {size}, measured {new}"));
                }
            }
        }
        out
    }
}

/// Replaces the checker's directives in a chapter:
/// `{{#goals NAME}}`, `{{#measure NAME starter|solution size|layers|files|start}}`,
/// `{{#measure NAME saving}}`, `{{#measure base IMAGE}}`, `{{#measure engine}}`,
/// `{{#measure date}}` and `{{#measured-results}}`. An unknown one is an error naming it.
pub fn expand_directives(
    content: &str,
    chapter: &str,
    workbook: &Workbook,
    numbers: &MeasuredResults,
) -> Result<String, String> {
    static DIRECTIVE: OnceLock<Regex> = OnceLock::new();
    let directive = DIRECTIVE.get_or_init(|| {
        Regex::new(r"\{\{#(goals|measured-results|measure)([^}]*)\}\}").expect("valid regex")
    });
    let mut error = None;
    let out = directive.replace_all(content, |caps: &regex::Captures<'_>| {
        let args: Vec<&str> = caps[2].split_whitespace().collect();
        let result = match &caps[1] {
            "goals" => args
                .first()
                .ok_or_else(|| "{{#goals}} needs an exercise name".to_string())
                .and_then(|name| workbook.exercise(name).map_err(|e| e.to_string()))
                .map(|e| goals_table(&e)),
            "measure" => measure(&args, numbers),
            _ => Ok(results_page(workbook, numbers)),
        };
        result.unwrap_or_else(|e| {
            error.get_or_insert(format!("{chapter}: {}: {e}", &caps[0]));
            String::new()
        })
    });
    if let Some(e) = error {
        return Err(e);
    }
    expand_annotated_numbers(&out, chapter, workbook, numbers)
}

/// A number an exercise README types for readers of the plain file, followed by a comment
/// naming the figure it stands for: `326 MB<!-- measure 01-static-binary starter size -->`,
/// or `2 MB<!-- target 01-static-binary size -->` for a goal's threshold. Exercise READMEs
/// are read outside the book too, where a `{{#measure}}` directive would show as is.
pub const ANNOTATED_NUMBER: &str =
    r"(\d+(?:\.\d+)?)\s?(kB|MB|GB|ms|s)<!-- (measure|target) ([^>]*?) -->";

/// The book prints the checker's figure in place of the typed one, and refuses a typed number
/// more than 10 % away from it, so the plain README cannot drift from the measurements.
fn expand_annotated_numbers(
    content: &str,
    chapter: &str,
    workbook: &Workbook,
    numbers: &MeasuredResults,
) -> Result<String, String> {
    static ANNOTATED: OnceLock<Regex> = OnceLock::new();
    let annotated = ANNOTATED.get_or_init(|| Regex::new(ANNOTATED_NUMBER).expect("valid regex"));
    let mut error = None;
    let out = annotated.replace_all(content, |caps: &regex::Captures<'_>| {
        let args: Vec<&str> = caps[4].split_whitespace().collect();
        let produced = match &caps[3] {
            "measure" => measure(&args, numbers),
            _ => goal_threshold(&args, workbook),
        };
        let checked = produced.and_then(|figure| {
            let typed = quantity(&caps[1], &caps[2]);
            let (value, unit) = figure
                .split_once(' ')
                .ok_or_else(|| format!("`{figure}` is not a size or a time"))?;
            let fresh = quantity(value, unit);
            let tolerance = if matches!(unit, "s" | "ms") {
                (0.1 * fresh).max(0.5)
            } else {
                0.1 * fresh
            };
            if (typed - fresh).abs() > tolerance {
                Err(format!(
                    "the page says {} {} where the checker has {figure}",
                    &caps[1], &caps[2]
                ))
            } else {
                Ok(figure)
            }
        });
        checked.unwrap_or_else(|e| {
            error.get_or_insert(format!("{chapter}: `{}`: {e}", &caps[0]));
            String::new()
        })
    });
    match error {
        Some(e) => Err(e),
        None => Ok(out.into_owned()),
    }
}

/// A size in bytes or a time in seconds.
fn quantity(value: &str, unit: &str) -> f64 {
    let value: f64 = value.parse().unwrap_or(f64::NAN);
    value
        * match unit {
            "kB" => 1e3,
            "MB" => 1e6,
            "GB" => 1e9,
            "ms" => 1e-3,
            _ => 1.0,
        }
}

/// `target NAME GOAL`: the goal's threshold as the README's prose uses it ("at most 2 MB",
/// "within 10 s").
fn goal_threshold(args: &[&str], workbook: &Workbook) -> Result<String, String> {
    let [name, id] = args else {
        return Err("expected `target NAME GOAL`".into());
    };
    let exercise = workbook.exercise(name).map_err(|e| e.to_string())?;
    let goal = exercise
        .file
        .goals
        .iter()
        .find(|g| g.id == *id)
        .ok_or_else(|| format!("{name} has no goal `{id}`"))?;
    goal.kind
        .threshold()
        .ok_or_else(|| format!("goal `{id}` has no size or time threshold"))
}

fn measure(args: &[&str], numbers: &MeasuredResults) -> Result<String, String> {
    let exercise = |name: &str| {
        numbers.exercises.get(name).ok_or_else(|| {
            format!(
                "no measurement for `{name}`; run `checker measure --write {MEASUREMENTS_FILE}`"
            )
        })
    };
    match args {
        ["engine"] => Ok(numbers.engine_line()),
        ["date"] => Ok(numbers.measured_at.format("%Y-%m-%d").to_string()),
        ["classroom", field] => match numbers.classroom.get(*field) {
            Some(serde_json::Value::Number(n)) if field.ends_with("_seconds") => {
                Ok(format!("{:.1} s", n.as_f64().unwrap_or(0.0)))
            }
            Some(serde_json::Value::Number(n)) if field.ends_with("_bytes") => {
                Ok(format_mb(n.as_u64().unwrap_or(0)))
            }
            Some(serde_json::Value::Number(n)) => Ok(n.to_string()),
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            _ => Err(format!(
                "no classroom figure `{field}`; run `bash bench/classroom.sh`"
            )),
        },
        ["base", image] => numbers
            .bases
            .get(*image)
            .map(|s| format_mb(*s))
            .ok_or_else(|| format!("no measurement for base image `{image}`")),
        [name, "saving"] => {
            let e = exercise(name)?;
            Ok(format!("{:.1} %", saving(e)))
        }
        [name, variant, field, rest @ ..] => {
            variant_field(exercise(name)?, name, variant, field, rest)
        }
        _ => Err(
            "expected NAME starter|solution FIELD, NAME saving, base IMAGE, engine or date".into(),
        ),
    }
}

/// `NAME starter|solution FIELD [N]`: one number of one variant of an exercise.
fn variant_field(
    e: &ExerciseNumbers,
    name: &str,
    variant: &str,
    field: &str,
    rest: &[&str],
) -> Result<String, String> {
    let v = match variant {
        "starter" => &e.starter,
        "solution" => &e.solution,
        other => return Err(format!("`{other}` is neither starter nor solution")),
    };
    match (field, rest) {
        ("layer", [n]) => n
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| v.layer_sizes.get(i))
            .map(|b| format_mb(*b))
            .ok_or_else(|| {
                format!(
                    "{name} {variant} has no layer {n} (it has {})",
                    v.layer_sizes.len()
                )
            }),
        (_, [_, ..]) => Err(format!("`{field}` takes no further argument")),
        ("context", _) => Ok(format_mb(v.context_bytes)),
        ("wasted", _) => v
            .wasted_bytes
            .map(format_mb)
            .ok_or_else(|| format!("{name} has no wasted-bytes goal")),
        (field, _) => match field {
            "size" => Ok(format_mb(v.size)),
            "layers" => Ok(v.layers.to_string()),
            "files" => Ok(v.files.to_string()),
            "start" => v
                .start_seconds
                .map(|s| format!("{s:.2} s"))
                .ok_or_else(|| format!("{name} has no app goal to time")),
            "pull" => v
                .pull_seconds
                .map(|s| format!("{s:.2} s"))
                .ok_or_else(|| format!("{name} has no pull time: run `bash bench/pull-times.sh`")),
            other => Err(format!(
            "unknown field `{other}` (size, layers, files, start, pull, context, wasted, layer N)"
        )),
        },
    }
}

fn saving(e: &ExerciseNumbers) -> f64 {
    if e.starter.size == 0 {
        0.0
    } else {
        100.0 * (1.0 - e.solution.size as f64 / e.starter.size as f64)
    }
}

/// The goals of an exercise as a Markdown table, straight from its exercise.toml.
pub fn goals_table(exercise: &Exercise) -> String {
    let lesson = exercise.lesson();
    let mut out =
        String::from("| Goal | Kind | Target | The starter |\n| --- | --- | --- | --- |\n");
    for goal in &exercise.file.goals {
        let starter = if lesson.contains(&goal.id) {
            "misses it (the lesson)"
        } else {
            "meets it"
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {starter} |\n",
            goal.id,
            goal.kind.name(),
            goal.kind.target().replace('|', "\\|")
        ));
    }
    out
}

/// The measured-results page body: a table, a bar chart, when and where it was measured.
fn results_page(workbook: &Workbook, numbers: &MeasuredResults) -> String {
    let mut table = String::from(
        "| Exercise | Starter | Solution | Smaller by | Layers (starter → solution) | Files (starter → solution) | Start (starter → solution) | Pull (starter → solution) |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    let start = |s: Option<f64>| s.map(|s| format!("{s:.2} s")).unwrap_or_else(|| "—".into());
    let names = workbook.exercise_names().unwrap_or_default();
    let mut labels = Vec::new();
    let (mut starter_mb, mut solution_mb) = (Vec::new(), Vec::new());
    for name in names.iter().filter(|n| numbers.exercises.contains_key(*n)) {
        let e = &numbers.exercises[name];
        table.push_str(&format!(
            "| [{name}](exercises/{name}.md) | {} | {} | {:.1} % | {} → {} | {} → {} | {} → {} | {} → {} |\n",
            format_mb(e.starter.size),
            format_mb(e.solution.size),
            saving(e),
            e.starter.layers,
            e.solution.layers,
            e.starter.files,
            e.solution.files,
            start(e.starter.start_seconds),
            start(e.solution.start_seconds),
            start(e.starter.pull_seconds),
            start(e.solution.pull_seconds),
        ));
        labels.push(format!("\"{}\"", name.split('-').next().unwrap_or(name)));
        starter_mb.push(format!("{:.1}", e.starter.size as f64 / 1e6));
        solution_mb.push(format!("{:.1}", e.solution.size as f64 / 1e6));
    }
    format!(
        "Measured on {} with {}, by `checker measure`; pull times by `checker pulls`, from a registry on loopback into an engine that had none of the image's layers.\n\n{table}\n\
         ```mermaid\nxychart-beta\n    accTitle: Image sizes, starter and solution\n    accDescr: A bar chart of every exercise's image size in megabytes: the starter's bar, then the solution's, far shorter. The table above has the exact numbers.\n    title \"Image size in MB: starter (first bar) and solution (second bar)\"\n    x-axis [{}]\n    y-axis \"MB\"\n    bar [{}]\n    bar [{}]\n```\n",
        numbers.measured_at.format("%Y-%m-%d"),
        numbers.engine_line(),
        labels.join(", "),
        starter_mb.join(", "),
        solution_mb.join(", "),
    )
}

/// `checker mdbook`: the mdBook preprocessor protocol. `supports <renderer>` answers for
/// any renderer; otherwise `[context, book]` JSON comes on stdin and the book goes out on
/// stdout. The book JSON is walked generically, so mdBook's item shapes (0.4's `sections`,
/// 0.5's `items`) both work.
pub fn run_preprocessor(args: &[String]) -> Result<(), CheckerError> {
    if args.first().map(String::as_str) == Some("supports") {
        return Ok(());
    }
    let mut input = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut input)
        .map_err(|e| CheckerError::io("<stdin>", e))?;
    let value: serde_json::Value = serde_json::from_str(&input)
        .map_err(|e| CheckerError::Mdbook(format!("mdbook sent no JSON: {e}")))?;
    let serde_json::Value::Array(mut pair) = value else {
        return Err(CheckerError::Mdbook(
            "mdbook sent no [context, book] pair".into(),
        ));
    };
    if pair.len() != 2 {
        return Err(CheckerError::Mdbook(
            "mdbook sent no [context, book] pair".into(),
        ));
    }
    let mut book = pair.pop().expect("two elements");
    let context = pair.pop().expect("two elements");
    let root = PathBuf::from(context.get("root").and_then(|r| r.as_str()).unwrap_or("."));
    let workbook = Workbook::discover(&root)?;
    let numbers = MeasuredResults::load(&workbook.root.join(MEASUREMENTS_FILE))?;
    let mut failure = None;
    walk_chapters(&mut book, &mut |chapter| {
        let name = chapter
            .get("path")
            .and_then(|p| p.as_str())
            .unwrap_or("?")
            .to_string();
        if let Some(serde_json::Value::String(content)) = chapter.get_mut("content") {
            match expand_directives(content, &name, &workbook, &numbers) {
                Ok(new) => *content = new,
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
    });
    if let Some(e) = failure {
        return Err(CheckerError::Mdbook(e));
    }
    println!("{book}");
    Ok(())
}

fn walk_chapters(
    value: &mut serde_json::Value,
    f: &mut dyn FnMut(&mut serde_json::Map<String, serde_json::Value>),
) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Object(chapter)) = map.get_mut("Chapter") {
                f(chapter);
            }
            for v in map.values_mut() {
                walk_chapters(v, f);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| walk_chapters(v, f)),
        _ => {}
    }
}

/// A fenced Dockerfile block in the book.
#[derive(Debug, Clone, PartialEq)]
pub struct Snippet {
    pub file: PathBuf,
    pub line: usize,
    pub text: String,
    pub kind: SnippetKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SnippetKind {
    /// Built with this folder (relative to the workbook) as the context.
    Build { context: String },
    /// Shown, not built.
    Illustration,
    /// Neither: an error, so no snippet is silently skipped.
    Unmarked { info: String },
}

/// The fenced `dockerfile` blocks of one Markdown text (comrak's CommonMark parser, so
/// indented fences, longer fences and fences inside lists count exactly as mdBook sees them).
pub fn snippets(file: &Path, markdown: &str) -> Vec<Snippet> {
    use comrak::nodes::NodeValue;
    let arena = comrak::Arena::new();
    let root = comrak::parse_document(&arena, markdown, &comrak::Options::default());
    let mut out = Vec::new();
    for node in root.descendants() {
        let data = node.data.borrow();
        let NodeValue::CodeBlock(block) = &data.value else {
            continue;
        };
        let mut words = block.info.split_whitespace();
        if !words
            .next()
            .is_some_and(|w| w.eq_ignore_ascii_case("dockerfile"))
        {
            continue;
        }
        let rest: Vec<&str> = words.collect();
        let kind = if let Some(context) = rest.iter().find_map(|w| w.strip_prefix("build=")) {
            SnippetKind::Build {
                context: context.to_string(),
            }
        } else if rest.contains(&"illustration") {
            SnippetKind::Illustration
        } else {
            SnippetKind::Unmarked {
                info: block.info.clone(),
            }
        };
        out.push(Snippet {
            file: file.to_path_buf(),
            line: data.sourcepos.start.line,
            text: block.literal.clone(),
            kind,
        });
    }
    out
}

/// Every snippet under `src/`, in file order.
pub fn book_snippets(workbook: &Workbook) -> Result<Vec<Snippet>, CheckerError> {
    let src = workbook.root.join("src");
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&src)
        .into_iter()
        .filter_map(|e| e.ok())
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| CheckerError::io(&file, e))?;
        out.extend(snippets(
            file.strip_prefix(&workbook.root).unwrap_or(&file),
            &text,
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers() -> MeasuredResults {
        let v = |size, layers, files, start| VariantNumbers {
            size,
            layers,
            files,
            start_seconds: start,
            pull_seconds: None,
            layer_sizes: vec![116_000_000, 209_000_000, 16_000],
            context_bytes: 4_000,
            wasted_bytes: None,
        };
        MeasuredResults {
            schema: SCHEMA.into(),
            measured_at: "2026-11-23T08:00:00Z".parse().unwrap(),
            engine: "Docker Engine 20.10.24+dfsg1 (API 1.41)".into(),
            engine_info: None,
            bases: BTreeMap::from([("debian:bookworm".to_string(), 116_600_000)]),
            classroom: BTreeMap::from([("jobs_2_seconds".to_string(), serde_json::json!(61.23))]),
            exercises: BTreeMap::from([(
                "01-static-binary".to_string(),
                ExerciseNumbers {
                    title: "t".into(),
                    starter: v(326_000_000, 5, 9000, Some(0.36)),
                    solution: v(680_000, 1, 1, Some(0.31)),
                },
            )]),
        }
    }

    #[test]
    fn measure_directives_print_measured_numbers() {
        let n = numbers();
        assert_eq!(
            measure(&["01-static-binary", "starter", "size"], &n).unwrap(),
            "326.0 MB"
        );
        assert_eq!(
            measure(&["01-static-binary", "solution", "size"], &n).unwrap(),
            "0.68 MB"
        );
        assert_eq!(
            measure(&["01-static-binary", "solution", "layers"], &n).unwrap(),
            "1"
        );
        assert_eq!(
            measure(&["01-static-binary", "starter", "start"], &n).unwrap(),
            "0.36 s"
        );
        assert!(measure(&["01-static-binary", "starter", "pull"], &n)
            .unwrap_err()
            .contains("pull-times"));
        assert_eq!(
            measure(&["01-static-binary", "saving"], &n).unwrap(),
            "99.8 %"
        );
        assert_eq!(
            measure(&["base", "debian:bookworm"], &n).unwrap(),
            "116.6 MB"
        );
        assert_eq!(measure(&["date"], &n).unwrap(), "2026-11-23");
        assert_eq!(
            measure(&["classroom", "jobs_2_seconds"], &n).unwrap(),
            "61.2 s"
        );
        assert!(measure(&["classroom", "nope"], &n).is_err());
        assert!(measure(&["99-nope", "saving"], &n)
            .unwrap_err()
            .contains("checker measure"));
        assert!(measure(&["01-static-binary", "starter", "weight"], &n)
            .unwrap_err()
            .contains("unknown field"));
    }

    #[test]
    fn layer_and_context_figures() {
        let n = numbers();
        let m = |args: &[&str]| measure(args, &n);
        assert_eq!(
            m(&["01-static-binary", "starter", "layer", "2"]).unwrap(),
            "209.0 MB"
        );
        assert!(m(&["01-static-binary", "starter", "layer", "4"])
            .unwrap_err()
            .contains("has no layer 4 (it has 3)"));
        assert!(m(&["01-static-binary", "starter", "layer", "0"]).is_err());
        assert!(m(&["01-static-binary", "starter", "size", "2"])
            .unwrap_err()
            .contains("no further argument"));
        assert_eq!(
            m(&["01-static-binary", "solution", "context"]).unwrap(),
            "0.00 MB"
        );
        assert!(m(&["01-static-binary", "solution", "wasted"])
            .unwrap_err()
            .contains("no wasted-bytes goal"));
    }

    fn workbook_with_01() -> (tempfile::TempDir, Workbook) {
        let dir = tempfile::tempdir().unwrap();
        let ex = dir.path().join("exercises/01-static-binary");
        std::fs::create_dir_all(ex.join("solution")).unwrap();
        std::fs::write(ex.join("Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::write(ex.join("solution/Dockerfile"), "FROM scratch\n").unwrap();
        std::fs::write(
            ex.join("exercise.toml"),
            "[exercise]\ntitle = \"t\"\nlesson = [\"size\"]\nhints = [\"a\", \"b\"]\n\n[[goals]]\nid = \"size\"\nkind = \"image-size\"\nmax_mb = 2.0\n\n[[goals]]\nid = \"runs\"\nkind = \"run\"\ntimeout_s = 10\n",
        )
        .unwrap();
        let workbook = Workbook {
            root: dir.path().to_path_buf(),
        };
        (dir, workbook)
    }

    #[test]
    fn annotated_numbers_become_the_checkers_figures() {
        let (_dir, workbook) = workbook_with_01();
        let n = numbers();
        let page = expand_directives(
            "The starter is 330 MB<!-- measure 01-static-binary starter size -->, its layer 209 MB<!-- measure 01-static-binary starter layer 2 --> and the goal at most 2 MB<!-- target 01-static-binary size -->, within 10 s<!-- target 01-static-binary runs -->; it starts in 0.5 s<!-- measure 01-static-binary starter start -->.",
            "01.md",
            &workbook,
            &n,
        )
        .unwrap();
        assert_eq!(
            page,
            "The starter is 326.0 MB, its layer 209.0 MB and the goal at most 2 MB, within 10 s; it starts in 0.36 s."
        );
    }

    #[test]
    fn an_annotated_number_far_from_the_measurement_is_refused() {
        let (_dir, workbook) = workbook_with_01();
        let err = expand_directives(
            "It is 400 MB<!-- measure 01-static-binary starter size -->.",
            "exercises/01.md",
            &workbook,
            &numbers(),
        )
        .unwrap_err();
        assert!(
            err.contains("exercises/01.md")
                && err.contains("says 400 MB where the checker has 326.0 MB"),
            "{err}"
        );
        let err = expand_directives(
            "At most 3 MB<!-- target 01-static-binary size -->.",
            "01.md",
            &workbook,
            &numbers(),
        )
        .unwrap_err();
        assert!(err.contains("where the checker has 2 MB"), "{err}");
        assert!(expand_directives(
            "5 MB<!-- target 01-static-binary nope -->",
            "01.md",
            &workbook,
            &numbers()
        )
        .unwrap_err()
        .contains("no goal `nope`"));
    }

    #[test]
    fn the_measured_on_line_names_the_image_store_when_recorded() {
        let mut numbers = numbers();
        assert_eq!(
            measure(&["engine"], &numbers).unwrap(),
            "Docker Engine 20.10.24+dfsg1 (API 1.41)"
        );
        numbers.engine_info = Some(
            serde_json::from_str(
                r#"{"version":"28.5.2","api_version":"1.51","os":"linux","arch":"amd64","operating_system":"Debian GNU/Linux 12 (bookworm)","image_store":"containerd","storage_driver":"overlayfs","buildkit":true,"root_dir":null}"#,
            )
            .unwrap(),
        );
        assert_eq!(
            measure(&["engine"], &numbers).unwrap(),
            "Docker Engine 28.5.2 (API 1.51, containerd image store)"
        );
        let workbook = Workbook {
            root: tempfile::tempdir().unwrap().path().to_path_buf(),
        };
        assert!(results_page(&workbook, &numbers).starts_with(
            "Measured on 2026-11-23 with Docker Engine 28.5.2 (API 1.51, containerd image store), by"
        ));
        // Written back, the facts survive; a file without them still loads.
        let text = serde_json::to_string(&numbers).unwrap();
        assert_eq!(
            serde_json::from_str::<MeasuredResults>(&text).unwrap(),
            numbers
        );
    }

    #[test]
    fn measured_results_is_not_read_as_measure() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("exercises")).unwrap();
        let workbook = Workbook {
            root: dir.path().to_path_buf(),
        };
        let page =
            expand_directives("{{#measured-results}}", "m.md", &workbook, &numbers()).unwrap();
        assert!(
            page.starts_with("Measured on 2026-11-23 with Docker Engine"),
            "{page}"
        );
        assert!(
            page.contains("xychart-beta") && page.contains("accTitle"),
            "{page}"
        );
    }

    #[test]
    fn drift_beyond_ten_percent_is_reported() {
        let old = numbers();
        let mut new = numbers();
        assert!(old.drift(&new, 0.1).is_empty());
        new.exercises
            .get_mut("01-static-binary")
            .unwrap()
            .starter
            .size = 300_000_000; // -8 %
        assert!(old.drift(&new, 0.1).is_empty());
        new.exercises
            .get_mut("01-static-binary")
            .unwrap()
            .starter
            .size = 280_000_000; // -14 %
        assert_eq!(
            old.drift(&new, 0.1),
            vec!["01-static-binary starter size: committed 326000000, measured 280000000"]
        );
        let mut slow = numbers();
        slow.exercises
            .get_mut("01-static-binary")
            .unwrap()
            .solution
            .start_seconds = Some(0.6);
        assert!(
            old.drift(&slow, 0.1).is_empty(),
            "start times jitter: half a second of slack"
        );
    }

    #[test]
    fn snippets_are_found_with_their_marks_and_lines() {
        let md = "# T\n\n```dockerfile build=exercises/01-static-binary\nFROM scratch\n```\n\ntext\n\n```dockerfile illustration\nFROM --platform=$BUILDPLATFORM golang\n```\n\n- item\n\n  ```Dockerfile\n  FROM x\n  ```\n\n```console\n$ docker build .\n```\n";
        let s = snippets(Path::new("src/x.md"), md);
        assert_eq!(s.len(), 3);
        assert_eq!(
            (s[0].line, &s[0].kind),
            (
                3,
                &SnippetKind::Build {
                    context: "exercises/01-static-binary".into()
                }
            )
        );
        assert_eq!(s[0].text, "FROM scratch\n");
        assert_eq!((s[1].line, &s[1].kind), (9, &SnippetKind::Illustration));
        assert_eq!(
            (s[2].line, &s[2].kind),
            (
                15,
                &SnippetKind::Unmarked {
                    info: "Dockerfile".into()
                }
            )
        );
    }

    #[test]
    fn the_book_walk_reaches_nested_chapters_in_both_shapes() {
        let mut book: serde_json::Value = serde_json::json!({
            "items": [{"Chapter": {"content": "a", "path": "a.md", "sub_items": [{"Chapter": {"content": "b", "sub_items": []}}]}}, "Separator"],
            "sections": [{"Chapter": {"content": "c", "sub_items": []}}]
        });
        let mut seen = Vec::new();
        walk_chapters(&mut book, &mut |c| {
            seen.push(c["content"].as_str().unwrap().to_string())
        });
        seen.sort();
        assert_eq!(seen, vec!["a", "b", "c"]);
    }
}

/// `checker measure`: builds every exercise's starter and solution and records the numbers
/// the book prints.
pub async fn measure_all(
    engine: &crate::docker::engine::Engine,
    workbook: &Workbook,
) -> Result<MeasuredResults, CheckerError> {
    use crate::workbook::exercise::Variant;
    let mut results = MeasuredResults::new(engine.describe().await);
    // The committed file says which engine and store measured it, not which socket.
    results.engine_info = engine.info().await.ok().map(|i| i.without_endpoint());
    for base in ["debian:bookworm", "debian:bookworm-slim"] {
        if engine.image_exists(base).await? {
            results
                .bases
                .insert(base.to_string(), engine.inspect(base).await?.size);
        }
    }
    for exercise in workbook.exercises()? {
        let mut numbers = Vec::new();
        for variant in [Variant::Starter, Variant::Solution] {
            let mut progress = crate::ui::TerminalProgress::new(&format!(
                "{} ({})",
                exercise.name,
                variant.as_str()
            ));
            let result = crate::check::check(engine, &exercise, variant, &mut progress).await?;
            drop(progress);
            let files = count_files(engine, &result.image).await?;
            let layer_sizes = engine
                .layers(&result.image)
                .await?
                .iter()
                .map(|l| l.size)
                .collect();
            numbers.push(VariantNumbers::from_check(&result, files, layer_sizes));
        }
        let solution = numbers.pop().expect("two variants");
        let starter = numbers.pop().expect("two variants");
        results.exercises.insert(
            exercise.name.clone(),
            ExerciseNumbers {
                title: exercise.title().to_string(),
                starter,
                solution,
            },
        );
    }
    Ok(results)
}

async fn count_files(
    engine: &crate::docker::engine::Engine,
    image: &str,
) -> Result<usize, CheckerError> {
    let mut file = tempfile::tempfile().map_err(CheckerError::TempFile)?;
    engine.export_image(image, &mut file).await?;
    let platform = engine.platform().await?;
    let layers = tokio::task::spawn_blocking(move || {
        crate::docker::waste::image_changes_for(file, &platform)
    })
    .await?
    .map_err(CheckerError::archive(format!(
        "reading the layers of {image}"
    )))?;
    Ok(crate::docker::waste::visible_files(&layers))
}

/// What `checker doctest` found for one snippet.
#[derive(Debug)]
pub enum SnippetOutcome {
    Built { seconds: f64 },
    Failed { message: String },
    Listed,
    Unmarked,
}

/// `checker doctest`: builds every snippet marked `build=DIR` with DIR as its context, lists
/// the illustrations, and reports unmarked blocks as errors.
pub async fn doctest(
    engine: &crate::docker::engine::Engine,
    workbook: &Workbook,
) -> Result<Vec<(Snippet, SnippetOutcome)>, CheckerError> {
    let mut out = Vec::new();
    for (n, snippet) in book_snippets(workbook)?.into_iter().enumerate() {
        let outcome = match &snippet.kind {
            SnippetKind::Illustration => SnippetOutcome::Listed,
            SnippetKind::Unmarked { .. } => SnippetOutcome::Unmarked,
            SnippetKind::Build { context } => {
                match build_snippet(engine, workbook, &snippet, context, n).await {
                    Ok(seconds) => SnippetOutcome::Built { seconds },
                    Err(e @ CheckerError::EngineUnreachable { .. }) => return Err(e),
                    Err(e) => SnippetOutcome::Failed {
                        message: e.to_string(),
                    },
                }
            }
        };
        out.push((snippet, outcome));
    }
    Ok(out)
}

async fn build_snippet(
    engine: &crate::docker::engine::Engine,
    workbook: &Workbook,
    snippet: &Snippet,
    context: &str,
    n: usize,
) -> Result<f64, CheckerError> {
    let dir = workbook.root.join(context);
    let here = PathBuf::from(format!("{}:{}", snippet.file.display(), snippet.line));
    if !dir.is_dir() {
        return Err(CheckerError::Snippet(format!(
            "{}: build={context} is not a folder of the workbook",
            here.display()
        )));
    }
    let graph =
        crate::docker::dockerfile::parse_stage_graph(&here, &snippet.text, &BTreeMap::new(), None)?;
    crate::build::ensure_base_images(engine, &here, &graph).await?;
    let dockerfile = ".doctest/Dockerfile";
    let context = crate::docker::context::Folder::with_overlay(
        &dir,
        BTreeMap::from([(dockerfile.to_string(), snippet.text.clone().into_bytes())]),
    );
    let tag = format!(
        "{}/doctest:{n}",
        crate::docker::engine::IMAGE_REPOSITORY_PREFIX
    );
    let request = crate::docker::engine::BuildRequest {
        context,
        dockerfile: dockerfile.to_string(),
        tag: tag.clone(),
        labels: BTreeMap::from([
            (
                crate::docker::engine::OWNER_LABEL.to_string(),
                "true".to_string(),
            ),
            (
                crate::docker::engine::EXERCISE_LABEL.to_string(),
                "doctest".to_string(),
            ),
        ]),
        build_args: BTreeMap::new(),
        target: None,
        no_cache: false,
    };
    let outcome = engine.build(request, &mut crate::ui::Silent).await?;
    engine.remove_image(&tag).await?;
    match outcome {
        Ok(o) => Ok(o.seconds),
        Err(f) => {
            let line = f
                .step
                .as_deref()
                .and_then(|s| graph.locate_step(s))
                .map(|l| snippet.line + l)
                .unwrap_or(snippet.line);
            Err(CheckerError::Snippet(format!(
                "{}:{line}: the build failed at {}: {}\n{}",
                snippet.file.display(),
                f.step.unwrap_or_default(),
                f.message,
                f.log_tail
            )))
        }
    }
}

/// `checker pulls`: pushes every exercise's starter and solution image to `registry`, then
/// times pulling each (through `target_registry`, the same registry as the target engine
/// reaches it) into `target`, an engine that must hold no images at all, so every
/// layer really travels (a layer the engine still has would make a pull look instant). Each
/// pulled image is removed before the next pull.
pub async fn measure_pulls(
    source: &crate::docker::engine::Engine,
    target: &crate::docker::engine::Engine,
    workbook: &Workbook,
    registry: &str,
    target_registry: &str,
) -> Result<BTreeMap<String, (f64, f64)>, CheckerError> {
    use crate::workbook::exercise::Variant;
    let mut out = BTreeMap::new();
    for exercise in workbook.exercises()? {
        let mut seconds = Vec::new();
        for variant in [Variant::Starter, Variant::Solution] {
            let local = exercise.image_tag(variant);
            if !source.image_exists(&local).await? {
                crate::build::build_plan(
                    source,
                    &exercise,
                    variant,
                    &crate::build::Plan::default(),
                    &mut crate::ui::Silent,
                )
                .await?;
            }
            let remote = format!("{}/{local}", registry.trim_end_matches('/'));
            source.tag(&local, &remote).await?;
            source
                .push(&remote, |_| {})
                .await
                .map_err(|e| CheckerError::EngineReply(format!("pushing {remote}: {e}")))?;
            source.remove_image(&remote).await?;
            // The same image, named by the address the target engine reaches the registry at.
            let remote = format!("{}/{local}", target_registry.trim_end_matches('/'));
            let held = target.image_count().await?;
            if held > 0 {
                return Err(CheckerError::Usage(format!(
                    "the target engine holds {held} images; pull times mean something only on an engine without any layers"
                )));
            }
            let started = std::time::Instant::now();
            target
                .pull(&remote, |_| {})
                .await
                .map_err(|e| CheckerError::EngineReply(format!("pulling {remote}: {e}")))?;
            let s = started.elapsed().as_secs_f64();
            eprintln!(
                "  {} {}: pulled in {s:.2} s",
                exercise.name,
                variant.as_str()
            );
            target.remove_image(&remote).await?;
            seconds.push(s);
        }
        out.insert(exercise.name.clone(), (seconds[0], seconds[1]));
    }
    Ok(out)
}
