//! Interrupted runs and the reports CI reads (issue "hardening", items 3 and 9): Ctrl-C in
//! the middle of an app run or a build, and a grading timeout, leave no container or image
//! of the run behind, and exit as a CLI should; a check whose build fails still prints a
//! whole JSON or JUnit document, with the exercises after it checked.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use checker::docker::api::SCOPE_LABEL;

/// A copy of the `interrupt` fixture workbook: its own checkout, so its own scope label.
fn workbook() -> (TempWorkbook, PathBuf) {
    let dir = copy_fixture("interrupt");
    let exercises = dir.path().join("exercises");
    (dir, exercises)
}

/// Images and containers (ids, one a line) labelled with the scope of `exercises`.
fn left_behind(exercises: &Path) -> String {
    let scope = checker::workbook::exercise::folder_scope(exercises);
    let label = format!("label={SCOPE_LABEL}={scope}");
    let images = Command::new("docker")
        .args(["images", "-aq", "--filter", &label])
        .output()
        .unwrap();
    let containers = Command::new("docker")
        .args(["ps", "-aq", "--filter", &label])
        .output()
        .unwrap();
    text(&images.stdout) + &text(&containers.stdout)
}

fn running_containers(exercises: &Path) -> String {
    let scope = checker::workbook::exercise::folder_scope(exercises);
    let out = Command::new("docker")
        .args(["ps", "-q", "--filter"])
        .arg(format!("label={SCOPE_LABEL}={scope}"))
        .output()
        .unwrap();
    text(&out.stdout)
}

/// Starts `checker --root ROOT ARGS`, its stderr into `log`.
fn start(root: &Path, args: &[&str], log: &Path) -> Child {
    checker()
        .arg("--root")
        .arg(root)
        .args(args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("the checker binary runs")
}

/// How often the tests look again at what they wait for.
const POLL: Duration = Duration::from_millis(200);

/// Sends SIGINT (what Ctrl-C sends) and waits at most a minute for the exit code.
fn interrupt(mut child: Child) -> Option<i32> {
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    assert!(
        wait_for(Duration::from_secs(60), POLL, || child
            .try_wait()
            .unwrap()
            .is_some()),
        "still running a minute after Ctrl-C"
    );
    child.wait().unwrap().code()
}

pub(crate) fn ctrl_c_during_an_app_run_removes_its_container_and_image_and_exits_130() {
    require_engine();
    let (dir, exercises) = workbook();
    let log = dir.path().join("stderr");
    let child = start(dir.path(), &["check", "01-never-exits"], &log);
    assert!(
        wait_for(Duration::from_secs(120), POLL, || {
            !running_containers(&exercises).is_empty()
        }),
        "the app never started: {}",
        std::fs::read_to_string(&log).unwrap()
    );
    let code = interrupt(child);
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert_eq!(
        left_behind(&exercises),
        "",
        "an interrupted check leaves nothing of its own: {stderr}"
    );
}

pub(crate) fn ctrl_c_mid_build_leaves_no_image_and_exits_130() {
    require_engine();
    let (dir, exercises) = workbook();
    let log = dir.path().join("stderr");
    let child = start(dir.path(), &["check", "02-slow-build"], &log);
    // The base image's step is reported done; the next one sleeps for ten minutes.
    assert!(
        wait_for(Duration::from_secs(120), POLL, || {
            let written = std::fs::read_to_string(&log).unwrap();
            written.contains("FROM docker.io/library/debian")
        }),
        "the build never started: {}",
        std::fs::read_to_string(&log).unwrap()
    );
    std::thread::sleep(Duration::from_secs(2));
    let code = interrupt(child);
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert_eq!(code, Some(130), "{stderr}");
    // The engine gives up the build when its client goes; give it a moment to.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(left_behind(&exercises), "", "{stderr}");
}

/// A submission whose app never exits and one whose build never ends, graded with a short
/// timeout: both are `timed-out` on time, and nothing of either is left.
pub(crate) fn a_grading_timeout_removes_the_checks_container_and_image() {
    require_engine();
    let (dir, _) = workbook();
    let class = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let fixture_exercise = dir.path().join("exercises/01-never-exits");
    for learner in ["alice", "bob"] {
        copy_tree(
            &fixture_exercise,
            &class.path().join(learner).join("01-never-exits"),
        );
    }
    // The step's container is the engine's own (BuildKit's): it goes when the build's
    // client does.
    std::fs::write(
        class.path().join("bob/01-never-exits/Dockerfile"),
        "FROM debian:bookworm-slim\nRUN sleep 600\n",
    )
    .unwrap();

    let started = Instant::now();
    let graded = run(
        dir.path(),
        &[
            "grade",
            class.path().to_str().unwrap(),
            "01-never-exits",
            "--jobs",
            "2",
            "--timeout",
            "15",
            "--output",
            out.path().to_str().unwrap(),
        ],
    );
    let took = started.elapsed();
    assert!(graded.status.success(), "{}", text(&graded.stderr));
    let grades: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("grades.json")).unwrap()).unwrap();
    for grade in grades["grades"].as_array().unwrap() {
        assert_eq!(grade["status"], "timed-out", "{grade}");
        assert!(grade["seconds"].as_f64().unwrap() < 25.0, "{grade}");
    }
    assert!(
        took < Duration::from_secs(60),
        "grading took {took:?}: {}",
        text(&graded.stderr)
    );
    for learner in ["alice", "bob"] {
        assert_eq!(
            left_behind(&class.path().join(learner)),
            "",
            "{learner}'s timed-out check left something: {}",
            text(&graded.stderr)
        );
    }
}

