//! `cargo bench -p warden-benches --bench peers`: the bench's workloads in
//! Warden, in hand-written Rust, in regorus (interpreter and RVM) and in
//! cedar-policy, each written the way its users would write it
//! (`benches/peers/`), checked to decide alike, then timed in one run.
//!
//! No criterion: a small harness of its own, to report p99. Per workload,
//! each engine is warmed up, then timed in rounds interleaved between the
//! engines (so the machine's noise falls on all of them alike). A sample is
//! one decision timed with `Instant`, or, when one decision takes under 2 µs,
//! the mean of a fixed batch of decisions (enough for about 5 µs; the row's
//! `batch` says how many). The cost of reading the clock, measured at start,
//! is taken off each sample. Reported: the median and p99 of the samples,
//! and decisions per second over the time measured.
//!
//! `PEERS_QUICK=1` (or running without `--bench`, as `cargo test --benches`
//! does) is a smoke run of a few seconds: short rounds, a 10,000-app catalog
//! instead of 100,000, W3 at 1,000 rules instead of 10,000.
//!
//! Output: a table on standard output, and `target/peers/results.json`
//! (`results-quick.json` for a smoke run), which `benches/ratios.sh` renders
//! into `docs/performance.md`.

mod common;

use common::{
    CedarGateway, CedarW3, GATEWAY_ENTRY, MANIFEST_ENTRY, MANIFEST_REGO, NOW, REQUEST_REGO,
    TEMPLATES, W3_ENTRY, W3Hand, rego_engine, rego_json, rego_now, rego_value, rvm, system_time,
    timestamp,
};
use regorus::rvm::RegoVM;
use rustc_hash::FxHashMap;
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::hint::black_box;
use std::time::{Duration, Instant};
use warden::Engine;
use warden_benches::hand_written::strings;
use warden_benches::{catalog, hand_written, manifest, policies, request};

const LATER: &str = "2027-01-01T00:00:00Z";

// ---- the harness ----------------------------------------------------------------

struct Settings {
    quick: bool,
    /// Measured time per engine and workload (warm-up is a tenth more).
    budget: Duration,
    rounds: u32,
    big_catalog: usize,
    big_w3: usize,
    /// The cost of `Instant::now()` + `elapsed()`, in ns.
    clock_ns: f64,
}

impl Settings {
    fn from_env() -> Settings {
        let bench = std::env::args().any(|a| a == "--bench");
        let quick_env = std::env::var("PEERS_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        let quick = quick_env || !bench;
        let clock_ns = clock_cost();
        if quick {
            Settings {
                quick,
                budget: Duration::from_millis(60),
                rounds: 2,
                big_catalog: 10_000,
                big_w3: 1_000,
                clock_ns,
            }
        } else {
            Settings {
                quick,
                budget: Duration::from_millis(2500),
                rounds: 10,
                big_catalog: 100_000,
                big_w3: 10_000,
                clock_ns,
            }
        }
    }
}

/// The median cost of timing nothing.
fn clock_cost() -> f64 {
    let mut xs: Vec<f64> = (0..20_000)
        .map(|_| {
            let t = Instant::now();
            black_box(());
            t.elapsed().as_nanos() as f64
        })
        .collect();
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// One engine on one workload: `run` makes one decision.
struct Contender<'a> {
    engine: &'static str,
    note: String,
    run: Box<dyn FnMut() + 'a>,
}

fn contender<'a>(engine: &'static str, note: &str, run: impl FnMut() + 'a) -> Contender<'a> {
    Contender {
        engine,
        note: note.to_string(),
        run: Box::new(run),
    }
}

struct Row {
    workload: String,
    engine: String,
    /// `None`: the engine could not run the workload (see `note`).
    median_ns: Option<f64>,
    p99_ns: Option<f64>,
    per_sec: Option<f64>,
    samples: usize,
    batch: usize,
    note: String,
}

fn not_available(workload: &str, engine: &str, why: &str) -> Row {
    Row {
        workload: workload.into(),
        engine: engine.into(),
        median_ns: None,
        p99_ns: None,
        per_sec: None,
        samples: 0,
        batch: 0,
        note: format!("n/a: {why}"),
    }
}

/// Sorted samples' value at quantile `q` (nearest rank).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn measure(workload: &str, mut contenders: Vec<Contender<'_>>, s: &Settings) -> Vec<Row> {
    // Warm up, and size the batches.
    let mut batches = Vec::new();
    for c in &mut contenders {
        let start = Instant::now();
        let mut n = 0u64;
        while n < 3 || start.elapsed() < s.budget / 10 {
            (c.run)();
            n += 1;
        }
        let per_decision = start.elapsed().as_nanos() as f64 / n as f64;
        batches.push(if per_decision < 2_000.0 {
            (5_000.0 / per_decision).ceil() as usize
        } else {
            1
        });
    }
    let k = contenders.len();
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); k];
    let mut decisions = vec![0u64; k];
    let slice = s.budget / s.rounds;
    for _ in 0..s.rounds {
        for (i, c) in contenders.iter_mut().enumerate() {
            let batch = batches[i];
            let round = Instant::now();
            loop {
                let t = Instant::now();
                for _ in 0..batch {
                    (c.run)();
                }
                let ns = (t.elapsed().as_nanos() as f64 - s.clock_ns).max(0.0);
                samples[i].push(ns / batch as f64);
                decisions[i] += batch as u64;
                if round.elapsed() >= slice {
                    break;
                }
            }
        }
    }
    contenders
        .into_iter()
        .zip(samples)
        .zip(batches)
        .zip(decisions)
        .map(|(((c, mut xs), batch), n)| {
            let total_ns: f64 = xs.iter().map(|x| x * batch as f64).sum();
            xs.sort_by(f64::total_cmp);
            Row {
                workload: workload.into(),
                engine: c.engine.into(),
                median_ns: Some(quantile(&xs, 0.5)),
                p99_ns: Some(quantile(&xs, 0.99)),
                per_sec: Some(n as f64 / (total_ns / 1e9)),
                samples: xs.len(),
                batch,
                note: c.note,
            }
        })
        .collect()
}

