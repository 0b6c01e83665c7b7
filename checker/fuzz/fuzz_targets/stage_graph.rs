//! Any text as a learner's Dockerfile: see `checker::fuzz_checks::stage_graph`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checker::fuzz_checks::stage_graph(data));
