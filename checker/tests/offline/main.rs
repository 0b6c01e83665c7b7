//! The tests that need no Docker engine: the command line without one, and the book's
//! text (its typed numbers, diagrams and preprocessor). They run in parallel, as
//! `cargo test` runs any tests.

#[path = "../common/mod.rs"]
mod common;

mod book;
mod fuzz_corpus;
mod habits;
mod without_engine;