/// Panics unless every engine's answer equals the first's.
fn agree<T: PartialEq + Debug>(label: &str, answers: &[(&str, T)]) {
    let (first, reference) = &answers[0];
    for (engine, answer) in &answers[1..] {
        assert!(
            answer == reference,
            "{label}: {engine} disagrees with {first}:\n  {first}: {reference:?}\n  {engine}: {answer:?}"
        );
    }
    println!("  ok  {label}: {reference:?}");
}

// ---- W1: the manifest, 20 rules ----------------------------------------------------

type RuleCounts = BTreeMap<String, usize>;

fn counts<'a>(rules: impl Iterator<Item = &'a str>) -> RuleCounts {
    let mut out = RuleCounts::new();
    for r in rules {
        *out.entry(r.to_string()).or_default() += 1;
    }
    out
}

/// Deny findings per rule, the package taken off (`bench.rules.tls` -> `tls`).
fn warden_counts(d: &warden::Decision) -> RuleCounts {
    counts(
        d.findings
            .iter()
            .filter(|f| f.effect == warden::Effect::Deny)
            .map(|f| f.rule.rsplit('.').next().unwrap_or_default()),
    )
}

fn rego_counts(violations: &regorus::Value) -> RuleCounts {
    let json = rego_json(violations);
    counts(
        json.as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|v| v["rule"].as_str().unwrap_or_default()),
    )
}

/// The variants of `validate.py`.
fn manifest_variants(base: &Json) -> Vec<(&'static str, Json)> {
    let v = |f: &dyn Fn(&mut Json)| {
        let mut m = base.clone();
        f(&mut m);
        m
    };
    vec![
        ("sample manifest", base.clone()),
        (
            "no SSO, local accounts, MFA optional, no SCIM",
            v(&|m| {
                let auth = &mut m["spec"]["auth"];
                auth["sso"] = json!("none");
                auth["local_accounts"] = json!(true);
                auth["mfa"] = json!("optional");
                auth.as_object_mut().expect("auth").remove("scim");
            }),
        ),
        (
            "two default roles, Admin without justification or expiry",
            v(&|m| {
                m["spec"]["roles"] = json!([
                    { "name": "reader", "template": "Viewer", "default": true },
                    { "name": "ed", "template": "Editor", "default": true },
                    { "name": "root", "template": "Admin", "justification": null },
                ]);
            }),
        ),
        (
            "low tier, restricted PII unprotected, unencrypted, global creds",
            v(&|m| {
                m["metadata"]["risk_tier"] = json!("low");
                m["metadata"]["template"] = json!("handmade@1");
                m["spec"]["data"]["classification"] = json!("restricted");
                m["spec"]["data"]["pii_protection"] = json!("none");
                let storage = &mut m["spec"]["storage"];
                storage["encrypted_at_rest"] = json!(false);
                storage["key_management"] = json!("none");
                storage["database_access"] = json!("global_credentials");
            }),
        ),
        (
            "no SIEM, audit gaps, mutable logs, no sandbox, wildcard egress, http",
            v(&|m| {
                let logging = &mut m["spec"]["logging"];
                logging["siem"] = json!("none");
                logging["audit_events"] = json!(["auth"]);
                logging["immutable"] = json!(false);
                logging["retention_days"]["audit"] = json!(30);
                m["spec"]["runtime"]["sandbox"] = json!("none");
                m["spec"]["network"]["egress_allowlist"]
                    .as_array_mut()
                    .expect("allow-list")
                    .push(json!("*.evil.example"));
                m["spec"]["endpoints"]
                    .as_array_mut()
                    .expect("endpoints")
                    .push(json!({ "url": "http://old.example", "tls_min_version": "1.3" }));
            }),
        ),
        (
            "confidential data on a low tier",
            v(&|m| {
                m["metadata"]["risk_tier"] = json!("low");
                m["spec"]["data"]["classification"] = json!("confidential");
            }),
        ),
        (
            "180-day registration, expired, review pending",
            v(&|m| {
                m["metadata"]["registered_at"] = json!("2026-01-01T00:00:00Z");
                m["metadata"]["expires_at"] = json!("2026-05-01T00:00:00Z");
                m["metadata"]["approval"]["status"] = json!("pending");
            }),
        ),
        (
            "compliant",
            v(&|m| {
                m["spec"]["endpoints"][1]["tls_min_version"] = json!("1.3");
                let first_secret = m["spec"]["secrets"][0].clone();
                m["spec"]["secrets"] = json!([first_secret]);
                let first_integration = m["spec"]["integrations"][0].clone();
                m["spec"]["integrations"] = json!([first_integration]);
            }),
        ),
    ]
}

