//! The command line: every subcommand and flag, as clap parses them.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use checker::commands::doctor::DoctorFormat;
use checker::commands::graph::GraphFormat;
use checker::commands::images::ImagesAction;
use checker::report::Format;

#[derive(Parser)]
#[command(
    name = "checker",
    version,
    about = "Build, measure and judge the multi-stage workbook's Dockerfile exercises"
)]
pub struct Cli {
    /// The workbook folder (the one holding `exercises/`); found from the current folder upwards by default.
    #[arg(long, global = true)]
    pub root: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
        /// Build and judge again even when nothing changed since the last check (which
        /// otherwise returns its stored result at once).
        #[arg(long)]
        fresh: bool,
    },
    /// Authors' self-check: every starter misses exactly its lesson, every solution meets all goals.
    Verify {
        names: Vec<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Build and judge every starter and solution again, even those whose inputs have
        /// not changed since they were last verified (which otherwise give their stored result).
        #[arg(long)]
        fresh: bool,
        /// Exercises verified at once. More than one needs an engine newer than Docker 20.10,
        /// whose BuildKit can fail concurrent builds that share steps.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=16))]
        jobs: u16,
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
        /// Build and judge every time, never the stored result of an unchanged exercise.
        #[arg(long)]
        fresh: bool,
    },
    /// Make sure every base image the exercises use exists on the engine.
    Images {
        #[command(subcommand)]
        action: Option<ImagesAction>,
        /// Pull them from a classroom registry (e.g. 192.168.1.10:5000) and tag them under the usual names.
        #[arg(long, conflicts_with = "offline")]
        from: Option<String>,
        /// Pull nothing: build debian:bookworm and debian:bookworm-slim locally with debuerreotype (Linux, root), and the six gcr.io/distroless/{static,base,cc}-debian12 images (:latest, :nonroot) from Debian bookworm packages.
        #[arg(long)]
        offline: bool,
        /// Only list the images the exercises need.
        #[arg(long)]
        list: bool,
    },
    /// Print a Dockerfile's stage graph.
    Graph {
        /// The Dockerfile (a regular file), or `-` to read it from standard input.
        file: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        format: GraphFormat,
        /// Build arguments (NAME=VALUE) used to expand ARGs in FROM.
        #[arg(long = "build-arg")]
        build_args: Vec<String>,
        /// The stage to treat as final.
        #[arg(long)]
        target: Option<String>,
    },
    /// Remove the images and containers the checker made for this checkout of the workbook.
    Clean {
        /// Every checkout's: everything the checker made on this engine (grading runs kept
        /// with --keep-images included).
        #[arg(long)]
        all: bool,
        /// Only list what would be removed.
        #[arg(long)]
        dry_run: bool,
    },
    /// Build every exercise's starter and solution and record the numbers the book prints.
    Measure {
        /// Write them here (the book reads src/measurements.json); without it, print them.
        #[arg(long)]
        write: Option<PathBuf>,
        /// Compare with this committed file instead: exit 1 if a size, layer or file count drifted more than 10 %, or a start time by a factor of two.
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
