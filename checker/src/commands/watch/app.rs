//! `checker watch` as a terminal app (when stdout and stdin are a terminal; `NO_COLOR` takes
//! its colour away, nothing else): one screen, redrawn on each result, with the workbook's
//! progress, what changed since the previous attempt and the latest report fitted to the
//! terminal's width, and keys for the learner's loop, as rustlings' watch mode has them.
//! `r` asks before it resets: one stray key must not put the starter over a learner's work. The terminal is put back as it was when the app ends,
//! however it ends (`q`, Ctrl-C, an error, a panic).

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::{cursor, execute, queue, terminal};
use tokio::sync::mpsc;

use super::changes::since_previous;
use crate::check::CheckResult;
use crate::docker::api::{BuildProgress, BuildStep};
use crate::docker::engine::Engine;
use crate::error::CheckerError;
use crate::report::layout::{strip, visible_width, Layout, Paint};
use crate::report::{exporter_for, Format};
use crate::workbook::exercise::Variant;
use crate::workbook::progress::{ExerciseState, ProgressFile};
use crate::workbook::Workbook;

const KEYS: &str = "h hint · l list · r reset · n next · c check again · q quit · ? keys";
const KEY_HELP: [&str; 7] = [
    "h  the next hint for this exercise (again for a stronger one)",
    "l  the list of exercises, done, next and pending",
    "r  reset this exercise's Dockerfile to its starter (asks first; yours is kept as a backup)",
    "n  go on to the next exercise",
    "c  check again, building afresh (not the stored result)",
    "q  quit (Ctrl-C too)",
    "Esc  hide this text",
];

/// What `r` asks; `y` answers yes, any other key no.
const RESET_QUESTION: &str =
    "Reset the Dockerfile to the starter? Yours is kept as a backup. y: reset · n: keep it";
const NOT_RESET: &str = "Not reset: the Dockerfile is as it was.";

/// What the screen shows.
struct Screen {
    exercise: String,
    title: String,
    status: String,
    /// Hint, list, reset or key text; shown above the report until Esc or the next check.
    message: Vec<String>,
    /// The message outlives the next check: a reset's, whose check of the starter follows
    /// the reset within a few milliseconds (a stored result) and would wipe it unread.
    keep_message: bool,
    changes: Vec<String>,
    report: Vec<String>,
    done: bool,
    next: Option<String>,
    /// `exercises ███░░░░░░░ 3/13 done · goals ████░░ 4/6 met`
    bars: String,
    /// The message is `RESET_QUESTION`, and the next key answers it.
    confirming_reset: bool,
    /// Colours on the screen (not when `NO_COLOR` asks for none).
    colour: bool,
}

/// Puts the terminal back (main screen, cursor, cooked mode) when dropped.
struct TerminalGuard;

impl TerminalGuard {
    fn enter() -> Result<TerminalGuard, CheckerError> {
        terminal::enable_raw_mode().map_err(terminal_error)?;
        let guard = TerminalGuard;
        execute!(
            std::io::stdout(),
            terminal::EnterAlternateScreen,
            cursor::Hide
        )
        .map_err(terminal_error)?;
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = execute!(
            std::io::stdout(),
            cursor::Show,
            terminal::LeaveAlternateScreen
        );
        let _ = terminal::disable_raw_mode();
    }
}

fn terminal_error(e: std::io::Error) -> CheckerError {
    CheckerError::Io {
        path: "the terminal".into(),
        message: e.to_string(),
        source: Some(Box::new(e)),
    }
}

/// The engine's warnings and the probes' notes, kept for the screen instead of printed
/// over it.
#[derive(Clone, Default)]
struct Notes(Arc<Mutex<Vec<String>>>);

impl crate::docker::api::Warnings for Notes {
    fn warn(&self, message: &str) {
        self.0.lock().expect("notes lock").push(message.to_string());
    }
}

/// Build progress as the status line: the step running now.
struct StatusProgress<'a> {
    screen: &'a mut Screen,
    notes: Notes,
}

impl BuildProgress for StatusProgress<'_> {
    fn step(&mut self, step: &BuildStep) {
        if step.completed.is_none() {
            self.screen.status = format!("checking {}: {}", self.screen.exercise, step.name);
            let _ = draw(self.screen);
        }
    }
    fn note(&mut self, message: &str) {
        self.notes
            .0
            .lock()
            .expect("notes lock")
            .push(message.trim().to_string());
    }
}

