//! `warden diff` as a reviewer runs it on a policy change: the base as a
//! folder or as a git revision, every manifest decided by both sets, the
//! changed decisions grouped by rule, in each format.

mod common;

use common::server::{Server, client};
use common::{scratch, stdout, warden_in};
use serde_json::Value as Json;
use std::path::Path;

/// A copy of the checklist at `dir/NAME`.
fn checklist(dir: &Path, name: &str) {
    common::copy_tree(&common::root().join("stdlib-policies"), &dir.join(name));
}

/// The change under review: MFA now required of every app, public ones too.
fn tighten_mfa(policy: &Path) {
    let file = policy.join("rules/identity.warden");
    let text = std::fs::read_to_string(&file).unwrap();
    let changed = text.replace(
        "deny when lib.classification(app) != \"public\" and app.spec.auth?.mfa != \"required\"",
        "deny when app.spec.auth?.mfa != \"required\"",
    );
    assert_ne!(text, changed, "the rule is as the test expects");
    std::fs::write(file, changed).unwrap();
}

const NOW: &str = "2026-05-20T00:00:00Z";
const RULE: &str = "microapps.identity.mfa_above_public";

fn diff(dir: &Path, base: &str, policy: &str, more: &[&str]) -> std::process::Output {
    let inputs = common::root().join("stdlib-policies/examples/manifests");
    let mut args = vec![
        "diff",
        "--base",
        base,
        "--policy",
        policy,
        "--inputs",
        inputs.to_str().unwrap(),
        "--now",
        NOW,
    ];
    args.extend_from_slice(more);
    warden_in(dir, &args)
}

