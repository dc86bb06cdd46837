//! The `warden` binary as a user runs it: rendered diagnostics, exit codes,
//! input from files and standard input, and clear errors (never a panic) for
//! bad input.

use expect_test::expect;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn warden(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("warden starts");
    if let Some(text) = stdin {
        // warden may exit (on a bad flag or bad data) before it reads its input:
        // a closed pipe is fine.
        if let Err(e) = child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
        {
            assert_eq!(
                e.kind(),
                std::io::ErrorKind::BrokenPipe,
                "writing to warden: {e}"
            );
        }
    }
    drop(child.stdin.take());
    let output = child.wait_with_output().expect("warden runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "warden panicked: {stderr}");
    output
}

fn text(bytes: &[u8]) -> String {
    // Trailing spaces on ariadne's underline lines are not part of what we check.
    String::from_utf8_lossy(bytes)
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn compile_renders_diagnostics_with_snippets_and_exits_2() {
    let out = warden(&["compile", "tests/cli/broken.warden"], None);
    assert_eq!(out.status.code(), Some(2));
    expect![[r#"
        [E0203] Error: `app.approval` may be none
           ╭─[ tests/cli/broken.warden:7:13 ]
           │
         7 │   deny when app.approval.status != "approved"
           │             ──────┬─────
           │                   ╰─────── reading a field needs a value that is present
           │
           │ Help: check first (`app.approval != none and …` or `has app.approval`), chain with `?.`, or give a default with `??`
        ───╯
        [E0102] Error: `App` has no field `nmae`
           ╭─[ tests/cli/broken.warden:9:17 ]
           │
         9 │   deny when app.nmae == ""
           │                 ──┬─
           │                   ╰─── unknown field
           │
           │ Help: did you mean `name`?
        ───╯
        tests/cli/broken.warden: 1 file, 2 errors, 0 warnings"#]]
    .assert_eq(&text(&out.stderr));
}

#[test]
fn compile_reports_json_for_tools() {
    let out = warden(
        &["compile", "--format", "json", "tests/cli/broken.warden"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let diagnostics: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let first = &diagnostics[0];
    assert_eq!(first["code"], "E0203");
    assert_eq!(first["severity"], "error");
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64()),
        (Some(7), Some(13))
    );
    assert_eq!(diagnostics.as_array().map(Vec::len), Some(2));
}

#[test]
fn compile_of_a_clean_policy_set_exits_0() {
    let out = warden(&["compile", "tests/decisions/gateway/policy"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("0 errors"));
}

#[test]
fn decide_reads_yaml_files_and_exits_1_on_deny() {
    let out = warden(
        &[
            "decide",
            "--target",
            "manifest",
            "--policy",
            "tests/decisions/microapps/policy",
            "--now",
            "2026-05-20T00:00:00Z",
            "tests/decisions/microapps/crm-lite.yaml",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let decision: serde_json::Value = serde_json::from_slice(&out.stdout).expect("decision JSON");
    assert_eq!(decision["decision"], "deny");
    assert_eq!(
        decision["findings"][0]["input_path"],
        "$.spec.endpoints[0].tls_min_version"
    );
}

#[test]
fn decide_reads_standard_input_and_explains() {
    let input = r#"{"principal": {"id": "u-7", "type": "user", "authenticated_via": "sso", "mfa": true},
                    "action": "write", "resource": {"type": "record", "app_id": "crm-lite"}, "context": {}}"#;
    let out = warden(
        &[
            "decide",
            "--policy",
            "tests/decisions/gateway/policy",
            "--data",
            "tests/decisions/gateway/catalog.json",
            "--now",
            "2026-06-01T00:00:00Z",
            "--explain",
            "-",
        ],
        Some(input),
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let decision: serde_json::Value = serde_json::from_slice(&out.stdout).expect("decision JSON");
    assert_eq!(decision["decision"], "allow");
    let trace = decision["findings"][0]["trace"]
        .as_array()
        .expect("a trace");
    assert!(
        trace
            .iter()
            .any(|step| step["expr"] == "grants(role, req.action)" && step["value"] == true),
        "{trace:#?}"
    );
}

#[test]
fn bad_input_is_a_clear_error_with_exit_2() {
    let policy = [
        "--policy",
        "tests/decisions/microapps/policy",
        "--target",
        "manifest",
    ];
    let cases: &[(&[&str], Option<&str>, &str)] = &[
        (
            &["decide", "no/such/file.json"],
            None,
            "cannot read `no/such/file.json`",
        ),
        (&["decide", "tests/cli/bad.yaml"], None, "is not valid YAML"),
        (&["decide", "-"], Some(""), "the document is empty"),
        (
            &["decide", "-"],
            Some("{\"metadata\": 1"),
            "line 1 column 14",
        ),
        (
            &["decide", "-"],
            Some("{\"kind\": 1, \"kind\": 2}"),
            "the key `kind` is given twice",
        ),
        (
            &["decide", "tests/cli/not-finite.yaml"],
            None,
            "`inf` is not a finite number",
        ),
        (&["decide", "tests/cli/flow.yaml"], None, "error[E0401]"),
        (
            &["decide", "-"],
            Some("{\"metadata\": {}}"),
            "error[E0401]: the input does not match the type of target `manifest`",
        ),
        (
            &["decide", "--now", "yesterday", "-"],
            Some("{}"),
            "`--now yesterday` is not an RFC 3339 time",
        ),
    ];
    for (args, stdin, want) in cases {
        let mut all: Vec<&str> = vec![args[0]];
        all.extend_from_slice(&policy);
        all.extend_from_slice(&args[1..]);
        let out = warden(&all, *stdin);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{all:?}: {stderr}");
        assert!(
            stderr.contains(want),
            "{all:?}: expected {want:?} in:\n{stderr}"
        );
    }
}

#[test]
fn data_that_does_not_match_its_declaration_is_refused_with_every_path() {
    let dir = std::env::temp_dir().join(format!("warden-cli-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let data = dir.join("catalog.json");
    std::fs::write(&data, r#"{"catalog": {"apps": {"x": {"owner": 1}}}}"#).expect("writes");
    let out = warden(
        &[
            "decide",
            "--policy",
            "tests/decisions/gateway/policy",
            "--data",
            data.to_str().expect("utf-8"),
            "-",
        ],
        Some("{}"),
    );
    std::fs::remove_dir_all(&dir).ok();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("$.catalog.apps.x.owner: expected string, found 1"),
        "{stderr}"
    );
    assert!(
        stderr.contains("$.catalog.apps.x.status: expected"),
        "{stderr}"
    );
}

#[test]
fn unknown_flags_and_commands_exit_2() {
    assert_eq!(
        warden(&["decide", "--bogus", "x"], None).status.code(),
        Some(2)
    );
    assert_eq!(warden(&["frobnicate"], None).status.code(), Some(2));
}

#[test]
fn decide_names_the_target_an_input_fits_when_none_was_given() {
    let manifest = "stdlib-policies/examples/manifests/compliant.yaml";
    let out = warden(
        &[
            "decide",
            "--policy",
            "stdlib-policies",
            "--now",
            "2026-05-20T00:00:00Z",
            manifest,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let said = text(&out.stderr);
    assert!(said.contains("add `--target manifest`"), "{said}");
    // Given, it is not second-guessed.
    let out = warden(
        &[
            "decide",
            "--policy",
            "stdlib-policies",
            "--target",
            "request",
            "--now",
            "2026-05-20T00:00:00Z",
            manifest,
        ],
        None,
    );
    assert!(!text(&out.stderr).contains("help: `--target`"));
}

#[test]
fn comparing_a_number_with_a_string_says_how_to_fix_it() {
    let dir = std::env::temp_dir().join(format!("warden-cmp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("p.warden"),
        "package p\ntarget m: { replicas: int } default allow\n@control(\"X\")\nrule r on m as app {\n  deny when app.replicas == \"3\"\n}\n",
    )
    .unwrap();
    let out = warden(
        &["compile", "--format", "json", dir.to_str().unwrap()],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let help = report[0]["help"].as_str().unwrap_or_default().to_string();
    assert!(help.contains("without quotes"), "{report}");
    std::fs::remove_dir_all(&dir).ok();
}
