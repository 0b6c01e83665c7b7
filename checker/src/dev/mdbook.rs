//! The mdBook preprocessor (`checker mdbook`, named in book.toml): puts the exercises' goals
//! and the checker's measured numbers into the pages through directives (`{{#goals}}`,
//! `{{#measure}}`, `{{#measured-results}}`) and annotated numbers (`2 MB<!-- target … -->`),
//! so book and checker cannot disagree.

use std::path::PathBuf;
use std::sync::OnceLock;

use regex::Regex;

use super::numbers::*;
use crate::error::CheckerError;
use crate::facts::format_mb;
use crate::workbook::exercise::Exercise;
use crate::workbook::Workbook;

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
    r"(\d+(?:\.\d+)?)(\s?)(kB|MB|GB|ms|s|%)<!-- (measure|target) ([^>]*?) -->";

/// A number as a page types it: value, optional space, unit.
const TYPED_NUMBER: &str = r"(\d+(?:\.\d+)?)(\s?)(kB|MB|GB|ms|s|%)";

/// The block that ties a README's plain numbers to the checker's figures without a comment
/// beside each one, so the file reads cleanly in an editor or a terminal:
///
/// ```text
/// <!-- figures
/// 19 MB = measure 12-layer-cleanup starter layer 2
/// 4 MB = target 12-layer-cleanup waste
/// -->
/// ```
///
/// Every occurrence of a listed number in the page (prose, tables and console blocks alike)
/// becomes the checker's figure in the book, checked as an annotated number is.
const FIGURES_BLOCK: &str = r"(?s)<!-- figures\n(.*?)-->\n?";

/// The numbers a page ties to the checker's figures: `(typed, "measure …" | "target …")`,
/// from its figures block (see [`FIGURES_BLOCK`]). A line that is not `NUMBER = KIND ARGS` is
/// an error naming it.
pub fn figure_lines(content: &str) -> Result<Vec<(String, String)>, String> {
    static BLOCK: OnceLock<Regex> = OnceLock::new();
    let block = BLOCK.get_or_init(|| Regex::new(FIGURES_BLOCK).expect("valid regex"));
    static LINE: OnceLock<Regex> = OnceLock::new();
    let line_re = LINE.get_or_init(|| {
        Regex::new(&format!(
            r"^({TYPED_NUMBER}) = ((?:measure|target) [^|]+(?: \| (?:measure|target) [^|]+)*)$"
        ))
        .expect("valid regex")
    });
    let mut out: Vec<(String, String)> = Vec::new();
    for caps in block.captures_iter(content) {
        for line in caps[1].lines().map(str::trim).filter(|l| !l.is_empty()) {
            let c = line_re.captures(line).ok_or_else(|| {
                format!("figures line `{line}` is not `NUMBER UNIT = measure|target …`")
            })?;
            let (typed, spec) = (c[1].to_string(), c[5].trim().to_string());
            match out.iter().find(|(t, _)| *t == typed) {
                Some((_, other)) if *other != spec => {
                    return Err(format!("`{typed}` is tied to both `{other}` and `{spec}`; type one of them differently or annotate it inline"))
                }
                Some(_) => {}
                None => out.push((typed, spec)),
            }
        }
    }
    Ok(out)
}

/// The page with every number the checker fills in taken out (inline annotated numbers,
/// numbers tied by a figures block, the block itself, kept as empty lines): what is left is
/// typed by hand. For the guard that finds hand-typed measurements.
pub fn strip_tied_numbers(content: &str) -> Result<String, String> {
    let tied = figure_lines(content)?;
    let block = Regex::new(FIGURES_BLOCK).expect("valid regex");
    let content = block.replace_all(content, |c: &regex::Captures<'_>| {
        "\n".repeat(c[0].matches('\n').count())
    });
    let annotated = Regex::new(ANNOTATED_NUMBER).expect("valid regex");
    let content = annotated.replace_all(&content, "");
    Ok(replace_typed(&content, &|typed| {
        tied.iter().any(|(t, _)| t == typed).then(String::new)
    })
    .into_owned())
}

