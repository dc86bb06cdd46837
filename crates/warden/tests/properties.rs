//! Evaluator laws, checked over generated inputs against the corpus policy sets:
//! - the order of policy files and of items within them never changes a decision;
//! - deciding is deterministic;
//! - the literal-equality index never changes a decision (only its cost);
//! - deciding from the input's JSON text (read in one pass) decides as the parsed input does;
//! - deny overrides: an allow decision has no deny finding, and a deny finding means deny.

use proptest::prelude::*;
use serde_json::{Value as Json, json};
use std::path::Path;
use std::time::SystemTime;
use warden::{DecideOptions, Decision, Engine, PolicySources};
use warden_diagnostics::FileId;

fn suite(name: &str) -> PolicySources {
    PolicySources::from_path(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/decisions")
            .join(name)
            .join("policy"),
    )
    .expect("the corpus suite loads")
}

fn catalog() -> Json {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/decisions/gateway/catalog.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("catalog")).expect("catalog is JSON")
}

fn engine(sources: &PolicySources, data: Option<&Json>) -> Engine {
    let engine = Engine::from_sources(sources.clone()).unwrap_or_else(|e| panic!("{e:?}"));
    match data {
        Some(d) => engine.with_data(d).expect("data loads"),
        None => engine,
    }
}

/// The same policy set with its files renamed (so reordered) and every file's items shuffled.
fn reordered(sources: &PolicySources, file_order: &[usize], seed: u64) -> PolicySources {
    let mut files = Vec::new();
    for (rank, &i) in file_order.iter().enumerate() {
        let (path, text) = &sources.files[i % sources.files.len()];
        let parse = warden_syntax::parse(FileId(0), text);
        let mut tree = parse.tree().clone();
        // A deterministic shuffle from the seed.
        let n = tree.items.len();
        let mut state = seed.wrapping_add(rank as u64);
        for k in (1..n).rev() {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            tree.items.swap(k, (state >> 33) as usize % (k + 1));
        }
        files.push((
            format!("{rank:02}-{path}"),
            warden_syntax::print::print_file(&tree),
        ));
    }
    files.sort_by(|a, b| a.0[3..].cmp(&b.0[3..]));
    files.dedup_by(|a, b| a.0[3..] == b.0[3..]);
    PolicySources {
        files,
        root: sources.root.clone(),
        folders: sources.folders.clone(),
        ..PolicySources::default()
    }
}

/// What must not change: outcome, findings and obligations (not ids, not line numbers).
fn essence(d: &Decision) -> Json {
    let findings = |list: &[warden::FindingReport]| -> Vec<Json> {
        list.iter()
            .map(|f| {
                json!([
                    f.rule,
                    f.effect,
                    f.message,
                    f.input_path,
                    f.code,
                    f.waiver.as_ref().map(|w| &w.name)
                ])
            })
            .collect()
    };
    json!({
        "decision": d.decision, "reason": d.reason, "obligations": d.obligations,
        "findings": findings(&d.findings), "warnings": findings(&d.warnings), "waived": findings(&d.waived),
    })
}

fn request() -> impl Strategy<Value = Json> {
    (
        prop::sample::select(vec!["u-123", "u-7", "u-9", "u-404"]),
        prop::sample::select(vec!["user", "service"]),
        prop::sample::select(vec!["sso", "local", "token"]),
        any::<bool>(),
        prop::sample::select(vec!["read", "write", "delete", "admin", "egress"]),
        prop::sample::select(vec!["crm-lite", "old-wiki", "shadow-it"]),
        prop::option::of(0i64..5000),
        prop::option::of(prop::sample::select(vec![
            "api.salesforce.com",
            "paste.example.net",
        ])),
    )
        .prop_map(|(id, kind, via, mfa, action, app, records, host)| {
            json!({
                "principal": { "id": id, "type": kind, "authenticated_via": via, "mfa": mfa },
                "action": action,
                "resource": { "type": "record", "app_id": app },
                "context": { "records_requested": records, "destination_host": host },
            })
        })
}

