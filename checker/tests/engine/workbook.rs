//! The whole workbook on the engine, built once per run: `checker verify` checks every
//! starter and solution afresh (every starter misses exactly its lesson's goals, every
//! solution meets all of them), and the numbers the book prints are compared with that
//! very run's results; every Dockerfile the book shows builds.

use crate::common::*;

pub(crate) fn every_exercise_verifies_and_the_book_states_its_numbers() {
    require_engine();
    let out = run(
        &workbook_root(),
        &[
            "verify",
            "--fresh",
            "--jobs",
            &parallel_builds().to_string(),
            "--format",
            "json",
        ],
    );
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
    // The numbers the book prints, against the checks just made: `measure` finds each
    // starter's and solution's result in the result cache, under the same inputs.
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

pub(crate) fn every_dockerfile_the_book_shows_builds() {
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
