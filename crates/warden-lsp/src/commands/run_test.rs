//! `warden.lsp.runTest [NAME]`.

use super::test_title;
use crate::backend::Backend;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

/// `warden.lsp.runTest [NAME]`: runs the test of that full name (all
/// without it), shows the outcome and puts it on the lenses.
pub(crate) async fn run_test(
    backend: &Backend,
    arguments: Vec<serde_json::Value>,
) -> Result<Option<serde_json::Value>> {
    let filter = arguments
        .first()
        .and_then(|a| a.as_str())
        .map(str::to_string);
    let root = backend.state().root.clone();
    // The engine is taken from a snapshot, which is then let go: an edit
    // need not wait for the tests.
    let engine = backend.engine().await?;
    let run = tokio::task::spawn_blocking(move || {
        warden_ide::run_tests(&engine, root.as_deref(), filter.as_deref())
    })
    .await
    .map_err(|_| tower_lsp_server::jsonrpc::Error::internal_error())?;
    {
        let mut results = backend.results.lock().unwrap_or_else(|p| p.into_inner());
        for test in &run.tests {
            results.tests.insert(test.name.clone(), test_title(test));
        }
    }
    let summary = &run.summary;
    let clean = summary.failed + summary.errors == 0;
    let mut message = format!(
        "warden: {} passed, {} failed, {} could not run",
        summary.passed, summary.failed, summary.errors
    );
    if let Some(first) = run.tests.iter().find(|t| !t.failures.is_empty()) {
        message.push_str(&format!(" — {}: {}", first.name, first.failures[0].message));
    }
    backend
        .client
        .show_message(
            if clean {
                MessageType::INFO
            } else {
                MessageType::WARNING
            },
            message,
        )
        .await;
    backend.refresh_lenses().await;
    Ok(serde_json::to_value(&run).ok())
}
