//! What changed between two attempts at an exercise, in the words `watch` shows after each
//! check: "size 326.0 MB → 12.4 MB (−96 %)", the goals newly met and newly missed.

use crate::check::CheckResult;
use crate::facts::format_mb;

pub fn since_previous(previous: &CheckResult, now: &CheckResult) -> Vec<String> {
    let mut lines = Vec::new();
    let (before, after) = (
        previous.measurements.image_size,
        now.measurements.image_size,
    );
    if before != after && before > 0 {
        let percent = (after as f64 - before as f64) / before as f64 * 100.0;
        lines.push(format!(
            "size {} → {} ({}{:.0} %)",
            format_mb(before),
            format_mb(after),
            if percent < 0.0 { "−" } else { "+" },
            percent.abs()
        ));
    }
    let was_met = |id: &str| previous.verdicts.iter().any(|v| v.id == id && v.met);
    let was_judged = |id: &str| previous.verdicts.iter().any(|v| v.id == id);
    let newly_met: Vec<&str> = now
        .verdicts
        .iter()
        .filter(|v| v.met && !was_met(&v.id))
        .map(|v| v.id.as_str())
        .collect();
    let newly_missed: Vec<&str> = now
        .verdicts
        .iter()
        .filter(|v| !v.met && (was_met(&v.id) || !was_judged(&v.id)))
        .map(|v| v.id.as_str())
        .collect();
    if !newly_met.is_empty() {
        lines.push(format!("now met: {}", newly_met.join(", ")));
    }
    if !newly_missed.is_empty() {
        lines.push(format!("now missed: {}", newly_missed.join(", ")));
    }
    if lines.is_empty() {
        lines.push("the same size and goals as the attempt before".to_string());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::goals::Verdict;

    fn result(size: u64, verdicts: &[(&str, bool)]) -> CheckResult {
        let json = serde_json::json!({
            "exercise": "01-static-binary",
            "title": "t",
            "variant": "learner",
            "dockerfile": "Dockerfile",
            "image": "workbook-x/01-static-binary:learner",
            "image_id": "sha256:1",
            "checked_at": "2026-11-30T14:00:00Z",
            "verdicts": [],
            "measurements": serde_json::to_value(crate::facts::Measurements { image_size: size, ..Default::default() }).unwrap(),
            "stage_graph": {"stages": [], "edges": [], "global_args": [], "target": 0},
            "mermaid": "",
            "build_steps": [],
        });
        let mut r: CheckResult = serde_json::from_value(json).unwrap();
        r.verdicts = verdicts
            .iter()
            .map(|(id, met)| Verdict {
                id: id.to_string(),
                kind: "image-size",
                met: *met,
                measured: String::new(),
                target: String::new(),
                measured_value: None,
                target_value: None,
                detail: None,
            })
            .collect();
        r
    }

    #[test]
    fn size_and_goals_that_changed_are_named() {
        let before = result(
            326_000_000,
            &[("size", false), ("runs", true), ("stages", false)],
        );
        let after = result(
            12_400_000,
            &[("size", true), ("runs", false), ("stages", false)],
        );
        assert_eq!(
            since_previous(&before, &after),
            [
                "size 326.0 MB → 12.4 MB (−96 %)",
                "now met: size",
                "now missed: runs"
            ]
        );
        assert_eq!(
            since_previous(&after, &after),
            ["the same size and goals as the attempt before"]
        );
        let bigger = result(
            13_000_000,
            &[("size", true), ("runs", false), ("stages", false)],
        );
        assert_eq!(
            since_previous(&after, &bigger),
            ["size 12.4 MB → 13.0 MB (+5 %)"]
        );
    }
}
