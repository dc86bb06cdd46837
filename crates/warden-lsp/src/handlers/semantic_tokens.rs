//! `textDocument/semanticTokens/full`.

use crate::convert::legend_index;
use crate::state::State;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use warden_diagnostics::Utf16Cursor;

pub(crate) fn semantic_tokens_full(
    state: &State,
    params: SemanticTokensParams,
) -> Result<Option<SemanticTokensResult>> {
    let Some(key) = state.key(&params.text_document.uri) else {
        return Ok(None);
    };
    let Some((index, text)) = state.host.line_index(&key) else {
        return Ok(None);
    };
    // Relative encoding: each token from the one before. Tokens that
    // span lines (doc comments never do; strings cannot) are skipped.
    let mut data = Vec::new();
    let (mut last_line, mut last_start) = (0, 0);
    let mut positions = Utf16Cursor::new(&index, &text);
    for (range, highlight) in state.host.highlights(&key) {
        let (line, start) = positions.position(range.start as usize);
        let (end_line, end) = positions.position(range.end as usize);
        if end_line != line {
            continue;
        }
        let delta_start = if line == last_line {
            start - last_start
        } else {
            start
        };
        data.push(SemanticToken {
            delta_line: line - last_line,
            delta_start,
            length: end - start,
            token_type: legend_index(highlight),
            token_modifiers_bitset: 0,
        });
        (last_line, last_start) = (line, start);
    }
    Ok(Some(SemanticTokensResult::Tokens(SemanticTokens {
        result_id: None,
        data,
    })))
}
