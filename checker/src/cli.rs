//! The command line: every subcommand and flag, as clap parses them.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use checker::commands::doctor::DoctorFormat;
use checker::commands::graph::GraphFormat;
use checker::commands::images::ImagesAction;
use checker::commands::list::ListFormat;
use checker::report::Format;

#[derive(Parser)]
#[command(
    name = "checker",
    version,
    about = "Build, measure and judge the multi-stage workbook's Dockerfile exercises",
    long_about = "Build, measure and judge the multi-stage workbook's Dockerfile exercises.\n\n\
        Without a subcommand, `checker` watches the exercise you are on (the next pending \
        one) and checks it again on every save, as `checker watch` does."
)]
pub struct Cli {
    /// The workbook folder (the one holding `exercises/`); found from the current folder upwards by default.
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Show no build progress: only the report (and warnings and errors).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Show every build step as it finishes and everything the steps print.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// What to do; without one, `watch` the exercise you are on.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// List the exercises in order, with done/pending.
    List {
        /// `json`: one document, schema `workbook-checker/list/v1` (docs/json-schema.md).
        #[arg(long, value_enum, default_value = "text")]
        format: ListFormat,
    },
    /// Build and judge exercises (default: the next pending one).
    Check {
        /// The exercises, by name or number (`01`); default: the next pending one.
        names: Vec<String>,
        /// Check the reference solution instead of your Dockerfile.
        #[arg(long)]
        solution: bool,
        /// The report's format (json, junit and markdown for tools and CI).
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
        /// Build and judge again even when nothing changed since the last check (which
        /// otherwise returns its stored result at once).
        #[arg(long)]
        fresh: bool,
    },
    /// Authors' self-check: every starter misses exactly its lesson, every solution meets all goals.
    Verify {
        /// The exercises, by name or number (`01`); default: all.
        names: Vec<String>,
        /// The report's format (json, junit and markdown for tools and CI).
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
        /// The exercise, by name or number (`01`); default: the one you are on (the next pending).
        name: Option<String>,
        /// Every hint of the exercise, not only the next.
        #[arg(long)]
        all: bool,
    },
    /// Restore the starter Dockerfile; yours is kept as a backup beside it.
    Reset {
        /// The exercise, by name or number (`01`).
        name: String,
    },
    /// Re-check on every save (what `checker` alone does).
    Watch {
        /// The exercise, by name or number (`01`); default: the next pending one.
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
        /// How to draw it: text for a terminal, or a format for other tools.
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
        /// (`--write` is an older spelling.)
        #[arg(short, long, alias = "write", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Compare with this committed file instead: exit 1 if a size, layer or file count drifted more than 10 %, or a start time by a factor of two.
        #[arg(long, conflicts_with = "output")]
        compare: Option<PathBuf>,
    },
    /// Grade a class: DIR holds one folder per learner, each a copy of exercises/.
    Grade {
        /// The class folder: one folder per learner, each a copy of exercises/.
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
        /// The folder the scoreboard (Markdown, CSV) and grades.json go to. (`--out` is an
        /// older spelling.)
        #[arg(
            short,
            long,
            alias = "out",
            default_value = "grades",
            value_name = "DIR"
        )]
        output: PathBuf,
    },
    /// Your whole progress as one JSON file to hand in (schema: docs/json-schema.md).
    Report {
        /// Write it here instead of printing it.
        #[arg(short, long, value_name = "FILE")]
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
        /// Add the times to this measurements file. (`--write` is an older spelling.)
        #[arg(short, long, alias = "write", value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Serve the built book on localhost with your live results: exercise pages show a badge
    /// with the goals met, updated as the checker re-checks on every save.
    Serve {
        /// The built book (mdbook build).
        #[arg(long, default_value = "book")]
        book: PathBuf,
        /// The address and port to serve on.
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
        /// `json`: one document, schema `workbook-checker/doctor/v1` (docs/json-schema.md).
        #[arg(long, value_enum, default_value = "text")]
        format: DoctorFormat,
    },
    /// Print a shell completion script: e.g. `checker completions bash > ~/.local/share/bash-completion/completions/checker`.
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): e.g. `checker man > ~/.local/share/man/man1/checker.1`;
    /// with --output, write it and a page per subcommand (checker-check.1, …) into a folder.
    Man {
        /// The folder to write checker.1 and every subcommand's page into, instead of printing checker.1.
        #[arg(short, long, value_name = "DIR")]
        output: Option<PathBuf>,
    },
    /// The mdBook preprocessor (run by `mdbook build`, named in book.toml).
    #[command(hide = true)]
    Mdbook {
        /// What mdbook passes (`supports <renderer>`, or nothing: the book on stdin).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// `checker completions <shell>`: the completion script for `shell`, from this definition.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn std::io::Write) {
    let mut command = <Cli as clap::CommandFactory>::command();
    clap_complete::generate(shell, &mut command, "checker", out);
}