fn manifest() -> impl Strategy<Value = Json> {
    let role = (prop::sample::select(vec!["Viewer", "Editor", "Admin"]), any::<bool>(), prop::option::of(prop::sample::select(vec!["2026-06-05T00:00:00Z", "2026-12-01T00:00:00Z"])))
        .prop_map(|(template, justified, expires)| {
            let mut r = json!({ "name": format!("{}-role", template.to_lowercase()), "template": template });
            if justified {
                r["justification"] = json!("on call");
            }
            if let Some(e) = expires {
                r["expires_at"] = json!(e);
            }
            r
        });
    let endpoint = (
        prop::sample::select(vec![
            "https://a.apps.acme.example",
            "http://b.example.com",
            "https://c.example.net",
        ]),
        prop::sample::select(vec!["1.2", "1.3"]),
    )
        .prop_map(|(url, tls)| json!({ "url": url, "tls_min_version": tls }));
    (
        prop::sample::select(vec!["crm-lite", "hr-legacy"]),
        prop::sample::select(vec!["low", "medium", "high"]),
        prop::option::of(prop::sample::select(vec!["approved", "pending", "rejected"])),
        prop::sample::select(vec!["oidc", "saml", "none"]),
        any::<bool>(),
        prop::collection::vec(role, 0..3),
        prop::collection::vec(endpoint, 0..3),
        prop::sample::select(vec!["2026-06-10T00:00:00Z", "2026-08-01T00:00:00Z", "2026-05-01T00:00:00Z"]),
    )
        .prop_map(|(name, tier, approval, sso, local, roles, endpoints, expires)| {
            let mut metadata = json!({
                "name": name, "owner": "o@acme.example", "risk_tier": tier,
                "registered_at": "2026-05-01T00:00:00Z", "expires_at": expires,
            });
            if let Some(status) = approval {
                metadata["approval"] = json!({ "status": status, "reviewer": "sec@acme.example" });
            }
            json!({
                "metadata": metadata,
                "spec": { "auth": { "sso": sso, "mfa": "required", "local_accounts": local }, "roles": roles, "endpoints": endpoints },
            })
        })
}

fn now() -> impl Strategy<Value = SystemTime> {
    prop::sample::select(vec!["2026-06-01T00:00:00Z", "2027-04-01T00:00:00Z"])
        .prop_map(|t| t.parse::<jiff::Timestamp>().expect("time").into())
}

fn check_laws(
    engine: &Engine,
    shuffled: &Engine,
    target: &str,
    input: &Json,
    now: SystemTime,
) -> Result<(), TestCaseError> {
    let first = engine.decide(target, input, now).expect("decides");
    let again = engine.decide(target, input, now).expect("decides");
    prop_assert_eq!(essence(&first), essence(&again), "not deterministic");
    let unindexed = engine
        .decide_with(
            target,
            input,
            now,
            &DecideOptions {
                use_index: false,
                ..DecideOptions::default()
            },
        )
        .expect("decides");
    prop_assert_eq!(
        essence(&first),
        essence(&unindexed),
        "the index changed the decision"
    );
    let walked = engine
        .decide_with(
            target,
            input,
            now,
            &DecideOptions {
                tree_walk: true,
                ..DecideOptions::default()
            },
        )
        .expect("decides");
    prop_assert_eq!(
        essence(&first),
        essence(&walked),
        "the compiled form and the tree walker decided differently"
    );
    let from_text = engine
        .decide_text(target, &input.to_string(), now, &DecideOptions::default())
        .expect("decides");
    prop_assert_eq!(
        essence(&first),
        essence(&from_text),
        "reading the input's text in one pass changed the decision"
    );
    let reordered = shuffled.decide(target, input, now).expect("decides");
    prop_assert_eq!(
        essence(&first),
        essence(&reordered),
        "policy order changed the decision"
    );
    let any_deny = first
        .findings
        .iter()
        .any(|f| f.effect == warden::Effect::Deny);
    prop_assert_eq!(
        first.is_allowed(),
        !any_deny && (first.reason.is_none()),
        "deny must override allow"
    );
    if !first.is_allowed() {
        prop_assert!(
            first.obligations.is_empty(),
            "a deny carries no obligations"
        );
    }
    Ok(())
}

/// The number of cases: the default, or `PROPTEST_CASES` for a longer, fuzz-like run.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(64)))]

    #[test]
    fn gateway_laws(input in request(), now in now(), order in Just(vec![0usize]).prop_shuffle(), seed in any::<u64>()) {
        let sources = suite("gateway");
        let data = catalog();
        let engine = engine(&sources, Some(&data));
        let shuffled = self::engine(&reordered(&sources, &order, seed), Some(&data));
        check_laws(&engine, &shuffled, "request", &input, now)?;
    }

    #[test]
    fn manifest_laws(input in manifest(), now in now(), order in Just(vec![0usize, 1, 2]).prop_shuffle(), seed in any::<u64>()) {
        let sources = suite("microapps");
        let engine = engine(&sources, None);
        let shuffled = self::engine(&reordered(&sources, &order, seed), None);
        check_laws(&engine, &shuffled, "manifest", &input, now)?;
    }
}

