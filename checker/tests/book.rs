//! The book and the checker agree: every size or time the book states comes from the
//! checker's measurements, every directive expands, every diagram is labelled for screen
//! readers, every Dockerfile it shows builds, and the committed numbers are fresh.
//! (Rendering in a real browser is `.ci/book`, which needs mdBook and Chromium.)

mod common;

use std::path::{Path, PathBuf};

use common::*;
use regex::Regex;

fn chapters() -> Vec<PathBuf> {
    let src = workbook_root().join("src");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.extension().is_some_and(|x| x == "md") && p.file_name().unwrap() != "SUMMARY.md"
        })
        .collect();
    files.sort();
    files
}

/// Prose and HTML of a chapter with fenced code blocks removed (code may say `sleep 2`).
fn prose(path: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut in_fence = false;
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            if line.trim_start().starts_with("```") {
                in_fence = !in_fence;
                return None;
            }
            (!in_fence).then(|| (i + 1, line.to_string()))
        })
        .collect()
}

fn exercise_readmes() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(workbook_root().join("exercises"))
        .unwrap()
        .map(|e| e.unwrap().path().join("README.md"))
        .filter(|p| p.exists())
        .collect();
    files.sort();
    files
}

/// Sizes and times typed into the prose of `files`, once what `allowed` matches is taken out.
fn typed_numbers(files: &[PathBuf], allowed: &Regex) -> Vec<String> {
    let number =
        Regex::new(r"\b\d+(\.\d+)?\s?(B|kB|KB|MB|GB|MiB|GiB|ms|seconds|second|s|minutes|min)\b")
            .unwrap();
    let mut found = Vec::new();
    for file in files {
        for (line, text) in prose(file) {
            let text = allowed.replace_all(&text, "");
            for m in number.find_iter(&text) {
                found.push(format!("{}:{line}: `{}`", file.display(), m.as_str()));
            }
        }
    }
    found
}

#[test]
fn chapters_type_in_no_sizes_or_times() {
    let found = typed_numbers(&chapters(), &Regex::new(r"\{\{#[^}]*\}\}").unwrap());
    assert!(
        found.is_empty(),
        "sizes and times must come from {{{{#measure …}}}} directives:\n{}",
        found.join("\n")
    );
}

/// Exercise READMEs are read as plain files too, so they may type a number, but only with a
/// comment naming the checker's figure it stands for; the book prints that figure instead
/// and refuses a typed number more than 10 % away (`the_preprocessor_expands_every_directive`).
#[test]
fn exercise_readmes_type_only_numbers_tied_to_the_checkers_figures() {
    // A number the preprocessor replaces (the library's own pattern), or a directive.
    let annotated = Regex::new(&format!(
        r"{}|\{{\{{#[^}}]*\}}\}}",
        checker::dev::mdbook::ANNOTATED_NUMBER
    ))
    .unwrap();
    let found = typed_numbers(&exercise_readmes(), &annotated);
    assert!(
        found.is_empty(),
        "a size or time in an exercise README needs a comment naming the checker's figure, e.g. `326 MB<!-- measure 01-static-binary starter size -->`:\n{}",
        found.join("\n")
    );
}

/// What the book shows `checker graph` printing is what it prints: every `$ checker graph …`
/// line of a console block, run from the workbook root, and the lines under it compared.
#[test]
fn the_graphs_the_book_prints_are_what_checker_graph_prints() {
    let mut compared = 0;
    for file in chapters() {
        let chapter = std::fs::read_to_string(&file).unwrap();
        for block in chapter.split("```console\n").skip(1) {
            let block = block.split("```").next().unwrap_or_default();
            let mut lines = block.lines().peekable();
            while let Some(line) = lines.next() {
                let Some(args) = line.strip_prefix("$ checker graph ") else {
                    continue;
                };
                let mut shown = String::new();
                while let Some(next) = lines.next_if(|l| !l.starts_with('$')) {
                    shown.push_str(next);
                    shown.push('\n');
                }
                if shown.is_empty() {
                    continue;
                }
                let out = checker()
                    .current_dir(workbook_root())
                    .arg("graph")
                    .args(args.split_whitespace())
                    .output()
                    .unwrap();
                assert_eq!(text(&out.stdout), shown, "{}: {line}", file.display());
                compared += 1;
            }
        }
    }
    assert!(compared >= 2, "the book shows checker graph's output");
}

