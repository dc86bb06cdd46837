//! Every command in `docs/cli.md` and `docs/report.md` runs as written,
//! from the repository root, with the exit code its block states
//! (```` ```sh exit=N ````).

mod common;

use common::{root, shell};

#[test]
fn every_command_in_the_cli_docs_runs_with_its_exit_code() {
    let text = ["docs/cli.md", "docs/report.md"]
        .map(|doc| std::fs::read_to_string(root().join(doc)).unwrap())
        .join("\n");
    let mut lines = text.lines();
    let mut ran = 0;
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("```sh exit=") else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let exit: i32 = words.next().unwrap_or("").parse().expect("exit=N");
        // `needs=verify`: the block runs only in a build with the solver.
        if words.any(|w| w == "needs=verify") && !cfg!(feature = "verify") {
            lines
                .by_ref()
                .take_while(|l| !l.starts_with("```"))
                .for_each(drop);
            continue;
        }
        for command in lines.by_ref().take_while(|l| !l.starts_with("```")) {
            let out = shell(&root(), command);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(exit), "{command}\n{stderr}");
            ran += 1;
        }
    }
    assert!(ran >= 15, "only {ran} commands found");
}

#[test]
fn the_readme_example_is_the_checklist_rule_and_its_real_decision() {
    let readme = std::fs::read_to_string(common::root().join("README.md")).unwrap();
    let rule = readme
        .split("```warden\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README shows a rule");
    let checklist =
        std::fs::read_to_string(common::root().join("stdlib-policies/rules/identity.warden"))
            .unwrap();
    // The package lines, then the rule as the checklist writes it.
    let body = rule
        .split("\n\n")
        .nth(1)
        .expect("a blank line after the imports");
    assert!(
        checklist.contains(body),
        "the README's rule is not the checklist's:\n{body}"
    );
    let out = common::warden(&[
        "decide",
        "--policy",
        "stdlib-policies",
        "--target",
        "manifest",
        "--now",
        "2026-05-20T00:00:00Z",
        "examples/manifests/crm-lite.yaml",
    ]);
    let decision: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let finding = decision["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["control"] == "IAM-1")
        .expect("an IAM-1 finding");
    for shown in [
        format!("\"rule\": \"{}\"", finding["rule"].as_str().unwrap()),
        format!(
            "\"severity\": \"{}\"",
            finding["severity"].as_str().unwrap()
        ),
        format!("\"message\": \"{}\"", finding["message"].as_str().unwrap()),
        format!(
            "\"file\": \"{}\", \"line\": {}, \"column\": {}",
            finding["location"]["file"].as_str().unwrap(),
            finding["location"]["line"],
            finding["location"]["column"]
        ),
    ] {
        assert!(readme.contains(&shown), "the README does not show {shown}");
    }
}