pub async fn run(
    workbook: &Workbook,
    first: String,
    poll: bool,
    fresh: bool,
) -> Result<std::process::ExitCode, CheckerError> {
    let notes = Notes::default();
    let engine = Engine::connect()
        .await?
        .with_warnings(Arc::new(notes.clone()))
        .with_size_cache(&workbook.root);
    let changed = watch_files(&workbook.exercises_dir(), poll)?;
    let keys = read_keys();
    let _terminal = TerminalGuard::enter()?;
    App {
        workbook,
        engine,
        notes,
        fresh,
        keys,
        changed,
        previous: None,
        colour: crate::ui::colour_on_stdout(),
    }
    .run(first)
    .await
}

struct App<'a> {
    workbook: &'a Workbook,
    engine: Engine,
    notes: Notes,
    fresh: bool,
    keys: mpsc::UnboundedReceiver<KeyEvent>,
    changed: mpsc::UnboundedReceiver<String>,
    /// The latest result of the exercise on screen, to say what the next attempt changed.
    previous: Option<CheckResult>,
    colour: bool,
}

#[derive(Debug, PartialEq, Eq)]
enum Step {
    Check { fresh: bool },
    Redraw,
    Quit,
}

impl App<'_> {
    async fn run(mut self, first: String) -> Result<std::process::ExitCode, CheckerError> {
        let mut screen = self.screen_for(&first)?;
        let mut step = Step::Check { fresh: self.fresh };
        loop {
            match step {
                Step::Quit => return Ok(std::process::ExitCode::SUCCESS),
                Step::Check { fresh } => {
                    if !self.check(&mut screen, fresh).await {
                        return Ok(std::process::ExitCode::SUCCESS);
                    }
                }
                Step::Redraw => {}
            }
            draw(&screen).map_err(terminal_error)?;
            step = tokio::select! {
                key = self.keys.recv() => match key {
                    Some(key) => self.on_key(key, &mut screen)?,
                    None => Step::Quit,
                },
                exercise = self.changed.recv() => match exercise {
                    Some(e) if e == screen.exercise => Step::Check { fresh: self.fresh },
                    Some(_) => Step::Redraw,
                    None => return Err(CheckerError::WatcherStopped),
                },
            };
        }
    }

    fn screen_for(&self, name: &str) -> Result<Screen, CheckerError> {
        let exercise = self.workbook.exercise(name)?;
        Ok(Screen {
            exercise: exercise.name.clone(),
            title: exercise.title().to_string(),
            status: String::new(),
            message: Vec::new(),
            keep_message: false,
            changes: Vec::new(),
            report: Vec::new(),
            done: false,
            next: None,
            bars: self.bars(name, None),
            confirming_reset: false,
            colour: self.colour,
        })
    }

    /// The progress bars: exercises whose latest check met every goal, and the goals the
    /// latest check of this one met.
    fn bars(&self, name: &str, result: Option<&CheckResult>) -> String {
        let names = self.workbook.exercise_names().unwrap_or_default();
        let done = ProgressFile::load(&self.workbook.root)
            .map(|p| names.iter().filter(|n| p.is_passing(n)).count())
            .unwrap_or(0);
        let mut line = format!(
            "exercises {} {done}/{} done",
            bar(done, names.len()),
            names.len()
        );
        let goals = match result {
            Some(r) => Some((
                r.verdicts.iter().filter(|v| v.met).count(),
                r.verdicts.len(),
            )),
            None => self
                .workbook
                .exercise(name)
                .ok()
                .map(|e| (0, e.file.goals.len())),
        };
        if let (Some((met, total)), Some(_)) = (goals, result) {
            line.push_str(&format!(" · goals {} {met}/{total} met", bar(met, total)));
        } else if let Some((_, total)) = goals {
            line.push_str(&format!(" · {total} goals"));
        }
        line
    }

    /// Checks the exercise on screen; false when the learner quit while it ran.
    async fn check(&mut self, screen: &mut Screen, fresh: bool) -> bool {
        screen.status = format!("checking {}…", screen.exercise);
        if !std::mem::take(&mut screen.keep_message) {
            screen.message.clear();
            screen.confirming_reset = false;
        }
        let _ = draw(screen);
        let Some(outcome) = self.check_unless_quit(screen, fresh).await else {
            return false;
        };
        let notes: Vec<String> = std::mem::take(&mut *self.notes.0.lock().expect("notes lock"));
        match outcome {
            Ok(result) => self.show_result(screen, result, notes).await,
            Err(e) => {
                screen.changes.clear();
                screen.report = e.to_string().lines().map(str::to_string).collect();
                screen.report.extend(notes);
                screen.done = false;
                screen.status = "Could not check. Fix what it says and save.".to_string();
            }
        }
        true
    }

    /// Checks and records the exercise on screen, its build's step on the status line; None
    /// when the learner quit while it ran.
    async fn check_unless_quit(
        &mut self,
        screen: &mut Screen,
        fresh: bool,
    ) -> Option<Result<CheckResult, CheckerError>> {
        let workbook = self.workbook;
        let name = screen.exercise.clone();
        let engine = &self.engine;
        let mut progress = StatusProgress {
            screen,
            notes: self.notes.clone(),
        };
        let checking = async {
            let exercise = workbook.exercise(&name)?;
            super::super::check::check_and_record(
                workbook,
                engine,
                &exercise,
                Variant::Learner,
                fresh,
                &mut progress,
            )
            .await
        };
        tokio::pin!(checking);
        loop {
            tokio::select! {
                outcome = &mut checking => break Some(outcome),
                key = self.keys.recv() => {
                    if key.is_none_or(is_quit) {
                        break None;
                    }
                }
            }
        }
    }

    /// A check's result on screen: what changed since the previous attempt, the report with
    /// the run's `notes` under it, the progress bars, and what to do next.
    async fn show_result(&mut self, screen: &mut Screen, result: CheckResult, notes: Vec<String>) {
        screen.changes = match &self.previous {
            Some(previous) if previous.exercise == result.exercise => {
                since_previous(previous, &result)
            }
            _ => Vec::new(),
        };
        let info = super::super::check::run_info(Ok(&self.engine)).await;
        // Laid out for the terminal as it is now; a narrower one later has the lines that
        // no longer fit wrapped again (without their colour) as they are drawn.
        let width = terminal::size().map_or(80, |(w, _)| usize::from(w));
        screen.report = exporter_for(Format::Text, Layout::new(width, self.colour))
            .check(&info, &[Ok(result.clone())])
            .lines()
            .map(str::to_string)
            .collect();
        screen.report.extend(notes);
        screen.done = result.all_met();
        screen.next = self.next_after(&screen.exercise);
        screen.bars = self.bars(&screen.exercise, Some(&result));
        screen.status = result_status(&result, screen.next.as_deref());
        self.previous = Some(result);
    }

    /// The first exercise after `current` whose latest check did not meet every goal, or
    /// the first such one before it.
    fn next_after(&self, current: &str) -> Option<String> {
        let progress = ProgressFile::load(&self.workbook.root).ok()?;
        let names = self.workbook.exercise_names().ok()?;
        let at = names.iter().position(|n| n == current).unwrap_or(0);
        names
            .iter()
            .skip(at + 1)
            .chain(names.iter().take(at))
            .find(|n| progress.state(n) != ExerciseState::Passing)
            .cloned()
    }

    fn on_key(&mut self, key: KeyEvent, screen: &mut Screen) -> Result<Step, CheckerError> {
        let action = action(key, std::mem::take(&mut screen.confirming_reset));
        if let Some(step) = answer_on_screen(action, screen) {
            return Ok(step);
        }
        let text = |lines: Result<Vec<String>, CheckerError>| match lines {
            Ok(lines) => lines,
            Err(e) => vec![format!("error: {e}")],
        };
        match action {
            Action::Hint => {
                screen.message = text(super::super::hint::hint_lines(
                    self.workbook,
                    &screen.exercise,
                    false,
                ));
            }
            Action::List => {
                screen.message = text(super::super::list::listing(self.workbook).map(
                    |(lines, broken)| {
                        lines
                            .into_iter()
                            .chain(broken.iter().map(|e| format!("error: {e}")))
                            .collect()
                    },
                ));
            }
            Action::Reset => {
                let reset = super::super::reset::reset_lines(self.workbook, &screen.exercise);
                // Only a reset that wrote the file has a check coming.
                screen.keep_message = reset.is_ok();
                screen.message = text(reset);
                // The saved starter is a change the file watcher reports, which checks it.
            }
            Action::Next => match self.next_after(&screen.exercise) {
                Some(next) => {
                    *screen = self.screen_for(&next)?;
                    return Ok(Step::Check { fresh: self.fresh });
                }
                None => screen.message = vec!["Every exercise is done.".to_string()],
            },
            _ => {}
        }
        Ok(Step::Redraw)
    }
}

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Quit,
    Hint,
    List,
    /// `r`: ask whether to reset.
    AskReset,
    /// `y` to the question.
    Reset,
    /// Any other key to the question.
    KeepFile,
    Next,
    CheckAgain,
    Keys,
    Hide,
    Nothing,
}