#[test]
fn every_diagram_has_a_title_and_description_for_screen_readers() {
    let mut missing = Vec::new();
    for file in chapters() {
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, block) in text.split("```mermaid").skip(1).enumerate() {
            let body = block.split("```").next().unwrap_or_default();
            if !body.contains("accTitle") || !body.contains("accDescr") {
                missing.push(format!("{} diagram {}", file.display(), i + 1));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "diagrams without accTitle/accDescr: {missing:?}"
    );
}

#[test]
fn the_preprocessor_expands_every_directive() {
    let mut items = Vec::new();
    // The exercise pages as mdBook hands them over: the README already included.
    for file in chapters().into_iter().chain(
        std::fs::read_dir(workbook_root().join("src/exercises"))
            .unwrap()
            .map(|e| e.unwrap().path()),
    ) {
        let mut content = std::fs::read_to_string(&file).unwrap();
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let include = format!("{{{{#include ../../exercises/{name}/README.md}}}}");
        if content.contains(&include) {
            let readme = workbook_root().join(format!("exercises/{name}/README.md"));
            content = content.replace(&include, &std::fs::read_to_string(readme).unwrap());
        }
        items.push(serde_json::json!({"Chapter": {
            "name": name,
            "content": content,
            "path": file.strip_prefix(workbook_root().join("src")).unwrap(),
            "sub_items": [],
        }}));
    }
    let input = serde_json::json!([{"root": workbook_root(), "renderer": "html", "mdbook_version": "0.5.4", "config": {}}, {"items": items}]);
    let mut child = checker()
        .arg("mdbook")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), input.to_string().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let book: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rendered = book.to_string();
    assert!(
        !rendered.contains("{{#measure")
            && !rendered.contains("{{#goals")
            && !rendered.contains("{{#measured-results")
    );
    assert!(
        rendered.contains("| `size` | image-size | ≤ 2 MB | misses it (the lesson) |"),
        "01's goals table"
    );
    let supports = checker()
        .args(["mdbook", "supports", "html"])
        .status()
        .unwrap();
    assert!(supports.success());
}

#[test]
fn exercise_readmes_state_what_the_checker_measured() {
    let numbers: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(workbook_root().join("src/measurements.json")).unwrap(),
    )
    .unwrap();
    let claim = Regex::new(
        r"The reference solution measures ([\d.]+) MB(?:<!--[^>]*-->)?; the starter measures ([\d.]+) MB",
    )
    .unwrap();
    let mut problems = Vec::new();
    for dir in std::fs::read_dir(workbook_root().join("exercises"))
        .unwrap()
        .map(|e| e.unwrap().path())
    {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let Ok(readme) = std::fs::read_to_string(dir.join("README.md")) else {
            continue;
        };
        let Some(c) = claim.captures(&readme) else {
            problems.push(format!("{name}: README.md lacks \"The reference solution measures X MB; the starter measures Y MB\""));
            continue;
        };
        for (variant, claimed) in [("solution", &c[1]), ("starter", &c[2])] {
            let claimed: f64 = claimed.parse().unwrap();
            let Some(measured) = numbers["exercises"][&name][variant]["size"].as_f64() else {
                problems.push(format!(
                    "{name}: no {variant} size in src/measurements.json"
                ));
                continue;
            };
            let measured = measured / 1e6;
            if (claimed - measured).abs() > 0.1 * measured {
                problems.push(format!("{name}: README says the {variant} measures {claimed} MB, the checker measured {measured:.2} MB"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_dockerfile_the_book_shows_builds() {
    require_engine();
    let out = run(&workbook_root(), &["doctest"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(
        text(&out.stdout).contains(" built"),
        "at least one snippet is built: {}",
        text(&out.stdout)
    );
}

#[test]
fn committed_measurements_are_within_ten_percent_of_a_fresh_measurement() {
    require_engine();
    let committed = workbook_root().join("src/measurements.json");
    let out = run(
        &workbook_root(),
        &["measure", "--compare", committed.to_str().unwrap()],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}
