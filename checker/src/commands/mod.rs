//! The learner's (and the instructor's) subcommands: each file takes a command's arguments,
//! runs the library and prints what it found. The only place, with `dev`, that prints.

pub mod check;
pub mod clean;
pub mod doctor;
pub mod grade;
pub mod graph;
pub mod hint;
pub mod images;
pub mod list;
pub mod report;
pub mod reset;
pub mod serve;
pub mod watch;

/// The engine the commands talk to: the docker CLI's endpoint, its warnings on stderr.
pub async fn connect() -> Result<crate::docker::engine::Engine, crate::error::CheckerError> {
    let engine = crate::docker::engine::Engine::connect().await?;
    Ok(engine.with_warnings(std::sync::Arc::new(crate::ui::Stderr)))
}

/// A command's result: an exit code, or an error that means "could not check" (2).
pub type Outcome = Result<std::process::ExitCode, crate::error::CheckerError>;
