//! A `.dockerignore` and paths of a build context: see `checker::fuzz_checks::dockerignore`.
//!
//! Input: the `.dockerignore` text, a NUL byte, then one context path per line.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| checker::fuzz_checks::dockerignore(data));
