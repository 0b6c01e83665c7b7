//! Shared by the integration tests: the checker binary, the fixture workbooks, and the
//! one-time guarantee that a Docker engine answers and has the base images (made the same
//! way `checker images` makes them).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub fn checker() -> Command {
    Command::new(env!("CARGO_BIN_EXE_checker"))
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The repository root, whose `exercises/` are the real ones.
pub fn workbook_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs the checker with `args` in `root`'s workbook.
pub fn run(root: &Path, args: &[&str]) -> Output {
    let started = std::time::Instant::now();
    let out = checker()
        .arg("--root")
        .arg(root)
        .args(args)
        .output()
        .expect("the checker binary runs");
    tell_where_a_slow_run_went(args, started.elapsed(), &out);
    out
}

/// For a checker run of two minutes or more: the steps it built for a minute or more and the
/// probes' notes, so that CI's log says whether the time went on builds (a busy machine) or
/// on a probe measuring again (the engine losing cache), not just that a test took long.
fn tell_where_a_slow_run_went(args: &[&str], took: std::time::Duration, out: &Output) {
    if took.as_secs() < 120 {
        return;
    }
    let stderr = text(&out.stderr);
    let slow_step = |line: &str| {
        line.rsplit_once(" (")
            .and_then(|(_, t)| t.strip_suffix(" s)"))
            .and_then(|t| t.parse::<f64>().ok())
            .is_some_and(|seconds| seconds >= 60.0)
    };
    let notable: Vec<&str> = stderr
        .lines()
        .filter(|line| slow_step(line) || line.contains("again"))
        .take(12)
        .collect();
    eprintln!(
        "engine tests: `checker {}` took {} s{}",
        args.join(" "),
        took.as_secs(),
        notable
            .iter()
            .map(|line| format!("\n    {}", line.trim()))
            .collect::<String>()
    );
}

/// Fails (never skips) when no engine answers, saying how to start one; then makes sure
/// the base images exist: `checker images`, and `checker images --offline` when pulling fails.
pub fn require_engine() {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        // The real exercises and the fixtures (which use debian:bookworm-slim).
        [workbook_root(), fixture("users")]
            .iter()
            .try_for_each(|root| ensure_images(root))
    });
    if let Err(e) = ready {
        panic!("{e}");
    }
}

fn ensure_images(root: &Path) -> Result<(), String> {
    {
        let pulled = run(root, &["images"]);
        if pulled.status.success() {
            return Ok(());
        }
        let stderr = text(&pulled.stderr);
        if stderr.contains("no Docker engine answers") {
            return Err(format!(
                "these tests build real images and need a Docker engine, and none answers.\n\
                 Start one (`sudo systemctl start docker`, or `bash .ci/start-engine` in this repository, which installs and starts Debian's docker.io), then run the tests again.\n\
                 The checker said: {stderr}"
            ));
        }
        let offline = run(root, &["images", "--offline"]);
        if offline.status.success() {
            Ok(())
        } else {
            Err(format!(
                "the base images are missing and could not be made.\n`checker images`: {}{}\n`checker images --offline`: {}{}",
                text(&pulled.stdout),
                stderr,
                text(&offline.stdout),
                text(&offline.stderr)
            ))
        }
    }
}

/// Parses `checker check --format json` output.
pub fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}); stdout: {}\nstderr: {}",
            text(&output.stdout),
            text(&output.stderr)
        )
    })
}

/// The verdict with `id` in the first result of a JSON report.
pub fn verdict<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["results"][0]["verdicts"]
        .as_array()
        .unwrap_or_else(|| panic!("no verdicts (the check failed?) in {report}"))
        .iter()
        .find(|v| v["id"] == id)
        .unwrap_or_else(|| panic!("no verdict {id} in {report}"))
}

/// Ids of the containers the checker labelled that still exist.
pub fn leftover_containers() -> Vec<String> {
    let out = Command::new("docker")
        .args(["ps", "-a", "-q", "--filter"])
        .arg(format!("label={}", checker::docker::api::OWNER_LABEL))
        .output()
        .expect("docker CLI for inspecting leftovers");
    text(&out.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// Every file under `dir` with its content, to prove a check changed nothing.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                files.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// A workbook in a fresh temporary folder. Dropped, it is kept until the test run ends
/// ([`clean_up_temporary_workbooks`]): then what the checker made for it on the engine is
/// removed (`checker clean`: the images tagged with its scope), and the folder with it.
/// Removing a workbook's images as soon as its test ended made the next test rebuild what
/// they shared: on the containerd store, images and the build cache share their content
/// (moby/moby#48700).
pub struct TempWorkbook {
    dir: Option<tempfile::TempDir>,
}

impl TempWorkbook {
    pub fn new() -> TempWorkbook {
        TempWorkbook {
            dir: Some(tempfile::tempdir().unwrap()),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.as_ref().expect("kept until dropped").path()
    }
}

/// The temporary workbooks whose images are not removed yet, for [`clean_up_temporary_workbooks`].
static FINISHED: std::sync::Mutex<Vec<tempfile::TempDir>> = std::sync::Mutex::new(Vec::new());

impl Drop for TempWorkbook {
    fn drop(&mut self) {
        let dir = self.dir.take().expect("dropped once");
        // A folder no check ran in has nothing to remove (and `clean` would not find it).
        if !dir.path().join("exercises").is_dir() {
            return;
        }
        // Kept to the end of the run: on the containerd store, removing an image while
        // another test builds can take build cache that test relies on (moby/moby#48700), and
        // removed after each test, the cache probes took 500 s instead of 80. Unless the disk
        // runs low: kept to the end, the workbooks' images once reached 41 GB on engine 28.5.
        let batch = {
            let mut finished = FINISHED.lock().unwrap_or_else(|p| p.into_inner());
            finished.push(dir);
            match low_on_disk() {
                true => std::mem::take(&mut *finished),
                false => Vec::new(),
            }
        };
        for dir in &batch {
            let _ = run(dir.path(), &["clean"]);
        }
    }
}

/// Whether the disk the temporary folders (and, on CI's machine, the engines' data) are on
/// has less than 12 GB free.
fn low_on_disk() -> bool {
    #[cfg(unix)]
    if let Ok(stat) = rustix::fs::statvfs(std::env::temp_dir()) {
        return stat.f_bavail.saturating_mul(stat.f_frsize) < 12_000_000_000;
    }
    false
}

/// Removes what the checker made for every temporary workbook not cleaned yet (`checker
/// clean`, a few at a time), then the folders. The engine runner calls it once, after every
/// test.
pub fn clean_up_temporary_workbooks() {
    let finished = std::mem::take(&mut *FINISHED.lock().unwrap_or_else(|p| p.into_inner()));
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(dir) = finished.get(i) else { break };
                let _ = run(dir.path(), &["clean"]);
            });
        }
    });
}