/// What `key` asks for; `confirming` while the screen asks whether to reset, when `y`
/// resets and every other key (a quit still quits) keeps the file: `n` there is "no", not
/// "next".
fn action(key: KeyEvent, confirming: bool) -> Action {
    if is_quit(key) {
        return Action::Quit;
    }
    if confirming {
        return match key.code {
            KeyCode::Char('y' | 'Y') => Action::Reset,
            _ => Action::KeepFile,
        };
    }
    match key.code {
        KeyCode::Char('h') => Action::Hint,
        KeyCode::Char('l') => Action::List,
        KeyCode::Char('r') => Action::AskReset,
        KeyCode::Char('n') => Action::Next,
        KeyCode::Char('c') => Action::CheckAgain,
        KeyCode::Char('?') => Action::Keys,
        KeyCode::Esc => Action::Hide,
        _ => Action::Nothing,
    }
}

/// The step for an action the screen answers by itself (no workbook, no engine); None for
/// the others.
fn answer_on_screen(action: Action, screen: &mut Screen) -> Option<Step> {
    match action {
        Action::Quit => return Some(Step::Quit),
        Action::CheckAgain => return Some(Step::Check { fresh: true }),
        Action::AskReset => {
            screen.message = vec![RESET_QUESTION.to_string()];
            screen.confirming_reset = true;
        }
        Action::KeepFile => screen.message = vec![NOT_RESET.to_string()],
        Action::Keys => screen.message = KEY_HELP.iter().map(|s| s.to_string()).collect(),
        Action::Hide => screen.message.clear(),
        Action::Nothing => {}
        Action::Hint | Action::List | Action::Reset | Action::Next => return None,
    }
    Some(Step::Redraw)
}

