//! `textDocument/formatting`: the whole file, as `warden fmt` prints it.

use crate::state::State;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

pub(crate) fn formatting(
    state: &State,
    params: DocumentFormattingParams,
) -> Result<Option<Vec<TextEdit>>> {
    let Some(key) = state.key(&params.text_document.uri) else {
        return Ok(None);
    };
    let Some(formatted) = state.host.format(&key) else {
        return Ok(Some(Vec::new()));
    };
    let Some((index, text)) = state.host.line_index(&key) else {
        return Ok(None);
    };
    let (line, character) = index.utf16_position(&text, text.len());
    Ok(Some(vec![TextEdit {
        range: Range {
            start: Position::new(0, 0),
            end: Position { line, character },
        },
        new_text: formatted,
    }]))
}
