//! The decision corpus through the real `warden` binary, against the same
//! expectations as the library runner (`crates/warden/tests/decisions.rs`).

use datatest_stable::Utf8Path;
use std::process::Command;
use warden_test_utils::{Case, expectation_path, project_decision, project_error, suite_dir};

fn run_case(path: &Utf8Path) -> datatest_stable::Result<()> {
    let case_path = path.as_std_path();
    let case = Case::load(case_path);
    let suite = suite_dir(case_path);
    let scratch = std::env::temp_dir().join(format!(
        "warden-cli-case-{}-{}",
        std::process::id(),
        path.file_stem().unwrap_or("case")
    ));
    std::fs::create_dir_all(&scratch)?;
    let input = scratch.join("input.json");
    std::fs::write(&input, serde_json::to_string(&case.input)?)?;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_warden"));
    cmd.arg("decide")
        .arg("--policy")
        .arg(suite.join("policy"))
        .arg("--target")
        .arg(&case.target)
        .arg("--now")
        .arg(&case.now);
    for file in &case.data_files {
        cmd.arg("--data").arg(suite.join(file));
    }
    if let Some(data) = &case.data {
        let file = scratch.join("data.json");
        std::fs::write(&file, serde_json::to_string(data)?)?;
        cmd.arg("--data").arg(file);
    }
    if case.explain {
        cmd.arg("--explain");
    }
    let output = cmd.arg(&input).output()?;
    std::fs::remove_dir_all(&scratch).ok();
    let stdout = String::from_utf8(output.stdout)?;
    let stderr = String::from_utf8(output.stderr)?;
    let actual = match output.status.code() {
        Some(code @ (0 | 1)) => {
            let decision: serde_json::Value = serde_json::from_str(&stdout)?;
            let allowed = decision["decision"] == "allow";
            assert_eq!(
                code == 0,
                allowed,
                "exit code {code} disagrees with the decision"
            );
            project_decision(decision)
        }
        Some(2) => {
            // `error[E0401]: message` on the first line of standard error.
            let line = stderr.lines().next().unwrap_or_default();
            let (code, message) = line
                .strip_prefix("error[")
                .and_then(|rest| rest.split_once("]: "))
                .ok_or_else(|| format!("unexpected error output: {stderr}"))?;
            // The CLI places each bad path of an input on its line
            // (`  FILE:LINE:COLUMN: $.path: …`); the library's message is
            // the same without the place.
            let placed = regex::Regex::new(r"^  \S+:\d+:\d+: (\$.*)$").unwrap();
            let rest: Vec<String> = stderr
                .lines()
                .skip(1)
                .map(|l| {
                    if code_is_input_mismatch(line) {
                        let caps = placed
                            .captures(l)
                            .unwrap_or_else(|| panic!("an E0401 path without its place: {l:?}"));
                        format!("  {}", &caps[1])
                    } else {
                        l.to_string()
                    }
                })
                .collect();
            let message = if rest.is_empty() {
                message.to_string()
            } else {
                format!("{message}\n{}", rest.join("\n"))
            };
            project_error(code, &message)
        }
        other => return Err(format!("warden exited with {other:?}: {stderr}").into()),
    };
    expect_test::expect_file![expectation_path(case_path)].assert_eq(&actual);
    Ok(())
}

fn code_is_input_mismatch(first_line: &str) -> bool {
    first_line.starts_with("error[E0401]")
}

datatest_stable::harness! {
    { test = run_case, root = "../../tests/decisions", pattern = r"cases/[^/]+\.json$" },
}