/// The status line after a check: every goal met, and the next exercise (`n`) if one is
/// left; or how many goals are met.
fn result_status(result: &CheckResult, next: Option<&str>) -> String {
    let goals = result.verdicts.len();
    if result.all_met() {
        match next {
            Some(next) => format!("All {goals} goals met. Press n for the next exercise, {next}."),
            None => format!("All {goals} goals met, and every exercise is done."),
        }
    } else {
        format!(
            "{} of {goals} goals met. Edit and save to check again.",
            result.verdicts.iter().filter(|v| v.met).count(),
        )
    }
}

fn is_quit(key: KeyEvent) -> bool {
    key.code == KeyCode::Char('q')
        || (key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL))
}

/// Keys, read on a thread of their own (crossterm's reading blocks).
fn read_keys() -> mpsc::UnboundedReceiver<KeyEvent> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || loop {
        match crossterm::event::read() {
            Ok(Event::Key(key)) if key.kind == KeyEventKind::Press => {
                if tx.send(key).is_err() {
                    break;
                }
            }
            Ok(_) => {}
            Err(_) => break,
        }
    });
    rx
}

/// The exercises whose files change, a name per burst of saves.
fn watch_files(dir: &Path, poll: bool) -> Result<mpsc::UnboundedReceiver<String>, CheckerError> {
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let watcher = super::start_watcher(dir, events_tx, poll, &mut |_| {})?;
    let (tx, rx) = mpsc::unbounded_channel();
    let dir = dir.to_path_buf();
    tokio::spawn(async move {
        let _watcher = watcher;
        while let Some(first) = events.recv().await {
            let mut changed = super::exercise_of(&dir, first);
            while let Ok(Some(more)) = tokio::time::timeout(super::SETTLE, events.recv()).await {
                changed = super::exercise_of(&dir, more).or(changed);
            }
            if let Some(exercise) = changed {
                if tx.send(exercise).is_err() {
                    break;
                }
            }
        }
    });
    Ok(rx)
}

