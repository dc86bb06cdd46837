//! `warden.lsp.evaluate {target, fixture?}`.

use super::decision_summary;
use crate::backend::Backend;
use std::collections::HashMap;
use std::path::Path;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

/// `warden.lsp.evaluate {target, fixture?}`: decides a fixture against
/// the target. Without `fixture` the user picks one of the fixtures the
/// tests give that target (`window/showMessageRequest`).
pub(crate) async fn evaluate(
    backend: &Backend,
    arguments: Vec<serde_json::Value>,
) -> Result<Option<serde_json::Value>> {
    let invalid = |message: String| tower_lsp_server::jsonrpc::Error::invalid_params(message);
    let (target, argument) =
        super::target_argument(arguments, "{\"target\": NAME, \"fixture\"?: PATH}")?;
    let root = super::workspace_root(backend);
    let fixture = match argument.get("fixture").and_then(|f| f.as_str()) {
        Some(given) => root.join(given),
        None => {
            let (target_for, root_for) = (target.clone(), root.clone());
            let candidates = backend
                .guarded(move |state| Ok(state.host.fixtures(&root_for, &target_for)))
                .await?;
            if candidates.is_empty() {
                return Err(invalid(format!(
                    "no test gives `{target}` a fixture; pass one as \"fixture\""
                )));
            }
            let shown_root = root.canonicalize().unwrap_or_else(|_| root.clone());
            let shown = |p: &Path| {
                p.strip_prefix(&shown_root)
                    .unwrap_or(p)
                    .display()
                    .to_string()
            };
            let actions = candidates
                .iter()
                .map(|p| MessageActionItem {
                    title: shown(p),
                    properties: HashMap::new(),
                })
                .collect();
            // A prompt left unanswered gives up after a while, so it
            // cannot hold a place in the server for ever.
            let picked = tokio::time::timeout(
                std::time::Duration::from_secs(300),
                backend.client.show_message_request(
                    MessageType::INFO,
                    format!("Evaluate `{target}` against which fixture?"),
                    Some(actions),
                ),
            )
            .await
            .ok()
            .and_then(Result::ok)
            .flatten();
            let Some(picked) = picked else {
                return Ok(None);
            };
            match candidates.into_iter().find(|p| shown(p) == picked.title) {
                Some(path) => path,
                None => return Ok(None),
            }
        }
    };
    let shown_fixture = fixture
        .strip_prefix(&root)
        .unwrap_or(&fixture)
        .display()
        .to_string();
    let target_for = target.clone();
    let engine = backend.engine().await?;
    let folder = root.clone();
    let decision = tokio::task::spawn_blocking(move || {
        warden_ide::evaluate(
            &engine,
            &folder,
            &target_for,
            &fixture,
            std::time::SystemTime::now(),
        )
    })
    .await
    .map_err(|_| tower_lsp_server::jsonrpc::Error::internal_error())?
    .map_err(invalid)?;
    let title = format!("{} · {shown_fixture}", decision_summary(&decision));
    backend
        .results
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .evaluations
        .insert(target.clone(), title.clone());
    backend
        .client
        .show_message(MessageType::INFO, format!("warden: {target} {title}"))
        .await;
    backend.refresh_lenses().await;
    Ok(serde_json::to_value(&decision).ok())
}
