//! Bad input on the real engine: each is refused with exit 2 and a message naming the file
//! and line, or judged as a missed goal when it is the app that misbehaves; nothing is lost
//! and nothing is left running.

use crate::common::*;
use checker::docker::api::EXERCISE_LABEL;

fn check(name: &str) -> std::process::Output {
    require_engine();
    run(&fixture("broken"), &["check", name, "--format", "json"])
}

pub(crate) fn a_dockerfile_that_does_not_parse() {
    let out = check("01-parse-error");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("01-parse-error/Dockerfile:3:"), "{err}");
    assert!(err.to_lowercase().contains("unknown instruction"), "{err}");
}

pub(crate) fn a_run_step_that_fails_names_the_line_and_shows_its_log() {
    let out = check("02-run-fails");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("02-run-fails/Dockerfile: the build failed at [2/2] RUN"),
        "{err}"
    );
    assert!(err.contains("(line 3)"), "{err}");
    assert!(
        err.contains("this is the error output"),
        "the step's log tail is shown: {err}"
    );
    assert!(err.contains("exit code: 3"), "{err}");
}

pub(crate) fn a_missing_base_image_that_cannot_be_pulled() {
    let out = check("03-missing-base");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("03-missing-base/Dockerfile:3: base image `workbook-test/never-built:1`"),
        "{err}"
    );
    assert!(err.contains("checker images --offline"), "{err}");
}

pub(crate) fn a_bad_dockerignore_names_its_line() {
    let out = check("07-bad-dockerignore");
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("07-bad-dockerignore/.dockerignore:2"), "{err}");
}

pub(crate) fn an_app_that_never_exits_is_stopped_at_its_limit_and_removed() {
    let started = std::time::Instant::now();
    let out = check("04-never-exits");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = json(&out);
    let v = verdict(&report, "runs");
    assert_eq!(v["met"], false);
    assert!(
        v["measured"]
            .as_str()
            .unwrap()
            .starts_with("still running after 3 s"),
        "{v}"
    );
    assert!(started.elapsed().as_secs() < 60, "the limit held");
    assert_no_leftovers("04-never-exits");
}

pub(crate) fn a_server_that_never_listens_times_out_and_is_removed() {
    let out = check("05-never-listens");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = json(&out);
    let v = verdict(&report, "serves");
    assert_eq!(v["met"], false);
    assert_eq!(v["measured"], "no answer within 3 s", "{v}");
    assert_no_leftovers("05-never-listens");
}

pub(crate) fn an_app_that_floods_its_output_is_judged_with_the_output_cut() {
    let out = check("06-floods");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = json(&out);
    // What the app printed is kept cut short (the report's inventory of the image's files
    // is its own size, whatever the app prints).
    let app = serde_json::to_string(&report["results"][0]["measurements"]["apps"]).unwrap();
    assert!(
        app.len() < 200_000,
        "the app's output is cut: {} bytes",
        app.len()
    );
    let v = verdict(&report, "runs");
    assert_eq!(v["met"], false);
    assert!(v["measured"].as_str().unwrap().starts_with("exit 4"), "{v}");
    assert_no_leftovers("06-floods");
}

pub(crate) fn a_check_never_modifies_the_learners_files() {
    require_engine();
    let exercises = fixture("broken").join("exercises");
    let before = snapshot(&exercises);
    let _ = run(&fixture("broken"), &["check", "02-run-fails"]);
    let _ = run(&fixture("broken"), &["check", "04-never-exits"]);
    assert_eq!(before, snapshot(&exercises));
}

fn assert_no_leftovers(exercise: &str) {
    let out = std::process::Command::new("docker")
        .args([
            "ps",
            "-a",
            "-q",
            "--filter",
            &format!("label={EXERCISE_LABEL}={exercise}"),
        ])
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).trim().is_empty(),
        "containers left behind: {}",
        text(&out.stdout)
    );
}
