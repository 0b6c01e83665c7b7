//! `checker watch`: re-checks an exercise whenever a file in its folder is saved. File-system
//! events where the platform delivers them; polling where it does not (network shares, some
//! container and VM mounts), on request or when the event watcher cannot start. In a
//! terminal it is an app with keys (`app`), coloured unless `NO_COLOR` asks for none;
//! without one (a pipe, CI, `TERM=dumb`, `serve`), it prints one report after another.

mod app;
mod changes;

use std::io::IsTerminal;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use tokio::sync::mpsc;

use notify::{Config, Event, PollWatcher, RecommendedWatcher, RecursiveMode, Watcher};

use crate::error::CheckerError;
use crate::report::Format;
use crate::workbook::exercise::Variant;
use crate::workbook::Workbook;

const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Editors save in bursts (temp file, rename, chmod) a few milliseconds long; the check
/// starts once the files have been quiet this long. Every millisecond of it is added to
/// the learner's wait for the verdict, and a burst that outlasts it costs only a second
/// check, of the finished file, right after the first.
const SETTLE: Duration = Duration::from_millis(20);

pub async fn watch(
    workbook: &Workbook,
    name: Option<&str>,
    poll: bool,
    fresh: bool,
) -> Result<ExitCode, CheckerError> {
    let first = match name {
        Some(n) => workbook.exercise(n)?.name,
        None => next_pending(workbook)?,
    };
    if in_a_terminal() {
        return app::run(workbook, first, poll, fresh).await;
    }
    plain(workbook, first, poll, fresh).await
}

/// Whether the app can take the terminal: stdin and stdout are one, and it can move the
/// cursor (not `TERM=dumb`). `NO_COLOR` is no reason to leave it: it takes the colour away,
/// nothing else (<https://no-color.org>).
fn in_a_terminal() -> bool {
    std::io::stdin().is_terminal()
        && std::io::stdout().is_terminal()
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

/// Watches and prints one report after another, for pipes, logs and `serve`.
pub async fn plain(
    workbook: &Workbook,
    first: String,
    poll: bool,
    fresh: bool,
) -> Result<ExitCode, CheckerError> {
    // Waiting for changes is itself a future, so Ctrl-C can drop the watch at any point.
    let (tx, mut rx) = mpsc::unbounded_channel::<notify::Result<Event>>();
    let dir = workbook.exercises_dir();
    let _watcher = start_watcher(&dir, tx, poll, &mut |line| eprintln!("{line}"))?;

    eprintln!(
        "watching {} (Ctrl-C to stop); checking {first}",
        dir.display()
    );
    let mut engine = None;
    recheck(workbook, &mut engine, &first, fresh).await;

    loop {
        let first = rx.recv().await.ok_or(CheckerError::WatcherStopped)?;
        let mut changed = exercise_of(&dir, first);
        // Drain the rest of the burst.
        while let Ok(Some(more)) = tokio::time::timeout(SETTLE, rx.recv()).await {
            changed = exercise_of(&dir, more).or(changed);
        }
        let Some(exercise) = changed else { continue };
        eprintln!("\n── change in {exercise}: checking ──");
        recheck(workbook, &mut engine, &exercise, fresh).await;
    }
}

/// Checks `exercise` on the engine of the checks before, connecting when there is none yet
/// (or it could not be reached then): a connection costs round trips on every save.
async fn recheck(
    workbook: &Workbook,
    engine: &mut Option<crate::docker::engine::Engine>,
    exercise: &str,
    fresh: bool,
) {
    let connected = match engine.take() {
        Some(engine) => Ok(engine),
        None => super::check::connect(workbook).await,
    };
    let outcome = super::check::check_on(
        workbook,
        connected
            .as_ref()
            .map(|e| e as &dyn crate::docker::api::EngineApi),
        &[exercise.to_string()],
        Variant::Learner,
        Format::Text,
        fresh,
    )
    .await;
    *engine = connected.ok();
    // In watch mode a failed check is something to fix and save again, not a reason to stop.
    if let Err(e) = outcome {
        eprintln!("error: {e}");
    }
}

fn start_watcher(
    dir: &Path,
    tx: mpsc::UnboundedSender<notify::Result<Event>>,
    poll: bool,
    say: &mut dyn FnMut(String),
) -> Result<Box<dyn Watcher + Send>, CheckerError> {
    let send = move |event| {
        // The receiver is gone only when the watch itself is.
        let _ = tx.send(event);
    };
    let fail = |e: notify::Error| CheckerError::Io {
        path: dir.to_path_buf(),
        message: format!("cannot watch: {e}"),
        source: Some(Box::new(e)),
    };
    if !poll {
        let native = RecommendedWatcher::new(send.clone(), Config::default())
            .and_then(|mut w| w.watch(dir, RecursiveMode::Recursive).map(|_| w));
        match native {
            Ok(w) => return Ok(Box::new(w)),
            Err(e) => say(format!(
                "file-system events are unavailable ({e}); polling every {} s instead",
                POLL_INTERVAL.as_secs()
            )),
        }
    }
    let mut poller = PollWatcher::new(
        send,
        Config::default()
            .with_poll_interval(POLL_INTERVAL)
            .with_compare_contents(true),
    )
    .map_err(fail)?;
    poller.watch(dir, RecursiveMode::Recursive).map_err(fail)?;
    Ok(Box::new(poller))
}

/// The exercise a changed path belongs to; backups and the progress file are not changes
/// worth a re-check.
fn exercise_of(dir: &Path, event: notify::Result<Event>) -> Option<String> {
    let event = event.ok()?;
    if event.kind.is_access() {
        return None;
    }
    event.paths.iter().find_map(|p: &PathBuf| {
        let rel = p.strip_prefix(dir).ok()?;
        let file_name = rel.file_name()?.to_string_lossy();
        if file_name.starts_with("Dockerfile.backup-")
            || file_name.ends_with('~')
            || file_name.starts_with(".#")
        {
            return None;
        }
        let first = rel
            .components()
            .next()?
            .as_os_str()
            .to_string_lossy()
            .into_owned();
        (rel.components().count() > 1).then_some(first)
    })
}

fn next_pending(workbook: &Workbook) -> Result<String, CheckerError> {
    workbook.next_exercise()?.ok_or(CheckerError::NoExercises)
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, EventKind, ModifyKind};

    fn event(kind: EventKind, path: &str) -> notify::Result<Event> {
        Ok(Event::new(kind).add_path(PathBuf::from(path)))
    }

    #[test]
    fn changes_map_to_their_exercise() {
        let dir = Path::new("/w/exercises");
        let modify = EventKind::Modify(ModifyKind::Any);
        assert_eq!(
            exercise_of(dir, event(modify, "/w/exercises/01-x/Dockerfile")),
            Some("01-x".into())
        );
        assert_eq!(
            exercise_of(dir, event(modify, "/w/exercises/02-y/src/main.go")),
            Some("02-y".into())
        );
        assert_eq!(
            exercise_of(
                dir,
                event(
                    EventKind::Create(CreateKind::File),
                    "/w/exercises/01-x/Dockerfile.backup-1"
                )
            ),
            None
        );
        assert_eq!(
            exercise_of(dir, event(modify, "/w/exercises/README.md")),
            None
        );
        assert_eq!(exercise_of(dir, event(modify, "/elsewhere/x")), None);
    }
}
