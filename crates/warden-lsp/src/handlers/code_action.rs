//! `textDocument/codeAction`: quick fixes of diagnostics, and a test stub for a rule.

use crate::state::State;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

pub(crate) fn code_action(
    state: &State,
    params: CodeActionParams,
) -> Result<Option<CodeActionResponse>> {
    let Some(key) = state.key(&params.text_document.uri) else {
        return Ok(None);
    };
    let (Some(start), Some(end)) = (
        state.offset(&key, params.range.start),
        state.offset(&key, params.range.end),
    ) else {
        return Ok(None);
    };
    let uri = params.text_document.uri.clone();
    let actions = state
        .host
        .fixes(&key, warden_diagnostics::TextRange::new(start, end))
        .into_iter()
        .map(|(title, edits)| {
            let edits = edits
                .into_iter()
                .filter_map(|(range, new_text)| {
                    Some(TextEdit {
                        range: state.range(&key, range)?,
                        new_text,
                    })
                })
                .collect();
            CodeActionOrCommand::CodeAction(CodeAction {
                title,
                kind: Some(CodeActionKind::QUICKFIX),
                edit: Some(WorkspaceEdit {
                    changes: Some([(uri.clone(), edits)].into_iter().collect()),
                    ..WorkspaceEdit::default()
                }),
                ..CodeAction::default()
            })
        })
        .collect::<Vec<_>>();
    let mut actions = actions;
    if let Some((title, range, new_text)) = state.host.test_stub(&key, start)
        && let Some(range) = state.range(&key, range)
    {
        actions.push(CodeActionOrCommand::CodeAction(CodeAction {
            title,
            kind: Some(CodeActionKind::REFACTOR),
            edit: Some(WorkspaceEdit {
                changes: Some(
                    [(uri, vec![TextEdit { range, new_text }])]
                        .into_iter()
                        .collect(),
                ),
                ..WorkspaceEdit::default()
            }),
            ..CodeAction::default()
        }));
    }
    Ok(Some(actions))
}
