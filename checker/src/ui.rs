//! Build progress on the terminal: a spinner with the current step on a TTY, one plain line
//! per finished step otherwise (CI logs, pipes); the notes of probes and the engine's
//! warnings, one line each. Always on stderr, so stdout stays the report.

use std::collections::HashSet;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU8, Ordering};
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

/// How much of a build the terminal shows: `checker -q` none of its progress (warnings
/// still), `-v` every finished step and everything the steps print, as the engine streams
/// it. Set once, from the command line, before any command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    Normal,
    Verbose,
}

static VERBOSITY: AtomicU8 = AtomicU8::new(Verbosity::Normal as u8);

pub fn set_verbosity(verbosity: Verbosity) {
    VERBOSITY.store(verbosity as u8, Ordering::Relaxed);
}

pub fn verbosity() -> Verbosity {
    match VERBOSITY.load(Ordering::Relaxed) {
        0 => Verbosity::Quiet,
        2 => Verbosity::Verbose,
        _ => Verbosity::Normal,
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
    verbosity: Verbosity,
    /// `-v`: each step's output not yet ended by a newline, printed when the line is whole.
    partial: std::collections::HashMap<String, Vec<u8>>,
}

impl TerminalProgress {
    /// `prefix` names what is being built, e.g. `01-static-binary (learner)`.
    pub fn new(prefix: &str) -> TerminalProgress {
        let verbosity = verbosity();
        // A spinner only by default: `-v`'s log lines would scroll it away.
        let spinner = verbosity == Verbosity::Normal && std::io::stderr().is_terminal();
        let bar = spinner.then(|| {
            let bar = SCREEN.add(ProgressBar::new_spinner());
            bar.set_style(
                ProgressStyle::with_template(if colour_on_stderr() {
                    "{spinner:.cyan} {prefix:.bold}: {wide_msg} {elapsed:.dim}"
                } else {
                    "{spinner} {prefix}: {wide_msg} {elapsed}"
                })
                .expect("valid template"),
            );
            bar.set_prefix(prefix.to_string());
            bar.enable_steady_tick(Duration::from_millis(120));
            let mut spinners = SPINNERS.lock().unwrap_or_else(|p| p.into_inner());
            spinners.retain(|b| b.upgrade().is_some());
            spinners.push(bar.downgrade());
            bar
        });
        if bar.is_none() && verbosity != Verbosity::Quiet {
            eprintln!("building {prefix}");
        }
        TerminalProgress {
            bar,
            reported: HashSet::new(),
            prefix: prefix.to_string(),
            verbosity,
            partial: Default::default(),
        }
    }
}

impl BuildProgress for TerminalProgress {
    fn step(&mut self, step: &BuildStep) {
        if self.verbosity == Verbosity::Quiet {
            return;
        }
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
        // `-q` keeps the warnings only: the other notes say what is being built.
        if self.verbosity == Verbosity::Quiet && !message.trim_start().starts_with("warning") {
            return;
        }
        // Above the spinners, not through them.
        SCREEN.suspend(|| eprintln!("{message}"));
    }
    fn log(&mut self, step: &str, output: &[u8]) {
        if self.verbosity != Verbosity::Verbose {
            return;
        }
        let pending = self.partial.entry(step.to_string()).or_default();
        pending.extend_from_slice(output);
        // Whole lines only: a step's output arrives in chunks, interleaved with other steps'.
        if let Some(end) = pending.iter().rposition(|b| *b == b'\n') {
            let lines: Vec<u8> = pending.drain(..=end).collect();
            for line in String::from_utf8_lossy(&lines).lines() {
                eprintln!("  {} | {step} | {line}", self.prefix);
            }
        }
    }
}

impl Drop for TerminalProgress {
    fn drop(&mut self) {
        for (step, rest) in std::mem::take(&mut self.partial) {
            if !rest.is_empty() {
                let rest = String::from_utf8_lossy(&rest);
                eprintln!("  {} | {step} | {rest}", self.prefix);
            }
        }
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Whether to colour what goes to a stream: only a terminal, and not when the learner asks
/// for none, with `NO_COLOR` set and not empty (<https://no-color.org>), or with a terminal
/// that cannot show it (`TERM=dumb`). Colour is all `NO_COLOR` takes away: the watch app,
/// the spinner and the layout stay.
pub fn colour_wanted(
    is_terminal: bool,
    no_color: Option<&std::ffi::OsStr>,
    term: Option<&std::ffi::OsStr>,
) -> bool {
    is_terminal && no_color.is_none_or(|v| v.is_empty()) && term.is_none_or(|t| t != "dumb")
}

fn colour_on(is_terminal: bool) -> bool {
    colour_wanted(
        is_terminal,
        std::env::var_os("NO_COLOR").as_deref(),
        std::env::var_os("TERM").as_deref(),
    )
}

pub fn colour_on_stdout() -> bool {
    colour_on(std::io::stdout().is_terminal())
}

pub fn colour_on_stderr() -> bool {
    colour_on(std::io::stderr().is_terminal())
}

/// The columns to fit: `COLUMNS` when it is a number (the learner's say, as for `ls`), else
/// the terminal's width when there is one, else 80; never under `Layout::MIN_WIDTH`.
pub fn width_from(columns: Option<&str>, terminal: Option<u16>) -> usize {
    let chosen = columns
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0)
        .or(terminal.map(usize::from).filter(|w| *w > 0))
        .unwrap_or(crate::report::layout::Layout::PLAIN.width);
    chosen.max(crate::report::layout::Layout::MIN_WIDTH)
}

/// How the text report is laid out on stdout: the terminal's width and colour there, or a
/// pipe's 80 columns without colour.
pub fn stdout_layout() -> crate::report::layout::Layout {
    let terminal = std::io::stdout().is_terminal();
    // Asked only of a terminal: crossterm reads the controlling terminal's size even when
    // stdout is a pipe.
    let size = terminal
        .then(|| crossterm::terminal::size().ok().map(|(w, _)| w))
        .flatten();
    let columns = std::env::var("COLUMNS").ok();
    crate::report::layout::Layout::new(width_from(columns.as_deref(), size), colour_on(terminal))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn no_color_set_and_not_empty_takes_the_colour_away_and_only_on_a_terminal_is_there_any() {
        let some = |s: &'static str| Some(OsStr::new(s));
        assert!(colour_wanted(true, None, some("xterm-256color")));
        assert!(
            colour_wanted(true, some(""), None),
            "an empty NO_COLOR is unset"
        );
        assert!(!colour_wanted(true, some("1"), None));
        assert!(!colour_wanted(true, some("0"), None), "any value but empty");
        assert!(!colour_wanted(true, None, some("dumb")));
        assert!(!colour_wanted(false, None, some("xterm")));
    }

    #[test]
    fn the_width_is_columns_then_the_terminals_then_80() {
        assert_eq!(width_from(Some("132"), Some(100)), 132);
        assert_eq!(width_from(Some("wide"), Some(100)), 100);
        assert_eq!(width_from(None, Some(120)), 120);
        assert_eq!(width_from(None, None), 80);
        assert_eq!(width_from(Some("0"), None), 80);
        assert_eq!(width_from(Some("20"), None), 40);
    }
}