fn junit_document(xml: &str) -> Vec<(String, Vec<(String, String)>)> {
    // Every element with its attributes; the reader refuses what is not well-formed.
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut elements = Vec::new();
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)) => {
                let attributes = e
                    .attributes()
                    .map(|a| {
                        let a = a.expect("well-formed attribute");
                        (
                            a.key.into_inner().to_string(),
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .expect("valid escapes")
                                .into_owned(),
                        )
                    })
                    .collect();
                elements.push((e.name().into_inner().to_string(), attributes));
            }
            Ok(quick_xml::events::Event::GeneralRef(r)) => {
                let name: &str = &r;
                assert!(
                    quick_xml::escape::resolve_predefined_entity(name).is_some(),
                    "&{name}; is no entity XML knows"
                );
            }
            Ok(_) => {}
            Err(e) => panic!("not XML ({e}):\n{xml}"),
        }
    }
    // XML 1.0's Char: no control characters but tab, line feed and carriage return.
    if let Some(c) = xml
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        panic!("{c:?} is not allowed in an XML document:\n{xml}");
    }
    elements
}

fn attribute<'a>(element: &'a (String, Vec<(String, String)>), name: &str) -> &'a str {
    &element
        .1
        .iter()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("no {name} in {element:?}"))
        .1
}

