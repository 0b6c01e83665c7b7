//! Everything that stops the checker from judging an exercise. Each of these is exit code 2
//! ("could not check"), distinct from 1 ("checked, and a goal was missed"); each message
//! names the file (and line or key) at fault and, where there is one, the way out.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CheckerError {
    #[error("no Docker engine answers at {host} ({chosen}): {detail}\n  {advice}\n  {choose}.")]
    EngineUnreachable {
        host: String,
        /// How the endpoint was chosen: "from DOCKER_HOST", "from context `colima` in …".
        chosen: String,
        /// What failed, every cause down to the system's ("Connection refused"), or the file
        /// of a TLS endpoint that could not be read.
        detail: String,
        /// What to do about it, for this kind of endpoint: start a local engine, or check a
        /// remote one and its certificates.
        advice: String,
        /// How to choose another engine, given how this one was chosen.
        choose: String,
    },

    #[error("{file}:{line}:{column}: the Dockerfile does not parse: {message}")]
    DockerfileSyntax {
        file: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },

    #[error("{file}: {message}")]
    Dockerfile { file: PathBuf, message: String },

    #[error("{file}: {message}")]
    InvalidExercise { file: PathBuf, message: String },

    #[error("{file}:{line}: {message}")]
    DockerIgnore {
        file: PathBuf,
        line: usize,
        message: String,
    },

    #[error("no exercise named `{name}`; {}", unknown_exercise(known, suggestions))]
    UnknownExercise {
        name: String,
        known: Vec<String>,
        /// The known names closest to `name` (a typo's likely target), closest first.
        suggestions: Vec<String>,
    },

    #[error("no workbook found: neither {} nor any folder above it holds an `exercises/` folder (run the checker inside the workbook, or pass --root)", start.display())]
    NoWorkbook { start: PathBuf },

    #[error("{}:{line}: base image `{image}` is not on this engine and cannot be pulled ({detail}).\n  Make it with `checker images` (pulls) or `checker images --offline` (builds the Debian bases locally with debuerreotype).", file.display())]
    MissingBaseImage {
        file: PathBuf,
        line: usize,
        image: String,
        detail: String,
    },

    #[error("{}: the build failed at {step}{}\n{log}", file.display(), line.map(|l| format!(" (line {l})")).unwrap_or_default())]
    BuildFailed {
        file: PathBuf,
        line: Option<usize>,
        step: String,
        log: String,
    },

    /// A file read on a learner's behalf that is not what it claims to be (a link out of the
    /// folder, a FIFO, a device, too large, not text): see `learner_file`.
    #[error("{}: {reason}", file.display())]
    Refused { file: PathBuf, reason: String },

    #[error("{path}: {message}")]
    Io {
        path: PathBuf,
        message: String,
        /// The error the message was made of, where there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// A request the engine answered with an error; the bollard error is the source.
    #[error(
        "the Docker engine refused a request: {}",
        with_context(context, source)
    )]
    Engine {
        /// What was asked ("GET /version", "pushing …"); empty when the request says it.
        context: String,
        source: bollard::errors::Error,
    },

    /// The engine answered, but not with what was asked: no such image, a failed push or
    /// pull, a file in the image that is not what it should be.
    #[error("the Docker engine refused a request: {0}")]
    EngineReply(String),

    /// An archive the engine sent (an image's layers, a file from an image) that could not
    /// be read or written: `what` is what was being done ("exporting …").
    #[error("{}", with_context(what, source))]
    Archive {
        what: String,
        source: std::io::Error,
    },

    /// A file the engine sent from an image that is not a readable archive.
    #[error("the Docker engine refused a request: {0}")]
    EngineArchive(#[source] std::io::Error),

    #[error("a temporary file: {0}")]
    TempFile(#[source] std::io::Error),

    /// Work handed to another task (a blocking read, a grading job) that panicked or was
    /// cancelled; `what` says which, when there is more to say than the error.
    #[error("{}", with_context(what, source))]
    Task {
        what: String,
        source: tokio::task::JoinError,
    },

    /// The command line asks for something that cannot be done as asked.
    #[error("{0}")]
    Usage(String),

    /// mdBook and the preprocessor do not understand each other, or a directive is wrong.
    #[error("{0}")]
    Mdbook(String),

    /// A Dockerfile snippet of the book does not build (`checker doctest`).
    #[error("{0}")]
    Snippet(String),

    /// `checker grade`: a learner's folder with no Dockerfile for the exercise.
    #[error("no Dockerfile handed in")]
    NoDockerfile,

    #[error("the file watcher stopped")]
    WatcherStopped,

    #[error("the workbook has no exercises")]
    NoExercises,

    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
}

/// `context: source`, or the source alone when there is no context.
/// `did you mean `a` or `b`? The exercises are: …`, or only the list when no name is close.
fn unknown_exercise(known: &[String], suggestions: &[String]) -> String {
    let quoted: Vec<String> = suggestions.iter().map(|s| format!("`{s}`")).collect();
    let asked = match quoted.split_last() {
        None => return format!("the exercises are: {}", known.join(", ")),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    };
    format!(
        "did you mean {asked}? The exercises are: {}",
        known.join(", ")
    )
}

fn with_context(context: &str, source: &dyn std::fmt::Display) -> String {
    if context.is_empty() {
        source.to_string()
    } else {
        format!("{context}: {source}")
    }
}

impl From<bollard::errors::Error> for CheckerError {
    fn from(source: bollard::errors::Error) -> CheckerError {
        CheckerError::Engine {
            context: String::new(),
            source,
        }
    }
}

impl From<tokio::task::JoinError> for CheckerError {
    fn from(source: tokio::task::JoinError) -> CheckerError {
        CheckerError::Task {
            what: String::new(),
            source,
        }
    }
}

impl CheckerError {
    /// For `map_err`: an engine error with what was asked.
    pub fn engine(
        context: impl Into<String>,
    ) -> impl FnOnce(bollard::errors::Error) -> CheckerError {
        let context = context.into();
        move |source| CheckerError::Engine { context, source }
    }

    /// For `map_err`: an archive error with what was being done.
    pub fn archive(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> CheckerError {
        let what = what.into();
        move |source| CheckerError::Archive { what, source }
    }

    /// A file (or other path) that could not be read or written, with the error as source.
    pub fn io(
        path: impl Into<PathBuf>,
        e: impl std::error::Error + Send + Sync + 'static,
    ) -> CheckerError {
        CheckerError::Io {
            path: path.into(),
            message: e.to_string(),
            source: Some(Box::new(e)),
        }
    }
}
