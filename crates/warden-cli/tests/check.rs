//! `warden check` as CI runs it: golden output of every format over the
//! bundled examples, SARIF validated against the official 2.1.0 schema,
//! findings placed on manifest lines, exit codes, and clear errors for bad
//! input. `UPDATE_EXPECT=1 cargo test` rewrites the golden files.

mod common;

use common::{count_elements, root, scratch, stdout, warden};
use expect_test::expect_file;
use serde_json::Value as Json;
use std::process::Command;

const NOW: &str = "2026-06-01T00:00:00Z";

fn check_examples(format: &str) -> (Option<i32>, String) {
    let out = warden(&[
        "check",
        "--policy",
        "examples/policies",
        "examples/manifests",
        "--now",
        NOW,
        "--format",
        format,
    ]);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.code(),
        stable(&String::from_utf8_lossy(&out.stdout)),
    )
}

/// Decision ids are unique per run; the rest is deterministic.
fn stable(text: &str) -> String {
    let ids = regex::Regex::new(r#""decision_id": "[0-9A-Z]{26}""#).unwrap();
    let text = ids.replace_all(text, r#""decision_id": "<ULID>""#);
    // The revision hashes the policy sources; the golden files should not churn with them.
    let revisions = regex::Regex::new(r#""policy_revision": "sha256:[0-9a-f]{64}""#).unwrap();
    let text = revisions.replace_all(&text, r#""policy_revision": "sha256:<REVISION>""#);
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn human_output_underlines_the_manifest_line() {
    let (code, text) = check_examples("human");
    assert_eq!(code, Some(1), "two example manifests are denied");
    expect_file!["../../../tests/golden/check/human.txt"].assert_eq(&text);
}

#[test]
fn json_output_has_the_contract_shape_and_input_locations() {
    let (code, text) = check_examples("json");
    assert_eq!(code, Some(1));
    expect_file!["../../../tests/golden/check/output.json"].assert_eq(&text);
    let json: Json = serde_json::from_str(&text).unwrap();
    assert_eq!(
        json["summary"],
        serde_json::json!({"files": 4, "passed": 2, "failed": 2, "errors": 0})
    );
    // A `for` clause points at the element that failed: the second endpoint.
    let wiki = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["file"] == "examples/manifests/team-tools/wiki-search.yml")
        .unwrap();
    let warning = &wiki["decision"]["warnings"][0];
    assert_eq!(warning["input_path"], "$.spec.endpoints[1].url");
    assert_eq!(
        warning["input_location"],
        serde_json::json!({"file": "examples/manifests/team-tools/wiki-search.yml", "line": 26, "column": 12})
    );
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0() {
    let (code, text) = check_examples("sarif");
    assert_eq!(code, Some(1));
    expect_file!["../../../tests/golden/check/output.sarif"].assert_eq(&text);
    let schema: Json = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/schemas/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let sarif: Json = serde_json::from_str(&text).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF:\n{}", errors.join("\n"));
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let sso = results
        .iter()
        .find(|r| r["ruleId"] == "microapps.identity.sso_required")
        .expect("the SSO finding");
    assert_eq!(
        sso["locations"][0]["physicalLocation"]["region"],
        serde_json::json!({"startLine": 13, "startColumn": 10})
    );
    // The waived finding is reported as suppressed, not dropped.
    assert!(results.iter().any(|r| r["suppressions"].is_array()));
}

#[test]
fn the_sarif_validator_rejects_what_the_schema_forbids() {
    // The schema check above can fail: a result without a message is refused.
    let schema: Json = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/schemas/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let bad = serde_json::json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "r"}]}]});
    assert!(!validator.is_valid(&bad));
}

#[test]
fn junit_output_has_a_test_case_per_manifest_and_rule() {
    let (code, text) = check_examples("junit");
    assert_eq!(code, Some(1));
    expect_file!["../../../tests/golden/check/junit.xml"].assert_eq(&text);
    // Well-formed XML, and 4 manifests × 6 manifest rules.
    let [cases, failures] = count_elements(&text, &["testcase", "failure"])[..] else {
        unreachable!()
    };
    assert_eq!(cases, 24);
    assert_eq!(failures, 4, "crm-lite fails three rules, wiki-search one");
}

#[test]
fn github_output_annotates_manifest_lines() {
    let (code, text) = check_examples("github");
    assert_eq!(code, Some(1));
    expect_file!["../../../tests/golden/check/github.txt"].assert_eq(&text);
}

