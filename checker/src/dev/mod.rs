//! The authors' subcommands: `verify` (every starter misses exactly its lesson), `measure`
//! and `pulls` (the numbers the book prints), `doctest` (the book's snippets build) and the
//! mdBook preprocessor (`book`, run by `mdbook build`).

pub mod book;
pub mod doctest;
pub mod measure;
pub mod pulls;
pub mod verify;
