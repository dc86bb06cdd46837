//! A policy and an input, split at the first NUL byte: compiling never panics,
//! and if the policy compiles, deciding any JSON input against each target
//! either decides or returns an error, never panics, and decides the same twice.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::time::{Duration, UNIX_EPOCH};
use warden::{Engine, PolicySources};

fuzz_target!(|data: &[u8]| {
    let (policy, input) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"{}"[..]),
    };
    let policy = String::from_utf8_lossy(policy);
    let Ok(engine) = Engine::from_sources(&PolicySources::from_texts([("fuzz.warden", policy.as_ref())])) else { return };
    let Ok(input) = serde_json::from_slice::<serde_json::Value>(input) else { return };
    let now = UNIX_EPOCH + Duration::from_secs(1_780_272_000);
    let targets: Vec<String> = engine.program().targets.iter().map(|t| t.name.to_string()).collect();
    for target in targets {
        let first = engine.decide(&target, &input, now).ok().map(|d| (d.decision, d.findings, d.warnings));
        let second = engine.decide(&target, &input, now).ok().map(|d| (d.decision, d.findings, d.warnings));
        assert_eq!(first, second);
    }
});
