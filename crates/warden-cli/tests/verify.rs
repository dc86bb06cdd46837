//! `warden verify` through the real binary, one case per folder of
//! `tests/verify`: `args` holds the check (`tightening --base base`,
//! `never-fires t.rule`), `policy/` (and `base/`) the policy sets, and
//! `expected` the verdicts, decisions and exit code (expect-test; update
//! with `UPDATE_EXPECT=1`). A counterexample is not snapshotted (the
//! solver picks it), but each is decided again with `warden decide`, by
//! each set, and must be decided as the report says.
//!
//! Needs the `verify` feature (z3); without it the binary answers E0701,
//! which `no_solver` checks.

#[cfg(feature = "verify")]
mod cases {
    use datatest_stable::Utf8Path;
    use serde_json::{Value as Json, json};
    use std::path::Path;
    use std::process::Command;

    const NOW: &str = "2026-06-01T00:00:00Z";

    fn decide(
        dir: &Path,
        policy: &str,
        target: &str,
        input: &Json,
        now: &str,
        data: &[&str],
    ) -> String {
        let file = std::env::temp_dir().join(format!(
            "warden-verify-counterexample-{}-{}.json",
            std::process::id(),
            dir.file_name().and_then(|n| n.to_str()).unwrap_or("case")
        ));
        std::fs::write(&file, input.to_string()).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_warden"));
        command.current_dir(dir).args([
            "decide", "--policy", policy, "--target", target, "--now", now,
        ]);
        for d in data {
            command.arg("--data").arg(d);
        }
        let output = command.arg(&file).output().unwrap();
        std::fs::remove_file(&file).ok();
        let decision: Json = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("decide: {e}: {}", String::from_utf8_lossy(&output.stderr)));
        decision["decision"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn run_case(path: &Utf8Path) -> datatest_stable::Result<()> {
        let dir = &path
            .as_std_path()
            .parent()
            .ok_or("no folder")?
            .canonicalize()?;
        let args = std::fs::read_to_string(path)?;
        let mut command = Command::new(env!("CARGO_BIN_EXE_warden"));
        command
            .current_dir(dir)
            .arg("verify")
            .args(args.split_whitespace())
            .args(["--format", "json"]);
        let words: Vec<&str> = args.split_whitespace().collect();
        let data: Vec<&str> = words
            .windows(2)
            .filter(|w| w[0] == "--data")
            .map(|w| w[1])
            .collect();
        let now = args
            .split_whitespace()
            .skip_while(|a| *a != "--now")
            .nth(1)
            .unwrap_or(NOW)
            .to_string();
        if !args.contains("--now") {
            command.args(["--now", NOW]);
        }
        if !args.contains("--policy") {
            command.args(["--policy", "policy"]);
        }
        let output = command.output()?;
        let policy_dir = args
            .split_whitespace()
            .skip_while(|a| *a != "--policy")
            .nth(1)
            .unwrap_or("policy")
            .to_string();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        let code = output.status.code().unwrap_or(-1);
        let report: Json = serde_json::from_slice(&output.stdout)
            .map_err(|e| format!("not JSON ({e}); stderr: {stderr}"))?;
        let mut projected = Vec::new();
        for result in report["results"].as_array().ok_or("no results")? {
            let target = result["target"].as_str().unwrap_or_default();
            // Every counterexample, from a test's input or the solver, is
            // decided at `--now` with the data given.
            if result["verdict"] == "fails" {
                // The counterexample is decided as the report says, by the binary.
                let input = &result["counterexample"];
                let policy = decide(dir, &policy_dir, target, input, &now, &data);
                assert_eq!(
                    json!(policy),
                    result["policy"]["decision"],
                    "{path}: policy"
                );
                if dir.join("base").exists() {
                    let base = decide(dir, "base", target, input, &now, &data);
                    assert_eq!(json!(base), result["base"]["decision"], "{path}: base");
                }
            }
            let abstracted: Vec<&Json> = result["abstracted"]
                .as_array()
                .map(|a| a.iter().map(|a| &a["why"]).collect())
                .unwrap_or_default();
            // The decisions' verdicts (which warnings a synthesized input
            // also draws is the solver's choice, not the check's).
            projected.push(json!({
                "target": target,
                "rule": result.get("rule"),
                "verdict": result["verdict"],
                "base": result.get("base").map(|b| &b["decision"]),
                "policy": result.get("policy").map(|p| &p["decision"]),
                "reason": result.get("reason"),
                "note": result.get("note"),
                "from_test": result.get("from_test"),
                "abstracted": abstracted,
            }));
        }
        let actual = format!(
            "exit {code}\n{}\n",
            serde_json::to_string_pretty(&projected)?
        );
        expect_test::expect_file![dir.join("expected")].assert_eq(&actual);
        Ok(())
    }
}

#[cfg(feature = "verify")]
datatest_stable::harness! {
    { test = cases::run_case, root = "../../tests/verify", pattern = r"/args$" },
}

#[cfg(not(feature = "verify"))]
fn main() {
    // Without the solver, `warden verify` answers E0701 and exit 2.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["verify", "always-denies", "manifest"])
        .output()
        .expect("warden runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("E0701"), "{stderr}");
    println!("no_solver ... ok");
}
