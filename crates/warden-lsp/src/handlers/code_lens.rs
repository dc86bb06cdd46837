//! `textDocument/codeLens`: "Run test" over each test, "Evaluate against
//! fixture…" over each target, and "Decisions vs main" over each target,
//! titled with the last outcome.

use crate::backend::Backend;
use crate::commands::{EVALUATE, IMPACT, RUN_TEST};
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use warden_ide::LensKind;

pub(crate) async fn code_lens(
    backend: &Backend,
    params: CodeLensParams,
) -> Result<Option<Vec<CodeLens>>> {
    let (tests, evaluations, impacts) = {
        let results = backend.results.lock().unwrap_or_else(|p| p.into_inner());
        (
            results.tests.clone(),
            results.evaluations.clone(),
            results.impacts.clone(),
        )
    };
    backend
        .guarded(move |state| {
            let Some(key) = state.key(&params.text_document.uri) else {
                return Ok(None);
            };
            let lenses = state
                .host
                .lenses(&key)
                .into_iter()
                .filter_map(|lens| {
                    let range = state.range(&key, lens.range)?;
                    let command = match lens.kind {
                        LensKind::RunTest { test } => Command {
                            title: match tests.get(&test) {
                                Some(outcome) => format!("▶ Run test · {outcome}"),
                                None => "▶ Run test".into(),
                            },
                            command: RUN_TEST.into(),
                            arguments: Some(vec![serde_json::json!(test)]),
                        },
                        LensKind::Evaluate { target } => Command {
                            title: match evaluations.get(&target) {
                                Some(outcome) => format!("Evaluate against fixture… · {outcome}"),
                                None => "Evaluate against fixture…".into(),
                            },
                            command: EVALUATE.into(),
                            arguments: Some(vec![serde_json::json!({ "target": target })]),
                        },
                        LensKind::Impact { target } => Command {
                            title: match impacts.get(&target) {
                                Some(outcome) => format!("Decisions vs main · {outcome}"),
                                None => "Decisions vs main".into(),
                            },
                            command: IMPACT.into(),
                            arguments: Some(vec![serde_json::json!({ "target": target })]),
                        },
                    };
                    Some(CodeLens {
                        range,
                        command: Some(command),
                        data: None,
                    })
                })
                .collect();
            Ok(Some(lenses))
        })
        .await
}
