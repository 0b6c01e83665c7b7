//! The habits learners bring from rustlings, cargo and docker (issue 23): `checker` alone
//! watches, `hint` needs no name, a mistyped name gets a "did you mean", completions and a
//! man page, one spelling of the output flag, `list --format json`, `-q` and `-v`.

use std::time::Duration;

use crate::common::*;

/// A workbook of the repository's first two exercises, in a temporary folder.
fn two_exercises() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in ["01-static-binary", "02-go-api"] {
        copy_tree(
            &workbook_root().join("exercises").join(name),
            &dir.path().join("exercises").join(name),
        );
    }
    dir
}

/// No engine answers here: whatever a command would ask of one fails at once.
const NO_ENGINE: &str = "unix:///nonexistent/docker.sock";

#[test]
fn hint_without_a_name_is_the_exercise_you_are_on() {
    let dir = two_exercises();
    let out = run(dir.path(), &["hint"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let first = text(&out.stdout);
    assert!(first.starts_with("Hint 1 of 3:"), "{first}");
    // The same exercise's hints go on, named or not.
    let second = text(&run(dir.path(), &["hint", "01"]).stdout);
    assert!(second.starts_with("Hint 2 of 3:"), "{second}");
    let progress = std::fs::read_to_string(dir.path().join(".workbook-progress.json")).unwrap();
    assert!(progress.contains("01-static-binary") && !progress.contains("02-go-api"));
}

#[test]
fn a_mistyped_name_gets_a_suggestion_wherever_a_name_is_taken() {
    let dir = two_exercises();
    for args in [
        &["hint", "01-static-binray"][..],
        &["reset", "static-binary"],
        &["check", "01-statc-binary"],
        &["watch", "01-static-bnary"],
    ] {
        let out = checker()
            .arg("--root")
            .arg(dir.path())
            .args(args)
            .env("DOCKER_HOST", NO_ENGINE)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains(&format!(
                "no exercise named `{}`; did you mean `01-static-binary`? The exercises are: 01-static-binary, 02-go-api",
                args[1]
            )),
            "{args:?}: {err}"
        );
        assert!(
            !err.contains("no Docker engine"),
            "said before any engine: {err}"
        );
    }
    let err = text(&run(dir.path(), &["hint", "kubernetes"]).stderr);
    assert!(
        err.contains("no exercise named `kubernetes`; the exercises are:"),
        "nothing close, nothing suggested: {err}"
    );
}

#[test]
fn checker_alone_watches_the_next_exercise() {
    let dir = two_exercises();
    let log = dir.path().join("stderr.log");
    let mut child = checker()
        .arg("--root")
        .arg(dir.path())
        .env("DOCKER_HOST", NO_ENGINE)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let said = || std::fs::read_to_string(&log).unwrap_or_default();
    let watching = wait_for(Duration::from_secs(20), Duration::from_millis(50), || {
        said().contains("checking 01-static-binary")
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(watching, "{}", said());
    assert!(said().contains("(Ctrl-C to stop)"), "{}", said());
}

#[test]
fn list_prints_json_in_its_schema() {
    let dir = two_exercises();
    run(dir.path(), &["hint", "02"]);
    let out = run(dir.path(), &["list", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let document = json(&out);
    assert_eq!(document["schema"], "workbook-checker/list/v1");
    assert_eq!(document["next"], "01-static-binary");
    let entries = document["exercises"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["exercise"], "01-static-binary");
    assert_eq!(entries[0]["state"], "unchecked");
    assert_eq!(entries[0]["next"], true);
    assert_eq!(entries[1]["exercise"], "02-go-api");
    assert_eq!(entries[1]["hints_shown"], 1);
    assert_eq!(entries[1]["next"], false);
}

#[test]
fn completions_and_the_man_page_need_no_workbook() {
    let nowhere = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = checker()
            .args(["completions", shell])
            .current_dir(nowhere.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("checker"), "{shell}");
    }
    let out = checker()
        .arg("man")
        .current_dir(nowhere.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(".TH checker 1"));
    let pages = nowhere.path().join("man");
    let out = checker()
        .args(["man", "-o"])
        .arg(&pages)
        .current_dir(nowhere.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    for page in [
        "checker.1",
        "checker-check.1",
        "checker-list.1",
        "checker-grade.1",
    ] {
        assert!(pages.join(page).is_file(), "{page}");
    }
    assert!(!pages.join("checker-mdbook.1").exists(), "hidden: no page");
}

#[test]
fn the_help_shows_the_global_flags_and_one_output_flag() {
    let help = text(&checker().arg("--help").output().unwrap().stdout);
    for flag in [
        "-q, --quiet",
        "-v, --verbose",
        "--root <DIR>",
        "completions",
        "man",
    ] {
        assert!(help.contains(flag), "{flag}: {help}");
    }
    for sub in ["grade", "measure", "pulls", "report"] {
        let help = text(&checker().args([sub, "--help"]).output().unwrap().stdout);
        assert!(help.contains("-o, --output <"), "{sub}: {help}");
    }
}

#[test]
fn quiet_and_verbose_cannot_go_together() {
    let out = checker().args(["-q", "-v", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot be used with"),
        "{}",
        text(&out.stderr)
    );
}
