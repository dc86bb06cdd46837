//! `warden test`, `fmt`, `lint` and `explain` as a user runs them.

mod common;

use common::{count_elements, root, scratch, stdout, warden, warden_in};
use expect_test::expect;
use serde_json::Value as Json;
use std::process::Output;

#[test]
fn test_runs_the_example_tests_with_coverage() {
    let out = warden(&["test", "--policy", "examples/policies", "--coverage"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    expect![[r#"
        pass  microapps.tests.compliant_app_is_allowed (examples/policies/tests.warden:3:6)
        pass  microapps.tests.sso_none_is_denied (examples/policies/tests.warden:9:6)
        pass  microapps.tests.local_accounts_are_denied (examples/policies/tests.warden:17:6)
        pass  microapps.tests.admin_role_needs_justification_and_expiry (examples/policies/tests.warden:36:6)
        pass  microapps.tests.expired_registration_is_denied (examples/policies/tests.warden:55:6)
        pass  microapps.tests.renewal_is_due_soon (examples/policies/tests.warden:61:6)
        pass  microapps.tests.off_domain_endpoint_only_warns (examples/policies/tests.warden:67:6)

        7 tests: 7 passed, 0 failed
        coverage: rules 6/6 (100%), clauses 9/10 (90%)
          never decided: deny clause of microapps.data.tls_1_3 at examples/policies/transport.warden:9:3
    "#]]
    .assert_eq(&stdout(&out));
}

#[test]
fn test_reports_failures_and_errors_where_they_are_written() {
    let out = warden(&["test", "--policy", "tests/cli/test-cmd"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a test that cannot run is exit 2"
    );
    expect![[r#"
        pass  shop.small_order_passes (tests/cli/test-cmd/policy.warden:13:6)
        FAIL  shop.wrong_expectation_fails (tests/cli/test-cmd/policy.warden:18:6)
              tests/cli/test-cmd/policy.warden:20:3: expected allow; the decision was deny (no rule allowed this)
        FAIL  shop.wrong_obligation_fails (tests/cli/test-cmd/policy.warden:23:6)
              tests/cli/test-cmd/policy.warden:25:3: expected obligation `queue` = "express", found "standard"
        ERROR shop.missing_fixture_is_an_error (tests/cli/test-cmd/policy.warden:28:6)
              tests/cli/test-cmd/policy.warden:29:17: cannot read fixture `tests/cli/test-cmd/fixtures/nowhere.yaml`: No such file or directory (os error 2)
        ERROR shop.fixture_not_matching_the_type_is_an_error (tests/cli/test-cmd/policy.warden:33:6)
              tests/cli/test-cmd/policy.warden:34:17: [E0401] the input does not match the type of target `order`:
                $.quantity: expected int, found "lots"
        pass  shop.huge_order_is_denied (tests/cli/test-cmd/policy.warden:38:6)
        pass  shop.patched_fixture_is_allowed (tests/cli/test-cmd/policy.warden:43:6)
        ERROR shop.patch_removing_a_required_field_is_an_error (tests/cli/test-cmd/policy.warden:48:6)
              tests/cli/test-cmd/policy.warden:49:17: [E0401] the input does not match the type of target `order`:
                $.item: expected string, found nothing (the field is missing)
        pass  shop.patched_inline_input_is_checked (tests/cli/test-cmd/policy.warden:53:6)
        pass  shop.negated_expectation_holds (tests/cli/test-cmd/policy.warden:58:6)
        FAIL  shop.negated_expectation_fails (tests/cli/test-cmd/policy.warden:64:6)
              tests/cli/test-cmd/policy.warden:66:3: expected no deny from shop.small_orders; the decision was deny (deny shop.small_orders)

        11 tests: 5 passed, 3 failed, 3 could not run
    "#]]
    .assert_eq(&stdout(&out));
}

#[test]
fn a_failing_test_exits_1() {
    let dir = scratch("cmd-failing");
    std::fs::write(
        dir.join("p.warden"),
        "package p\ntarget req: { n: int } default deny\n@control(\"X-1\")\nrule r on req as q {\n  allow when q.n > 1\n}\ntest t {\n  given req = { n: 1 }\n  expect allow r\n}\n",
    )
    .unwrap();
    let out = warden_in(&dir, &["test", "--policy", "."]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out)
            .contains("expected allow from p.r; the decision was deny (no rule allowed this)")
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn test_json_and_junit_carry_the_same_results() {
    let out = warden(&[
        "test",
        "--policy",
        "tests/cli/test-cmd",
        "--format",
        "json",
        "--coverage",
    ]);
    let json: Json = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(
        json["summary"],
        serde_json::json!({"total": 11, "passed": 5, "failed": 3, "errors": 3})
    );
    assert_eq!(json["tests"][1]["status"], "failed");
    assert_eq!(json["tests"][1]["failures"][0]["location"]["line"], 20);
    assert_eq!(json["coverage"]["clauses_total"], 2);
    assert_eq!(json["coverage"]["rules"][0]["clauses"][0]["covered"], true);

    let out = warden(&[
        "test",
        "--policy",
        "tests/cli/test-cmd",
        "--format",
        "junit",
    ]);
    let xml = stdout(&out);
    assert!(
        xml.contains(r#"<testsuites name="warden test" tests="11" failures="3" errors="3">"#),
        "{xml}"
    );
    assert_eq!(
        count_elements(&xml, &["testcase", "failure", "error"]),
        [11, 3, 3]
    );
}

#[test]
fn test_of_a_policy_that_does_not_compile_exits_2_with_diagnostics() {
    let out = warden(&["test", "--policy", "tests/cli/broken.warden"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Error"));
}

#[test]
fn fmt_rewrites_files_and_check_reports_them() {
    let dir = scratch("cmd-fmt");
    let messy = "package p   // the package\n\ntarget t: { a: string, b: { c: int, d: [string], e: string, f: string, g: string, h: string, i: string } } default deny\n@control(\"X-1\")   @severity(low)\nrule r on t as x {\n  // why\n  deny when x.a==\"q\"\n}\n";
    std::fs::write(dir.join("p.warden"), messy).unwrap();
    let out = warden_in(&dir, &["fmt", "--check", "."]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("./p.warden: not formatted (first difference on line 1)"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("p.warden")).unwrap(),
        messy,
        "--check changes nothing"
    );

    let out = warden_in(&dir, &["fmt", "."]);
    assert_eq!(out.status.code(), Some(0));
    expect![[r#"
        package p  // the package

        target t: {
          a: string,
          b: { c: int, d: [string], e: string, f: string, g: string, h: string, i: string },
        } default deny

        @control("X-1") @severity(low)
        rule r on t as x {
          // why
          deny when x.a == "q"
        }
    "#]]
    .assert_eq(&std::fs::read_to_string(dir.join("p.warden")).unwrap());
    let out = warden_in(&dir, &["fmt", "--check", "."]);
    assert_eq!(out.status.code(), Some(0), "formatted files pass the check");

    std::fs::write(
        dir.join("broken.warden"),
        "package p\nrule r on t {\n  deny when\n",
    )
    .unwrap();
    let out = warden_in(&dir, &["fmt", "."]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("has syntax errors; it was not formatted")
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_bundled_examples_are_formatted() {
    let out = warden(&["fmt", "--check", "examples/policies"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn lint_adds_hygiene_lints_to_compile() {
    let dir = scratch("cmd-lint");
    std::fs::write(
        dir.join("p.warden"),
        "package p\ntarget t: { a: string } default allow\nrule r on t as x {\n  let unused = 1\n  deny when x.a == \"q\"\n  deny when false\n}\n",
    )
    .unwrap();
    let out = warden_in(&dir, &["compile", "--format", "json", "."]);
    let codes = |out: &Output| -> Vec<String> {
        let json: Json = serde_json::from_str(&stdout(out)).unwrap();
        json.as_array()
            .unwrap()
            .iter()
            .map(|d| d["code"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(codes(&out), ["W0001", "W0003"]);
    assert_eq!(out.status.code(), Some(0), "warnings alone do not fail");
    let out = warden_in(&dir, &["lint", "--format", "json", "."]);
    assert_eq!(codes(&out), ["W0002", "W0005", "W0001", "W0003"]);
    std::fs::remove_dir_all(&dir).ok();
}

/// The JSON of a diagnostic carries what the human form prints: the
/// secondary label with its place, the notes and the help.
#[test]
fn json_diagnostics_carry_secondary_places_notes_and_help() {
    let dir = scratch("cmd-related");
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    std::fs::write(
        dir.join("lib/p.warden"),
        "package p
fn even(n: int) -> bool = if n == 0 then true else odd(n - 1)
fn odd(n: int) -> bool = if n == 0 then false else even(n - 1)
",
    )
    .unwrap();
    let out = warden_in(&dir, &["lint", "--format", "json", "."]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let json: Json = serde_json::from_str(&stdout(&out)).unwrap();
    let recursive = json
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "E0108")
        .unwrap_or_else(|| panic!("{json:#}"));
    assert_eq!(recursive["file"], "lib/p.warden");
    assert_eq!(recursive["label"], "defined here");
    let related = &recursive["related"][0];
    assert_eq!(related["message"], "this call leads back to it");
    assert_eq!(related["file"], "lib/p.warden");
    assert!(related["line"].as_u64().unwrap() >= 2, "{related}");
    assert!(
        recursive["notes"][0]
            .as_str()
            .unwrap()
            .starts_with("call cycle:")
    );
    assert!(recursive["help"].as_str().unwrap().contains("terminate"));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn explain_shows_rules_and_codes() {
    let out = warden(&["explain", "--policy", "examples/policies", "sso_required"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.starts_with("rule microapps.identity.sso_required\n\nEvery micro app signs users in through corporate SSO"), "{text}");
    assert!(text.contains("  control:  IAM-1") && text.contains("  severity: high"));
    assert!(text.contains("examples/policies/identity.warden:6:6"));
    assert!(text.contains("deny when app.spec.auth.sso == \"none\""));

    let out = warden(&["explain", "E0204"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(text.starts_with("# E0204: not-in-union"));
    assert!(text.contains("## Example") && text.contains("## Fix"));

    let out = warden(&["explain", "--policy", "examples/policies", "sso_requird"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("did you mean `microapps.identity.sso_required`?")
    );
    let out = warden(&["explain", "E9999"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn every_code_has_an_explanation_with_a_bad_and_a_fixed_example() {
    for code in warden::Code::ALL {
        let out = warden(&["explain", code.as_str()]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{code}");
        assert!(
            text.starts_with(&format!("# {code}: {}", code.info().slug)),
            "{code}: {text}"
        );
        assert!(
            text.contains("## Example") && text.contains("## Fix"),
            "{code}"
        );
    }
}

#[test]
fn folders_written_with_a_trailing_slash_compose_as_without() {
    let dir = scratch("trailing-slash");
    for (path, text) in [
        (
            "a/p.warden",
            "package a\ntarget manifest: { region: string, ... } default allow\ndata regions: [string] = file(\"regions.json\")\n@control(\"D-1\")\nrule r on manifest as m {\n  deny when not (m.region in data.regions)\n}\ntest t_ok {\n  given manifest = fixture(\"ok.json\")\n  expect allow\n}\n",
        ),
        ("a/regions.json", "[\"eu\"]"),
        ("a/ok.json", "{\"region\": \"eu\"}"),
        (
            "b/q.warden",
            "package b\n@control(\"D-2\")\nrule r2 on manifest as m {\n  deny when m.region == \"xx\"\n}\ntest t2 {\n  given manifest = fixture(\"ok.json\")\n  expect allow\n}\n",
        ),
        ("b/ok.json", "{\"region\": \"eu\"}"),
    ] {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    for policies in [["a", "b"], ["a/", "b//"], ["./a/.", "b/"]] {
        let out = warden_in(
            &dir,
            &["test", "--policy", policies[0], "--policy", policies[1]],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "{policies:?}: {}{}",
            stdout(&out),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_checklist_inside_the_binary_decides_anywhere_and_cannot_be_edited_in_place() {
    // No `--policy`, no `./policies`, no checkout: the built-in checklist.
    let dir = scratch("anywhere");
    let cache = dir.join("cache");
    let failing =
        root().join("stdlib-policies/examples/manifests/failing/IAM-1-local-accounts.yaml");
    std::fs::copy(&failing, dir.join("app.yaml")).unwrap();
    let check = || {
        let out = std::process::Command::new(common::warden_bin())
            .args(["check", "--now", "2026-05-20T00:00:00Z", "app.yaml"])
            .current_dir(&dir)
            .env("NO_COLOR", "1")
            .env("XDG_CACHE_HOME", &cache)
            .output()
            .unwrap();
        (out.status.code(), stdout(&out))
    };
    let (code, text) = check();
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("IAM-1"), "{text}");
    // Said, with the revision its decisions carry.
    let json = std::process::Command::new(common::warden_bin())
        .args([
            "check",
            "--format",
            "json",
            "--now",
            "2026-05-20T00:00:00Z",
            "app.yaml",
        ])
        .current_dir(&dir)
        .env("XDG_CACHE_HOME", &cache)
        .output()
        .unwrap();
    let report: Json = serde_json::from_slice(&json.stdout).unwrap();
    let revision = report["results"][0]["decision"]["policy_revision"]
        .as_str()
        .unwrap();
    let said = String::from_utf8_lossy(&json.stderr);
    assert!(
        said.contains("the checklist built into warden") && said.contains(revision),
        "{said}"
    );
    // Said once, however often a command asks for its policies.
    let explained = std::process::Command::new(common::warden_bin())
        .args(["explain", "corporate_sso"])
        .current_dir(&dir)
        .env("XDG_CACHE_HOME", &cache)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&explained.stderr);
    assert_eq!(
        said.matches("the checklist built into warden").count(),
        1,
        "{said}"
    );
    // Its copy in the cache is edited (the rule loses its clause) and given
    // a rule of someone else's: the next run restores it.
    let copy = std::fs::read_dir(cache.join("warden").join(env!("CARGO_PKG_VERSION")))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::write(
        copy.join("rules/identity.warden"),
        "package microapps.identity\n",
    )
    .unwrap();
    std::fs::write(
        copy.join("rules/allow_all.warden"),
        "package x\nrule y on manifest as m {\n  allow when true\n}\n",
    )
    .unwrap();
    let (code, text) = check();
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("IAM-1"), "the copy was restored: {text}");
    assert!(!copy.join("rules/allow_all.warden").exists());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn init_starts_a_repository_that_passes_its_own_checks_today() {
    // The binary alone: no checkout, no ./policies.
    let dir = scratch("init");
    let run = |args: &[&str]| {
        let out = warden_in(&dir, args);
        (out.status.code(), stdout(&out))
    };
    let (code, text) = run(&["init"]);
    assert_eq!(code, Some(0), "{text}");
    // The documented workflow's steps, at the real clock.
    for step in [
        &["fmt", "--check", "policies"][..],
        &["lint", "policies"],
        &["test", "--policy", "policies", "--coverage"],
        &[
            "check", "--policy", "policies", "--format", "github", "apps/",
        ],
    ] {
        let (code, text) = run(step);
        assert_eq!(code, Some(0), "{step:?}: {text}");
    }
    assert!(dir.join(".github/workflows/warden.yml").is_file());
    // Nothing is written over.
    let (code, _) = run(&["init"]);
    assert_eq!(code, Some(2));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn lint_names_waivers_past_their_date_as_of_now() {
    let dir = scratch("lint-expired-waiver");
    std::fs::write(
        dir.join("p.warden"),
        "package p\n\ntarget manifest: { name: string } default allow\n\n/// Names are set.\n@control(\"GOV-1\")\nrule named on manifest as m {\n  deny when m.name == \"\"\n}\n\nwaiver legacy for p.named\n  until 2026-03-01\n  reason \"migration, SEC-1\"\n  approved_by \"ciso@example.invalid\"\n\ntest empty {\n  given manifest = { name: \"\" }\n  expect waived p.named\n}\n",
    )
    .unwrap();
    let lint = |now: &str| {
        warden_in(
            &dir,
            &["lint", "p.warden", "--now", now, "--format", "json"],
        )
    };
    let after: serde_json::Value =
        serde_json::from_str(&stdout(&lint("2026-06-01T00:00:00Z"))).unwrap();
    let codes: Vec<&str> = after
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert_eq!(codes, ["W0004"], "{after:#}");
    let before: serde_json::Value =
        serde_json::from_str(&stdout(&lint("2026-01-01T00:00:00Z"))).unwrap();
    assert_eq!(before.as_array().unwrap().len(), 0, "{before:#}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn lint_prints_cost_bounds_and_refuses_rules_over_the_cap() {
    let bounds = warden(&["lint", "--policy", "stdlib-policies", "--cost"]);
    assert_eq!(bounds.status.code(), Some(0));
    let text = stdout(&bounds);
    assert!(
        text.contains("microapps.thirdparty.dpa_for_pii: O(|manifest.spec.data.pii_fields| × |manifest.spec.integrations|)"),
        "{text}"
    );
    assert!(
        text.contains("microapps.identity.mfa_above_public: O(1)"),
        "{text}"
    );
    // Collections of 100: a product of two is 10,000, over a cap of 1,000.
    let capped = warden(&[
        "lint",
        "--policy",
        "stdlib-policies",
        "--max-cost",
        "1000",
        "--size-cap",
        "100",
    ]);
    assert_eq!(capped.status.code(), Some(2));
    assert!(
        stdout(&capped).contains("dpa_for_pii"),
        "{}",
        stdout(&capped)
    );
    assert!(
        stdout(&capped).contains("over --max-cost 1000"),
        "{}",
        stdout(&capped)
    );
    let roomy = warden(&[
        "lint",
        "--policy",
        "stdlib-policies",
        "--max-cost",
        "1000000000",
        "--size-cap",
        "100",
    ]);
    assert_eq!(roomy.status.code(), Some(0), "{}", stdout(&roomy));
}
