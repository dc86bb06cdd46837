//! `warden verify` on a policy pull request over the bundled checklist: the
//! base is the last commit (`--base HEAD`), the change is in the work tree,
//! as CI sees a pull request. A loosened rule is refuted with an input the
//! base denies and the change allows; a tightened one is proved. And what
//! a user gets wrong is refused with a coded error.
#![cfg(feature = "verify")]

mod common;

use common::{copy_tree, git, root, scratch, warden_in};
use std::path::Path;

/// The checklist in a git repository of its own, committed.
fn repository(name: &str) -> std::path::PathBuf {
    let dir = scratch(name);
    copy_tree(&root().join("stdlib-policies"), &dir);
    git(&dir, &["init", "-q"]);
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-qm", "base"]);
    dir
}

fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no `{from}`");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

fn tightening(dir: &Path) -> (i32, serde_json::Value) {
    let output = warden_in(
        dir,
        &[
            "verify",
            "tightening",
            "--base",
            "HEAD",
            "--policy",
            ".",
            "--data",
            "catalog=examples/catalog.json",
            "--now",
            "2026-06-01T00:00:00Z",
            "--items",
            "spec.logging.fields=9",
            "--target",
            "manifest",
            "--format",
            "json",
        ],
    );
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&output.stderr));
    });
    (output.status.code().unwrap_or(-1), report)
}

const MFA: &str =
    r#"deny when lib.classification(app) != "public" and app.spec.auth?.mfa != "required""#;

#[test]
fn a_loosened_rule_is_refuted_with_an_input_the_base_denies() {
    let dir = repository("verify-loosened");
    edit(
        &dir,
        "rules/identity.warden",
        MFA,
        r#"deny when lib.classification(app) != "public" and not (app.spec.auth?.mfa in ["required", "optional"])"#,
    );
    let (code, report) = tightening(&dir);
    let result = &report["results"][0];
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(result["verdict"], "fails");
    assert_eq!(result["base"]["decision"], "deny");
    assert_eq!(result["policy"]["decision"], "allow");
    assert!(
        result["base"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "microapps.identity.mfa_above_public"),
        "{result:#}"
    );
    // The input is what the change lets through: optional MFA on data above public.
    let input = &result["counterexample"];
    assert_eq!(input["spec"]["auth"]["mfa"], "optional", "{input:#}");
    assert_ne!(
        input["spec"]["data"]["classification"], "public",
        "{input:#}"
    );
}

#[test]
fn a_tightened_rule_is_proved_safe() {
    let dir = repository("verify-tightened");
    edit(
        &dir,
        "rules/identity.warden",
        MFA,
        r#"deny when app.spec.auth?.mfa != "required""#,
    );
    let (code, report) = tightening(&dir);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["results"][0]["verdict"], "holds");
}

#[test]
fn requests_it_cannot_answer_are_refused_with_a_code() {
    let dir = root().join("tests/verify/tightening-holds");
    for (args, code, says) in [
        (
            vec!["never-fires", "t.nope", "--policy", "policy"],
            "E0702",
            "no rule `t.nope`",
        ),
        (
            vec!["always-denies", "nope", "--policy", "policy"],
            "E0702",
            "no target `nope`",
        ),
        (
            vec![
                "always-denies",
                "app",
                "--policy",
                "policy",
                "--max-items",
                "0",
            ],
            "E0702",
            "--max-items",
        ),
        (
            vec![
                "always-denies",
                "app",
                "--policy",
                "policy",
                "--max-items",
                "17",
            ],
            "E0702",
            "--max-items",
        ),
        (
            vec![
                "always-denies",
                "app",
                "--policy",
                "policy",
                "--timeout",
                "0",
            ],
            "E0702",
            "--timeout",
        ),
        (
            vec![
                "always-denies",
                "app",
                "--policy",
                "policy",
                "--items",
                "endpoints=99",
            ],
            "E0702",
            "--items",
        ),
    ] {
        let mut full = vec!["verify"];
        full.extend(args.iter().copied());
        let output = warden_in(&dir, &full);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(code) && stderr.contains(says),
            "{args:?}: {stderr}"
        );
    }
    // Not PATH=N: clap's usage error.
    let output = warden_in(
        &dir,
        &[
            "verify",
            "always-denies",
            "app",
            "--policy",
            "policy",
            "--items",
            "endpoints",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("PATH=N"));
}
