//! The cache goals (07's `cache-reuse`, 15's `cache-mount`) against the Dockerfiles that
//! fooled them while they read step names and logs, and the right answers they turned away.
//! Each is written into a copy of the real exercise and checked on the engine. Wrong: a
//! download hidden behind `|| true` with a silent `go build`, a download in another step
//! with `GOFLAGS=-mod=mod`, the module cache mounted on the download alone, `GOPROXY=off` on
//! a cache mount other builds filled, the proxy copied under another name, the proxy in an
//! archive. Right: exec form, Docker's Go guide (one `RUN` with a cache and a bind mount),
//! cache mounts on both steps, 15's solution. And a probe whose records another checkout's
//! `clean` takes away in the middle of it.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use crate::common::*;

/// A copy of a real exercise with `dockerfile` as the learner's.
fn exercise_with(exercise: &str, dockerfile: &str) -> (TempWorkbook, PathBuf) {
    let (dir, ex) = workbook_with(exercise);
    std::fs::write(ex.join("Dockerfile"), dockerfile).unwrap();
    (dir, ex)
}

/// `checker check <exercise> --format json`: the report, and the exit code.
fn check(workbook: &Path, exercise: &str) -> (serde_json::Value, Option<i32>) {
    let out = run(workbook, &["check", exercise, "--format", "json"]);
    (json(&out), out.status.code())
}

/// A goal's verdict: whether it was met, what was measured, and the detail.
fn judged(report: &serde_json::Value, id: &str) -> (bool, String, String) {
    let v = verdict(report, id);
    (
        v["met"].as_bool().unwrap(),
        v["measured"].as_str().unwrap().to_string(),
        v["detail"].as_str().unwrap_or_default().to_string(),
    )
}

/// The reference solution's Dockerfile of a real exercise, with each `(from, to)` replaced
/// once (each `from` must be there).
fn solution_with(exercise: &str, changes: &[(&str, &str)]) -> String {
    let path = workbook_root()
        .join("exercises")
        .join(exercise)
        .join("solution/Dockerfile");
    let mut dockerfile = std::fs::read_to_string(path).unwrap();
    for (from, to) in changes {
        assert!(
            dockerfile.contains(from),
            "{exercise}'s solution has no `{from}`"
        );
        dockerfile = dockerfile.replacen(from, to, 1);
    }
    dockerfile
}

/// The 1-based line of the first line of `dockerfile` that starts with `start`.
fn line_of(dockerfile: &str, start: &str) -> usize {
    1 + dockerfile
        .lines()
        .position(|l| l.starts_with(start))
        .unwrap()
}

/// The build cache records a probe of this workbook left behind, as `clean` lists them.
fn probe_caches_left(workbook: &Path) -> Vec<String> {
    let out = run(workbook, &["clean", "--dry-run"]);
    text(&out.stdout)
        .lines()
        .filter(|l| l.contains("build cache"))
        .map(str::to_string)
        .collect()
}

/// Exercise 07 as Docker's Go guide builds a Go program: no download step, the module
/// cache mounted on `go build`, the sources bound rather than copied.
const GUIDE_07: &str = r#"FROM debian:bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends golang-go && rm -rf /var/lib/apt/lists/*
ENV GOPROXY=file:///src/goproxy
WORKDIR /src
RUN --mount=type=cache,target=/root/go/pkg/mod \
    --mount=type=bind,target=/src \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /server ./src

FROM scratch
COPY --from=build /server /server
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["/server"]
"#;

pub(crate) fn a_download_behind_or_true_and_a_silent_build_miss_the_cache_goal() {
    require_engine();
    // Nothing to download before go.mod is there: the step fails, `|| true` hides it, and it
    // stays cached on every edit, while go build downloads the modules, silently.
    let dockerfile = solution_with(
        "07-cache-order",
        &[
            ("COPY go.mod go.sum ./\n", ""),
            ("RUN go mod download", "RUN go mod download || true"),
            ("COPY src/ src/", "COPY . ."),
            ("-o /server ./src", "-o /server ./src 2>/dev/null"),
        ],
    );
    let (dir, _) = exercise_with("07-cache-order", &dockerfile);
    let (report, code) = check(dir.path(), "07");
    assert_eq!(code, Some(1), "{report}");
    let (met, measured, detail) = judged(&report, "cache");
    assert!(!met, "{report}");
    assert!(measured.starts_with("fetched again: "), "{measured}");
    assert!(
        measured.ends_with(" of the dependencies' files, by 1 step"),
        "{measured}"
    );
    let build = line_of(&dockerfile, "RUN CGO_ENABLED=0 go build");
    assert!(
        detail.contains(&format!("(line {build}, stage build) ran again and wrote")),
        "the silent build step is named: {detail}"
    );
    assert!(detail.contains("/root/go/pkg/mod/"), "{detail}");
    // The app itself works: only the cache goal sees the cost.
    assert!(judged(&report, "slugs").0, "{report}");
}

