//! The gateway path canonicaliser: any bytes as an original URI; see
//! `fuzz/src/checks.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../src/checks.rs"]
#[allow(dead_code, reason = "each target uses one check")]
mod checks;

fuzz_target!(|data: &[u8]| checks::gateway_path(data));
