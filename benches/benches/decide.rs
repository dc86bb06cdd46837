//! `cargo bench -p warden-benches`: Warden's decision time beside hand-written
//! Rust making the same checks, measured in the same run. `benches/ratios.sh`
//! prints the ratios from criterion's estimates.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use warden::Engine;
use warden_benches::{catalog, hand_written, manifest, now, policies, request};

fn manifest_policy(c: &mut Criterion) {
    let engine =
        Engine::from_dir(policies().join("manifest")).expect("the manifest policy compiles");
    let input = manifest();
    let now = now();
    let ts: jiff::Timestamp = "2026-06-01T00:00:00Z".parse().expect("time");
    let templates = [
        "approved/crud-basic@2",
        "approved/dashboard@1",
        "approved/form-intake@3",
    ];
    // Both sides must agree before their speed means anything.
    let decision = engine.decide("manifest", &input, now).expect("decides");
    let baseline = hand_written::check_manifest(&input, ts, &templates);
    assert_eq!(
        decision.findings.len(),
        baseline.len(),
        "Warden and the hand-written checks disagree"
    );

    let mut group = c.benchmark_group("manifest_20_rules");
    group.bench_function("warden", |b| {
        b.iter(|| {
            engine
                .decide("manifest", black_box(&input), now)
                .expect("decides")
        })
    });
    group.bench_function("hand_written", |b| {
        b.iter(|| hand_written::check_manifest(black_box(&input), ts, &templates))
    });
    group.finish();
}

fn request_policy(c: &mut Criterion) {
    let data = catalog(1000);
    let engine = Engine::from_dir(policies().join("request"))
        .expect("the request policy compiles")
        .with_data(&data)
        .expect("catalog loads");
    let apps = hand_written::load_catalog(&data);
    let input = request();
    let now = now();
    let ts: jiff::Timestamp = "2026-06-01T00:00:00Z".parse().expect("time");
    let decision = engine.decide("request", &input, now).expect("decides");
    let baseline = hand_written::decide_request(&input, &apps, ts);
    assert_eq!(
        decision.is_allowed(),
        baseline.allowed,
        "Warden and the hand-written checks disagree"
    );
    assert_eq!(
        decision.obligations.get("mask").is_some(),
        !baseline.mask.is_empty()
    );

    let mut group = c.benchmark_group("request_1000_app_catalog");
    group.bench_function("warden", |b| {
        b.iter(|| {
            engine
                .decide("request", black_box(&input), now)
                .expect("decides")
        })
    });
    group.bench_function("hand_written", |b| {
        b.iter(|| hand_written::decide_request(black_box(&input), &apps, ts))
    });
    group.finish();
}

/// The whole checklist (`stdlib-policies/`, 33 manifest rules) on the
/// compliant example, beside the cost `warden check` pays anyway: parsing the
/// manifest's YAML (with the line positions findings point at).
fn checklist(c: &mut Criterion) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../stdlib-policies");
    let engine = Engine::from_dir(&root).expect("the checklist compiles");
    let path = root.join("examples/manifests/compliant.yaml");
    let text = std::fs::read_to_string(&path).expect("compliant.yaml");
    let input = warden::Document::parse("compliant.yaml", &text)
        .expect("parses")
        .value;
    let now: std::time::SystemTime = "2026-05-20T00:00:00Z"
        .parse::<jiff::Timestamp>()
        .expect("time")
        .into();
    assert!(
        engine
            .decide("manifest", &input, now)
            .expect("decides")
            .is_allowed()
    );

    let mut group = c.benchmark_group("checklist_manifest");
    group.bench_function("warden", |b| {
        b.iter(|| {
            engine
                .decide("manifest", black_box(&input), now)
                .expect("decides")
        })
    });
    group.bench_function("yaml_parse", |b| {
        b.iter(|| warden::Document::parse("compliant.yaml", black_box(&text)).expect("parses"))
    });
    group.finish();
}

/// Where the time goes: converting the input, and evaluating (the rest of a
/// decision is building its JSON).
fn phases(c: &mut Criterion) {
    let manifest_engine =
        Engine::from_dir(policies().join("manifest")).expect("the manifest policy compiles");
    let manifest_data: Vec<warden_ir::Value> = manifest_engine
        .compiled_program()
        .data
        .iter()
        .map(|d| d.default.clone().unwrap_or_default())
        .collect();
    phase_group(
        c,
        "manifest_phases",
        &manifest_engine,
        "manifest",
        &manifest(),
        &manifest_data,
    );

    let catalog = catalog(1000);
    let request_engine = Engine::from_dir(policies().join("request"))
        .expect("compiles")
        .with_data(&catalog)
        .expect("catalog loads");
    let program = request_engine.compiled_program();
    let catalog_value =
        warden_ir::json_to_value(&program.types, &program.data[0].ty, &catalog["catalog"])
            .expect("converts");
    phase_group(
        c,
        "request_phases",
        &request_engine,
        "request",
        &request(),
        &[catalog_value],
    );
}

fn phase_group(
    c: &mut Criterion,
    name: &str,
    engine: &Engine,
    target: &str,
    input: &serde_json::Value,
    data: &[warden_ir::Value],
) {
    let program = engine.compiled_program();
    let target = program.target_by_name(target).expect("target");
    let ty = &program.target(target).ty;
    let value = warden_ir::json_to_value(&program.types, ty, input).expect("converts");
    let options = warden_eval::Options::default();
    let mut group = c.benchmark_group(name);
    group.bench_function("convert_input", |b| {
        b.iter(|| warden_ir::json_to_value(&program.types, ty, black_box(input)).expect("converts"))
    });
    group.bench_function("evaluate", |b| {
        b.iter(|| {
            warden_eval::decide(
                engine.compiled_rules(),
                target,
                black_box(&value),
                data,
                &[],
                1_780_272_000_000_000,
                &options,
            )
        })
    });
    group.finish();
}

criterion_group!(benches, manifest_policy, request_policy, checklist, phases);
criterion_main!(benches);