/// Draws the whole screen: the header with the progress bars, the status, what changed,
/// the message (hint, list, keys) and as much of the report as fits, and the keys.
fn draw(screen: &Screen) -> std::io::Result<()> {
    let (width, height) = terminal::size().unwrap_or((80, 24));
    let (width, height) = (width as usize, height as usize);
    let lines = screen_lines(screen, width, height);
    let mut out = std::io::stdout();
    queue!(
        out,
        cursor::MoveTo(0, 0),
        terminal::Clear(terminal::ClearType::All)
    )?;
    for (row, line) in lines.iter().enumerate() {
        let row = if row + 1 == lines.len() {
            height.saturating_sub(1)
        } else {
            row
        };
        queue!(out, cursor::MoveTo(0, row as u16))?;
        write!(out, "{line}")?;
    }
    out.flush()
}

/// The screen's lines, each at most `width` columns, coloured when the screen is: as many
/// as `height` has room for, the keys last (for the bottom row).
fn screen_lines(screen: &Screen, width: usize, height: usize) -> Vec<String> {
    let layout = Layout {
        width,
        colour: screen.colour,
    };
    let mut lines: Vec<String> = Vec::new();
    let mut add = |line: &str, paint: Option<Paint>| {
        for l in wrap(line, width) {
            lines.push(paint.map_or_else(|| l.clone(), |p| layout.paint(p, &l)));
        }
    };
    let title = format!("checker watch · {} · {}", screen.exercise, screen.title);
    add(&title, Some(Paint::Heading));
    add(&screen.bars, Some(Paint::Met));
    add("", None);
    add(&screen.status, screen.done.then_some(Paint::Met));
    for change in &screen.changes {
        add(&format!("  since the attempt before: {change}"), None);
    }
    if !screen.message.is_empty() {
        add("", None);
        let paint = screen.confirming_reset.then_some(Paint::Warning);
        for line in &screen.message {
            add(line, paint);
        }
    }
    add("", None);
    let room = height.saturating_sub(lines.len() + 3);
    // The report is laid out and coloured already; only a line wider than the terminal is
    // now (it was resized) is wrapped again, without its colour.
    let report: Vec<String> = screen
        .report
        .iter()
        .flat_map(|l| match visible_width(l) <= width {
            true => vec![l.clone()],
            false => wrap(&strip(l), width),
        })
        .collect();
    let report_lines = report.len();
    lines.extend(report.into_iter().take(room));
    if report_lines > room {
        lines.push(format!(
            "… {} more lines: `checker check` prints them all",
            report_lines - room
        ));
    }
    lines.truncate(height.saturating_sub(1));
    lines.push(layout.paint(Paint::Faint, &cut(KEYS, width)));
    lines
}

/// `███░░░░░░░`: `done` of `total` in ten cells.
fn bar(done: usize, total: usize) -> String {
    let filled = (done * 10 + total / 2).checked_div(total).unwrap_or(0);
    format!(
        "{}{}",
        "█".repeat(filled.min(10)),
        "░".repeat(10 - filled.min(10))
    )
}