/// Replaces each number `figure` answers for, where it stands alone (no digit or point
/// before it, no letter after it) and carries no inline annotation.
fn replace_typed<'a>(
    content: &'a str,
    figure: &dyn Fn(&str) -> Option<String>,
) -> std::borrow::Cow<'a, str> {
    static TYPED: OnceLock<Regex> = OnceLock::new();
    let typed = TYPED.get_or_init(|| Regex::new(TYPED_NUMBER).expect("valid regex"));
    let mut out = String::new();
    let mut last = 0;
    for m in typed.find_iter(content) {
        let before = content[..m.start()].chars().next_back();
        let after = &content[m.end()..];
        if before.is_some_and(|c| c.is_ascii_digit() || c == '.')
            || after.chars().next().is_some_and(|c| c.is_alphanumeric())
            || after.starts_with("<!--")
        {
            continue;
        }
        if let Some(new) = figure(m.as_str()) {
            out.push_str(&content[last..m.start()]);
            out.push_str(&new);
            last = m.end();
        }
    }
    if last == 0 {
        return std::borrow::Cow::Borrowed(content);
    }
    out.push_str(&content[last..]);
    std::borrow::Cow::Owned(out)
}

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
    static BLOCK: OnceLock<Regex> = OnceLock::new();
    let block = BLOCK.get_or_init(|| Regex::new(FIGURES_BLOCK).expect("valid regex"));
    let tied = figure_lines(content).map_err(|e| format!("{chapter}: {e}"))?;
    let mut error = None;
    let check = |number: &str, spec: &str| figure_for(number, spec, workbook, numbers);
    // Numbers tied by the figures block first, then the block goes.
    let mut used = vec![false; tied.len()];
    let out = replace_typed(content, &|typed| {
        // A placeholder for now: the figure is checked below, where errors are collected.
        let i = tied.iter().position(|(t, _)| t == typed)?;
        Some(format!("\u{0}{i}\u{0}"))
    });
    let out = block.replace_all(&out, "");
    static SLOT: OnceLock<Regex> = OnceLock::new();
    let slot = SLOT.get_or_init(|| Regex::new("\u{0}(\\d+)\u{0}").expect("valid regex"));
    let out = slot.replace_all(&out, |caps: &regex::Captures<'_>| {
        let i: usize = caps[1].parse().unwrap_or(0);
        used[i] = true;
        let (typed, spec) = &tied[i];
        check(typed, spec).unwrap_or_else(|e| {
            error.get_or_insert(format!("{chapter}: `{typed} = {spec}`: {e}"));
            String::new()
        })
    });
    if let Some(e) = error {
        return Err(e);
    }
    if let Some(i) = used.iter().position(|u| !u) {
        return Err(format!(
            "{chapter}: the figures block ties `{}`, which the page never types",
            tied[i].0
        ));
    }
    let out = annotated.replace_all(&out, |caps: &regex::Captures<'_>| {
        let number = format!("{}{}{}", &caps[1], &caps[2], &caps[3]);
        check(&number, &format!("{} {}", &caps[4], &caps[5])).unwrap_or_else(|e| {
            error.get_or_insert(format!("{chapter}: `{}`: {e}", &caps[0]));
            String::new()
        })
    });
    match error {
        Some(e) => Err(e),
        None => Ok(out.into_owned()),
    }
}

