//! The report for people at a terminal: each goal with ✔/✘ and measured vs target, the
//! largest layers with the instruction that made each, and the stage graph. Its lines fit
//! the layout's width (a long one goes on under its own column) and are coloured only when
//! the layout says so.

use super::layout::{fill, Layout, Paint};
use super::{Exporter, RunInfo};
use crate::check::{CheckResult, Checked, VerifyResult};
use crate::docker::api::BuildWarning;
use crate::facts::{format_mb, Layer};
use crate::goals::verdict::shorten;

/// The text report, fitted to a terminal's width and coloured for it, or plain.
pub struct Text {
    pub layout: Layout,
}

impl Exporter for Text {
    fn check(&self, _info: &RunInfo, outcomes: &[Checked]) -> String {
        let mut out = Out::new(self.layout);
        for outcome in outcomes {
            let r = match outcome {
                Ok(r) => r,
                Err(e) => {
                    // The whole error went to stderr as it happened; its first line here.
                    out.fill(
                        "",
                        &format!("{} — {} ({})", e.exercise, e.title, e.dockerfile.display()),
                        2,
                    );
                    out.blank();
                    let first = e.error.lines().next().unwrap_or_default();
                    out.fill("could not check: ", first, 17);
                    out.blank();
                    continue;
                }
            };
            write_result(&mut out, r);
            let met = r.verdicts.iter().filter(|v| v.met).count();
            out.blank();
            let summary = format!("{met} of {} goals met.", r.verdicts.len());
            out.line(self.layout.paint(Paint::Heading, &summary));
            if !r.all_met() {
                let stuck = format!("Stuck? `checker hint {}` gives a hint.", r.exercise);
                out.fill("", &stuck, 2);
            }
            out.blank();
        }
        out.text
    }

    fn verify(&self, _info: &RunInfo, results: &[VerifyResult]) -> String {
        let mut out = Out::new(self.layout);
        for r in results {
            let sizes = |c: &Option<CheckResult>| {
                c.as_ref()
                    .map(|c| format_mb(c.measurements.image_size))
                    .unwrap_or("—".into())
            };
            let (mark, paint) = if r.ok() {
                ("✔", Paint::Met)
            } else {
                ("✘", Paint::Missed)
            };
            let line = format!(
                "{}  starter {}, solution {}",
                r.exercise,
                sizes(&r.starter),
                sizes(&r.solution)
            );
            out.marked(&format!("{mark} "), &line, 2, (mark, paint));
            if let Some(s) = &r.starter {
                let missed: Vec<String> = s.missed().into_iter().collect();
                let missed = if missed.is_empty() {
                    "nothing".into()
                } else {
                    missed.join(", ")
                };
                out.fill("    starter misses: ", &missed, 20);
            }
            for p in &r.problems {
                out.fill("    problem: ", p, 13);
            }
        }
        let ok = results.iter().filter(|r| r.ok()).count();
        out.blank();
        out.line(format!("{ok} of {} exercises verify.", results.len()));
        out.text
    }
}

/// The report as it is written: every line filled to the layout's width.
struct Out {
    text: String,
    layout: Layout,
}

impl Out {
    fn new(layout: Layout) -> Out {
        Out {
            text: String::new(),
            layout,
        }
    }

    fn line(&mut self, line: impl AsRef<str>) {
        self.text.push_str(line.as_ref());
        self.text.push('\n');
    }

    fn blank(&mut self) {
        self.text.push('\n');
    }

    /// `text` after `prefix`, its continuation lines at column `indent`.
    fn fill(&mut self, prefix: &str, text: &str, indent: usize) {
        for line in fill(prefix, text, indent, self.layout.width) {
            self.line(line);
        }
    }