/// `line` in lines of at most `width` characters, broken at spaces where it can be, the
/// continuation lines indented like the first.
fn wrap(line: &str, width: usize) -> Vec<String> {
    if line.chars().count() <= width || width < 20 {
        return vec![line.to_string()];
    }
    let indent: String = line.chars().take_while(|c| *c == ' ').collect();
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in line.trim_start().split(' ') {
        let longer = indent.chars().count()
            + current.chars().count()
            + usize::from(!current.is_empty())
            + word.chars().count();
        if !current.is_empty() && longer > width {
            lines.push(format!("{indent}{current}"));
            current.clear();
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    lines.push(format!("{indent}{current}"));
    lines.into_iter().map(|l| cut(&l, width)).collect()
}

fn cut(line: &str, width: usize) -> String {
    line.chars().take(width).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_wrap_at_spaces_keeping_their_indent() {
        assert_eq!(
            wrap(
                "  Hint 1 of 3: the program needs gcc to be built, not to run",
                30
            ),
            [
                "  Hint 1 of 3: the program",
                "  needs gcc to be built, not",
                "  to run"
            ]
        );
        assert_eq!(wrap("short", 30), ["short"]);
        assert_eq!(bar(3, 13), "██░░░░░░░░");
        assert_eq!(bar(0, 0), "░░░░░░░░░░");
        assert_eq!(bar(6, 6), "██████████");
    }

    fn screen() -> Screen {
        Screen {
            exercise: "01-static-binary".into(),
            title: "A static C binary on scratch".into(),
            status: "1 of 6 goals met. Edit and save to check again.".into(),
            message: Vec::new(),
            keep_message: false,
            changes: Vec::new(),
            report: Vec::new(),
            done: false,
            next: None,
            bars: "exercises ░░░░░░░░░░ 0/13 done".into(),
            confirming_reset: false,
            colour: false,
        }
    }

    fn key(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
    }

    /// What the app does with `key`, as far as the screen answers it.
    fn press(screen: &mut Screen, key: KeyEvent) -> (Action, Option<Step>) {
        let action = action(key, std::mem::take(&mut screen.confirming_reset));
        (action, answer_on_screen(action, screen))
    }

    #[test]
    fn r_asks_first_and_only_y_resets() {
        let mut s = screen();
        assert_eq!(
            press(&mut s, key('r')),
            (Action::AskReset, Some(Step::Redraw))
        );
        assert!(s.confirming_reset);
        assert_eq!(s.message, [RESET_QUESTION]);
        // y: the reset itself, which needs the workbook (`App::on_key`).
        assert_eq!(press(&mut s, key('y')), (Action::Reset, None));
        assert!(!s.confirming_reset);

        // n is "no" here, not "next"; so is any other key.
        for answer in [key('n'), key('r'), key('h'), KeyEvent::from(KeyCode::Esc)] {
            let mut s = screen();
            press(&mut s, key('r'));
            assert_eq!(
                press(&mut s, answer),
                (Action::KeepFile, Some(Step::Redraw))
            );
            assert_eq!(s.message, [NOT_RESET]);
            assert!(!s.confirming_reset);
            // And the keys mean what they say again.
            assert_eq!(press(&mut s, key('n')).0, Action::Next);
        }

        // A quit still quits, question or not.
        let mut s = screen();
        press(&mut s, key('r'));
        assert_eq!(press(&mut s, key('q')), (Action::Quit, Some(Step::Quit)));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(press(&mut screen(), ctrl_c).1, Some(Step::Quit));
        assert_eq!(
            press(&mut screen(), key('c')).1,
            Some(Step::Check { fresh: true })
        );
    }

    #[test]
    fn the_screen_fits_its_width_and_colours_only_when_asked() {
        let mut s = screen();
        let long = "  ✘ size       12.4 MB: 11.2 MB of it is layer 2: RUN apt-get update && apt-get install -y gcc make libc6-dev   (goal: at most 2 MB)";
        s.report = vec![long.to_string(), "short".to_string()];
        for width in [80, 120] {
            let lines = screen_lines(&s, width, 40);
            assert!(
                lines.iter().all(|l| visible_width(l) <= width),
                "{lines:#?}"
            );
            assert!(lines.iter().all(|l| !l.contains('\x1b')));
            assert!(lines.last().unwrap().starts_with("h hint"));
        }
        s.colour = true;
        s.report = vec![Layout::new(80, true).paint_mark("  ✘ size  12.4 MB", "✘", Paint::Missed)];
        let lines = screen_lines(&s, 80, 40);
        assert!(lines[0].starts_with("\x1b[1mchecker watch"), "{lines:#?}");
        assert!(
            lines.contains(&s.report[0]),
            "a report line that fits is kept as it is"
        );
        assert!(lines.iter().all(|l| visible_width(l) <= 80));
    }
}
