//! A policy and an input, split at the first NUL byte: the check in
//! `src/checks.rs` (the compiled form and the tree walker decide alike).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../src/checks.rs"]
#[allow(dead_code, reason = "each target uses one check")]
mod checks;

fuzz_target!(|data: &[u8]| checks::decide(data));