    /// As `fill`, with the prefix's `mark` painted.
    fn marked(&mut self, prefix: &str, text: &str, indent: usize, (mark, paint): (&str, Paint)) {
        let lines = fill(prefix, text, indent, self.layout.width);
        for (n, line) in lines.into_iter().enumerate() {
            let line = match n {
                0 => self.layout.paint_mark(&line, mark, paint),
                _ => line,
            };
            self.line(line);
        }
    }

    fn heading(&mut self, heading: &str) {
        self.blank();
        let heading = self.layout.paint(Paint::Heading, heading);
        self.line(heading);
    }
}

fn write_result(out: &mut Out, r: &CheckResult) {
    write_header(out, r);
    out.blank();
    write_verdicts(out, r);
    write_build_warnings(out, &r.build_warnings);
    write_largest_layers(out, &r.measurements.largest_layers);
    if let Some(inventory) = &r.measurements.inventory {
        by_origin(out, inventory);
    }
    out.heading("Stages:");
    // The drawing fits 80 columns as it is; its lines are never filled.
    out.text.push_str(&super::stage_graph::draw(&r.stage_graph));
}

/// Which exercise and Dockerfile, whether the result or the app's runs are an earlier
/// check's, and the image's figures.
fn write_header(out: &mut Out, r: &CheckResult) {
    let m = &r.measurements;
    let title = format!("{} — {} ({})", r.exercise, r.title, r.dockerfile.display());
    for line in fill("", &title, 2, out.layout.width) {
        let line = out.layout.paint(Paint::Heading, &line);
        out.line(line);
    }
    if r.from_cache {
        let when = r
            .checked_at
            .with_timezone(&chrono::Local)
            .format("%-d %b %H:%M:%S");
        out.fill("", &format!("unchanged since the check of {when}: its result (`checker check --fresh` builds and judges again)"), 2);
    }
    if let Some(ran_at) = m.apps_ran_at {
        let when = ran_at.with_timezone(&chrono::Local).format("%H:%M:%S");
        out.fill("", &format!("the image is the one checked at {when} (the same id): its app was not started again (`--fresh`, or `c` in watch, starts it)"), 2);
    }
    let figures = format!(
        "image {}: {}, {} layers; built in {:.1} s, {} of {} steps cached; context {}",
        r.image,
        format_mb(m.image_size),
        m.layer_count,
        m.build_seconds,
        m.cached_steps,
        m.total_steps,
        format_mb(m.context_bytes)
    );
    out.fill("", &figures, 2);
}

/// Each goal with ✔/✘, measured and target in columns, and a missed goal's detail: a
/// line too long for the width goes on under its own column (the measured text under the
/// measured text, the target under the target), never back at the margin.
fn write_verdicts(out: &mut Out, r: &CheckResult) {
    let width = r
        .verdicts
        .iter()
        .map(|v| v.id.chars().count())
        .max()
        .unwrap_or(0);
    for v in &r.verdicts {
        let (mark, paint) = if v.met {
            ("✔", Paint::Met)
        } else {
            ("✘", Paint::Missed)
        };
        let head = format!("  {mark} {:width$}  ", v.id);
        let column = head.chars().count();
        let mut lines = fill(&head, &v.measured, column, out.layout.width);
        let goal = format!("(goal: {})", v.target);
        let last = lines.last_mut().expect("fill gives a line at least");
        if last.chars().count() + 3 + goal.chars().count() <= out.layout.width {
            last.push_str("   ");
            last.push_str(&goal);
        } else {
            let under = " ".repeat(column);
            lines.extend(fill(
                &format!("{under}(goal: "),
                &format!("{})", v.target),
                column + 7,
                out.layout.width,
            ));
        }
        lines[0] = out.layout.paint_mark(&lines[0], mark, paint);
        for line in lines {
            out.line(line);
        }
        if let Some(detail) = &v.detail {
            if !v.met {
                out.fill(&" ".repeat(column), detail, column);
            }
        }
    }
}

