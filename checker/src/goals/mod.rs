//! The goals an exercise sets, and judging an image against them.

pub mod probes;
pub mod verdicts;
