//! `textDocument/rename`.

use crate::state::State;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

pub(crate) fn rename(state: &State, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
    let Some((key, offset)) = state.at(&params.text_document_position) else {
        return Ok(None);
    };
    let edits = state
        .host
        .rename(&key, offset, &params.new_name)
        .map_err(tower_lsp_server::jsonrpc::Error::invalid_params)?;
    let mut changes: std::collections::HashMap<Uri, Vec<TextEdit>> = Default::default();
    for (file, range) in edits {
        if let (Some(uri), Some(range)) = (state.uri(&file), state.range(&file, range)) {
            changes.entry(uri).or_default().push(TextEdit {
                range,
                new_text: params.new_name.clone(),
            });
        }
    }
    Ok(Some(WorkspaceEdit {
        changes: Some(changes),
        ..WorkspaceEdit::default()
    }))
}
