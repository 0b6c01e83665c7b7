//! The book and the checker agree: every size or time the book states comes from the
//! checker's measurements, every directive expands, every diagram is labelled for screen
//! readers, every Dockerfile it shows builds, and the committed numbers are fresh.
//! (Rendering in a real browser is `.ci/book`, which needs mdBook and Chromium.)

use std::path::PathBuf;

use crate::common::*;
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

/// The lines of a page a reader takes as statements: prose, HTML, and the code blocks that
/// show output (`console`, `text` or no language), where a `docker history` listing or the
/// checker's verdict may print a size or a time. Blocks of Dockerfiles, shell scripts or
/// source code are left out (code may say `sleep 2`).
fn lines(text: &str) -> Vec<(usize, String)> {
    let mut fence: Option<bool> = None; // Some(shown) inside a fence
    text.lines()
        .enumerate()
        .filter_map(|(i, line)| {
            let trimmed = line.trim_start();
            if trimmed.starts_with("```") {
                fence = match fence {
                    Some(_) => None,
                    None => {
                        let info = trimmed.trim_start_matches('`').trim();
                        Some(matches!(info, "" | "console" | "text"))
                    }
                };
                return None;
            }
            match fence {
                Some(false) => None,
                _ => Some((i + 1, line.to_string())),
            }
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

/// What a measurement typed by hand looks like: a size, a time, a percentage, a count of
/// packages, modules, layers or files, a Debian point release. A zero size is no measurement
/// (`docker history` lists the config-only steps as `0B`).
fn typed_measurements(text: &str) -> Vec<String> {
    let patterns = [
        r"\b\d+(\.\d+)?\s?(B|kB|KB|MB|GB|MiB|GiB|ms|seconds|second|s|minutes|min)\b",
        r"\b\d+(\.\d+)?\s?%",
        r"\b\d+ (more |other )?(Debian )?(packages|modules|layers|files)\b",
        r"\bDebian \d+\.\d+\b",
    ];
    let zero = Regex::new(r"^0+(\.0+)?\s?[A-Za-z]+$").unwrap();
    patterns
        .iter()
        .flat_map(|p| {
            Regex::new(p)
                .unwrap()
                .find_iter(text)
                .map(|m| m.as_str().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|m| !zero.is_match(m))
        .collect()
}

/// Measurements typed into `files`, once what the checker fills in is taken out:
/// `{{#…}}` directives, and in exercise READMEs the numbers tied to the checker's figures
/// (inline `<!-- measure … -->` or a figures block).
fn typed_numbers(files: &[PathBuf]) -> Vec<String> {
    let directive = Regex::new(r"\{\{#[^}]*\}\}").unwrap();
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        let text = checker::dev::mdbook::strip_tied_numbers(&text)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for (line, text) in lines(&text) {
            let text = directive.replace_all(&text, "");
            for m in typed_measurements(&text) {
                found.push(format!("{}:{line}: `{m}`", file.display()));
            }
        }
    }
    found
}

#[test]
fn the_guard_recognises_the_measurements_people_type() {
    for typed in [
        "2.36kB  COPY app.py .",
        "saved over 99 %",
        "about 30 % of it",
        "37 more packages",
        "close to 400 Debian packages",
        "500 after 9.91 s, body",
        "all 70 modules",
        "(Debian 12.15)",
        "overlapped 1.3 s",
    ] {
        assert!(!typed_measurements(typed).is_empty(), "{typed}");
    }
    for fine in [
        "0B      CMD",
        "exercise 03",
        "sleep 2",
        "Debian 12",
        "uid 10001",
    ] {
        assert!(typed_measurements(fine).is_empty(), "{fine}");
    }
}

#[test]
fn chapters_type_in_no_sizes_or_times() {
    let found = typed_numbers(&chapters());
    assert!(
        found.is_empty(),
        "sizes, times, percentages and counts must come from {{{{#measure …}}}} directives:\n{}",
        found.join("\n")
    );
}

/// Exercise READMEs are read as plain files too, so they may type a number, but only one tied
/// to the checker's figure, in a figures block at the end (or a comment beside it); the book
/// prints that figure instead and refuses a typed number more than 10 % away
/// (`the_preprocessor_expands_every_directive`).
#[test]
fn exercise_readmes_type_only_numbers_tied_to_the_checkers_figures() {
    let found = typed_numbers(&exercise_readmes());
    assert!(
        found.is_empty(),
        "a size, time, percentage or count in an exercise README must be tied to the checker's figure in the README's figures block, e.g.\n<!-- figures\n326 MB = measure 01-static-binary starter size\n-->\nor said in words:\n{}",
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
    // The figures blocks and inline markers are gone: the book shows the checker's figures.
    for marker in ["<!-- figures", "<!-- measure", "<!-- target"] {
        assert!(!rendered.contains(marker), "{marker} left in the book");
    }
    assert!(
        rendered.contains("2.35kB  COPY app.py ."),
        "12's docker history listing shows the checker's layer size in kB"
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
