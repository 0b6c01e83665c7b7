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

/// A command's result: an exit code, or an error that means "could not check" (2).
pub type Outcome = Result<std::process::ExitCode, crate::error::CheckerError>;