/// `checker man`: the manual page, in roff, from this definition: checker.1 (its
/// subcommands listed with their one-line help) on `out`, or with `dir` that page and one
/// per subcommand (`checker-check.1`, with its flags) written into `dir`.
pub fn man(dir: Option<&std::path::Path>, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let command = <Cli as clap::CommandFactory>::command();
    match dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            clap_mangen::generate_to(command, dir)
        }
        None => clap_mangen::Man::new(command).render(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("checker").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    #[test]
    fn the_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn no_subcommand_is_none_and_hint_needs_no_name() {
        assert!(parse(&[]).command.is_none());
        assert!(parse(&["--root", "x"]).command.is_none());
        assert!(matches!(
            parse(&["hint"]).command,
            Some(Command::Hint {
                name: None,
                all: false
            })
        ));
        assert!(matches!(
            parse(&["hint", "01", "--all"]).command,
            Some(Command::Hint { name: Some(n), all: true }) if n == "01"
        ));
    }

    #[test]
    fn quiet_and_verbose_are_global_and_exclusive() {
        let cli = parse(&["-q", "check"]);
        assert!(cli.quiet && !cli.verbose);
        let cli = parse(&["check", "01", "--verbose"]);
        assert!(cli.verbose && !cli.quiet);
        let both = Cli::try_parse_from(["checker", "-q", "-v", "check"]);
        assert_eq!(
            both.err().map(|e| e.kind()),
            Some(clap::error::ErrorKind::ArgumentConflict)
        );
    }

    /// `--output`/`-o` everywhere, and the older spellings scripts use still work.
    #[test]
    fn every_output_flag_is_output_with_the_old_spellings_as_aliases() {
        let grade_output = |args: &[&str]| match parse(args).command {
            Some(Command::Grade { output, .. }) => output,
            _ => panic!("not grade"),
        };
        assert_eq!(grade_output(&["grade", "class"]), PathBuf::from("grades"));
        for flag in ["--output", "-o", "--out"] {
            assert_eq!(
                grade_output(&["grade", "class", flag, "g"]),
                PathBuf::from("g")
            );
        }
        for flag in ["--output", "-o", "--write"] {
            match parse(&["measure", flag, "m.json"]).command {
                Some(Command::Measure { output, .. }) => {
                    assert_eq!(output, Some(PathBuf::from("m.json")))
                }
                _ => panic!("not measure"),
            }
            let args = [
                "pulls",
                "--registry",
                "r",
                "--target-host",
                "h",
                flag,
                "m.json",
            ];
            match parse(&args).command {
                Some(Command::Pulls { output, .. }) => {
                    assert_eq!(output, Some(PathBuf::from("m.json")))
                }
                _ => panic!("not pulls"),
            }
        }
        match parse(&["report", "-o", "r.json"]).command {
            Some(Command::Report { output, .. }) => assert_eq!(output, Some("r.json".into())),
            _ => panic!("not report"),
        }
        let compared =
            Cli::try_parse_from(["checker", "measure", "--write", "a", "--compare", "b"]);
        assert_eq!(
            compared.err().map(|e| e.kind()),
            Some(clap::error::ErrorKind::ArgumentConflict)
        );
    }

    #[test]
    fn the_old_spellings_stay_out_of_the_help() {
        for sub in ["grade", "measure", "pulls"] {
            let mut command = Cli::command();
            let help = command
                .find_subcommand_mut(sub)
                .unwrap()
                .render_long_help()
                .to_string();
            assert!(help.contains("--output"), "{sub}: {help}");
            assert!(!help.contains("--write") || help.contains("`--write` is an older"));
            assert!(
                !help.contains("--out ") && !help.contains("--out,"),
                "{sub}: {help}"
            );
        }
    }

    #[test]
    fn list_takes_a_format() {
        assert!(matches!(
            parse(&["list"]).command,
            Some(Command::List {
                format: ListFormat::Text
            })
        ));
        assert!(matches!(
            parse(&["list", "--format", "json"]).command,
            Some(Command::List {
                format: ListFormat::Json
            })
        ));
    }

    /// Every positional and flag says what it is for (issue 23): clap's own help and
    /// version flags aside.
    #[test]
    fn every_argument_has_help() {
        fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in command.get_arguments() {
                let id = arg.get_id().as_str();
                if id != "help" && id != "version" && arg.get_help().is_none() {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in command.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()), missing);
            }
        }
        let mut command = Cli::command();
        command.build();
        let mut missing = Vec::new();
        walk(&command, "checker", &mut missing);
        assert!(missing.is_empty(), "arguments without help: {missing:?}");
    }

    #[test]
    fn completions_and_the_man_page_come_from_the_definition() {
        let mut script = Vec::new();
        completions(clap_complete::Shell::Bash, &mut script);
        let script = String::from_utf8(script).unwrap();
        assert!(script.contains("checker") && script.contains("--output"));
        let mut page = Vec::new();
        man(None, &mut page).unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(
            page.starts_with(".ie") || page.contains(".TH checker"),
            "{page}"
        );
        assert!(page.contains("completions"));
        let dir = tempfile::tempdir().unwrap();
        man(Some(dir.path()), &mut Vec::new()).unwrap();
        assert!(dir.path().join("checker.1").is_file());
        assert!(dir.path().join("checker-check.1").is_file());
    }
}