pub(crate) fn a_failing_build_is_a_junit_error_and_the_next_exercise_is_still_checked() {
    require_engine();
    let (dir, _) = workbook();
    let out = run(
        dir.path(),
        &["check", "04-broken-build", "03-quick", "--format", "junit"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let xml = text(&out.stdout);
    let elements = junit_document(&xml);
    let root = &elements[0];
    assert_eq!(root.0, "testsuites");
    assert_eq!(attribute(root, "errors"), "1", "{xml}");
    assert_eq!(attribute(root, "failures"), "0", "{xml}");
    let suites: Vec<_> = elements.iter().filter(|e| e.0 == "testsuite").collect();
    let names: Vec<&str> = suites.iter().map(|s| attribute(s, "name")).collect();
    assert_eq!(
        names,
        ["04-broken-build.learner", "03-quick.learner"],
        "{xml}"
    );
    assert_eq!(attribute(suites[0], "errors"), "1", "{xml}");
    assert_eq!(attribute(suites[1], "errors"), "0", "{xml}");
    assert!(
        elements.iter().any(|e| e.0 == "error"),
        "an error, not a failure: {xml}"
    );
    assert!(!elements.iter().any(|e| e.0 == "failure"), "{xml}");
    assert!(xml.contains("(line 2)"), "the error names the line: {xml}");
}

pub(crate) fn a_failing_build_is_a_json_error_and_the_next_exercise_is_still_checked() {
    require_engine();
    let (dir, _) = workbook();
    let out = run(
        dir.path(),
        &["check", "04-broken-build", "03-quick", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let report = json(&out);
    assert_eq!(report["all_met"], false);
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{report}");
    assert_eq!(results[0]["exercise"], "03-quick");
    assert_eq!(results[0]["verdicts"][0]["met"], true, "{report}");
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{report}");
    assert_eq!(errors[0]["exercise"], "04-broken-build");
    assert_eq!(errors[0]["variant"], "learner");
    let error = errors[0]["error"].as_str().unwrap();
    assert!(error.contains("Dockerfile: the build failed"), "{error}");
    assert!(error.contains("(line 2)"), "{error}");
}

/// The starter's build log holds a bell, an escape sequence and other control characters;
/// the JUnit report stays a document XML readers accept.
pub(crate) fn verify_junit_with_control_characters_in_the_build_log_is_valid_xml() {
    require_engine();
    let (dir, _) = workbook();
    let out = run(
        dir.path(),
        &["verify", "04-broken-build", "--format", "junit"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let xml = text(&out.stdout);
    let elements = junit_document(&xml);
    let suites: Vec<_> = elements.iter().filter(|e| e.0 == "testsuite").collect();
    assert_eq!(attribute(suites[0], "name"), "04-broken-build.starter");
    assert_eq!(attribute(suites[0], "errors"), "1", "{xml}");
    assert_eq!(attribute(suites[1], "name"), "04-broken-build.solution");
    assert_eq!(attribute(suites[1], "errors"), "0", "{xml}");
    assert!(xml.contains("bell \\u{7} escape \\u{1b}[31m"), "{xml}");
}

/// A checker killed outright (a closed terminal, SIGKILL) right after a verdict leaves the
/// removal of its app's container to the engine; a `clean` straight after finds it still
/// being removed. It waits for it, then removes the image: exit 0, no warning, nothing left.
/// Before, it warned of containers already gone or being removed, and one time in five it
/// failed on the image ("container … is using its referenced image") and left it.
pub(crate) fn clean_right_after_a_killed_watch_removes_everything_without_a_warning() {
    require_engine();
    for attempt in 1..=3 {
        let (dir, exercise) = workbook_with("01-static-binary");
        save_solution(&exercise);
        let mut watch = Watch::start(dir.path(), &["01"]);
        let verdicts = |output: &str| output.matches("goals met.").count();
        assert!(
            watch.wait_until(Duration::from_secs(180), POLL, |o| verdicts(o) >= 1),
            "no verdict: {}",
            watch.output()
        );
        // A new image (a LABEL): its verdict is followed by removals (the app's container,
        // the replaced image), and the kill lands in the middle of them.
        append_to_dockerfile(
            &exercise,
            &format!("\nLABEL org.workbook.test=\"attempt {attempt}\"\n"),
        );
        watch.wait_until(Duration::from_secs(180), Duration::from_millis(20), |o| {
            verdicts(o) >= 2
        });
        watch.kill();
        let cleaned = run(dir.path(), &["clean"]);
        let stderr = text(&cleaned.stderr);
        assert_eq!(
            cleaned.status.code(),
            Some(0),
            "attempt {attempt}: {stderr}"
        );
        assert!(!stderr.contains("warning"), "attempt {attempt}: {stderr}");
        assert_eq!(
            left_behind(&dir.path().join("exercises")),
            "",
            "attempt {attempt}: {}",
            text(&cleaned.stdout)
        );
    }
}
