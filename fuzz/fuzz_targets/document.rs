//! Input conversion: any bytes as a JSON or YAML document (the first byte
//! picks which) read within limits; see `fuzz/src/checks.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../src/checks.rs"]
#[allow(dead_code, reason = "each target uses one check")]
mod checks;

fuzz_target!(|data: &[u8]| checks::document(data));
