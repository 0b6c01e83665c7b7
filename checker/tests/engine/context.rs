//! The build context on a real engine: the checker serves it through a BuildKit session, the
//! engine asks for what the Dockerfile's COPY names, less `.dockerignore`, and what the
//! `context-size` goal measures is what ends up in the image, file for file.

use std::path::Path;

use crate::common::*;

/// A workbook in a temporary folder with one exercise `01-context` made of `files`.
fn workbook(files: &[(&str, &str)], goals: &str) -> TempWorkbook {
    let dir = TempWorkbook::new();
    let ex = dir.path().join("exercises/01-context");
    for (path, content) in files {
        let p = ex.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    std::fs::write(
        ex.join("exercise.toml"),
        format!("[exercise]\ntitle = \"context\"\nlesson = []\n\n{goals}"),
    )
    .unwrap();
    dir
}

fn check(root: &Path) -> (Option<i32>, serde_json::Value, String) {
    require_engine();
    let out = run(root, &["check", "01-context", "--format", "json"]);
    let stderr = text(&out.stderr);
    let report = if out.stdout.is_empty() {
        serde_json::Value::Null
    } else {
        json(&out)
    };
    (out.status.code(), report, stderr)
}

pub(crate) fn what_is_measured_is_what_the_engine_received() {
    let dir = workbook(
        &[
            ("Dockerfile", "FROM scratch\nCOPY . /ctx/\n"),
            (".dockerignore", "*.log\ndocs\n!docs/keep.md\n.env\n"),
            ("keep.txt", "kept"),
            ("drop.log", "dropped"),
            ("logs/app.log", "kept: *.log matches at the root only"),
            ("docs/a.md", "dropped"),
            ("docs/keep.md", "kept by the exception"),
            (".env", "TOKEN=secret"),
        ],
        r#"[[goals]]
id = "sent"
kind = "paths-present"
paths = ["/ctx/keep.txt", "/ctx/logs/app.log", "/ctx/docs/keep.md", "/ctx/Dockerfile", "/ctx/.dockerignore", "/ctx/exercise.toml"]

[[goals]]
id = "ignored"
kind = "paths-absent"
paths = ["/ctx/drop.log", "/ctx/docs/a.md", "/ctx/.env"]

[[goals]]
id = "context"
kind = "context-size"
max_mb = 1
forbidden = [".env", "drop.log"]
"#,
    );
    let (code, report, stderr) = check(dir.path());
    assert_eq!(code, Some(0), "{report}\n{stderr}");
    let context = verdict(&report, "context");
    // Six files went in the image; the same six were measured.
    assert!(
        context["measured"]
            .as_str()
            .unwrap()
            .ends_with(" in 6 files"),
        "{context}"
    );
}

pub(crate) fn the_engine_asks_only_for_what_copy_names() {
    let junk = "x".repeat(300_000);
    let dir = workbook(
        &[
            ("Dockerfile", "FROM scratch\nCOPY keep.txt /ctx/\n"),
            ("keep.txt", "kept"),
            ("node_modules/big.js", &junk),
            (".env", "TOKEN=secret"),
        ],
        r#"[[goals]]
id = "context"
kind = "context-size"
max_mb = 0.1
forbidden = [".env", "node_modules"]
"#,
    );
    let (code, report, stderr) = check(dir.path());
    assert_eq!(code, Some(0), "{report}\n{stderr}");
    let context = verdict(&report, "context");
    assert!(
        context["measured"]
            .as_str()
            .unwrap()
            .ends_with(" in 1 files"),
        "no .dockerignore, yet only keep.txt was sent: {context}"
    );
}

pub(crate) fn a_named_pipe_in_the_context_is_named_and_nothing_hangs() {
    let dir = workbook(
        &[
            ("Dockerfile", "FROM scratch\nCOPY . /ctx/\n"),
            ("a.txt", "a"),
        ],
        "[[goals]]\nid = \"context\"\nkind = \"context-size\"\nmax_mb = 1\n",
    );
    let fifo = dir.path().join("exercises/01-context/pipe");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let started = std::time::Instant::now();
    let (code, _, stderr) = check(dir.path());
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("pipe") && stderr.contains("named pipe"),
        "{stderr}"
    );
    assert!(
        started.elapsed().as_secs() < 120,
        "it took {:?}",
        started.elapsed()
    );
}

/// Issue 21: a context of about 5,000 small files failed to build (20.10: "context canceled";
/// 28.5: GOAWAY ENHANCE_YOUR_CALM "too_many_data_frames"), as the session read the engine's
/// file requests only between files. A realistic `node_modules`, 100,000 files, is sent whole.
pub(crate) fn a_context_of_a_hundred_thousand_small_files_is_sent_whole() {
    let dir = workbook(
        &[("Dockerfile", "FROM scratch\nCOPY . /ctx/\n")],
        "[[goals]]\nid = \"context\"\nkind = \"context-size\"\nmax_mb = 100\n",
    );
    let modules = dir.path().join("exercises/01-context/node_modules");
    for package in 0..1000 {
        let folder = modules.join(format!("package-{package}"));
        std::fs::create_dir_all(&folder).unwrap();
        for file in 0..100 {
            std::fs::write(
                folder.join(format!("f{file}.js")),
                format!("module.exports = {};\n", package * 100 + file),
            )
            .unwrap();
        }
    }
    let (code, report, stderr) = check(dir.path());
    assert_eq!(code, Some(0), "{report}\n{stderr}");
    let context = verdict(&report, "context");
    // The files, the Dockerfile and exercise.toml.
    assert!(
        context["measured"]
            .as_str()
            .unwrap()
            .ends_with(" in 100002 files"),
        "{context}"
    );
}

/// Issue 21: a context file rewritten with the same size and its mtime put back (`touch -r`)
/// was not sent again: the image kept the old content, judged and stored under the new
/// content's result-cache key. The file's ctime, which no one can set back, is offered too.
pub(crate) fn a_file_rewritten_with_its_old_size_and_mtime_is_sent_again() {
    let dir = workbook(
        &[
            (
                "Dockerfile",
                "FROM debian:bookworm-slim\nCOPY a.txt /a.txt\nCMD [\"cat\", \"/a.txt\"]\n",
            ),
            ("a.txt", "aaaa"),
        ],
        "[[goals]]\nid = \"says-bbbb\"\nkind = \"run\"\nexit_code = 0\nstdout = \"^bbbb$\"\ntimeout_s = 20\n",
    );
    let file = dir.path().join("exercises/01-context/a.txt");
    let (code, report, stderr) = check(dir.path());
    assert_eq!(code, Some(1), "the old content misses: {report}\n{stderr}");
    let mtime = std::fs::metadata(&file).unwrap().modified().unwrap();
    std::fs::write(&file, "bbbb").unwrap();
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    assert_eq!(std::fs::metadata(&file).unwrap().modified().unwrap(), mtime);
    let (code, report, stderr) = check(dir.path());
    assert_eq!(
        code,
        Some(0),
        "the new content is built: {report}\n{stderr}"
    );
}