pub(crate) fn a_download_in_another_step_with_goflags_misses_the_cache_goal() {
    require_engine();
    // The cached download does nothing; `go list` downloads instead, on every edit.
    let dockerfile = solution_with(
        "07-cache-order",
        &[
            ("COPY go.mod go.sum ./\n", ""),
            (
                "RUN go mod download",
                "ENV GOFLAGS=-mod=mod\nRUN go mod download || true",
            ),
            (
                "COPY src/ src/",
                "COPY . .\nRUN go list -deps ./src > /dev/null 2>&1",
            ),
        ],
    );
    let (dir, _) = exercise_with("07-cache-order", &dockerfile);
    let (report, _) = check(dir.path(), "07");
    let (met, _, detail) = judged(&report, "cache");
    assert!(!met, "{report}");
    let list = line_of(&dockerfile, "RUN go list");
    assert!(
        detail.contains(&format!(
            "`RUN go list -deps ./src > /dev/null 2>&1` (line {list}, stage build) ran again"
        )),
        "{detail}"
    );
}

pub(crate) fn the_module_cache_on_the_download_alone_names_the_step_that_lacks_it() {
    require_engine();
    // The README's next step, half done: go build does not see the modules the download put
    // in the cache mount, and downloads them into its own layer on every edit.
    let dockerfile = solution_with(
        "07-cache-order",
        &[(
            "RUN go mod download",
            "RUN --mount=type=cache,target=/root/go/pkg/mod go mod download",
        )],
    );
    let (dir, _) = exercise_with("07-cache-order", &dockerfile);
    let (report, _) = check(dir.path(), "07");
    let (met, _, detail) = judged(&report, "cache");
    assert!(!met, "{report}");
    let (download, build) = (
        line_of(&dockerfile, "RUN --mount=type=cache"),
        line_of(&dockerfile, "RUN CGO_ENABLED=0 go build"),
    );
    assert!(
        detail.contains(&format!("(line {build}, stage build) ran again")),
        "{detail}"
    );
    assert!(
        detail.ends_with(&format!("they belong in /root/go/pkg/mod, the cache mount of line {download}'s step, which this step does not mount, so it fetched them again. Mount the same cache on every step that reads them")),
        "{detail}"
    );
    assert!(
        !detail.contains("|| true") && !detail.contains("copy only"),
        "not blamed on the order, which is right: {detail}"
    );
}

