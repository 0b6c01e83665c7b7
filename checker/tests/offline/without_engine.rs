//! Commands and refusals that need no engine: they must work (or fail clearly) anywhere.

use crate::common::*;

#[test]
fn unknown_exercise_lists_the_names() {
    let out = run(&fixture("users"), &["hint", "99-nope"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("no exercise named `99-nope`"), "{err}");
    assert!(
        err.contains("01-no-user") && err.contains("09-inherited"),
        "{err}"
    );
}

#[test]
fn an_invalid_exercise_toml_names_file_line_and_key() {
    let out = run(&fixture("bad-toml"), &["check", "01-typo"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("01-typo/exercise.toml"), "{err}");
    assert!(err.contains("max_mbb"), "{err}");
    assert!(
        err.contains("line 5"),
        "the line of the [[goals]] table: {err}"
    );
}

#[test]
fn an_unreachable_engine_says_how_to_start_one() {
    let out = checker()
        .arg("--root")
        .arg(workbook_root())
        .args(["check", "01-static-binary"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("no Docker engine answers at unix:///nonexistent/docker.sock"),
        "{err}"
    );
    assert!(err.contains("Start one"), "{err}");
}

#[test]
fn a_dockerfile_that_does_not_parse_is_refused_before_any_build() {
    // The engine is not needed: parsing comes first, even when DOCKER_HOST is wrong.
    let out = checker()
        .arg("--root")
        .arg(fixture("broken"))
        .args(["graph", "exercises/01-parse-error/Dockerfile"])
        .current_dir(fixture("broken"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("01-parse-error/Dockerfile:3:"), "{err}");
}

#[test]
fn graph_prints_text_mermaid_and_json() {
    let file = workbook_root().join("exercises/01-static-binary/solution/Dockerfile");
    let out = checker().arg("graph").arg(&file).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = text(&out.stdout);
    assert!(
        lines.contains("│ ┃ FROM scratch         line 17 ┃\n└─▶ COPY --from build    line 19 ┃"),
        "{lines}"
    );
    let out = checker()
        .arg("graph")
        .arg(&file)
        .args(["--format", "mermaid"])
        .output()
        .unwrap();
    let mermaid = text(&out.stdout);
    assert!(mermaid.contains("s0 -->|COPY --from| s1"), "{mermaid}");
    let out = checker()
        .arg("graph")
        .arg(&file)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let graph: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(graph["stages"].as_array().unwrap().len(), 2);
    assert_eq!(graph["target"], 1);
}

#[test]
fn hints_come_one_at_a_time_then_all() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(
        &workbook_root().join("exercises/01-static-binary"),
        &dir.path().join("exercises/01-static-binary"),
    );
    let first = text(&run(dir.path(), &["hint", "01"]).stdout);
    assert!(first.starts_with("Hint 1 of 3:"), "{first}");
    assert!(!first.contains("Hint 2"), "{first}");
    let second = text(&run(dir.path(), &["hint", "01"]).stdout);
    assert!(second.starts_with("Hint 2 of 3:"), "{second}");
    let all = text(&run(dir.path(), &["hint", "01", "--all"]).stdout);
    assert!(
        all.contains("Hint 1 of 3") && all.contains("Hint 3 of 3"),
        "{all}"
    );
}

#[test]
fn reset_restores_the_starter_and_keeps_the_learners_file() {
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("exercises/01-static-binary");
    copy_tree(&workbook_root().join("exercises/01-static-binary"), &ex);
    let mine = "FROM scratch\n# my attempt\n";
    std::fs::write(ex.join("Dockerfile"), mine).unwrap();
    let out = run(dir.path(), &["reset", "01-static-binary"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read(ex.join("Dockerfile")).unwrap(),
        std::fs::read(ex.join("starter/Dockerfile")).unwrap()
    );
    let backups: Vec<_> = std::fs::read_dir(&ex)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("Dockerfile.backup-")
        })
        .collect();
    assert_eq!(backups.len(), 1);
    assert_eq!(std::fs::read_to_string(&backups[0]).unwrap(), mine);
    // A second reset has nothing to keep and overwrites no backup.
    let again = run(dir.path(), &["reset", "01-static-binary"]);
    assert!(text(&again.stdout).contains("already the starter"));
}

#[test]
fn list_shows_order_and_the_next_exercise() {
    let out = run(&workbook_root(), &["list"]);
    assert!(out.status.success());
    let listing = text(&out.stdout);
    let first = listing.find("01-static-binary").expect("01 listed");
    let second = listing.find("02-go-api").expect("02 listed");
    assert!(first < second, "{listing}");
}

/// `list` shows the latest result: an exercise done once but missing goals now, or reset to
/// its starter since, is not "done" (and is the next one), and the listing says when it was.
#[test]
fn list_shows_the_latest_result_after_a_regression_and_a_reset() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["01-static-binary", "02-go-api", "03-jdk-to-jre"] {
        copy_tree(
            &workbook_root().join("exercises").join(name),
            &dir.path().join("exercises").join(name),
        );
    }
    let entry = |met: usize, checked: &str| {
        serde_json::json!({
            "done": true,
            "met_at": "2025-11-29T14:00:00Z",
            "last_checked": checked,
            "goals_met": met,
            "goals_total": 6,
        })
    };
    let progress = serde_json::json!({
        "schema": "workbook-progress/v1",
        "exercises": {
            "01-static-binary": entry(6, "2025-11-29T14:05:00Z"),
            "02-go-api": entry(4, "2025-11-29T14:10:00Z"),
            "03-jdk-to-jre": entry(6, "2025-11-29T14:20:00Z"),
        }
    });
    std::fs::write(
        dir.path().join(".workbook-progress.json"),
        progress.to_string(),
    )
    .unwrap();
    let ex03 = dir.path().join("exercises/03-jdk-to-jre");
    save_solution(&ex03);
    let reset = run(dir.path(), &["reset", "03"]);
    assert!(reset.status.success(), "{}", text(&reset.stderr));
    let out = run(dir.path(), &["list"]);
    let listing = text(&out.stdout);
    let line = |name: &str| {
        listing
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} in {listing}"))
            .to_string()
    };
    assert!(line("01-static-binary").starts_with("done"), "{listing}");
    assert!(
        line("01-static-binary").contains("6/6 goals; first done"),
        "{listing}"
    );
    assert!(
        line("02-go-api").starts_with("next →"),
        "a regression is not done: {listing}"
    );
    assert!(
        line("02-go-api").contains("4/6 goals now; done on"),
        "{listing}"
    );
    assert!(line("03-jdk-to-jre").starts_with("pending"), "{listing}");
    assert!(
        line("03-jdk-to-jre").contains("reset to the starter; done on"),
        "{listing}"
    );
}

