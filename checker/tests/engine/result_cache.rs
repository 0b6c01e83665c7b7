//! The result cache on the real engine: an unchanged exercise's check is the stored result,
//! said so in the report; a changed Dockerfile, context file or exercise.toml, or `--fresh`,
//! is a check afresh (the key's other inputs, base image ids, engine and checker, are
//! unit-tested in `workbook::result_cache`).

use std::time::Duration;

use crate::common::*;

fn check(root: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["check", "01", "--format", "json"];
    args.extend_from_slice(extra);
    let out = run(root, &args);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        text(&out.stderr)
    );
    json(&out)
}

fn from_cache(report: &serde_json::Value) -> bool {
    report["results"][0]["from_cache"] == true
}

pub(crate) fn unchanged_inputs_reuse_the_result_and_any_change_checks_afresh() {
    require_engine();
    let (dir, ex) = workbook_with("01-static-binary");

    let first = check(dir.path(), &[]);
    assert!(!from_cache(&first));
    let again = check(dir.path(), &[]);
    assert!(from_cache(&again), "nothing changed: {again}");
    assert_eq!(
        again["results"][0]["verdicts"],
        first["results"][0]["verdicts"]
    );
    assert_eq!(
        again["results"][0]["checked_at"], first["results"][0]["checked_at"],
        "the stored result says when it was checked"
    );
    let text_report = text(&run(dir.path(), &["check", "01"]).stdout);
    assert!(
        text_report.contains("unchanged since the check of"),
        "{text_report}"
    );
    assert!(
        !from_cache(&check(dir.path(), &["--fresh"])),
        "--fresh builds again"
    );

    // Each input, changed on its own, gives a fresh result.
    type Change<'a> = (&'a str, Box<dyn Fn() + 'a>);
    let changes: [Change; 3] = [
        (
            "the Dockerfile",
            Box::new(|| {
                let mut text = std::fs::read_to_string(ex.join("Dockerfile")).unwrap();
                text.push_str("\n# a comment\n");
                std::fs::write(ex.join("Dockerfile"), text).unwrap();
            }),
        ),
        (
            "a context file",
            Box::new(|| {
                let mut text = std::fs::read_to_string(ex.join("hello.c")).unwrap();
                text.push_str("\n/* a comment */\n");
                std::fs::write(ex.join("hello.c"), text).unwrap();
            }),
        ),
        (
            "exercise.toml",
            Box::new(|| {
                let text = std::fs::read_to_string(ex.join("exercise.toml")).unwrap();
                std::fs::write(
                    ex.join("exercise.toml"),
                    text.replace("max_mb = 2.0", "max_mb = 3.0"),
                )
                .unwrap();
            }),
        ),
    ];
    for (what, change) in &changes {
        check(dir.path(), &[]);
        assert!(
            from_cache(&check(dir.path(), &[])),
            "before changing {what}"
        );
        change();
        assert!(
            !from_cache(&check(dir.path(), &[])),
            "after changing {what}"
        );
    }
    let toml = std::fs::read_to_string(ex.join("exercise.toml")).unwrap();
    assert!(
        toml.contains("max_mb = 3.0"),
        "the exercise.toml change took: {toml}"
    );
}

/// Under `watch`, a save that leaves the image as it was (a comment) is judged without
/// starting the app again, and the report says whose run it is; a save that makes another
/// image (a LABEL: same layers, new config) runs the app again.
pub(crate) fn a_save_that_keeps_the_image_reuses_its_app_run_and_another_image_runs_again() {
    require_engine();
    let (dir, ex) = workbook_with("01-static-binary");
    save_solution(&ex);
    let mut watch = Watch::start(dir.path(), &["01"]);
    // The reports so far, once there are `n` of them (or after three minutes).
    let reports = |n: usize| {
        watch.wait_until(Duration::from_secs(180), Duration::from_millis(100), |o| {
            reports_in(o).len() >= n
        });
        watch.reports()
    };

    let reused = "its app was not started again";
    let first = reports(1);
    append_to_dockerfile(&ex, "\n# a comment: the same image\n");
    let second = reports(2);
    append_to_dockerfile(&ex, "\nLABEL org.workbook.test=\"another image\"\n");
    let third = reports(3);
    watch.kill();
    assert_eq!(third.len(), 3, "three reports: {third:?}");
    // A piped report is wrapped at 80 columns: its words, whatever the line breaks.
    let words = |report: &str| report.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(!words(&first[0]).contains(reused), "{}", first[0]);
    assert!(
        words(&second[1]).contains(reused) && second[1].contains("6 of 6 goals met."),
        "{}",
        second[1]
    );
    assert!(
        !words(&third[2]).contains(reused) && third[2].contains("6 of 6 goals met."),
        "{}",
        third[2]
    );
}
