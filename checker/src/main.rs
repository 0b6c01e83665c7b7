//! `checker`: builds each exercise's Dockerfile on a real Docker engine, measures the image
//! and judges it against the exercise's goals. This binary parses the command line (`cli`)
//! and hands each subcommand to the library (`checker::commands`, `checker::dev`).
//!
//! Exit codes: 0 every goal met (or the command succeeded), 1 a goal was missed, 2 the
//! checker could not check (no engine, a file that does not parse, a bad exercise).

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
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// The commands that need no workbook run first; every other one runs in the workbook found
/// from `--root` (or the current folder) upwards.
async fn run(cli: Cli) -> Outcome {
    let start = match &cli.root {
        Some(r) => r.clone(),
        None if matches!(cli.command, Command::Graph { .. } | Command::Mdbook { .. }) => {
            Default::default()
        }
        None => std::env::current_dir().map_err(|e| CheckerError::io(".", e))?,
    };
    match cli.command {
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

async fn in_workbook(command: Command, workbook: &Workbook) -> Outcome {
    match command {
        Command::List => commands::list::list(workbook),
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
        Command::Verify { names, format } => dev::verify::verify(workbook, &names, format).await,
        Command::Hint { name, all } => commands::hint::hint(workbook, &name, all),
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
        Command::Measure { write, compare } => {
            dev::measure::measure(workbook, write, compare).await
        }
        Command::Doctest => dev::doctest::doctest(workbook).await,
        Command::Serve {
            book,
            listen,
            no_watch,
            poll,
        } => commands::serve::serve_command(workbook, book, listen, no_watch, poll).await,
        Command::Pulls {
            registry,
            target_host,
            target_registry,
            write,
        } => {
            let target_registry = target_registry.unwrap_or_else(|| registry.clone());
            dev::pulls::pulls(workbook, &registry, &target_registry, &target_host, write).await
        }
        Command::Report { output, name } => commands::report::report(workbook, output, name),
        Command::Grade {
            dir,
            names,
            jobs,
            timeout,
            keep_images,
            out,
        } => {
            let options = GradeOptions {
                jobs,
                timeout: std::time::Duration::from_secs(timeout),
                keep_images,
                only: names,
            };
            commands::grade::grade_class(workbook, &dir, &options, &out).await
        }
        Command::Graph { .. } | Command::Mdbook { .. } | Command::Doctor { .. } => {
            unreachable!("handled without a workbook")
        }
    }
}
