//! Hostile and broken input, as issue 11 found it: a reset that must not write through a
//! symlink, a server that must not leave the book or freeze, a Dockerfile reader with a size
//! bound, a broken exercise.toml that spoils only itself, and a damaged progress file that
//! costs no result.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Waits for `child` at most `limit`; kills it (by its own handle) when it takes longer.
fn wait_at_most(mut child: Child, limit: Duration) -> (Option<i32>, String, Duration) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return (status.code(), err, started.elapsed());
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {limit:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn one_exercise_workbook() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("exercises/01-static-binary");
    copy_tree(&workbook_root().join("exercises/01-static-binary"), &ex);
    (dir, ex)
}

// ── #4 reset ─────────────────────────────────────────────────────────────────────────────

#[test]
fn reset_replaces_a_symlinked_dockerfile_and_never_writes_through_it() {
    let (dir, ex) = one_exercise_workbook();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("precious");
    std::fs::write(&victim, "not yours to overwrite\n").unwrap();
    std::fs::remove_file(ex.join("Dockerfile")).ok();
    std::os::unix::fs::symlink(&victim, ex.join("Dockerfile")).unwrap();

    let out = run(dir.path(), &["reset", "01-static-binary"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "not yours to overwrite\n",
        "the link's target outside the exercise folder was written"
    );
    let learner = ex.join("Dockerfile");
    assert!(
        std::fs::symlink_metadata(&learner).unwrap().is_file(),
        "the link itself is replaced by a regular file"
    );
    assert_eq!(
        std::fs::read(&learner).unwrap(),
        std::fs::read(ex.join("starter/Dockerfile")).unwrap()
    );
    // What the learner had (the link) is kept as the backup, as a link: nothing outside
    // the folder is read or copied into it.
    let backups = backups_in(&ex);
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert_eq!(std::fs::read_link(&backups[0]).unwrap(), victim);
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(&ex)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .all(|n| !n.starts_with(".tmp") && !n.contains(".reset-")),
        "{names:?}"
    );
}

fn backups_in(dir: &Path) -> Vec<PathBuf> {
    let mut b: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("Dockerfile.backup-")
        })
        .collect();
    b.sort();
    b
}

// ── #6 size bound ────────────────────────────────────────────────────────────────────────

#[test]
fn graph_of_dev_zero_fails_fast_naming_the_file_and_the_bound() {
    let child = checker()
        .args(["graph", "/dev/zero"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (code, err, took) = wait_at_most(child, Duration::from_secs(10));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("/dev/zero"), "{err}");
    assert!(err.contains("MiB"), "the bound is named: {err}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn an_oversized_dockerfile_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("Dockerfile");
    let line = "RUN echo padding padding padding padding padding padding padding\n";
    let text = format!(
        "FROM scratch\n{}",
        line.repeat(8 * 1024 * 1024 / line.len())
    );
    std::fs::write(&file, text).unwrap();
    let child = checker()
        .arg("graph")
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (code, err, _) = wait_at_most(child, Duration::from_secs(60));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert!(err.contains("MiB"), "{err}");
}

