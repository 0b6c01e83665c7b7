//! Hostile and broken input, as issue 11 found it: a reset that must not write through a
//! symlink, a server that must not leave the book or freeze, a Dockerfile reader with a size
//! bound, a broken exercise.toml that spoils only itself, and a damaged progress file that
//! costs no result.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use checker::workbook::progress::FILE_NAME as PROGRESS_FILE;

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

// ── #4 reset ─────────────────────────────────────────────────────────────────────────────

pub(crate) fn reset_replaces_a_symlinked_dockerfile_and_never_writes_through_it() {
    let (dir, ex) = workbook_with("01-static-binary");
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

// ── #5 serve ─────────────────────────────────────────────────────────────────────────────

/// A running `checker serve --no-watch`, killed (by its id) when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(root: &Path, book: &Path) -> Server {
    let mut child = checker()
        .arg("--root")
        .arg(root)
        .args(["serve", "--no-watch", "--listen", "127.0.0.1:0", "--book"])
        .arg(book)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Server { child, addr }
}

/// GET `path`: the status code, or None when no answer came within `limit`.
fn get(server: &Server, path: &str, limit: Duration) -> Option<(u16, Vec<u8>)> {
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    stream.set_read_timeout(Some(limit)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    if stream.read_to_end(&mut raw).is_err() || raw.is_empty() {
        return None;
    }
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let code = head.split_whitespace().nth(1)?.parse().ok()?;
    Some((code, raw[head_end + 4..].to_vec()))
}

fn book_workbook() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("exercises")).unwrap();
    let book = dir.path().join("book");
    std::fs::create_dir_all(book.join("sub")).unwrap();
    std::fs::write(
        book.join("index.html"),
        "<html><head></head><body>home</body></html>",
    )
    .unwrap();
    (dir, book)
}

pub(crate) fn serve_refuses_symlinks_out_of_the_book() {
    let (dir, book) = book_workbook();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("shadow"), "secret").unwrap();
    std::os::unix::fs::symlink(outside.path(), book.join("sub/etcdir")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("shadow"), book.join("leak.txt")).unwrap();
    // A link that stays inside the book is fine.
    std::os::unix::fs::symlink(book.join("index.html"), book.join("home.html")).unwrap();
    let server = serve(dir.path(), &book);
    let limit = Duration::from_secs(10);
    assert_eq!(get(&server, "/sub/etcdir/shadow", limit).unwrap().0, 404);
    assert_eq!(get(&server, "/leak.txt", limit).unwrap().0, 404);
    assert_eq!(get(&server, "/home.html", limit).unwrap().0, 200);
    assert_eq!(get(&server, "/", limit).unwrap().0, 200);
}

