//! Everything that stops the checker from judging an exercise. Each of these is exit code 2
//! ("could not check"), distinct from 1 ("checked, and a goal was missed"); each message
//! names the file (and line or key) at fault and, where there is one, the way out.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CheckerError {
    #[error("no Docker engine answers at {host} ({chosen}): {detail}\n  Start one: `sudo systemctl start docker` (or `sudo dockerd &`), or `bash .ci/start-engine` in this repository, which installs and starts Debian's docker.io; Docker Desktop: start the app; Colima: `colima start`.\n  {choose}.")]
    EngineUnreachable {
        host: String,
        /// How the endpoint was chosen: "from DOCKER_HOST", "from context `colima` in …".
        chosen: String,
        detail: String,
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

    #[error("no exercise named `{name}`; the exercises are: {}", known.join(", "))]
    UnknownExercise { name: String, known: Vec<String> },

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

    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },

    #[error("the Docker engine refused a request: {0}")]
    Engine(String),

    #[error("{0}")]
    Other(String),
}

impl CheckerError {
    pub fn io(path: impl Into<PathBuf>, e: impl std::fmt::Display) -> CheckerError {
        CheckerError::Io {
            path: path.into(),
            message: e.to_string(),
        }
    }
}
