//! Build progress on the terminal: a spinner with the current step on a TTY, one plain line
//! per finished step otherwise (CI logs, pipes); the notes of probes and the engine's
//! warnings, one line each. Always on stderr, so stdout stays the report.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle, WeakProgressBar};

use crate::docker::api::{BuildProgress, BuildStep};

/// Discards the build's steps: for builds the user did not ask to watch (a class being
/// graded, a result recorded, the authors' pulls and snippets). Notes still go to stderr,
/// one line each. (The builds inside a check that nobody watches, the starter to compare
/// with and the probes' variations, report to `build::Quiet`, which prints nothing.)
pub struct Silent;

impl BuildProgress for Silent {
    fn step(&mut self, _: &BuildStep) {}
    fn note(&mut self, message: &str) {
        eprintln!("{message}");
    }
}

/// The engine's warnings, on stderr.
pub struct Stderr;

impl crate::docker::api::Warnings for Stderr {
    fn warn(&self, message: &str) {
        eprintln!("{message}");
    }
}

/// Where every spinner is drawn: builds that run at once (`verify --jobs`) each keep a line
/// of their own instead of drawing over each other.
static SCREEN: std::sync::LazyLock<MultiProgress> = std::sync::LazyLock::new(MultiProgress::new);

/// The spinners on screen, so an interrupted run can clear them (its `TerminalProgress`
/// values may never be dropped).
static SPINNERS: Mutex<Vec<WeakProgressBar>> = Mutex::new(Vec::new());

/// Clears every spinner still on screen and shows the cursor again: what an interrupted
/// run does before its last words.
pub fn restore_terminal() {
    let spinners = std::mem::take(&mut *SPINNERS.lock().unwrap_or_else(|p| p.into_inner()));
    for bar in spinners.iter().filter_map(WeakProgressBar::upgrade) {
        bar.finish_and_clear();
    }
    let mut stderr = std::io::stderr();
    if stderr.is_terminal() {
        // DECTCEM: show the cursor, should anything have hidden it.
        let _ = stderr.write_all(b"\x1b[?25h");
        let _ = stderr.flush();
    }
}

pub struct TerminalProgress {
    bar: Option<ProgressBar>,
    reported: HashSet<String>,
    prefix: String,
}

impl TerminalProgress {
    /// `prefix` names what is being built, e.g. `01-static-binary (learner)`.
    pub fn new(prefix: &str) -> TerminalProgress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = SCREEN.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template("{spinner} {prefix}: {wide_msg} {elapsed}")
                    .expect("valid template"),
            );
            bar.set_prefix(prefix.to_string());
            bar.enable_steady_tick(Duration::from_millis(120));
            let mut spinners = SPINNERS.lock().unwrap_or_else(|p| p.into_inner());
            spinners.retain(|b| b.upgrade().is_some());
            spinners.push(bar.downgrade());
            bar
        });
        if bar.is_none() {
            eprintln!("building {prefix}");
        }
        TerminalProgress {
            bar,
            reported: HashSet::new(),
            prefix: prefix.to_string(),
        }
    }
}

impl BuildProgress for TerminalProgress {
    fn step(&mut self, step: &BuildStep) {
        match &self.bar {
            Some(bar) => bar.set_message(step.name.clone()),
            None => {
                let done = step.completed.is_some() || step.error.is_some();
                if done && self.reported.insert(step.name.clone()) {
                    let how = match (&step.error, step.cached, step.started, step.completed) {
                        (Some(_), ..) => "FAILED".to_string(),
                        (None, true, ..) => "cached".to_string(),
                        (None, false, Some(s), Some(c)) => format!("{:.1} s", c - s),
                        _ => "done".to_string(),
                    };
                    eprintln!("  {}: {} ({how})", self.prefix, step.name);
                }
            }
        }
    }
    fn note(&mut self, message: &str) {
        // Above the spinners, not through them.
        SCREEN.suspend(|| eprintln!("{message}"));
    }
}

impl Drop for TerminalProgress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
