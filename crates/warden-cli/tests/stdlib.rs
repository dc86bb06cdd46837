//! `stdlib-policies/`: the checklist in Warden. Its tests pass with every rule
//! and clause covered; `docs/controls.md` maps each control to exactly the
//! rules that enforce it and the tests that fail and pass it; the examples
//! decide as their names say.

mod common;

use common::{root, stdout, warden};
use regex::Regex;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use warden::Engine;
use warden_ir::Effect;

const NOW: &str = "2026-05-20T00:00:00Z";

fn json(out: &std::process::Output) -> Json {
    serde_json::from_str(&stdout(out))
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn the_checklist_tests_pass_with_every_rule_and_clause_covered() {
    let out = warden(&[
        "test",
        "--policy",
        "stdlib-policies",
        "--coverage",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let run = json(&out);
    let summary = &run["summary"];
    assert_eq!(summary["passed"], summary["total"], "{summary}");
    assert!(summary["total"].as_u64().unwrap() >= 100, "{summary}");
    let coverage = &run["coverage"];
    assert_eq!(coverage["rules_covered"], coverage["rules_total"]);
    assert_eq!(coverage["clauses_covered"], coverage["clauses_total"]);
    assert!(coverage["clauses_total"].as_u64().unwrap() > 41);
}

#[test]
fn the_checklist_lints_and_is_formatted() {
    let out = warden(&["lint", "stdlib-policies"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("0 errors, 0 warnings"), "{stderr}");
    let out = warden(&["fmt", "--check", "stdlib-policies"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

/// A control's row of `docs/controls.md`: its id and checklist line.
struct Row {
    id: String,
    checklist: String,
}

fn checklist_rows(text: &str) -> Vec<Row> {
    let row = Regex::new(r"(?m)^\| ([A-Z]+-\d+) \| (.*?) \|").unwrap();
    row.captures_iter(text)
        .map(|c| Row {
            id: c[1].to_string(),
            checklist: c[2].to_string(),
        })
        .collect()
}

/// How a test speaks of a rule: it expects the rule to fail the input
/// (deny it, warn, or, for a rule that only allows, not allow it) or to pass it.
fn verdicts(engine: &Engine) -> BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> {
    let program = engine.compiled_program();
    let mut by_rule: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for test in engine.compiled_tests() {
        for expectation in &test.expects {
            // A waived finding neither fails nor passes the control.
            let Some(rule) = expectation.rule.filter(|_| !expectation.waived) else {
                continue;
            };
            let entry = by_rule.entry(program.rule(rule).name.clone()).or_default();
            match (expectation.effect, expectation.negated) {
                (Effect::Deny, false) | (Effect::Allow, true) => {
                    entry.0.insert(test.name.clone());
                }
                (Effect::Deny, true) | (Effect::Allow, false) | (Effect::Warn, true) => {
                    entry.1.insert(test.name.clone());
                }
                (Effect::Warn, false) => {
                    entry.0.insert(format!("{} (warns)", test.name));
                }
            }
        }
    }
    by_rule
}

fn names(set: &BTreeSet<String>) -> String {
    set.iter()
        .map(|n| format!("`{}`", n.trim_start_matches("microapps.tests.")))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn docs_controls_maps_every_control_to_exactly_its_rules_and_tests() {
    let engine = Engine::from_dir(root().join("stdlib-policies")).expect("the checklist compiles");
    let path = root().join("docs/controls.md");
    let text = std::fs::read_to_string(&path).expect("docs/controls.md");
    let rows = checklist_rows(&text);

    // The checklist is the contract's, when the contract is at hand.
    let contract = root().join("../shared/design/controls.md");
    if let Ok(contract) = std::fs::read_to_string(&contract) {
        let want: Vec<(String, String)> = checklist_rows(&contract)
            .into_iter()
            .map(|r| (r.id, r.checklist))
            .collect();
        let have: Vec<(String, String)> = rows
            .iter()
            .map(|r| (r.id.clone(), r.checklist.clone()))
            .collect();
        assert_eq!(
            have, want,
            "docs/controls.md must list the contract's controls"
        );
    }
    assert_eq!(rows.len(), 41, "the checklist has 41 controls");

    let rules = engine.rules();
    let ids: BTreeSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    for rule in &rules {
        let control = rule.control.as_deref().unwrap_or_else(|| {
            panic!(
                "{} has no @control: the checklist holds no extra rules",
                rule.name
            )
        });
        assert!(
            ids.contains(control),
            "{} names unknown control {control}",
            rule.name
        );
    }
    assert!(
        engine.compiled_program().waivers.is_empty(),
        "--policy stdlib-policies is exactly the checklist: no waivers"
    );

    let verdicts = verdicts(&engine);
    let mut lines: Vec<String> = Vec::new();
    for row in &rows {
        let enforcing: Vec<_> = rules
            .iter()
            .filter(|r| r.control.as_deref() == Some(row.id.as_str()))
            .collect();
        assert!(!enforcing.is_empty(), "no rule enforces {}", row.id);
        let (mut fails, mut passes) = (BTreeSet::new(), BTreeSet::new());
        for rule in &enforcing {
            let quote = format!("Checklist {}: \"{}\"", row.id, row.checklist);
            assert!(
                rule.doc.as_deref().is_some_and(|d| d.contains(&quote)),
                "{}'s description must quote its checklist line: {quote}",
                rule.name
            );
            if let Some((f, p)) = verdicts.get(&rule.name) {
                fails.extend(f.iter().cloned());
                passes.extend(p.iter().cloned());
            }
        }
        assert!(!fails.is_empty(), "no test fails {}", row.id);
        assert!(!passes.is_empty(), "no test passes {}", row.id);
        let rule_cells: Vec<String> = enforcing.iter().map(|r| format!("`{}`", r.name)).collect();
        lines.push(format!(
            "| {} | {} | {} | {} | {} |",
            row.id,
            row.checklist,
            rule_cells.join(", "),
            names(&fails),
            names(&passes)
        ));
    }
    // Everything above the first row stays as written; the rows are generated.
    let first_row = text
        .find(&format!("| {} |", rows[0].id))
        .expect("a first row");
    let generated = format!("{}{}\n", &text[..first_row], lines.join("\n"));
    expect_test::expect_file!["../../../docs/controls.md"].assert_eq(&generated);
}

/// The controls of a decision's deny findings.
fn denied_controls(decision: &Json) -> BTreeSet<&str> {
    decision["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["effect"] == "deny")
        .map(|f| f["control"].as_str().unwrap())
        .collect()
}

#[test]
fn every_example_manifest_fails_exactly_the_control_its_name_gives() {
    let out = warden(&[
        "check",
        "--policy",
        "stdlib-policies",
        "--now",
        NOW,
        "--format",
        "json",
        "stdlib-policies/examples/manifests",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let report = json(&out);
    let failing = Regex::new(r"failing/([A-Z]+-\d+)-").unwrap();
    let mut controls_failed = BTreeSet::new();
    for result in report["results"].as_array().unwrap() {
        let file = result["file"].as_str().unwrap();
        let decision = &result["decision"];
        assert!(decision.is_object(), "{file} was not decided: {result}");
        let denied = denied_controls(decision);
        match failing.captures(file) {
            Some(c) => {
                let id = c[1].to_string();
                assert_eq!(denied, BTreeSet::from([id.as_str()]), "{file}");
                assert_eq!(decision["decision"], "deny", "{file}");
                for finding in decision["findings"].as_array().unwrap() {
                    let located = &finding["input_location"];
                    assert!(
                        located["line"].is_u64(),
                        "every finding points at a line: {file}: {finding}"
                    );
                }
                controls_failed.insert(id);
            }
            None => {
                assert_eq!(decision["decision"], "allow", "{file}: {decision}");
                assert_eq!(decision["warnings"], serde_json::json!([]), "{file}");
            }
        }
    }
    let engine = Engine::from_dir(root().join("stdlib-policies")).unwrap();
    let manifest_controls: BTreeSet<String> = engine
        .rules()
        .into_iter()
        .filter(|r| r.target == "manifest")
        .filter_map(|r| r.control)
        .collect();
    assert_eq!(
        controls_failed, manifest_controls,
        "one failing example per manifest control"
    );
}

#[test]
fn every_example_request_decides_as_its_name_says() {
    let dir = root().join("stdlib-policies/examples/requests");
    let name = Regex::new(r"^(allow|deny)--(?:([A-Z]+-\d+)--)?").unwrap();
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let c = name
            .captures(&file)
            .unwrap_or_else(|| panic!("{file}: allow--… or deny--ID--…"));
        let out = warden(&[
            "decide",
            "--policy",
            "stdlib-policies",
            "--data",
            "catalog=stdlib-policies/examples/catalog.json",
            "--now",
            NOW,
            path.to_str().unwrap(),
        ]);
        let decision = json(&out);
        assert_eq!(decision["decision"], &c[1], "{file}: {decision}");
        let denied = denied_controls(&decision);
        let expected: BTreeSet<&str> = c.get(2).map(|m| m.as_str()).into_iter().collect();
        assert_eq!(denied, expected, "{file}: {decision}");
        seen += 1;
    }
    assert!(seen >= 10, "only {seen} request examples");
}

#[test]
fn a_team_pack_composes_with_the_checklist_without_editing_it() {
    let pack = [
        "--policy",
        "stdlib-policies",
        "--policy",
        "examples/team-pack",
    ];
    let out = warden(&[&["test"][..], &pack, &["--format", "json", "acme."]].concat());
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let run = json(&out);
    assert_eq!(run["summary"]["total"], 6, "{}", run["summary"]);
    assert_eq!(run["summary"]["passed"], 6);

    let out = warden(
        &[
            &["check"][..],
            &pack,
            &[
                "--now",
                NOW,
                "--format",
                "json",
                "examples/team-pack/manifests",
            ],
        ]
        .concat(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let report = json(&out);
    let legacy = &report["results"][0];
    assert!(
        legacy["file"]
            .as_str()
            .unwrap()
            .ends_with("legacy-crm.yaml")
    );
    assert_eq!(
        legacy["decision"]["waived"][0]["rule"],
        "microapps.data.tls_1_3"
    );
    assert_eq!(
        legacy["decision"]["waived"][0]["waiver"]["name"],
        "acme.sales.waivers.legacy_crm_tls"
    );

    // The team's rules really are in force: the checklist alone lets this through.
    let consent = root().join("stdlib-policies/examples/manifests/compliant.yaml");
    let text = std::fs::read_to_string(consent)
        .unwrap()
        .replace("per_user_consent: true", "per_user_consent: false");
    let dir = common::scratch("team-pack");
    std::fs::write(dir.join("app.yaml"), &text).unwrap();
    let app = dir.join("app.yaml");
    let alone = warden(&[
        "check",
        "--policy",
        "stdlib-policies",
        "--now",
        NOW,
        app.to_str().unwrap(),
    ]);
    assert_eq!(alone.status.code(), Some(0), "{}", stdout(&alone));
    let composed = warden(
        &[
            &["check"][..],
            &pack,
            &["--now", NOW, app.to_str().unwrap()],
        ]
        .concat(),
    );
    assert_eq!(composed.status.code(), Some(1), "{}", stdout(&composed));
    assert!(
        stdout(&composed).contains("SALES-2"),
        "{}",
        stdout(&composed)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_waivers_file_schema_accepts_the_example_and_the_engine_honours_it() {
    let read = |path: &str| -> Json {
        serde_json::from_str(&std::fs::read_to_string(root().join(path)).unwrap()).unwrap()
    };
    let schema = read("stdlib-policies/schema/waivers.schema.json");
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    let example = read("stdlib-policies/examples/waivers.json");
    assert!(validator.is_valid(&example));
    for waiver in example["waivers"].as_array().unwrap() {
        for (key, _) in waiver.as_object().unwrap() {
            let described = &schema["$defs"]["Waiver"]["properties"][key]["description"];
            assert!(described.is_string(), "`{key}` has no description");
        }
    }
    let mut misspelt = example.clone();
    misspelt["waivers"][0]["subjet"] = Json::from("crm-lite");
    assert!(!validator.is_valid(&misspelt), "unknown keys are refused");

    let out = warden(&[
        "check",
        "--policy",
        "stdlib-policies",
        "--data",
        "stdlib-policies/examples/waivers.json",
        "--now",
        NOW,
        "--format",
        "json",
        "stdlib-policies/examples/manifests/failing/DATA-1-tls-1-2.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let decision = &json(&out)["results"][0]["decision"];
    assert_eq!(
        decision["waived"][0]["waiver"]["name"],
        "crm-lite-tls-upgrade"
    );
}

#[test]
fn every_schema_field_is_documented() {
    let engine_sources =
        warden::PolicySources::from_path(root().join("stdlib-policies/schema")).unwrap();
    let mut undocumented = Vec::new();
    let mut fields = 0;
    for (path, text) in &engine_sources.files {
        let parse = warden_syntax::parse(warden_diagnostics::FileId(0), text);
        for item in &parse.tree().items {
            if item.doc.is_none() {
                undocumented.push(format!("{path}: a declaration"));
            }
            let warden_syntax::ast::ItemKind::Type(decl) = &item.kind else {
                continue;
            };
            let warden_syntax::ast::TypeExprKind::Record { fields: decls, .. } = &decl.ty.kind
            else {
                continue;
            };
            for field in decls {
                fields += 1;
                if field.doc.is_none() {
                    undocumented.push(format!("{path}: {}.{}", decl.name.text, field.name.text));
                }
            }
        }
    }
    assert!(fields > 80, "only {fields} fields");
    assert!(undocumented.is_empty(), "{undocumented:#?}");
}