/// What Docker's own build checks said, if anything.
fn write_build_warnings(out: &mut Out, warnings: &[BuildWarning]) {
    if warnings.is_empty() {
        return;
    }
    out.heading("Docker's build checks (advice from the engine, not goals):");
    for w in warnings {
        // BuildKit's own wording ends in "(line 10)" already.
        let at = match w.line {
            Some(l) if !w.message.contains("(line ") => format!(" (line {l})"),
            _ => String::new(),
        };
        out.marked(
            "  ⚠ ",
            &format!("{}{at}", w.message),
            4,
            ("⚠", Paint::Warning),
        );
    }
}

/// The largest layers with the instruction that made each, if measured.
fn write_largest_layers(out: &mut Out, layers: &[Layer]) {
    if layers.is_empty() {
        return;
    }
    out.heading("Largest layers:");
    for l in layers {
        let head = format!("  layer {:>2}  {:>10}  ", l.position, format_mb(l.size));
        let column = head.chars().count();
        out.fill(&head, &shorten(&l.created_by, 90), column);
    }
}

/// "What is in your image, by origin": files and bytes per base image, package, stage and
/// instruction, and the largest files that are a package's under another name or place.
fn by_origin(out: &mut Out, inventory: &crate::facts::inventory::Inventory) {
    const ROWS: usize = 8;
    let rows = inventory.by_origin();
    if rows.is_empty() {
        return;
    }
    out.heading("What is in your image, by origin:");
    for row in rows.iter().take(ROWS) {
        let files = if row.files == 1 { "file" } else { "files" };
        let head = format!(
            "  {:>10}  {:>6} {files:<5}  ",
            format_mb(row.bytes),
            row.files
        );
        let column = head.chars().count();
        out.fill(&head, &shorten(&row.origin, 70), column);
    }
    if rows.len() > ROWS {
        let rest = &rows[ROWS..];
        let bytes: u64 = rest.iter().map(|r| r.bytes).sum();
        let files: usize = rest.iter().map(|r| r.files).sum();
        out.line(format!(
            "  {:>10}  {:>6} files  and {} more origins",
            format_mb(bytes),
            files,
            rest.len()
        ));
    }
    for file in inventory.foreign_files(3) {
        let what = format!(
            "{} is {}, {}",
            file.path,
            inventory.describe(file),
            format_mb(file.size)
        );
        out.fill("  ! ", &what, 4);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::goals::Verdict;

    const DETAIL: &str = "after src/main.go changed, `RUN go mod download` (line 19, stage build) ran again and wrote 5 of the dependencies' files into its layer (/root/go/pkg/mod/cache/download/example.com/slugify/@v/v1.3.0.mod, /root/go/pkg/mod/cache/download/example.com/slugify/@v/v1.3.0.zip, /root/go/pkg/mod/example.com/slugify@v1.3.0/go.mod, …). A step runs again when anything before it in its stage changed, and every edit changes the sources: copy only what the download reads (the dependency list: go.mod and go.sum, package.json and its lock file…) before the step that downloads, and the sources after it";

    fn verdict(id: &str, met: bool, measured: &str, target: &str, detail: &str) -> Verdict {
        Verdict {
            id: id.into(),
            kind: "cache-reuse",
            met,
            measured: measured.into(),
            target: target.into(),
            measured_value: None,
            target_value: None,
            detail: (!detail.is_empty()).then(|| detail.into()),
        }
    }

    fn result() -> CheckResult {
        let measurements = crate::facts::Measurements {
            image_size: 12_400_000,
            largest_layers: vec![Layer {
                position: 2,
                size: 11_200_000,
                created_by: "RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends gcc make libc6-dev ca-certificates curl # buildkit".into(),
            }],
            ..Default::default()
        };
        let json = serde_json::json!({
            "exercise": "07-cache-order",
            "title": "Order the steps for the cache",
            "variant": "learner",
            "dockerfile": "exercises/07-cache-order/Dockerfile",
            "image": "workbook-x/07-cache-order:learner",
            "image_id": "sha256:1",
            "checked_at": "2026-11-30T14:00:00Z",
            "verdicts": [],
            "measurements": serde_json::to_value(measurements).unwrap(),
            "stage_graph": {"stages": [], "edges": [], "global_args": [], "target": 0},
            "mermaid": "",
            "build_steps": [],
        });
        let mut r: CheckResult = serde_json::from_value(json).unwrap();
        r.verdicts = vec![
            verdict("non-root", true, "uid 10001", "a user other than root", ""),
            verdict(
                "cache",
                false,
                "fetched again: 5 of the dependencies' files, by 1 step",
                "after src/main.go changes, no step fetches the dependencies (goproxy) again",
                DETAIL,
            ),
        ];
        r.build_warnings = vec![BuildWarning {
            message: "JSONArgsRecommended: JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals".into(),
            line: Some(23),
            url: String::new(),
        }];
        r
    }

    fn report(width: usize, colour: bool) -> String {
        let info = RunInfo {
            checker_version: "0",
            engine: String::new(),
            engine_info: None,
        };
        Text {
            layout: Layout::new(width, colour),
        }
        .check(&info, &[Ok(result())])
    }

    /// The lines of the report from the one that starts with `start` to the next that is
    /// not a continuation (indented at least `column`).
    fn block<'a>(text: &'a str, start: &str, column: usize) -> Vec<&'a str> {
        let mut lines = text.lines().skip_while(|l| !l.starts_with(start));
        let first = lines
            .next()
            .unwrap_or_else(|| panic!("no {start:?} in\n{text}"));
        let pad = " ".repeat(column);
        std::iter::once(first)
            .chain(lines.take_while(|l| l.starts_with(&pad)))
            .collect()
    }

    #[test]
    fn long_goal_lines_fit_the_width_and_go_on_under_their_column() {
        for width in [80, 120] {
            let text = report(width, false);
            for line in text.lines() {
                assert!(line.chars().count() <= width, "{width}: {line:?}\n{text}");
            }
            // The measured text, its target and its detail start at column 14; everything
            // after a verdict's first line, up to the next goal or section, starts there too.
            let cache = block(&text, "  ✘ cache     ", 14);
            assert!(cache.len() >= 4, "{width}:\n{text}");
            for line in &cache[1..] {
                let text_at = line.len() - line.trim_start().len();
                assert!(text_at >= 14, "{width}: {line:?}");
            }
            assert!(
                cache
                    .iter()
                    .any(|l| l.starts_with(&format!("{}(goal: ", " ".repeat(14))))
                    || cache[0].contains("(goal: ")
            );
            // Every word of the detail, the paths among them broken where a line ends.
            let letters = |s: &str| s.replace(char::is_whitespace, "");
            assert!(
                letters(&cache.concat()).contains(&letters(DETAIL)),
                "{width}:\n{text}"
            );
            let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
            assert_eq!(
                text.lines().find(|l| l.contains("non-root")),
                Some("  ✔ non-root  uid 10001   (goal: a user other than root)")
            );
            let layer = block(&text, "  layer  2", 24);
            assert_eq!(
                words(&layer.join(" ")),
                "layer 2 11.2 MB RUN apt-get update && apt-get install -y --no-install-recommends gcc make libc6-dev ca-cer…"
            );
            let warning = block(&text, "  ⚠ JSONArgs", 4);
            assert!(warning.len() >= 2, "{width}:\n{text}");
        }
    }

    #[test]
    fn colour_only_when_asked_and_the_same_text_without_it() {
        let plain = report(80, false);
        let coloured = report(80, true);
        assert!(!plain.contains('\x1b'));
        assert!(coloured.contains("\x1b[31m✘\x1b[0m cache"), "{coloured}");
        assert!(coloured.contains("\x1b[32m✔\x1b[0m non-root"));
        assert_eq!(super::super::layout::strip(&coloured), plain);
    }
}