/// What the book prints for the typed `number` tied to `spec` (`measure …` or a goal's
/// threshold): the checker's figure in the typed number's unit, or why it cannot stand.
fn figure_for(
    number: &str,
    spec: &str,
    workbook: &Workbook,
    numbers: &MeasuredResults,
) -> Result<String, String> {
    let typed = Regex::new(&format!("^{TYPED_NUMBER}$"))
        .expect("valid regex")
        .captures(number)
        .ok_or_else(|| format!("`{number}` is not a number with a unit"))?;
    // `a | b`: one typed number standing for several figures, printed only while the
    // checker's figures agree to the digit (a starter and a solution of the same size).
    let mut shown: Option<String> = None;
    for one in spec.split(" | ") {
        let args: Vec<&str> = one.split_whitespace().collect();
        let (produced, bytes) = match args.split_first() {
            Some((&"measure", rest)) => (measure(rest, numbers), measured_bytes(rest, numbers)),
            Some((_, rest)) => (goal_threshold(rest, workbook), None),
            None => (Err("empty figure".into()), None),
        };
        let figure = produced
            .and_then(|figure| checked_figure(&typed[1], &typed[2], &typed[3], &figure, bytes))?;
        match &shown {
            Some(first) if *first != figure => {
                return Err(format!(
                    "the figures it stands for differ ({first} and {figure}): type them apart"
                ))
            }
            _ => shown = Some(figure),
        }
    }
    shown.ok_or_else(|| "empty figure".to_string())
}

/// The checker's `figure` in place of the typed number, in the typed number's unit and
/// spacing (`2.35kB` in a `docker history` listing stays in kB, with no space), refused when
/// more than 10 % away (half a second for times).
fn checked_figure(
    value: &str,
    space: &str,
    unit: &str,
    figure: &str,
    bytes: Option<u64>,
) -> Result<String, String> {
    let typed = quantity(value, unit);
    let (fvalue, funit) = figure
        .split_once(' ')
        .ok_or_else(|| format!("`{figure}` is not a size or a time"))?;
    // The exact byte count where there is one: "0.02 MB" is too coarse for a typed 16.1 kB.
    let fresh = bytes.map_or_else(|| quantity(fvalue, funit), |b| b as f64);
    let tolerance = if matches!(funit, "s" | "ms") {
        (0.1 * fresh).max(0.5)
    } else {
        0.1 * fresh
    };
    if (typed - fresh).abs() > tolerance {
        return Err(format!(
            "the page says {value} {unit} where the checker has {figure}"
        ));
    }
    fn same_kind(u: &str) -> &str {
        match u {
            "kB" | "MB" | "GB" => "size",
            "s" | "ms" => "time",
            _ => u,
        }
    }
    if same_kind(unit) != same_kind(funit) {
        return Err(format!(
            "the page says {value} {unit} where the checker has {figure}"
        ));
    }
    let shown = if unit == "kB" && funit != "kB" {
        let kb = fresh / 1e3;
        if kb < 10.0 {
            format!("{kb:.2}")
        } else {
            format!("{kb:.1}")
        }
    } else if unit == funit {
        fvalue.to_string()
    } else {
        return Ok(if space.is_empty() {
            figure.replacen(' ', "", 1)
        } else {
            figure.to_string()
        });
    };
    Ok(format!("{shown}{space}{unit}"))
}

