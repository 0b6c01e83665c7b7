//! The authors' subcommands: `verify` (every starter misses exactly its lesson), `measure`
//! and `pulls` (the numbers the book prints, kept in `numbers`), `doctest` (the book's
//! `snippets` build) and the mdBook preprocessor (`mdbook`, run by `mdbook build`).

pub mod doctest;
pub mod mdbook;
pub mod measure;
pub mod numbers;
pub mod pulls;
pub mod snippets;
pub mod verify;