fn w1(s: &Settings, rows: &mut Vec<Row>) {
    println!("W1 manifest, 20 rules: checking that the engines agree");
    let warden =
        Engine::from_dir(policies().join("manifest")).expect("the manifest policy compiles");
    let mut rego = rego_engine(&[("manifest.rego", MANIFEST_REGO)], &[rego_now(NOW)]);
    let mut vm = rvm(&rego, MANIFEST_ENTRY).expect("manifest.rego compiles to the RVM");
    let now = system_time(NOW);
    let ts = timestamp(NOW);
    let base = manifest();
    for (label, m) in manifest_variants(&base) {
        let hand = counts(
            hand_written::check_manifest(&m, ts, &TEMPLATES)
                .iter()
                .map(|f| f.rule),
        );
        let w = warden_counts(&warden.decide("manifest", &m, now).expect("decides"));
        let input = rego_value(&m);
        rego.set_input(input.clone());
        let r = rego_counts(
            &rego
                .eval_rule(MANIFEST_ENTRY.to_string())
                .expect("evaluates"),
        );
        vm.set_input(input);
        let rv = rego_counts(
            &vm.execute_entry_point_by_name(MANIFEST_ENTRY)
                .expect("runs"),
        );
        if label == "sample manifest" {
            assert_eq!(
                w.values().sum::<usize>(),
                5,
                "the sample manifest fails 5 clauses"
            );
        }
        agree(
            label,
            &[
                ("Warden", w),
                ("hand-written", hand),
                ("regorus", r),
                ("regorus RVM", rv),
            ],
        );
    }

    // Pre-parsed input: each engine's own parsed form, built once.
    let workload = "W1 manifest, 20 rules, pre-parsed input";
    let rego_input = rego_value(&base);
    let contenders = vec![
        contender(
            "hand-written",
            "check_manifest over the serde_json::Value; returns the findings",
            || {
                black_box(hand_written::check_manifest(
                    black_box(&base),
                    ts,
                    &TEMPLATES,
                ));
            },
        ),
        contender(
            "Warden",
            "Engine::decide over the serde_json::Value: converts it to typed values, evaluates, builds the whole Decision",
            || {
                black_box(
                    warden
                        .decide("manifest", black_box(&base), now)
                        .expect("decides"),
                );
            },
        ),
        contender(
            "regorus",
            "set_input(regorus::Value, parsed once; a reference-counted clone) + eval_rule(violations)",
            || {
                rego.set_input(rego_input.clone());
                black_box(
                    rego.eval_rule(MANIFEST_ENTRY.to_string())
                        .expect("evaluates"),
                );
            },
        ),
        contender(
            "regorus RVM",
            "set_input(regorus::Value) + execute_entry_point_by_name(violations); compiled once",
            || {
                vm.set_input(rego_input.clone());
                black_box(
                    vm.execute_entry_point_by_name(MANIFEST_ENTRY)
                        .expect("runs"),
                );
            },
        ),
    ];
    rows.extend(measure(workload, contenders, s));

    // From JSON text: each decision parses the manifest first.
    let workload = "W1 manifest, 20 rules, from JSON text";
    let text = std::fs::read_to_string(policies().join("manifest.json")).expect("manifest.json");
    let contenders = vec![
        contender(
            "hand-written",
            "serde_json::from_str + check_manifest",
            || {
                let m: Json = serde_json::from_str(black_box(&text)).expect("JSON");
                black_box(hand_written::check_manifest(&m, ts, &TEMPLATES));
            },
        ),
        contender(
            "Warden",
            "Engine::decide_text: the text read in one pass into typed values",
            || {
                black_box(
                    warden
                        .decide_text("manifest", black_box(&text), now, &Default::default())
                        .expect("decides"),
                );
            },
        ),
        contender(
            "Warden, via a tree",
            "serde_json::from_str + Engine::decide",
            || {
                let m: Json = serde_json::from_str(black_box(&text)).expect("JSON");
                black_box(warden.decide("manifest", &m, now).expect("decides"));
            },
        ),
        contender("regorus", "set_input_json + eval_rule(violations)", || {
            rego.set_input_json(black_box(&text)).expect("JSON");
            black_box(
                rego.eval_rule(MANIFEST_ENTRY.to_string())
                    .expect("evaluates"),
            );
        }),
        contender(
            "regorus RVM",
            "Value::from_json_str + set_input + execute_entry_point_by_name",
            || {
                vm.set_input(regorus::Value::from_json_str(black_box(&text)).expect("JSON"));
                black_box(
                    vm.execute_entry_point_by_name(MANIFEST_ENTRY)
                        .expect("runs"),
                );
            },
        ),
    ];
    rows.extend(measure(workload, contenders, s));
}

