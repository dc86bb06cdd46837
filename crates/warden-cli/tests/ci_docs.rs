//! The commands of `docs/ci.md`, run as written: the GitHub Actions steps and
//! the pre-commit hooks, in a repository laid out as the page assumes
//! (`policies/`, `apps/`), holding the bundled examples.

mod common;

use common::{root, scratch, shell};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};

/// The body of the fenced block whose info string is `yaml <tag>`.
fn block(markdown: &str, tag: &str) -> String {
    let start = markdown
        .find(&format!("```yaml {tag}\n"))
        .unwrap_or_else(|| panic!("no `yaml {tag}` block"));
    let body = &markdown[start..];
    let body = &body[body.find('\n').unwrap() + 1..];
    body[..body.find("```").unwrap()].to_string()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).unwrap();
        }
    }
}

/// A repository with the examples where the page expects them.
fn repository(name: &str) -> PathBuf {
    let dir = scratch(&format!("ci-{name}"));
    copy_dir(&root().join("examples/policies"), &dir.join("policies"));
    copy_dir(&root().join("examples/manifests"), &dir.join("apps"));
    dir
}

/// Runs a command line of the page: exit code, stdout, stderr.
fn run(dir: &Path, line: &str) -> (Option<i32>, String, String) {
    let out = shell(dir, line);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ci_md() -> String {
    std::fs::read_to_string(root().join("docs/ci.md")).unwrap()
}

#[test]
fn the_github_workflow_steps_run_as_documented() {
    let workflow = warden::parse_document("warden.yml", &block(&ci_md(), "workflow")).unwrap();
    let steps = workflow["jobs"]["policy"]["steps"].as_array().unwrap();
    let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    assert_eq!(runs.len(), 4, "install, policy checks, annotations, SARIF");
    assert!(
        runs[0].starts_with("cargo install"),
        "the install step is not run here"
    );
    let dir = repository("workflow");

    // Policies: formatted, lint-clean, tested.
    let (code, out, err) = run(&dir, runs[1]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("7 tests: 7 passed, 0 failed"), "{out}");

    // The manifests: two of the four examples are denied, so the step fails the job.
    let (code, out, _) = run(&dir, runs[2]);
    assert_eq!(code, Some(1));
    assert!(
        out.contains(
            "::error file=apps/crm-lite.yaml,line=13,col=10,title=IAM-1 microapps.identity.sso_required::"
        ),
        "{out}"
    );

    // SARIF for code scanning, written to the file the upload step reads.
    let upload = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("github/codeql-action/upload-sarif"))
        })
        .unwrap();
    let file = upload["with"]["sarif_file"].as_str().unwrap();
    let (code, _, _) = run(&dir, runs[3]);
    assert_eq!(code, Some(1));
    let sarif: Json =
        serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(!sarif["runs"][0]["results"].as_array().unwrap().is_empty());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_pull_request_impact_job_reports_what_a_policy_change_turns() {
    let workflow = warden::parse_document("warden.yml", &block(&ci_md(), "workflow")).unwrap();
    let steps = workflow["jobs"]["impact"]["steps"].as_array().unwrap();
    let runs: Vec<&str> = steps.iter().filter_map(|s| s["run"].as_str()).collect();
    assert_eq!(runs.len(), 3, "install, diff, comment");
    // The base branch, as the checkout (fetch-depth 0) has it.
    let dir = repository("impact");
    let git = |args: &[&str]| common::git(&dir, args);
    git(&["init", "-q", "-b", "main"]);
    git(&["add", "-A"]);
    git(&["commit", "-qm", "policies and apps"]);
    git(&["update-ref", "refs/remotes/origin/main", "HEAD"]);
    // The pull request: apps below high risk may go without SSO.
    let file = dir.join("policies/identity.warden");
    let text = std::fs::read_to_string(&file).unwrap();
    let changed = text.replace(
        "  deny when app.spec.auth.sso == \"none\"\n",
        "  deny when app.spec.auth.sso == \"none\" and app.metadata.risk_tier == \"high\"\n",
    );
    assert_ne!(text, changed, "the example is as the test expects");
    std::fs::write(&file, changed).unwrap();
    let line = runs[1].replace("${{ github.base_ref }}", "main");
    let (code, out, err) = run(&dir, &line);
    assert_eq!(code, Some(0), "{out}{err}");
    let comment = std::fs::read_to_string(dir.join("warden-diff.md")).unwrap();
    assert!(
        comment.starts_with("### Warden: decisions changed by this policy change"),
        "{comment}"
    );
    assert!(
        comment.contains("between `origin/main` and `policies`"),
        "{comment}"
    );
    assert!(
        comment.contains("| `microapps.identity.sso_required` |"),
        "{comment}"
    );
    // crm-lite (medium risk, no SSO), and the policies' own test of it, are
    // no longer denied for it.
    assert!(
        comment.contains(
            "| `microapps.identity.sso_required` | — | 2 (`apps/crm-lite.yaml`, `test microapps.tests.sso_none_is_denied`) |"
        ),
        "{comment}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_pre_commit_hooks_run_as_documented() {
    let config = warden::parse_document("pre-commit.yaml", &block(&ci_md(), "pre-commit")).unwrap();
    let hooks = config["repos"][0]["hooks"].as_array().unwrap();
    let dir = repository("hooks");
    for hook in hooks {
        let id = hook["id"].as_str().unwrap();
        let entry = hook["entry"].as_str().unwrap();
        let pattern = regex::Regex::new(hook["files"].as_str().unwrap()).unwrap();
        let mut files: Vec<String> = Vec::new();
        for top in ["policies", "apps"] {
            let mut stack = vec![dir.join(top)];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d).unwrap().filter_map(Result::ok) {
                    let p = e.path();
                    if p.is_dir() {
                        stack.push(p);
                    } else {
                        let relative = p.strip_prefix(&dir).unwrap().display().to_string();
                        if pattern.is_match(&relative) {
                            files.push(relative);
                        }
                    }
                }
            }
        }
        files.sort();
        assert!(!files.is_empty(), "{id} matches no file");
        // As pre-commit does: the changed files as arguments unless `pass_filenames: false`.
        let line = if hook["pass_filenames"] == Json::Bool(false) {
            entry.to_string()
        } else {
            format!("{entry} {}", files.join(" "))
        };
        let (code, out, err) = run(&dir, &line);
        let want = if id == "warden-check" { 1 } else { 0 };
        assert_eq!(code, Some(want), "{id}: {line}\n{out}{err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}