/// The index law above is only worth something if the index is used: the
/// gateway policy's action tests must put clauses under literal values.
#[test]
fn the_gateway_policy_is_indexed_by_action() {
    let engine = engine(&suite("gateway"), Some(&catalog()));
    let program = engine.compiled_program();
    let target = program.target(program.target_by_name("request").expect("request target"));
    let guarded: usize = target
        .index
        .guards
        .iter()
        .map(|g| g.by_value.values().map(Vec::len).sum::<usize>())
        .sum();
    assert!(
        guarded >= 3,
        "expected action-guarded clauses, index: {:?}",
        target.index
    );
    assert!(
        target
            .index
            .guards
            .iter()
            .any(|g| g.by_value.contains_key("read")),
        "{:?}",
        target.index
    );
}

#[test]
fn data_waivers_with_unknown_keys_or_unmatched_subjects_are_refused() {
    let base = engine(&suite("gateway"), None);
    let waiver = |extra: Json| {
        let mut w = json!({ "name": "w", "rule": "gateway.bulk_reads", "until": "2027-01-01", "reason": "r", "approved_by": "a" });
        w.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        json!({ "waivers": [w] })
    };
    let typo = base
        .clone()
        .with_data(&waiver(json!({ "subjet": "crm-lite" })))
        .unwrap_err()
        .to_string();
    assert!(typo.contains("unknown key `subjet`"), "{typo}");
    let no_subject = base
        .clone()
        .with_data(&waiver(json!({ "subject": "crm-lite" })))
        .unwrap_err()
        .to_string();
    assert!(no_subject.contains("names no subject"), "{no_subject}");
    assert!(base.with_data(&waiver(json!({}))).is_ok());
}

#[test]
fn a_document_supplied_twice_is_refused() {
    let once = engine(&suite("gateway"), Some(&catalog()));
    let twice = once.with_data(&catalog()).unwrap_err().to_string();
    assert!(twice.contains("supplied twice"), "{twice}");
}

#[test]
fn functions_defined_by_two_imported_packages_are_ambiguous() {
    let codes = |main: &str| -> Vec<String> {
        let sources = PolicySources::from_texts([
            (
                "a.warden",
                "package a.util\nfn f(x: int) -> bool = x > 10\n",
            ),
            (
                "c.warden",
                "package c.util\nfn f(x: int) -> bool = x < 10\n",
            ),
            ("main.warden", main),
        ]);
        warden::Workspace::from_sources(sources)
            .diagnostics()
            .iter()
            .map(|d| d.code.to_string())
            .collect()
    };
    let rule = "target request: { n: int } default deny\nrule r on request as req {\n  allow when f(req.n)\n}\n";
    let ambiguous = codes(&format!(
        "package main\nimport a.util as au\nimport c.util as cu\n{rule}"
    ));
    assert!(ambiguous.contains(&"E0112".to_string()), "{ambiguous:?}");
    let same_alias = codes(&format!(
        "package main\nimport a.util\nimport c.util\n{rule}"
    ));
    assert!(
        same_alias.contains(&"E0103".to_string()),
        "two imports named `util`: {same_alias:?}"
    );
}

#[test]
fn one_obligation_is_merged_as_many_are() {
    let engine = Engine::from_sources(PolicySources::from_texts([(
        "p.warden",
        "package p\ntarget t: { n: int } default deny\n\
         rule one on t as x {\n  allow when x.n == 1 with mask = [\"b\", \"a\", \"b\"]\n  allow when x.n == 2 with ttl = 5\n}\n\
         rule two on t as x {\n  allow when x.n == 3 with mask = [\"c\", \"a\"]\n  allow when x.n == 3 with mask = [\"b\"]\n}\n",
    )]))
    .expect("compiles");
    let now = SystemTime::UNIX_EPOCH;
    let obligations = |n: i64| {
        let decision = engine
            .decide("t", &serde_json::json!({ "n": n }), now)
            .expect("decides");
        Json::Object(decision.obligations)
    };
    // One obligation: its list sorted and without duplicates, a scalar as is.
    assert_eq!(obligations(1), serde_json::json!({ "mask": ["a", "b"] }));
    assert_eq!(obligations(2), serde_json::json!({ "ttl": 5 }));
    // Two of one key: the union, sorted.
    assert_eq!(
        obligations(3),
        serde_json::json!({ "mask": ["a", "b", "c"] })
    );
}