// ---- W2: the gateway over a catalog ----------------------------------------------

/// What every engine must agree on: allowed, and the mask. The number of
/// deny findings is compared too, but not for Cedar: its reasons are forbid
/// policies, not Warden's findings (and none for an unknown app).
#[derive(Debug, PartialEq)]
struct Verdict {
    allow: bool,
    mask: Vec<String>,
}

/// Every engine of W2, set up once over one catalog.
struct Gateway {
    warden: Engine,
    apps: FxHashMap<String, hand_written::App>,
    cedar: CedarGateway,
    /// An interpreter and an RVM per `now` (Rego reads the clock from `data.now`).
    rego: Vec<(&'static str, regorus::Engine, RegoVM)>,
}

impl Gateway {
    fn new(data: Json, nows: &[&'static str]) -> Gateway {
        let warden = Engine::from_dir(policies().join("request"))
            .expect("the request policy compiles")
            .with_data(&data)
            .expect("the catalog loads");
        let apps = hand_written::load_catalog(&data);
        let cedar = CedarGateway::new(&data);
        let catalog = rego_value(&data);
        drop(data);
        let rego = nows
            .iter()
            .map(|&now| {
                let engine = rego_engine(
                    &[("request.rego", REQUEST_REGO)],
                    &[catalog.clone(), rego_now(now)],
                );
                let vm = rvm(&engine, GATEWAY_ENTRY).expect("request.rego compiles to the RVM");
                (now, engine, vm)
            })
            .collect();
        Gateway {
            warden,
            apps,
            cedar,
            rego,
        }
    }

    fn rego(&mut self, now: &str) -> (&mut regorus::Engine, &mut RegoVM) {
        let (_, engine, vm) = self
            .rego
            .iter_mut()
            .find(|(n, _, _)| *n == now)
            .expect("a Rego engine for this time");
        (engine, vm)
    }

    /// Checks that all engines decide `req` at `now` alike.
    fn check(&mut self, label: &str, req: &Json, now: &'static str) {
        let d = self
            .warden
            .decide("request", req, system_time(now))
            .expect("decides");
        let warden_verdict = Verdict {
            allow: d.is_allowed(),
            mask: d.obligations.get("mask").map(strings).unwrap_or_default(),
        };
        let mut warden_denies: Vec<String> = d
            .findings
            .iter()
            .filter(|f| f.effect == warden::Effect::Deny)
            .filter_map(|f| f.message.clone())
            .collect();
        warden_denies.sort();
        let h = hand_written::decide_request(req, &self.apps, timestamp(now));
        let hand = Verdict {
            allow: h.allowed,
            mask: h.mask,
        };
        let (cedar_allow, cedar_mask) = self.cedar.decide(req, now);
        let cedar = Verdict {
            allow: cedar_allow,
            mask: cedar_mask,
        };
        let (engine, vm) = self.rego(now);
        let input = rego_value(req);
        engine.set_input(input.clone());
        let r = rego_json(
            &engine
                .eval_rule(GATEWAY_ENTRY.to_string())
                .expect("evaluates"),
        );
        vm.set_input(input);
        let rv = rego_json(&vm.execute_entry_point_by_name(GATEWAY_ENTRY).expect("runs"));
        let rego_verdict = |j: &Json| Verdict {
            allow: j["allow"] == true,
            mask: strings(&j["obligations"]["mask"]),
        };
        // The deny reasons themselves, not just how many: Rego's are the
        // messages, as Warden's and the hand-written code's are.
        let rego_denies = |j: &Json| {
            let mut messages: Vec<String> = j["deny_reasons"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|m| m.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            messages.sort();
            messages
        };
        let mut hand_denies: Vec<String> = h.findings.iter().map(|f| f.message.clone()).collect();
        hand_denies.sort();
        agree(
            &format!("{label}: deny reasons"),
            &[
                ("Warden", warden_denies),
                ("hand-written", hand_denies),
                ("regorus", rego_denies(&r)),
                ("regorus RVM", rego_denies(&rv)),
            ],
        );
        // Which rules decided: Cedar's permits that held (on an allow) or
        // forbids (on a deny), against Warden's allow or deny findings. Cedar
        // has no forbid for an app missing from the catalog (every policy
        // reading it fails and is skipped; see peers/README.md).
        let warden_rules: BTreeSet<String> = d
            .findings
            .iter()
            .filter(|f| {
                let effect = if d.is_allowed() {
                    warden::Effect::Allow
                } else {
                    warden::Effect::Deny
                };
                f.effect == effect
                    && !f
                        .message
                        .as_deref()
                        .is_some_and(|m| m.ends_with("is not in the catalog"))
            })
            .map(|f| f.rule.rsplit('.').next().unwrap_or(&f.rule).to_string())
            .collect();
        agree(
            &format!("{label}: deciding rules"),
            &[
                ("Warden", warden_rules),
                ("cedar", self.cedar.deciding_rules(req, now)),
            ],
        );
        agree(
            label,
            &[
                ("Warden", warden_verdict),
                ("hand-written", hand),
                ("regorus", rego_verdict(&r)),
                ("regorus RVM", rego_verdict(&rv)),
                ("cedar", cedar),
            ],
        );
    }
}

/// The cases of `validate.py`: (label, request, now).
/// app-0500: public, u-1 Admin; app-0501: internal, u-1 Viewer;
/// app-0502: confidential, u-1 Editor; app-0049: retired.
fn w2_cases() -> Vec<(&'static str, Json, &'static str)> {
    let base = request();
    let r = |f: &dyn Fn(&mut Json)| {
        let mut q = base.clone();
        f(&mut q);
        q
    };
    vec![
        (
            "benches::request(): Viewer reads app-0501",
            base.clone(),
            NOW,
        ),
        ("Viewer writes", r(&|q| q["action"] = json!("write")), NOW),
        (
            "unknown app app-9999",
            r(&|q| q["resource"]["app_id"] = json!("app-9999")),
            NOW,
        ),
        ("expired app (now 2027-01-01)", base.clone(), LATER),
        (
            "no MFA, confidential app-0502 (Editor)",
            r(&|q| {
                q["resource"]["app_id"] = json!("app-0502");
                q["principal"]["mfa"] = json!(false);
            }),
            NOW,
        ),
        (
            "MFA, confidential app-0502 (Editor reads, no mask)",
            r(&|q| q["resource"]["app_id"] = json!("app-0502")),
            NOW,
        ),
        (
            "no MFA, public app-0500 (Admin deletes)",
            r(&|q| {
                q["resource"]["app_id"] = json!("app-0500");
                q["action"] = json!("delete");
                q["principal"]["mfa"] = json!(false);
            }),
            NOW,
        ),
        (
            "Admin runs `admin` on app-0500",
            r(&|q| {
                q["resource"]["app_id"] = json!("app-0500");
                q["action"] = json!("admin");
            }),
            NOW,
        ),
        (
            "Editor deletes on app-0502",
            r(&|q| {
                q["resource"]["app_id"] = json!("app-0502");
                q["action"] = json!("delete");
            }),
            NOW,
        ),
        (
            "retired app-0049",
            r(&|q| q["resource"]["app_id"] = json!("app-0049")),
            NOW,
        ),
        (
            "local sign-in",
            r(&|q| q["principal"]["authenticated_via"] = json!("local")),
            NOW,
        ),
        (
            "Viewer bulk read, 5,000 records",
            r(&|q| q["context"]["records_requested"] = json!(5000)),
            NOW,
        ),
        (
            "Editor bulk read, 5,000 records",
            r(&|q| {
                q["resource"]["app_id"] = json!("app-0502");
                q["context"]["records_requested"] = json!(5000);
            }),
            NOW,
        ),
        (
            "unbound user u-999",
            r(&|q| q["principal"]["id"] = json!("u-999")),
            NOW,
        ),
        (
            "egress to an allow-listed host",
            r(&|q| {
                q["action"] = json!("egress");
                q["context"]["destination_host"] = json!("api-501.vendor.example");
            }),
            NOW,
        ),
        (
            "egress elsewhere",
            r(&|q| {
                q["action"] = json!("egress");
                q["context"]["destination_host"] = json!("evil.example");
            }),
            NOW,
        ),
        (
            "service, token, no MFA, on app-0502",
            r(&|q| {
                q["resource"]["app_id"] = json!("app-0502");
                q["principal"]["type"] = json!("service");
                q["principal"]["authenticated_via"] = json!("token");
                q["principal"]["mfa"] = json!(false);
            }),
            NOW,
        ),
    ]
}

fn w2(s: &Settings, rows: &mut Vec<Row>) {
    println!("W2 gateway over catalog(1000): checking that the engines agree");
    let mut gw = Gateway::new(catalog(1000), &[NOW, LATER]);
    for (label, req, now) in w2_cases() {
        gw.check(label, &req, now);
    }
    let now = system_time(NOW);
    let ts = timestamp(NOW);
    let req = request();
    let rego_input = rego_value(&req);
    let Gateway {
        warden,
        apps,
        cedar,
        rego,
    } = &mut gw;
    let (_, rego, vm) = rego
        .iter_mut()
        .find(|(n, _, _)| *n == NOW)
        .expect("a Rego engine for now");
    let workload = "W2 gateway, catalog(1000), pre-parsed request";
    let contenders = vec![
        contender(
            "hand-written",
            "decide_request over the serde_json::Value, catalog preloaded into a hash map",
            || {
                black_box(hand_written::decide_request(black_box(&req), apps, ts));
            },
        ),
        contender(
            "Warden",
            "Engine::decide over the serde_json::Value (converted to typed values), catalog loaded once; the whole Decision",
            || {
                black_box(
                    warden
                        .decide("request", black_box(&req), now)
                        .expect("decides"),
                );
            },
        ),
        contender(
            "regorus",
            "set_input(regorus::Value, parsed once) + eval_rule(decision); catalog in data once",
            || {
                rego.set_input(rego_input.clone());
                black_box(
                    rego.eval_rule(GATEWAY_ENTRY.to_string())
                        .expect("evaluates"),
                );
            },
        ),
        contender(
            "regorus RVM",
            "set_input(regorus::Value) + execute_entry_point_by_name(decision)",
            || {
                vm.set_input(rego_input.clone());
                black_box(vm.execute_entry_point_by_name(GATEWAY_ENTRY).expect("runs"));
            },
        ),
        contender(
            "cedar",
            "from the serde_json::Value: uids and Context (schema-checked), Request::new with the schema, is_authorized, @mask read off the reasons; entities built once",
            || {
                black_box(cedar.decide(black_box(&req), NOW));
            },
        ),
    ];
    rows.extend(measure(workload, contenders, s));
    drop(gw);

    // The request as JSON text, over a large catalog.
    let n = s.big_catalog;
    println!("W2 gateway over catalog({n}): building every engine's catalog");
    let start = Instant::now();
    let mut big = Gateway::new(catalog(n), &[NOW]);
    println!("  (built in {:.1} s)", start.elapsed().as_secs_f64());
    // (In a catalog of 10,000 apps or more, `app-9999` exists: that case is
    // then an ordinary one, still decided alike.)
    for (label, req, when) in w2_cases() {
        if when == NOW {
            big.check(label, &req, when);
        }
    }
    let text = serde_json::to_string(&req).expect("JSON");
    let Gateway {
        warden,
        apps,
        cedar,
        rego,
    } = &mut big;
    let (_, rego, vm) = &mut rego[0];
    let workload = format!("W2 gateway, catalog({n}), from JSON text");
    let contenders = vec![
        contender(
            "hand-written",
            "serde_json::from_str + decide_request",
            || {
                let q: Json = serde_json::from_str(black_box(&text)).expect("JSON");
                black_box(hand_written::decide_request(&q, apps, ts));
            },
        ),
        contender(
            "Warden",
            "Engine::decide_text: the text read in one pass into typed values",
            || {
                black_box(
                    warden
                        .decide_text("request", black_box(&text), now, &Default::default())
                        .expect("decides"),
                );
            },
        ),
        contender(
            "Warden, via a tree",
            "serde_json::from_str + Engine::decide",
            || {
                let q: Json = serde_json::from_str(black_box(&text)).expect("JSON");
                black_box(warden.decide("request", &q, now).expect("decides"));
            },
        ),
        contender("regorus", "set_input_json + eval_rule(decision)", || {
            rego.set_input_json(black_box(&text)).expect("JSON");
            black_box(
                rego.eval_rule(GATEWAY_ENTRY.to_string())
                    .expect("evaluates"),
            );
        }),
        contender(
            "regorus RVM",
            "Value::from_json_str + set_input + execute_entry_point_by_name",
            || {
                vm.set_input(regorus::Value::from_json_str(black_box(&text)).expect("JSON"));
                black_box(vm.execute_entry_point_by_name(GATEWAY_ENTRY).expect("runs"));
            },
        ),
        contender(
            "cedar",
            "serde_json::from_str + uids, Context, Request (schema-checked) + is_authorized + @mask",
            || {
                let q: Json = serde_json::from_str(black_box(&text)).expect("JSON");
                black_box(cedar.decide(&q, NOW));
            },
        ),
    ];
    rows.extend(measure(&workload, contenders, s));
}

// ---- W3: one rule per app ----------------------------------------------------------

fn w3(s: &Settings, n: usize, rows: &mut Vec<Row>) {
    println!("W3 per-app rules, N={n}: compiling and checking that the engines agree");
    let w3 = common::w3(n);
    let t = Instant::now();
    let warden = Engine::from_sources(warden::PolicySources::from_texts(w3.warden.clone()))
        .expect("the W3 rules compile");
    let warden_ms = t.elapsed().as_secs_f64() * 1e3;
    let modules: Vec<(&str, &str)> = w3
        .rego
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let t = Instant::now();
    let mut rego = rego_engine(&modules, &[]);
    let rego_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let mut vm = match rvm(&rego, W3_ENTRY) {
        Ok(vm) => Some(vm),
        Err(e) => {
            println!("  regorus RVM: {}", e.lines().next().unwrap_or_default());
            None
        }
    };
    let rvm_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let cedar = CedarW3::new(&w3);
    let cedar_ms = t.elapsed().as_secs_f64() * 1e3;
    let hand = W3Hand::new(&w3);
    println!(
        "  (compile: Warden {warden_ms:.0} ms, regorus parse {rego_ms:.0} ms, regorus RVM {rvm_ms:.0} ms, cedar parse + validate {cedar_ms:.0} ms)"
    );

    for (name, req, rule) in [
        ("request_allow", &w3.allow, Some(w3.allow_rule.as_str())),
        ("request_deny", &w3.deny, None),
    ] {
        let expect_rules: Vec<String> = rule.iter().map(|r| r.to_string()).collect();
        let d = warden
            .decide("request", req, system_time(NOW))
            .expect("decides");
        let mut warden_rules: Vec<String> = d
            .findings
            .iter()
            .filter(|f| f.effect == warden::Effect::Allow)
            .map(|f| f.rule.rsplit('.').next().unwrap_or_default().to_string())
            .collect();
        warden_rules.sort();
        let input = rego_value(req);
        rego.set_input(input.clone());
        let r =
            rego.eval_rule(W3_ENTRY.to_string()).expect("evaluates") == regorus::Value::from(true);
        let rv = vm.as_mut().map(|vm| {
            vm.set_input(input);
            vm.execute_entry_point_by_name(W3_ENTRY).expect("runs") == regorus::Value::from(true)
        });
        let (cedar_allow, cedar_rules) = cedar.decide(req);
        let hand_rule: Vec<String> = hand.decide(req).iter().map(|r| r.to_string()).collect();
        let allow = rule.is_some();
        let mut answers = vec![
            ("expected", (allow, Some(expect_rules))),
            ("Warden", (d.is_allowed(), Some(warden_rules))),
            ("hand-written", (hand_rule.len() == 1, Some(hand_rule))),
            ("cedar", (cedar_allow, Some(cedar_rules))),
            ("regorus", (r, None)),
        ];
        if let Some(rv) = rv {
            answers.push(("regorus RVM", (rv, None)));
        }
        // Regorus says allowed or not; the others also say which rule.
        let (allows, rules): (Vec<_>, Vec<_>) = answers
            .into_iter()
            .map(|(e, (a, rs))| ((e, a), (e, rs)))
            .unzip();
        agree(&format!("N={n} {name}: allowed"), &allows);
        let rules: Vec<_> = rules
            .into_iter()
            .filter_map(|(e, rs)| rs.map(|rs| (e, rs)))
            .collect();
        agree(&format!("N={n} {name}: by the rules"), &rules);
    }

    let workload = format!("W3 per-app rules, N={n}, pre-parsed request (allowed by one rule)");
    let req = &w3.allow;
    let now = system_time(NOW);
    let input = rego_value(req);
    let mut contenders = vec![
        contender(
            "hand-written",
            "a hash map from app id to (users, actions)",
            || {
                black_box(hand.decide(black_box(req)));
            },
        ),
        contender("Warden", "Engine::decide; the whole Decision", || {
            black_box(
                warden
                    .decide("request", black_box(req), now)
                    .expect("decides"),
            );
        }),
        contender(
            "regorus",
            "set_input(regorus::Value) + eval_rule(allow): one `allow` rule of N bodies",
            || {
                rego.set_input(input.clone());
                black_box(rego.eval_rule(W3_ENTRY.to_string()).expect("evaluates"));
            },
        ),
    ];
    let rvm_missing = vm.is_none();
    if let Some(vm) = vm.as_mut() {
        let input = &input;
        contenders.push(contender(
            "regorus RVM",
            "set_input + execute_entry_point_by_name(allow)",
            move || {
                vm.set_input(input.clone());
                black_box(vm.execute_entry_point_by_name(W3_ENTRY).expect("runs"));
            },
        ));
    }
    contenders.push(contender(
        "cedar",
        "uids from the request, empty context, Request::new with the schema, is_authorized over N permits (no entities)",
        || {
            black_box(cedar.decide(black_box(req)));
        },
    ));
    rows.extend(measure(&workload, contenders, s));
    if rvm_missing {
        rows.push(not_available(
            &workload,
            "regorus RVM",
            "the program does not compile: RVM programs hold at most 65,535 instructions",
        ));
    }
}

// ---- output ------------------------------------------------------------------------

fn us(ns: Option<f64>) -> String {
    match ns {
        Some(ns) if ns < 10_000.0 => format!("{:.2} µs", ns / 1e3),
        Some(ns) if ns < 1_000_000.0 => format!("{:.1} µs", ns / 1e3),
        Some(ns) => format!("{:.0} µs", ns / 1e3),
        None => "n/a".into(),
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
        _ => "n/a".into(),
    }
}

fn print_table(rows: &[Row]) {
    let mut workloads: Vec<&str> = Vec::new();
    for r in rows {
        if !workloads.contains(&r.workload.as_str()) {
            workloads.push(&r.workload);
        }
    }
    for w in workloads {
        let of = |engine: &str| {
            rows.iter()
                .find(|r| r.workload == w && r.engine == engine)
                .and_then(|r| r.median_ns)
        };
        let (hand, warden) = (of("hand-written"), of("Warden"));
        println!("\n{w}");
        println!(
            "  {:<13} {:>11} {:>11} {:>13} {:>9} {:>9} {:>9} {:>6}",
            "engine", "median", "p99", "decisions/s", "× hand", "× Warden", "samples", "batch"
        );
        for r in rows.iter().filter(|r| r.workload == w) {
            println!(
                "  {:<13} {:>11} {:>11} {:>13} {:>9} {:>9} {:>9} {:>6}",
                r.engine,
                us(r.median_ns),
                us(r.p99_ns),
                r.per_sec.map_or("n/a".into(), |p| format!("{p:.0}")),
                ratio(r.median_ns, hand),
                ratio(r.median_ns, warden),
                r.samples,
                r.batch
            );
        }
    }
}

fn write_json(rows: &[Row], s: &Settings) {
    let json: Vec<Json> = rows
        .iter()
        .map(|r| {
            json!({
                "workload": r.workload,
                "engine": r.engine,
                "median_ns": r.median_ns,
                "p99_ns": r.p99_ns,
                "per_sec": r.per_sec,
                "samples": r.samples,
                "batch": r.batch,
                "note": r.note,
            })
        })
        .collect();
    common::write_results("results", s.quick, &Json::Array(json));
}

fn main() {
    let s = Settings::from_env();
    println!(
        "peers: {} run, {} ms per engine and workload in {} rounds; reading the clock costs {:.0} ns",
        if s.quick { "a quick" } else { "a full" },
        s.budget.as_millis(),
        s.rounds,
        s.clock_ns
    );
    let start = Instant::now();
    let mut rows = Vec::new();
    w1(&s, &mut rows);
    w2(&s, &mut rows);
    w3(&s, 10, &mut rows);
    w3(&s, s.big_w3, &mut rows);
    print_table(&rows);
    write_json(&rows, &s);
    println!("total {:.0} s", start.elapsed().as_secs_f64());
}
