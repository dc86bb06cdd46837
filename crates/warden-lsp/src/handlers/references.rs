//! `textDocument/references`.

use crate::state::State;
use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;

pub(crate) fn references(state: &State, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
    let Some((key, offset)) = state.at(&params.text_document_position) else {
        return Ok(None);
    };
    let locations = state
        .host
        .references(&key, offset)
        .into_iter()
        .filter_map(|(file, range)| {
            Some(Location {
                uri: state.uri(&file)?,
                range: state.range(&file, range)?,
            })
        })
        .collect();
    Ok(Some(locations))
}
