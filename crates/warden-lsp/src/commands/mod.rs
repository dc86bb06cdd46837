//! `workspace/executeCommand`: the commands the server runs, which code
//! lenses name.

mod evaluate;
mod impact;
mod run_test;

use crate::backend::Backend;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

/// The commands the server runs (`workspace/executeCommand`); code lenses
/// name them.
pub(crate) const RUN_TEST: &str = "warden.lsp.runTest";
pub(crate) const EVALUATE: &str = "warden.lsp.evaluate";
pub(crate) const IMPACT: &str = "warden.lsp.impact";

pub(crate) async fn execute(
    backend: &Backend,
    params: ExecuteCommandParams,
) -> Result<Option<serde_json::Value>> {
    match params.command.as_str() {
        RUN_TEST => run_test::run_test(backend, params.arguments).await,
        EVALUATE => evaluate::evaluate(backend, params.arguments).await,
        IMPACT => impact::impact(backend, params.arguments).await,
        other => Err(tower_lsp_server::jsonrpc::Error::invalid_params(format!(
            "unknown command `{other}`"
        ))),
    }
}

/// A lens command's one argument, `{"target": NAME, …}`: the target and
/// the whole object (`shape` says what was expected, for the error).
fn target_argument(
    arguments: Vec<serde_json::Value>,
    shape: &str,
) -> Result<(String, serde_json::Value)> {
    let argument = arguments.into_iter().next().unwrap_or_default();
    match argument.get("target").and_then(|t| t.as_str()) {
        Some(target) => Ok((target.to_string(), argument.clone())),
        None => Err(tower_lsp_server::jsonrpc::Error::invalid_params(format!(
            "expected {shape}"
        ))),
    }
}

/// The workspace folder the server was started on (else the current one).
fn workspace_root(backend: &Backend) -> std::path::PathBuf {
    backend
        .state()
        .root
        .clone()
        .unwrap_or_else(|| std::path::PathBuf::from("."))
}

/// `deny · 2 findings, 1 warning`.
fn decision_summary(decision: &warden::Decision) -> String {
    let count = |n: usize, what: &str| match n {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    };
    let mut parts = vec![count(decision.findings.len(), "finding")];
    if !decision.warnings.is_empty() {
        parts.push(count(decision.warnings.len(), "warning"));
    }
    if !decision.waived.is_empty() {
        parts.push(format!("{} waived", decision.waived.len()));
    }
    format!("{} · {}", decision.decision, parts.join(", "))
}

/// A test's outcome as a lens shows it.
fn test_title(test: &warden::TestResult) -> String {
    match (&test.status, test.failures.first()) {
        (warden::TestStatus::Passed, _) => match &test.decision {
            Some(decision) => format!("✓ passed ({})", decision_summary(decision)),
            None => "✓ passed".into(),
        },
        (warden::TestStatus::Failed, Some(f)) => format!("✗ failed: {}", f.message),
        (_, Some(f)) => format!("⚠ could not run: {}", f.message),
        _ => "✗ failed".into(),
    }
}