/// Builds one checker run may make at once on this engine (`verify --jobs`): one on Docker
/// 20.10, whose BuildKit can fail concurrent builds that share steps.
pub fn parallel_builds() -> usize {
    static BUILDS: OnceLock<usize> = OnceLock::new();
    *BUILDS.get_or_init(|| match engine_version() {
        Some(version) if version.starts_with("20.") => 1,
        _ => 3,
    })
}

/// The engine's version, or None when no engine answers (the tests then fail, each with how
/// to start one).
pub fn engine_version() -> Option<String> {
    let out = checker()
        .args(["doctor", "--format", "json"])
        .output()
        .ok()?;
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    report["engine_info"]["version"]
        .as_str()
        .map(str::to_string)
}

/// A copy of a fixture workbook in a fresh temporary folder, for tests that write.
pub fn copy_fixture(name: &str) -> TempWorkbook {
    let dir = TempWorkbook::new();
    copy_tree(&fixture(name), dir.path());
    dir
}

pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A workbook in a temporary folder holding one of the repository's exercises as a learner
/// starts it (its starter is the `Dockerfile`); also returns the exercise's folder.
pub fn workbook_with(exercise: &str) -> (TempWorkbook, PathBuf) {
    let dir = TempWorkbook::new();
    let folder = dir.path().join("exercises").join(exercise);
    copy_tree(&workbook_root().join("exercises").join(exercise), &folder);
    (dir, folder)
}

/// Saves the exercise's reference solution as the learner's `Dockerfile`.
pub fn save_solution(exercise: &Path) {
    std::fs::copy(
        exercise.join("solution/Dockerfile"),
        exercise.join("Dockerfile"),
    )
    .unwrap();
}

/// The solution's Dockerfile of a real exercise with `from` replaced by `to`.
pub fn solution_with(exercise: &str, from: &str, to: &str) -> String {
    let solution = std::fs::read_to_string(
        workbook_root()
            .join("exercises")
            .join(exercise)
            .join("solution/Dockerfile"),
    )
    .unwrap();
    assert!(
        solution.contains(from),
        "{exercise}'s solution has no `{from}`"
    );
    solution.replacen(from, to, 1)
}

/// Appends `text` to the learner's `Dockerfile`, as an editor's save does.
pub fn append_to_dockerfile(exercise: &Path, text: &str) {
    let mut dockerfile = std::fs::read_to_string(exercise.join("Dockerfile")).unwrap();
    dockerfile.push_str(text);
    std::fs::write(exercise.join("Dockerfile"), dockerfile).unwrap();
}

/// `checker watch` on a workbook without a terminal (plain lines), its output in a file of
/// the workbook's folder; killed when dropped, so a failing test leaves no watcher running.
pub struct Watch {
    child: std::process::Child,
    output: PathBuf,
}

impl Watch {
    /// Starts `checker --root <workbook> watch <args>`.
    pub fn start(workbook: &Path, args: &[&str]) -> Watch {
        let output = workbook.join("watch.out");
        let child = checker()
            .arg("--root")
            .arg(workbook)
            .arg("watch")
            .args(args)
            .stdout(std::fs::File::create(&output).unwrap())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        Watch { child, output }
    }

    /// What it has printed so far.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.output).unwrap_or_default()
    }

    /// Its reports so far, each ending with its "N of M goals met." line.
    pub fn reports(&self) -> Vec<String> {
        reports_in(&self.output())
    }

    /// Polls every `every` until `done` holds of the output or `limit` has passed; whether
    /// it held.
    pub fn wait_until(
        &self,
        limit: std::time::Duration,
        every: std::time::Duration,
        done: impl Fn(&str) -> bool,
    ) -> bool {
        wait_for(limit, every, || done(&self.output()))
    }

    /// Kills it (SIGKILL, no clean-up of its own) and returns what it printed.
    pub fn kill(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.output()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The reports in a watch's plain output, each ending with its "N of M goals met." line.
pub fn reports_in(output: &str) -> Vec<String> {
    output
        .split_inclusive("goals met.")
        .filter(|report| report.contains("goals met."))
        .map(str::to_string)
        .collect()
}

/// Polls `condition` every `every` for up to `limit`; false when it never held.
pub fn wait_for(
    limit: std::time::Duration,
    every: std::time::Duration,
    mut condition: impl FnMut() -> bool,
) -> bool {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if condition() {
            return true;
        }
        std::thread::sleep(every);
    }
    false
}
