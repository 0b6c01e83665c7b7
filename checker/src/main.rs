//! `checker`: builds each exercise's Dockerfile on a real Docker engine, measures the image
//! and judges it against the exercise's goals.
//!
//! Exit codes: 0 every goal met (or the command succeeded), 1 a goal was missed, 2 the
//! checker could not check (no engine, a file that does not parse, a bad exercise).

mod book;
mod context;
mod dockerfile;
mod dockerignore;
mod doctor;
mod endpoint;
mod engine;
mod engine_info;
mod error;
mod exercise;
mod grade;
mod images;
mod measurements;
mod oci;
mod pipeline;
mod probes;
mod progress;
mod report;
mod reset;
mod serve;
mod session;
mod ui;
mod user;
mod verdicts;
mod waste;
mod watch;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::engine::Engine;
use crate::error::CheckerError;
use crate::exercise::{Exercise, Variant, Workbook};
use crate::progress::ProgressFile;
use crate::report::{exporter, Format, RunInfo};
use crate::ui::TerminalProgress;

#[derive(Parser)]
#[command(
    name = "checker",
    version,
    about = "Build, measure and judge the multi-stage workbook's Dockerfile exercises"
)]
struct Cli {
    /// The workbook folder (the one holding `exercises/`); found from the current folder upwards by default.
    #[arg(long, global = true)]
    root: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the exercises in order, with done/pending.
    List,
    /// Build and judge exercises (default: the next pending one).
    Check {
        names: Vec<String>,
        /// Check the reference solution instead of your Dockerfile.
        #[arg(long)]
        solution: bool,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Authors' self-check: every starter misses exactly its lesson, every solution meets all goals.
    Verify {
        names: Vec<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Show the next hint for an exercise (`--all` for every hint).
    Hint {
        name: String,
        #[arg(long)]
        all: bool,
    },
    /// Restore the starter Dockerfile; yours is kept as a backup beside it.
    Reset { name: String },
    /// Re-check on every save.
    Watch {
        name: Option<String>,
        /// Poll the files instead of waiting for file-system events (for file systems where events don't arrive).
        #[arg(long)]
        poll: bool,
    },
    /// Make sure every base image the exercises use exists on the engine.
    Images {
        #[command(subcommand)]
        action: Option<ImagesAction>,
        /// Pull them from a classroom registry (e.g. 192.168.1.10:5000) and tag them under the usual names.
        #[arg(long, conflicts_with = "offline")]
        from: Option<String>,
        /// Pull nothing: build debian:bookworm and debian:bookworm-slim locally with debuerreotype (Linux, root).
        #[arg(long)]
        offline: bool,
        /// Only list the images the exercises need.
        #[arg(long)]
        list: bool,
    },
    /// Print a Dockerfile's stage graph.
    Graph {
        file: PathBuf,
        #[arg(long, value_enum, default_value = "mermaid")]
        format: GraphFormat,
        /// Build arguments (NAME=VALUE) used to expand ARGs in FROM.
        #[arg(long = "build-arg")]
        build_args: Vec<String>,
        /// The stage to treat as final.
        #[arg(long)]
        target: Option<String>,
    },
    /// Remove every image and container the checker made.
    Clean,
    /// Build every exercise's starter and solution and record the numbers the book prints.
    Measure {
        /// Write them here (the book reads src/measurements.json); without it, print them.
        #[arg(long)]
        write: Option<PathBuf>,
        /// Compare with this committed file instead: exit 1 if any number drifted more than 10 %.
        #[arg(long, conflicts_with = "write")]
        compare: Option<PathBuf>,
    },
    /// Grade a class: DIR holds one folder per learner, each a copy of exercises/.
    Grade {
        dir: PathBuf,
        /// Only these exercises (default: all).
        names: Vec<String>,
        /// Submissions built and judged at once.
        #[arg(long, default_value_t = 1)]
        jobs: usize,
        /// Seconds one submission may take, build and checks together.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
        /// Keep the images (by default each is removed once judged).
        #[arg(long)]
        keep_images: bool,
        /// Where the scoreboard (Markdown, CSV) and grades.json go.
        #[arg(long, default_value = "grades")]
        out: PathBuf,
    },
    /// Your whole progress as one JSON file to hand in (schema: docs/json-schema.md).
    Report {
        /// Write it here instead of printing it.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Your name, as the instructor should see it (default: $USER).
        #[arg(long)]
        name: Option<String>,
    },
    /// Time pulling every exercise's starter and solution image from a registry into an empty engine.
    Pulls {
        /// The registry to go through, e.g. localhost:5000.
        #[arg(long)]
        registry: String,
        /// The engine to pull into (it must hold no images), e.g. tcp://127.0.0.1:2376.
        #[arg(long)]
        target_host: String,
        /// The registry's address as the target engine reaches it (default: --registry).
        #[arg(long)]
        target_registry: Option<String>,
        /// Add the times to this measurements file.
        #[arg(long)]
        write: Option<PathBuf>,
    },
    /// Serve the built book on localhost with your live results: exercise pages show a badge
    /// with the goals met, updated as the checker re-checks on every save.
    Serve {
        /// The built book (mdbook build).
        #[arg(long, default_value = "book")]
        book: PathBuf,
        #[arg(long, default_value = "127.0.0.1:3000")]
        listen: std::net::SocketAddr,
        /// Only serve; do not re-check on save.
        #[arg(long)]
        no_watch: bool,
        /// Poll for changes instead of waiting for file-system events.
        #[arg(long)]
        poll: bool,
    },
    /// Build every Dockerfile snippet of the book marked `build=DIR`; list the illustrations.
    Doctest,
    /// Whether a check can run here: the engine (version, API, image store, BuildKit), the
    /// endpoint and how it was chosen, base images, free disk, the book's tools; each problem
    /// with the command that fixes it. Exit 0 when a check can run, 2 otherwise.
    Doctor {
        #[arg(long, value_enum, default_value = "text")]
        format: DoctorFormat,
    },
    /// The mdBook preprocessor (run by `mdbook build`, named in book.toml).
    #[command(hide = true)]
    Mdbook {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

#[derive(Subcommand)]
enum ImagesAction {
    /// Write every base image the exercises need into one archive.
    Save { file: PathBuf },
    /// Load such an archive on a laptop with no registry access.
    Load { file: PathBuf },
    /// Push every base image into a classroom registry (e.g. localhost:5000).
    Push { registry: String },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum DoctorFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum GraphFormat {
    Mermaid,
    Json,
}

/// A command's result: an exit code, or an error that means "could not check" (2).
type Outcome = Result<ExitCode, CheckerError>;

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

async fn run(cli: Cli) -> Outcome {
    if let Command::Graph {
        file,
        format,
        build_args,
        target,
    } = &cli.command
    {
        return graph(file, *format, build_args, target.as_deref());
    }
    if let Command::Mdbook { args } = &cli.command {
        book::run_preprocessor(args)?;
        return Ok(ExitCode::SUCCESS);
    }
    let start = match &cli.root {
        Some(r) => r.clone(),
        None => std::env::current_dir().map_err(|e| CheckerError::io(".", e))?,
    };
    if let Command::Doctor { format } = &cli.command {
        // The doctor looks at the engine even when no workbook is found.
        let diagnosis = doctor::diagnose(
            Workbook::discover(&start),
            &endpoint::Environment::from_process(),
        )
        .await;
        match format {
            DoctorFormat::Text => print!("{}", diagnosis.to_text()),
            DoctorFormat::Json => print!("{}", diagnosis.to_json()),
        }
        return Ok(ExitCode::from(diagnosis.exit_code()));
    }
    let workbook = Workbook::discover(&start)?;
    match cli.command {
        Command::List => list(&workbook),
        Command::Check {
            names,
            solution,
            format,
        } => {
            let variant = if solution {
                Variant::Solution
            } else {
                Variant::Learner
            };
            check(&workbook, &names, variant, format).await
        }
        Command::Verify { names, format } => verify(&workbook, &names, format).await,
        Command::Hint { name, all } => hint(&workbook, &name, all),
        Command::Reset { name } => reset(&workbook, &name),
        Command::Watch { name, poll } => watch::watch(&workbook, name.as_deref(), poll).await,
        Command::Images {
            action: Some(action),
            ..
        } => images_action(&workbook, action).await,
        Command::Images {
            action: None,
            offline,
            list,
            from,
        } => images(&workbook, offline, list, from).await,
        Command::Clean => clean().await,
        Command::Measure { write, compare } => measure(&workbook, write, compare).await,
        Command::Doctest => doctest(&workbook).await,
        Command::Serve {
            book,
            listen,
            no_watch,
            poll,
        } => {
            let book = if book.is_absolute() {
                book
            } else {
                workbook.root.join(book)
            };
            let server = tokio::spawn(serve::serve(workbook.clone(), book, listen));
            if no_watch {
                server
                    .await
                    .map_err(|e| CheckerError::Other(e.to_string()))??;
                return Ok(ExitCode::SUCCESS);
            }
            tokio::select! {
                served = server => served.map_err(|e| CheckerError::Other(e.to_string()))?.map(|_| ExitCode::SUCCESS),
                watched = watch::watch(&workbook, None, poll) => watched,
            }
        }
        Command::Pulls {
            registry,
            target_host,
            target_registry,
            write,
        } => {
            let target_registry = target_registry.unwrap_or_else(|| registry.clone());
            pulls(&workbook, &registry, &target_registry, &target_host, write).await
        }
        Command::Report { output, name } => report(&workbook, output, name),
        Command::Grade {
            dir,
            names,
            jobs,
            timeout,
            keep_images,
            out,
        } => {
            let options = grade::GradeOptions {
                jobs,
                timeout: std::time::Duration::from_secs(timeout),
                keep_images,
                only: names,
            };
            grade_class(&workbook, &dir, &options, &out).await
        }
        Command::Graph { .. } | Command::Mdbook { .. } | Command::Doctor { .. } => {
            unreachable!("handled above")
        }
    }
}

fn list(workbook: &Workbook) -> Outcome {
    let progress = ProgressFile::load(&workbook.root)?;
    let mut next_marked = false;
    let mut broken = Vec::new();
    for exercise in workbook.each_exercise()? {
        let exercise = match exercise {
            Ok(e) => e,
            Err(e) => {
                // One broken exercise.toml is named, and the others are still listed.
                if let CheckerError::InvalidExercise { file, .. } = &e {
                    let name = file.parent().and_then(|d| d.file_name());
                    let name = name.map(|n| n.to_string_lossy()).unwrap_or_default();
                    println!("broken   {name:<24} (its exercise.toml does not load; see below)");
                }
                broken.push(e);
                continue;
            }
        };
        let done = progress.is_done(&exercise.name);
        let marker = if done {
            "done   "
        } else if !next_marked {
            next_marked = true;
            "next → "
        } else {
            "pending"
        };
        let p = progress.progress.exercises.get(&exercise.name);
        let goals = p
            .filter(|p| p.goals_total > 0)
            .map(|p| format!("  ({}/{} goals)", p.goals_met, p.goals_total))
            .unwrap_or_default();
        println!(
            "{marker}  {:<24} {}{goals}",
            exercise.name,
            exercise.title()
        );
    }
    for e in &broken {
        eprintln!("error: {e}");
    }
    Ok(if broken.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}

/// The named exercises, or the next pending one. Only the exercises chosen are loaded, so
/// a broken exercise.toml elsewhere in the workbook is no obstacle.
fn select(workbook: &Workbook, names: &[String]) -> Result<Vec<Exercise>, CheckerError> {
    if !names.is_empty() {
        return names.iter().map(|n| workbook.exercise(n)).collect();
    }
    let progress = ProgressFile::load(&workbook.root)?;
    let all = workbook.exercise_names()?;
    let next = all.iter().find(|n| !progress.is_done(n)).or(all.last());
    next.map(|n| workbook.exercise(n)).into_iter().collect()
}

async fn run_info(engine: &Engine) -> RunInfo {
    RunInfo {
        checker_version: env!("CARGO_PKG_VERSION"),
        engine: engine.describe().await,
        engine_info: engine.info().await.ok().cloned(),
    }
}

pub(crate) async fn check(
    workbook: &Workbook,
    names: &[String],
    variant: Variant,
    format: Format,
) -> Outcome {
    if variant == Variant::Learner {
        // Before building: a damaged progress file would otherwise cost the result.
        if let (_, Some(aside)) = ProgressFile::load_or_set_aside(&workbook.root)? {
            eprintln!("warning: {aside}");
        }
    }
    let exercises = select(workbook, names)?;
    let engine = Engine::connect().await?.with_size_cache(&workbook.root);
    let mut results = Vec::new();
    for exercise in &exercises {
        let mut progress =
            TerminalProgress::new(&format!("{} ({})", exercise.name, variant.as_str()));
        let result = pipeline::check(&engine, exercise, variant, &mut progress).await?;
        drop(progress);
        if variant == Variant::Learner {
            let (mut file, aside) = ProgressFile::load_or_set_aside(&workbook.root)?;
            if let Some(aside) = aside {
                eprintln!("warning: {aside}");
            }
            file.record(&result);
            file.record_engine(&result.exercise, engine.info().await.ok());
            file.save()?;
        }
        results.push(result);
    }
    print!(
        "{}",
        exporter(format).check(&run_info(&engine).await, &results)
    );
    Ok(if results.iter().all(|r| r.all_met()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

async fn verify(workbook: &Workbook, names: &[String], format: Format) -> Outcome {
    let exercises = if names.is_empty() {
        workbook.exercises()?
    } else {
        select(workbook, names)?
    };
    let engine = Engine::connect().await?.with_size_cache(&workbook.root);
    let mut results = Vec::new();
    for exercise in &exercises {
        let mut progress = TerminalProgress::new(&exercise.name);
        results.push(pipeline::verify(&engine, exercise, &mut progress).await?);
    }
    print!(
        "{}",
        exporter(format).verify(&run_info(&engine).await, &results)
    );
    Ok(if results.iter().all(|r| r.ok()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn hint(workbook: &Workbook, name: &str, all: bool) -> Outcome {
    let exercise = workbook.exercise(name)?;
    let hints = &exercise.file.exercise.hints;
    if hints.is_empty() {
        println!(
            "{} has no hints; its README.md says what to aim for.",
            exercise.name
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut file = ProgressFile::load(&workbook.root)?;
    let shown = file.entry(&exercise.name).hints_shown;
    let upto = if all {
        hints.len()
    } else {
        (shown + 1).min(hints.len())
    };
    for (i, h) in hints
        .iter()
        .enumerate()
        .take(upto)
        .skip(if all { 0 } else { upto - 1 })
    {
        println!("Hint {} of {}: {h}", i + 1, hints.len());
    }
    if upto < hints.len() {
        println!("(run it again for a stronger hint)");
    }
    file.entry(&exercise.name).hints_shown = shown.max(upto);
    file.save()?;
    Ok(ExitCode::SUCCESS)
}

fn reset(workbook: &Workbook, name: &str) -> Outcome {
    let exercise = workbook.exercise(name)?;
    let learner = exercise.dockerfile_path(Variant::Learner);
    let starter = exercise.dockerfile_path(Variant::Starter);
    match reset::reset(&learner, &starter)? {
        reset::Reset::AlreadyStarter => {
            println!(
                "{} is already the starter; nothing to reset.",
                learner.display()
            );
            return Ok(ExitCode::SUCCESS);
        }
        reset::Reset::Restored { backup } => {
            if let Some(backup) = backup {
                println!("Your Dockerfile is kept as {}", backup.display());
            }
        }
    }
    let mut file = ProgressFile::load(&workbook.root)?;
    file.entry(&exercise.name).hints_shown = 0;
    file.save()?;
    println!("{} is the starter again.", learner.display());
    Ok(ExitCode::SUCCESS)
}

async fn images_action(workbook: &Workbook, action: ImagesAction) -> Outcome {
    let engine = Engine::connect().await?;
    match action {
        ImagesAction::Save { file } => {
            let saved = images::save(&engine, workbook, &file).await?;
            let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            println!(
                "saved {} into {} ({})",
                saved.join(", "),
                file.display(),
                measurements::format_mb(size)
            );
        }
        ImagesAction::Load { file } => {
            for line in engine.load_images(&file).await? {
                println!("{line}");
            }
        }
        ImagesAction::Push { registry } => {
            for target in images::push(&engine, workbook, &registry).await? {
                println!("✔ pushed {target}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn images(
    workbook: &Workbook,
    offline: bool,
    list_only: bool,
    from: Option<String>,
) -> Outcome {
    if list_only {
        for (image, (file, line)) in images::needed_images(workbook)? {
            println!("{image}  (first used at {}:{line})", file.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let engine = Engine::connect().await?;
    let report = match &from {
        Some(registry) => images::pull_from(&engine, workbook, registry).await?,
        None => images::ensure(&engine, workbook, offline).await?,
    };
    for image in &report.present {
        println!("✔ {image} (already there)");
    }
    for image in &report.made {
        println!(
            "✔ {image} ({})",
            if offline { "built locally" } else { "pulled" }
        );
    }
    for (image, why) in &report.missing {
        println!("✘ {image}: {why}");
    }
    if report.missing.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    if !offline {
        eprintln!("Some images could not be pulled. Without a registry, `checker images --offline` builds the Debian bases locally.");
    }
    Ok(ExitCode::from(2))
}

fn graph(
    file: &std::path::Path,
    format: GraphFormat,
    build_args: &[String],
    target: Option<&str>,
) -> Outcome {
    let text = dockerfile::read_dockerfile(file)?;
    let mut args = BTreeMap::new();
    for a in build_args {
        let (k, v) = a
            .split_once('=')
            .ok_or_else(|| CheckerError::Other(format!("--build-arg `{a}` is not NAME=VALUE")))?;
        args.insert(k.to_string(), v.to_string());
    }
    let graph = dockerfile::parse_stage_graph(file, &text, &args, target)?;
    match format {
        GraphFormat::Mermaid => print!("{}", graph.to_mermaid()),
        GraphFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&graph).expect("graph serializes")
        ),
    }
    Ok(ExitCode::SUCCESS)
}

async fn clean() -> Outcome {
    let engine = Engine::connect().await?;
    let (containers, images) = engine.owned().await?;
    for id in &containers {
        engine.remove_container(id).await;
        println!("removed container {id}");
    }
    for image in &images {
        engine.remove_image(image).await?;
        println!("removed image {image}");
    }
    engine.prune_dangling().await?;
    Ok(ExitCode::SUCCESS)
}

async fn measure(workbook: &Workbook, write: Option<PathBuf>, compare: Option<PathBuf>) -> Outcome {
    let engine = Engine::connect().await?.with_size_cache(&workbook.root);
    let mut fresh = book::measure_all(&engine, workbook).await?;
    // Pull times come from `checker pulls`, which needs a second engine, and the classroom
    // figures from `bench/classroom.sh`, which grades a synthetic class: keep both.
    if let Some(old) = write
        .as_ref()
        .and_then(|p| book::MeasuredResults::load(p).ok())
    {
        fresh.classroom = old.classroom;
        for (name, e) in fresh.exercises.iter_mut() {
            if let Some(o) = old.exercises.get(name) {
                e.starter.pull_seconds = o.starter.pull_seconds;
                e.solution.pull_seconds = o.solution.pull_seconds;
            }
        }
    }
    let text = serde_json::to_string_pretty(&fresh).expect("measurements serialize") + "\n";
    if let Some(committed) = compare {
        let old = book::MeasuredResults::load(&committed)?;
        let drift = old.drift(&fresh, 0.10);
        for d in &drift {
            println!("drifted: {d}");
        }
        if drift.is_empty() {
            println!("every committed number is within 10 % of a fresh measurement");
            return Ok(ExitCode::SUCCESS);
        }
        println!(
            "regenerate with `checker measure --write {}`",
            book::MEASUREMENTS_FILE
        );
        return Ok(ExitCode::from(1));
    }
    match write {
        Some(path) => {
            std::fs::write(&path, text).map_err(|e| CheckerError::io(&path, e))?;
            println!("wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

async fn doctest(workbook: &Workbook) -> Outcome {
    let engine = Engine::connect().await?.with_size_cache(&workbook.root);
    let results = book::doctest(&engine, workbook).await?;
    let (mut built, mut failed, mut listed, mut unmarked) = (0, 0, 0, 0);
    for (snippet, outcome) in &results {
        let at = format!("{}:{}", snippet.file.display(), snippet.line);
        match outcome {
            book::SnippetOutcome::Built { seconds } => {
                built += 1;
                println!("✔ {at}  built ({seconds:.1} s)");
            }
            book::SnippetOutcome::Failed { message } => {
                failed += 1;
                println!("✘ {at}  {message}");
            }
            book::SnippetOutcome::Listed => {
                listed += 1;
                println!("· {at}  illustration, not built");
            }
            book::SnippetOutcome::Unmarked => {
                unmarked += 1;
                println!("✘ {at}  unmarked: write ```dockerfile build=<folder> or ```dockerfile illustration");
            }
        }
    }
    println!("\n{built} built, {failed} failed, {listed} illustrations, {unmarked} unmarked");
    Ok(if failed + unmarked == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn report(workbook: &Workbook, output: Option<PathBuf>, name: Option<String>) -> Outcome {
    let progress = ProgressFile::load(&workbook.root)?;
    let learner = name
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_default();
    let exercises: Vec<serde_json::Value> = workbook
        .exercises()?
        .iter()
        .map(|e| {
            let p = progress
                .progress
                .exercises
                .get(&e.name)
                .cloned()
                .unwrap_or_default();
            serde_json::json!({
                "exercise": e.name,
                "title": e.title(),
                "done": p.done,
                "met_at": p.met_at,
                "last_checked": p.last_checked,
                "goals_met": p.goals_met,
                "goals_total": if p.goals_total > 0 { p.goals_total } else { e.file.goals.len() },
                "hints_shown": p.hints_shown,
                "last_result": p.last_result,
                "engine": p.engine,
                "engine_info": p.engine_info,
            })
        })
        .collect();
    let done = exercises.iter().filter(|e| e["done"] == true).count();
    let doc = serde_json::json!({
        "schema": "workbook-checker/report/v1",
        "learner": learner,
        "generated_at": chrono::Utc::now(),
        "checker_version": env!("CARGO_PKG_VERSION"),
        "exercises_done": done,
        "exercises_total": exercises.len(),
        "exercises": exercises,
    });
    let text = serde_json::to_string_pretty(&doc).expect("report serializes") + "\n";
    match output {
        Some(path) => {
            std::fs::write(&path, text).map_err(|e| CheckerError::io(&path, e))?;
            println!(
                "wrote {} ({done} of {} exercises done)",
                path.display(),
                doc["exercises_total"]
            );
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

async fn grade_class(
    workbook: &Workbook,
    dir: &std::path::Path,
    options: &grade::GradeOptions,
    out: &std::path::Path,
) -> Outcome {
    let engine = std::sync::Arc::new(Engine::connect().await?.with_size_cache(&workbook.root));
    let started = std::time::Instant::now();
    let grades = grade::grade(engine.clone(), workbook, dir, options).await?;
    let seconds = started.elapsed().as_secs_f64();
    std::fs::create_dir_all(out).map_err(|e| CheckerError::io(out, e))?;
    let doc = serde_json::json!({
        "schema": "workbook-checker/grades/v1",
        "graded_at": chrono::Utc::now(),
        "engine": engine.describe().await,
        "engine_info": engine.info().await.ok(),
        "jobs": options.jobs,
        "seconds": seconds,
        "grades": grades,
    });
    let files = [
        ("scoreboard.md", grade::scoreboard_markdown(&grades)),
        ("scoreboard.csv", grade::scoreboard_csv(&grades)),
        (
            "grades.json",
            serde_json::to_string_pretty(&doc).expect("grades serialize") + "\n",
        ),
    ];
    for (name, text) in files {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|e| CheckerError::io(&path, e))?;
    }
    print!("{}", grade::scoreboard_markdown(&grades));
    let passed = grades.iter().filter(|g| g.status == "passed").count();
    println!("\n{} submissions graded in {seconds:.1} s with --jobs {}: {passed} passed; scoreboard in {}", grades.len(), options.jobs, out.display());
    Ok(ExitCode::SUCCESS)
}

async fn pulls(
    workbook: &Workbook,
    registry: &str,
    target_registry: &str,
    target_host: &str,
    write: Option<PathBuf>,
) -> Outcome {
    let source = Engine::connect().await?;
    let target = Engine::connect_to(target_host).await?;
    let times = book::measure_pulls(&source, &target, workbook, registry, target_registry).await?;
    for (name, (starter, solution)) in &times {
        println!("{name}: starter {starter:.2} s, solution {solution:.2} s");
    }
    if let Some(path) = write {
        let mut numbers = book::MeasuredResults::load(&path)?;
        for (name, (starter, solution)) in times {
            if let Some(e) = numbers.exercises.get_mut(&name) {
                e.starter.pull_seconds = Some(starter);
                e.solution.pull_seconds = Some(solution);
            }
        }
        let text = serde_json::to_string_pretty(&numbers).expect("measurements serialize") + "\n";
        std::fs::write(&path, text).map_err(|e| CheckerError::io(&path, e))?;
        println!("added the pull times to {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