#[test]
fn readme_starts_with_the_two_commands_ci_runs() {
    let readme = std::fs::read_to_string(workbook_root().join("README.md")).unwrap();
    let head: String = readme.lines().take(30).collect::<Vec<_>>().join("\n");
    assert!(head.contains("cargo run -p checker -- check"), "{head}");
    assert!(head.contains("cargo test --workspace"), "{head}");
    let ci = std::fs::read_to_string(workbook_root().join(".ci/run")).unwrap();
    assert!(
        ci.contains("cargo test --workspace"),
        "CI must run the README's test command"
    );
}

/// Issue 21: a remote endpoint that refuses says so (the system's "Connection refused", not
/// only "client error (Connect)") and is not answered with advice to start a local dockerd.
#[test]
fn a_remote_endpoint_that_refuses_is_named_with_its_cause() {
    let out = checker()
        .arg("--root")
        .arg(workbook_root())
        .args(["check", "01-static-binary"])
        .env("DOCKER_HOST", "tcp://127.0.0.1:1")
        .env_remove("DOCKER_TLS_VERIFY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("tcp://127.0.0.1:1 (from DOCKER_HOST)"),
        "{err}"
    );
    assert!(err.to_lowercase().contains("connection refused"), "{err}");
    assert!(err.contains("listens at tcp://127.0.0.1:1"), "{err}");
    assert!(!err.contains("systemctl"), "{err}");
}

