//! The probing goals against Dockerfiles that game them, and one that is right but looks
//! different: each is written into a copy of the real exercise and checked on the engine.
//! A test stage that greps for the line a fault changes, a base image hard-coded beside an
//! ENV that names the other one, a secret in a stage without a name or in an ENV: each
//! misses its goal, and says why. The cache goals have a module of their own
//! (`cache_probes`).

use crate::common::*;

/// A workbook holding a copy of one real exercise, with `dockerfile` as the learner's.
struct Workbook {
    dir: TempWorkbook,
}

impl Workbook {
    fn with(exercise: &str, dockerfile: &str) -> Workbook {
        let (dir, ex) = workbook_with(exercise);
        std::fs::write(ex.join("Dockerfile"), dockerfile).unwrap();
        Workbook { dir }
    }

    /// `checker check <exercise> --format json`: the report, and the exit code.
    fn check(&self, exercise: &str) -> (serde_json::Value, Option<i32>) {
        let out = run(self.dir.path(), &["check", exercise, "--format", "json"]);
        (json(&out), out.status.code())
    }
}

fn measured(report: &serde_json::Value, id: &str) -> String {
    verdict(report, id)["measured"]
        .as_str()
        .unwrap()
        .to_string()
}

fn detail(report: &serde_json::Value, id: &str) -> String {
    verdict(report, id)["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn met(report: &serde_json::Value, id: &str) -> bool {
    verdict(report, id)["met"].as_bool().unwrap()
}

pub(crate) fn a_test_stage_that_greps_for_the_faulty_line_misses() {
    require_engine();
    // The one line faults/off-by-one.go changes: a grep for it fails that fault's build.
    let dockerfile = solution_with(
        "06-test-stage",
        "RUN go test -v ./...",
        "RUN grep -q 'for n >= num.value' roman.go",
    );
    let book = Workbook::with("06-test-stage", &dockerfile);
    let (report, code) = book.check("06");
    assert_eq!(code, Some(1), "{report}");
    assert!(!met(&report, "tests"), "{report}");
    assert_eq!(
        measured(&report, "tests"),
        "passes, and still passes with 2 of 3 faults, but fails on 1 of 1 correct rewrites"
    );
    let detail = detail(&report, "tests");
    assert!(
        detail.starts_with("still passes with faults/subtractive.go, faults/no-validation.go"),
        "{detail}"
    );
    assert!(
        detail.contains("fails with rewrites/roman.go ([test 2/2] RUN grep -q 'for n >= num.value' roman.go), which behaves exactly as the original"),
        "{detail}"
    );
}

pub(crate) fn a_hard_coded_base_misses_the_base_goal() {
    require_engine();
    // The app prints whatever BASE_IMAGE says; the image still runs on bookworm-slim.
    let dockerfile = solution_with(
        "11-build-args",
        "FROM debian:${DEBIAN_TAG}",
        "FROM debian:bookworm-slim",
    );
    let book = Workbook::with("11-build-args", &dockerfile);
    let (report, code) = book.check("11");
    assert_eq!(code, Some(1), "{report}");
    assert!(!met(&report, "base"), "{report}");
    assert_eq!(
        measured(&report, "base"),
        "default `bookworm-slim`; with DEBIAN_TAG=bookworm the image is still built on debian:bookworm-slim"
    );
    assert!(
        detail(&report, "base")
            .contains("Use the ARG in the final stage's FROM line (FROM …:${DEBIAN_TAG})"),
        "{report}"
    );
    assert!(met(&report, "version"), "{report}");
}

pub(crate) fn a_hard_coded_version_misses_the_version_goal() {
    require_engine();
    // ARG APP_VERSION is declared, but the gcc line never reads it.
    let dockerfile = solution_with(
        "11-build-args",
        r#"-DAPP_VERSION="\"$APP_VERSION\"""#,
        r#"-DAPP_VERSION='"1.4.2"'"#,
    );
    let book = Workbook::with("11-build-args", &dockerfile);
    let (report, _) = book.check("11");
    assert!(!met(&report, "version"), "{report}");
    assert_eq!(
        measured(&report, "version"),
        "default `1.4.2`; with APP_VERSION=2.0.0-rc1 the app never shows `2.0.0-rc1`"
    );
    assert!(met(&report, "base"), "{report}");
}

pub(crate) fn an_app_failure_names_the_arg_the_stage_never_declared() {
    require_engine();
    // The build stage uses $APP_VERSION without `ARG APP_VERSION`: it is empty there, and
    // every build's app fails, whichever argument the goal changes.
    let dockerfile = solution_with("11-build-args", "ARG APP_VERSION\nRUN gcc", "RUN gcc");
    let book = Workbook::with("11-build-args", &dockerfile);
    let (report, code) = book.check("11");
    assert_eq!(code, Some(1), "{report}");
    let detail = detail(&report, "base");
    assert!(
        detail.contains("stage `build` uses $APP_VERSION (line "),
        "{detail}"
    );
    assert!(
        detail.ends_with("without declaring ARG APP_VERSION: a global ARG is empty inside a stage until the stage declares it again"),
        "{detail}"
    );
}

/// The key exercise 15 decrypts its quotes with, as the secret goal looks for it.
fn key_of_15() -> String {
    std::fs::read_to_string(workbook_root().join("exercises/15-build-mounts/data.key"))
        .unwrap()
        .trim()
        .to_string()
}

pub(crate) fn a_secret_copied_into_a_stage_without_a_name_is_found_there() {
    require_engine();
    // The starter's mistake (copy the key in, remove it after) in a build stage that has no
    // name, which `--target` cannot build: the checker names it to look into its layers.
    let dockerfile = solution_with(
        "15-build-mounts",
        "FROM debian:bookworm AS build",
        "FROM debian:bookworm",
    )
    .replace("--from=build", "--from=0")
    .replacen(
        "RUN --mount=type=secret,id=data_key,required=true",
        "COPY data.key ./\nRUN",
        1,
    )
    .replacen("-key /run/secrets/data_key", "-key data.key", 1);
    assert!(dockerfile.contains("COPY data.key ./"), "{dockerfile}");
    let book = Workbook::with("15-build-mounts", &dockerfile);
    let (report, code) = book.check("15");
    assert_eq!(code, Some(1), "{report}");
    assert!(!met(&report, "secret"), "{report}");
    let detail = detail(&report, "secret");
    assert!(
        detail.contains("stage checker-stage-0: layer") && detail.contains("(COPY data.key ./)"),
        "{detail}"
    );
    // The final image is clean: only the stage's layer holds the key.
    assert!(!detail.contains("the image:"), "{detail}");
    assert!(met(&report, "quote"), "{report}");
}

pub(crate) fn a_secret_in_an_env_of_the_final_stage_is_found_in_config_and_history() {
    require_engine();
    let dockerfile = solution_with(
        "15-build-mounts",
        "USER 10001:10001",
        &format!("ENV DATA_KEY={}\nUSER 10001:10001", key_of_15()),
    );
    let book = Workbook::with("15-build-mounts", &dockerfile);
    let (report, code) = book.check("15");
    assert_eq!(code, Some(1), "{report}");
    assert!(!met(&report, "secret"), "{report}");
    let detail = detail(&report, "secret");
    assert!(
        detail.contains("the image: config: ENV DATA_KEY: raw"),
        "{detail}"
    );
    // The history entry is named by its instruction, the key in it left out.
    assert!(
        detail.contains("the image: history entry")
            && detail.contains("(ENV DATA_KEY=‹secret›): raw"),
        "{detail}"
    );
    assert!(!detail.contains(&key_of_15()), "{detail}");
}
