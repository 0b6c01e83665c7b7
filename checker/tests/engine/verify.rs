//! A learner's check and watch of a real exercise, from its starter to its solution.

use std::time::Duration;

use crate::common::*;

pub(crate) fn a_learners_check_reports_measured_against_target_and_the_biggest_layer() {
    require_engine();
    let (dir, ex) = workbook_with("01-static-binary");
    let out = run(dir.path(), &["check", "01-static-binary"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(report.contains("✘ size"), "{report}");
    // The report wraps to 80 columns when piped: its words, whatever the line breaks.
    let words = report.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("of it is layer 2: RUN apt-get"), "{report}");
    assert!(
        report.contains(
            "Stages:\n┏━ 0 stage-0 · the image ━━━━━━┓\n┃ FROM debian:bookworm  line 6 ┃"
        ),
        "the stage graph as terminal text, not Mermaid source: {report}"
    );
    let listing = text(&run(dir.path(), &["list"]).stdout);
    assert!(
        listing.contains("(1/6 goals)"),
        "the check was recorded: {listing}"
    );
    // The learner fixes it with the reference solution: the check passes and is recorded as done.
    save_solution(&ex);
    let out = run(dir.path(), &["check", "01-static-binary"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let listing = text(&run(dir.path(), &["list"]).stdout);
    assert!(
        listing.contains("done ") && listing.contains("(6/6 goals; first done "),
        "{listing}"
    );
}

pub(crate) fn watch_rechecks_on_save_with_events_and_with_polling() {
    require_engine();
    for mode in [None, Some("--poll")] {
        let (dir, ex) = workbook_with("01-static-binary");
        let mut args = vec!["01"];
        args.extend(mode);
        let mut watch = Watch::start(dir.path(), &args);
        let wait_for = |needle: &str| {
            watch.wait_until(Duration::from_secs(120), Duration::from_millis(200), |o| {
                o.contains(needle)
            })
        };
        let first = wait_for("1 of 6 goals met.");
        save_solution(&ex);
        let second = wait_for("6 of 6 goals met.");
        let output = watch.kill();
        assert!(first && second, "mode {mode:?}: {output}");
    }
}
