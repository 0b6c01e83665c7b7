//! The report for people at a terminal: each goal with ✔/✘ and measured vs target, the
//! largest layers with the instruction that made each, and the stage graph.

use std::fmt::Write;

use super::{Exporter, RunInfo};
use crate::check::{CheckResult, Checked, VerifyResult};
use crate::docker::api::BuildWarning;
use crate::facts::{format_mb, Layer};
use crate::goals::verdict::shorten;

pub struct Text;

impl Exporter for Text {
    fn check(&self, _info: &RunInfo, outcomes: &[Checked]) -> String {
        let mut out = String::new();
        for outcome in outcomes {
            let r = match outcome {
                Ok(r) => r,
                Err(e) => {
                    // The whole error went to stderr as it happened; its first line here.
                    let _ = writeln!(
                        out,
                        "{} — {} ({})\n\ncould not check: {}\n",
                        e.exercise,
                        e.title,
                        e.dockerfile.display(),
                        e.error.lines().next().unwrap_or_default()
                    );
                    continue;
                }
            };
            write_result(&mut out, r);
            let met = r.verdicts.iter().filter(|v| v.met).count();
            let _ = writeln!(out, "\n{met} of {} goals met.", r.verdicts.len());
            if !r.all_met() {
                let _ = writeln!(out, "Stuck? `checker hint {}` gives a hint.", r.exercise);
            }
            out.push('\n');
        }
        out
    }

    fn verify(&self, _info: &RunInfo, results: &[VerifyResult]) -> String {
        let mut out = String::new();
        for r in results {
            let sizes = |c: &Option<CheckResult>| {
                c.as_ref()
                    .map(|c| format_mb(c.measurements.image_size))
                    .unwrap_or("—".into())
            };
            let mark = if r.ok() { "✔" } else { "✘" };
            let _ = writeln!(
                out,
                "{mark} {}  starter {}, solution {}",
                r.exercise,
                sizes(&r.starter),
                sizes(&r.solution)
            );
            if let Some(s) = &r.starter {
                let missed: Vec<String> = s.missed().into_iter().collect();
                let _ = writeln!(
                    out,
                    "    starter misses: {}",
                    if missed.is_empty() {
                        "nothing".into()
                    } else {
                        missed.join(", ")
                    }
                );
            }
            for p in &r.problems {
                let _ = writeln!(out, "    problem: {p}");
            }
        }
        let ok = results.iter().filter(|r| r.ok()).count();
        let _ = writeln!(out, "\n{ok} of {} exercises verify.", results.len());
        out
    }
}

fn write_result(out: &mut String, r: &CheckResult) {
    write_header(out, r);
    out.push('\n');
    write_verdicts(out, r);
    write_build_warnings(out, &r.build_warnings);
    write_largest_layers(out, &r.measurements.largest_layers);
    if let Some(inventory) = &r.measurements.inventory {
        by_origin(out, inventory);
    }
    let _ = write!(
        out,
        "\nStages:\n{}",
        super::stage_graph::draw(&r.stage_graph)
    );
}

/// Which exercise and Dockerfile, whether the result or the app's runs are an earlier
/// check's, and the image's figures.
fn write_header(out: &mut String, r: &CheckResult) {
    let m = &r.measurements;
    let _ = writeln!(
        out,
        "{} — {} ({})",
        r.exercise,
        r.title,
        r.dockerfile.display()
    );
    if r.from_cache {
        let _ = writeln!(
            out,
            "unchanged since the check of {}: its result (`checker check --fresh` builds and judges again)",
            r.checked_at
                .with_timezone(&chrono::Local)
                .format("%-d %b %H:%M:%S")
        );
    }
    if let Some(ran_at) = m.apps_ran_at {
        let _ = writeln!(
            out,
            "the image is the one checked at {} (the same id): its app was not started again (`--fresh`, or `c` in watch, starts it)",
            ran_at.with_timezone(&chrono::Local).format("%H:%M:%S")
        );
    }
    let _ = writeln!(
        out,
        "image {}: {}, {} layers; built in {:.1} s, {} of {} steps cached; context {}",
        r.image,
        format_mb(m.image_size),
        m.layer_count,
        m.build_seconds,
        m.cached_steps,
        m.total_steps,
        format_mb(m.context_bytes)
    );
}

/// Each goal with ✔/✘, measured and target in columns, and a missed goal's detail.
fn write_verdicts(out: &mut String, r: &CheckResult) {
    let width = r
        .verdicts
        .iter()
        .map(|v| v.id.chars().count())
        .max()
        .unwrap_or(0);
    for v in &r.verdicts {
        let mark = if v.met { "✔" } else { "✘" };
        let _ = writeln!(
            out,
            "  {mark} {:width$}  {}   (goal: {})",
            v.id, v.measured, v.target
        );
        if let Some(detail) = &v.detail {
            if !v.met {
                let _ = writeln!(out, "    {:width$}  {detail}", "");
            }
        }
    }
}

/// What Docker's own build checks said, if anything.
fn write_build_warnings(out: &mut String, warnings: &[BuildWarning]) {
    if warnings.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nDocker's build checks (advice from the engine, not goals):"
    );
    for w in warnings {
        // BuildKit's own wording ends in "(line 10)" already.
        let at = match w.line {
            Some(l) if !w.message.contains("(line ") => format!(" (line {l})"),
            _ => String::new(),
        };
        let _ = writeln!(out, "  ⚠ {}{at}", w.message);
    }
}

/// The largest layers with the instruction that made each, if measured.
fn write_largest_layers(out: &mut String, layers: &[Layer]) {
    if layers.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nLargest layers:");
    for l in layers {
        let _ = writeln!(
            out,
            "  layer {:>2}  {:>10}  {}",
            l.position,
            format_mb(l.size),
            shorten(&l.created_by, 90)
        );
    }
}

/// "What is in your image, by origin": files and bytes per base image, package, stage and
/// instruction, and the largest files that are a package's under another name or place.
fn by_origin(out: &mut String, inventory: &crate::facts::inventory::Inventory) {
    const ROWS: usize = 8;
    let rows = inventory.by_origin();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nWhat is in your image, by origin:");
    for row in rows.iter().take(ROWS) {
        let files = if row.files == 1 { "file" } else { "files" };
        let _ = writeln!(
            out,
            "  {:>10}  {:>6} {files:<5}  {}",
            format_mb(row.bytes),
            row.files,
            shorten(&row.origin, 70)
        );
    }
    if rows.len() > ROWS {
        let rest = &rows[ROWS..];
        let bytes: u64 = rest.iter().map(|r| r.bytes).sum();
        let files: usize = rest.iter().map(|r| r.files).sum();
        let _ = writeln!(
            out,
            "  {:>10}  {:>6} files  and {} more origins",
            format_mb(bytes),
            files,
            rest.len()
        );
    }
    for file in inventory.foreign_files(3) {
        let _ = writeln!(
            out,
            "  ! {} is {}, {}",
            file.path,
            inventory.describe(file),
            format_mb(file.size)
        );
    }
}