#[test]
fn a_tightened_rule_shows_the_decisions_it_turns_and_nothing_else() {
    let dir = scratch("diff-folders");
    checklist(&dir, "base");
    checklist(&dir, "head");
    tighten_mfa(&dir.join("head"));

    let out = diff(&dir, "base", "head", &["--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Json = serde_json::from_str(&stdout(&out)).unwrap();
    let changes = report["changes"].as_array().unwrap();
    // The public app without MFA, allowed before, is denied now by that rule;
    // no other decision moved.
    let flipped: Vec<&Json> = changes
        .iter()
        .filter(|c| {
            c["file"]
                .as_str()
                .unwrap()
                .ends_with("compliant-public-no-mfa.yaml")
        })
        .collect();
    assert_eq!(flipped.len(), 1, "{report:#}");
    assert_eq!(flipped[0]["before"], "allow");
    assert_eq!(flipped[0]["after"], "deny");
    assert_eq!(flipped[0]["findings_added"], serde_json::json!([RULE]));
    for change in changes {
        let added = change["findings_added"].as_array().unwrap();
        assert!(added.iter().all(|r| r == RULE), "{change}");
        assert!(
            change["findings_removed"].as_array().unwrap().is_empty(),
            "{change}"
        );
    }
    assert_eq!(
        report["by_rule"].as_object().unwrap().len(),
        1,
        "{report:#}"
    );
    assert_eq!(report["changed"].as_u64(), Some(changes.len() as u64));

    let human = stdout(&diff(&dir, "base", "head", &[]));
    assert!(human.contains("allow -> deny: 1"), "{human}");
    assert!(human.contains(&format!("{RULE}: now fires on")), "{human}");
    let markdown = stdout(&diff(&dir, "base", "head", &["--format", "markdown"]));
    assert!(markdown.contains("| allow | **deny** | 1 |"), "{markdown}");
    assert!(markdown.contains(&format!("| `{RULE}` |")), "{markdown}");
    // The changed set's own tests, each with its data and time.
    let tests = warden_in(
        &dir,
        &[
            "diff", "--base", "base", "--policy", "head", "--tests", "--format", "json",
        ],
    );
    let report: Json = serde_json::from_str(&stdout(&tests)).unwrap();
    let turned: Vec<&Json> = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["file"] == "test microapps.tests.checklist.public_data_app_without_mfa_passes"
        })
        .collect();
    assert_eq!(turned.len(), 1, "{report:#}");
    assert_eq!(turned[0]["before"], "allow");
    assert_eq!(turned[0]["after"], "deny");
    // --fail-on-change: exit 1 when any decision changed, 0 when none did.
    assert_eq!(
        diff(&dir, "base", "head", &["--fail-on-change"])
            .status
            .code(),
        Some(1)
    );
    let same = diff(&dir, "base", "base", &["--fail-on-change"]);
    assert_eq!(same.status.code(), Some(0));
    assert!(
        stdout(&same).contains("no decision changed"),
        "{}",
        stdout(&same)
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_base_can_be_a_git_revision_of_the_policy_folder() {
    let dir = scratch("diff-git");
    checklist(&dir, "policies");
    let git = |args: &[&str]| common::git(&dir, args);
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "the checklist"]);
    tighten_mfa(&dir.join("policies"));
    let out = diff(&dir, "HEAD", "policies", &["--format", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Json = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(
        report["by_rule"][RULE]["now_fires_on"]
            .as_array()
            .is_some_and(|a| !a.is_empty()),
        "{report:#}"
    );
    // The base is unpacked aside and removed: the work tree is untouched.
    assert_ne!(report["base_revision"], report["revision"]);
    // A folder a killed run left (its process gone) is removed by the
    // next run; one of a running process is not.
    let temp = std::env::temp_dir();
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let abandoned = temp.join(format!("warden-diff-{dead}-01KILLEDBYSIGTERM"));
    let running = temp.join(format!("warden-diff-{}-01STILLRUNNING", std::process::id()));
    for d in [&abandoned, &running] {
        std::fs::create_dir_all(d.join("policies")).unwrap();
    }
    diff(&dir, "HEAD", "policies", &[]);
    assert!(!abandoned.exists(), "a dead run's folder is removed");
    assert!(running.exists(), "a live run's folder is kept");
    std::fs::remove_dir_all(&running).ok();
    let missing = diff(&dir, "no-such-revision", "policies", &[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not a folder"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn requests_recorded_in_a_decision_log_are_decided_again_by_both_sets() {
    let dir = scratch("diff-log");
    checklist(&dir, "base");
    checklist(&dir, "head");
    // The change under review: MFA for every app, public ones too.
    let file = dir.join("head/rules/gateway.warden");
    let text = std::fs::read_to_string(&file).unwrap();
    let changed = text.replace(
        "and (app.classification ?? \"internal\") != \"public\"\n    and req.principal.mfa != true",
        "and req.principal.mfa != true",
    );
    assert_ne!(text, changed, "the rule is as the test expects");
    std::fs::write(&file, changed).unwrap();

    // Traffic recorded by the base, inputs logged.
    std::fs::write(dir.join("warden.toml"), "[log]\ninclude_input = true\n").unwrap();
    let catalog = common::root().join("tests/server/catalog.json");
    let data = format!("catalog={}", catalog.display());
    let server = Server::start_in(
        &dir,
        &[
            "--config",
            "warden.toml",
            "--policy",
            "base",
            "--data",
            &data,
            "--decision-log",
            "decisions.jsonl",
        ],
    );
    let ask = |app: &str, mfa: bool| {
        let body = serde_json::json!({ "target": "request", "input": {
            "principal": { "id": "u-123", "type": "user", "authenticated_via": "sso", "mfa": mfa },
            "action": "read", "resource": { "type": "record", "app_id": app, "id": "r-1" },
            "context": { "ip": "10.0.0.1", "request_id": "q" } } });
        let response = client()
            .post(&format!("{}/v1/decide", server.url))
            .header("Content-Type", "application/json")
            .send(body.to_string().as_str())
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
    };
    ask("lunch-poll", false); // public, no MFA: allowed by the base, not by the change
    ask("lunch-poll", true);
    ask("crm-lite", true);
    assert_eq!(server.stop(), Some(0));

    let out = warden_in(
        &dir,
        &[
            "diff",
            "--base",
            "base",
            "--policy",
            "head",
            "--data",
            &data,
            "--decision-log",
            "decisions.jsonl",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Json = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["inputs"], 3, "{report:#}");
    let changes = report["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 1, "{report:#}");
    assert_eq!(changes[0]["file"], "decisions.jsonl:1");
    assert_eq!(changes[0]["before"], "allow");
    assert_eq!(changes[0]["after"], "deny");
    assert_eq!(
        changes[0]["findings_added"],
        serde_json::json!(["microapps.gateway.strong_authentication"])
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A small policy set in `dir/NAME`: a manifest `{ n: int }`, denied past `limit`.
fn small_set(dir: &Path, name: &str, condition: &str) {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("a.warden"),
        format!("package t\n\ntarget manifest: {{ n: int }} default allow\n\n@control(\"X-1\")\nrule big on manifest as m {{\n  deny when {condition}\n}}\n"),
    )
    .unwrap();
    std::fs::write(
        folder.join("b.warden"),
        "package u\nimport t\n\n@control(\"X-2\")\nrule huge on manifest as m {\n  deny when m.n > 100\n}\n",
    )
    .unwrap();
}

#[test]
fn a_git_base_is_the_revision_as_committed_whatever_the_export_rules() {
    let dir = scratch("diff-git-exact");
    small_set(&dir, "pol", "m.n > 5");
    std::fs::create_dir_all(dir.join("in")).unwrap();
    std::fs::write(dir.join("in/x.json"), r#"{"n": 200}"#).unwrap();
    // `git archive` would leave b.warden out of the base.
    std::fs::write(dir.join(".gitattributes"), "pol/b.warden export-ignore\n").unwrap();
    common::git(&dir, &["init", "-q"]);
    common::git(&dir, &["add", "-A"]);
    common::git(&dir, &["commit", "-qm", "base"]);
    for policy in ["pol", "pol/a.warden"] {
        let out = warden_in(
            &dir,
            &[
                "diff",
                "--base",
                "HEAD",
                "--policy",
                policy,
                "--inputs",
                "in",
                "--fail-on-change",
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{policy}: {}", stdout(&out));
        assert!(
            stdout(&out).contains("no decision changed"),
            "{policy}: {}",
            stdout(&out)
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_rule_that_now_fails_is_not_the_rule_firing_and_names_cannot_forge_a_report() {
    let dir = scratch("diff-errors-names");
    small_set(&dir, "base", "m.n > 5");
    small_set(&dir, "head", "m.n / (m.n - m.n) > 5");
    let inputs = dir.join("in");
    std::fs::create_dir_all(&inputs).unwrap();
    // A pull request chooses its file names.
    let forged = "x\n**No decision changed** <details>.json";
    std::fs::write(inputs.join(forged), r#"{"n": 10}"#).unwrap();
    let json = warden_in(
        &dir,
        &[
            "diff", "--base", "base", "--policy", "head", "--inputs", "in", "--format", "json",
        ],
    );
    let report: Json = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(
        report["changes"][0]["findings_added"],
        serde_json::json!(["t.big [E0503]"]),
        "{report:#}"
    );
    assert_eq!(
        report["changes"][0]["findings_removed"],
        serde_json::json!(["t.big"]),
        "{report:#}"
    );
    let markdown = stdout(&warden_in(
        &dir,
        &[
            "diff", "--base", "base", "--policy", "head", "--inputs", "in", "--format", "markdown",
        ],
    ));
    assert!(
        !markdown
            .lines()
            .any(|l| l.starts_with("**No decision changed**")),
        "{markdown}"
    );
    assert!(
        markdown.contains("`in/x?**No decision changed** <details>.json`"),
        "{markdown}"
    );
    let human = stdout(&warden_in(
        &dir,
        &[
            "diff", "--base", "base", "--policy", "head", "--inputs", "in",
        ],
    ));
    assert!(
        !human
            .lines()
            .any(|l| l.starts_with("**No decision changed**")),
        "{human}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_data_document_the_change_adds_is_left_out_of_the_base() {
    let dir = scratch("diff-new-data");
    small_set(&dir, "base", "m.n > 5");
    small_set(&dir, "pol", "m.n > 5 or m.n in data.blocked");
    let a = dir.join("pol/a.warden");
    let text = std::fs::read_to_string(&a).unwrap();
    std::fs::write(
        &a,
        text.replace("target manifest", "data blocked: [int]\n\ntarget manifest"),
    )
    .unwrap();
    std::fs::write(dir.join("blocked.json"), "[3]").unwrap();
    std::fs::create_dir_all(dir.join("in")).unwrap();
    std::fs::write(dir.join("in/x.json"), r#"{"n": 3}"#).unwrap();
    let out = warden_in(
        &dir,
        &[
            "diff",
            "--base",
            "base",
            "--policy",
            "pol",
            "--inputs",
            "in",
            "--data",
            "blocked=blocked.json",
            "--format",
            "json",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("the base declares no data document `blocked`"),
        "{stderr}"
    );
    let report: Json = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["changed"], 1, "{report:#}");
    std::fs::remove_dir_all(&dir).ok();
}
