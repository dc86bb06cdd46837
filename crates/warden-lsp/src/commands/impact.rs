//! `warden.lsp.impact {target, base?}`: "Decisions vs main".

use crate::backend::Backend;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

/// The base a change is compared with when the lens gives none.
const DEFAULT_BASE: &str = "main";

/// Decides the target's test inputs with the set being edited and with
/// the same folder at git revision `base` (default `main`), as `warden
/// diff --base main --tests` does, and titles the lens with how many
/// decisions moved.
pub(crate) async fn impact(
    backend: &Backend,
    arguments: Vec<serde_json::Value>,
) -> Result<Option<serde_json::Value>> {
    let (target, argument) =
        super::target_argument(arguments, "{\"target\": NAME, \"base\"?: REVISION}")?;
    let base = argument
        .get("base")
        .and_then(|b| b.as_str())
        .unwrap_or(DEFAULT_BASE)
        .to_string();
    let root = super::workspace_root(backend);
    let engine = backend.engine().await?;
    let target_for = target.clone();
    let outcome = tokio::task::spawn_blocking(move || -> std::result::Result<_, String> {
        let checkout = warden::checkout_base(&base, &root)?;
        let base_engine = warden::Engine::from_dir(&checkout.path)
            .map_err(|e| format!("the policies at `{base}` do not compile: {e}"))?;
        Ok((
            base,
            warden_ide::impact(&base_engine, &engine, Some(&root), &target_for),
        ))
    })
    .await
    .map_err(|_| tower_lsp_server::jsonrpc::Error::internal_error())?;
    let (title, detail) = match &outcome {
        Ok((_, impact)) if impact.compared == 0 => (
            "no test decides it".to_string(),
            format!("no test block decides `{target}`: nothing to compare"),
        ),
        Ok((base, impact)) => {
            let title = format!("{} of {} changed", impact.changed.len(), impact.compared);
            let mut detail = format!("decisions of `{target}` vs {base}: {title}");
            for (test, before, after) in impact.changed.iter().take(20) {
                detail.push_str(&format!("\n  {test}: {before} → {after}"));
            }
            (title, detail)
        }
        Err(why) => ("not compared".to_string(), why.clone()),
    };
    backend
        .results
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .impacts
        .insert(target.clone(), title.clone());
    let kind = if outcome.is_ok() {
        MessageType::INFO
    } else {
        MessageType::WARNING
    };
    backend
        .client
        .show_message(kind, format!("warden: {detail}"))
        .await;
    backend.refresh_lenses().await;
    Ok(outcome.ok().map(|(base, impact)| {
        serde_json::json!({
            "base": base,
            "compared": impact.compared,
            "changed": impact.changed.iter().map(|(test, before, after)| {
                serde_json::json!({ "test": test, "before": before, "after": after })
            }).collect::<Vec<_>>(),
        })
    }))
}