pub(crate) fn serve_does_not_freeze_on_a_fifo_and_decodes_paths() {
    let (dir, book) = book_workbook();
    let fifo = book.join("pipe.html");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    std::fs::write(book.join("my page.html"), "<p>spaced</p>").unwrap();
    let server = serve(dir.path(), &book);
    // More FIFO requests than the runtime has worker threads.
    let mut stuck = Vec::new();
    for _ in 0..4 {
        let addr = server.addr.clone();
        stuck.push(std::thread::spawn(move || {
            let mut s = TcpStream::connect(addr).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
            let _ = write!(
                s,
                "GET /pipe.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            );
            let mut raw = Vec::new();
            let _ = s.read_to_end(&mut raw);
            String::from_utf8_lossy(&raw).into_owned()
        }));
    }
    std::thread::sleep(Duration::from_millis(300));
    let home = get(&server, "/", Duration::from_secs(5));
    assert_eq!(
        home.map(|h| h.0),
        Some(200),
        "the server froze after requests to a FIFO"
    );
    for t in stuck {
        let answer = t.join().unwrap();
        assert!(
            answer.starts_with("HTTP/1.1 404"),
            "a FIFO is refused: {answer:?}"
        );
    }
    let spaced = get(&server, "/my%20page.html", Duration::from_secs(5)).unwrap();
    assert_eq!(spaced.0, 200);
    assert_eq!(spaced.1, b"<p>spaced</p>");
    for bad in [
        "/%2e%2e/exercises",
        "/sub/%2E%2E/%2e%2e/exercises",
        "/..%2fexercises",
        "/sub%2f..%2f..%2fexercises",
    ] {
        let answer = get(&server, bad, Duration::from_secs(5)).unwrap();
        assert_eq!(answer.0, 404, "{bad}");
    }
}

// ── #6 size bound ────────────────────────────────────────────────────────────────────────

pub(crate) fn graph_of_dev_zero_fails_fast_naming_the_file() {
    let child = checker()
        .args(["graph", "/dev/zero"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (code, err, took) = wait_at_most(child, Duration::from_secs(10));
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("/dev/zero"), "{err}");
    // Refused as what it is, before a byte of it is read.
    assert!(err.contains("is a device, not a regular file"), "{err}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

/// `checker graph` of a Dockerfile holding `text` (in a folder kept while the result is):
/// the folder, the file, and how the run ended (within a minute).
fn graph_of(text: &str) -> (tempfile::TempDir, PathBuf, (Option<i32>, String, Duration)) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("Dockerfile");
    std::fs::write(&file, text).unwrap();
    let child = checker()
        .arg("graph")
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let ended = wait_at_most(child, Duration::from_secs(60));
    (dir, file, ended)
}

pub(crate) fn an_oversized_dockerfile_is_refused_with_its_name() {
    let line = "RUN echo padding padding padding padding padding padding padding\n";
    let text = format!(
        "FROM scratch\n{}",
        line.repeat(8 * 1024 * 1024 / line.len())
    );
    let (_dir, file, (code, err, _)) = graph_of(&text);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert!(err.contains("MiB"), "{err}");
}

pub(crate) fn a_dockerfile_of_100000_instructions_is_refused_before_an_engine_sees_it() {
    let mut text = String::from("FROM debian:bookworm-slim\n");
    text.push_str(&"RUN true\n".repeat(100_000));
    let (_dir, file, (code, err, took)) = graph_of(&text);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert!(
        err.contains("line 1001:") && err.contains("100001 instructions, more than the 1000"),
        "{err}"
    );
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

// ── #10 exercise.toml and the progress file ──────────────────────────────────────────────

pub(crate) fn one_broken_exercise_toml_spoils_only_itself() {
    let dir = TempWorkbook::new();
    for name in ["01-static-binary", "02-go-api"] {
        copy_tree(
            &workbook_root().join("exercises").join(name),
            &dir.path().join("exercises").join(name),
        );
    }
    let broken = dir.path().join("exercises/02-go-api/exercise.toml");
    std::fs::write(&broken, "[exercise\ntitle = ").unwrap();

    let out = run(dir.path(), &["list"]);
    let listing = text(&out.stdout);
    let err = text(&out.stderr);
    assert!(listing.contains("01-static-binary"), "{listing}\n{err}");
    assert!(err.contains("02-go-api/exercise.toml"), "{err}");
    assert_ne!(out.status.code(), Some(0), "bad input is a non-zero exit");
    // Commands that need only the other exercises keep working.
    let hint = run(dir.path(), &["hint", "01"]);
    assert!(hint.status.success(), "{}", text(&hint.stderr));
}

pub(crate) fn exercise_toml_refuses_port_zero_and_non_finite_sizes() {
    let (dir, ex) = workbook_with("01-static-binary");
    let toml_path = ex.join("exercise.toml");
    let original = std::fs::read_to_string(&toml_path).unwrap();
    let cases = [
        (
            "\n[[goals]]\nid = \"web\"\nkind = \"http\"\nport = 0\n",
            "port",
        ),
        (
            "\n[[goals]]\nid = \"huge\"\nkind = \"image-size\"\nmax_mb = nan\n",
            "max_mb",
        ),
        (
            "\n[[goals]]\nid = \"huge\"\nkind = \"image-size\"\nmax_mb = inf\n",
            "max_mb",
        ),
        (
            "\n[[goals]]\nid = \"ctx\"\nkind = \"context-size\"\nmax_mb = -1.0\n",
            "max_mb",
        ),
    ];
    for (extra, key) in cases {
        std::fs::write(&toml_path, format!("{original}{extra}")).unwrap();
        let out = run(dir.path(), &["hint", "01"]);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra}: {err}");
        assert!(
            err.contains("01-static-binary/exercise.toml") && err.contains(key),
            "{extra}: {err}"
        );
    }
}

pub(crate) fn a_damaged_progress_file_is_reported_and_set_aside_before_building() {
    let (dir, _) = workbook_with("01-static-binary");
    let progress = dir.path().join(PROGRESS_FILE);
    std::fs::write(&progress, "{ not json").unwrap();
    // No engine: whatever happens to the build, the damage is reported first.
    let out = checker()
        .arg("--root")
        .arg(dir.path())
        .args(["check", "01"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap();
    let err = text(&out.stderr);
    let damaged = err
        .find(PROGRESS_FILE)
        .unwrap_or_else(|| panic!("the damage is not reported: {err}"));
    let engine = err
        .find("no Docker engine")
        .expect("then the engine is tried");
    assert!(damaged < engine, "{err}");
    let aside: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&format!("{PROGRESS_FILE}.damaged-")))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join(&aside[0])).unwrap(),
        "{ not json"
    );
    assert!(err.contains(&aside[0]), "says where it went: {err}");
}

pub(crate) fn a_damaged_progress_file_costs_no_result() {
    require_engine();
    let dir = TempWorkbook::new();
    copy_tree(
        &fixture("users").join("exercises/01-no-user"),
        &dir.path().join("exercises/01-no-user"),
    );
    let progress = dir.path().join(PROGRESS_FILE);
    std::fs::write(&progress, "garbage").unwrap();
    let out = run(dir.path(), &["check", "01-no-user", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&progress).unwrap()).unwrap();
    assert_eq!(kept["exercises"]["01-no-user"]["goals_total"], 1, "{kept}");
}