/// Issue 21: a TLS endpoint whose key file is not a key names that file, before connecting.
#[test]
fn a_bad_tls_file_is_named() {
    let certs = tempfile::tempdir().unwrap();
    let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    std::fs::write(certs.path().join("ca.pem"), pem).unwrap();
    std::fs::write(certs.path().join("cert.pem"), pem).unwrap();
    std::fs::write(certs.path().join("key.pem"), "not a key\n").unwrap();
    let out = checker()
        .arg("--root")
        .arg(workbook_root())
        .args(["check", "01-static-binary"])
        .env("DOCKER_HOST", "tcp://127.0.0.1:1")
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", certs.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    let key = certs.path().join("key.pem");
    assert!(
        err.contains(&format!("the client key {} is not PEM", key.display())),
        "{err}"
    );
    assert!(!err.contains("systemctl"), "{err}");
}

/// Issue 21: a FIFO Dockerfile used to hang `check` and `graph` inside `open()`, with Ctrl-C
/// ignored; a Dockerfile linked out of the exercise folder was read and quoted. Both are
/// refused at once, naming the file, before any engine is asked.
#[cfg(unix)]
#[test]
fn a_fifo_or_a_link_out_as_the_dockerfile_is_refused_at_once() {
    let workbook = tempfile::tempdir().unwrap();
    let exercise = workbook.path().join("exercises/01-hostile");
    std::fs::create_dir_all(&exercise).unwrap();
    std::fs::write(
        exercise.join("exercise.toml"),
        "[exercise]\ntitle = \"hostile\"\nlesson = []\n\n[[goals]]\nid = \"non-root\"\nkind = \"non-root\"\n",
    )
    .unwrap();
    let dockerfile = exercise.join("Dockerfile");
    let status = std::process::Command::new("mkfifo")
        .arg(&dockerfile)
        .status()
        .unwrap();
    assert!(status.success());
    let path = dockerfile.to_str().unwrap();
    for args in [vec!["check", "01-hostile"], vec!["graph", path]] {
        let started = std::time::Instant::now();
        let out = run(workbook.path(), &args);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{args:?} hung"
        );
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains("Dockerfile: is a FIFO (named pipe), not a regular file"),
            "{err}"
        );
    }
    std::fs::remove_file(&dockerfile).unwrap();
    std::os::unix::fs::symlink("/proc/self/environ", &dockerfile).unwrap();
    let out = run(workbook.path(), &["check", "01-hostile"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("leads to /proc/"), "{err}");
    assert!(err.contains("outside") && !err.contains("PATH="), "{err}");
}

/// Issue 21: a FIFO progress file hung `list` and `report` (and froze `serve`); a FIFO
/// `config.json` hung every command that looks for the engine. Each is refused at once,
/// naming the file; a report says it is self-reported.
#[cfg(unix)]
#[test]
fn fifo_state_files_are_refused_at_once_and_a_report_says_it_is_self_reported() {
    let workbook = tempfile::tempdir().unwrap();
    copy_tree(
        &workbook_root().join("exercises/01-static-binary"),
        &workbook.path().join("exercises/01-static-binary"),
    );
    let out = run(workbook.path(), &["report"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report["self_reported"]
            .as_str()
            .unwrap()
            .contains("checker grade"),
        "{report}"
    );
    let mkfifo = |path: &std::path::Path| {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success());
    };
    mkfifo(&workbook.path().join(".workbook-progress.json"));
    for command in ["list", "report"] {
        let started = std::time::Instant::now();
        let out = run(workbook.path(), &[command]);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{command} hung"
        );
        assert_eq!(out.status.code(), Some(2), "{command}");
        let err = text(&out.stderr);
        assert!(
            err.contains(".workbook-progress.json") && err.contains("FIFO"),
            "{err}"
        );
    }
    std::fs::remove_file(workbook.path().join(".workbook-progress.json")).unwrap();
    let config = tempfile::tempdir().unwrap();
    mkfifo(&config.path().join("config.json"));
    let started = std::time::Instant::now();
    let out = checker()
        .arg("--root")
        .arg(workbook.path())
        .args(["check", "01-static-binary"])
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .env("DOCKER_CONFIG", config.path())
        .output()
        .unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "check hung"
    );
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("config.json") && err.contains("FIFO"), "{err}");
}
