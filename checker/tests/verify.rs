//! `checker verify` on the real exercises and the real engine: every starter misses exactly
//! its lesson's goals, every solution meets all of them.

mod common;

use std::time::Duration;

use common::*;

#[test]
fn every_exercise_verifies() {
    require_engine();
    let out = run(&workbook_root(), &["verify", "--format", "json"]);
    let report = json(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "verify failed:\n{}",
        serde_json::to_string_pretty(&report).unwrap()
    );
    let results = report["results"].as_array().unwrap();
    assert!(results.len() >= 2, "{report}");
    for r in results {
        assert_eq!(r["problems"].as_array().unwrap().len(), 0, "{r}");
        let name = r["exercise"].as_str().unwrap();
        let starter = r["starter"]["measurements"]["image_size"].as_u64().unwrap();
        let solution = r["solution"]["measurements"]["image_size"]
            .as_u64()
            .unwrap();
        // A solution never ships more than its starter; where the lesson is the size, it ships
        // less, and the two toolchain-to-scratch exercises of the core ship under a tenth.
        assert!(
            solution <= starter,
            "{name}: the solution ({solution} B) is bigger than the starter ({starter} B)"
        );
        let size_is_the_lesson = r["starter"]["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["kind"] == "image-size" && v["met"] == false);
        if size_is_the_lesson {
            assert!(
                solution < starter,
                "{name}: size is the lesson, yet the solution ({solution} B) is not smaller than the starter ({starter} B)"
            );
        }
        if ["01-static-binary", "02-go-api"].contains(&name) {
            assert!(
                solution * 10 < starter,
                "{name}: the solution ({solution} B) is not a tenth of the starter ({starter} B)"
            );
        }
        assert!(r["solution"]["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["met"] == true));
    }
    assert!(
        report["engine"]
            .as_str()
            .unwrap()
            .starts_with("Docker Engine"),
        "{report}"
    );
}

#[test]
fn a_learners_check_reports_measured_against_target_and_the_biggest_layer() {
    require_engine();
    let (dir, ex) = workbook_with("01-static-binary");
    let out = run(dir.path(), &["check", "01-static-binary"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(report.contains("✘ size"), "{report}");
    assert!(report.contains("of it is layer 2: RUN apt-get"), "{report}");
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

#[test]
fn watch_rechecks_on_save_with_events_and_with_polling() {
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
