//! `textDocument/foldingRange`.

use crate::state::State;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

pub(crate) fn folding_range(
    state: &State,
    params: FoldingRangeParams,
) -> Result<Option<Vec<FoldingRange>>> {
    let Some(key) = state.key(&params.text_document.uri) else {
        return Ok(None);
    };
    let folds = state
        .host
        .folds(&key)
        .into_iter()
        .filter_map(|r| {
            let range = state.range(&key, r)?;
            Some(FoldingRange {
                start_line: range.start.line,
                end_line: range.end.line,
                ..FoldingRange::default()
            })
        })
        .collect();
    Ok(Some(folds))
}
