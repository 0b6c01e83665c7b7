//! `checker`: builds each exercise's Dockerfile on a real Docker engine, measures the image
//! and judges it against the exercise's goals. This binary parses the command line (`cli`)
//! and hands each subcommand to the library (`checker::commands`, `checker::dev`).
//!
//! Exit codes: 0 every goal met (or the command succeeded), 1 a goal was missed, 2 the
//! checker could not check (no engine, a file that does not parse, a bad exercise), 130
//! interrupted by Ctrl-C (143 by SIGTERM), after removing what the run made.

mod cli;

use std::process::ExitCode;

use clap::Parser;

use checker::commands::{self, grade::GradeOptions, Outcome};
use checker::dev;
use checker::error::CheckerError;
use checker::workbook::exercise::Variant;
use checker::workbook::Workbook;
use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    checker::ui::set_verbosity(match (cli.quiet, cli.verbose) {
        (true, _) => checker::ui::Verbosity::Quiet,
        (_, true) => checker::ui::Verbosity::Verbose,
        _ => checker::ui::Verbosity::Normal,
    });
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let code = runtime.block_on(run_until_interrupted(cli));
    // A Dockerfile parse that a grading timeout gave up on may still be running on the
    // blocking pool: the answer is out, nothing waits for it.
    runtime.shutdown_background();
    code
}

/// Runs the command; on SIGINT (Ctrl-C) or SIGTERM drops it wherever it is, removes what the
/// run made on the engine (containers, unfinished builds), restores the terminal and exits
/// 128 + the signal's number, as a shell expects (130 for Ctrl-C).
async fn run_until_interrupted(cli: Cli) -> ExitCode {
    let mut command = Box::pin(run(cli));
    let signal = tokio::select! {
        outcome = &mut command => {
            // Checks a grading timeout dropped are being undone: wait for it.
            checker::docker::ledger::wait_for_undoing().await;
            return match outcome {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::from(2)
                }
            };
        }
        signal = interrupted() => signal,
    };
    drop(command);
    checker::ui::restore_terminal();
    eprintln!("\ninterrupted: removing the containers and images this run made (Ctrl-C again to leave them)");
    tokio::select! {
        undone = tokio::time::timeout(UNDO_LIMIT, checker::docker::ledger::undo_everything()) => {
            if undone.is_err() {
                eprintln!("warning: the engine did not finish the clean-up within {} s; `checker clean` removes what is left", UNDO_LIMIT.as_secs());
            }
        }
        _ = interrupted() => eprintln!("warning: clean-up cut short; `checker clean` removes what is left"),
    }
    ExitCode::from(128 + signal)
}

/// How long an interrupted run waits for the engine to remove what it made.
const UNDO_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Waits for SIGINT or SIGTERM; the signal's number.
#[cfg(unix)]
async fn interrupted() -> u8 {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut int), Ok(mut term)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        // No handler could be installed: the default (ending the process) stays.
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => 2,
        _ = term.recv() => 15,
    }
}

#[cfg(not(unix))]
async fn interrupted() -> u8 {
    match tokio::signal::ctrl_c().await {
        Ok(()) => 2,
        Err(_) => std::future::pending().await,
    }
}

/// The commands that need no workbook run first; every other one runs in the workbook found
/// from `--root` (or the current folder) upwards. No command is `watch` on the next
/// exercise, as rustlings starts.
async fn run(cli: Cli) -> Outcome {
    let command = cli.command.unwrap_or(Command::Watch {
        name: None,
        poll: false,
        fresh: false,
    });
    let start = match &cli.root {
        Some(r) => r.clone(),
        None if matches!(
            command,
            Command::Graph { .. }
                | Command::Mdbook { .. }
                | Command::Completions { .. }
                | Command::Man { .. }
        ) =>
        {
            Default::default()
        }
        None => std::env::current_dir().map_err(|e| CheckerError::io(".", e))?,
    };
    match command {
        Command::Completions { shell } => {
            cli::completions(shell, &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { output } => {
            let dir = output.as_deref();
            let at = dir.map_or("stdout".into(), |d| d.display().to_string());
            cli::man(dir, &mut std::io::stdout()).map_err(|e| CheckerError::io(at, e))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Graph {
            file,
            format,
            build_args,
            target,
        } => commands::graph::graph(&file, format, &build_args, target.as_deref()),
        Command::Mdbook { args } => dev::mdbook::run_preprocessor(&args).map(|_| ExitCode::SUCCESS),
        Command::Doctor { format } => commands::doctor::doctor(&start, format).await,
        command => in_workbook(command, &Workbook::discover(&start)?).await,
    }
}

/// The learner's and the instructor's commands, and the authors' (`authors_command`).
async fn in_workbook(command: Command, workbook: &Workbook) -> Outcome {
    match command {
        Command::List { format } => commands::list::list(workbook, format),
        Command::Check {
            names,
            solution,
            format,
            fresh,
        } => {
            let variant = if solution {
                Variant::Solution
            } else {
                Variant::Learner
            };
            commands::check::check(workbook, &names, variant, format, fresh).await
        }
        command @ (Command::Verify { .. }
        | Command::Measure { .. }
        | Command::Doctest
        | Command::Pulls { .. }) => authors_command(command, workbook).await,
        Command::Hint { name, all } => commands::hint::hint(workbook, name.as_deref(), all),
        Command::Reset { name } => commands::reset::reset_command(workbook, &name),
        Command::Watch { name, poll, fresh } => {
            commands::watch::watch(workbook, name.as_deref(), poll, fresh).await
        }
        Command::Images {
            action: Some(action),
            ..
        } => commands::images::images_action(workbook, action).await,
        Command::Images {
            action: None,
            offline,
            list,
            from,
        } => commands::images::images_command(workbook, offline, list, from).await,
        Command::Clean { all, dry_run } => {
            let scope = (!all).then(|| workbook.scope());
            commands::clean::clean(scope.as_deref(), dry_run).await
        }
        Command::Serve {
            book,
            listen,
            no_watch,
            poll,
        } => commands::serve::serve_command(workbook, book, listen, no_watch, poll).await,
        Command::Report { output, name } => commands::report::report(workbook, output, name),
        Command::Grade {
            dir,
            names,
            jobs,
            timeout,
            keep_images,
            output,
        } => {
            let options = GradeOptions {
                jobs,
                timeout: std::time::Duration::from_secs(timeout),
                keep_images,
                only: names,
            };
            commands::grade::grade_class(workbook, &dir, &options, &output).await
        }
        Command::Graph { .. }
        | Command::Mdbook { .. }
        | Command::Doctor { .. }
        | Command::Completions { .. }
        | Command::Man { .. } => unreachable!("handled without a workbook"),
    }
}

/// The authors' commands (`checker::dev`): the workbook's self-check and the numbers and
/// snippets of the book.
async fn authors_command(command: Command, workbook: &Workbook) -> Outcome {
    match command {
        Command::Verify {
            names,
            format,
            fresh,
            jobs,
        } => dev::verify::verify(workbook, &names, format, fresh, jobs.into()).await,
        Command::Measure { output, compare } => {
            dev::measure::measure(workbook, output, compare).await
        }
        Command::Doctest => dev::doctest::doctest(workbook).await,
        Command::Pulls {
            registry,
            target_host,
            target_registry,
            output,
        } => {
            let target_registry = target_registry.unwrap_or_else(|| registry.clone());
            dev::pulls::pulls(workbook, &registry, &target_registry, &target_host, output).await
        }
        _ => unreachable!("handed to authors_command only: verify, measure, doctest, pulls"),
    }
}