pub(crate) fn a_download_in_exec_form_meets_the_cache_goal() {
    require_engine();
    let dockerfile = solution_with(
        "07-cache-order",
        &[("RUN go mod download", r#"RUN ["go", "mod", "download"]"#)],
    );
    let (dir, _) = exercise_with("07-cache-order", &dockerfile);
    let (report, code) = check(dir.path(), "07");
    let (met, measured, _) = judged(&report, "cache");
    assert!(met, "{report}");
    assert!(
        measured.starts_with("nothing fetched again: "),
        "{measured}"
    );
    assert_eq!(code, Some(0), "{report}");
}

pub(crate) fn dockers_go_guide_meets_the_cache_goal_and_leaves_no_cache_behind() {
    require_engine();
    let (dir, _) = exercise_with("07-cache-order", GUIDE_07);
    let (report, code) = check(dir.path(), "07");
    let (met, measured, _) = judged(&report, "cache");
    assert!(met, "{report}");
    assert!(
        measured.starts_with("nothing fetched again: "),
        "{measured}"
    );
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(
        report["results"][0]["measurements"]["probes"]["cache"]["own_cache_mounts"], 1,
        "{report}"
    );
    assert_eq!(probe_caches_left(dir.path()), Vec::<String>::new());
}

pub(crate) fn cache_mounts_on_both_steps_meet_the_cache_goal() {
    require_engine();
    // The README's next step: the module cache on the download, and it plus the build cache
    // on go build.
    let modules = "--mount=type=cache,target=/root/go/pkg/mod";
    let dockerfile = solution_with(
        "07-cache-order",
        &[
            ("RUN go mod download", &format!("RUN {modules} go mod download")),
            (
                "RUN CGO_ENABLED=0 go build",
                &format!("RUN {modules} --mount=type=cache,target=/root/.cache/go-build CGO_ENABLED=0 go build"),
            ),
        ],
    );
    let (dir, _) = exercise_with("07-cache-order", &dockerfile);
    let (report, code) = check(dir.path(), "07");
    assert!(judged(&report, "cache").0, "{report}");
    assert_eq!(code, Some(0), "{report}");
}

pub(crate) fn a_cache_other_builds_filled_does_not_pass_a_build_that_cannot_fetch() {
    require_engine();
    // The guide's build fills the shared module cache (default id: its target)...
    let (dir, ex) = exercise_with("07-cache-order", GUIDE_07);
    let (report, _) = check(dir.path(), "07");
    assert!(judged(&report, "cache").0, "{report}");
    // ...on which a build that cannot fetch at all still builds.
    let offline = GUIDE_07.replace("GOPROXY=file:///src/goproxy", "GOPROXY=off");
    std::fs::write(ex.join("Dockerfile"), &offline).unwrap();
    let (report, code) = check(dir.path(), "07");
    assert_eq!(code, Some(1), "the image builds and is judged: {report}");
    assert!(judged(&report, "slugs").0, "{report}");
    let (met, measured, detail) = judged(&report, "cache");
    assert!(!met, "{report}");
    assert_eq!(measured, "the build failed with empty cache mounts");
    assert!(
        detail.contains(&format!(
            "(line {}): src/main.go:",
            line_of(&offline, "RUN --mount")
        )) && detail.contains("module lookup disabled by GOPROXY=off"),
        "{detail}"
    );
    assert!(
        detail.contains("RUN --mount=type=cache,target=/root/go/pkg/mod --mount=type=bind"),
        "the step as written, not with the probe's cache ids: {detail}"
    );
    assert_eq!(probe_caches_left(dir.path()), Vec::<String>::new());
}

pub(crate) fn the_solution_meets_the_cache_mount_goal_and_go_proxy_off_misses_it() {
    require_engine();
    let (dir, ex) = exercise_with("15-build-mounts", &solution_with("15-build-mounts", &[]));
    let (report, code) = check(dir.path(), "15");
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(
        judged(&report, "module-cache").1,
        "built with 4 of the dependencies' files emptied; nothing fetched again"
    );
    // Its builds filled the shared caches, on which a build without the proxy still builds.
    let offline = solution_with(
        "15-build-mounts",
        &[
            ("ENV GOPROXY=file:///goproxy", "ENV GOPROXY=off"),
            (
                "RUN --mount=type=bind,source=goproxy,target=/goproxy \\\n    --mount",
                "RUN --mount",
            ),
        ],
    );
    std::fs::write(ex.join("Dockerfile"), &offline).unwrap();
    let (report, code) = check(dir.path(), "15");
    assert_eq!(code, Some(1), "{report}");
    assert!(judged(&report, "slugs").0, "{report}");
    let (met, measured, detail) = judged(&report, "module-cache");
    assert!(!met, "{report}");
    assert_eq!(measured, "the build failed with empty cache mounts");
    assert!(
        detail.starts_with("with its 3 cache mounts empty"),
        "{detail}"
    );
    assert!(
        detail.contains("module lookup disabled by GOPROXY=off"),
        "{detail}"
    );
    assert_eq!(probe_caches_left(dir.path()), Vec::<String>::new());
}

pub(crate) fn a_proxy_copied_under_another_name_misses_the_cache_mount_goal() {
    require_engine();
    // The starter with goproxy/ copied to deps/: emptying goproxy/ alone left deps/ to fetch
    // from.
    let (dir, ex) = workbook_with("15-build-mounts");
    copy_tree(&ex.join("goproxy"), &ex.join("deps"));
    let starter = std::fs::read_to_string(ex.join("starter/Dockerfile")).unwrap();
    let dockerfile = starter.replacen(
        "COPY goproxy/ /goproxy/\nENV GOPROXY=file:///goproxy",
        "COPY deps/ /deps/\nENV GOPROXY=file:///deps",
        1,
    );
    assert_ne!(dockerfile, starter);
    std::fs::write(ex.join("Dockerfile"), &dockerfile).unwrap();
    let (report, code) = check(dir.path(), "15");
    assert_eq!(code, Some(1), "{report}");
    let (met, measured, detail) = judged(&report, "module-cache");
    assert!(!met, "{report}");
    // `list` (7 bytes) is too short to be told by content: deps/ has 3 of its 4 files emptied.
    assert_eq!(measured, "failed with 7 of the dependencies' files emptied");
    let build = line_of(&dockerfile, "RUN CGO_ENABLED=0 go build");
    assert!(
        detail.contains("(3 in deps/, 4 in goproxy/), the build failed at [build")
            && detail.contains(&format!(
                "RUN CGO_ENABLED=0 go build -trimpath -ldflags=\"-s -w\" -o /server ./src (line {build}): verifying example.com/slugify@v1.3.0"
            ))
            && detail.contains("checksum mismatch. The dependencies were fetched again"),
        "Go's own diagnosis, not its closing words: {detail}"
    );
}

pub(crate) fn a_proxy_in_an_archive_the_checker_cannot_empty_still_misses() {
    require_engine();
    // The proxy packed in a gzip archive that ADD unpacks: no file of the context has a
    // module's content, so nothing is emptied, and the build succeeds. But go build ran
    // again after the edit and wrote the module into its layer: it fetched it again.
    let (dir, ex) = workbook_with("15-build-mounts");
    let packed = std::process::Command::new("tar")
        .args(["czf", "deps.tar.gz", "-C", "goproxy", "."])
        .current_dir(&ex)
        .status()
        .unwrap();
    assert!(packed.success());
    let starter = std::fs::read_to_string(ex.join("starter/Dockerfile")).unwrap();
    let dockerfile = starter.replacen(
        "COPY goproxy/ /goproxy/\nENV GOPROXY=file:///goproxy",
        "ADD deps.tar.gz /deps/\nENV GOPROXY=file:///deps",
        1,
    );
    std::fs::write(ex.join("Dockerfile"), &dockerfile).unwrap();
    let (report, _) = check(dir.path(), "15");
    let (met, measured, detail) = judged(&report, "module-cache");
    assert!(!met, "{report}");
    assert!(measured.starts_with("fetched again: "), "{measured}");
    let build = line_of(&dockerfile, "RUN CGO_ENABLED=0 go build");
    assert!(
        detail.contains(&format!("(line {build}, stage build) ran again and wrote")),
        "{detail}"
    );
}

pub(crate) fn a_proxy_mounted_without_a_module_cache_misses_the_cache_mount_goal() {
    require_engine();
    // The proxy out of every layer, but the modules kept nowhere between builds: every
    // edit downloads them again, and with the proxy gone the build fails.
    let dockerfile = solution_with(
        "15-build-mounts",
        &[("    --mount=type=cache,target=/root/go/pkg/mod \\\n", "")],
    );
    let (dir, _) = exercise_with("15-build-mounts", &dockerfile);
    let (report, code) = check(dir.path(), "15");
    assert_eq!(code, Some(1), "{report}");
    let (met, measured, detail) = judged(&report, "module-cache");
    assert!(!met, "{report}");
    assert_eq!(measured, "failed with 4 of the dependencies' files emptied");
    assert!(
        detail.contains("RUN --mount=type=cache,target="),
        "{detail}"
    );
    assert!(judged(&report, "secret").0, "{report}");
}

pub(crate) fn another_checkouts_clean_during_a_probe_changes_no_verdict() {
    require_engine();
    // Another checkout holds an image of 07's build stage: the same layers as this
    // checkout's, which on the containerd store share their content with the build cache.
    let (other, other_ex) = workbook_with("07-cache-order");
    let solution = std::fs::read_to_string(other_ex.join("solution/Dockerfile")).unwrap();
    let build_stage = &solution[..solution.find("FROM scratch").unwrap()];
    std::fs::write(
        other_ex.join("Dockerfile"),
        format!("{build_stage}ENTRYPOINT [\"/server\"]\n"),
    )
    .unwrap();
    let _ = run(other.path(), &["check", "07"]);
    let (dir, ex) = workbook_with("07-cache-order");
    save_solution(&ex);
    let mut checking = checker()
        .arg("--root")
        .arg(dir.path())
        .args(["check", "07", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // When the probe starts the build after the edit, which reuses what the build before it
    // made, the other checkout removes its images.
    let mut cleaned = false;
    let stderr = std::io::BufReader::new(checking.stderr.take().unwrap());
    for line in stderr.lines() {
        if !cleaned
            && line
                .unwrap()
                .contains("rebuilding with src/main.go changed")
        {
            let out = run(other.path(), &["clean"]);
            assert!(out.status.success(), "{}", text(&out.stderr));
            cleaned = true;
        }
    }
    let out = checking.wait_with_output().unwrap();
    assert!(cleaned, "the probe said when it rebuilt");
    let report = json(&out);
    let (met, measured, _) = judged(&report, "cache");
    assert!(met, "{report}");
    assert!(
        measured.starts_with("nothing fetched again: "),
        "{measured}"
    );
}
