//! The checker as a library: what the `checker` binary, the integration tests and the mdBook
//! preprocessor share. A check runs down one pipeline, and each step has one module:
//!
//! exercise (`workbook`) → context and build (`docker`, `build`) → measurements (`facts`,
//! `provenance`) → probes and verdicts (`goals`) → report (`report`); `check` runs the
//! steps in that order.
//!
//! `commands` and `dev` are the subcommands of the learner and of the authors; with `ui`,
//! they are the only code that prints. Dependencies point one way, from the commands down
//! to `facts`: see docs/architecture.md.

pub mod build;
pub mod check;
pub mod commands;
pub mod dev;
pub mod docker;
pub mod error;
pub mod facts;
pub mod fuzz_checks;
pub mod goals;
pub mod learner_file;
pub mod provenance;
pub mod report;
pub mod ui;
pub mod workbook;
