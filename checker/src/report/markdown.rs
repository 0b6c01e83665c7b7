//! Markdown: a report to paste into an issue, a pull request or a class's notes.

use std::fmt::Write;

use super::{Exporter, RunInfo};
use crate::check::{CheckResult, Checked, VerifyResult};
use crate::facts::format_mb;

pub struct Markdown;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

impl Exporter for Markdown {
    fn check(&self, info: &RunInfo, outcomes: &[Checked]) -> String {
        let mut out = String::new();
        for outcome in outcomes {
            let r = match outcome {
                Ok(r) => r,
                Err(e) => {
                    let _ = writeln!(
                        out,
                        "## {} — {} ({})\n\n**Could not check:**\n\n```text\n{}\n```\n",
                        e.exercise,
                        e.title,
                        e.variant.as_str(),
                        e.error.replace("```", "'''")
                    );
                    continue;
                }
            };
            let met = r.verdicts.iter().filter(|v| v.met).count();
            let _ = writeln!(
                out,
                "## {} — {} ({})\n",
                r.exercise,
                r.title,
                r.variant.as_str()
            );
            let _ = writeln!(
                out,
                "Image `{}`: {}, {} layers. {met} of {} goals met.\n",
                r.image,
                format_mb(r.measurements.image_size),
                r.measurements.layer_count,
                r.verdicts.len()
            );
            out.push_str("| | Goal | Measured | Target | Why |\n| --- | --- | --- | --- | --- |\n");
            for v in &r.verdicts {
                let _ = writeln!(
                    out,
                    "| {} | `{}` | {} | {} | {} |",
                    if v.met { "✔" } else { "✘" },
                    v.id,
                    cell(&v.measured),
                    cell(&v.target),
                    cell(v.detail.as_deref().filter(|_| !v.met).unwrap_or(""))
                );
            }
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "_Checked with checker {} on {}._",
            info.checker_version, info.engine
        );
        out
    }

    fn verify(&self, info: &RunInfo, results: &[VerifyResult]) -> String {
        let mut out = String::from("| | Exercise | Starter | Solution | The starter misses | Problems |\n| --- | --- | ---: | ---: | --- | --- |\n");
        for r in results {
            let size = |c: &Option<CheckResult>| {
                c.as_ref()
                    .map(|c| format_mb(c.measurements.image_size))
                    .unwrap_or("—".into())
            };
            let missed = r
                .starter
                .as_ref()
                .map(|s| s.missed().into_iter().collect::<Vec<_>>().join(", "))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                if r.ok() { "✔" } else { "✘" },
                r.exercise,
                size(&r.starter),
                size(&r.solution),
                cell(&missed),
                cell(&r.problems.join("; "))
            );
        }
        let _ = writeln!(
            out,
            "\n_Verified with checker {} on {}._",
            info.checker_version, info.engine
        );
        out
    }
}