#[test]
fn a_passing_manifest_exits_0() {
    let out = warden(&[
        "check",
        "--policy",
        "examples/policies",
        "examples/manifests/expense-bot.yaml",
        "--now",
        NOW,
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("1 manifest checked: 1 passed, 0 failed"),
        "{text}"
    );
}

/// Each broken manifest is reported with its file (and line, where there is
/// one); the good ones are still checked; the exit code is 2.
#[test]
fn bad_manifests_are_clear_errors_and_exit_2() {
    let dir = scratch("check-bad");
    std::fs::write(dir.join("empty.yaml"), "").unwrap();
    std::fs::write(dir.join("broken.yaml"), "metadata:\n  name: [unclosed\n").unwrap();
    std::fs::write(
        dir.join("mismatch.yaml"),
        std::fs::read_to_string(root().join("examples/manifests/expense-bot.yaml"))
            .unwrap()
            .replace("sso: oidc", "sso: okta")
            .replace("local_accounts: false", "local_accounts: maybe"),
    )
    .unwrap();
    std::fs::write(dir.join("binary.json"), [0xff, 0xfe, 0x00]).unwrap();
    std::fs::copy(
        root().join("examples/manifests/expense-bot.yaml"),
        dir.join("good.yaml"),
    )
    .unwrap();
    let dir_arg = dir.display().to_string();
    let out = warden(&[
        "check",
        "--policy",
        "examples/policies",
        &dir_arg,
        "--now",
        NOW,
    ]);
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8_lossy(&out.stdout).replace(&dir_arg, "DIR");
    expect_test::expect![[r#"
        error[E0403]: DIR/binary.json: the file is not UTF-8 text

        error[E0403]: DIR/broken.yaml: `DIR/broken.yaml` is not valid YAML: while parsing a flow sequence, expected ',' or ']' at byte 28 line 3 column 1

        error[E0403]: DIR/empty.yaml: `DIR/empty.yaml` is not valid JSON or YAML: the document is empty

        error[E0401]: DIR/mismatch.yaml: the input does not match the type of target `manifest`:
          DIR/mismatch.yaml:16:10: $.spec.auth.sso: expected "oidc" | "saml" | "none", found "okta"
          DIR/mismatch.yaml:18:21: $.spec.auth.local_accounts: expected bool, found "maybe"

        ERROR DIR/binary.json (E0403)
        ERROR DIR/broken.yaml (E0403)
        ERROR DIR/empty.yaml (E0403)
        pass DIR/good.yaml
        ERROR DIR/mismatch.yaml (E0401)

        5 manifests checked: 1 passed, 0 failed, 4 could not be checked
    "#]]
    .assert_eq(&text);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_arguments_are_clear_errors_and_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["check", "no/such/app.yaml"],
            "cannot read `no/such/app.yaml`",
        ),
        (
            &["check", "--policy", "examples/policies", "tests/syntax"],
            "no manifests",
        ),
        (
            &["check", "--frobnicate", "examples/manifests"],
            "unexpected argument '--frobnicate'",
        ),
        (&["check"], "required"),
        (
            &[
                "check",
                "--policy",
                "tests/cli/broken.warden",
                "examples/manifests",
            ],
            "do not compile",
        ),
        (
            &[
                "check",
                "--policy",
                "examples/policies",
                "--now",
                "yesterday",
                "examples/manifests",
            ],
            "not an RFC 3339 time",
        ),
        (
            &[
                "check",
                "--policy",
                "tests/decisions/gateway/policy",
                "examples/manifests",
            ],
            "declare no `manifest` target",
        ),
        (
            &[
                "check",
                "--policy",
                "examples/policies",
                "--data",
                "tests/cli/bad.yaml",
                "examples/manifests",
            ],
            "not valid YAML",
        ),
    ];
    for (args, message) in cases {
        let out = warden(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

/// Runs warden under a pseudo-terminal (util-linux `script`), as on a developer's machine.
fn on_terminal(args: &str, no_color: bool) -> Option<String> {
    let binary = env!("CARGO_BIN_EXE_warden");
    let mut command = Command::new("script");
    command
        .args(["-qec", &format!("{binary} {args}"), "/dev/null"])
        .current_dir(root())
        .env_remove("NO_COLOR");
    if no_color {
        command.env("NO_COLOR", "1");
    }
    let out = command.output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn colour_and_progress_on_a_terminal_only() {
    let args = format!(
        "check --policy examples/policies examples/manifests --now {NOW} --progress always"
    );
    let Some(tty) = on_terminal(&args, false) else {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    };
    assert!(tty.contains("\x1b["), "colour on a terminal: {tty}");
    assert!(tty.contains("checking"), "the progress bar draws: {tty}");
    let plain = on_terminal(&args, true).unwrap();
    let sgr = regex::Regex::new("\x1b\\[[0-9;]*m").unwrap();
    assert!(sgr.is_match(&tty));
    assert!(
        !sgr.is_match(&plain),
        "NO_COLOR turns colour off: {plain:?}"
    );
    // Without a terminal: neither.
    let (_, piped) = check_examples("human");
    assert!(!piped.contains('\x1b'));
}

#[test]
fn control_characters_from_a_manifest_reach_no_report_raw() {
    // An app's name carries a terminal sequence, a bell, C1 and a
    // non-character: it is printed in messages, and must neither drive a
    // terminal or a CI log nor break the XML of a JUnit report.
    let dir = scratch("control-characters");
    let base = std::fs::read_to_string(root().join("examples/manifests/crm-lite.yaml")).unwrap();
    let hostile = base.replacen(
        "name: crm-lite",
        r#"name: "crm\x01\e[31mRED\e]0;title\a\u0085\r\n\uFFFE""#,
        1,
    );
    assert_ne!(hostile, base, "the example names its app `crm-lite`");
    // Raw, too: in a comment on the line a snippet shows, and in the
    // file's own name.
    let hostile = hostile.replacen("metadata:", "metadata: # \u{1b}[8m hidden \u{7}", 1);
    let manifest = dir.join("evil\u{1b}[31m.yaml");
    std::fs::write(&manifest, hostile).unwrap();
    for format in ["human", "github", "junit"] {
        let out = warden(&[
            "check",
            "--policy",
            "examples/policies",
            "--now",
            NOW,
            "--format",
            format,
            manifest.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(1), "{format}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(r"crm\u{1}\u{1b}[31mRED"), "{format}: {text}");
        let raw = text
            .chars()
            .find(|&c| c != '\n' && (c.is_control() || (format == "junit" && c == '\u{fffe}')));
        assert_eq!(raw, None, "{format}: {text}");
        if format == "junit" {
            let mut reader = quick_xml::Reader::from_str(&text);
            loop {
                match reader.read_event() {
                    Ok(quick_xml::events::Event::Eof) => break,
                    Ok(_) => {}
                    Err(e) => panic!("not XML: {e}\n{text}"),
                }
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A typo in a field name (`local_acounts`) is a W0007 warning on its line,
/// with the field it resembles; `--strict` makes it fail the manifest.
#[test]
fn an_undeclared_field_warns_on_its_line_and_strict_fails_it() {
    let args = |strict: bool| {
        let mut a = vec![
            "check",
            "--policy",
            "stdlib-policies",
            "--now",
            "2026-05-20T00:00:00Z",
            "--format",
            "json",
        ];
        if strict {
            a.push("--strict");
        }
        a.push("tests/cli/local-acounts.yaml");
        a
    };
    let out = warden(&args(false));
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let report: Json = serde_json::from_str(&stdout(&out)).unwrap();
    let decision = &report["results"][0]["decision"];
    assert_eq!(decision["decision"], "allow");
    let warning = &decision["warnings"][0];
    assert_eq!(warning["rule"], "warden.undeclared_field");
    assert_eq!(warning["code"], "W0007");
    assert_eq!(warning["input_path"], "$.spec.auth.local_acounts");
    assert_eq!(warning["input_location"]["line"], 31);
    assert!(
        warning["message"]
            .as_str()
            .unwrap()
            .ends_with("did you mean `local_accounts`?"),
        "{warning}"
    );

    let out = warden(&args(true));
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let report: Json = serde_json::from_str(&stdout(&out)).unwrap();
    let decision = &report["results"][0]["decision"];
    assert_eq!(decision["decision"], "deny");
    assert_eq!(decision["findings"][0]["rule"], "warden.undeclared_field");
    assert_eq!(decision["findings"][0]["effect"], "deny");
}

/// An input that does not match the schema (E0401) is placed like a
/// finding: every bad path with its line and column, in every format.
#[test]
fn input_type_errors_carry_the_manifest_line_and_column() {
    let dir = scratch("e0401-placed");
    let manifest = dir.join("bad.yaml");
    std::fs::write(
        &manifest,
        "metadata: { name: x }\nspec:\n  auth: { sso: okta }\n",
    )
    .unwrap();
    let run = |format: &str| {
        let out = warden(&[
            "check",
            "--policy",
            "stdlib-policies",
            "--format",
            format,
            manifest.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(2), "{format}");
        stdout(&out)
    };
    let report: Json = serde_json::from_str(&run("json")).unwrap();
    let error = &report["results"][0]["error"];
    assert_eq!(error["code"], "E0401");
    let sso = error["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"] == "$.spec.auth.sso")
        .expect("the bad path is listed");
    assert_eq!(
        (sso["line"].as_u64(), sso["column"].as_u64()),
        (Some(3), Some(16))
    );
    assert!(
        run("github").contains(",line=3,col=16,title=warden E0401::$.spec.auth.sso"),
        "github"
    );
    let sarif: Json = serde_json::from_str(&run("sarif")).unwrap();
    let notes = sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        notes
            .iter()
            .any(|n| n["locations"][0]["physicalLocation"]["region"]["startLine"] == 3),
        "{sarif}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