/// The exact bytes behind a size figure of `measure`, where it is one.
fn measured_bytes(args: &[&str], numbers: &MeasuredResults) -> Option<u64> {
    match args {
        ["base", image] => numbers.bases.get(*image).copied(),
        [name, variant, field, rest @ ..] => {
            let e = numbers.exercises.get(*name)?;
            let v = match *variant {
                "starter" => &e.starter,
                "solution" => &e.solution,
                _ => return None,
            };
            match (*field, rest) {
                ("layer", [n]) => v
                    .layer_sizes
                    .get(n.parse::<usize>().ok()?.checked_sub(1)?)
                    .copied(),
                ("size", []) => Some(v.size),
                ("context", []) => Some(v.context_bytes),
                ("wasted", []) => v.wasted_bytes,
                _ => None,
            }
        }
        _ => None,
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
            _ => 1.0, // s, %
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
                "no measurement for `{name}`; run `checker measure --output {MEASUREMENTS_FILE}`"
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
        ["runtime-bases"] if numbers.runtime_bases.is_empty() => Err(format!(
            "no runtime-base comparison; run `checker measure --output {MEASUREMENTS_FILE}`"
        )),
        ["runtime-bases"] => Ok(RuntimeBase::table(&numbers.runtime_bases)),
        ["runtime-base", image, field] => {
            let row = numbers
                .runtime_bases
                .iter()
                .find(|r| r.base == *image)
                .ok_or_else(|| format!("no runtime-base measurement for `{image}`"))?;
            match *field {
                "size" => Ok(format_mb(row.size)),
                "files" => Ok(row.files.to_string()),
                other => Err(format!("`{other}`: expected size or files")),
            }
        }
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
            "expected NAME starter|solution FIELD, NAME saving, base IMAGE, runtime-bases, runtime-base IMAGE size|files, engine or date".into(),
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
        "Measured on {} with {}, by `checker measure` (start: the fastest of five starts); pull times by `checker pulls`, from a registry on loopback into an engine that had none of the image's layers.\n\n{table}\n\
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dev::numbers::fixtures::numbers;

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
    fn a_figures_block_ties_plain_numbers_everywhere_in_the_page() {
        let (_dir, workbook) = workbook_with_01();
        let page = "The starter is 330 MB, the goal at most 2 MB.\n\n```console\n$ docker history x\n209MB  RUN apt-get\n16.1kB  RUN gcc\n```\n\nStill 330 MB, not 1330 MB or 330 MBs. It saves 99.8 %.\n<!-- figures\n330 MB = measure 01-static-binary starter size\n2 MB = target 01-static-binary size\n209MB = measure 01-static-binary starter layer 2\n16.1kB = measure 01-static-binary starter layer 3\n99.8 % = measure 01-static-binary saving\n-->\n";
        let out = expand_directives(page, "01.md", &workbook, &numbers()).unwrap();
        assert_eq!(
            out,
            "The starter is 326.0 MB, the goal at most 2 MB.\n\n```console\n$ docker history x\n209.0MB  RUN apt-get\n16.0kB  RUN gcc\n```\n\nStill 326.0 MB, not 1330 MB or 330 MBs. It saves 99.8 %.\n"
        );
        let stripped = strip_tied_numbers(page).unwrap();
        assert!(
            !stripped.contains("330 MB,") && stripped.contains("1330 MB"),
            "{stripped}"
        );
        assert_eq!(stripped.lines().count(), page.lines().count());
        // A tie the page never uses, a number far off, and one number tied twice are refused.
        let unused = "Text.\n<!-- figures\n330 MB = measure 01-static-binary starter size\n-->\n";
        assert!(expand_directives(unused, "01.md", &workbook, &numbers())
            .unwrap_err()
            .contains("never types"));
        let far =
            "It is 400 MB.\n<!-- figures\n400 MB = measure 01-static-binary starter size\n-->\n";
        assert!(expand_directives(far, "01.md", &workbook, &numbers())
            .unwrap_err()
            .contains("says 400 MB where the checker has 326.0 MB"));
        let twice = "<!-- figures\n2 MB = target 01-static-binary size\n2 MB = measure 01-static-binary solution size\n-->\n";
        assert!(figure_lines(twice).unwrap_err().contains("tied to both"));
        assert!(figure_lines("<!-- figures\nabout 2 MB\n-->\n").is_err());
        // One number for several figures, while they agree.
        let same = "Both 2 MB.\n<!-- figures\n2 MB = target 01-static-binary size | target 01-static-binary size\n-->\n";
        assert_eq!(
            expand_directives(same, "01.md", &workbook, &numbers()).unwrap(),
            "Both 2 MB.\n"
        );
        let differ = "Both 0.7 MB.\n<!-- figures\n0.7 MB = measure 01-static-binary solution size | target 01-static-binary size\n-->\n";
        assert!(expand_directives(differ, "01.md", &workbook, &numbers()).is_err());
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
